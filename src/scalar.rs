//! The float types a model can be built over: `f32` (the default) and `f64`.
//!
//! Every layer has a trailing float parameter (`Dense<784, 64, Relu, f64>`) bounded by
//! [`Scalar`]. Activations are written against the more general [`num_traits::Float`], so a
//! user's activation does not need to know about this trait at all.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use num_traits::Float;

/// A float type a model can be built over: implemented for `f32` and `f64` only.
///
/// It is [`Float`] plus what the kernels need (assignment operators, formatting, a
/// little-endian byte form, and a vectorisable `eˣ`, [`FastExp`](crate::math::FastExp)). It
/// is sealed: the kernels are specialised per type (the batched path calls `matrixmultiply`'s
/// `sgemm` or `dgemm`).
///
/// # Examples
/// ```
/// use typed_nn::Scalar;
/// fn mean<T: Scalar>(xs: &[T]) -> T {
///     xs.iter().copied().sum::<T>() / T::lit(xs.len() as f64)
/// }
/// assert_eq!(mean(&[1.0f32, 2.0, 6.0]), 3.0);
/// ```
pub trait Scalar:
    Float
    + Default
    + Debug
    + Display
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
    + crate::math::FastExp
    + sealed::Sealed
{
    /// Size of one value in bytes (4 or 8).
    const BYTES: usize;
    /// The dtype name used by NumPy and safetensors (`"F32"`, `"F64"`).
    const DTYPE: &'static str;

    /// Converts an `f64` literal; exact for `f64`, rounded to nearest for `f32`.
    ///
    /// Never panics (the conversion cannot fail for these two types).
    fn lit(x: f64) -> Self;

    /// Widens to `f64` (exact for both types).
    fn to_f64_lossless(self) -> f64;

    /// Writes the little-endian bytes into the first `BYTES` of `out` (fewer if it is short).
    fn write_le(self, out: &mut [u8]);

    /// Reads a value from the first `BYTES` little-endian bytes of `bytes` (missing bytes read
    /// as zero).
    fn read_le(bytes: &[u8]) -> Self;
}

mod sealed {
    /// `Scalar` is implemented for `f32` and `f64` only.
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl Scalar for f32 {
    const BYTES: usize = 4;
    const DTYPE: &'static str = "F32";

    #[inline(always)]
    fn lit(x: f64) -> Self {
        x as f32
    }

    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        f64::from(self)
    }

    #[inline]
    fn write_le(self, out: &mut [u8]) {
        for (d, s) in out.iter_mut().zip(self.to_le_bytes()) {
            *d = s;
        }
    }

    #[inline]
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(bytes) {
            *d = *s;
        }
        f32::from_le_bytes(b)
    }
}

impl Scalar for f64 {
    const BYTES: usize = 8;
    const DTYPE: &'static str = "F64";

    #[inline(always)]
    fn lit(x: f64) -> Self {
        x
    }

    #[inline(always)]
    fn to_f64_lossless(self) -> f64 {
        self
    }

    #[inline]
    fn write_le(self, out: &mut [u8]) {
        for (d, s) in out.iter_mut().zip(self.to_le_bytes()) {
            *d = s;
        }
    }

    #[inline]
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(bytes) {
            *d = *s;
        }
        f64::from_le_bytes(b)
    }
}
