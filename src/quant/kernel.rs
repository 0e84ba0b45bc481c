//! The requantize-and-clamp step every int8 `Dense` and `Conv2D` ends with; the dot products
//! before it are in `kernel::int8` (the crate's SIMD module).

use super::requant::Requant;

/// The end of every int8 layer: `clamp(zp + M·acc)` to `[lo, hi]`, `max` first as in TFLite.
#[inline(always)]
pub(crate) fn requantize(acc: i32, m: Requant, zero_point: i32, lo: i8, hi: i8) -> i8 {
    let v = m.apply(acc).wrapping_add(zero_point);
    // `lo` and `hi` are int8 values, so the clamped value is one too.
    v.max(i32::from(lo)).min(i32::from(hi)) as i8
}
