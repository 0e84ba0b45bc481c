//! The firmware's 64-bit SysTick count (`firmware/src/ticks.rs`), on the host: the firmware
//! crate itself builds only for Cortex-M, so its pure arithmetic is included here.

#[allow(dead_code)]
#[path = "../firmware/src/ticks.rs"]
mod ticks;

use ticks::{MASK, ticks_since_start};

/// A period of the counter: 2²⁴ ticks.
const PERIOD: u64 = 1 << 24;

#[test]
fn before_the_first_wrap_the_count_is_how_far_the_counter_came_down() {
    assert_eq!(ticks_since_start(0, MASK, false, 0), 0);
    assert_eq!(ticks_since_start(0, MASK - 1000, false, 0), 1000);
    assert_eq!(ticks_since_start(0, 0, false, 0), PERIOD - 1);
}

#[test]
fn each_counted_wrap_adds_a_period() {
    assert_eq!(ticks_since_start(1, MASK, false, 0), PERIOD);
    assert_eq!(ticks_since_start(3, MASK - 5, false, 0), 3 * PERIOD + 5);
    // Past 2³² ticks (a minute of a 72 MHz core): no overflow.
    assert_eq!(ticks_since_start(300, MASK - 7, false, 0), 300 * PERIOD + 7);
}

/// The case the interrupt alone gets wrong: the counter reloaded, its interrupt is pending, the
/// handler has not counted it. The first reading may be from before the reload (here 2 ticks
/// before 0) or after it; the second reading is after it, and the wrap counts.
#[test]
fn a_pending_wrap_counts_and_uses_the_reading_after_it() {
    let before = ticks_since_start(4, 2, false, 0);
    // First read 2 ticks before the reload, seen pending, read again 3 ticks after it.
    let after = ticks_since_start(4, 2, true, MASK - 3);
    assert_eq!(after, 5 * PERIOD + 3);
    assert_eq!(after - before, 2 + 1 + 3, "0 → reload is one tick");
    // First read already after the reload (a huge value, which without the correction would go
    // back in time by almost a period).
    assert_eq!(ticks_since_start(4, MASK - 1, true, MASK - 2), 5 * PERIOD + 2);
    assert!(ticks_since_start(4, MASK - 1, false, 0) < before);
}

#[test]
fn bits_above_the_counters_24_are_ignored() {
    assert_eq!(ticks_since_start(0, 0xFF00_0000 | (MASK - 9), false, 0), 9);
}
