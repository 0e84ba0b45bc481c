//! The [`Layer`] and [`Backward`] traits and the built-in layers.
//!
//! A layer maps one tensor type to another. The input type is a parameter of the trait, so the
//! compiler knows, for every layer in a model, exactly what goes in and what comes out.
//!
//! # Models are tuples of layers
//! `(A, B, C)` implements [`Layer<X>`] exactly when `A: Layer<X>`, `B` takes `A`'s output and
//! `C` takes `B`'s, so a miswired model is a type error naming the layer that does not fit,
//! found by `cargo check` before anything runs. Tuples of 1 to 12 layers are models; nest
//! tuples for more (`((A, B), C)` is a model too). The [guide's chapter
//! 3](crate::guide::ch03_tuples_as_models) shows how the impls are written.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let y: Vector<10> = model.forward(&Vector::from([0.5f32; 784]));
//! assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
//! assert_eq!(Mlp::PARAMS, 50_890);
//! ```
//!
//! # The user surface and the library's hooks
//! What a custom layer implements is exactly what the guide explains: [`Layer::forward`]
//! (with [`Out`](Layer::Out) and optionally [`NAME`](Layer::NAME)),
//! [`Backward::forward_train`] and [`Backward::backward`] (with [`Cache`](Backward::Cache)),
//! and [`Params`]. The built-in layers also carry hooks only the library uses: a single-sample
//! forward that writes its output in place (what a tuple runs its layers through), batched
//! kernels on flat buffers (one GEMM per `Dense` and direction, im2col or a direct kernel per
//! `Conv2D`), their rows of `summary()`, and the loss fusion after a softmax. Those hooks are
//! hidden trait items sealed with a token type from a private module (see `src/seal.rs`), so a
//! custom layer can neither override nor call them and inherits their per-sample defaults.
//!
//! Why trait items, and not a separate kernel trait? Stable Rust has no specialization. A
//! kernel trait with a blanket impl for every layer (needed so that custom layers work
//! unchanged in `forward_batch` and the `Trainer`) would leave `Dense` no way to provide its
//! own GEMM kernel. The other stable design, one hidden method per trait returning an
//! `impl Kernel` value, would add a kernel type per layer and a kernel tuple per model arity
//! for the same code, and `summary()` rows or the fusion tag are not kernels. With sealed
//! items each layer's batched kernel stays in that layer's file, next to its `forward` and
//! `backward`, where a reader looking for max pooling's batched backward finds it.

pub mod activation;
pub mod batch_norm;
pub mod bias;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod dropout;
pub mod flatten;
pub mod pool;
pub mod residual;

pub use activation::ActivationLayer;
pub use batch_norm::BatchNormalization;
pub use bias::{Bias, BiasMode, NoBias};
pub use conv::{Conv2D, Conv2DRect, ConvCache, Padding, Same, Valid};
pub use dense::{Dense, DenseCache};
pub use depthwise::{DepthwiseConv2D, DepthwiseConv2DRect};
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use pool::{AvgPool2D, GlobalAvgPool2D, MaxPool2D};
pub use residual::{Residual, Skip};

use crate::activation::Fusion;
use crate::summary::SummaryRow;
use crate::{Params, Tensor};

pub(crate) use crate::seal::Seal;

/// A layer that maps an input tensor `In` to an output tensor [`Out`](Layer::Out).
///
/// Implemented by every built-in layer and by tuples of layers (sequential models). The
/// forward pass takes `&self` and returns a value: no heap, no hidden state, no panics.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let layer: Dense<2, 1> = Dense::new([[2.0], [3.0]], [1.0]);
/// let y: Vector<1> = layer.forward(&Vector::from([1.0, 1.0]));
/// assert_eq!(y[0], 6.0);
/// ```
///
/// # Implementing it for your own layer
/// Implement [`forward`](Layer::forward) (and name the output type [`Out`](Layer::Out)),
/// optionally [`NAME`](Layer::NAME) for `summary()`, and [`Params`] (one empty `impl` if the
/// layer has none). That is all: your layer then works in tuples, in
/// [`forward_batch`](crate::ForwardBatch::forward_batch) (one sample at a time) and everywhere
/// else a built-in layer does. The [guide's chapter 6](crate::guide::ch06_gradient_checks)
/// walks through one.
///
/// The built-in layers also have hidden, sealed hooks (a forward into a given output, batched
/// kernels, `summary()` rows, the loss fusion); the [module docs](self) say why they are hidden and not a separate trait.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{In}` as its input",
    label = "this layer does not accept `{In}`",
    note = "each layer of a model must take exactly what the previous layer produces"
)]
pub trait Layer<In: Tensor>: Params<In::Elem> {
    /// The tensor this layer produces from an `In`.
    type Out: Tensor<Elem = In::Elem>;

    /// The class name `summary()` shows, as Keras spells it (`"Dense"`, `"MaxPooling2D"`).
    const NAME: &'static str = "Layer";

    /// Bytes of every activation a single-sample [`forward`](Layer::forward) produces: the
    /// layer's output; for a tuple, the sum of its layers' (for a [`Residual`]
    /// block, both branches' and the sum's). An upper bound that no forward pass reaches, since
    /// a layer's output dies once the next layer has read it: see
    /// [`PEAK_ACTIVATION_BYTES`](Layer::PEAK_ACTIVATION_BYTES) for the bytes alive at once.
    const ACTIVATION_BYTES: usize = <Self::Out as Tensor>::LEN * <In::Elem as crate::Scalar>::BYTES;

    /// Bytes of activations alive at once at the worst moment of a single-sample
    /// [`forward`](Layer::forward), not counting its input: for a layer, its output; for a
    /// tuple, the largest of (the output of layer `k − 1` + the peak of layer `k`), since a
    /// tuple's forward keeps each layer's input and output alive and nothing older; for a
    /// [`Residual`] block, the larger of the branch's peak and (the
    /// branch's output + the shortcut's peak), the identity shortcut being a copy of the input.
    ///
    /// A nested tuple counts its caller's live input on top of its own pairs, so
    /// `(A, (B, C))` can peak higher than `(A, B, C)`. The real stack adds what the layers' kernels
    /// use and what the optimiser does not reuse; the README's firmware section puts the two side
    /// by side. Known at compile time, with [`Params::PARAM_BYTES`], for sizing RAM.
    const PEAK_ACTIVATION_BYTES: usize = Self::ACTIVATION_BYTES;

    /// `()` when the shape rules that only a build can check hold for this layer (or model) on
    /// `In`; evaluating it otherwise stops the build with the broken rule's message. Every entry
    /// point evaluates it; see [`check_model!`](crate::check_model). Custom layers keep the
    /// default.
    #[doc(hidden)]
    const CHECK: () = ();

    /// Computes the layer's output for one sample.
    ///
    /// # Panics
    /// Never, for the built-in layers.
    fn forward(&self, x: &In) -> Self::Out;

    /// [`forward`](Layer::forward) into `out`, which holds anything on entry and every
    /// output on return. The default is `*out = self.forward(x)`; the built-in layers whose
    /// kernels write every output override it to write `out` directly, and a tuple runs its
    /// layers through it, so a 32 KB activation is not built in a layer's frame and then
    /// copied out of it.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_into(&self, _: Seal, x: &In, out: &mut Self::Out) {
        *out = self.forward(x);
    }

    /// Scratch space (in scalars) that [`forward_batch_flat`](Layer::forward_batch_flat) needs
    /// for a batch of `n` samples; 0 unless the layer keeps intermediate results.
    #[doc(hidden)]
    fn batch_scratch_len(_: Seal, n: usize) -> usize {
        let _ = n;
        0
    }

    /// Batched forward on flat buffers: `xs` holds `n` inputs back to back (`n · In::LEN`
    /// scalars), `ys` receives `n` outputs, and `scratch` has at least
    /// [`batch_scratch_len(n)`](Layer::batch_scratch_len) scalars. Callers use
    /// [`ForwardBatch::forward_batch`](crate::ForwardBatch::forward_batch).
    ///
    /// The default runs [`forward`](Layer::forward) per sample; `Dense` overrides it with one
    /// GEMM for the whole batch (feature `alloc`). Samples that do not fit the buffers are
    /// skipped, never read or written out of bounds.
    #[doc(hidden)]
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[In::Elem], ys: &mut [In::Elem], scratch: &mut [In::Elem]) {
        let _ = scratch;
        for (x, y) in rows(xs, In::LEN, n).zip(rows_mut(ys, Self::Out::LEN, n)) {
            if let Some(x) = In::from_slice(x) {
                y.copy_from_slice(self.forward(&x).as_slice());
            }
        }
    }

    /// `Some((P, PW))` for a max pooling over `P × PW` windows with strides equal to the
    /// window ([`MaxPool2D`]), so that the layer before it may pool before its activation
    /// (see [`Activation::MONOTONIC`](crate::Activation::MONOTONIC)).
    #[doc(hidden)]
    #[inline(always)]
    fn max_pool_window(_: Seal) -> Option<(usize, usize)> {
        None
    }

    /// [`forward_batch_flat`](Layer::forward_batch_flat) into `ys`, knowing the layer that
    /// follows: a layer may instead write that layer's output, `next_ys`, itself (a
    /// convolution with a monotonic activation pools before activating), and then returns
    /// `true` so that the model skips `next`. `Y` is this layer's output type (`Self::Out`, a
    /// parameter only because a bound on `Self::Out` here defeats the trait solver in the
    /// convolution's impl). The default runs this layer alone.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // flat buffers: inputs, outputs, the next layer's outputs, scratch
    #[inline(always)]
    fn forward_batch_flat_then<Y: Tensor, N: Layer<Y>>(
        &self,
        _: Seal,
        next: &N,
        n: usize,
        xs: &[In::Elem],
        ys: &mut [In::Elem],
        next_ys: &mut [In::Elem],
        scratch: &mut [In::Elem],
    ) -> bool {
        let _ = (next, next_ys);
        self.forward_batch_flat(Seal, n, xs, ys, scratch);
        false
    }

    /// Reports one [`SummaryRow`] per layer (a tuple reports each of its layers).
    #[doc(hidden)]
    fn summary_rows(_: Seal, visit: &mut impl FnMut(SummaryRow)) {
        let params = Self::PARAMS + Self::STATE;
        visit(SummaryRow { class: Self::NAME, output_shape: <Self::Out as Tensor>::SHAPE, params });
    }
}

/// A layer that can be trained: a forward pass that keeps what the backward pass needs, and
/// the backward pass.
///
/// There is no tape and no graph. [`forward_train`](Backward::forward_train) returns a typed,
/// fixed-size [`Cache`](Backward::Cache) (for `Dense`: the pre-activations and outputs), and
/// [`backward`](Backward::backward) turns the gradient of the loss with respect to the output
/// into the gradients with respect to the parameters (added into `grad`, a value of the
/// layer's own type: a `Dense`'s gradient is a `Dense`) and, on request, the input. A tuple
/// chains its layers in reverse, so a whole training step monomorphizes like the forward pass
/// and needs no heap.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// // L = y·dy for y = 2x + 1 and dy = 3, so ∂L/∂w = x·dy = 6, ∂L/∂b = 3, ∂L/∂x = w·dy = 6.
/// let layer: Dense<1, 1> = Dense::new([[2.0]], [1.0]);
/// let x = Vector::from([2.0]);
/// let (y, cache) = layer.forward_train(&x);
/// assert_eq!(y[0], 5.0);
/// let mut grad: Dense<1, 1> = Dense::default();
/// let mut dx = Vector::default();
/// layer.backward(&x, &cache, &Vector::from([3.0]), &mut grad, Some(&mut dx));
/// assert_eq!((grad.kernel[0][0], grad.bias[0], dx[0]), (6.0, 3.0, 6.0));
/// ```
///
/// # Implementing it for your own layer
/// Implement [`forward_train`](Backward::forward_train), returning whatever `backward` needs
/// as the [`Cache`](Backward::Cache), and [`backward`](Backward::backward). Nothing else: the
/// batched training path runs them sample by sample for your layer (see [`Layer`] for the
/// hidden hooks the built-in layers use instead). Prove the result with
/// `typed_nn::gradcheck::check_layer` (feature `proptest`).
pub trait Backward<In: Tensor>: Layer<In> {
    /// What the forward pass keeps for the backward pass: fixed-size, on the stack.
    type Cache;

    /// The forward pass, plus the cache the backward pass needs. Its output equals
    /// [`Layer::forward`]'s.
    fn forward_train(&self, x: &In) -> (Self::Out, Self::Cache);

    /// Back-propagates `dy = ∂L/∂out`: **adds** `∂L/∂θ` into `grad` (clear it with
    /// [`Params::zero_params`] between steps) and, if `dx` is `Some`, **writes** `∂L/∂x`
    /// there. Skipping `dx` saves a matrix product for a model's first layer.
    fn backward(&self, x: &In, cache: &Self::Cache, dy: &Self::Out, grad: &mut Self, dx: Option<&mut In>);

    /// The fusion tag of the activation this layer applies last (`Dense`: its activation's;
    /// a tuple: its last layer's); losses use it to differentiate the logits directly.
    #[doc(hidden)]
    fn fusion(_: Seal) -> Fusion {
        Fusion::None
    }

    /// Like [`backward`](Backward::backward), but `dz` is the gradient with respect to the
    /// *input* of the layer's last activation (its logits), as fused losses compute it when
    /// [`fusion`](Backward::fusion) is not `None`. The default, `backward`, is right for
    /// layers that apply no activation of their own.
    #[doc(hidden)]
    fn backward_logits(
        &self,
        _: Seal,
        x: &In,
        cache: &Self::Cache,
        dz: &Self::Out,
        grad: &mut Self,
        dx: Option<&mut In>,
    ) {
        self.backward(x, cache, dz, grad, dx);
    }

    /// Whether a batched training pass may run the batch as consecutive chunks and add up the
    /// chunks' gradients: true when each sample's outputs, cache and gradient depend on that
    /// sample alone (up to the order of float sums). `false` by default (a batch normalisation
    /// couples the samples through its batch statistics; layers not known to be independent
    /// keep the whole batch); `Dense`, `Conv2D`, `MaxPool2D`, `Flatten` and tuples and boxes of
    /// them say `true`.
    #[doc(hidden)]
    fn chunkable(_: Seal) -> bool {
        false
    }

    /// Scalars of cache [`forward_train_batch_flat`](Backward::forward_train_batch_flat)
    /// keeps for a batch of `n`.
    #[doc(hidden)]
    fn train_cache_len(_: Seal, n: usize) -> usize {
        let _ = n;
        0
    }

    /// Scalars of scratch the batched training methods need for a batch of `n`.
    #[doc(hidden)]
    fn train_scratch_len(_: Seal, n: usize) -> usize {
        Self::batch_scratch_len(Seal, n)
    }

    /// Batched [`forward_train`](Backward::forward_train) on flat buffers (see
    /// [`Layer::forward_batch_flat`]); `cache` has
    /// [`train_cache_len(n)`](Backward::train_cache_len) scalars. The default keeps no cache.
    #[doc(hidden)]
    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[In::Elem],
        ys: &mut [In::Elem],
        cache: &mut [In::Elem],
        scratch: &mut [In::Elem],
    ) {
        let _ = cache;
        self.forward_batch_flat(Seal, n, xs, ys, scratch);
    }

    /// Batched [`backward`](Backward::backward) (or [`backward_logits`](Backward::backward_logits)
    /// when `logits`) on flat buffers, after
    /// [`forward_train_batch_flat`](Backward::forward_train_batch_flat) filled `cache` and
    /// produced the outputs `ys` (passed back here, so a cache need not copy them).
    ///
    /// The default recomputes each sample's cache with `forward_train` and calls `backward`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // flat buffers: inputs, outputs, cache, dY, grad, dX, mode, scratch
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[In::Elem],
        ys: &[In::Elem],
        cache: &[In::Elem],
        dys: &[In::Elem],
        grad: &mut Self,
        dxs: Option<&mut [In::Elem]>,
        logits: bool,
        scratch: &mut [In::Elem],
    ) where
        Self: Sized,
    {
        let _ = (ys, cache, scratch);
        let mut dx_rows = dxs.map(|d| rows_mut(d, In::LEN, n));
        for (x, dy) in rows(xs, In::LEN, n).zip(rows(dys, Self::Out::LEN, n)) {
            let (Some(x), Some(dy)) = (In::from_slice(x), Self::Out::from_slice(dy)) else { return };
            let (_, c) = self.forward_train(&x);
            let dx_row = dx_rows.as_mut().and_then(Iterator::next);
            let mut dx = In::default();
            let dx_arg = dx_row.is_some().then_some(&mut dx);
            if logits {
                self.backward_logits(Seal, &x, &c, &dy, grad, dx_arg);
            } else {
                self.backward(&x, &c, &dy, grad, dx_arg);
            }
            if let Some(out) = dx_row {
                out.copy_from_slice(dx.as_slice());
            }
        }
    }
}

/// The first `n` rows of `len` scalars in `data` (fewer if `data` is short). Works for
/// `len == 0`, unlike `chunks_exact`.
pub(crate) fn rows<T>(data: &[T], len: usize, n: usize) -> impl Iterator<Item = &[T]> {
    (0..n).map_while(move |i| {
        let start = i.checked_mul(len)?;
        data.get(start..start.checked_add(len)?)
    })
}

/// Mutable twin of [`rows`].
pub(crate) fn rows_mut<T>(data: &mut [T], len: usize, n: usize) -> impl Iterator<Item = &mut [T]> {
    let mut rest = data;
    (0..n).map_while(move |_| {
        let (row, tail) = core::mem::take(&mut rest).split_at_mut_checked(len)?;
        rest = tail;
        Some(row)
    })
}

#[cfg(test)]
mod forward_into_tests {
    //! `forward_into` is what a tuple runs: every built-in layer's must write every output,
    //! whatever `out` held, with `forward`'s bits.
    use super::*;
    use crate::activation::{Identity, Relu, Softmax};
    use crate::init::{SeedRng, uniform01};
    use crate::shape::{Image, Vector};

    fn random<X: Tensor<Elem = f32>>(seed: u64) -> X {
        let mut rng = SeedRng::seed(seed);
        let mut x = X::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = uniform01(&mut rng) as f32 * 2.0 - 1.0);
        x
    }

    /// `out` starts as NaNs, so an output the layer skipped (or added to) shows.
    fn into_matches_forward<X: Tensor<Elem = f32>, L: Layer<X>>(layer: &L, x: &X) {
        let expected = layer.forward(x);
        let mut out = L::Out::default();
        out.as_mut_slice().fill(f32::NAN);
        layer.forward_into(Seal, x, &mut out);
        assert_eq!(out.as_slice().len(), expected.as_slice().len());
        for (i, (a, b)) in out.as_slice().iter().zip(expected.as_slice()).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{}: output {i}: {a} against {b}", L::NAME);
        }
    }

    #[test]
    fn convolutions_write_every_output() {
        let x: Image<7, 6, 3> = random(1);
        // Filters a multiple of 16 (the SIMD kernels) and not (their remainder path).
        into_matches_forward(&Conv2D::<3, 16, 3, Relu>::init(&mut SeedRng::seed(2)), &x);
        into_matches_forward(&Conv2D::<3, 5, 3, Identity, 2, Same>::init(&mut SeedRng::seed(3)), &x);
        // 1x1, stride 1: the row GEMM.
        into_matches_forward(&Conv2D::<3, 16, 1, Relu, 1, Same>::init(&mut SeedRng::seed(4)), &x);
        let h: Image<7, 6, 16> = random(5);
        into_matches_forward(&Conv2D::<16, 32, 1, Identity, 1, Same>::init(&mut SeedRng::seed(6)), &h);
        into_matches_forward(&DepthwiseConv2D::<16, 3, Relu, 1, Same>::init(&mut SeedRng::seed(7)), &h);
        into_matches_forward(&DepthwiseConv2D::<3, 3, Identity, 2>::init(&mut SeedRng::seed(8)), &x);
    }

    #[test]
    fn the_other_layers_write_every_output() {
        let h: Image<6, 4, 16> = random(9);
        into_matches_forward(&ActivationLayer::<Relu>::default(), &h);
        into_matches_forward(&BatchNormalization::<16>::init(&mut SeedRng::seed(10)), &h);
        into_matches_forward(&Dropout::<300>::default(), &h);
        into_matches_forward(&MaxPool2D::<2>, &h);
        into_matches_forward(&AvgPool2D::<3, 2>, &h);
        into_matches_forward(&GlobalAvgPool2D, &h);
        into_matches_forward(&Flatten, &h);
        let v: Vector<24> = random(11);
        into_matches_forward(&Dense::<24, 7, Softmax>::init(&mut SeedRng::seed(12)), &v);
        into_matches_forward(&Skip, &v);
    }

    #[test]
    fn residual_blocks_and_tuples_write_every_output() {
        let h: Image<6, 4, 16> = random(13);
        type Block = Residual<(Conv2D<16, 16, 3, Relu, 1, Same>, Conv2D<16, 16, 3, Identity, 1, Same>)>;
        into_matches_forward(&Block::init(&mut SeedRng::seed(14)), &h);
        type Projected = Residual<Conv2D<16, 8, 3, Relu, 2, Same>, Conv2D<16, 8, 1, Identity, 2, Same>>;
        into_matches_forward(&Projected::init(&mut SeedRng::seed(15)), &h);
        type Model = (
            Conv2D<16, 8, 3, Relu, 1, Same>,
            (DepthwiseConv2D<8, 3>, ActivationLayer<Relu>),
            MaxPool2D<2>,
            Flatten,
            Dense<16, 5>,
        );
        into_matches_forward(&Model::init(&mut SeedRng::seed(16)), &h);
        into_matches_forward(&(Dense::<48, 5>::init(&mut SeedRng::seed(17)),), &Vector::<48>::default());
    }
}
