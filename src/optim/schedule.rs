//! Learning-rate schedules: the learning rate as a function of the optimizer's step count,
//! Keras' [`ExponentialDecay`], [`CosineDecay`] (with its linear warmup) and
//! [`PiecewiseConstantDecay`].
//!
//! A schedule is asked for the learning rate of the update that follows `step` earlier ones,
//! exactly as Keras asks its `LearningRateSchedule` with the optimizer's `iterations`: step 0
//! for the first update. The [`Trainer`](crate::train::Trainer) does this before every update
//! (see [`Trainer::learning_rate`](crate::train::Trainer::learning_rate)); in a loop of your
//! own, set it yourself:
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::optim::{ExponentialDecay, LearningRateSchedule};
//! let schedule = ExponentialDecay::new(0.1, 100, 0.96).staircase(true);
//! let mut model: Dense<2, 1> = Dense::new([[0.5], [-0.5]], [0.0]);
//! let grad: Dense<2, 1> = Dense::new([[1.0], [1.0]], [1.0]);
//! let mut opt = Sgd::new(0.0);
//! for _ in 0..3 {
//!     opt.set_learning_rate(schedule.learning_rate(opt.iterations()));
//!     opt.step(&mut model, &grad);
//! }
//! assert_eq!(opt.learning_rate(), 0.1); // steps 0, 1, 2 are all before the first stair
//! assert_eq!(schedule.learning_rate(100), 0.1 * 0.96);
//! ```
//!
//! The values are computed in `f64` whatever the model's float type (the optimizers take
//! their learning rate as an `f64`); Keras computes them in `float32`, so the two agree to
//! float32 rounding (`tests/schedule_clip_l2.rs` compares 41 steps of each kind with Keras'
//! own values, within 1e-6 relative).

use core::f64::consts::PI;

use super::hyperparameter::{self, HyperParameterError};

/// The learning rate as a function of the step count: Keras' `LearningRateSchedule`.
///
/// Implemented by the three Keras schedules, and by `f64` (a constant rate), so that anything
/// that takes a schedule takes a plain number too. Implement it for a schedule of your own:
/// [`learning_rate`](LearningRateSchedule::learning_rate), and
/// [`check`](LearningRateSchedule::check) if some settings cannot be right.
pub trait LearningRateSchedule {
    /// The learning rate of the update that follows `step` earlier updates (Keras passes the
    /// optimizer's `iterations`: 0 for the first update).
    fn learning_rate(&self, step: u64) -> f64;

    /// `Ok` if every setting can be right; otherwise the first that cannot. The default
    /// accepts anything. The [`Trainer`](crate::train::Trainer) calls it before the first
    /// step.
    ///
    /// # Errors
    /// [`HyperParameterError`] naming the setting (as Keras names the argument).
    fn check(&self) -> Result<(), HyperParameterError> {
        Ok(())
    }
}

/// A constant learning rate.
impl LearningRateSchedule for f64 {
    fn learning_rate(&self, _step: u64) -> f64 {
        *self
    }

    /// The rate must be a finite number above 0.
    fn check(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("learning_rate", *self)
    }
}

/// Exponential decay: `lr(step) = initial_learning_rate · decay_rate^(step / decay_steps)`,
/// where `step / decay_steps` is rounded down to an integer with [`staircase`](Self::staircase)
/// (the rate then drops once every `decay_steps` steps).
///
/// **Keras equivalent:** `keras.optimizers.schedules.ExponentialDecay(initial_learning_rate,
/// decay_steps, decay_rate, staircase=False)`.
///
/// # Examples
/// ```
/// use typed_nn::optim::{ExponentialDecay, LearningRateSchedule};
/// let smooth = ExponentialDecay::new(0.1, 10, 0.5);
/// assert_eq!(smooth.learning_rate(0), 0.1);
/// assert_eq!(smooth.learning_rate(10), 0.05);
/// assert!((smooth.learning_rate(5) - 0.1 * 0.5f64.sqrt()).abs() < 1e-15);
/// let stairs = smooth.staircase(true);
/// assert_eq!((stairs.learning_rate(9), stairs.learning_rate(10)), (0.1, 0.05));
/// ```
///
/// # Errors
/// [`check`](LearningRateSchedule::check) refuses an `initial_learning_rate` that is not a
/// finite number above 0, a `decay_steps` of 0 (Keras refuses it too) and a `decay_rate` that
/// is not a finite number above 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// The learning rate at step 0.
    pub initial_learning_rate: f64,
    /// Steps over which the rate is multiplied by `decay_rate` once.
    pub decay_steps: u64,
    /// The factor per `decay_steps` steps.
    pub decay_rate: f64,
    /// Decay at whole multiples of `decay_steps` only (default `false`).
    pub staircase: bool,
}

impl ExponentialDecay {
    /// The smooth schedule (Keras' `staircase=False`).
    pub const fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Self {
        Self { initial_learning_rate, decay_steps, decay_rate, staircase: false }
    }

    /// The same schedule, decaying at whole multiples of `decay_steps` only if `staircase`.
    #[must_use]
    pub const fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn learning_rate(&self, step: u64) -> f64 {
        // `decay_steps = 0` is refused by `check`; here it gives a non-finite rate, never a panic.
        let p = step as f64 / self.decay_steps as f64;
        let p = if self.staircase { libm::floor(p) } else { p };
        self.initial_learning_rate * libm::pow(self.decay_rate, p)
    }

    fn check(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("initial_learning_rate", self.initial_learning_rate)?;
        hyperparameter::positive("decay_steps", self.decay_steps as f64)?;
        hyperparameter::positive("decay_rate", self.decay_rate)
    }
}

/// Cosine decay, after an optional linear warmup.
///
/// Without warmup, from `lr₀ = initial_learning_rate` down to `alpha·lr₀` over `decay_steps`
/// steps, then constant:
///
/// ```text
/// s = min(step, decay_steps)
/// lr(step) = lr₀ · ((1 − alpha) · ½(1 + cos(π·s/decay_steps)) + alpha)
/// ```
///
/// With [`warmup`](Self::warmup)`(target, warmup_steps)`, the rate first rises linearly from
/// `initial_learning_rate` to `target` over `warmup_steps` steps
/// (`lr = initial_learning_rate + (target − initial_learning_rate)·step/warmup_steps`), then
/// decays from `target` as above, with `step − warmup_steps` for `step`.
///
/// **Keras equivalent:** `keras.optimizers.schedules.CosineDecay(initial_learning_rate,
/// decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0)`.
///
/// # Examples
/// ```
/// use typed_nn::optim::{CosineDecay, LearningRateSchedule};
/// let cosine = CosineDecay::new(0.1, 100).alpha(0.1);
/// assert_eq!(cosine.learning_rate(0), 0.1);
/// assert!((cosine.learning_rate(50) - 0.055).abs() < 1e-15); // half way: the mean of 0.1 and 0.01
/// assert!((cosine.learning_rate(100) - 0.01).abs() < 1e-15);
/// assert_eq!(cosine.learning_rate(1_000), cosine.learning_rate(100));
/// // From 0 up to 0.2 in 10 steps, then down to 0 in 100.
/// let warm = CosineDecay::new(0.0, 100).warmup(0.2, 10);
/// assert_eq!((warm.learning_rate(0), warm.learning_rate(5), warm.learning_rate(10)), (0.0, 0.1, 0.2));
/// ```
///
/// # Errors
/// [`check`](LearningRateSchedule::check) refuses a `decay_steps` of 0 (Keras refuses it too),
/// an `alpha` outside `[0, 1]`, a non-finite or negative `initial_learning_rate`, and a
/// non-finite or non-positive warmup target. A rate of 0 at step 0 is allowed: warming up
/// from 0 is the usual recipe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineDecay {
    /// The learning rate at step 0 (where the warmup starts, if any).
    pub initial_learning_rate: f64,
    /// Steps of the cosine part.
    pub decay_steps: u64,
    /// The final rate, as a fraction of the rate the decay starts from (default 0).
    pub alpha: f64,
    /// The rate the warmup ends at and the decay starts from (default `None`: no warmup).
    pub warmup_target: Option<f64>,
    /// Steps of the warmup (default 0).
    pub warmup_steps: u64,
}

impl CosineDecay {
    /// Cosine decay from `initial_learning_rate` to 0 over `decay_steps`, without warmup.
    pub const fn new(initial_learning_rate: f64, decay_steps: u64) -> Self {
        Self { initial_learning_rate, decay_steps, alpha: 0.0, warmup_target: None, warmup_steps: 0 }
    }

    /// The same schedule ending at `alpha` times its starting rate instead of 0.
    #[must_use]
    pub const fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The same schedule after a linear warmup from `initial_learning_rate` to `target` over
    /// `warmup_steps` steps (Keras' `warmup_target`, `warmup_steps`).
    #[must_use]
    pub const fn warmup(mut self, target: f64, warmup_steps: u64) -> Self {
        self.warmup_target = Some(target);
        self.warmup_steps = warmup_steps;
        self
    }

    /// The cosine part at `step` (at most `decay_steps`), starting from `from`.
    fn decay(&self, step: f64, from: f64) -> f64 {
        let cosine = 0.5 * (1.0 + libm::cos(PI * (step / self.decay_steps as f64)));
        from * ((1.0 - self.alpha) * cosine + self.alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn learning_rate(&self, step: u64) -> f64 {
        let decay_steps = self.decay_steps as f64;
        let step = step as f64;
        match self.warmup_target {
            None => self.decay(step.min(decay_steps), self.initial_learning_rate),
            Some(target) => {
                let warmup = self.warmup_steps as f64;
                let step = step.min(decay_steps + warmup);
                if step < warmup {
                    (target - self.initial_learning_rate) * (step / warmup) + self.initial_learning_rate
                } else {
                    self.decay(step - warmup, target)
                }
            }
        }
    }

    fn check(&self) -> Result<(), HyperParameterError> {
        hyperparameter::non_negative("initial_learning_rate", self.initial_learning_rate)?;
        hyperparameter::positive("decay_steps", self.decay_steps as f64)?;
        hyperparameter::fraction("alpha", self.alpha)?;
        match self.warmup_target {
            Some(target) => hyperparameter::positive("warmup_target", target),
            None => Ok(()),
        }
    }
}

/// A constant learning rate per interval of steps: `values[0]` while `step ≤ boundaries[0]`,
/// `values[i]` while `boundaries[i−1] < step ≤ boundaries[i]`, and the last value after the
/// last boundary.
///
/// There is one more value than boundaries; a different count does not compile (Keras raises
/// a `ValueError`):
///
/// ```compile_fail
/// use typed_nn::optim::PiecewiseConstantDecay;
/// // Two boundaries need three values.
/// let wrong = PiecewiseConstantDecay::new([100, 200], [0.1, 0.01]);
/// ```
///
/// **Keras equivalent:** `keras.optimizers.schedules.PiecewiseConstantDecay(boundaries,
/// values)`.
///
/// # Examples
/// ```
/// use typed_nn::optim::{LearningRateSchedule, PiecewiseConstantDecay};
/// let schedule = PiecewiseConstantDecay::new([100, 200], [0.1, 0.05, 0.01]);
/// let at = |step| schedule.learning_rate(step);
/// assert_eq!((at(0), at(100), at(101), at(200), at(201)), (0.1, 0.1, 0.05, 0.05, 0.01));
/// ```
///
/// # Errors
/// [`check`](LearningRateSchedule::check) refuses boundaries that do not strictly increase
/// and values that are not finite numbers above 0.
///
/// Generic parameters: `B` boundaries and `V = B + 1` values, inferred from the arrays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PiecewiseConstantDecay<const B: usize, const V: usize> {
    /// The last step of each interval but the last, strictly increasing.
    pub boundaries: [u64; B],
    /// The rate in each interval.
    pub values: [f64; V],
}

impl<const B: usize, const V: usize> PiecewiseConstantDecay<B, V> {
    /// The schedule with these boundaries and values (one more value than boundaries, checked
    /// when the program is built).
    pub const fn new(boundaries: [u64; B], values: [f64; V]) -> Self {
        const {
            assert!(
                V == B + 1,
                "`PiecewiseConstantDecay::new(boundaries, values)` needs one more value than boundaries: `[100, 200]` cuts the steps into 3 intervals, so 3 values"
            );
        }
        Self { boundaries, values }
    }
}

impl<const B: usize, const V: usize> LearningRateSchedule for PiecewiseConstantDecay<B, V> {
    fn learning_rate(&self, step: u64) -> f64 {
        // The first interval whose boundary the step has not passed; the last value after all.
        let interval = self.boundaries.iter().take_while(|&&b| step > b).count();
        self.values.get(interval).or(self.values.last()).copied().unwrap_or(f64::NAN)
    }

    fn check(&self) -> Result<(), HyperParameterError> {
        for pair in self.boundaries.windows(2) {
            if let [low, high] = *pair
                && high <= low
            {
                return Err(HyperParameterError::new("boundaries", high as f64, "strictly increasing"));
            }
        }
        self.values.iter().try_for_each(|&v| hyperparameter::positive("values", v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_is_the_same_at_every_step() {
        assert_eq!([0, 1, 1 << 40].map(|s| 0.25.learning_rate(s)), [0.25; 3]);
    }

    #[test]
    fn exponential_decay_halves_every_decay_steps() {
        let s = ExponentialDecay::new(0.8, 3, 0.5);
        assert_eq!([0, 3, 6, 9].map(|t| s.learning_rate(t)), [0.8, 0.4, 0.2, 0.1]);
        let stairs = s.staircase(true);
        assert_eq!([0, 2, 3, 5, 6].map(|t| stairs.learning_rate(t)), [0.8, 0.8, 0.4, 0.4, 0.2]);
    }

    #[test]
    fn cosine_decay_without_warmup_ignores_the_warmup_steps_as_keras_does() {
        // Keras skips the warmup when `warmup_target` is None, whatever `warmup_steps` says.
        let mut s = CosineDecay::new(0.1, 10);
        s.warmup_steps = 5;
        assert_eq!(s.learning_rate(0), 0.1);
        assert_eq!(s.learning_rate(10), 0.0);
    }

    #[test]
    fn cosine_decay_after_warmup_is_clamped_at_the_end() {
        let s = CosineDecay::new(0.0, 4).warmup(0.4, 2).alpha(0.25);
        assert_eq!(s.learning_rate(1), 0.2);
        assert_eq!(s.learning_rate(2), 0.4);
        assert_eq!(s.learning_rate(6), 0.1);
        assert_eq!(s.learning_rate(60), 0.1);
    }

    #[test]
    fn piecewise_constant_decay_includes_each_boundary_in_the_interval_before_it() {
        let s = PiecewiseConstantDecay::new([0, 2], [3.0, 2.0, 1.0]);
        assert_eq!([0, 1, 2, 3, 9].map(|t| s.learning_rate(t)), [3.0, 2.0, 2.0, 1.0, 1.0]);
        let single = PiecewiseConstantDecay::new([], [0.5]);
        assert_eq!(single.learning_rate(7), 0.5);
    }

    #[test]
    fn settings_that_cannot_be_right_are_refused_by_name() {
        let name = |r: Result<(), HyperParameterError>| r.err().map(|e| e.name);
        assert_eq!(name(f64::NAN.check()), Some("learning_rate"));
        assert_eq!(name(ExponentialDecay::new(0.1, 0, 0.5).check()), Some("decay_steps"));
        assert_eq!(name(ExponentialDecay::new(f64::INFINITY, 5, 0.5).check()), Some("initial_learning_rate"));
        assert_eq!(name(ExponentialDecay::new(0.1, 5, -0.5).check()), Some("decay_rate"));
        assert_eq!(name(ExponentialDecay::new(0.1, 5, 0.5).check()), None);
        assert_eq!(name(CosineDecay::new(0.1, 0).check()), Some("decay_steps"));
        assert_eq!(name(CosineDecay::new(0.1, 5).alpha(1.5).check()), Some("alpha"));
        assert_eq!(name(CosineDecay::new(-0.1, 5).check()), Some("initial_learning_rate"));
        assert_eq!(name(CosineDecay::new(0.0, 5).warmup(f64::NAN, 2).check()), Some("warmup_target"));
        assert_eq!(name(CosineDecay::new(0.0, 5).warmup(0.1, 2).check()), None);
        assert_eq!(name(PiecewiseConstantDecay::new([5, 5], [0.1, 0.2, 0.3]).check()), Some("boundaries"));
        assert_eq!(name(PiecewiseConstantDecay::new([5, 6], [0.1, 0.0, 0.3]).check()), Some("values"));
        assert_eq!(name(PiecewiseConstantDecay::new([5, 6], [0.1, 0.2, 0.3]).check()), None);
    }
}
