//! [`Flatten`]: an image as one vector, in Keras' order.

use crate::layer::Seal;
use crate::shape::rules::ImageInput;
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// Flattens an `Image<H, W, C>` into its `H·W·C` values, row-major and channels-last (flat
/// index `(i·W + j)·C + c`), exactly as Keras flattens NHWC tensors.
///
/// The output is a [`Flat<H, W, C>`](crate::Flat), which a `Dense<IN, ..>` accepts when
/// `IN == H·W·C`; that equality is the one shape rule stable Rust checks only when the
/// program is built, not in `cargo check` (see the crate docs).
///
/// **Keras equivalent:** `keras.layers.Flatten()`. PyTorch's `nn.Flatten` on NCHW tensors
/// uses the order `(c·H + i)·W + j` instead.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<1, 2, 2> = [[[1.0, 2.0], [3.0, 4.0]]].into();
/// let flat: Flat<1, 2, 2> = Flatten.forward(&img);
/// assert_eq!(flat.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
/// ```
///
/// # Allocation
/// None; no parameters. Flattening is a copy of the image's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flatten;

impl<T: Scalar> Params<T> for Flatten {
    fn describe_params(walk: &mut crate::params::ParamWalk, _visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        walk.end_flatten();
    }
}

crate::layer::pool::no_bytes!(Flatten);

impl<X: ImageInput> Layer<X> for Flatten {
    type Out = X::Flat;
    const NAME: &'static str = "Flatten";

    #[inline]
    fn forward(&self, x: &X) -> X::Flat {
        let mut out = X::Flat::default();
        out.as_mut_slice().copy_from_slice(x.as_slice());
        out
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X::Flat) {
        out.as_mut_slice().copy_from_slice(x.as_slice());
    }

    /// A batch of flattened images is the batch of images, value for value: the next layer
    /// reads this layer's input in place, and the copy is skipped (2.7 MB per batch of 128
    /// for seed model 2).
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn forward_batch_flat_then<Y: Tensor, N: Layer<Y>>(
        &self,
        _: Seal,
        next: &N,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        next_ys: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) -> bool {
        use crate::kernel::cast::{same_scalar, same_scalar_mut};
        if Y::LEN == X::LEN
            && let (Some(xs), Some(next_ys)) = (same_scalar(xs), same_scalar_mut(&mut *next_ys))
            && let Some(scratch) = same_scalar_mut(&mut *scratch)
        {
            next.forward_batch_flat(Seal, n, xs, next_ys, scratch);
            return true;
        }
        <Self as Layer<X>>::forward_batch_flat(self, Seal, n, xs, ys, scratch);
        false
    }

    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], _scratch: &mut [X::Elem]) {
        let len = n.saturating_mul(X::LEN);
        if let (Some(ys), Some(xs)) = (ys.get_mut(..len), xs.get(..len)) {
            ys.copy_from_slice(xs);
        }
    }
}

/// The gradient of a reshape is the same reshape: `dx` holds `dy`'s values.
impl<X: ImageInput> Backward<X> for Flatten {
    type Cache = ();

    fn chunkable(_: Seal) -> bool {
        true
    }

    fn forward_train(&self, x: &X) -> (X::Flat, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, _x: &X, _cache: &(), dy: &X::Flat, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            dx.as_mut_slice().copy_from_slice(dy.as_slice());
        }
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

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        _xs: &[X::Elem],
        _ys: &[X::Elem],
        _cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let len = n.saturating_mul(X::LEN);
        if let (Some(dxs), Some(dys)) = (dxs.and_then(|d| d.get_mut(..len)), dys.get(..len)) {
            dxs.copy_from_slice(dys);
        }
    }
}
