//! [`Image<H, W, C>`]: a channels-last 3-D tensor, the input and output of convolutions and
//! pooling.

use super::Tensor;
use crate::Scalar;

/// An `H × W` image with `C` channels, stored channels-last (`[[[T; C]; W]; H]`), which is
/// Keras' default layout: the element at row `i`, column `j`, channel `c` sits at flat index
/// `(i·W + j)·C + c`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 3, 1> = [[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]].into();
/// assert_eq!(img.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(img.get(1, 2, 0), Some(&6.0));
/// assert_eq!(img.pixel(0, 1), Some(&[2.0]));
/// ```
///
/// # Allocation
/// None: `H · W · C · size_of::<T>()` bytes inline. A 28×28×32 `f32` image is 98 KiB; keep
/// big ones off small stacks (`Box`, or batched buffers).
///
/// Generic parameters:
/// - `H`, `W`: height and width in pixels;
/// - `C`: channels (1 for grey, 3 for RGB, the filter count after a `Conv2D`);
/// - `T`: the scalar type, `f32` by default.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Image<const H: usize, const W: usize, const C: usize, T = f32>([[[T; C]; W]; H]);

impl<const H: usize, const W: usize, const C: usize, T> Image<H, W, C, T> {
    /// Wraps nested arrays (rows, then columns, then channels); usable in `const` items.
    #[inline(always)]
    pub const fn new(pixels: [[[T; C]; W]; H]) -> Self {
        Self(pixels)
    }

    /// The pixels as nested arrays.
    #[inline(always)]
    pub const fn as_array(&self) -> &[[[T; C]; W]; H] {
        &self.0
    }

    /// The pixels as mutable nested arrays.
    #[inline(always)]
    pub const fn as_mut_array(&mut self) -> &mut [[[T; C]; W]; H] {
        &mut self.0
    }

    /// All `H·W·C` values in row-major, channels-last order.
    #[inline(always)]
    pub const fn as_slice(&self) -> &[T] {
        self.0.as_flattened().as_flattened()
    }

    /// The channels of pixel `(row, col)`, or `None` outside the image.
    #[inline]
    pub fn pixel(&self, row: usize, col: usize) -> Option<&[T; C]> {
        self.0.get(row).and_then(|r| r.get(col))
    }

    /// The value at `(row, col, channel)`, or `None` outside the image.
    #[inline]
    pub fn get(&self, row: usize, col: usize, channel: usize) -> Option<&T> {
        self.pixel(row, col).and_then(|p| p.get(channel))
    }
}

impl<const H: usize, const W: usize, const C: usize, T: Copy + Default> Default for Image<H, W, C, T> {
    /// All zeros.
    #[inline]
    fn default() -> Self {
        Self([[[T::default(); C]; W]; H])
    }
}

impl<const H: usize, const W: usize, const C: usize, T> From<[[[T; C]; W]; H]> for Image<H, W, C, T> {
    #[inline(always)]
    fn from(pixels: [[[T; C]; W]; H]) -> Self {
        Self(pixels)
    }
}

impl<const H: usize, const W: usize, const C: usize, T: Scalar> Tensor for Image<H, W, C, T> {
    type Elem = T;
    const LEN: usize = H * W * C;
    const SHAPE: &'static [usize] = &[H, W, C];

    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        self.0.as_flattened().as_flattened()
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        self.0.as_flattened_mut().as_flattened_mut()
    }
}
