//! int8 softmax exactly as TFLite's reference kernel computes it: the input differences to the
//! row maximum are scaled to Q5.26, `exp` is gemmlowp's fixed-point `exp_on_negative_values`
//! (a Taylor polynomial on `[−1/4, 0)` and a barrel shifter of `exp(−2^k)` constants), the sum
//! is accumulated in Q12.19, and its reciprocal comes from gemmlowp's Newton–Raphson
//! `one_over_one_plus_x_for_x_in_0_1`. The output scale is fixed at 1/256, zero point −128.
//!
//! Every function is integer-only; the float arithmetic is in [`SoftmaxParams::new`], which runs
//! once at import, as TFLite's `Prepare` does.

use super::requant::{
    Requant, multiply_by_quantized_multiplier_greater_than_one, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as srdhm,
};

/// Integer bits of the scaled input difference (Q5.26), TFLite's `kScaledDiffIntegerBits`.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (Q12.19), `kAccumulationIntegerBits`.
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// The precomputed constants of one int8 softmax: TFLite's `SoftmaxParams` for int8 in and out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SoftmaxParams {
    /// `β · s_in · 2²⁶` (capped at `2³¹ − 1`) as a multiplier greater than one.
    pub input_multiplier: i32,
    /// Its left shift, `≥ 0`.
    pub input_left_shift: i32,
    /// Differences below this (in input steps) give an output of −128 without computing `exp`.
    pub diff_min: i32,
}

impl SoftmaxParams {
    /// TFLite's `PreprocessSoftmaxScaling(β, s_in, 5)` and `CalculateInputRadius(5, shift)`.
    ///
    /// A `const fn`, so an int8 softmax can be prepared at compile time. Returns `None` when the
    /// scaled multiplier is not greater than one (TFLite aborts there:
    /// it needs `β · s_in > 2⁻²⁶`) or not finite.
    pub const fn new(beta: f32, input_scale: f32) -> Option<Self> {
        let max_real = i32::MAX as f64; // (1 << 31) − 1.0
        let real = beta as f64 * input_scale as f64 * (1i32 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64;
        if !real.is_finite() || real.is_nan() {
            return None;
        }
        let real = if real < max_real { real } else { max_real };
        if real.is_nan() || real <= 1.0 {
            return None;
        }
        let Requant { multiplier, shift } = Requant::from_real(real);
        if shift < 0 || multiplier == 0 {
            return None;
        }
        // floor(((1 << 5) − 1) · 2^(31 − 5) / 2^shift), an exact integer shift.
        let radius = (((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) << (31 - SCALED_DIFF_INTEGER_BITS))
            >> (if shift < 63 { shift } else { 63 });
        let diff_min = -(if radius < i32::MAX as i64 { radius } else { i32::MAX as i64 } as i32);
        Some(Self { input_multiplier: multiplier, input_left_shift: shift, diff_min })
    }
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT<E>` for `E > 0`: `x · 2^E`, saturated.
#[inline(always)]
const fn saturating_shl(x: i32, e: i32) -> i32 {
    let threshold = (1i32 << (31 - e)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << e
    }
}

/// gemmlowp's `RoundingHalfSum`: `(a + b)/2` rounded to nearest, ties away from zero.
#[inline(always)]
const fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `exp(a)` for `a ∈ [−1/4, 0)` in Q0.31 (gemmlowp's
/// `exp_on_interval_between_negative_one_quarter_and_0_excl`): a Taylor expansion around −1/8.
#[inline(always)]
const fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668; // exp(−1/8) in Q0.31
    const ONE_THIRD: i32 = 715_827_883; // 1/3 in Q0.31
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2), 1);
    EXP_MINUS_ONE_EIGHTH.wrapping_add(srdhm(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(poly)))
}

/// `exp(a)` for `a ≤ 0` given in Q5.26, result in Q0.31: gemmlowp's `exp_on_negative_values`
/// with 5 integer bits.
#[inline(always)]
pub fn exp_on_negative_values(a: i32) -> i32 {
    const FRACTIONAL_BITS: i32 = 31 - SCALED_DIFF_INTEGER_BITS;
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    // exp(−2^k) in Q0.31 for k = −2 ..= 4.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    let mask = ONE_QUARTER - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(ONE_QUARTER);
    // Rescale<0> from Q5.26: a saturating left shift by 5.
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(saturating_shl(
        a_mod_quarter_minus_one_quarter,
        SCALED_DIFF_INTEGER_BITS,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    for &(exponent, multiplier) in &BARREL {
        // Computed unconditionally and selected, so the bits of the input do not become
        // unpredictable branches.
        let scaled = srdhm(result, multiplier);
        result = if remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 { scaled } else { result };
    }
    if a == 0 { i32::MAX } else { result }
}

/// `1/(1 + x)` for `x ∈ [0, 1)` in Q0.31, result in Q0.31: gemmlowp's
/// `one_over_one_plus_x_for_x_in_0_1`, three Newton–Raphson steps from `48/17 − 32/17·d`.
#[inline(always)]
const fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const C48_OVER_17: i32 = 1_515_870_810; // Q2.29
    const CNEG32_OVER_17: i32 = -1_010_580_540; // Q2.29
    const ONE_Q2_29: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = C48_OVER_17.wrapping_add(srdhm(half_denominator, CNEG32_OVER_17));
    let mut i = 0;
    while i < 3 {
        let half_denominator_times_x = srdhm(half_denominator, x);
        let one_minus = ONE_Q2_29.wrapping_sub(half_denominator_times_x);
        // x·one_minus is Q4.27; Rescale<2> is a saturating shift left by 2.
        x = x.wrapping_add(saturating_shl(srdhm(x, one_minus), 2));
        i += 1;
    }
    // ExactMulByPot<−1> (Q2.29 → Q1.30, same bits), then Rescale<0>: a saturating shift by 1.
    saturating_shl(x, 1)
}

/// TFLite's `GetReciprocal(x, 12)`: `1/x` for a positive Q12.19 sum as a Q0.31 scale and the
/// number of bits the sum had above 1.0.
#[inline(always)]
const fn reciprocal(sum: i32) -> (i32, i32) {
    let headroom_plus_one = (sum as u32).leading_zeros();
    let num_bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one as i32;
    let shifted = match (sum as u32).checked_shl(headroom_plus_one) {
        Some(s) => s,
        None => 0,
    };
    let shifted_sum_minus_one = shifted.wrapping_sub(1 << 31) as i32;
    (one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit)
}

/// The int8 softmax of one row, TFLite's `reference_ops::Softmax<int8_t, int8_t>`: output scale
/// 1/256, zero point −128.
///
/// Each `exp` is computed once and kept (TFLite's reference computes it twice, for the sum and
/// for the output; the values are the same).
///
/// # Panics
/// Never.
pub fn softmax_i8<const N: usize>(params: &SoftmaxParams, x: &[i8; N], out: &mut [i8; N]) {
    let max = x.iter().copied().max().unwrap_or(i8::MIN);
    // exp(β·s·(x − max)) in Q0.31, or `None` below the input radius (output −128).
    let mut exps = [None; N];
    let mut sum_of_exps: i32 = 0; // Q12.19
    for (e, &v) in exps.iter_mut().zip(x) {
        let diff = i32::from(v) - i32::from(max);
        if diff >= params.diff_min {
            let scaled = multiply_by_quantized_multiplier_greater_than_one(
                diff,
                params.input_multiplier,
                params.input_left_shift,
            );
            let exp = exp_on_negative_values(scaled);
            sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(exp, ACCUMULATION_INTEGER_BITS));
            *e = Some(exp);
        }
    }
    let (shifted_scale, num_bits_over_unit) = reciprocal(sum_of_exps);
    let exponent = num_bits_over_unit + 31 - 8;
    for (o, e) in out.iter_mut().zip(exps) {
        *o = match e {
            Some(exp) => {
                let unsat = rounding_divide_by_pot(srdhm(shifted_scale, exp), exponent);
                unsat.saturating_add(-128).clamp(-128, 127) as i8
            }
            None => i8::MIN,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q0_31(x: f64) -> f64 {
        x / 2f64.powi(31)
    }

    #[test]
    fn exp_of_zero_is_one_and_of_minus_one_is_e_inverse() {
        assert_eq!(exp_on_negative_values(0), i32::MAX);
        let minus_one = -(1 << 26); // −1 in Q5.26
        let got = q0_31(f64::from(exp_on_negative_values(minus_one)));
        // The degree-4 Taylor polynomial around −1/8 is good to (1/8)⁵/120 ≈ 2.5e-7.
        assert!((got - (-1f64).exp()).abs() < 3e-7, "{got}");
    }

    #[test]
    fn exp_matches_f64_within_fixed_point_precision_over_the_range() {
        // Every 1/64 from −31.98 to −1/64: within the polynomial's 2.5e-7 (plus rounding) of exp.
        for k in 1..(32 * 64) {
            let a = -(k << 20); // −k/64 in Q5.26
            let got = q0_31(f64::from(exp_on_negative_values(a)));
            let want = (-(k as f64) / 64.0).exp();
            assert!((got - want).abs() < 3e-7, "exp(−{k}/64) = {got}, want {want}");
        }
    }

    #[test]
    fn reciprocal_of_one_plus_x_is_accurate() {
        for k in 0..64 {
            let x = f64::from(k) / 64.0;
            let raw = (x * 2f64.powi(31)) as i32;
            let got = q0_31(f64::from(one_over_one_plus_x_for_x_in_0_1(raw)));
            assert!((got - 1.0 / (1.0 + x)).abs() < 1e-8, "1/(1+{x}) = {got}");
        }
    }

    #[test]
    fn softmax_params_follow_tflite_preprocessing() {
        // β·s·2²⁶ = 0.25 · 2²⁶ = 2²⁴ = 0.5 · 2²⁵: multiplier 2³⁰, left shift 25, and the radius
        // floor(31 · 2²⁶ / 2²⁵) = 62.
        let p = SoftmaxParams::new(1.0, 0.25).unwrap();
        assert_eq!(p, SoftmaxParams { input_multiplier: 1 << 30, input_left_shift: 25, diff_min: -62 });
        // A scale so small that β·s·2²⁶ ≤ 1 is refused (TFLite aborts on it).
        assert_eq!(SoftmaxParams::new(1.0, 1e-9), None);
        assert_eq!(SoftmaxParams::new(1.0, f32::NAN), None);
    }

    #[test]
    fn softmax_of_equal_inputs_is_uniform_and_of_a_dominant_input_is_one_hot() {
        let p = SoftmaxParams::new(1.0, 0.1).unwrap();
        let mut out = [0i8; 4];
        softmax_i8(&p, &[5, 5, 5, 5], &mut out);
        // 1/4 = 64/256 → −128 + 64.
        assert_eq!(out, [-64; 4]);
        softmax_i8(&p, &[127, -128, -128, -128], &mut out);
        // exp(−25.5) is far below 1/256; the winner saturates at 255/256 → 127.
        assert_eq!(out, [127, -128, -128, -128]);
    }

    #[test]
    fn softmax_outputs_round_the_real_probabilities() {
        // Two classes one step of 0.5 apart: p = 1/(1 + e^−0.5) = 0.6225 → 159.4/256.
        let p = SoftmaxParams::new(1.0, 0.5).unwrap();
        let mut out = [0i8; 2];
        softmax_i8(&p, &[1, 0], &mut out);
        let real = 1.0 / (1.0 + (-0.5f64).exp());
        assert!((f64::from(out[0]) + 128.0 - real * 256.0).abs() <= 1.0, "{out:?}");
        assert!((f64::from(out[1]) + 128.0 - (1.0 - real) * 256.0).abs() <= 1.0, "{out:?}");
    }
}
