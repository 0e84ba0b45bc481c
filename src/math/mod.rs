//! Building blocks for activations: an `eˣ` and a sigmoid that vectorise ([`exp`],
//! [`sigmoid`], and the [`FastExp`] trait behind them) and float constants in generic code
//! ([`lit`]).
//!
//! The libm `exp` that [`Float::exp`] calls is a function call per value, which stops the
//! compiler from vectorising the loop around it. [`exp`] and [`sigmoid`] are a branch-free
//! polynomial instead, and they are generic over [`Float`], so they work inside your own
//! activation's [`f`](crate::Activation::f) and [`df`](crate::Activation::df): the layer
//! compiles that `f` into its loop, and the loop becomes vector code (AVX2 or AVX-512 where
//! the CPU has them, see [`float_simd`](crate::float_simd)). The built-in activations whose
//! formula needs `eˣ` (sigmoid, swish, softmax, exponential) use the same polynomial.
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::math::sigmoid;
//!
//! /// swish(x) = x·sigmoid(x), written the obvious way: on a Dense model it runs within 8% of
//! /// the built-in `Swish` (BENCHMARKS.md, "User-defined activations").
//! #[derive(Clone, Copy, Debug, Default)]
//! struct MySwish;
//! impl Activation for MySwish {
//!     fn f<T: Float>(x: T) -> T {
//!         x * sigmoid(x)
//!     }
//!     fn df<T: Float>(x: T) -> T {
//!         let s = sigmoid(x);
//!         s * (T::one() + x * (T::one() - s))
//!     }
//! }
//! let layer: Dense<1, 1, MySwish> = Dense::new([[1.0]], [0.0]);
//! let y: Vector<1> = layer.forward(&Vector::from([0.5]));
//! assert!((y[0] - 0.5 / (1.0 + (-0.5f32).exp())).abs() < 1e-6);
//! ```
//!
//! The one difference from the built-ins: on the AVX2 and AVX-512 paths a built-in's polynomial
//! uses fused multiply-adds, while [`exp`] inside your `f` cannot know which path compiled it
//! and uses a separate multiply and add (stable Rust has no way to let the compiler fuse them
//! where it may). That costs about ten instructions per 8 or 16 values: 1.23 to 1.28 times the built-in's
//! time on the activation alone, 1.04 to 1.08 times on a `Dense<100, 128, _>` model (BENCHMARKS.md).

mod exp;

use num_traits::Float;

/// `eˣ` as a branch-free polynomial that a loop can vectorise, for `f32` and `f64`.
///
/// Cody–Waite range reduction, a polynomial for `eʳ` and `2ᵏ` built from its bits: within 2
/// ulps (`f32`) and 3 ulps (`f64`) of a correctly rounded `exp`. Results below the smallest
/// normal number are flushed to zero (`x < −87.33` for `f32`, `x < −708.39` for `f64`),
/// results above the largest float are infinity, and NaN stays NaN. The accuracy is tested
/// against libm over the whole range in `src/math/exp.rs`.
///
/// # Examples
/// ```
/// use typed_nn::math::FastExp;
/// let e = 1.0f32.fast_exp();
/// assert!((e - core::f32::consts::E).abs() <= 2.0 * f32::EPSILON * e);
/// assert_eq!((-1000.0f64).fast_exp(), 0.0);
/// ```
pub trait FastExp: Copy + sealed::Sealed {
    /// `eˣ`.
    #[inline(always)]
    fn fast_exp(self) -> Self {
        self.fast_exp_with::<false>()
    }

    /// `eˣ`, with its multiply-adds fused (one rounding each) when `FMA`: for code compiled
    /// with the `fma` target feature, where a fused multiply-add is one instruction (the
    /// layers' AVX2 and AVX-512 paths). Without `std` there is no such code, and `FMA` only
    /// changes the rounding.
    fn fast_exp_with<const FMA: bool>(self) -> Self;

    /// `eˣ`, non-decreasing as computed (the built-in sigmoid's, for its
    /// [`MONOTONIC`](crate::Activation::MONOTONIC) promise); within 1 ulp (`f32`).
    #[doc(hidden)]
    fn monotone_exp_with<const FMA: bool>(self) -> Self;
}

impl FastExp for f32 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f32_with::<FMA>(self)
    }
    #[inline(always)]
    fn monotone_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_monotone_f32_with::<FMA>(self)
    }
}

impl FastExp for f64 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f64_with::<FMA>(self)
    }
    #[inline(always)]
    fn monotone_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_monotone_f64_with::<FMA>(self)
    }
}

mod sealed {
    /// `FastExp` is implemented for `f32` and `f64` only: each has its own polynomial.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Converts an `f64` constant to any [`Float`], for constants in generic activation code
/// (`x * lit(0.2)`).
///
/// Returns NaN if the type cannot represent the value at all (never the case for `f32`/`f64`),
/// so it never panics.
///
/// # Examples
/// ```
/// use typed_nn::math::lit;
/// assert_eq!(lit::<f32>(0.5), 0.5f32);
/// ```
#[inline(always)]
pub fn lit<T: Float>(x: f64) -> T {
    T::from(x).unwrap_or_else(T::nan)
}

/// Which of the two polynomials serves `T`: `f32`-like (4 bytes, `f32`'s epsilon), `f64`-like,
/// or neither (any other [`Float`], which then uses [`Float::exp`]). After monomorphisation
/// this is a constant, and the conversions of the chosen branch are identities.
#[inline(always)]
fn float_kind<T: Float>() -> u8 {
    if core::mem::size_of::<T>() == 4 && T::epsilon().to_f32() == Some(f32::EPSILON) {
        4
    } else if core::mem::size_of::<T>() == 8 && T::epsilon().to_f64() == Some(f64::EPSILON) {
        8
    } else {
        0
    }
}

/// `eˣ` for any [`Float`], as a branch-free polynomial that vectorises: the [`FastExp`]
/// polynomial for `f32` and `f64` (within 2 and 3 ulps of a correctly rounded `exp`; results
/// below 1.7·10⁻³⁸ for `f32`, or subnormal for `f64`, are 0), [`Float::exp`] for any other
/// float type.
///
/// Use it in your own activation's [`f`](crate::Activation::f) and
/// [`df`](crate::Activation::df) instead of `x.exp()`, so the layer's loop becomes vector
/// code (see the [module docs](self)).
///
/// # Examples
/// ```
/// use typed_nn::math::exp;
/// assert!((exp(1.0f32) - core::f32::consts::E).abs() <= 2.0 * f32::EPSILON * core::f32::consts::E);
/// assert_eq!(exp(-1000.0f64), 0.0);
/// assert_eq!(exp(f32::INFINITY), f32::INFINITY);
/// ```
#[inline(always)]
pub fn exp<T: Float>(x: T) -> T {
    match float_kind::<T>() {
        4 => match x.to_f32().and_then(|v| T::from(v.fast_exp())) {
            Some(y) => y,
            None => x.exp(),
        },
        8 => match x.to_f64().and_then(|v| T::from(v.fast_exp())) {
            Some(y) => y,
            None => x.exp(),
        },
        _ => x.exp(),
    }
}

/// The logistic sigmoid `1/(1 + e^{−x})` for any [`Float`], with the vectorising [`exp`]:
/// what the built-in [`Sigmoid`](crate::activation::Sigmoid) and
/// [`Swish`](crate::activation::Swish) compute, for your own activations.
///
/// Saturates cleanly: 0 for `x` below about −87 (`f32`), 1 for large `x`, NaN for NaN.
///
/// # Examples
/// ```
/// use typed_nn::math::sigmoid;
/// assert_eq!(sigmoid(0.0f32), 0.5);
/// assert!((sigmoid(2.0f64) - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-15);
/// assert_eq!((sigmoid(-200.0f32), sigmoid(200.0f32)), (0.0, 1.0));
/// ```
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_sigmoid_use_the_polynomial_for_f32_and_f64() {
        // The polynomial and libm differ in the last bits somewhere in this range; equal bits
        // everywhere to `fast_exp` show that the generic function took the polynomial.
        for i in 0..2000 {
            let x = i as f32 * 0.05 - 50.0;
            assert_eq!(exp(x).to_bits(), x.fast_exp().to_bits(), "f32 at {x}");
            let x = f64::from(x) * 1.1;
            assert_eq!(exp(x).to_bits(), x.fast_exp().to_bits(), "f64 at {x}");
            assert_eq!(sigmoid(x).to_bits(), (1.0 / (1.0 + (-x).fast_exp())).to_bits());
        }
        assert!((0..2000).any(|i| {
            let x = i as f32 * 0.05 - 50.0;
            x.fast_exp() != x.exp()
        }));
    }

    #[test]
    fn sigmoid_is_within_a_few_ulps_of_the_libm_formula_and_saturates() {
        for i in 0..4001 {
            let x = i as f64 * 0.01 - 20.0;
            let want = 1.0 / (1.0 + (-x).exp());
            assert!((sigmoid(x) - want).abs() <= 4.0 * f64::EPSILON * want, "f64 at {x}");
            let x = x as f32;
            let want = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(sigmoid(x)) - want).abs() <= 4.0 * f64::from(f32::EPSILON) * want, "f32 at {x}");
        }
        assert_eq!((sigmoid(-1e4f32), sigmoid(1e4f32)), (0.0, 1.0));
        assert!(sigmoid(f32::NAN).is_nan());
    }
}
