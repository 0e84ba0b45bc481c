//! `exp` written so that a loop calling it vectorises (no libm call, no branch):
//! Cody–Waite range reduction `x = k·ln2 + r`, `|r| ≤ ln2/2`, a polynomial for `eʳ` (minimax
//! of degree 6 for `f32`, Taylor of degree 12 for `f64`: below 2e-9 and 2e-16 relative), and `2ᵏ`
//! built from its bits (for `f32` as `2·eʳ·2ᵏ⁻¹`, for `f64` as `eʳ·2^⌊k/2⌋·2^⌈k/2⌉`, so that the
//! powers of two stay normal numbers up to the overflow). Within 2 ulps (`f32`) and 3 ulps
//! (`f64`) of a correctly rounded `exp` wherever the result is not flushed to zero.
//!
//! The overflow is that of the platform's `exp` (glibc's and the `libm` crate's, which the
//! scalar [`Float::exp`](num_traits::Float::exp) calls): the result is infinite exactly above
//! the same `x` (`88.722_83` for `f32`, `709.782_712_893_384` for `f64`), and NaN stays NaN.
//! Tiny results are flushed to zero where the platform's `exp` still returns a small number:
//! below `1.68·10⁻³⁸` for `f32` (`x < −86.98`; normal numbers end at `1.18·10⁻³⁸`), below the
//! smallest normal `f64` (`x < −708.396_418_532_264`). The absolute difference stays below
//! `1.7·10⁻³⁸` (`2.3·10⁻³⁰⁸`), and no subnormal number reaches the arithmetic that follows (`1 +
//! e⁻ˣ` in a sigmoid, a softmax's sum), which would be slow on x86.

/// `a·b + c`, fused into one rounding (and one instruction) when `FMA` — for code compiled with
/// the `fma` target feature, where `mul_add` is an instruction rather than a libm call.
#[inline(always)]
fn madd<T: Copy + core::ops::Mul<Output = T> + core::ops::Add<Output = T>, const FMA: bool>(
    a: T,
    b: T,
    c: T,
    fused: impl Fn(T, T, T) -> T,
) -> T {
    if FMA { fused(a, b, c) } else { a * b + c }
}

/// `eˣ` for `f32`; inline and branch-free, so a loop calling it vectorises. With `FMA` (and
/// `std`, which provides `mul_add`) the multiply-adds are fused, for the FMA code paths.
#[inline(always)]
pub fn exp_f32_with<const FMA: bool>(x: f32) -> f32 {
    #[cfg(feature = "std")]
    let fma = |a: f32, b: f32, c: f32| a.mul_add(b, c);
    #[cfg(not(feature = "std"))]
    let fma = |a: f32, b: f32, c: f32| a * b + c;
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    // ln 2 split so that k·LN2_HI is exact for |k| < 2⁸.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5·2²³ rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(F32_UNDERFLOW, F32_OVERFLOW);
    let t = madd::<f32, FMA>(xc, LOG2E, ROUND, fma);
    let k = t - ROUND;
    let r = madd::<f32, FMA>(-k, LN2_LO, madd::<f32, FMA>(-k, LN2_HI, xc, fma), fma);
    // 2·eʳ, from the doubled polynomial.
    let [c0, rest @ ..] = F32_POLY_X2;
    let mut p = c0;
    for c in rest {
        p = madd::<f32, FMA>(p, r, c, fma);
    }
    // k ∈ [−125, 128] sits in the low mantissa bits of t (t = 1.5·2²³ + k), so 2ᵏ⁻¹ is written
    // straight into a float's exponent field (a float → int conversion would not vectorise:
    // Rust's `as` saturates). 2ᵏ itself is not a float for k = 128, where eˣ still is; 2ᵏ⁻¹
    // always is, and 2·eʳ·2ᵏ⁻¹ rounds once, exactly as eʳ·2ᵏ would.
    let biased = (t.to_bits() as i32).wrapping_sub(0x4B40_0000 - 126);
    let y = p * f32::from_bits((biased as u32) << 23);
    if x > F32_OVERFLOW {
        f32::INFINITY
    } else if x < F32_UNDERFLOW {
        0.0
    } else {
        // NaN fails both comparisons and stays NaN through the arithmetic.
        y
    }
}

/// A minimax polynomial for `eʳ` on `[−ln2/2, ln2/2]` (relative error 1.9e-9; fitted by
/// scripts/exp_minimax.py, one degree lower than the Taylor series of the same accuracy), from
/// the highest degree down.
const F32_POLY: [f32; 7] = [1.383_675_9e-3, 8.374_797e-3, 4.166_822_5e-2, 0.166_664_2, 0.499_999_9, 1.0, 1.0];

/// [`F32_POLY`] times 2: the same roundings at every step, only the exponents differ.
// Evaluated at compile time: an index out of range would be a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const F32_POLY_X2: [f32; 7] = {
    let mut c = F32_POLY;
    let mut i = 0;
    while i < c.len() {
        c[i] *= 2.0;
        i += 1;
    }
    c
};

/// Below this `exp_f32_with` returns 0: `eˣ` < 1.68·10⁻³⁸ here, and from here up the rounded
/// `k = round(x/ln2)` is at least −125, so that `2ᵏ⁻¹` is a normal float. (The smallest normal
/// `f32`, 1.18·10⁻³⁸, is `e⁻⁸⁷·³³⁶⁵⁴`.)
const F32_UNDERFLOW: f32 = -86.98;
/// Above this `exp_f32_with` returns infinity, as glibc's `expf` and the `libm` crate's do: the
/// largest `f32` whose `expf` is finite (`0x42B1_7217`, `e^x = 3.402_798_5·10³⁸`; `ln f32::MAX`
/// is 88.722_839, one ulp higher, and those libraries already return infinity there).
const F32_OVERFLOW: f32 = f32::from_bits(0x42B1_7217);

/// `eˣ` for `f64`; inline and branch-free, so a loop calling it vectorises. With `FMA` (and
/// `std`, which provides `mul_add`) the multiply-adds are fused, for the FMA code paths.
#[inline(always)]
pub fn exp_f64_with<const FMA: bool>(x: f64) -> f64 {
    #[cfg(feature = "std")]
    let fma = |a: f64, b: f64, c: f64| a.mul_add(b, c);
    #[cfg(not(feature = "std"))]
    let fma = |a: f64, b: f64, c: f64| a * b + c;
    const LOG2E: f64 = core::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8; // fdlibm's ln2_hi: the top 32 bits of ln 2
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²
    let xc = x.clamp(F64_UNDERFLOW, F64_OVERFLOW);
    let t = madd::<f64, FMA>(xc, LOG2E, ROUND, fma);
    let k = t - ROUND;
    let r = madd::<f64, FMA>(-k, LN2_LO, madd::<f64, FMA>(-k, LN2_HI, xc, fma), fma);
    let mut p = 1.0 / 479_001_600.0; // 1/12!
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = madd::<f64, FMA>(p, r, c, fma);
    }
    let ki = (t.to_bits() as i64).wrapping_sub(0x4338_0000_0000_0000);
    let half = ki >> 1;
    let a = f64::from_bits(((half + 1023) as u64) << 52);
    let b = f64::from_bits(((ki - half + 1023) as u64) << 52);
    let y = p * a * b;
    if x > F64_OVERFLOW {
        f64::INFINITY
    } else if x < F64_UNDERFLOW {
        0.0
    } else {
        y
    }
}

/// `eˣ` for `f32` that is *non-decreasing as computed*: `a < b` gives `exp(a) ≤ exp(b)`, on
/// both paths (`FMA` or not), which the sigmoid needs for its
/// [`MONOTONIC`](crate::Activation::MONOTONIC) promise (the polynomial of
/// [`exp_f32_with`] wiggles by an ulp, e.g. its sigmoid at 0.061566114 is below that at
/// 0.06156611). Every step is a correctly rounded, monotonic operation on non-negative values:
/// `k = round(x·log₂e − ½)` (about `⌊x·log₂e⌋`), `r = x − k·ln 2` clamped to `r ≥ 0`, a
/// polynomial with positive coefficients (non-decreasing in `r ≥ 0`, `p(0) = 1` exactly)
/// clamped to `p ≤ 2`, times `2ᵏ` (exact). Within one `k` each step keeps the order; from
/// `k` to `k + 1` the value goes from at most `2·2ᵏ` to at least `1·2ᵏ⁺¹`. Relative error
/// below 1.2·10⁻⁷ (1 ulp); same overflow, flush to zero and NaN as [`exp_f32_with`].
#[inline(always)]
pub fn exp_monotone_f32_with<const FMA: bool>(x: f32) -> f32 {
    #[cfg(feature = "std")]
    let fma = |a: f32, b: f32, c: f32| a.mul_add(b, c);
    #[cfg(not(feature = "std"))]
    let fma = |a: f32, b: f32, c: f32| a * b + c;
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(F32_UNDERFLOW, F32_OVERFLOW);
    // Two roundings, each monotonic; k ∈ [−126, 127] over the clamped range, so 2ᵏ is normal.
    let t = madd::<f32, FMA>(xc, LOG2E, -0.5, fma) + ROUND;
    let k = t - ROUND;
    let r = madd::<f32, FMA>(-k, LN2_LO, madd::<f32, FMA>(-k, LN2_HI, xc, fma), fma);
    // Written as selects, not `max`/`min`, so that NaN stays NaN.
    let r = if r < 0.0 { 0.0 } else { r };
    let [c0, rest @ ..] = F32_POLY_0_LN2;
    let mut p = c0;
    for c in rest {
        p = madd::<f32, FMA>(p, r, c, fma);
    }
    let p = if p > 2.0 { 2.0 } else { p };
    let biased = (t.to_bits() as i32).wrapping_sub(0x4B40_0000 - 127);
    let y = p * f32::from_bits((biased as u32) << 23);
    if x > F32_OVERFLOW {
        f32::INFINITY
    } else if x < F32_UNDERFLOW {
        0.0
    } else {
        y
    }
}

/// A polynomial for `eʳ` on `[0, ln 2]` with positive coefficients and constant term exactly 1,
/// from the highest degree down: relative error 9.1·10⁻⁸ as evaluated in `f32` (a weighted
/// least-squares fit, iterated towards minimax).
const F32_POLY_0_LN2: [f32; 7] =
    [0.001_948_771_5, 0.007_792_269_3, 0.041_914_996, 0.166_610_14, 0.500_005_84, 0.999_999_8, 1.0];

/// `1/16!, 1/15!, …, 1/1!, 1/0!`: the Taylor polynomial of `eʳ`, from the highest degree down.
// Evaluated at compile time: an index out of range would be a compile error, not a panic.
#[allow(clippy::indexing_slicing)]
const F64_TAYLOR_16: [f64; 17] = {
    let mut c = [0.0; 17];
    let (mut i, mut factorial) = (0, 1.0);
    while i < 17 {
        c[16 - i] = 1.0 / factorial;
        i += 1;
        factorial *= i as f64;
    }
    c
};

/// `eˣ` for `f64`, non-decreasing as computed: [`exp_monotone_f32_with`]'s construction with
/// the Taylor polynomial of degree 16 on `[0, ln 2]` (all coefficients positive; truncation
/// below 6·10⁻¹⁸). Same overflow, flush to zero and NaN as [`exp_f64_with`].
#[inline(always)]
pub fn exp_monotone_f64_with<const FMA: bool>(x: f64) -> f64 {
    #[cfg(feature = "std")]
    let fma = |a: f64, b: f64, c: f64| a.mul_add(b, c);
    #[cfg(not(feature = "std"))]
    let fma = |a: f64, b: f64, c: f64| a * b + c;
    const LOG2E: f64 = core::f64::consts::LOG2_E;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let xc = x.clamp(F64_UNDERFLOW, F64_OVERFLOW);
    let t = madd::<f64, FMA>(xc, LOG2E, -0.5, fma) + ROUND;
    let k = t - ROUND;
    let r = madd::<f64, FMA>(-k, LN2_LO, madd::<f64, FMA>(-k, LN2_HI, xc, fma), fma);
    let r = if r < 0.0 { 0.0 } else { r };
    let [c0, rest @ ..] = F64_TAYLOR_16;
    let mut p = c0;
    for c in rest {
        p = madd::<f64, FMA>(p, r, c, fma);
    }
    let p = if p > 2.0 { 2.0 } else { p };
    let ki = (t.to_bits() as i64).wrapping_sub(0x4338_0000_0000_0000);
    let y = p * f64::from_bits(((ki + 1023) as u64) << 52);
    if x > F64_OVERFLOW {
        f64::INFINITY
    } else if x < F64_UNDERFLOW {
        0.0
    } else {
        y
    }
}

/// Below this `exp_f64_with` returns 0: `e^x` is the smallest normal `f64` here.
const F64_UNDERFLOW: f64 = -708.396_418_532_264_1;
/// Above this `exp_f64_with` returns infinity: the largest `f64` whose `exp` is finite.
const F64_OVERFLOW: f64 = 709.782_712_893_384;

#[cfg(test)]
mod tests {
    use super::*;

    /// The monotonic `exp` against libm: within 1.2e-7 (`f32`) and 4e-16 (`f64`) relative,
    /// on both paths, over its whole range (a sample), and the same special values.
    #[test]
    fn monotone_exp_is_accurate() {
        let mut worst = (0.0f64, 0.0f64);
        for i in 0..=400_000 {
            let x = -86.9 + 175.6 * i as f64 / 400_000.0;
            let (x32, reference) = (x as f32, (x as f32 as f64).exp());
            for y in [exp_monotone_f32_with::<true>(x32), exp_monotone_f32_with::<false>(x32)] {
                if reference < f32::MAX as f64 {
                    let rel = (f64::from(y) - reference).abs() / reference;
                    worst.0 = worst.0.max(rel);
                }
            }
            let reference = libm::exp(x * 8.0);
            for y in [exp_monotone_f64_with::<true>(x * 8.0), exp_monotone_f64_with::<false>(x * 8.0)] {
                if reference.is_normal() && y.is_finite() {
                    worst.1 = worst.1.max((y - reference).abs() / reference);
                }
            }
        }
        std::println!("worst relative error: f32 {:e}, f64 {:e}", worst.0, worst.1);
        assert!(worst.0 < 1.2e-7 && worst.1 < 4e-16, "{worst:?}");
        for (x, e) in [
            (f32::INFINITY, f32::INFINITY),
            (f32::NEG_INFINITY, 0.0),
            (100.0, f32::INFINITY),
            (-100.0, 0.0),
            (0.0, 1.0),
        ] {
            assert_eq!(exp_monotone_f32_with::<true>(x), e);
            assert_eq!(exp_monotone_f32_with::<false>(x), e);
        }
        assert!(exp_monotone_f32_with::<true>(f32::NAN).is_nan() && exp_monotone_f64_with::<false>(f64::NAN).is_nan());
        assert_eq!(exp_monotone_f64_with::<true>(-1000.0), 0.0);
        assert_eq!(exp_monotone_f64_with::<true>(1000.0), f64::INFINITY);
    }
    use std::format;
    use std::string::String;

    /// The worst relative error of `exp` against the platform's libm over `[lo, hi]`, in units
    /// of `eps·|exact|`.
    fn worst_f32(exp: fn(f32) -> f32) -> f64 {
        (0..=400_000)
            .map(|i| {
                let x = -86.98 + 175.7 * i as f32 / 400_000.0;
                let exact = (x as f64).exp();
                (exp(x) as f64 - exact).abs() / (exact * f32::EPSILON as f64)
            })
            .fold(0.0, f64::max)
    }

    fn worst_f64(exp: fn(f64) -> f64) -> f64 {
        (0..=400_000)
            .map(|i| {
                let x = -708.3 + 1418.0 * i as f64 / 400_000.0;
                let exact = x.exp();
                (exp(x) - exact).abs() / (exact * f64::EPSILON)
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_f32_is_within_two_ulps_of_libm_over_its_range() {
        let worst = worst_f32(exp_f32_with::<false>);
        assert!(worst <= 2.0, "worst error {worst} ulps");
        // The fused variant rounds differently but must meet the same bound. (`mul_add` is a
        // libm call without the `fma` target feature: slow here, but the same arithmetic.)
        #[cfg(feature = "std")]
        {
            let fused = worst_f32(exp_f32_with::<true>);
            assert!(fused <= 2.0, "fused: worst error {fused} ulps");
        }
    }

    #[test]
    fn exp_f64_is_within_three_ulps_of_libm_over_its_range() {
        let worst = worst_f64(exp_f64_with::<false>);
        assert!(worst <= 3.0, "worst error {worst} ulps");
        #[cfg(feature = "std")]
        {
            let fused = worst_f64(exp_f64_with::<true>);
            assert!(fused <= 3.0, "fused: worst error {fused} ulps");
        }
    }

    #[test]
    fn exp_handles_the_edges() {
        let v = [0.0f32, 1.0, -1000.0, 1000.0, f32::NAN, 88.7, -86.9, f32::INFINITY, f32::NEG_INFINITY, 88.73]
            .map(exp_f32_with::<false>);
        assert_eq!(v[0], 1.0);
        assert!((v[1] - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
        assert_eq!((v[2], v[3]), (0.0, f32::INFINITY));
        assert!(v[4].is_nan());
        assert!((v[5] as f64 / (88.7f32 as f64).exp() - 1.0).abs() < 1e-6, "just below the overflow: {}", v[5]);
        assert_eq!(v[9], f32::INFINITY, "above ln f32::MAX = 88.7228");
        assert!((v[6] as f64 / (-86.9f32 as f64).exp() - 1.0).abs() < 1e-6, "just above the flush to 0: {}", v[6]);
        assert_eq!((v[7], v[8]), (f32::INFINITY, 0.0));
        let w = [0.0f64, -1e6, 1e6, f64::NAN, 709.0].map(exp_f64_with::<false>);
        assert_eq!((w[0], w[1], w[2]), (1.0, 0.0, f64::INFINITY));
        assert!(w[3].is_nan() && w[4].is_finite());
    }

    /// `fast` against the platform's `exp` (`exact`): infinite at exactly the same points, 0 where
    /// `x` is below the documented flush (`flush_below`, and `exact` is tiny there), within
    /// `ulps` elsewhere.
    fn agrees<T: num_traits::Float + core::fmt::Debug>(
        x: T,
        fast: T,
        exact: T,
        ulps: f64,
        flush_below: T,
    ) -> Result<(), String> {
        let (f, e) = (fast.to_f64().unwrap_or(f64::NAN), exact.to_f64().unwrap_or(f64::NAN));
        let eps = T::epsilon().to_f64().unwrap_or(0.0);
        let ok = if e.is_infinite() || f.is_infinite() {
            f == e
        } else if x < flush_below {
            f == 0.0 && e < 1.7e-38
        } else {
            (f - e).abs() <= ulps * eps * e
        };
        if ok { Ok(()) } else { Err(format!("exp({x:?}) = {fast:?}, the platform's exp says {exact:?}")) }
    }

    /// Every `f32` from `lo` upwards, `n` of them.
    fn f32s_from(lo: f32, n: u32) -> impl Iterator<Item = f32> {
        // For negative `lo` the bits count down towards zero.
        (0..n).map(move |i| if lo >= 0.0 { f32::from_bits(lo.to_bits() + i) } else { f32::from_bits(lo.to_bits() - i) })
    }

    #[test]
    fn exp_f32_overflows_exactly_where_the_platform_exp_does_and_flushes_below_1_7e_38() {
        // 88.70 .. 88.77 and −87.05 .. −86.90: every f32 across both edges.
        for x in f32s_from(88.70, 10_000).chain(f32s_from(-87.05, 20_000)) {
            agrees(x, exp_f32_with::<false>(x), x.exp(), 2.0, F32_UNDERFLOW).unwrap();
            #[cfg(feature = "std")]
            agrees(x, exp_f32_with::<true>(x), x.exp(), 2.0, F32_UNDERFLOW).unwrap();
        }
        assert!(f32s_from(88.70, 10_000).any(|x| x.exp().is_infinite()), "the scan crosses the overflow");
        let flushed = f32s_from(-87.05, 20_000).filter(|&x| exp_f32_with::<false>(x) == 0.0).count();
        assert!(flushed > 0 && flushed < 20_000, "the scan crosses the flush to 0");
        // The boundary itself, from the libraries: the largest finite case and the next float.
        assert_eq!(exp_f32_with::<false>(F32_OVERFLOW), F32_OVERFLOW.exp());
        assert!(exp_f32_with::<false>(F32_OVERFLOW) > 3.4e38);
        assert_eq!(exp_f32_with::<false>(f32::from_bits(F32_OVERFLOW.to_bits() + 1)), f32::INFINITY);
        assert_eq!(libm::expf(f32::from_bits(F32_OVERFLOW.to_bits() + 1)), f32::INFINITY, "libm (no_std) agrees");
        assert!(libm::expf(F32_OVERFLOW).is_finite());
    }

    #[test]
    fn exp_f64_overflows_and_flushes_exactly_where_the_platform_exp_does_subnormals_aside() {
        let around = |c: f64| (0..4_001u64).map(move |i| f64::from_bits(c.to_bits() - 2_000 + i));
        for x in around(F64_OVERFLOW).chain(around(F64_UNDERFLOW)) {
            agrees(x, exp_f64_with::<false>(x), x.exp(), 3.0, F64_UNDERFLOW).unwrap();
            #[cfg(feature = "std")]
            agrees(x, exp_f64_with::<true>(x), x.exp(), 3.0, F64_UNDERFLOW).unwrap();
        }
        assert!(F64_OVERFLOW.exp().is_finite());
        assert_eq!(f64::from_bits(F64_OVERFLOW.to_bits() + 1).exp(), f64::INFINITY);
        assert_eq!(libm::exp(f64::from_bits(F64_OVERFLOW.to_bits() + 1)), f64::INFINITY, "libm (no_std) agrees");
    }
}
