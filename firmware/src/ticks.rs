//! The arithmetic of `crate::systick`'s 64-bit tick count, apart from the registers, so that
//! the host tests it: typed-nn's `tests/firmware_ticks.rs` includes this file.

/// SysTick's range: it counts down from here to 0, then reloads; a period is `MASK + 1` = 2²⁴
/// ticks.
pub const MASK: u32 = 0x00FF_FFFF;

/// One consistent tick count from a reading taken with interrupts masked: the wraps the handler
/// counted, the counter's value, whether a wrap was pending (not yet counted), and the counter
/// read again after seeing it pending (only used then). A pending wrap happened before the
/// second read, so that read is past the reload and the wrap counts; the first read may have
/// come before it, so it is not used then. Separate from `systick::now` so that the host can test it
/// (`tests/firmware_ticks.rs` in typed-nn).
#[inline(always)]
pub const fn ticks_since_start(wraps: u32, value: u32, pending: bool, again: u32) -> u64 {
    let (wraps, value) = if pending { (wraps as u64 + 1, again) } else { (wraps as u64, value) };
    // The counter counts down: MASK - value ticks of this period have passed.
    (wraps << 24) + (MASK - (value & MASK)) as u64
}
