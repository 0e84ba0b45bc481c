//! Counting with SysTick, the 24-bit down-counter every Cortex-M has, on the core clock.
//!
//! On a board, a tick is a core clock cycle. Under the QEMU runner (`-icount shift=0`) QEMU's
//! clock advances 1 ns per executed instruction, and the MPS2 boards' SysTick runs at 25 MHz,
//! so a tick is [`INSTRUCTIONS_PER_TICK`] instructions: deterministic, whatever the host does.

/// Instructions per SysTick tick under the QEMU runner: 40 ns per tick at 25 MHz, 1 ns per
/// instruction with `-icount shift=0`.
pub const INSTRUCTIONS_PER_TICK: u64 = 40;

/// SysTick's control and status register (ARMv6-M and ARMv7-M architecture manuals, B3.3).
const CSR: *mut u32 = 0xE000_E010 as *mut u32;
/// Its reload value register.
const RVR: *mut u32 = 0xE000_E014 as *mut u32;
/// Its current value register.
const CVR: *mut u32 = 0xE000_E018 as *mut u32;

/// The counter's range: it counts down from here to 0, then reloads.
const MASK: u32 = 0x00FF_FFFF;

/// Starts the counter on the core clock, without its interrupt.
pub fn start() {
    // SAFETY: the SysTick registers exist at these addresses on every ARMv6-M/v7-M core; nothing
    // else in the firmware uses SysTick, and its interrupt stays disabled (TICKINT = 0).
    unsafe {
        RVR.write_volatile(MASK);
        CVR.write_volatile(0);
        CSR.write_volatile(0b101); // ENABLE | CLKSOURCE = core clock
    }
}

/// The counter's current value.
#[inline(always)]
pub fn now() -> u32 {
    // SAFETY: a read of SysTick's current value register, which has no side effect but clearing
    // the COUNTFLAG bit of CSR, which nothing reads.
    unsafe { CVR.read_volatile() }
}

/// Ticks from `start` to `end` (two [`now`]s), if fewer than 2²⁴ passed.
#[inline(always)]
pub fn elapsed(start: u32, end: u32) -> u32 {
    start.wrapping_sub(end) & MASK
}
