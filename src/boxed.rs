//! Heap constructors for models too big for the stack (feature `alloc`).
//!
//! `Dense<4096, 4096>` holds 64 MiB of weights; `Default::default()` would build it on the
//! stack first and overflow any normal thread. [`NewBoxed::new_boxed`] allocates the zeroed
//! model directly on the heap instead.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Big = (Dense<4096, 4096, Relu>, Dense<4096, 10, Softmax>);
//! let model: Box<Big> = Big::new_boxed();
//! let y: Vector<10> = model.forward(&Vector::from([1.0f32; 4096]));
//! assert!((y[0] - 0.1).abs() < 1e-6);
//! ```

use alloc::boxed::Box;

use rand_core::Rng;

use crate::kernel::heap::{Zeroable, boxed_zeroed};
use crate::{Params, Scalar};

/// Built-in layers and tuples of them can be created directly on the heap.
///
/// Implemented for every built-in layer and every tuple of them (the trait is sealed: the
/// zero bit pattern must be a valid value, which only this crate can promise).
pub trait NewBoxed: Sized + Zeroable {
    /// The all-zero model, allocated directly on the heap.
    ///
    /// # Allocation
    /// One allocation of `size_of::<Self>()` bytes, zeroed by the allocator; no stack copy.
    fn new_boxed() -> Box<Self> {
        boxed_zeroed()
    }

    /// A model with Keras' default initialisation, allocated directly on the heap.
    fn init_boxed<T: Scalar, R: Rng + ?Sized>(rng: &mut R) -> Box<Self>
    where
        Self: Params<T>,
    {
        let mut model = Self::new_boxed();
        model.init_params(rng);
        model
    }
}

impl<M: Zeroable> NewBoxed for M {}

/// A boxed model is a model: big models live on the heap and train like any other.
impl<X: crate::Tensor, L: crate::Layer<X>> crate::Layer<X> for Box<L> {
    type Out = L::Out;
    const NAME: &'static str = L::NAME;
    const ACTIVATION_BYTES: usize = L::ACTIVATION_BYTES;
    const CHECK: () = L::CHECK;

    #[inline]
    fn forward(&self, x: &X) -> L::Out {
        let () = <Self as crate::Layer<X>>::CHECK;
        (**self).forward(x)
    }
    fn batch_scratch_len(n: usize) -> usize {
        L::batch_scratch_len(n)
    }
    fn forward_batch_flat(&self, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
        (**self).forward_batch_flat(n, xs, ys, scratch);
    }
    fn summary_rows(visit: &mut impl FnMut(crate::summary::SummaryRow)) {
        L::summary_rows(visit);
    }
}

impl<X: crate::Tensor, L: crate::Backward<X>> crate::Backward<X> for Box<L> {
    type Cache = L::Cache;
    const FUSION: crate::activation::Fusion = L::FUSION;

    #[inline]
    fn forward_train(&self, x: &X) -> (L::Out, L::Cache) {
        let () = <Self as crate::Layer<X>>::CHECK;
        (**self).forward_train(x)
    }
    #[inline]
    fn backward(&self, x: &X, cache: &L::Cache, dy: &L::Out, grad: &mut Self, dx: Option<&mut X>) {
        (**self).backward(x, cache, dy, grad, dx);
    }
    #[inline]
    fn backward_logits(&self, x: &X, cache: &L::Cache, dz: &L::Out, grad: &mut Self, dx: Option<&mut X>) {
        (**self).backward_logits(x, cache, dz, grad, dx);
    }
    fn train_cache_len(n: usize) -> usize {
        L::train_cache_len(n)
    }
    fn train_scratch_len(n: usize) -> usize {
        L::train_scratch_len(n)
    }
    fn forward_train_batch_flat(
        &self,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        (**self).forward_train_batch_flat(n, xs, ys, cache, scratch);
    }
    fn backward_batch_flat(
        &self,
        n: usize,
        xs: &[X::Elem],
        ys: &[X::Elem],
        cache: &[X::Elem],
        dys: &[X::Elem],
        grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        logits: bool,
        scratch: &mut [X::Elem],
    ) {
        (**self).backward_batch_flat(n, xs, ys, cache, dys, grad, dxs, logits, scratch);
    }
}

impl<T: Scalar, L: Params<T>> Params<T> for Box<L> {
    const PARAMS: usize = L::PARAMS;
    fn params(&self) -> impl Iterator<Item = &[T]> {
        (**self).params()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        (**self).params_mut()
    }
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        (**self).init_params(rng);
    }
    fn describe_params(walk: &mut crate::params::ParamWalk, visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        L::describe_params(walk, visit);
    }
}
