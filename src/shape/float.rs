//! The float-type rule: a layer computes in one float type (`f32` unless its last parameter
//! says `f64`), and its input must hold the same one.
//!
//! `Dense` and `Conv2D` check it before their shape rule: their `Layer` impls ask for
//! `X: FloatIs<T, Checked = X>` and then state the shape rule on [`FloatIs::Checked`]. The
//! compiler can only look at the shape rule once it knows `Checked`, that is once the float
//! types agree, so a model mixing `f32` and `f64` gets one error that says so, not a confusing
//! size mismatch between two `Vector<4>`s of different floats. (`Checked = X` lets the layer use
//! `X` as the tensor its shape rule proves it to be.)
//!
//! A `Box` of a tensor passes this rule on purpose: it is not a float-type mistake, and the
//! shape rule after it names it ("a boxed image is passed as `&*boxed`",
//! `tests/ui/input_must_not_be_boxed.rs`).

use super::{Flat, Image, Vector};

/// A tensor whose elements are `T` (or a boxed tensor, which the shape rule then rejects).
#[diagnostic::on_unimplemented(
    message = "float types differ: this layer computes in `{T}`, but it is given `{Self}`",
    label = "expected a tensor of `{T}`",
    note = "every layer of a model and the model's input use the same float type: `f32` by default, or write `f64` as every layer's last parameter (`Dense<4, 2, Softmax, f64>`) and feed `Vector<4, f64>`"
)]
pub trait FloatIs<T> {
    /// `Self`, in every impl. Layers state their shape rule on this type rather than on `Self`,
    /// so that the rule is checked only after the float types agree.
    type Checked;
}

// One impl per tensor type, with the element type in the impl header, so that a mismatch
// fails at once.
impl<const N: usize, T: crate::Scalar> FloatIs<T> for Vector<N, T> {
    type Checked = Self;
}
impl<const H: usize, const W: usize, const C: usize, T: crate::Scalar> FloatIs<T> for Image<H, W, C, T> {
    type Checked = Self;
}
impl<const H: usize, const W: usize, const C: usize, T: crate::Scalar> FloatIs<T> for Flat<H, W, C, T> {
    type Checked = Self;
}

/// Not a float-type mistake: the box goes on to the shape rule, whose message says to pass
/// `&*boxed`. (Without this impl a boxed input would be reported as "float types differ".)
#[cfg(feature = "alloc")]
impl<X: super::Tensor, T> FloatIs<T> for alloc::boxed::Box<X> {
    type Checked = alloc::boxed::Box<X>;
}
