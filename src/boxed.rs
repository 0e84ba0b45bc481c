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
//!
//! # Your own layers
//! Allocating zeroed memory is only sound when all-zero bytes are a valid value of every
//! layer. The built-in layers promise that; your layer promises it by implementing
//! [`bytemuck::Zeroable`], which its derive does safely for a struct of floats and arrays of
//! them (add `bytemuck = { version = "1", features = ["derive"] }` to your `Cargo.toml`):
//!
//! ```
//! use typed_nn::prelude::*;
//!
//! /// One learned factor per input, starting at 1.
//! #[derive(Clone, Debug, bytemuck::Zeroable)]
//! struct Scale<const N: usize> {
//!     gamma: [f32; N],
//! }
//! impl<const N: usize> Params<f32> for Scale<N> {
//!     const PARAMS: usize = N;
//!     fn params(&self) -> impl Iterator<Item = &[f32]> { core::iter::once(&self.gamma[..]) }
//!     fn params_mut(&mut self) -> impl Iterator<Item = &mut [f32]> { core::iter::once(&mut self.gamma[..]) }
//!     fn init_params<R: Rng + ?Sized>(&mut self, _rng: &mut R) { self.gamma = [1.0; N]; }
//! }
//! impl<const N: usize> Layer<Vector<N>> for Scale<N> {
//!     type Out = Vector<N>;
//!     fn forward(&self, x: &Vector<N>) -> Vector<N> { Vector::from_fn(|i| self.gamma[i] * x[i]) }
//! }
//!
//! type Big = (Dense<4096, 4096, Relu>, Scale<4096>, Dense<4096, 10, Softmax>);
//! let zeroed: Box<Big> = Big::new_boxed();
//! assert_eq!(zeroed.1.gamma[0], 0.0); // all bytes zero: not `Default`, not initialised
//! let model: Box<Big> = Big::init_boxed(&mut SeedRng::seed(0));
//! assert_eq!(model.1.gamma[0], 1.0); // `init_params` of every layer ran
//! ```
//!
//! `NewBoxed` is implemented for every built-in layer and for every tuple of 1 to 12 layers
//! that are all `Zeroable` (nested tuples too, since bytemuck makes a tuple of up to 8
//! `Zeroable` elements `Zeroable`). A custom layer on its own, outside a tuple, is boxed with
//! `bytemuck::zeroed_box` (bytemuck's feature `extern_crate_alloc`) or as the one-layer model
//! `(MyLayer,)`.

use alloc::boxed::Box;

use bytemuck::Zeroable;
use rand_core::Rng;

use crate::kernel::heap::{zeroed_box, zeroed_tuple_box};
use crate::layer::BiasMode;
use crate::layer::Seal;
use crate::{AvgPool2D, Conv2D, Dense, DepthwiseConv2D, Flatten, GlobalAvgPool2D, MaxPool2D, Params, Scalar};

/// Models that can be created directly on the heap, zeroed: every built-in layer, and every
/// tuple of layers that are [`bytemuck::Zeroable`] (see the [module docs](self)).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be built zeroed on the heap",
    label = "`new_boxed`/`init_boxed` need every layer to be `bytemuck::Zeroable`",
    note = "derive `bytemuck::Zeroable` for your own layers; a custom layer on its own is boxed as the model `(MyLayer,)`"
)]
pub trait NewBoxed: Sized {
    /// The all-zero model, allocated directly on the heap.
    ///
    /// # Allocation
    /// One allocation of `size_of::<Self>()` bytes, zeroed by the allocator; no stack copy.
    fn new_boxed() -> Box<Self>;

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

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: BiasMode> NewBoxed for Dense<IN, OUT, A, T, B> {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> NewBoxed for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl<
    const C: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> NewBoxed for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl<const C: usize, T: Scalar> NewBoxed for crate::BatchNormalization<C, T> {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl<const PERMILLE: usize> NewBoxed for crate::Dropout<PERMILLE> {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl<A> NewBoxed for crate::ActivationLayer<A> {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

impl NewBoxed for crate::Skip {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

/// A residual block of `Zeroable` parts (each built-in layer is; so is a tuple of up to 8).
impl<F: Zeroable, S: Zeroable> NewBoxed for crate::Residual<F, S> {
    fn new_boxed() -> Box<Self> {
        zeroed_box()
    }
}

/// The parameterless layers: a zero-sized box.
macro_rules! new_boxed_unit {
    ($($Layer:ident $(<$($P:ident),+>)?),*) => {$(
        impl<$($(const $P: usize),+)?> NewBoxed for $Layer$(<$($P),+>)? {
            fn new_boxed() -> Box<Self> {
                zeroed_box()
            }
        }
    )*};
}
new_boxed_unit!(MaxPool2D<P, PW>, AvgPool2D<P, PW>, GlobalAvgPool2D, Flatten);

/// A tuple of `Zeroable` layers.
macro_rules! new_boxed_tuple {
    ($($L:ident),+) => {
        impl<$($L: Zeroable),+> NewBoxed for ($($L,)+) {
            fn new_boxed() -> Box<Self> {
                zeroed_tuple_box()
            }
        }
    };
}
new_boxed_tuple!(A);
new_boxed_tuple!(A, B);
new_boxed_tuple!(A, B, C);
new_boxed_tuple!(A, B, C, D);
new_boxed_tuple!(A, B, C, D, E);
new_boxed_tuple!(A, B, C, D, E, F);
new_boxed_tuple!(A, B, C, D, E, F, G);
new_boxed_tuple!(A, B, C, D, E, F, G, H);
new_boxed_tuple!(A, B, C, D, E, F, G, H, I);
new_boxed_tuple!(A, B, C, D, E, F, G, H, I, J);
new_boxed_tuple!(A, B, C, D, E, F, G, H, I, J, K);
new_boxed_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);

/// A boxed model is a model: big models live on the heap and train like any other.
impl<X: crate::Tensor, L: crate::Layer<X>> crate::Layer<X> for Box<L> {
    type Out = L::Out;
    const NAME: &'static str = L::NAME;
    const ACTIVATION_BYTES: usize = L::ACTIVATION_BYTES;
    const PEAK_ACTIVATION_BYTES: usize = L::PEAK_ACTIVATION_BYTES;
    const CHECK: () = L::CHECK;

    #[inline]
    fn forward(&self, x: &X) -> L::Out {
        let () = <Self as crate::Layer<X>>::CHECK;
        (**self).forward(x)
    }
    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut L::Out) {
        let () = <Self as crate::Layer<X>>::CHECK;
        (**self).forward_into(Seal, x, out);
    }
    fn batch_scratch_len(_: Seal, n: usize) -> usize {
        L::batch_scratch_len(Seal, n)
    }
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
        (**self).forward_batch_flat(Seal, n, xs, ys, scratch);
    }
    fn summary_rows(_: Seal, visit: &mut impl FnMut(crate::summary::SummaryRow)) {
        L::summary_rows(Seal, visit);
    }
}

impl<X: crate::Tensor, L: crate::Backward<X>> crate::Backward<X> for Box<L> {
    type Cache = L::Cache;
    fn fusion(_: crate::layer::Seal) -> crate::activation::Fusion {
        L::fusion(crate::layer::Seal)
    }
    fn chunkable(_: crate::layer::Seal) -> bool {
        L::chunkable(crate::layer::Seal)
    }

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
    fn backward_logits(&self, _: Seal, x: &X, cache: &L::Cache, dz: &L::Out, grad: &mut Self, dx: Option<&mut X>) {
        (**self).backward_logits(Seal, x, cache, dz, grad, dx);
    }
    fn train_cache_len(_: Seal, n: usize) -> usize {
        L::train_cache_len(Seal, n)
    }
    fn train_scratch_len(_: Seal, n: usize) -> usize {
        L::train_scratch_len(Seal, n)
    }
    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        (**self).forward_train_batch_flat(Seal, n, xs, ys, cache, scratch);
    }
    fn backward_batch_flat(
        &self,
        _: Seal,
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
        (**self).backward_batch_flat(Seal, n, xs, ys, cache, dys, grad, dxs, logits, scratch);
    }
}

impl<T: Scalar, L: Params<T>> Params<T> for Box<L> {
    const PARAMS: usize = L::PARAMS;
    const STATE: usize = L::STATE;
    fn params(&self) -> impl Iterator<Item = &[T]> {
        (**self).params()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        (**self).params_mut()
    }
    fn state(&self) -> impl Iterator<Item = &[T]> {
        (**self).state()
    }
    fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        (**self).state_mut()
    }
    fn describe_state(walk: &mut crate::params::ParamWalk, visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        L::describe_state(walk, visit);
    }
    fn visit_tensors(&self, _: Seal, visit: &mut impl FnMut(&[T])) {
        (**self).visit_tensors(Seal, visit);
    }
    fn visit_tensors_mut(&mut self, _: Seal, visit: &mut impl FnMut(&mut [T])) {
        (**self).visit_tensors_mut(Seal, visit);
    }
    fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
        L::image_runs(Seal, visit);
    }
    fn update_state(&mut self, _: Seal, grad: &Self) {
        (**self).update_state(Seal, &**grad);
    }
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        (**self).init_params(rng);
    }
    fn describe_params(walk: &mut crate::params::ParamWalk, visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        L::describe_params(walk, visit);
    }
    fn check_param_count(&self, _: Seal) -> Result<(), crate::params::ParamCountError> {
        (**self).check_param_count(Seal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::init::SeedRng;

    /// The longest model tuple, 12 elements (bytemuck alone stops at 8), one of them nested.
    type Twelve = (
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        (Dense<4, 4, Relu>, Dense<4, 4, Relu>),
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 4, Relu>,
        Dense<4, 3, Softmax>,
    );

    #[test]
    fn a_twelve_layer_model_is_built_zeroed_on_the_heap() {
        let zeroed: Box<Twelve> = Twelve::new_boxed();
        assert!(zeroed.params().all(|p| p.iter().all(|&w| w == 0.0)));
        let model: Box<Twelve> = Twelve::init_boxed(&mut SeedRng::seed(2));
        let mut reference = Twelve::default();
        reference.init_params(&mut SeedRng::seed(2));
        assert!(model.params().flatten().zip(reference.params().flatten()).all(|(a, b)| a == b));
        assert!(model.params().flatten().any(|&w| w != 0.0));
    }
}
