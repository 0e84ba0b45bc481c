//! Losses with Keras 3 semantics: mean squared error, (sparse) categorical cross-entropy and
//! binary cross-entropy.
//!
//! A [`Loss`] scores one sample and gives the gradient of that score with respect to the
//! model's output; the training code averages over the batch (Keras' default reduction,
//! `"sum_over_batch_size"`) by passing `scale = 1/batch`.
//!
//! # Fused gradients
//! Cross-entropy after a softmax has a famously simple gradient with respect to the logits `z`
//! (the softmax's input): `∂L/∂z = p − y`. Going through the softmax's Jacobian instead would
//! divide by `p` and multiply by it again, losing precision where `p` is tiny and all of it
//! where Keras clips `p` at 1e-7. So when the model's last activation is [`Softmax`]
//! (or [`Sigmoid`] for binary cross-entropy), [`Loss::gradient_logits`] returns `p − y`
//! directly and the model back-propagates from the logits. That is exactly Keras' gradient
//! wherever Keras does not clip, and the mathematically right one where it does.
//!
//! [`Softmax`]: crate::activation::Softmax
//! [`Sigmoid`]: crate::activation::Sigmoid

use num_traits::{Float, One, Zero};

use crate::activation::Fusion;
use crate::optim::HyperParameterError;
use crate::train::Task;
use crate::{Scalar, Tensor};

/// Keras' `epsilon()`: probabilities are clipped to `[EPSILON, 1 − EPSILON]` before a log.
pub(crate) const EPSILON: f64 = 1e-7;

/// A loss on one sample's output `Y` against a target.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let p: Vector<3> = Vector::from([0.7, 0.2, 0.1]);
/// let y: Vector<3> = Vector::from([1.0, 0.0, 0.0]);
/// let loss = CategoricalCrossentropy::default().loss(&p, &y);
/// assert!((loss - -(0.7f32).ln()).abs() < 1e-6);
/// ```
pub trait Loss<Y: Tensor> {
    /// What a prediction is compared with: a tensor like `Y`, or a class index.
    type Target;

    /// The loss of one sample.
    fn loss(&self, y: &Y, target: &Self::Target) -> Y::Elem;

    /// The loss of one sample, and `scale · ∂loss/∂y` written into `dy`.
    fn gradient(&self, y: &Y, target: &Self::Target, scale: Y::Elem, dy: &mut Y) -> Y::Elem;

    /// If this loss has a fused form after the activation tagged `fusion`, writes
    /// `scale · ∂loss/∂z` for the logits `z` (the activation's input) into `dz` and returns the
    /// loss; otherwise returns `None` and leaves `dz` alone.
    fn gradient_logits(
        &self,
        y: &Y,
        target: &Self::Target,
        fusion: Fusion,
        scale: Y::Elem,
        dz: &mut Y,
    ) -> Option<Y::Elem> {
        let _ = (y, target, fusion, scale, dz);
        None
    }

    /// Whether `target` is a valid target for this loss: finite values (mean squared error),
    /// probabilities in `[0, 1]` (the cross-entropies), a class index in range (the sparse
    /// cross-entropy). [`value_and_grad`](crate::backprop::value_and_grad), the batch functions
    /// of [`backprop`](crate::backprop) and training check every target up front and refuse an
    /// invalid one with a typed error; the loss itself, called directly, gives NaN for it.
    fn valid_target(&self, target: &Self::Target) -> bool;

    /// `Ok` if every setting of the loss can be right; otherwise the first one that cannot. The
    /// cross-entropies refuse a `label_smoothing` outside `[0, 1]`; the default accepts
    /// everything. The [`Trainer`](crate::train::Trainer) calls it before the first step and
    /// before an evaluation.
    ///
    /// # Errors
    /// [`HyperParameterError`] naming the field, its value and the values it may take.
    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        Ok(())
    }

    /// The task this loss trains for, which picks the metrics the
    /// [`Trainer`](crate::train::Trainer) reports: [`Task::Classification`] (accuracy) unless a
    /// loss says otherwise. [`MeanSquaredError`] says [`Task::Regression`] (`mae`, `mse`),
    /// [`BinaryCrossentropy`] [`Task::BinaryClassification`].
    fn task(&self) -> Task {
        Task::Classification
    }
}

/// Mean squared error over the last axis: `L = (1/N)·Σₖ (yₖ − tₖ)²`; `∂L/∂yₖ = 2·(yₖ − tₖ)/N`.
///
/// **Keras equivalent:** `keras.losses.MeanSquaredError()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[doc(alias = "MSE")]
pub struct MeanSquaredError;

impl<Y: Tensor> Loss<Y> for MeanSquaredError {
    type Target = Y;

    fn loss(&self, y: &Y, target: &Y) -> Y::Elem {
        let n = Y::Elem::lit(Y::LEN as f64);
        y.as_slice().iter().zip(target.as_slice()).map(|(&p, &t)| (p - t) * (p - t)).sum::<Y::Elem>() / n
    }

    fn gradient(&self, y: &Y, target: &Y, scale: Y::Elem, dy: &mut Y) -> Y::Elem {
        let k = scale * Y::Elem::lit(2.0 / Y::LEN as f64);
        for ((d, &p), &t) in dy.as_mut_slice().iter_mut().zip(y.as_slice()).zip(target.as_slice()) {
            *d = k * (p - t);
        }
        self.loss(y, target)
    }

    fn valid_target(&self, target: &Y) -> bool {
        target.as_slice().iter().all(|t| t.is_finite())
    }

    /// A regression: the [`Trainer`](crate::train::Trainer) reports `mae` and `mse`.
    fn task(&self) -> Task {
        Task::Regression
    }
}

/// Categorical cross-entropy against one-hot (or soft) targets.
///
/// On probabilities (the default, as after a softmax): `p ← p/Σp`, clipped to
/// `[1e-7, 1 − 1e-7]`, `L = −Σₖ tₖ·log pₖ`; a NaN probability gives a NaN loss (the clip does
/// not hide it). From logits: `L = −Σₖ tₖ·log_softmax(z)ₖ` with
/// `log_softmax(z)ₖ = (zₖ − max z) − log Σⱼ e^{zⱼ − max z}`, accurate to a few ulps for every
/// finite logit, up to `±f32::MAX` (tested against `f64` at ±1e4, ±1e7, ±1e30 and ±`f32::MAX`);
/// the loss is `+∞` only where the exact loss exceeds the float type's range, and NaN for a NaN
/// or infinite logit. With `label_smoothing = s` the targets become `t·(1 − s) + s/K`.
///
/// Targets are probabilities: every `tₖ` in `[0, 1]` (they need not sum to 1); others are
/// refused by [`Loss::valid_target`].
///
/// After a [`Softmax`](crate::activation::Softmax), the gradient with respect to the logits is
/// fused: `p·Σt − t` (that is `p − t` for one-hot targets). The loss *value* on that path is
/// still Keras' clipped one, computed from `p`: at most `−log 1e-7 ≈ 16.1` per unit of target.
///
/// **Keras equivalent:** `keras.losses.CategoricalCrossentropy(from_logits=False,
/// label_smoothing=0.0)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CategoricalCrossentropy {
    /// The model outputs logits, not probabilities.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]`.
    pub label_smoothing: f64,
}

impl CategoricalCrossentropy {
    /// Cross-entropy on logits (`from_logits=True`).
    pub const fn from_logits() -> Self {
        Self { from_logits: true, label_smoothing: 0.0 }
    }

    /// The smoothed target for class `k` of `n`.
    #[inline]
    fn smooth<T: Scalar>(&self, t: T, n: usize) -> T {
        if self.label_smoothing == 0.0 {
            t
        } else {
            t * T::lit(1.0 - self.label_smoothing) + T::lit(self.label_smoothing / n as f64)
        }
    }
}

/// The shared cross-entropy kernels, with the target given element by element (so the sparse
/// loss reuses them with a one-hot target it never materialises).
mod xent {
    use super::*;

    /// Keras' clip of a probability to `[lo, hi]`, except that NaN stays NaN: `q.max(lo)` would
    /// turn a diverged prediction into `lo` and its loss into a finite 16.118.
    #[inline(always)]
    pub fn clip<T: Scalar>(q: T, lo: T, hi: T) -> T {
        if q < lo {
            lo
        } else if q > hi {
            hi
        } else {
            q
        }
    }

    /// Whether a probability is strictly inside the clip interval, where the clipped loss has a
    /// gradient; NaN counts as inside, so that it reaches the gradient too.
    #[inline(always)]
    pub fn unclipped<T: Scalar>(q: T, lo: T, hi: T) -> bool {
        !(q <= lo || q >= hi)
    }

    /// `−Σ t·log clip(p/Σp)` on probabilities; optionally its gradient with respect to `p`.
    pub fn probs<T: Scalar>(p: &[T], t: impl Fn(usize) -> T, scale: T, dp: Option<&mut [T]>) -> T {
        let sum: T = p.iter().copied().sum();
        let (lo, hi) = (T::lit(EPSILON), T::lit(1.0 - EPSILON));
        let mut loss = T::zero();
        // g = ∂L/∂q for q = p/Σp (0 where clipped), and Σ g·q for the normalisation term.
        let mut g_dot_q = T::zero();
        for (k, &pk) in p.iter().enumerate() {
            let q = pk / sum;
            let c = clip(q, lo, hi);
            loss -= t(k) * c.ln();
            if unclipped(q, lo, hi) {
                g_dot_q -= t(k) / c * q;
            }
        }
        if let Some(dp) = dp {
            for ((d, &pk), k) in dp.iter_mut().zip(p).zip(0..) {
                let q = pk / sum;
                let g = if unclipped(q, lo, hi) { -t(k) / q } else { T::zero() };
                *d = scale * (g - g_dot_q) / sum;
            }
        }
        loss
    }

    /// `−Σ t·log_softmax(z)`; optionally its gradient `softmax(z)·Σt − t` with respect to `z`.
    ///
    /// `log_softmax(z)ₖ = (zₖ − max) − ln Σ exp(z − max)`: the two terms are computed apart, so
    /// the log-sum (in `[0, ln K]`) is never added to a logit of 10⁷ and rounded away, and both
    /// terms of the loss are non-negative (no cancellation). A class with target 0 adds nothing,
    /// even when its log-probability is −∞ (`[f32::MAX, −f32::MAX]`), instead of `0·∞ = NaN`.
    /// A NaN or infinite logit makes the loss NaN.
    pub fn logits<T: Scalar>(z: &[T], t: impl Fn(usize) -> T, scale: T, dz: Option<&mut [T]>) -> T {
        // `max` skips NaN; a NaN logit then makes the log-sum NaN, and with it the loss.
        let max = z.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
        let log_sum = z.iter().map(|&v| (v - max).exp()).sum::<T>().ln();
        let (half, two) = (T::lit(0.5), T::lit(2.0));
        let mut loss = T::zero();
        let mut t_sum = T::zero();
        for (k, &zk) in z.iter().enumerate() {
            let tk = t(k);
            t_sum += tk;
            if tk != T::zero() {
                // −log pₖ = (max − zₖ) + log_sum. The gap overflows only for logits that span
                // more than the float range (f32::MAX and −f32::MAX); halving both is exact
                // there, and the product then rounds once.
                let gap = max - zk;
                let gap_term = if gap.is_finite() { tk * gap } else { tk * (max * half - zk * half) * two };
                loss += gap_term + tk * log_sum;
            }
        }
        if let Some(dz) = dz {
            for ((d, &zk), k) in dz.iter_mut().zip(z).zip(0..) {
                *d = scale * (((zk - max) - log_sum).exp() * t_sum - t(k));
            }
        }
        // A NaN or infinite logit makes the log-sum NaN; so is the loss, even for a target
        // that is 0 wherever that log-sum enters.
        if log_sum.is_nan() { T::nan() } else { loss }
    }

    /// The fused gradient after a softmax, `p·Σt − t`, written as `scale ·` that.
    pub fn fused<T: Scalar>(p: &[T], t: impl Fn(usize) -> T, scale: T, dz: &mut [T]) {
        let t_sum: T = (0..p.len()).map(&t).sum();
        for ((d, &pk), k) in dz.iter_mut().zip(p).zip(0..) {
            *d = scale * (pk * t_sum - t(k));
        }
    }

    /// Every target value is a probability: finite and in `[0, 1]` (NaN fails both bounds).
    pub fn valid<T: Scalar>(t: &[T]) -> bool {
        t.iter().all(|&v| v >= T::zero() && v <= T::one())
    }
}

impl<Y: Tensor> Loss<Y> for CategoricalCrossentropy {
    type Target = Y;

    fn loss(&self, y: &Y, target: &Y) -> Y::Elem {
        let t = |k: usize| self.smooth(target.as_slice().get(k).copied().unwrap_or_else(Y::Elem::zero), Y::LEN);
        if self.from_logits {
            xent::logits(y.as_slice(), t, Y::Elem::one(), None)
        } else {
            xent::probs(y.as_slice(), t, Y::Elem::one(), None)
        }
    }

    fn gradient(&self, y: &Y, target: &Y, scale: Y::Elem, dy: &mut Y) -> Y::Elem {
        let t = |k: usize| self.smooth(target.as_slice().get(k).copied().unwrap_or_else(Y::Elem::zero), Y::LEN);
        if self.from_logits {
            xent::logits(y.as_slice(), t, scale, Some(dy.as_mut_slice()))
        } else {
            xent::probs(y.as_slice(), t, scale, Some(dy.as_mut_slice()))
        }
    }

    fn gradient_logits(&self, y: &Y, target: &Y, fusion: Fusion, scale: Y::Elem, dz: &mut Y) -> Option<Y::Elem> {
        if self.from_logits || fusion != Fusion::Softmax {
            return None;
        }
        let t = |k: usize| self.smooth(target.as_slice().get(k).copied().unwrap_or_else(Y::Elem::zero), Y::LEN);
        xent::fused(y.as_slice(), t, scale, dz.as_mut_slice());
        Some(xent::probs(y.as_slice(), t, scale, None))
    }

    fn valid_target(&self, target: &Y) -> bool {
        xent::valid(target.as_slice())
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        crate::optim::hyperparameter::fraction("label_smoothing", self.label_smoothing)
    }
}

/// Categorical cross-entropy against an integer class label: the same as
/// [`CategoricalCrossentropy`] with a one-hot target, without building it.
///
/// A label outside `0..K` is invalid: [`value_and_grad`](crate::backprop::value_and_grad), the
/// batch functions and training refuse it with an error before computing anything; called
/// directly, the loss is NaN and the gradient zero.
///
/// **Keras equivalent:** `keras.losses.SparseCategoricalCrossentropy(from_logits=False)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SparseCategoricalCrossentropy {
    /// The model outputs logits, not probabilities.
    pub from_logits: bool,
}

impl SparseCategoricalCrossentropy {
    /// Sparse cross-entropy on logits (`from_logits=True`).
    pub const fn from_logits() -> Self {
        Self { from_logits: true }
    }
}

impl<Y: Tensor> Loss<Y> for SparseCategoricalCrossentropy {
    type Target = usize;

    fn loss(&self, y: &Y, &label: &usize) -> Y::Elem {
        if label >= Y::LEN {
            return Y::Elem::nan();
        }
        let t = |k: usize| if k == label { Y::Elem::one() } else { Y::Elem::zero() };
        if self.from_logits {
            xent::logits(y.as_slice(), t, Y::Elem::one(), None)
        } else {
            xent::probs(y.as_slice(), t, Y::Elem::one(), None)
        }
    }

    fn gradient(&self, y: &Y, &label: &usize, scale: Y::Elem, dy: &mut Y) -> Y::Elem {
        if label >= Y::LEN {
            dy.as_mut_slice().fill(Y::Elem::zero());
            return Y::Elem::nan();
        }
        let t = |k: usize| if k == label { Y::Elem::one() } else { Y::Elem::zero() };
        if self.from_logits {
            xent::logits(y.as_slice(), t, scale, Some(dy.as_mut_slice()))
        } else {
            xent::probs(y.as_slice(), t, scale, Some(dy.as_mut_slice()))
        }
    }

    fn gradient_logits(&self, y: &Y, &label: &usize, fusion: Fusion, scale: Y::Elem, dz: &mut Y) -> Option<Y::Elem> {
        if self.from_logits || fusion != Fusion::Softmax || label >= Y::LEN {
            return None;
        }
        let t = |k: usize| if k == label { Y::Elem::one() } else { Y::Elem::zero() };
        xent::fused(y.as_slice(), t, scale, dz.as_mut_slice());
        Some(xent::probs(y.as_slice(), t, scale, None))
    }

    fn valid_target(&self, &label: &usize) -> bool {
        label < Y::LEN
    }
}

/// Binary cross-entropy, averaged over the last axis.
///
/// On probabilities: `p` clipped to `[1e-7, 1 − 1e-7]`,
/// `L = −(1/N)·Σₖ [tₖ·log pₖ + (1 − tₖ)·log(1 − pₖ)]`. From logits, the stable form
/// `(1/N)·Σₖ [max(z, 0) − z·t + log(1 + e^{−|z|})]`. With `label_smoothing = s` the targets
/// become `t·(1 − s) + s/2`. A NaN prediction gives a NaN loss; targets must be in `[0, 1]`.
///
/// After a [`Sigmoid`](crate::activation::Sigmoid), the gradient with respect to the logits is
/// fused: `(p − t)/N`.
///
/// **Keras equivalent:** `keras.losses.BinaryCrossentropy(from_logits=False,
/// label_smoothing=0.0)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryCrossentropy {
    /// The model outputs logits, not probabilities.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]`.
    pub label_smoothing: f64,
}

impl BinaryCrossentropy {
    /// Binary cross-entropy on logits (`from_logits=True`).
    pub const fn from_logits() -> Self {
        Self { from_logits: true, label_smoothing: 0.0 }
    }

    #[inline]
    fn smooth<T: Scalar>(&self, t: T) -> T {
        t * T::lit(1.0 - self.label_smoothing) + T::lit(0.5 * self.label_smoothing)
    }
}

impl<Y: Tensor> Loss<Y> for BinaryCrossentropy {
    type Target = Y;

    fn loss(&self, y: &Y, target: &Y) -> Y::Elem {
        let mut scratch = Y::default();
        self.gradient(y, target, Y::Elem::zero(), &mut scratch)
    }

    fn gradient(&self, y: &Y, target: &Y, scale: Y::Elem, dy: &mut Y) -> Y::Elem {
        let n = Y::Elem::lit(Y::LEN as f64);
        let (lo, hi) = (Y::Elem::lit(EPSILON), Y::Elem::lit(1.0 - EPSILON));
        let one = Y::Elem::one();
        let mut loss = Y::Elem::zero();
        for ((d, &v), &t) in dy.as_mut_slice().iter_mut().zip(y.as_slice()).zip(target.as_slice()) {
            let t = self.smooth(t);
            if self.from_logits {
                loss += v.max(Y::Elem::zero()) - v * t + (-v.abs()).exp().ln_1p();
                let p = one / (one + (-v).exp());
                *d = scale * (p - t) / n;
            } else {
                let c = xent::clip(v, lo, hi);
                loss -= t * c.ln() + (one - t) * (one - c).ln();
                let g = if xent::unclipped(v, lo, hi) { (one - t) / (one - c) - t / c } else { Y::Elem::zero() };
                *d = scale * g / n;
            }
        }
        loss / n
    }

    fn gradient_logits(&self, y: &Y, target: &Y, fusion: Fusion, scale: Y::Elem, dz: &mut Y) -> Option<Y::Elem> {
        if self.from_logits || fusion != Fusion::Sigmoid {
            return None;
        }
        let n = Y::Elem::lit(Y::LEN as f64);
        for ((d, &p), &t) in dz.as_mut_slice().iter_mut().zip(y.as_slice()).zip(target.as_slice()) {
            *d = scale * (p - self.smooth(t)) / n;
        }
        Some(self.loss(y, target))
    }

    fn valid_target(&self, target: &Y) -> bool {
        xent::valid(target.as_slice())
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        crate::optim::hyperparameter::fraction("label_smoothing", self.label_smoothing)
    }

    /// Binary accuracy (Keras' `BinaryAccuracy`): an output counts as "yes" above 0.5, or above
    /// 0 with [`from_logits`](BinaryCrossentropy::from_logits) (Keras keeps 0.5 there, which
    /// misreads logits).
    fn task(&self) -> Task {
        Task::BinaryClassification { threshold: if self.from_logits { 0.0 } else { 0.5 } }
    }
}
