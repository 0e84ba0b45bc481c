//! TFLite's integer requantization: a real multiplier `M = s_in·s_w / s_out` as a 31-bit
//! fixed-point multiplier and a power-of-two shift, applied with two roundings, exactly as
//! TensorFlow Lite (and TFLite Micro's reference kernels) do when `TFLITE_SINGLE_ROUNDING` is
//! off, which is their default.
//!
//! The formulas are gemmlowp's `SaturatingRoundingDoublingHighMul` and `RoundingDivideByPOT`,
//! and TFLite's `QuantizeMultiplier` and `MultiplyByQuantizedMultiplier`. Where C++ would
//! overflow a signed integer (undefined behaviour there, two's-complement wrap-around in
//! practice), these functions wrap, so they never panic.

/// The fixed-point form of a positive real multiplier: `M ≈ multiplier · 2^(shift − 31)`, with
/// `multiplier` in `[2³⁰, 2³¹)` (or 0 for `M = 0` and for `M < 2⁻³¹`, which TFLite flushes to
/// zero).
///
/// # Examples
/// ```
/// use typed_nn::quant::Requant;
/// // 0.5 = 2³⁰ · 2^(0 − 31)
/// assert_eq!(Requant::from_real(0.5), Requant { multiplier: 1 << 30, shift: 0 });
/// assert_eq!(Requant::from_real(0.5).apply(7), 4); // 3.5 rounds up
/// assert_eq!(Requant::from_real(0.5).apply(-7), -3); // and so does −3.5
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
// `repr(C)`: the int8 SIMD kernels load eight of them as two vectors of (multiplier, shift).
#[repr(C)]
pub struct Requant {
    /// The significand in Q0.31, `round(frac · 2³¹)` for `M = frac · 2^shift`, `frac ∈ [0.5, 1)`.
    pub multiplier: i32,
    /// The power of two: positive shifts left before the multiplication, negative shifts right
    /// (with rounding) after it.
    pub shift: i32,
}

impl Requant {
    /// TFLite's `QuantizeMultiplier`: `frexp`, then `round(frac · 2³¹)` (half away from zero),
    /// carrying into the exponent when that rounds up to 2³¹, and flushing multipliers whose
    /// shift would be below −31 to zero. Zero, negative, non-finite and subnormal inputs give
    /// the zero multiplier (callers reject non-positive scales before they get here).
    ///
    /// Computed from the bits of the `f64`, so it is exact and usable in `const` items.
    pub const fn from_real(real: f64) -> Self {
        if real.is_nan() || real <= 0.0 || !real.is_finite() {
            return Self { multiplier: 0, shift: 0 };
        }
        let bits = real.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        if biased == 0 {
            // Subnormal: far below 2⁻³¹.
            return Self { multiplier: 0, shift: 0 };
        }
        // real = 1.m · 2^(biased − 1023) = frac · 2^shift with frac = 1.m / 2 ∈ [0.5, 1).
        let significand = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let mut shift = biased - 1022;
        // frac · 2³¹ = significand / 2²², rounded half away from zero (it is positive).
        let mut q = (significand + (1u64 << 21)) >> 22;
        if q == 1u64 << 31 {
            q /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Self { multiplier: 0, shift: 0 };
        }
        Self { multiplier: q as i32, shift }
    }

    /// `x · M`, rounded: TFLite's `MultiplyByQuantizedMultiplier` (double rounding).
    #[inline(always)]
    pub fn apply(self, x: i32) -> i32 {
        multiply_by_quantized_multiplier(x, self.multiplier, self.shift)
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `a·b / 2³¹` rounded to nearest with ties
/// toward +∞ (the nudge is `2³⁰` for a non-negative product and `1 − 2³⁰` for a negative one,
/// then the division truncates), saturating the one overflowing case `i32::MIN · i32::MIN` to
/// `i32::MAX` (ARM's `VQRDMULH`).
///
/// # Examples
/// ```
/// use typed_nn::quant::requant::saturating_rounding_doubling_high_mul as srdhm;
/// assert_eq!(srdhm(1 << 30, 1 << 30), 1 << 29); // 0.5 · 0.5 = 0.25 in Q0.31
/// assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
/// ```
///
/// Computed as `⌊(a·b + 2³⁰) / 2³¹⌋`, one add and one arithmetic shift: for a non-negative
/// product that is gemmlowp's formula, and for a negative one, truncating `(a·b + 1 − 2³⁰)/2³¹`
/// toward zero is rounding it up, `⌈(a·b + 1 − 2³⁰)/2³¹⌉ = ⌊(a·b + 2³⁰)/2³¹⌋`. The tests
/// compare both forms. On a core without a 32×32→64-bit multiply (ARMv6-M: Cortex-M0, M0+
/// and M1) the product is formed from 16-bit halves instead, with the same result
/// (see `rounded_doubled_high_mul_32`).
#[inline(always)]
pub const fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    if NO_LONG_MULTIPLY { rounded_doubled_high_mul_32(a, b) } else { rounded_doubled_high_mul_64(a, b) }
}

/// Whether this target lacks a 32×32→64-bit multiply instruction, so that an `i64` product
/// is a library call. True for ARMv6-M (thumbv6m: Cortex-M0, M0+, M1), where it is
/// `__aeabi_lmul`, a 64×64-bit multiply of about 30 instructions, and for the other Thumb-1-only
/// targets; ARMv7-M (thumbv7m, thumbv7em) has `SMULL`.
///
/// Stable Rust shows no ARM `target_feature` in `cfg`, so this uses what is visible: among
/// 32-bit ARM targets, exactly those before ARMv6K and ARMv6-M lack compare-and-swap atomics
/// (`target_has_atomic = "32"`). A target it misjudges still gets the same bits, only the
/// other speed (ARMv8-M Baseline, thumbv8m.base, has the atomics but no `SMULL`, and keeps the
/// `i64` form).
const NO_LONG_MULTIPLY: bool = cfg!(all(target_arch = "arm", not(target_has_atomic = "32")));

/// `⌊(a·b + 2³⁰) / 2³¹⌋` with an `i64` product: one `SMULL` (or `IMUL`), an add and a shift.
#[inline(always)]
const fn rounded_doubled_high_mul_64(a: i32, b: i32) -> i32 {
    // |a·b| ≤ 2⁶², so neither the sum nor the shift overflows, and the result fits an i32
    // unless a = b = i32::MIN, which the caller handles.
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// `⌊(a·b + 2³⁰) / 2³¹⌋` with 32-bit multiplies only, for `(a, b) ≠ (i32::MIN, i32::MIN)`:
/// the same value as [`rounded_doubled_high_mul_64`] (the tests compare them), in 28
/// instructions instead of 53 on a Cortex-M0+ (`cargo run --profile nostd --target
/// thumbv6m-none-eabi --bin kernels` in `firmware/`).
///
/// The high word of `P = a·b` is Hacker's Delight's `mulhs` (2nd ed., §8-2): with `a = a₁·2¹⁶ +
/// a₀` and `b = b₁·2¹⁶ + b₀` (`a₁`, `b₁` signed, `a₀`, `b₀` in `0..2¹⁶`),
/// `t = a₁·b₀ + ⌊a₀·b₀ / 2¹⁶⌋`, `u = a₀·b₁ + (t mod 2¹⁶)` and
/// `hi = a₁·b₁ + ⌊t / 2¹⁶⌋ + ⌊u / 2¹⁶⌋ = ⌊P / 2³²⌋`; no step overflows an `i32`
/// (`|a₁·b₀| ≤ 2¹⁵·(2¹⁶ − 1)`, and adding less than 2¹⁶ keeps it below 2³¹). The low word of
/// `P` is `u·2¹⁶ + (a₀·b₀ mod 2¹⁶)`, so its bits 30 and 31 are bits 14 and 15 of `u`. Then
/// `⌊(P + 2³⁰) / 2³¹⌋ = ⌊P / 2³¹⌋ + (bit 30 of P) = 2·hi + bit 31 + bit 30`, and
/// `bit 31 + bit 30 = (((u >> 14) & 3) + 1) >> 1`.
#[inline(always)]
const fn rounded_doubled_high_mul_32(a: i32, b: i32) -> i32 {
    let (a0, a1) = (a & 0xFFFF, a >> 16);
    let (b0, b1) = (b & 0xFFFF, b >> 16);
    let low = (a0 as u32).wrapping_mul(b0 as u32); // < 2³²: exact
    let t = a1.wrapping_mul(b0).wrapping_add((low >> 16) as i32);
    let u = a0.wrapping_mul(b1).wrapping_add(t & 0xFFFF);
    let hi = a1.wrapping_mul(b1).wrapping_add(t >> 16).wrapping_add(u >> 16);
    (hi << 1).wrapping_add((((u >> 14) & 3) + 1) >> 1)
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` is clamped to `0..=31` (gemmlowp asserts that range).
///
/// # Examples
/// ```
/// use typed_nn::quant::requant::rounding_divide_by_pot as rdbpot;
/// assert_eq!((rdbpot(5, 1), rdbpot(-5, 1), rdbpot(7, 2), rdbpot(-6, 2)), (3, -3, 2, -2));
/// ```
#[inline(always)]
pub const fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let e = if exponent < 0 {
        0
    } else if exponent > 31 {
        31
    } else {
        exponent
    };
    let mask = ((1i64 << e) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + if x < 0 { 1 } else { 0 };
    (x >> e) + if remainder > threshold { 1 } else { 0 }
}

/// TFLite's `MultiplyByQuantizedMultiplier(int32 x, multiplier, shift)` without single rounding:
/// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left, multiplier), right)` with
/// `left = max(shift, 0)`, `right = max(−shift, 0)`. The left shift wraps on overflow, as the
/// C++ multiplication does in practice.
#[inline(always)]
pub const fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    let scaled = x.wrapping_mul(1i32.wrapping_shl(left as u32));
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, multiplier), right)
}

/// TFLite's `MultiplyByQuantizedMultiplierGreaterThanOne`: `SaturatingRoundingDoublingHighMul(x ·
/// 2^left_shift, multiplier)` (the softmax input scaling).
#[inline(always)]
pub const fn multiply_by_quantized_multiplier_greater_than_one(x: i32, multiplier: i32, left_shift: i32) -> i32 {
    let shift = if left_shift > 0 { left_shift } else { 0 };
    saturating_rounding_doubling_high_mul(x.wrapping_mul(1i32.wrapping_shl(shift as u32)), multiplier)
}

/// `round(x)` for an `f32`, half away from zero (C's `roundf`, TFLite's `TfLiteRound`), as an
/// `i64` saturated at the `i32` range. NaN gives 0.
///
/// A `const fn` (so that int8 layers can be built from a byte image at compile time); `core`
/// has no `f32::round` without `std`. Exact: below 2²³ in magnitude, `x − trunc(x)` is
/// representable, so comparing it with ½ decides the rounding without error; from 2²³ on every
/// `f32` is an integer.
pub(crate) const fn round_f32_saturating(x: f32) -> i64 {
    if x.is_nan() {
        return 0;
    }
    if x >= i32::MAX as f32 {
        return i32::MAX as i64;
    }
    if x <= i32::MIN as f32 {
        return i32::MIN as i64;
    }
    let t = x as i64; // truncation toward zero, exact in this range
    let frac = x - t as f32;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srdhm(a: i32, b: i32) -> i32 {
        saturating_rounding_doubling_high_mul(a, b)
    }

    #[test]
    fn srdhm_rounds_ties_toward_positive_infinity() {
        // a·b / 2³¹ = 0.5 exactly: rounds to 1; −0.5 rounds to 0 (nudge 1 − 2³⁰, truncation).
        assert_eq!(srdhm(1, 1 << 30), 1);
        assert_eq!(srdhm(-1, 1 << 30), 0);
        // 0.25 rounds to 0 either side; 0.75 to ±1.
        assert_eq!(srdhm(1, 1 << 29), 0);
        assert_eq!(srdhm(-1, 1 << 29), 0);
        assert_eq!(srdhm(3, 1 << 29), 1);
        assert_eq!(srdhm(-3, 1 << 29), -1);
        // 1.5 → 2, −1.5 → −1.
        assert_eq!(srdhm(3, 1 << 30), 2);
        assert_eq!(srdhm(-3, 1 << 30), -1);
    }

    /// gemmlowp's formula as written: nudge by the product's sign, then truncate.
    fn srdhm_gemmlowp(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = i64::from(a) * i64::from(b);
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn srdhm_shift_form_equals_gemmlowps_nudge_and_truncate() {
        // Edges, ties of both signs, and a pseudo-random sweep.
        let edges = [i32::MIN, i32::MIN + 1, -(1 << 30), -3, -2, -1, 0, 1, 2, 3, 1 << 30, i32::MAX - 1, i32::MAX];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(srdhm(a, b), srdhm_gemmlowp(a, b), "{a} · {b}");
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let (a, b) = ((state >> 32) as i32, state as i32);
            // Half the time, small accumulators against realistic multipliers.
            let (a, b) = if state & 1 == 0 { (a >> 12, b.wrapping_abs() | (1 << 30)) } else { (a, b) };
            assert_eq!(srdhm(a, b), srdhm_gemmlowp(a, b), "{a} · {b}");
        }
    }

    #[test]
    fn the_32_bit_high_multiply_equals_the_64_bit_one() {
        // The form thumbv6m runs, checked here on every target (its arithmetic is the same
        // everywhere): the edges of both halves, every rounding tie and near-tie of the low
        // bits, and a pseudo-random sweep of full-range and realistic operands.
        let mut edges = std::vec![i32::MIN + 1, i32::MAX, 0, 1, -1, 1 << 30, -(1 << 30)];
        for k in [15, 16, 17, 30] {
            for base in [1i32 << k, -(1i32 << k)] {
                edges.extend([base - 1, base, base + 1]);
            }
        }
        edges.extend([0xFFFF, 0x1_0000, -0xFFFF, -0x1_0000, 0x7FFF_0000, i32::MIN + 0xFFFF]);
        for &a in &edges {
            for &b in &edges {
                assert_eq!(rounded_doubled_high_mul_32(a, b), rounded_doubled_high_mul_64(a, b), "{a} · {b}");
            }
        }
        // i32::MIN against anything but itself (the caller saturates that one).
        for &b in &edges {
            assert_eq!(rounded_doubled_high_mul_32(i32::MIN, b), rounded_doubled_high_mul_64(i32::MIN, b), "MIN · {b}");
        }
        // Products on a tie (P = (2k + 1)·2³⁰) and one step either side, both signs.
        for k in [-5i32, -1, 0, 1, 7] {
            for (a, b) in [((2 * k + 1) << 14, 1 << 16), ((2 * k + 1) << 15, 1 << 15)] {
                for d in [-1, 0, 1] {
                    let a = a + d;
                    assert_eq!(rounded_doubled_high_mul_32(a, b), rounded_doubled_high_mul_64(a, b), "{a} · {b}");
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..1_000_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let (a, b) = ((state >> 32) as i32, state as i32);
            let (a, b) = match state & 3 {
                0 => (a >> 12, b.wrapping_abs() | (1 << 30)), // an accumulator, a multiplier
                1 => (a >> 20, b >> 20),
                _ => (a, b),
            };
            if (a, b) != (i32::MIN, i32::MIN) {
                assert_eq!(rounded_doubled_high_mul_32(a, b), rounded_doubled_high_mul_64(a, b), "{a} · {b}");
            }
        }
    }

    #[test]
    fn srdhm_saturates_only_min_times_min() {
        assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(srdhm(i32::MIN, i32::MAX), -i32::MAX);
        assert_eq!(srdhm(i32::MAX, i32::MAX), i32::MAX - 1);
    }

    #[test]
    fn rounding_divide_by_pot_rounds_half_away_from_zero() {
        let rows: [(i32, i32, i32); 10] = [
            (0, 0, 0),
            (7, 0, 7),
            (1, 1, 1),   // 0.5 → 1
            (-1, 1, -1), // −0.5 → −1
            (2, 2, 1),   // 0.5 → 1
            (-2, 2, -1), // −0.5 → −1
            (5, 2, 1),   // 1.25 → 1
            (-5, 2, -1),
            (6, 2, 2), // 1.5 → 2
            (-6, 2, -2),
        ];
        for (x, e, want) in rows {
            assert_eq!(rounding_divide_by_pot(x, e), want, "{x} / 2^{e}");
        }
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        // Out-of-range exponents are clamped instead of panicking.
        assert_eq!(rounding_divide_by_pot(8, 40), 0);
        assert_eq!(rounding_divide_by_pot(8, -3), 8);
    }

    #[test]
    fn quantize_multiplier_matches_frexp_and_round() {
        // 1 = 0.5 · 2¹ → 2³⁰, shift 1.
        assert_eq!(Requant::from_real(1.0), Requant { multiplier: 1 << 30, shift: 1 });
        // 0.75 = 0.75 · 2⁰ → 0.75 · 2³¹.
        assert_eq!(Requant::from_real(0.75), Requant { multiplier: 3 << 29, shift: 0 });
        // A value whose fraction rounds up to 2³¹ carries into the shift: (1 − 2⁻⁴⁰) → 2³⁰, 1.
        assert_eq!(Requant::from_real(1.0 - 2f64.powi(-40)), Requant { multiplier: 1 << 30, shift: 1 });
        // Tiny multipliers are flushed to zero.
        assert_eq!(Requant::from_real(2f64.powi(-40)), Requant { multiplier: 0, shift: 0 });
        assert_eq!(Requant::from_real(0.0), Requant { multiplier: 0, shift: 0 });
        assert_eq!(Requant::from_real(-1.0), Requant { multiplier: 0, shift: 0 });
        assert_eq!(Requant::from_real(f64::NAN), Requant { multiplier: 0, shift: 0 });
    }

    #[test]
    fn quantize_multiplier_agrees_with_f64_arithmetic() {
        // frac·2³¹ computed in f64 (exact: a power-of-two scaling) and rounded half away.
        for real in [0.000_123_4, 0.003_921_568_859_368_563, 0.1, 0.333_333, 0.9999, 1.5, 3.7, 1234.5] {
            let r = Requant::from_real(real);
            let frac = real / 2f64.powi(r.shift);
            assert!((0.5..1.0).contains(&frac) || r.multiplier == 1 << 30, "{real}");
            let want = (frac * 2f64.powi(31)).round() as i64;
            assert!(i64::from(r.multiplier) == want || (want == 1 << 31 && r.multiplier == 1 << 30));
        }
    }

    #[test]
    fn requantization_rounds_twice_like_tflite() {
        // M = 0.5 (shift 0): only the high-mul rounds, ties upward: 3.5 → 4, −3.5 → −3.
        let half = Requant::from_real(0.5);
        assert_eq!((half.apply(7), half.apply(-7)), (4, -3));
        // Negative shift path: M = 2⁻³ (multiplier 2³⁰, shift −2): 12/8 = 1.5 → 2, −12/8 → −2.
        let eighth = Requant::from_real(0.125);
        assert_eq!(eighth, Requant { multiplier: 1 << 30, shift: -2 });
        assert_eq!((eighth.apply(12), eighth.apply(-12)), (2, -2));
        // x = 11: round(5.5) = 6, then round(6/4 = 1.5) = 2, whereas 11/8 = 1.375 rounds to 1.
        assert_eq!(eighth.apply(11), 2);
        // Double rounding: 0.5·x then /4, each rounding away from zero. x = 5:
        // high-mul gives round(2.5) = 3, then round(3 / 4) = 1, whereas 5/8 = 0.625 → 1 as well;
        // x = 13: round(6.5) = 7, round(7/4 = 1.75) = 2, while 13/8 = 1.625 → 2.
        assert_eq!((eighth.apply(5), eighth.apply(13)), (1, 2));
        // x = 3: round(1.5) = 2, round(2/4 = 0.5) = 1, whereas single rounding of 3/8 gives 0.
        assert_eq!(eighth.apply(3), 1);
        // Positive shift path: M = 3 = 0.75 · 2²: x·4 then ·0.75.
        let three = Requant::from_real(3.0);
        assert_eq!(three, Requant { multiplier: 3 << 29, shift: 2 });
        assert_eq!((three.apply(5), three.apply(-5)), (15, -15));
    }

    #[test]
    fn requantization_wraps_instead_of_panicking() {
        // A left shift of x past i32 wraps like the C++ does; it must not panic.
        let big = Requant { multiplier: 1 << 30, shift: 31 };
        let _ = big.apply(i32::MAX);
        let _ = big.apply(i32::MIN);
        let _ = multiply_by_quantized_multiplier(i32::MIN, i32::MIN, -31);
    }

    #[test]
    fn round_f32_saturating_is_c_roundf() {
        assert_eq!(round_f32_saturating(2.5), 3);
        assert_eq!(round_f32_saturating(-2.5), -3);
        assert_eq!(round_f32_saturating(1e20), i64::from(i32::MAX));
        assert_eq!(round_f32_saturating(-1e20), i64::from(i32::MIN));
        assert_eq!(round_f32_saturating(f32::NAN), 0);
        assert_eq!((round_f32_saturating(0.5), round_f32_saturating(-0.5)), (1, -1));
        assert_eq!((round_f32_saturating(0.499_999_97), round_f32_saturating(-0.499_999_97)), (0, 0));
        assert_eq!(round_f32_saturating(8_388_607.5), 8_388_608);
    }

    #[test]
    fn const_round_agrees_with_libm_roundf() {
        // Every f32 bit pattern in a sweep across all exponents (one in 4099), both signs: the
        // hand-written const rounding equals libm's `roundf` wherever the result fits an i32.
        let mut bits = 0u32;
        while let Some(next) = bits.checked_add(4099) {
            let x = f32::from_bits(bits);
            bits = next;
            if x.is_nan() || x.abs() >= 2_147_483_520.0 {
                continue;
            }
            assert_eq!(round_f32_saturating(x), libm::roundf(x) as i64, "{x:e}");
        }
    }
}
