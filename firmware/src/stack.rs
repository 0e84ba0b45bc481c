//! The stack's high-water mark, measured: paint the free stack with a pattern, run the code,
//! find the lowest word that no longer holds the pattern.
//!
//! Both loops are assembly so that they use no stack themselves and paint exactly up to the
//! stack pointer of the function that calls them. The measured code is everything that function
//! calls *after* [`paint`], so its own frame is not counted. A word the code wrote with the
//! pattern's value (`0xCCCC_CCCC`, the value cortex-m-rt's `paint-stack` uses) at the very
//! bottom of its use would be missed: the mark can be low by a multiple of 4 bytes in that case.

use core::arch::asm;

/// The word the free stack is painted with.
pub const PAINT: u32 = 0xCCCC_CCCC;

unsafe extern "C" {
    /// The lowest address the stack may grow to: the end of the statics (cortex-m-rt's
    /// `link.x` defines it; it is its documented bound for `paint-stack`).
    static _stack_end: u32;
    /// The top of the stack, where the reset handler starts it (cortex-m-rt's `link.x`).
    static _stack_start: u32;
}

/// Paints every word from the bottom of the stack up to the current stack pointer, and returns
/// that stack pointer. Call it from the function whose callees are measured, then call
/// [`used_below`] from the same function.
#[inline(always)]
pub fn paint() -> u32 {
    let bottom = (&raw const _stack_end) as u32;
    let sp: u32;
    // SAFETY: writes only the words in [_stack_end, sp): free stack, below every live frame
    // (Cortex-M has no red zone, and no interrupt is enabled), above every static.
    unsafe {
        asm!(
            "mov {sp}, sp",
            "2:",
            "cmp {p}, {sp}",
            "bhs 3f",
            "str {v}, [{p}]",
            "adds {p}, {p}, #4",
            "b 2b",
            "3:",
            p = inout(reg) bottom => _,
            sp = out(reg) sp,
            v = in(reg) PAINT,
            options(nostack),
        );
    }
    sp
}

/// Bytes of stack used below `sp` since [`paint`] returned `sp`: `sp` minus the lowest word that
/// no longer holds the paint.
#[inline(always)]
pub fn used_below(sp: u32) -> u32 {
    let mut p = (&raw const _stack_end) as u32;
    // SAFETY: reads only the words in [_stack_end, sp), which [`paint`] wrote and the measured
    // code may have overwritten; none of it belongs to a live Rust value.
    unsafe {
        asm!(
            "2:",
            "cmp {p}, {sp}",
            "bhs 3f",
            "ldr {w}, [{p}]",
            "cmp {w}, {v}",
            "bne 3f",
            "adds {p}, {p}, #4",
            "b 2b",
            "3:",
            p = inout(reg) p,
            sp = in(reg) sp,
            v = in(reg) PAINT,
            w = out(reg) _,
            options(nostack, readonly),
        );
    }
    sp.saturating_sub(p)
}

/// Bytes of stack in use above `sp` (a [`paint`]'s result): the frames of the reset handler,
/// `main` and whatever called [`paint`], with everything they hold, such as a model read into a
/// local variable. With the static RAM and [`used_below`], what the run takes of the RAM.
#[inline(always)]
pub fn used_above(sp: u32) -> u32 {
    ((&raw const _stack_start) as u32).saturating_sub(sp)
}
