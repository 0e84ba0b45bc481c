//! The loss of a model and its gradient: one sample, a batch sample by sample, or a batch
//! through the GEMM kernels — and how back-propagation is derived, without a tape.
//!
//! # Backward without a tape
//! A training framework usually records every operation of the forward pass on a *tape* and
//! replays it backwards. Here the model is a type, so the "tape" is known at compile time:
//! each layer's [`forward_train`](crate::Backward::forward_train) returns exactly what its own
//! backward pass needs (a fixed-size [`Cache`](crate::Backward::Cache)), and a tuple calls its
//! layers' `backward` in reverse. Nothing is allocated, nothing is dispatched at run time.
//!
//! ## Dense
//! Forward: `z = x·K + b`, `y = act(z)`, with `x` of length `IN`, `K` of shape `(IN, OUT)`.
//! Given `dy = ∂L/∂y` from the layer above, the chain rule gives, index by index:
//!
//! - `dz_j = ∂L/∂z_j = dy_j · act'(z_j)` (element-wise activations; softmax instead uses its
//!   Jacobian-vector product `dz = y ⊙ (dy − ⟨y, dy⟩)`);
//! - `∂L/∂b_j = dz_j`, since `z_j = … + b_j`;
//! - `∂L/∂K_ij = x_i · dz_j`, since `z_j = Σ_i x_i K_ij + b_j` — the outer product `xᵀ·dz`;
//! - `∂L/∂x_i = Σ_j K_ij · dz_j` — the product `K·dz`, which becomes the `dy` of the layer
//!   below.
//!
//! The cache is therefore `z` and `y` (`DenseCache`); `x` is the previous layer's output,
//! which the tuple keeps. For a batch, the same three lines become GEMMs:
//! `∂K = Xᵀ·dZ`, `∂b = Σ_rows dZ`, `dX = dZ·Kᵀ`.
//!
//! ## Softmax + cross-entropy
//! With `p = softmax(z)` and `L = −Σ_k t_k log p_k` (targets summing to 1):
//! `log p_k = z_k − log Σ_j e^{z_j}`, so `∂L/∂z_i = −t_i + (Σ_k t_k)·e^{z_i}/Σ_j e^{z_j}
//! = p_i − t_i`. No Jacobian, no division by `p`. The loss computes it directly when the
//! model's last activation is a softmax (see [`crate::loss`]), and the model back-propagates
//! from the logits, skipping the softmax (a hidden hook of the built-in layers; a custom last
//! layer is always differentiated through its own `backward`). Averaged over a batch of `n`,
//! each sample contributes `(p − t)/n`.
//!
//! ## Checking it
//! Every derivation above is re-checked numerically by proptest against central finite
//! differences (`tests/gradients.rs`, and `typed_nn::gradcheck` for your own layers with
//! feature `proptest`) and against the gradients Keras computes for the same weights
//! (`tests/keras_parity.rs`).
//!
//! Back-propagation here is three calls, and nothing else: the model's
//! [`forward_train`](crate::Backward::forward_train) keeps a typed cache, the [`Loss`] gives
//! `∂L/∂y` (or `∂L/∂logits` when it fuses with the last activation), and the model's
//! [`backward`](crate::Backward::backward) adds `∂L/∂θ` into a gradient of the model's own type.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<4, 8, Relu>, Dense<8, 3, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let mut grad = Mlp::default();
//! let x = Vector::from([0.5, -1.0, 2.0, 0.0]);
//! let loss = value_and_grad(&model, &x, &2usize, &SparseCategoricalCrossentropy::default(), &mut grad)?;
//! assert!(loss > 0.0);
//! // For softmax + cross-entropy the last bias gradient is p − onehot(label).
//! let p = model.forward(&x);
//! assert!((grad.1.bias[2] - (p[2] - 1.0)).abs() < 1e-6);
//! assert!((grad.1.bias[0] - p[0]).abs() < 1e-6);
//! # Ok::<(), BatchError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

#[cfg(feature = "alloc")]
use num_traits::Float;
use num_traits::{One, Zero};

use crate::batch::BatchError;
use crate::layer::Seal;
use crate::{Backward, Loss, Scalar, Tensor};

/// The loss of one sample and, added into `grad`, `scale ·` its gradient with respect to every
/// parameter; with `dx`, also `scale · ∂L/∂x` written there. Returns the (unscaled) loss.
///
/// The unchecked building block of the functions below and of the training loop (which passes
/// `scale = 1/batch`): it does not validate `target` (an out-of-range class gives a NaN loss and
/// no gradient), so call it only with targets the loss's [`valid_target`](Loss::valid_target)
/// accepted, or use [`value_and_grad`].
///
/// # Allocation
/// None: the cache and gradients live on the stack.
#[inline]
pub(crate) fn value_and_grad_scaled<M, X, L>(
    model: &M,
    x: &X,
    target: &L::Target,
    loss: &L,
    scale: X::Elem,
    grad: &mut M,
    dx: Option<&mut X>,
) -> X::Elem
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    let (y, cache) = model.forward_train(x);
    let mut d = M::Out::default();
    match loss.gradient_logits(&y, target, M::fusion(Seal), scale, &mut d) {
        Some(value) => {
            model.backward_logits(Seal, x, &cache, &d, grad, dx);
            value
        }
        None => {
            let value = loss.gradient(&y, target, scale, &mut d);
            model.backward(x, &cache, &d, grad, dx);
            value
        }
    }
}

/// The loss of one sample, with its gradient added into `grad`.
///
/// The target is checked first, as training checks its data: a class label `≥ K` for a
/// `K`-class output, or a cross-entropy target outside `[0, 1]`, is an error rather than a NaN
/// loss.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let model: Dense<3, 4, Softmax> = Dense::init(&mut SeedRng::seed(1));
/// let x = Vector::from([0.2, -0.4, 1.0]);
/// let mut grad = Dense::default();
/// let loss = SparseCategoricalCrossentropy::default();
/// assert!(value_and_grad(&model, &x, &2, &loss, &mut grad)? > 0.0);
/// // Class 4 does not exist in a 4-class output: refused, and `grad` is left as it was.
/// let before = grad.clone();
/// assert_eq!(value_and_grad(&model, &x, &4, &loss, &mut grad), Err(BatchError::InvalidTarget { index: 0 }));
/// assert_eq!(grad, before);
/// # Ok::<(), BatchError>(())
/// ```
///
/// # Errors
/// [`BatchError::InvalidTarget`] (with `index: 0`, a batch of one) if the loss's
/// [`valid_target`](Loss::valid_target) refuses `target`; nothing is added to `grad` then.
///
/// # Allocation
/// None. That is the point of this path (it trains without a heap), and its price: every
/// layer's output and cache (pre-activations, pooling indices) lives on the stack for the
/// duration of the call. For small models that is a few KB; a `Conv2D<3, 8, 3>` on
/// `Image<224, 224, 3>` alone needs over 3 MB (its output and pre-activations, 222·222·8
/// floats each), more than the 2 MiB stack of a spawned thread. For models with big
/// activations use [`value_and_grad_batch`] (or the [`Trainer`](crate::train::Trainer), which uses it with
/// feature `alloc`): it keeps activations and caches in its [`Workspace`], on the heap
/// (`tests/big_models.rs` trains such a model on a thread with a 1 MiB stack).
#[inline]
pub fn value_and_grad<M, X, L>(
    model: &M,
    x: &X,
    target: &L::Target,
    loss: &L,
    grad: &mut M,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    // Here, not in the helper: a failing check's note then names the caller's line.
    let () = <M as crate::Layer<X>>::CHECK;
    value_and_grad_checked(model, x, target, loss, grad, None)
}

/// The loss of one sample, its gradient with respect to the parameters added into `grad`, and
/// its gradient with respect to the *input* written into `dx`: what saliency maps, adversarial
/// examples and gradient checks need.
///
/// After a softmax (or a sigmoid) the loss is differentiated with respect to the logits, as in
/// [`value_and_grad`], so `dx` gets the same precision as the parameter gradients.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::backprop::value_and_grad_input;
/// // y = 3x, L = (y − 1)²: ∂L/∂x = 2·(3x − 1)·3 = 12 at x = 1.
/// let model: Dense<1, 1> = Dense::new([[3.0]], [0.0]);
/// let (mut grad, mut dx) = (Dense::default(), Vector::default());
/// let loss = value_and_grad_input(&model, &Vector::from([1.0]), &Vector::from([1.0]), &MeanSquaredError, &mut grad, &mut dx)?;
/// assert_eq!((loss, dx[0]), (4.0, 12.0));
/// # Ok::<(), BatchError>(())
/// ```
///
/// # Errors
/// As [`value_and_grad`]: [`BatchError::InvalidTarget`] (with `index: 0`) if the loss's
/// [`valid_target`](Loss::valid_target) refuses `target`; nothing is written to `grad` or `dx`
/// then.
///
/// # Allocation
/// None.
#[inline]
pub fn value_and_grad_input<M, X, L>(
    model: &M,
    x: &X,
    target: &L::Target,
    loss: &L,
    grad: &mut M,
    dx: &mut X,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    value_and_grad_checked(model, x, target, loss, grad, Some(dx))
}

/// [`value_and_grad_scaled`] at scale 1 after the target's check: the body of
/// [`value_and_grad`] and [`value_and_grad_input`] (which evaluate the model's check first).
#[inline]
fn value_and_grad_checked<M, X, L>(
    model: &M,
    x: &X,
    target: &L::Target,
    loss: &L,
    grad: &mut M,
    dx: Option<&mut X>,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    if !loss.valid_target(target) {
        return Err(BatchError::InvalidTarget { index: 0 });
    }
    Ok(value_and_grad_scaled(model, x, target, loss, X::Elem::one(), grad, dx))
}

/// The mean loss over a batch and, added into `grad`, its gradient (Keras' default reduction),
/// computed sample by sample: no heap, for `no_std` training.
///
/// # Errors
/// [`BatchError`] if the batch is empty, the targets are not one per input, or a target is
/// invalid for the loss. Nothing is added to `grad` then.
///
/// # Allocation
/// None.
pub fn value_and_grad_mean<M, X, L>(
    model: &M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    grad: &mut M,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    check_batch::<M::Out, L>(xs.len(), targets, loss)?;
    let scale = X::Elem::one() / X::Elem::lit(xs.len() as f64);
    let mut total = X::Elem::zero();
    for (x, t) in xs.iter().zip(targets) {
        total += value_and_grad_scaled(model, x, t, loss, scale, grad, None);
    }
    Ok(total * scale)
}

pub(crate) fn check_batch<Y: Tensor, L: Loss<Y>>(
    inputs: usize,
    targets: &[L::Target],
    loss: &L,
) -> Result<(), BatchError> {
    if inputs == 0 {
        return Err(BatchError::Empty);
    }
    if targets.len() != inputs {
        return Err(BatchError::TargetCountMismatch { inputs, targets: targets.len() });
    }
    match targets.iter().position(|t| !loss.valid_target(t)) {
        Some(index) => Err(BatchError::InvalidTarget { index }),
        None => Ok(()),
    }
}

/// Buffers for batched training, kept between steps so that a step allocates nothing once they
/// have grown to the batch size (feature `alloc`).
#[cfg(feature = "alloc")]
pub struct Workspace<Y: Tensor> {
    ys: Vec<Y>,
    dys: Vec<Y>,
    cache: Vec<Y::Elem>,
    scratch: Vec<Y::Elem>,
}

#[cfg(feature = "alloc")]
impl<Y: Tensor> Default for Workspace<Y> {
    fn default() -> Self {
        Self { ys: Vec::new(), dys: Vec::new(), cache: Vec::new(), scratch: Vec::new() }
    }
}

#[cfg(feature = "alloc")]
impl<Y: Tensor> Workspace<Y> {
    /// Empty buffers; they grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// The model outputs of the last batch, in order.
    pub fn outputs(&self) -> &[Y] {
        &self.ys
    }

    /// Outputs and their gradients for `n` samples; cache and scratch for chunks of `chunk`.
    fn prepare<M: Backward<X, Out = Y>, X: Tensor<Elem = Y::Elem>>(&mut self, n: usize, chunk: usize) {
        self.ys.resize(n, Y::default());
        self.dys.resize(n, Y::default());
        let cache = M::train_cache_len(Seal, chunk);
        if self.cache.len() < cache {
            self.cache.resize(cache, Y::Elem::zero());
        }
        let scratch = M::train_scratch_len(Seal, chunk);
        if self.scratch.len() < scratch {
            self.scratch.resize(scratch, Y::Elem::zero());
        }
    }
}

/// The mean loss over a batch and, added into `grad`, its gradient, through the batched
/// kernels: for `Dense`, one GEMM per layer forward and two backward (feature `alloc`).
///
/// Equal to [`value_and_grad_mean`] up to float rounding.
///
/// # Errors
/// As [`value_and_grad_mean`].
///
/// # Allocation
/// Only while `workspace` grows to the batch size; none after that.
#[cfg(feature = "alloc")]
pub fn value_and_grad_batch<M, X, L>(
    model: &M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    grad: &mut M,
    workspace: &mut Workspace<M::Out>,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    check_batch::<M::Out, L>(xs.len(), targets, loss)?;
    let scale = X::Elem::one() / X::Elem::lit(xs.len() as f64);
    Ok(batch_loss_sum(model, xs, targets, loss, scale, grad, workspace) * scale)
}

/// The sum of the losses over `xs` and, added into `grad`, the gradient of that sum times
/// `scale`, through the batched kernels. The batch must already be validated. Shared by the
/// one-thread and the threaded step (which passes each shard `1/n` of the whole batch).
#[cfg(feature = "alloc")]
pub(crate) fn batch_loss_sum<M, X, L>(
    model: &M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    scale: X::Elem,
    grad: &mut M,
    workspace: &mut Workspace<M::Out>,
) -> X::Elem
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    batch_loss_sum_flat::<M, X, L>(model, crate::kernel::cast::flat(xs), targets, loss, scale, grad, workspace)
}

/// [`batch_loss_sum`] on inputs given back to back as one flat slice (`targets.len()` inputs
/// of `X::LEN` scalars): what the training steps gather a batch into, since copying scalars
/// never puts a whole input on the stack (a 224×224×3 image is 600 KB).
#[cfg(feature = "alloc")]
pub(crate) fn batch_loss_sum_flat<M, X, L>(
    model: &M,
    xs: &[X::Elem],
    targets: &[L::Target],
    loss: &L,
    scale: X::Elem,
    grad: &mut M,
    workspace: &mut Workspace<M::Out>,
) -> X::Elem
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    use crate::kernel::cast::{flat, flat_mut};
    let n = targets.len().min(xs.len() / X::LEN.max(1));
    let xs = xs.get(..n * X::LEN).unwrap_or(xs);
    let chunk = train_chunk::<M, X>(n);
    workspace.prepare::<M, X>(n, chunk);
    let Workspace { ys, dys, cache, scratch } = workspace;
    let mut total = X::Elem::zero();
    let mut fused = None;
    // Chunk by chunk (the whole batch at once unless `train_chunk` cut it): forward, the
    // loss's gradients, backward, while the chunk's intermediates are still in cache.
    for start in (0..n).step_by(chunk.max(1)) {
        let end = (start + chunk).min(n);
        let (Some(xs), Some(ys), Some(dys), Some(targets)) = (
            xs.get(start * X::LEN..end * X::LEN),
            ys.get_mut(start..end),
            dys.get_mut(start..end),
            targets.get(start..end),
        ) else {
            break;
        };
        let len = end - start;
        model.forward_train_batch_flat(Seal, len, xs, flat_mut(ys), cache, scratch);
        // The fused form applies to the whole batch or not at all (it depends on the loss's
        // settings and the model's last activation, and the targets were validated).
        let fused = *fused.get_or_insert_with(|| match (ys.first(), targets.first(), dys.first_mut()) {
            (Some(y), Some(t), Some(d)) => loss.gradient_logits(y, t, M::fusion(Seal), scale, d).is_some(),
            _ => false,
        });
        for ((y, t), d) in ys.iter().zip(targets).zip(dys.iter_mut()) {
            total += if fused {
                loss.gradient_logits(y, t, M::fusion(Seal), scale, d).unwrap_or_else(X::Elem::nan)
            } else {
                loss.gradient(y, t, scale, d)
            };
        }
        model.backward_batch_flat(Seal, len, xs, flat(ys), cache, flat(dys), grad, None, fused, scratch);
    }
    total
}

/// Bytes of caches and gradient buffers one chunk of a batched training step should stay
/// within. Chosen by measurement, not from a cache size: seed model 2 (`Conv2D<1, 32, 3>` →
/// `MaxPool2D` → `Dense<5408, 10>`, 371 KB per image) trained fastest in chunks of 16 images
/// (AVX2 path, batch 32: 5–10% faster than the whole batch at once; chunks of 8 were slower
/// than the whole batch, chunks of 2–4 much slower, because the `Dense` layer's 216 KB of
/// weights are packed and its 216 KB gradient read and written once per chunk). See
/// BENCHMARKS.md, issue 17 part 3. Models with small activations (the MLPs) stay one chunk.
#[cfg(feature = "alloc")]
const CHUNK_BYTES: usize = 6 << 20;

/// Samples per chunk of a batched training step on `n` samples: all `n` unless the model says
/// its samples are independent ([`Backward::chunkable`]: no batch normalisation) and a whole
/// batch's caches and gradient buffers exceed [`CHUNK_BYTES`]; then as many as fit, at least 8.
#[cfg(feature = "alloc")]
fn train_chunk<M: Backward<X>, X: Tensor>(n: usize) -> usize {
    if !M::chunkable(Seal) {
        return n;
    }
    // Scalars per sample beyond the fixed part (a convolution's tile buffers), with the
    // sample's input and its output gradient.
    let len = |k: usize| M::train_cache_len(Seal, k).saturating_add(M::train_scratch_len(Seal, k));
    let per_sample = len(2).saturating_sub(len(1)).saturating_add(X::LEN).saturating_add(<M::Out as Tensor>::LEN);
    let bytes = per_sample.saturating_mul(<X::Elem as Scalar>::BYTES).max(1);
    let chunk = (CHUNK_BYTES / bytes).max(8);
    chunk.clamp(1, n.max(1))
}

/// One optimizer step on one batch, as Keras' `model.train_on_batch(x, y)`: clears `grad`,
/// adds into it the gradient of the mean loss over the batch (sample by sample, as
/// [`value_and_grad_mean`]), applies `optimizer` and then the layers' state updates (a batch
/// norm's moving statistics, as [`update_state`](crate::params::update_state)); returns the
/// mean loss, computed before the step.
///
/// `grad` is only the buffer the gradient is built in (the caller owns it, so this function
/// needs no heap); whatever it held before is discarded. Clearing it is the point: a loop of
/// your own that forgets [`zero_params`](crate::Params::zero_params) between
/// [`value_and_grad_mean`] calls adds every batch's gradient to the previous ones and steps on
/// their running sum, with no error. For models with big activations use
/// [`train_on_batch_with`] (batched kernels, activations on the heap).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::backprop::train_on_batch;
/// // y = w·x, L = (y − t)²; at w = 0 the gradient on x = 1, t = 1 is −2, so SGD(0.25) sets
/// // w = 0.5, and the next step, from a *cleared* gradient of −1, sets w = 0.75.
/// let mut model: Dense<1, 1, Identity, f32, NoBias> = Dense::new([[0.0]], NoBias);
/// let (mut grad, mut opt) = (Dense::default(), Sgd::new(0.25));
/// let (x, t) = ([Vector::from([1.0])], [Vector::from([1.0])]);
/// let first = train_on_batch(&mut model, &x, &t, &MeanSquaredError, &mut opt, &mut grad)?;
/// assert_eq!((first, model.kernel[0][0]), (1.0, 0.5));
/// let second = train_on_batch(&mut model, &x, &t, &MeanSquaredError, &mut opt, &mut grad)?;
/// assert_eq!((second, model.kernel[0][0]), (0.25, 0.75));
/// # Ok::<(), BatchError>(())
/// ```
///
/// # Errors
/// As [`value_and_grad_mean`]: an empty batch, targets not one per input, or a target the
/// loss refuses. Neither the model nor the optimizer is changed then.
///
/// A step never fails on a non-finite loss or weight (Keras' `train_on_batch` does not
/// either): check the returned loss, or use the [`Trainer`](crate::train::Trainer), which
/// stops and puts the weights back.
///
/// # Allocation
/// None.
pub fn train_on_batch<M, X, L, O>(
    model: &mut M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    optimizer: &mut O,
    grad: &mut M,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
    O: crate::Optimizer<M>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    check_batch::<M::Out, L>(xs.len(), targets, loss)?;
    grad.zero_params();
    let value = value_and_grad_mean(model, xs, targets, loss, grad)?;
    optimizer.step(model, grad);
    crate::params::update_state(model, grad);
    Ok(value)
}

/// [`train_on_batch`] through the batched kernels, as [`value_and_grad_batch`]: layers'
/// outputs and caches live in `workspace` on the heap (feature `alloc`). Equal to
/// [`train_on_batch`] up to float rounding, except for a
/// [`BatchNormalization`](crate::BatchNormalization), which trains here on the batch's
/// statistics and moves its moving statistics, as Keras does (sample by sample it runs in
/// inference mode, see its module docs).
///
/// # Errors
/// As [`train_on_batch`].
///
/// # Allocation
/// Only while `workspace` grows to the batch size; none after that.
#[cfg(feature = "alloc")]
pub fn train_on_batch_with<M, X, L, O>(
    model: &mut M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    optimizer: &mut O,
    grad: &mut M,
    workspace: &mut Workspace<M::Out>,
) -> Result<X::Elem, BatchError>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
    O: crate::Optimizer<M>,
{
    let () = <M as crate::Layer<X>>::CHECK;
    check_batch::<M::Out, L>(xs.len(), targets, loss)?;
    grad.zero_params();
    let value = value_and_grad_batch(model, xs, targets, loss, grad, workspace)?;
    optimizer.step(model, grad);
    crate::params::update_state(model, grad);
    Ok(value)
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// The chunk sizes behind `tests/conv_gradients.rs`' chunked-training test: seed model 2
    /// (371 KB per image) in chunks of 16, the digits MLP's batch of 128 and any model with a
    /// batch normalisation in one piece, a batch smaller than a chunk in one piece.
    #[test]
    fn training_chunks_follow_the_per_sample_bytes_and_batch_normalisation() {
        type Seed2 = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
        type Seed2Bn = (Conv2D<1, 32, 3>, BatchNormalization<32>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
        type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
        assert_eq!(train_chunk::<Seed2, Image<28, 28, 1>>(40), 16);
        assert_eq!(train_chunk::<alloc::boxed::Box<Seed2>, Image<28, 28, 1>>(40), 16);
        assert_eq!(train_chunk::<Seed2, Image<28, 28, 1>>(12), 12);
        assert_eq!(train_chunk::<Seed2Bn, Image<28, 28, 1>>(40), 40);
        assert_eq!(train_chunk::<Mlp, Vector<784>>(128), 128);
        // 6 MiB hold over a thousand of the MLP's samples.
        assert!((1000..4096).contains(&train_chunk::<Mlp, Vector<784>>(4096)));
    }
}
