//! [`ActivationLayer`]: an activation as a layer of its own, Keras' `Activation("relu")` and
//! `ReLU(6.)`.
//!
//! Most models give the activation to the `Dense` or `Conv2D` before it (`Dense<64, 10,
//! Relu>`), where it is applied while the output is still in registers. Keras models written
//! with the functional API often have a separate `Activation` layer instead: after a
//! `BatchNormalization` (`Conv2D → BatchNormalization → Activation("relu")`), or after the
//! `Add` of a residual block. This layer is that, so such a model is written layer for layer,
//! and its Keras weights load with the same layer numbering.
//!
//! Why not the name `Activation`: that is already the trait every activation implements
//! (`Relu: Activation`), and a type and a trait of one name cannot share a module. Keras'
//! `ReLU(max_value=6.)` layer is `ActivationLayer<Relu6>`.

use core::marker::PhantomData;

use crate::activation::{Activation, Fusion};
use crate::layer::{Seal, rows, rows_mut};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// The activation `A` applied to every value of its input, whatever its shape: `y = A(x)`.
/// Softmax-like activations are applied along the last axis (the channels of an image, as
/// Keras applies them).
///
/// **Keras equivalent:** `keras.layers.Activation("relu")`, and the activation layers
/// `keras.layers.ReLU()` (`ActivationLayer<Relu>`), `ReLU(6.)` (`ActivationLayer<Relu6>`),
/// `Softmax()`. `summary()` names it `Activation`, as Keras does the first form.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::ActivationLayer;
/// let relu6 = ActivationLayer::<Relu6>::new();
/// let img: Image<1, 2, 2> = [[[-1.0, 3.0], [7.0, 0.5]]].into();
/// let y: Image<1, 2, 2> = relu6.forward(&img);
/// assert_eq!(y.as_slice(), &[0.0, 3.0, 6.0, 0.5]);
/// // A softmax per pixel, over the channels.
/// let p: Image<1, 2, 2> = ActivationLayer::<Softmax>::new().forward(&img);
/// assert!((p.as_slice()[0] + p.as_slice()[1] - 1.0).abs() < 1e-6);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None; no parameters, zero-sized. `forward` returns a tensor of the input's type.
///
/// Generic parameters:
/// - `A`: the [`Activation`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "Activation")]
#[doc(alias = "ReLU")]
pub struct ActivationLayer<A>(PhantomData<A>);

impl<A> ActivationLayer<A> {
    /// The layer; `const`, for a `static`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }

    /// For [`model_from_le_bytes!`](crate::model_from_le_bytes): no parameters, so the layer,
    /// whatever the bytes.
    pub const fn from_le_bytes_at(_bytes: &[u8], _offset: usize) -> Self {
        Self::new()
    }
}

impl<A> crate::io::bytes::ConstLoad for ActivationLayer<A> {
    const BYTES: usize = 0;
}

impl<A, S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S> for ActivationLayer<A> {
    const DECODED: Self = Self::new();
}

impl<A, T: Scalar> Params<T> for ActivationLayer<A> {}

/// The length of the axis a non-element-wise activation is applied along: the last.
const fn last_axis<X: Tensor>() -> usize {
    match X::SHAPE.last() {
        Some(&n) => n,
        None => X::LEN,
    }
}

/// `A` applied to `v` in place, along rows of the last axis.
fn activate<A: Activation, T: Scalar>(v: &mut [T], axis: usize) {
    if A::ELEMENTWISE {
        A::apply_fast(v);
    } else {
        for row in v.chunks_mut(axis.max(1)) {
            A::apply_fast(row);
        }
    }
}

/// `dz = J(z)ᵀ·dy` along rows of the last axis.
fn backprop<A: Activation, T: Scalar>(z: &[T], y: &[T], dy: &[T], dz: &mut [T], axis: usize) {
    let axis = axis.max(1);
    let rows_iter = z.chunks(axis).zip(y.chunks(axis)).zip(dy.chunks(axis)).zip(dz.chunks_mut(axis));
    for (((z, y), dy), dz) in rows_iter {
        A::backprop(z, y, dy, dz);
    }
}

impl<X: Tensor, A: Activation> Layer<X> for ActivationLayer<A> {
    type Out = X;
    const NAME: &'static str = "Activation";

    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = x.clone();
        activate::<A, X::Elem>(y.as_mut_slice(), last_axis::<X>());
        y
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X) {
        out.as_mut_slice().copy_from_slice(x.as_slice());
        activate::<A, X::Elem>(out.as_mut_slice(), last_axis::<X>());
    }

    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], _scratch: &mut [X::Elem]) {
        let len = n.saturating_mul(X::LEN);
        let (Some(xs), Some(ys)) = (xs.get(..len), ys.get_mut(..len)) else { return };
        ys.copy_from_slice(xs);
        activate::<A, X::Elem>(ys, last_axis::<X>());
    }
}

/// `dx = A'(x) ⊙ dy` (or the activation's Jacobian-vector product along the last axis); the
/// output is recomputed from the input rather than kept, so the cache is empty. Last in a
/// model, a softmax or sigmoid layer fuses with the cross-entropy loss like a `Dense`'s.
impl<X: Tensor, A: Activation> Backward<X> for ActivationLayer<A> {
    type Cache = ();

    fn fusion(_: Seal) -> Fusion {
        A::fusion(Seal)
    }

    #[inline]
    fn forward_train(&self, x: &X) -> (X, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, x: &X, _cache: &(), dy: &X, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            let y = self.forward(x);
            backprop::<A, X::Elem>(x.as_slice(), y.as_slice(), dy.as_slice(), dx.as_mut_slice(), last_axis::<X>());
        }
    }

    /// `dz` is already the gradient of the activation's input.
    fn backward_logits(&self, _: Seal, _x: &X, _cache: &(), dz: &X, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            dx.as_mut_slice().copy_from_slice(dz.as_slice());
        }
    }

    fn train_scratch_len(_: Seal, _n: usize) -> usize {
        0
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        _cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        <Self as Layer<X>>::forward_batch_flat(self, Seal, n, xs, ys, scratch);
    }

    /// From the inputs (pre-activations) and the outputs the forward pass wrote, row by row.
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &[X::Elem],
        _cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let Some(dxs) = dxs else { return };
        let rows_iter = rows(xs, X::LEN, n).zip(rows(ys, X::LEN, n)).zip(rows(dys, X::LEN, n));
        for (((x, y), dy), dx) in rows_iter.zip(rows_mut(dxs, X::LEN, n)) {
            if logits {
                dx.copy_from_slice(dy);
            } else {
                backprop::<A, X::Elem>(x, y, dy, dx, last_axis::<X>());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::shape::{Image, Vector};

    #[test]
    fn an_activation_layer_equals_the_activation_inside_a_dense() {
        use crate::Dense;
        let dense: Dense<3, 4, Relu, f64> = Dense::new([[1.0, -1.0, 0.5, 0.0]; 3], [0.1, -0.2, 0.0, -5.0]);
        let linear: Dense<3, 4, crate::activation::Identity, f64> = Dense::new(dense.kernel, dense.bias);
        let x = Vector::from([0.3, -1.2, 2.0]);
        assert_eq!(ActivationLayer::<Relu>::new().forward(&linear.forward(&x)), dense.forward(&x));
    }

    #[test]
    fn softmax_is_applied_per_pixel_over_the_channels() {
        let img: Image<2, 1, 3, f64> = [[[1.0, 2.0, 3.0]], [[0.0, 0.0, 0.0]]].into();
        let y = ActivationLayer::<Softmax>::new().forward(&img);
        let s: f64 = (1.0f64.exp() + 2.0f64.exp() + 3.0f64.exp()).ln();
        let expected = [(1.0 - s).exp(), (2.0 - s).exp(), (3.0 - s).exp(), 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
        for (a, b) in y.as_slice().iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
