//! Counting with SysTick, the 24-bit down-counter every Cortex-M has, on the core clock, with
//! its wraps counted so that a run longer than 2²⁴ ticks is measured right.
//!
//! On a board, a tick is a core clock cycle. Under the QEMU runner (`-icount shift=0`) QEMU's
//! clock advances 1 ns per executed instruction, and the MPS2 boards' SysTick runs at 25 MHz,
//! so a tick is [`INSTRUCTIONS_PER_TICK`] instructions: deterministic, whatever the host does.
//!
//! # Counting past 2²⁴ ticks
//! The counter alone measures at most 2²⁴ ticks (671 million instructions under QEMU): one
//! ResNet-8 inference on the Cortex-M0+, with every float operation a library call, is more.
//! Polling the counter's `COUNTFLAG` cannot help there, because nothing polls while the model
//! runs. So SysTick's interrupt is on: its handler ([`SysTick`](fn@SysTick)) adds one to a
//! count of wraps at each reload, and [`now`] joins the wraps and the counter into one 64-bit
//! tick count ([`ticks_since_start`]). A wrap can happen between reading the wraps and reading
//! the counter, with the interrupt not yet taken (on a board the handler runs a few cycles
//! after the reload; QEMU takes it at the end of a translation block). [`now`] therefore
//! reads with interrupts masked and, when the interrupt is pending (`ICSR.PENDSTSET`), counts
//! that wrap itself and reads the counter again, which is then past the reload.
//!
//! The cost: the handler runs once per 2²⁴ ticks (about 20 instructions, counted in the
//! measurement: 3 in 100 million), and its exception frame (32 bytes, plus the handler's own)
//! lands on the stack wherever the code was, so a run that wraps may measure up to about
//! 64 bytes more stack than it uses (under QEMU's `-icount` the interrupt comes at the same
//! instruction in every run, so the number stays deterministic).

use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};

pub use crate::ticks::ticks_since_start;

/// Instructions per SysTick tick under the QEMU runner: 40 ns per tick at 25 MHz, 1 ns per
/// instruction with `-icount shift=0`.
pub const INSTRUCTIONS_PER_TICK: u64 = 40;

/// SysTick's control and status register (ARMv6-M and ARMv7-M architecture manuals, B3.3).
const CSR: *mut u32 = 0xE000_E010 as *mut u32;
/// Its reload value register.
const RVR: *mut u32 = 0xE000_E014 as *mut u32;
/// Its current value register.
const CVR: *mut u32 = 0xE000_E018 as *mut u32;
/// The System Control Block's interrupt control and state register.
const ICSR: *const u32 = 0xE000_ED04 as *const u32;
/// `ICSR.PENDSTSET`: SysTick's exception is pending (B3.2.4).
const PENDSTSET: u32 = 1 << 26;

use crate::ticks::MASK;

/// Wraps since [`start`]. Only the handler writes it (a load and a store: ARMv6-M has no atomic
/// read-modify-write, and none is needed with one writer); [`now`] reads it with interrupts
/// masked.
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Starts the counter on the core clock, with its interrupt counting the wraps.
pub fn start() {
    WRAPS.store(0, Ordering::Relaxed);
    // SAFETY: the SysTick registers exist at these addresses on every ARMv6-M/v7-M core; nothing
    // else in the firmware uses SysTick. Its interrupt (TICKINT) runs `SysTick` below, which
    // touches only `WRAPS`.
    unsafe {
        RVR.write_volatile(MASK);
        CVR.write_volatile(0);
        CSR.write_volatile(0b111); // ENABLE | TICKINT | CLKSOURCE = core clock
    }
}

/// SysTick's exception handler: one more wrap.
#[cortex_m_rt::exception]
fn SysTick() {
    WRAPS.store(WRAPS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// Ticks since [`start`], counting the wraps: a moment to subtract from another one
/// ([`elapsed`]).
#[inline(always)]
pub fn now() -> u64 {
    let primask: u32;
    // SAFETY: reads PRIMASK and masks interrupts; the state is restored below. No memory is
    // touched, so the compiler may keep values in registers across it, but the volatile reads
    // and the atomic below are not moved out of the masked region (`asm!` without `nomem` is
    // a compiler barrier).
    unsafe { asm!("mrs {}, PRIMASK", "cpsid i", out(reg) primask, options(nostack, preserves_flags)) };
    let wraps = WRAPS.load(Ordering::Relaxed);
    // SAFETY: reads of SysTick's current value and the SCB's ICSR, which have no side effect
    // (but clearing CSR.COUNTFLAG, which nothing reads).
    let (first, pending, again) = unsafe {
        let first = CVR.read_volatile();
        let pending = ICSR.read_volatile() & PENDSTSET != 0;
        (first, pending, if pending { CVR.read_volatile() } else { first })
    };
    if primask & 1 == 0 {
        // SAFETY: interrupts were enabled before this function masked them.
        unsafe { asm!("cpsie i", options(nostack, preserves_flags)) };
    }
    ticks_since_start(wraps, first, pending, again)
}

/// Ticks from `start` to `end` (two [`now`]s).
#[inline(always)]
pub fn elapsed(start: u64, end: u64) -> u64 {
    end.wrapping_sub(start)
}
