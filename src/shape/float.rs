//! The float-type rule: a layer computes in one float type (`f32` unless its last parameter
//! says `f64`), and its input must hold the same one.
//!
//! `Dense` and `Conv2D` check it before their shape rule: their `Layer` impls ask for
//! `X: FloatIs<T>` and then state the shape rule on [`FloatIs::Checked`] (which is `X`
//! itself). The compiler can only look at the shape rule once it knows `Checked`, that is once
//! the float types agree, so a model mixing `f32` and `f64` gets one error that says so, not a
//! confusing size mismatch between two `Vector<4>`s of different floats.

use super::{Flat, Image, Tensor, Vector};

/// A tensor whose elements are `T`.
#[diagnostic::on_unimplemented(
    message = "float types differ: this layer computes in `{T}`, but it is given `{Self}`",
    label = "expected a tensor of `{T}`",
    note = "every layer of a model and the model's input use the same float type: `f32` by default, or write `f64` as every layer's last parameter (`Dense<4, 2, Softmax, f64>`) and feed `Vector<4, f64>`"
)]
pub trait FloatIs<T>: Tensor<Elem = T> {
    /// `Self`. Layers state their shape rule on this type rather than on `Self`, so that the
    /// rule is checked only after the float types agree.
    type Checked: Tensor<Elem = T>;
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
