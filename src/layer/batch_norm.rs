//! [`BatchNormalization`]: per-channel normalisation with learned scale and shift, and moving
//! statistics for inference.
//!
//! # Training mode and inference mode
//! Keras' layer has two behaviours. In *inference mode* it is a fixed affine map per channel,
//! `y = γ·(x − moving_mean)/√(moving_variance + ε) + β`. In *training mode* it normalises with
//! the statistics of the current batch, over every axis but the last (for images: every sample
//! and every pixel), with the **biased** variance:
//! `y = γ·(x − μ_B)/√(σ²_B + ε) + β`, and the moving statistics follow the batch ones,
//! `moving ← moving·momentum + batch·(1 − momentum)` (momentum 0.99, ε = 10⁻³).
//!
//! Training mode needs the whole batch, so it lives where the whole batch is: the batched
//! training path ([`value_and_grad_batch`](crate::backprop::value_and_grad_batch), the
//! `Trainer` with feature `alloc`, and the threaded trainer). Its backward pass is the full
//! gradient through the batch statistics: with `x̂ = (x − μ_B)/√(σ²_B + ε)` and `m` values per
//! channel,
//!
//! ```text
//! ∂L/∂γ = Σ dy·x̂      ∂L/∂β = Σ dy
//! ∂L/∂x = γ/√(σ²_B + ε) · (dy − mean(dy) − x̂·mean(dy·x̂))
//! ```
//!
//! (the two means are over the channel's `m` values: they are what `μ_B` and `σ²_B` pass back).
//!
//! The single-sample path ([`Backward::forward_train`] and [`Backward::backward`], used by
//! [`value_and_grad`](crate::backprop::value_and_grad), by
//! [`value_and_grad_mean`](crate::backprop::value_and_grad_mean) and by the `Trainer` without
//! `alloc`) sees one sample, whose own statistics are meaningless (a variance of one value is
//! 0). There the layer is in inference mode, like Keras' `BatchNormalization` called with
//! `training=False` (or a frozen one, `trainable=False`): it differentiates exactly what
//! [`forward`](Layer::forward) computes, with the moving statistics held fixed, and `γ` and `β`
//! still get their gradients. So on-device fine-tuning without a heap trains `γ` and `β` of a
//! model whose statistics were learned before, and gradient checks of the single-sample path
//! see a smooth function.
//!
//! # The moving statistics are state, not parameters
//! `moving_mean` and `moving_variance` are not trainable: they are the layer's
//! [state](crate::params#non-trainable-state), counted in [`Params::STATE`] (`2·C`; `γ` and
//! `β` are the `2·C` of [`Params::PARAMS`]), shown as Keras' "Non-trainable params" by
//! `summary()`, saved and loaded with the rest (`{k}.moving_mean`, `{k}.moving_variance`;
//! Keras' names), and never seen by an optimizer. The batched backward pass writes the update
//! `(1 − momentum)·(batch statistic − moving statistic)` into the *gradient's* state slots, and
//! [`update_state`](crate::params::update_state), called once per step after the optimizer,
//! adds it: `moving + (1 − momentum)·(batch − moving)` is Keras' formula.
//!
//! With feature `threads` each shard of a batch normalises with its own statistics, as Keras'
//! default, non-synchronised batch normalisation does on each replica; the moving statistics
//! then receive the shard-size-weighted mean of the shards' updates (exactly the batch mean for
//! the moving mean; for the variance, the mean of the shards' variances).

use rand_core::Rng;

use crate::layer::Seal;
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::shape::float::FloatIs;
use crate::shape::{Image, Vector};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// Batch normalisation over the last axis (the `C` channels of an image, or the `C` values of a
/// vector): `y = γ·(x − mean)/√(variance + ε) + β`, per channel, with the moving mean and
/// variance at inference and the batch's in batched training (see the [module docs](self)).
///
/// **Keras equivalent:** `keras.layers.BatchNormalization()` (`axis=-1`, `momentum=0.99`,
/// `epsilon=1e-3`, `center=True`, `scale=True`; its four weights are `gamma`, `beta`,
/// `moving_mean` and `moving_variance`). Other momenta and epsilons are not supported.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::BatchNormalization;
/// let mut bn: BatchNormalization<2> = BatchNormalization::init(&mut SeedRng::seed(0));
/// bn.moving_mean = [1.0, -1.0];
/// bn.moving_variance = [4.0 - 1e-3, 1.0 - 1e-3]; // so that √(variance + ε) is 2 and 1
/// bn.gamma = [1.0, 3.0];
/// let y: Vector<2> = bn.forward(&Vector::from([5.0, 0.0]));
/// assert!((y[0] - 2.0).abs() < 1e-6 && (y[1] - 3.0).abs() < 1e-6);
/// // 2·C trainable parameters (γ, β) and 2·C non-trainable ones (the moving statistics).
/// assert_eq!((<BatchNormalization<5>>::PARAMS, <BatchNormalization<5>>::STATE), (10, 10));
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None: `4·C` scalars inline; `forward` returns a tensor of the input's type.
///
/// Generic parameters:
/// - `C`: the channels (the last axis): it accepts `Vector<C>` and `Image<H, W, C>`;
/// - `T`: the scalar type, `f32` by default.
#[derive(Clone, Debug, PartialEq)]
#[doc(alias = "BatchNorm")]
pub struct BatchNormalization<const C: usize, T = f32> {
    /// Scale `γ`, one per channel (trainable; Keras initialises it to 1).
    pub gamma: [T; C],
    /// Shift `β`, one per channel (trainable; initially 0).
    pub beta: [T; C],
    /// The moving mean (state; initially 0).
    pub moving_mean: [T; C],
    /// The moving variance (state; initially 1). Never negative: the loaders refuse one.
    pub moving_variance: [T; C],
}

impl<const C: usize, T> BatchNormalization<C, T> {
    /// Keras' default momentum of the moving statistics.
    pub const MOMENTUM: f64 = 0.99;
    /// Keras' default `ε`, added to the variance.
    pub const EPSILON: f64 = 1e-3;

    /// A layer with the given `γ`, `β`, moving mean and moving variance; `const`, so a trained
    /// layer can live in a `static`.
    pub const fn new(gamma: [T; C], beta: [T; C], moving_mean: [T; C], moving_variance: [T; C]) -> Self {
        Self { gamma, beta, moving_mean, moving_variance }
    }
}

/// `const` decoding from a byte image, one impl per float type.
macro_rules! batch_norm_from_bytes {
    ($T:ty, $fill:ident) => {
        impl<const C: usize> BatchNormalization<C, $T> {
            /// The layer whose values start at byte `offset` of a little-endian image (`γ`,
            /// `β`, moving mean, moving variance: Keras' `get_weights()` order), decoded at
            /// compile time when used in a `const` or `static`; see
            /// [`model_from_le_bytes!`](crate::model_from_le_bytes). Values past the end of
            /// `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([0.0; C], [0.0; C], [0.0; C], [0.0; C]);
                let at = crate::io::bytes::$fill(&mut layer.gamma, bytes, offset);
                let at = crate::io::bytes::$fill(&mut layer.beta, bytes, at);
                let at = crate::io::bytes::$fill(&mut layer.moving_mean, bytes, at);
                crate::io::bytes::$fill(&mut layer.moving_variance, bytes, at);
                layer
            }
        }
        impl<const C: usize, S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S>
            for BatchNormalization<C, $T>
        {
            const DECODED: Self = Self::from_le_bytes_at(S::IMAGE, S::OFFSET);
        }
    };
}
batch_norm_from_bytes!(f32, fill_f32);
batch_norm_from_bytes!(f64, fill_f64);

impl<const C: usize, T: Scalar> crate::io::bytes::ConstLoad for BatchNormalization<C, T> {
    const BYTES: usize = 4 * C * T::BYTES;
}

impl<const C: usize, T: Scalar> Default for BatchNormalization<C, T> {
    /// All zeros, like every layer's `Default` (a gradient of this type starts at zero); use
    /// [`init`](Params::init) for Keras' initial values.
    fn default() -> Self {
        Self::new([T::zero(); C], [T::zero(); C], [T::zero(); C], [T::zero(); C])
    }
}

impl<const C: usize, T: Scalar> Params<T> for BatchNormalization<C, T> {
    const PARAMS: usize = 2 * C;
    const STATE: usize = 2 * C;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        [&self.gamma[..], &self.beta[..]].into_iter()
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [&mut self.gamma[..], &mut self.beta[..]].into_iter()
    }

    fn state(&self) -> impl Iterator<Item = &[T]> {
        [&self.moving_mean[..], &self.moving_variance[..]].into_iter()
    }

    fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [&mut self.moving_mean[..], &mut self.moving_variance[..]].into_iter()
    }

    /// Keras' initial values: `γ = 1`, `β = 0`, moving mean 0, moving variance 1.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let _ = rng;
        *self = Self::new([T::one(); C], [T::zero(); C], [T::zero(); C], [T::one(); C]);
    }

    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        visit(&ParamSpec { layer: walk.layer(), name: "gamma", shape: ParamShape::Vector(C) });
        visit(&ParamSpec { layer: walk.layer(), name: "beta", shape: ParamShape::Vector(C) });
        walk.end_layer(walk.channels());
    }

    fn describe_state(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        visit(&ParamSpec { layer: walk.layer(), name: "moving_mean", shape: ParamShape::Vector(C) });
        visit(&ParamSpec { layer: walk.layer(), name: "moving_variance", shape: ParamShape::Vector(C) });
        walk.end_layer(walk.channels());
    }

    fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
        visit(3 * C, false);
        visit(C, true);
    }
}

/// What a [`BatchNormalization<C>`] normalises: a tensor whose last axis has `C` entries
/// (`Vector<C>` or `Image<H, W, C>`); the output has the input's type.
#[diagnostic::on_unimplemented(
    message = "`BatchNormalization<{C}>` normalizes {C} channels, but it is given `{Self}`",
    label = "expected `Vector<{C}>` or `Image<_, _, {C}>`",
    note = "a BatchNormalization normalizes the last axis: its `C` is the channel count of the previous layer's output (the filters of a Conv2D, the outputs of a Dense); a boxed tensor is passed as `&*boxed`"
)]
pub trait NormInput<const C: usize, T: Scalar>: Tensor<Elem = T> {}

#[diagnostic::do_not_recommend]
impl<const C: usize, T: Scalar> NormInput<C, T> for Vector<C, T> {}

#[diagnostic::do_not_recommend]
impl<const H: usize, const W: usize, const C: usize, T: Scalar> NormInput<C, T> for Image<H, W, C, T> {}

impl<const C: usize, T: Scalar> BatchNormalization<C, T> {
    /// `1/√(variance + ε)` per channel.
    fn inverse_std(variance: &[T; C]) -> [T; C] {
        let eps = T::lit(Self::EPSILON);
        variance.map(|v| T::one() / (v + eps).sqrt())
    }

    /// The affine map `y = x·s + (β − mean·s)` with `s = γ/√(variance + ε)`, per channel, as
    /// Keras computes it, in place over `rows` rows of `C`-channel pixels.
    fn normalize(&self, mean: &[T; C], variance: &[T; C], data: &mut [T]) {
        let inv = Self::inverse_std(variance);
        let mut scale = [T::zero(); C];
        let mut shift = [T::zero(); C];
        for c in 0..C {
            let (Some(s), Some(b)) = (scale.get_mut(c), shift.get_mut(c)) else { continue };
            let (Some(&i), Some(&g), Some(&beta), Some(&m)) =
                (inv.get(c), self.gamma.get(c), self.beta.get(c), mean.get(c))
            else {
                continue;
            };
            *s = i * g;
            *b = beta - m * *s;
        }
        for pixel in data.chunks_exact_mut(C.max(1)) {
            for ((v, &s), &b) in pixel.iter_mut().zip(&scale).zip(&shift) {
                *v = *v * s + b;
            }
        }
    }

    /// The per-channel sums `Σ f(c, x)` over every pixel of `data` (pixels of `C` values), in
    /// `f64`, eight channels at a time (eight accumulators: no array of `C` on the stack).
    fn channel_sums(data: &[T], mut f: impl FnMut(usize, usize, T) -> f64) -> [T; C] {
        const BLOCK: usize = 8;
        let mut out = [T::zero(); C];
        let pixels = data.len() / C.max(1);
        for c0 in (0..C).step_by(BLOCK) {
            let width = BLOCK.min(C - c0);
            let mut acc = [0.0f64; BLOCK];
            for p in 0..pixels {
                let at = p * C + c0;
                let Some(values) = data.get(at..at + width) else { break };
                for (k, (a, &v)) in acc.iter_mut().zip(values).enumerate() {
                    *a += f(c0 + k, at + k, v);
                }
            }
            for (o, a) in out.iter_mut().skip(c0).zip(acc.iter().take(width)) {
                *o = T::lit(*a);
            }
        }
        out
    }

    /// The batch mean and biased variance per channel of `n` samples of `len` values.
    fn batch_statistics(data: &[T]) -> ([T; C], [T; C]) {
        let m = (data.len() / C.max(1)).max(1) as f64;
        let sums = Self::channel_sums(data, |_, _, v| v.to_f64_lossless());
        let mean = sums.map(|s| T::lit(s.to_f64_lossless() / m));
        let mean64 = mean.map(Scalar::to_f64_lossless);
        let squares = Self::channel_sums(data, |c, _, v| {
            let d = v.to_f64_lossless() - mean64.get(c).copied().unwrap_or(0.0);
            d * d
        });
        (mean, squares.map(|s| T::lit(s.to_f64_lossless() / m)))
    }
}

impl<X, const C: usize, T: Scalar> Layer<X> for BatchNormalization<C, T>
where
    X: FloatIs<T, Checked = X> + NormInput<C, T>,
{
    type Out = X;
    const NAME: &'static str = "BatchNormalization";

    /// Inference mode: the moving statistics.
    #[inline]
    fn forward(&self, x: &X) -> X {
        let mut y = x.clone();
        self.normalize(&self.moving_mean, &self.moving_variance, y.as_mut_slice());
        y
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X) {
        out.as_mut_slice().copy_from_slice(x.as_slice());
        self.normalize(&self.moving_mean, &self.moving_variance, out.as_mut_slice());
    }

    /// Inference mode, row by row (there is nothing to gain from a GEMM here).
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], _scratch: &mut [T]) {
        let len = n.saturating_mul(X::LEN);
        let (Some(xs), Some(ys)) = (xs.get(..len), ys.get_mut(..len)) else { return };
        ys.copy_from_slice(xs);
        self.normalize(&self.moving_mean, &self.moving_variance, ys);
    }
}

/// The single-sample path is inference mode (see the [module docs](self)): `y = x·s + b` with
/// `s = γ/√(moving_variance + ε)`, so `∂L/∂x = dy·s`, `∂L/∂γ = Σ dy·x̂`, `∂L/∂β = Σ dy`, with
/// `x̂ = (x − moving_mean)/√(moving_variance + ε)`. The batched hooks are training mode.
impl<X, const C: usize, T: Scalar> Backward<X> for BatchNormalization<C, T>
where
    X: FloatIs<T, Checked = X> + NormInput<C, T>,
{
    type Cache = ();

    #[inline]
    fn forward_train(&self, x: &X) -> (X, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, x: &X, _cache: &(), dy: &X, grad: &mut Self, dx: Option<&mut X>) {
        let inv = Self::inverse_std(&self.moving_variance);
        for (xp, dyp) in x.as_slice().chunks_exact(C.max(1)).zip(dy.as_slice().chunks_exact(C.max(1))) {
            for c in 0..C {
                let (Some(&xv), Some(&d), Some(&m), Some(&i)) =
                    (xp.get(c), dyp.get(c), self.moving_mean.get(c), inv.get(c))
                else {
                    continue;
                };
                if let (Some(gg), Some(gb)) = (grad.gamma.get_mut(c), grad.beta.get_mut(c)) {
                    *gg += d * (xv - m) * i;
                    *gb += d;
                }
            }
        }
        if let Some(dx) = dx {
            for (dxp, dyp) in dx.as_mut_slice().chunks_exact_mut(C.max(1)).zip(dy.as_slice().chunks_exact(C.max(1))) {
                for (((dxv, &d), &g), &i) in dxp.iter_mut().zip(dyp).zip(&self.gamma).zip(&inv) {
                    *dxv = d * g * i;
                }
            }
        }
    }

    /// The batch mean and biased variance per channel.
    fn train_cache_len(_: Seal, _n: usize) -> usize {
        2 * C
    }

    fn train_scratch_len(_: Seal, _n: usize) -> usize {
        0
    }

    /// Training mode: normalises with the batch statistics, which it keeps in the cache.
    fn forward_train_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], cache: &mut [T], _scratch: &mut [T]) {
        let len = n.saturating_mul(X::LEN);
        let (Some(xs), Some(ys)) = (xs.get(..len), ys.get_mut(..len)) else { return };
        let Some((mean_out, rest)) = cache.split_at_mut_checked(C) else { return };
        let Some(var_out) = rest.get_mut(..C) else { return };
        let (mean, variance) = Self::batch_statistics(xs);
        mean_out.copy_from_slice(&mean);
        var_out.copy_from_slice(&variance);
        ys.copy_from_slice(xs);
        self.normalize(&mean, &variance, ys);
    }

    /// The full gradient through the batch statistics (see the [module docs](self)), and the
    /// moving statistics' update into `grad`'s state slots.
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[T],
        _ys: &[T],
        cache: &[T],
        dys: &[T],
        grad: &mut Self,
        dxs: Option<&mut [T]>,
        _logits: bool,
        _scratch: &mut [T],
    ) {
        let len = n.saturating_mul(X::LEN);
        let (Some(xs), Some(dys)) = (xs.get(..len), dys.get(..len)) else { return };
        let (Some(mean), Some(variance)) = (cache.get(..C), cache.get(C..2 * C)) else { return };
        let (mut mean_a, mut var_a) = ([T::zero(); C], [T::zero(); C]);
        mean_a.copy_from_slice(mean);
        var_a.copy_from_slice(variance);
        let inv = Self::inverse_std(&var_a);
        let xhat = |c: usize, at: usize| -> f64 {
            let x = xs.get(at).copied().unwrap_or_else(T::zero);
            let (m, i) = (mean_a.get(c).copied().unwrap_or_else(T::zero), inv.get(c).copied().unwrap_or_else(T::zero));
            ((x - m) * i).to_f64_lossless()
        };
        let sum_dy = Self::channel_sums(dys, |_, _, d| d.to_f64_lossless());
        let sum_dy_xhat = Self::channel_sums(dys, |c, at, d| d.to_f64_lossless() * xhat(c, at));
        for c in 0..C {
            if let (Some(gg), Some(gb), Some(&a), Some(&b)) =
                (grad.gamma.get_mut(c), grad.beta.get_mut(c), sum_dy_xhat.get(c), sum_dy.get(c))
            {
                *gg += a;
                *gb += b;
            }
        }
        // The moving statistics' update, applied by `update_state` after the optimizer step.
        let rate = T::lit(1.0 - Self::MOMENTUM);
        let moving = self.moving_mean.iter().zip(&self.moving_variance);
        let updates = grad.moving_mean.iter_mut().zip(grad.moving_variance.iter_mut());
        for (((um, uv), (&mm, &mv)), (&bm, &bv)) in updates.zip(moving).zip(mean_a.iter().zip(&var_a)) {
            *um += rate * (bm - mm);
            *uv += rate * (bv - mv);
        }
        let Some(dxs) = dxs.and_then(|d| d.get_mut(..len)) else { return };
        let m = (len / C.max(1)).max(1) as f64;
        for (p, (dxp, dyp)) in dxs.chunks_exact_mut(C.max(1)).zip(dys.chunks_exact(C.max(1))).enumerate() {
            for (c, (dxv, &d)) in dxp.iter_mut().zip(dyp).enumerate() {
                let (Some(&g), Some(&i), Some(&sd), Some(&sdx)) =
                    (self.gamma.get(c), inv.get(c), sum_dy.get(c), sum_dy_xhat.get(c))
                else {
                    continue;
                };
                let centered =
                    d.to_f64_lossless() - sd.to_f64_lossless() / m - xhat(c, p * C + c) * sdx.to_f64_lossless() / m;
                *dxv = g * i * T::lit(centered);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::SeedRng;
    use std::vec;
    use std::vec::Vec;

    type Bn = BatchNormalization<3, f64>;

    fn layer() -> Bn {
        Bn::new([1.5, -0.5, 2.0], [0.1, 0.2, -0.3], [0.2, -0.1, 0.05], [0.8, 1.3, 0.4])
    }

    /// Three samples of 2×1×3 images (six pixels per channel).
    fn batch() -> [Image<2, 1, 3, f64>; 3] {
        let mut rng = SeedRng::seed(4);
        core::array::from_fn(|_| {
            let mut img = Image::default();
            img.as_mut_slice().iter_mut().for_each(|v| *v = crate::init::uniform01(&mut rng) * 4.0 - 2.0);
            img
        })
    }

    #[test]
    fn inference_mode_uses_the_moving_statistics_per_channel() {
        let bn = layer();
        let x: Image<1, 2, 3, f64> = [[[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]]].into();
        let y = bn.forward(&x);
        for (i, (&xv, &yv)) in x.as_slice().iter().zip(y.as_slice()).enumerate() {
            let c = i % 3;
            let expected = bn.gamma[c] * (xv - bn.moving_mean[c]) / (bn.moving_variance[c] + 1e-3).sqrt() + bn.beta[c];
            assert!((yv - expected).abs() < 1e-12, "{i}: {yv} vs {expected}");
        }
    }

    #[test]
    fn training_mode_normalizes_each_channel_over_samples_and_pixels() {
        let bn = layer();
        let xs = batch();
        let flat: Vec<f64> = xs.iter().flat_map(|x| x.as_slice().to_vec()).collect();
        let mut ys = vec![0.0; flat.len()];
        let mut cache = vec![0.0; 6];
        <Bn as Backward<Image<2, 1, 3, f64>>>::forward_train_batch_flat(
            &bn,
            Seal,
            3,
            &flat,
            &mut ys,
            &mut cache,
            &mut [],
        );
        for c in 0..3 {
            // Independent statistics: the channel's six values, mean and biased variance.
            let values: Vec<f64> = flat.iter().skip(c).step_by(3).copied().collect();
            assert_eq!(values.len(), 6);
            let mean = values.iter().sum::<f64>() / 6.0;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 6.0;
            assert!((cache[c] - mean).abs() < 1e-12 && (cache[3 + c] - var).abs() < 1e-12);
            let out: Vec<f64> = ys.iter().skip(c).step_by(3).copied().collect();
            let out_mean = out.iter().sum::<f64>() / 6.0;
            let out_var = out.iter().map(|v| (v - out_mean) * (v - out_mean)).sum::<f64>() / 6.0;
            // γ·x̂ + β has mean β and variance γ²·σ²/(σ² + ε).
            assert!((out_mean - bn.beta[c]).abs() < 1e-12, "channel {c}");
            assert!((out_var - bn.gamma[c] * bn.gamma[c] * var / (var + 1e-3)).abs() < 1e-12, "channel {c}");
        }
    }

    #[test]
    fn the_batched_backward_writes_keras_moving_average_update_into_the_gradient_state() {
        let mut bn = layer();
        let xs = batch();
        let flat: Vec<f64> = xs.iter().flat_map(|x| x.as_slice().to_vec()).collect();
        let (mut ys, mut cache) = (vec![0.0; flat.len()], vec![0.0; 6]);
        type X = Image<2, 1, 3, f64>;
        <Bn as Backward<X>>::forward_train_batch_flat(&bn, Seal, 3, &flat, &mut ys, &mut cache, &mut []);
        let mut grad = Bn::default();
        let dys = vec![0.5; flat.len()];
        <Bn as Backward<X>>::backward_batch_flat(
            &bn,
            Seal,
            3,
            &flat,
            &ys,
            &cache,
            &dys,
            &mut grad,
            None,
            false,
            &mut [],
        );
        let before = bn.clone();
        crate::params::update_state(&mut bn, &grad);
        for c in 0..3 {
            let mean = before.moving_mean[c] * 0.99 + cache[c] * 0.01;
            let var = before.moving_variance[c] * 0.99 + cache[3 + c] * 0.01;
            assert!((bn.moving_mean[c] - mean).abs() < 1e-15 && (bn.moving_variance[c] - var).abs() < 1e-15);
        }
        // Trainable parameters are untouched by the state update.
        assert_eq!((bn.gamma, bn.beta), (before.gamma, before.beta));
    }

    /// Without `alloc` the `Trainer` runs the single-sample path: inference mode, so the
    /// moving statistics stay where they are while `γ` and `β` train (`cargo test
    /// --no-default-features --lib` runs this).
    #[cfg(not(feature = "alloc"))]
    #[test]
    fn without_alloc_training_keeps_the_moving_statistics_and_trains_gamma_and_beta() {
        use crate::activation::Softmax;
        use crate::loss::SparseCategoricalCrossentropy;
        use crate::optim::Sgd;
        use crate::train::Trainer;
        use crate::{Dense, Vector};
        type Net = (BatchNormalization<2, f64>, Dense<2, 2, Softmax, f64>);
        let mut model: Net = Params::init(&mut SeedRng::seed(1));
        model.0.moving_mean = [0.5, -0.5];
        let xs: [Vector<2, f64>; 4] = [[1.0, 0.0], [0.0, 1.0], [2.0, 0.5], [0.3, 1.5]].map(Vector::from);
        let labels = [1usize, 0, 1, 0];
        let mut trainer = Trainer::new(Sgd::new(0.5), SparseCategoricalCrossentropy::default()).epochs(3).batch_size(2);
        let Ok(_) = trainer.fit(&mut model, &xs, &labels) else { panic!("training failed") };
        assert_eq!((model.0.moving_mean, model.0.moving_variance), ([0.5, -0.5], [1.0, 1.0]));
        assert_ne!((model.0.gamma, model.0.beta), ([1.0, 1.0], [0.0, 0.0]));
    }

    #[test]
    fn byte_image_runs_mark_only_the_moving_variance_non_negative() {
        let mut runs = Vec::new();
        <Bn as Params<f64>>::image_runs(Seal, &mut |len, nonneg| runs.push((len, nonneg)));
        assert_eq!(runs, [(9, false), (3, true)]);
    }
}
