//! Tensors whose sizes are part of their type: [`Vector<N>`], [`Image<H, W, C>`] and the
//! output of a `Flatten`, [`Flat<H, W, C>`].
//!
//! *Users only ever see const-generic sizes here.* Sizes the library has to compute (the side
//! of a convolution's output, say) are computed with `typenum` inside this module and turned
//! back into plain numbers, so a type in an error message reads `Image<26, 26, 32>`.

mod bridge;
mod flat;
pub mod float;
#[cfg(feature = "generic-array")]
mod generic_array;
mod image;
mod message;
mod padding;
pub mod rules;
mod vector;

pub use flat::Flat;
pub use image::Image;
pub use padding::{Padding, Same, Valid};
pub use vector::Vector;

use core::fmt::Debug;

use crate::Scalar;

/// A fixed-size tensor of scalars: the values that flow between layers.
///
/// Implemented by [`Vector`], [`Image`] and [`Flat`] (sealed): each is a `#[repr(transparent)]`
/// wrapper around nested arrays, so a tensor is exactly [`LEN`](Tensor::LEN) scalars in
/// row-major order (channels-last for images, as Keras stores them), and a slice of tensors is
/// one contiguous block the batched kernels can hand to a GEMM.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let v: Vector<3> = Vector::from([1.0, 2.0, 3.0]);
/// assert_eq!(<Vector<3> as Tensor>::SHAPE, &[3]);
/// assert_eq!(v.as_slice(), &[1.0, 2.0, 3.0]);
/// let img: Image<2, 2, 1> = Image::default();
/// assert_eq!(<Image<2, 2, 1> as Tensor>::LEN, 4);
/// # let _ = img;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tensor: layers take a `Vector`, an `Image` or a `Flat`",
    label = "not a tensor",
    note = "wrap plain arrays (`Vector::from([..])`, `Image::from([[[..]]])`); pass a boxed tensor as `&*boxed`"
)]
pub trait Tensor: Clone + Debug + Default + PartialEq + Send + Sync + 'static + crate::kernel::FlatLayout {
    /// The scalar type of the elements (`f32` or `f64`).
    type Elem: Scalar;
    /// Number of scalars.
    const LEN: usize;
    /// The shape as Keras prints it, without the batch axis: `[N]` or `[H, W, C]`.
    const SHAPE: &'static [usize];

    /// All elements in memory order (channels-last for images).
    fn as_slice(&self) -> &[Self::Elem];

    /// All elements in memory order, mutable.
    fn as_mut_slice(&mut self) -> &mut [Self::Elem];

    /// A tensor with a copy of `values`, or `None` if `values.len() != LEN`.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// assert_eq!(Vector::<2>::from_slice(&[1.0, 2.0]), Some(Vector::from([1.0, 2.0])));
    /// assert_eq!(Vector::<2>::from_slice(&[1.0]), None);
    /// ```
    fn from_slice(values: &[Self::Elem]) -> Option<Self> {
        if values.len() != Self::LEN {
            return None;
        }
        let mut t = Self::default();
        t.as_mut_slice().copy_from_slice(values);
        Some(t)
    }
}
