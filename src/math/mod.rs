//! Building blocks for activations: an `eˣ` that vectorises ([`FastExp`]) and float constants
//! in generic code ([`lit`]).
//!
//! The built-in activations whose formula needs `eˣ` (sigmoid, swish, softmax, exponential)
//! evaluate it with [`FastExp`] in the layers' loops: a branch-free polynomial instead of a
//! libm call, so the loop over a layer's outputs compiles to vector instructions. It is public
//! so that your own activation can do the same in its
//! [`apply_fast`](crate::Activation::apply_fast).
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::math::{FastExp, lit};
//!
//! /// The logistic function with a steeper slope, `1/(1 + e^{−2x})`.
//! #[derive(Clone, Copy, Debug, Default)]
//! struct Steep;
//! impl Activation for Steep {
//!     fn f<T: Float>(x: T) -> T {
//!         T::one() / (T::one() + (-x * lit(2.0)).exp())
//!     }
//!     fn df<T: Float>(x: T) -> T {
//!         let s = Self::f(x);
//!         lit::<T>(2.0) * s * (T::one() - s)
//!     }
//!     // The layers call this one: the same function with the vectorisable exp.
//!     fn apply_fast<T: Scalar>(v: &mut [T]) {
//!         for x in v {
//!             *x = T::one() / (T::one() + (-*x * T::lit(2.0)).fast_exp());
//!         }
//!     }
//! }
//! let layer: Dense<1, 1, Steep> = Dense::new([[1.0]], [0.0]);
//! let y: Vector<1> = layer.forward(&Vector::from([0.5]));
//! assert!((y[0] - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
//! ```

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
}

impl FastExp for f32 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f32_with::<FMA>(self)
    }
}

impl FastExp for f64 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f64_with::<FMA>(self)
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
