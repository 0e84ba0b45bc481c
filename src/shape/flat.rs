//! [`Flat<H, W, C>`]: an image seen as one long vector, the output of `Flatten`.

use super::{Image, Tensor, Vector};
use crate::Scalar;

/// The `H·W·C` values of an [`Image<H, W, C>`] as one vector, in Keras' flatten order
/// (row-major, channels-last: index `(i·W + j)·C + c`).
///
/// It is what `Flatten` produces. It keeps `H`, `W` and `C` in its type because stable Rust
/// cannot write `Vector<{H * W * C}>` for generic sizes; a `Dense<IN, _, _>` accepts it and
/// checks `IN == H·W·C` when the program is built (see the crate docs' table of shape rules).
/// Converting is free: the memory is the image's.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 2, 2> = Image::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
/// let flat: Flat<2, 2, 2> = Flat::from(img);
/// assert_eq!(flat.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
/// let v: Vector<8> = flat.to_vector();
/// assert_eq!(v[7], 8.0);
/// ```
///
/// # Allocation
/// None; same bytes as the image.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Flat<const H: usize, const W: usize, const C: usize, T = f32>(Image<H, W, C, T>);

impl<const H: usize, const W: usize, const C: usize, T> Flat<H, W, C, T> {
    /// The number of values, `H·W·C`.
    pub const LEN: usize = H * W * C;

    /// The image these values came from.
    #[inline(always)]
    pub const fn as_image(&self) -> &Image<H, W, C, T> {
        &self.0
    }

    /// Unwraps the image.
    #[inline(always)]
    pub fn into_image(self) -> Image<H, W, C, T> {
        self.0
    }

    /// All `H·W·C` values.
    #[inline(always)]
    pub const fn as_slice(&self) -> &[T] {
        self.0.as_slice()
    }
}

impl<const H: usize, const W: usize, const C: usize, T: Scalar> Flat<H, W, C, T> {
    /// Copies the values into a `Vector<N>`.
    ///
    /// `N` must equal `H·W·C`; that is checked when the program is built (a const assertion
    /// naming this function and the sizes), so a wrong `N` never reaches run time.
    pub fn to_vector<const N: usize>(&self) -> Vector<N, T> {
        let () = SameLength::<N, H, W, C>::OK;
        let mut v = Vector::<N, T>::default();
        for (dst, src) in v.as_mut_array().iter_mut().zip(self.as_slice()) {
            *dst = *src;
        }
        v
    }
}

/// Build-time check that `N == H·W·C`.
struct SameLength<const N: usize, const H: usize, const W: usize, const C: usize>;
impl<const N: usize, const H: usize, const W: usize, const C: usize> SameLength<N, H, W, C> {
    const OK: () = assert!(N == H * W * C, "Flat::to_vector::<N>: N must equal H·W·C");
}

impl<const H: usize, const W: usize, const C: usize, T: Copy + Default> Default for Flat<H, W, C, T> {
    /// All zeros.
    fn default() -> Self {
        Self(Image::default())
    }
}

impl<const H: usize, const W: usize, const C: usize, T> From<Image<H, W, C, T>> for Flat<H, W, C, T> {
    #[inline(always)]
    fn from(image: Image<H, W, C, T>) -> Self {
        Self(image)
    }
}

impl<const H: usize, const W: usize, const C: usize, T: Scalar> Tensor for Flat<H, W, C, T> {
    type Elem = T;
    const LEN: usize = H * W * C;
    const SHAPE: &'static [usize] = &[H * W * C];

    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        self.0.as_slice()
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self.0.as_mut_slice()
    }
}
