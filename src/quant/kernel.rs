//! The int8 inner loops, portable Rust written so that the compiler vectorises them: the
//! fully connected dot products and the requantize-and-clamp step every layer ends with.

use super::requant::Requant;

/// `y[o] = clamp(zp + M[o]·(Σᵢ w[o][i]·x[i] + bias[o]))` with the bound order of TFLite
/// (`max(·, lo)` then `min(·, hi)`). `bias` already holds the input zero point's share.
#[inline]
pub(crate) fn dense_i8<const IN: usize, const OUT: usize>(
    x: &[i8; IN],
    w: &[[i8; IN]; OUT],
    bias: &[i32; OUT],
    requant: &[Requant; OUT],
    zero_point: i32,
    (lo, hi): (i8, i8),
    y: &mut [i8; OUT],
) {
    for (((yo, row), &b), &m) in y.iter_mut().zip(w).zip(bias).zip(requant) {
        let acc = dot_i8(x, row).wrapping_add(b);
        *yo = requantize(acc, m, zero_point, lo, hi);
    }
}

/// `Σ a[i]·b[i]` in `i32` (wrapping, as the C++ accumulator does in practice).
#[inline]
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &w)| acc.wrapping_add(i32::from(x) * i32::from(w)))
}

/// The end of every int8 layer: `clamp(zp + M·acc)` to `[lo, hi]`, `max` first as in TFLite.
#[inline(always)]
pub(crate) fn requantize(acc: i32, m: Requant, zero_point: i32, lo: i8, hi: i8) -> i8 {
    let v = m.apply(acc).wrapping_add(zero_point);
    v.max(i32::from(lo)).min(i32::from(hi)).clamp(-128, 127) as i8
}
