//! `exp` written so that a loop calling it vectorises (no libm call, no branch):
//! Cody–Waite range reduction `x = k·ln2 + r`, `|r| ≤ ln2/2`, a polynomial for `eʳ` (minimax
//! of degree 6 for `f32`, Taylor of degree 12 for `f64`: below 2e-9 and 2e-16 relative), and `2ᵏ`
//! built from its bits. Within 2 ulps (`f32`) and 3 ulps (`f64`) of a correctly rounded `exp`;
//! results below the smallest normal number are flushed to zero (`x < −87.33` for `f32`,
//! `x < −708.39` for `f64`), results larger than the largest float become infinity (for `f32`
//! already above `x = 88.37`, where `eˣ` > 2.4·10³⁸), and NaN stays NaN.

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
    // A minimax polynomial for eʳ on [−ln2/2, ln2/2] (relative error 1.9e-9; fitted by
    // scripts/exp_minimax.py), one degree lower than the Taylor series of the same accuracy.
    let mut p = 1.383_675_9e-3f32;
    for c in [8.374_797e-3, 4.166_822_5e-2, 0.166_664_2, 0.499_999_9, 1.0, 1.0] {
        p = madd::<f32, FMA>(p, r, c, fma);
    }
    // k ∈ [−126, 127] sits in the low mantissa bits of t (t = 1.5·2²³ + k), so 2ᵏ is written
    // straight into a float's exponent field: a float → int conversion would not vectorise
    // (Rust's `as` saturates).
    let biased = (t.to_bits() as i32).wrapping_sub(0x4B40_0000 - 127);
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

/// Below this `exp_f32_with` returns 0: `e⁻⁸⁷·³³⁶⁵⁴` is the smallest normal `f32`.
const F32_UNDERFLOW: f32 = -87.336_54;
/// Above this `exp_f32_with` returns infinity: `eˣ` > 2.4·10³⁸ here, and stopping at `ln 2¹²⁷·⁵`
/// rather than at `ln f32::MAX = 88.72` keeps `2ᵏ` a single exponent-field write.
const F32_OVERFLOW: f32 = 88.37;

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
    let xc = x.clamp(-708.396_418_532_264_1, 709.782_712_893_384);
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
    if x > 709.782_712_893_384 {
        f64::INFINITY
    } else if x < -708.396_418_532_264_1 {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worst relative error of `exp` against the platform's libm over `[lo, hi]`, in units
    /// of `eps·|exact|`.
    fn worst_f32(exp: fn(f32) -> f32) -> f64 {
        (0..=400_000)
            .map(|i| {
                let x = -87.0 + 175.0 * i as f32 / 400_000.0;
                let exact = (x as f64).exp();
                (exp(x) as f64 - exact).abs() / (exact * f32::EPSILON as f64)
            })
            .fold(0.0, f64::max)
    }

    fn worst_f64(exp: fn(f64) -> f64) -> f64 {
        (0..=400_000)
            .map(|i| {
                let x = -700.0 + 1400.0 * i as f64 / 400_000.0;
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
        let v = [0.0f32, 1.0, -1000.0, 1000.0, f32::NAN, 88.36, -87.3, f32::INFINITY, f32::NEG_INFINITY, 88.38]
            .map(exp_f32_with::<false>);
        assert_eq!(v[0], 1.0);
        assert!((v[1] - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
        assert_eq!((v[2], v[3]), (0.0, f32::INFINITY));
        assert!(v[4].is_nan());
        assert!((v[5] as f64 / 88.36f64.exp() - 1.0).abs() < 1e-6, "just below the overflow: {}", v[5]);
        assert_eq!(v[9], f32::INFINITY, "documented early overflow above 88.37");
        assert!((v[6] as f64 / (-87.3f32 as f64).exp() - 1.0).abs() < 1e-6, "just above the smallest normal: {}", v[6]);
        assert_eq!((v[7], v[8]), (f32::INFINITY, 0.0));
        let w = [0.0f64, -1e6, 1e6, f64::NAN, 709.0].map(exp_f64_with::<false>);
        assert_eq!((w[0], w[1], w[2]), (1.0, 0.0, f64::INFINITY));
        assert!(w[3].is_nan() && w[4].is_finite());
    }
}
