//! Callbacks: code the [`Trainer`](super::Trainer) runs around training, as Keras'
//! `callbacks=[...]`: [`EarlyStopping`], [`ReduceLROnPlateau`], [`ModelCheckpoint`] (feature
//! `std`), [`LambdaCallback`] for a closure, or a [`Callback`] of your own.
//!
//! Several callbacks are passed as a tuple `(a, b, c)` (or `&mut a`, to read its state after
//! training); they run in that order, as Keras runs its list.
//!
//! # Differences from Keras
//! - A monitored quantity that the run will not report (`Monitor::ValLoss` without validation
//!   data, `Monitor::Accuracy` for a regression) is an error before the first step,
//!   [`TrainError::MonitorUnavailable`]; Keras warns every epoch and does nothing.
//! - `patience` and `cooldown` are `usize`: a negative one does not compile.
//! - With a learning-rate [schedule](super::Trainer::learning_rate), a callback cannot set the
//!   rate: [`TrainError::RateSetWithSchedule`] (`ReduceLROnPlateau` says so before the first
//!   step), as Keras refuses to assign a rate to an optimizer that has a schedule.

use core::ops::ControlFlow;

use super::{EpochStats, Task, TrainError};
use crate::optim::HyperParameterError;
use crate::{Params, Scalar, Zeros};

/// What the run will report, given to [`Callback::on_train_begin`] so a callback can refuse a
/// quantity that will never be there.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainPlan {
    /// Epochs to train.
    pub epochs: usize,
    /// Whether validation data was given (the `val_` fields will be `Some`).
    pub validation: bool,
    /// The loss's task, which decides the metrics ([`Task`]).
    pub task: Task,
    /// Whether a learning-rate [schedule](super::Trainer::learning_rate) sets the rate before
    /// every update (so a callback cannot).
    pub scheduled: bool,
}

impl TrainPlan {
    /// A plan (public so a test can drive a callback of your own).
    pub const fn new(epochs: usize, validation: bool, task: Task) -> Self {
        Self { epochs, validation, task, scheduled: false }
    }
}

/// What a callback may do at the end of an epoch: stop training, change the learning rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Control {
    learning_rate: f64,
    stop: bool,
}

impl Control {
    /// What the trainer hands the callbacks after an epoch: the optimizer's rate, no stop
    /// (public so a test can drive a callback of your own).
    pub const fn new(learning_rate: f64) -> Self {
        Self { learning_rate, stop: false }
    }

    /// The optimizer's learning rate (with a change an earlier callback made this epoch).
    pub const fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Sets the optimizer's learning rate for the next epoch (Keras:
    /// `model.optimizer.learning_rate = lr`).
    pub const fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// Stops training after this epoch (Keras: `model.stop_training = True`).
    pub const fn stop(&mut self) {
        self.stop = true;
    }

    /// Whether a callback asked to stop.
    pub const fn stopping(&self) -> bool {
        self.stop
    }
}

/// Code run around training, Keras' `keras.callbacks.Callback`.
///
/// `M` is the model type and `T` its scalar type (`f32` or `f64`), so a callback can read and
/// write the weights ([`Params<T>`](crate::Params)).
///
/// **Keras equivalent:** a subclass of `keras.callbacks.Callback` with `on_train_begin`,
/// `on_epoch_end` and `on_train_end`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::train::{Callback, Control};
///
/// /// Halves the learning rate every `every` epochs.
/// struct Halve { every: usize }
/// impl<M, T: Scalar> Callback<M, T> for Halve {
///     fn on_epoch_end(&mut self, stats: &EpochStats, _: &mut M, control: &mut Control) -> Result<(), TrainError> {
///         if stats.epoch % self.every == 0 {
///             control.set_learning_rate(control.learning_rate() / 2.0);
///         }
///         Ok(())
///     }
/// }
/// let xs = [Vector::from([1.0, 0.0]), Vector::from([0.0, 1.0])];
/// let mut model: Dense<2, 2, Softmax> = Dense::init(&mut SeedRng::seed(0));
/// let mut trainer = Trainer::new(Sgd::new(0.4), SparseCategoricalCrossentropy::default()).epochs(4);
/// let history = trainer.fit_with_callbacks(&mut model, &xs, &[0, 1], None, Halve { every: 2 })?;
/// assert_eq!(history.column(|e| Some(e.learning_rate)), [0.4, 0.4, 0.2, 0.2]);
/// assert_eq!(trainer.optimizer.learning_rate(), 0.1);
/// # Ok::<(), TrainError>(())
/// ```
pub trait Callback<M, T: Scalar> {
    /// Before the first epoch: check settings, reset state from an earlier `fit`.
    ///
    /// # Errors
    /// A setting that cannot be right, or a monitored quantity `plan` says will not be there:
    /// training does not start and the model is untouched.
    fn on_train_begin(&mut self, model: &M, plan: &TrainPlan) -> Result<(), TrainError> {
        let _ = (model, plan);
        Ok(())
    }

    /// After each epoch (and its validation), with its statistics.
    ///
    /// # Errors
    /// Stops training with this error (a checkpoint that could not be written).
    fn on_epoch_end(&mut self, stats: &EpochStats, model: &mut M, control: &mut Control) -> Result<(), TrainError>;

    /// After the last epoch, or after a callback stopped training (not after an error).
    ///
    /// # Errors
    /// Returned by `fit` instead of the history.
    fn on_train_end(&mut self, model: &mut M) -> Result<(), TrainError> {
        let _ = model;
        Ok(())
    }
}

/// No callback.
impl<M, T: Scalar> Callback<M, T> for () {
    fn on_epoch_end(&mut self, _: &EpochStats, _: &mut M, _: &mut Control) -> Result<(), TrainError> {
        Ok(())
    }
}

impl<M, T: Scalar, C: Callback<M, T> + ?Sized> Callback<M, T> for &mut C {
    fn on_train_begin(&mut self, model: &M, plan: &TrainPlan) -> Result<(), TrainError> {
        (**self).on_train_begin(model, plan)
    }

    fn on_epoch_end(&mut self, stats: &EpochStats, model: &mut M, control: &mut Control) -> Result<(), TrainError> {
        (**self).on_epoch_end(stats, model, control)
    }

    fn on_train_end(&mut self, model: &mut M) -> Result<(), TrainError> {
        (**self).on_train_end(model)
    }
}

macro_rules! tuple_callbacks {
    ($($c:ident),+) => {
        /// Several callbacks, run in order.
        impl<M, T: Scalar, $($c: Callback<M, T>),+> Callback<M, T> for ($($c,)+) {
            #[allow(non_snake_case)]
            fn on_train_begin(&mut self, model: &M, plan: &TrainPlan) -> Result<(), TrainError> {
                let ($($c,)+) = self;
                $($c.on_train_begin(model, plan)?;)+
                Ok(())
            }

            #[allow(non_snake_case)]
            fn on_epoch_end(&mut self, stats: &EpochStats, model: &mut M, control: &mut Control) -> Result<(), TrainError> {
                let ($($c,)+) = self;
                $($c.on_epoch_end(stats, model, control)?;)+
                Ok(())
            }

            #[allow(non_snake_case)]
            fn on_train_end(&mut self, model: &mut M) -> Result<(), TrainError> {
                let ($($c,)+) = self;
                $($c.on_train_end(model)?;)+
                Ok(())
            }
        }
    };
}

tuple_callbacks!(A);
tuple_callbacks!(A, B);
tuple_callbacks!(A, B, C);
tuple_callbacks!(A, B, C, D);
tuple_callbacks!(A, B, C, D, E);
tuple_callbacks!(A, B, C, D, E, F);

/// A closure run after every epoch that returns `ControlFlow::Break(())` to stop: what
/// [`fit_with`](super::Trainer::fit_with) takes.
///
/// **Keras equivalent:** `keras.callbacks.LambdaCallback(on_epoch_end=...)`.
pub struct LambdaCallback<F>(pub F);

impl<M, T: Scalar, F: FnMut(&EpochStats) -> ControlFlow<()>> Callback<M, T> for LambdaCallback<F> {
    fn on_epoch_end(&mut self, stats: &EpochStats, _: &mut M, control: &mut Control) -> Result<(), TrainError> {
        if (self.0)(stats).is_break() {
            control.stop();
        }
        Ok(())
    }
}

/// A quantity of [`EpochStats`] a callback watches; Keras' `monitor="val_loss"` strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Monitor {
    /// `"loss"`.
    Loss,
    /// `"accuracy"` (classification).
    Accuracy,
    /// `"mae"` (regression).
    Mae,
    /// `"mse"` (regression).
    Mse,
    /// `"val_loss"`, the default of every Keras callback.
    ValLoss,
    /// `"val_accuracy"`.
    ValAccuracy,
    /// `"val_mae"`.
    ValMae,
    /// `"val_mse"`.
    ValMse,
}

impl Monitor {
    /// The quantity in `stats`, if reported.
    pub const fn value(self, stats: &EpochStats) -> Option<f64> {
        match self {
            Self::Loss => Some(stats.loss),
            Self::Accuracy => stats.accuracy,
            Self::Mae => stats.mae,
            Self::Mse => stats.mse,
            Self::ValLoss => stats.val_loss,
            Self::ValAccuracy => stats.val_accuracy,
            Self::ValMae => stats.val_mae,
            Self::ValMse => stats.val_mse,
        }
    }

    /// Keras' name for it (`"val_loss"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Accuracy => "accuracy",
            Self::Mae => "mae",
            Self::Mse => "mse",
            Self::ValLoss => "val_loss",
            Self::ValAccuracy => "val_accuracy",
            Self::ValMae => "val_mae",
            Self::ValMse => "val_mse",
        }
    }

    /// Whether a run as `plan` describes reports it.
    pub fn reported(self, plan: &TrainPlan) -> bool {
        let validation = matches!(self, Self::ValLoss | Self::ValAccuracy | Self::ValMae | Self::ValMse);
        let regression = plan.task == Task::Regression;
        let fits_task = match self {
            Self::Loss | Self::ValLoss => true,
            Self::Accuracy | Self::ValAccuracy => !regression,
            Self::Mae | Self::Mse | Self::ValMae | Self::ValMse => regression,
        };
        fits_task && (plan.validation || !validation)
    }

    /// `mode="auto"`: accuracies are maximised, losses and errors minimised.
    const fn higher_is_better(self) -> bool {
        matches!(self, Self::Accuracy | Self::ValAccuracy)
    }
}

/// Whether the monitored quantity should go down or up, Keras' `mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// From the quantity: up for accuracies, down for losses and errors (Keras' `"auto"`).
    #[default]
    Auto,
    /// Lower is better (`"min"`).
    Min,
    /// Higher is better (`"max"`).
    Max,
}

/// Keras' `MonitorCallback`: a monitored quantity, its direction and `min_delta`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Watch {
    monitor: Monitor,
    mode: Mode,
    min_delta: f64,
}

impl Watch {
    fn check(&self, plan: &TrainPlan) -> Result<(), TrainError> {
        if !self.min_delta.is_finite() {
            return Err(HyperParameterError::new("min_delta", self.min_delta, "a finite number").into());
        }
        if !self.monitor.reported(plan) {
            return Err(TrainError::MonitorUnavailable { monitor: self.monitor });
        }
        Ok(())
    }

    /// Keras' `_is_improvement`: `current − |min_delta| > reference` when maximising,
    /// `current + |min_delta| < reference` when minimising; anything improves on `None`.
    fn is_improvement(&self, current: f64, reference: Option<f64>) -> bool {
        let Some(reference) = reference else { return true };
        let max = match self.mode {
            Mode::Auto => self.monitor.higher_is_better(),
            Mode::Min => false,
            Mode::Max => true,
        };
        if max { current - self.min_delta.abs() > reference } else { current + self.min_delta.abs() < reference }
    }
}

/// Copies every parameter and state tensor of `src` into `dst` (the same type, so the tensors
/// line up).
fn copy_weights<T: Scalar, M: Params<T>>(dst: &mut M, src: &M) {
    for (d, s) in dst.params_mut().zip(src.params()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = s;
        }
    }
    for (d, s) in dst.state_mut().zip(src.state()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = s;
        }
    }
}

/// Stops training when a monitored quantity has stopped improving.
///
/// **Keras equivalent:** `keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0,
/// patience=0, mode="auto", baseline=None, restore_best_weights=False, start_from_epoch=0)`,
/// with Keras 3's rules: `wait` counts epochs since the last improvement (an improvement that
/// does not beat `baseline` does not reset it); training stops when `wait ≥ patience`, never
/// after the first epoch; with `restore_best_weights`, the best epoch's weights are put back at
/// the end of training, whether it stopped early or ran all its epochs.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::train::{EarlyStopping, Monitor};
/// let xs: Vec<Vector<2>> = (0..8).map(|i| Vector::from([(i % 4) as f32, (i / 2) as f32])).collect();
/// let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
/// let mut model: (Dense<2, 8, Relu>, Dense<8, 2, Softmax>) = Params::init(&mut SeedRng::seed(1));
/// let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).epochs(1000).batch_size(4);
/// let stop = EarlyStopping::new().monitor(Monitor::Loss).min_delta(1e-3).patience(5);
/// let history = trainer.fit_with_callbacks(&mut model, &xs, &labels, None, stop)?;
/// assert!(history.epoch < 1000);
/// # Ok::<(), TrainError>(())
/// ```
///
/// # Allocation
/// With `restore_best_weights`, one value of the model type, made with [`Zeros`] at the first
/// monitored epoch (on the heap for a boxed model).
pub struct EarlyStopping<M> {
    watch: Watch,
    patience: usize,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    wait: usize,
    best: Option<f64>,
    best_epoch: usize,
    stopped_epoch: Option<usize>,
    best_weights: Option<M>,
}

impl<M> Default for EarlyStopping<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> EarlyStopping<M> {
    /// Keras' defaults: monitor `val_loss`, `min_delta` 0, `patience` 0, mode auto, no
    /// baseline, no restore, from the first epoch.
    pub const fn new() -> Self {
        Self {
            watch: Watch { monitor: Monitor::ValLoss, mode: Mode::Auto, min_delta: 0.0 },
            patience: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            best: None,
            best_epoch: 0,
            stopped_epoch: None,
            best_weights: None,
        }
    }

    /// The quantity to watch (default [`Monitor::ValLoss`]).
    pub const fn monitor(mut self, monitor: Monitor) -> Self {
        self.watch.monitor = monitor;
        self
    }

    /// Whether lower or higher is better (default [`Mode::Auto`]).
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.watch.mode = mode;
        self
    }

    /// The least change that counts as an improvement (its absolute value, as in Keras).
    pub const fn min_delta(mut self, min_delta: f64) -> Self {
        self.watch.min_delta = min_delta;
        self
    }

    /// Epochs without improvement after which training stops.
    pub const fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// A value the quantity must beat for an improvement to reset the patience.
    pub const fn baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Put the best epoch's weights back at the end of training.
    pub const fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Epochs (counted from 0, as Keras does) to train before watching.
    pub const fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The epoch (from 1) after which it stopped training, if it did.
    pub const fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// The epoch (from 1) with the best monitored value so far, if any was seen.
    pub const fn best_epoch(&self) -> Option<usize> {
        if self.best.is_some() { Some(self.best_epoch) } else { None }
    }
}

impl<T: Scalar, M: Params<T> + Zeros> Callback<M, T> for EarlyStopping<M> {
    fn on_train_begin(&mut self, _: &M, plan: &TrainPlan) -> Result<(), TrainError> {
        self.watch.check(plan)?;
        if let Some(b) = self.baseline.filter(|b| !b.is_finite()) {
            return Err(HyperParameterError::new("baseline", b, "a finite number").into());
        }
        self.wait = 0;
        self.best = None;
        self.best_epoch = 0;
        self.stopped_epoch = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, stats: &EpochStats, model: &mut M, control: &mut Control) -> Result<(), TrainError> {
        // Keras counts epochs from 0.
        let epoch = stats.epoch.saturating_sub(1);
        let Some(current) = self.watch.monitor.value(stats) else { return Ok(()) };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best.is_none() {
            self.save_best(model);
            self.best_epoch = stats.epoch;
        }
        self.wait += 1;
        if self.watch.is_improvement(current, self.best) {
            self.best = Some(current);
            self.best_epoch = stats.epoch;
            if self.restore_best_weights {
                self.save_best(model);
            }
            if self.baseline.is_none() || self.watch.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(stats.epoch);
            control.stop();
        }
        Ok(())
    }

    fn on_train_end(&mut self, model: &mut M) -> Result<(), TrainError> {
        if self.restore_best_weights
            && let Some(best) = &self.best_weights
        {
            copy_weights(model, best);
        }
        self.best_weights = None;
        Ok(())
    }
}

impl<M> EarlyStopping<M> {
    fn save_best<T: Scalar>(&mut self, model: &M)
    where
        M: Params<T> + Zeros,
    {
        let best = self.best_weights.get_or_insert_with(M::zeros);
        copy_weights(best, model);
    }
}

/// Lowers the learning rate when a monitored quantity has stopped improving.
///
/// **Keras equivalent:** `keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.1,
/// patience=10, mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0)`, with Keras 3's rules:
/// after `patience` epochs without an improvement of more than `min_delta`, the rate becomes
/// `max(lr·factor, min_lr)` (if it is above `min_lr`), then `cooldown` epochs pass without
/// counting.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::train::{Monitor, ReduceLROnPlateau};
/// let xs = [Vector::from([1.0, 0.0]), Vector::from([0.0, 1.0])];
/// let mut model: Dense<2, 2, Softmax> = Dense::init(&mut SeedRng::seed(0));
/// // A loss that cannot go down: a rate of 1e-30 changes nothing.
/// let mut trainer = Trainer::new(Sgd::new(1e-30), SparseCategoricalCrossentropy::default()).epochs(6);
/// let plateau = ReduceLROnPlateau::new().monitor(Monitor::Loss).patience(2);
/// let history = trainer.fit_with_callbacks(&mut model, &xs, &[0, 1], None, plateau)?;
/// let rates = history.column(|e| Some(e.learning_rate));
/// assert_eq!(rates[..4], [1e-30, 1e-30, 1e-30, 1e-31]);
/// # Ok::<(), TrainError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(clippy::upper_case_acronyms)]
pub struct ReduceLROnPlateau {
    watch: Watch,
    factor: f64,
    patience: usize,
    cooldown: usize,
    min_lr: f64,
    cooldown_counter: usize,
    wait: usize,
    best: Option<f64>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras' defaults: monitor `val_loss`, factor 0.1, patience 10, mode auto, `min_delta`
    /// 1e-4, cooldown 0, `min_lr` 0.
    pub const fn new() -> Self {
        Self {
            watch: Watch { monitor: Monitor::ValLoss, mode: Mode::Auto, min_delta: 1e-4 },
            factor: 0.1,
            patience: 10,
            cooldown: 0,
            min_lr: 0.0,
            cooldown_counter: 0,
            wait: 0,
            best: None,
        }
    }

    /// The quantity to watch (default [`Monitor::ValLoss`]).
    pub const fn monitor(mut self, monitor: Monitor) -> Self {
        self.watch.monitor = monitor;
        self
    }

    /// Whether lower or higher is better (default [`Mode::Auto`]).
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.watch.mode = mode;
        self
    }

    /// The least change that counts as an improvement (default 1e-4).
    pub const fn min_delta(mut self, min_delta: f64) -> Self {
        self.watch.min_delta = min_delta;
        self
    }

    /// The rate is multiplied by `factor`, in `(0, 1)` (default 0.1).
    pub const fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before the rate is lowered (default 10).
    pub const fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Epochs after a reduction during which no epoch counts (default 0).
    pub const fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The lowest rate it sets, ≥ 0 (default 0).
    pub const fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }
}

impl<M, T: Scalar> Callback<M, T> for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _: &M, plan: &TrainPlan) -> Result<(), TrainError> {
        self.watch.check(plan)?;
        if plan.scheduled {
            return Err(TrainError::RateSetWithSchedule { epoch: 0 });
        }
        // Keras refuses factor ≥ 1 (ValueError); a factor ≤ 0 would make the rate 0 or negative.
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(HyperParameterError::new("factor", self.factor, "in (0, 1)").into());
        }
        if !(self.min_lr >= 0.0 && self.min_lr.is_finite()) {
            return Err(HyperParameterError::new("min_lr", self.min_lr, "a finite number ≥ 0").into());
        }
        self.best = None;
        self.cooldown_counter = 0;
        self.wait = 0;
        Ok(())
    }

    fn on_epoch_end(&mut self, stats: &EpochStats, _: &mut M, control: &mut Control) -> Result<(), TrainError> {
        let Some(current) = self.watch.monitor.value(stats) else { return Ok(()) };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.watch.is_improvement(current, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = control.learning_rate();
                // Keras compares with the float32 `min_lr`.
                if old > f64::from(self.min_lr as f32) {
                    control.set_learning_rate((old * self.factor).max(self.min_lr));
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}

/// Saves the model as a safetensors file (Keras' names) after every epoch, or only when the
/// monitored quantity improved (feature `std`).
///
/// **Keras equivalent:** `keras.callbacks.ModelCheckpoint(filepath, monitor="val_loss",
/// save_best_only=False, mode="auto", initial_value_threshold=None)`, writing the weights as
/// [`save_safetensors`](crate::io::Safetensors::save_safetensors) does (load them back with
/// [`load_safetensors`](crate::io::Safetensors::load_safetensors)).
///
/// # Errors
/// A file that cannot be written stops training with [`TrainError::CheckpointNotSaved`].
#[cfg(feature = "std")]
pub struct ModelCheckpoint {
    path: std::path::PathBuf,
    watch: Watch,
    save_best_only: bool,
    best: Option<f64>,
    initial_value_threshold: Option<f64>,
    saved_epoch: Option<usize>,
}

#[cfg(feature = "std")]
impl ModelCheckpoint {
    /// Saves to `path` after every epoch (Keras' defaults).
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self {
            path: path.into(),
            watch: Watch { monitor: Monitor::ValLoss, mode: Mode::Auto, min_delta: 0.0 },
            save_best_only: false,
            best: None,
            initial_value_threshold: None,
            saved_epoch: None,
        }
    }

    /// The quantity to watch (default [`Monitor::ValLoss`]).
    #[must_use]
    pub const fn monitor(mut self, monitor: Monitor) -> Self {
        self.watch.monitor = monitor;
        self
    }

    /// Whether lower or higher is better (default [`Mode::Auto`]).
    #[must_use]
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.watch.mode = mode;
        self
    }

    /// Save only when the monitored quantity improved on the best so far.
    #[must_use]
    pub const fn save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// A value the first saved epoch must beat (with `save_best_only`).
    #[must_use]
    pub const fn initial_value_threshold(mut self, threshold: f64) -> Self {
        self.initial_value_threshold = Some(threshold);
        self
    }

    /// The last epoch (from 1) saved, if any.
    pub const fn saved_epoch(&self) -> Option<usize> {
        self.saved_epoch
    }
}

#[cfg(feature = "std")]
impl<T: Scalar, M: crate::io::Safetensors<T>> Callback<M, T> for ModelCheckpoint {
    fn on_train_begin(&mut self, model: &M, plan: &TrainPlan) -> Result<(), TrainError> {
        if self.save_best_only {
            self.watch.check(plan)?;
        }
        // A model that cannot be saved (a layer of your own without names) is refused now.
        model.save_safetensors().map_err(|_| TrainError::CheckpointNotSaved { epoch: 0, io: None })?;
        self.best = self.initial_value_threshold;
        self.saved_epoch = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, stats: &EpochStats, model: &mut M, _: &mut Control) -> Result<(), TrainError> {
        if self.save_best_only {
            let Some(current) = self.watch.monitor.value(stats) else { return Ok(()) };
            if !self.watch.is_improvement(current, self.best) {
                return Ok(());
            }
            self.best = Some(current);
        }
        let epoch = stats.epoch;
        let bytes = model.save_safetensors().map_err(|_| TrainError::CheckpointNotSaved { epoch, io: None })?;
        std::fs::write(&self.path, bytes).map_err(|e| TrainError::CheckpointNotSaved { epoch, io: Some(e.kind()) })?;
        self.saved_epoch = Some(epoch);
        Ok(())
    }
}
