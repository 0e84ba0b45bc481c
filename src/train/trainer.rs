//! [`Trainer`]: Keras' `compile` + `fit` + `evaluate`.

use core::ops::ControlFlow;

use super::adjust::Adjust;
use super::clock::Clock;
use super::order::Order;
use super::progress::Progress;
use super::step::{Batch, Step};
use super::update::Undo;
use super::validation::validate;
use super::{Callback, Control, EpochStats, History, LambdaCallback, MetricSums, MetricTarget, TrainError, TrainPlan};
use crate::init::SeedRng;
use crate::optim::LearningRateSchedule;
use crate::{Backward, Loss, Optimizer, Scalar, Tensor, Zeros};

/// Trains a model with an optimizer and a loss: Keras' `compile` + `fit` + `evaluate`.
///
/// Defaults follow Keras' `fit`: 1 epoch, batch size 32, shuffled each epoch (from
/// [`seed`](Trainer::seed), so runs are reproducible), silent. Examples turn on
/// [`verbose`](Trainer::verbose) for a progress line per epoch (feature `std`).
///
/// # Failure leaves a usable model
/// Training that cannot be right stops with a [`TrainError`] instead of returning a broken
/// model. Settings and data are checked before the first step (nothing changes then); during
/// training, a batch whose loss is NaN or infinite is not applied
/// ([`NonFiniteLoss`](TrainError::NonFiniteLoss)), and a step that makes a weight NaN or
/// infinite is undone ([`NonFiniteParams`](TrainError::NonFiniteParams)). Either way `model`
/// comes back with the weights it had before the failing step (the steps before it stay
/// applied), and the optimizer's state matches them: untouched for a refused loss, reset (as
/// new, [`Optimizer::reset`]) for an undone step, whose update it had already absorbed.
///
/// # Models
/// The model type needs [`Zeros`]: the gradient and the undo copy of the weights are zero
/// values of the model's type, and so is the optimizer's state. Every built-in layer and every
/// tuple of [`bytemuck::Zeroable`] layers has it; a model in a `Box` (`Big::new_boxed()`) gets
/// all of them zeroed on the heap, never built on the stack.
///
/// # Schedules, clipping, L2
/// What Keras sets on the optimizer and the layers besides — a learning-rate
/// [schedule](Trainer::learning_rate), gradient clipping ([`clipnorm`](Trainer::clipnorm),
/// [`global_clipnorm`](Trainer::global_clipnorm), [`clipvalue`](Trainer::clipvalue)) and L2
/// regularisation ([`kernel_regularizer`](Trainer::kernel_regularizer),
/// [`depthwise_regularizer`](Trainer::depthwise_regularizer)) — is set here too (the [guide's
/// chapter 14](crate::guide::ch14_schedules_clipping_l2) says why). `R` is the schedule's type
/// (`f64` until `learning_rate` sets one).
pub struct Trainer<O, L, R = f64> {
    /// The optimizer; its state persists across `fit` calls.
    pub optimizer: O,
    /// The loss.
    pub loss: L,
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    verbose: bool,
    pub(super) adjust: Adjust<R>,
}

impl<O, L> Trainer<O, L> {
    /// A trainer with Keras' `fit` defaults.
    pub const fn new(optimizer: O, loss: L) -> Self {
        let adjust = Adjust::new();
        Self { optimizer, loss, epochs: 1, batch_size: 32, shuffle: true, seed: 0, verbose: false, adjust }
    }
}

impl<O, L, R: LearningRateSchedule> Trainer<O, L, R> {
    /// The same trainer with `f` applied to its schedule, clipping and regularisers.
    pub(super) fn map_adjust<S>(self, f: impl FnOnce(Adjust<R>) -> Adjust<S>) -> Trainer<O, L, S> {
        let Self { optimizer, loss, epochs, batch_size, shuffle, seed, verbose, adjust } = self;
        Trainer { optimizer, loss, epochs, batch_size, shuffle, seed, verbose, adjust: f(adjust) }
    }

    /// Passes over the data per `fit` call (at least 1: `fit` refuses 0 with
    /// [`TrainError::ZeroEpochs`]).
    pub const fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per gradient step (the last batch of an epoch may be smaller; at least 1: `fit`
    /// refuses 0 with [`TrainError::ZeroBatchSize`]).
    pub const fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Shuffle the samples at the start of every epoch (default `true`).
    pub const fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the per-epoch shuffles.
    pub const fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Print one line per epoch to standard output, Keras-style (feature `std`; ignored
    /// without it): `epoch 3/30  loss 0.2481  accuracy 0.9312 …`. While an epoch runs, a
    /// progress bar of its steps is drawn on standard error if that is a terminal, and cleared
    /// before the epoch's line; when it is not (a log file, a pipe, CI) nothing of it appears.
    pub const fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Trains for the configured epochs and returns the [`History`] of every epoch (which reads
    /// as the last epoch's [`EpochStats`]: `trainer.fit(..)?.loss`).
    ///
    /// **Keras equivalent:** `history = model.fit(xs, targets, batch_size, epochs)`.
    ///
    /// # Errors
    /// See [`fit_with_callbacks`](Trainer::fit_with_callbacks).
    pub fn fit<M, X>(&mut self, model: &mut M, xs: &[X], targets: &[L::Target]) -> Result<History, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Zeros,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out> + Clone,
        O: Optimizer<M>,
    {
        self.fit_with_callbacks(model, xs, targets, None, ())
    }

    /// Trains, and after every epoch measures the loss and accuracy on validation data
    /// (Keras' `validation_data`).
    ///
    /// # Errors
    /// See [`fit_with_callbacks`](Trainer::fit_with_callbacks); the validation data is checked
    /// the same way.
    pub fn fit_validated<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        val_xs: &[X],
        val_targets: &[L::Target],
    ) -> Result<History, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Zeros,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out> + Clone,
        O: Optimizer<M>,
    {
        self.fit_with_callbacks(model, xs, targets, Some((val_xs, val_targets)), ())
    }

    /// Optional validation data, and a closure after every epoch that can stop training early
    /// by returning `ControlFlow::Break(())`: [`fit_with_callbacks`](Trainer::fit_with_callbacks)
    /// with a [`LambdaCallback`].
    ///
    /// # Errors
    /// See [`fit_with_callbacks`](Trainer::fit_with_callbacks).
    pub fn fit_with<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        on_epoch: impl FnMut(&EpochStats) -> ControlFlow<()>,
    ) -> Result<History, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Zeros,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out> + Clone,
        O: Optimizer<M>,
    {
        self.fit_with_callbacks(model, xs, targets, validation, LambdaCallback(on_epoch))
    }

    /// The general form: optional validation data (Keras' `validation_data`) and
    /// [callbacks](super::Callback) (Keras' `callbacks=[...]`; several as a tuple, run in order).
    ///
    /// **Keras equivalent:** `model.fit(xs, targets, validation_data=(val_xs, val_targets),
    /// callbacks=[EarlyStopping(...), ReduceLROnPlateau(...)])`.
    ///
    /// # Errors
    /// Before the first step, with nothing changed: [`ZeroBatchSize`], [`ZeroEpochs`],
    /// [`InvalidHyperParameter`] (the optimizer's
    /// [`check_hyperparameters`](Optimizer::check_hyperparameters), then the loss's, then the
    /// schedule's, the clipping bound and the regularisers' factors),
    /// [`UndescribedParams`] (a regulariser is set on a model with a layer of your own that
    /// does not describe its tensors),
    /// [`TrainError::EmptyDataset`], [`LabelCountMismatch`], [`InvalidLabel`],
    /// [`NonFiniteInput`]. During training, naming the epoch and step: [`NonFiniteLoss`] (that
    /// step is not applied) and [`NonFiniteParams`] (that step is undone and the optimizer
    /// reset); see [Failure leaves a usable model](Trainer#failure-leaves-a-usable-model).
    /// From the callbacks: their settings before the first step
    /// ([`InvalidHyperParameter`], [`TrainError::MonitorUnavailable`]), and what they return
    /// after an epoch ([`TrainError::CheckpointNotSaved`] when a file cannot be written); a
    /// learning rate a callback sets that is not a finite number above 0 is
    /// [`InvalidHyperParameter`] after that epoch.
    ///
    /// # Allocation
    /// Two values of the model type, made with [`Zeros`] once per call: the gradient and the
    /// undo copy of the weights (zeroed on the heap for a boxed model; on the stack, like the
    /// model, otherwise). The optimizer's state, on its first step. With feature `alloc`, the
    /// batch buffers (the gathered samples and the batched kernels' workspace), grown on the
    /// first step; without it, nothing else.
    ///
    /// [`ZeroBatchSize`]: TrainError::ZeroBatchSize
    /// [`ZeroEpochs`]: TrainError::ZeroEpochs
    /// [`InvalidHyperParameter`]: TrainError::InvalidHyperParameter
    /// [`UndescribedParams`]: TrainError::UndescribedParams
    /// [`LabelCountMismatch`]: TrainError::LabelCountMismatch
    /// [`InvalidLabel`]: TrainError::InvalidLabel
    /// [`NonFiniteInput`]: TrainError::NonFiniteInput
    /// [`NonFiniteLoss`]: TrainError::NonFiniteLoss
    /// [`NonFiniteParams`]: TrainError::NonFiniteParams
    pub fn fit_with_callbacks<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        mut callbacks: impl Callback<M, X::Elem>,
    ) -> Result<History, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Zeros,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out> + Clone,
        O: Optimizer<M>,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        self.train(xs, targets, validation, &mut callbacks, &mut Batch::<M, X, L>::new(model))
    }

    /// [`fit_with_callbacks`](Trainer::fit_with_callbacks) on `threads` threads (feature
    /// `threads`): each batch is cut into `threads` shards whose gradients are computed in
    /// parallel and summed (see [`crate::threads`]). The same steps as `fit_with_callbacks` up
    /// to float rounding; whether two threads are faster than one depends on the machine and
    /// its load (`BENCHMARKS.md`).
    ///
    /// The helper threads are a rayon pool of `threads − 1` workers that lives for the whole
    /// call; the calling thread runs the loop and the optimizer and computes one shard of each
    /// step. The model and the data are shared with the workers, hence the `Send`/`Sync`
    /// bounds.
    ///
    /// `threads` is capped at [`std::thread::available_parallelism`] (and is at least 1): more
    /// threads than cores only wait for each other. So the shards, and with them the float
    /// rounding of the summed gradient, depend on the machine's core count.
    ///
    /// A closure that `fit_threaded` took before callbacks existed is passed as
    /// [`LambdaCallback(closure)`](LambdaCallback); no callbacks, as `()`.
    ///
    /// # Errors
    /// As [`fit_with_callbacks`](Trainer::fit_with_callbacks).
    ///
    /// # Panics
    /// If a thread panics while computing a gradient (in your loss or a layer of your own),
    /// the panic reaches the caller with its own message, once the step's other shards have
    /// finished. `model` is then as it was after the last completed step (the failing step
    /// never reached the optimizer); the optimizer's state matches it. A panic inside the
    /// optimizer's own step leaves the model as that step left it, unspecified.
    #[cfg(feature = "threads")]
    pub fn fit_threaded<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        threads: usize,
        mut callbacks: impl Callback<M, X::Elem>,
    ) -> Result<History, TrainError>
    where
        X: Tensor + Send + Sync,
        M: Backward<X> + Zeros + Send + Sync,
        M::Out: Send,
        L: Loss<M::Out> + Clone + Send + Sync,
        L::Target: MetricTarget<M::Out> + Clone + Send + Sync,
        O: Optimizer<M>,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        let loss = self.loss.clone();
        crate::threads::with_team(model, xs, targets, loss, threads, |team| {
            self.train(xs, targets, validation, &mut callbacks, team)
        })
    }

    /// The training loop, given how a batch's gradient is computed.
    fn train<M, X, S>(
        &mut self,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        callbacks: &mut impl Callback<M, X::Elem>,
        batch: &mut S,
    ) -> Result<History, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Zeros,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out> + Clone,
        O: Optimizer<M>,
        S: Step<M, X, L>,
    {
        if self.batch_size == 0 {
            return Err(TrainError::ZeroBatchSize);
        }
        if self.epochs == 0 {
            return Err(TrainError::ZeroEpochs);
        }
        self.optimizer.check_hyperparameters()?;
        self.loss.check_hyperparameters()?;
        self.adjust.check(&*batch.model())?;
        validate(&self.loss, xs, targets)?;
        if let Some((vx, vt)) = validation {
            validate(&self.loss, vx, vt)?;
        }
        let task = self.loss.task();
        let mut plan = TrainPlan::new(self.epochs, validation.is_some(), task);
        plan.scheduled = self.adjust.scheduled();
        callbacks.on_train_begin(&*batch.model(), &plan)?;
        let n = xs.len();
        let mut rng = SeedRng::seed(self.seed);
        let mut grad = M::zeros();
        let mut undo = Undo::<M>::new();
        let mut history = History::new();
        for epoch in 1..=self.epochs {
            let clock = Clock::start();
            let order = Order::new(n, self.shuffle, &mut rng);
            let (mut loss_sum, mut metrics) = (0.0f64, MetricSums::default());
            let progress = Progress::start(self.verbose, n.div_ceil(self.batch_size));
            let mut start = 0;
            let mut step = 0;
            while start < n {
                step += 1;
                let end = (start + self.batch_size).min(n);
                grad.zero_params();
                let (loss, batch_metrics) =
                    batch.step(&self.loss, xs, targets, (start..end).map(|i| order.at(i)), &mut grad);
                let loss = loss + self.adjust.regularize(&*batch.model(), &mut grad)?;
                if !loss.is_finite() {
                    return Err(TrainError::NonFiniteLoss { epoch, step });
                }
                self.adjust.clip_and_schedule(&mut self.optimizer, &mut grad);
                if undo.update::<X::Elem, O>(&mut self.optimizer, &mut batch.model(), &grad).is_err() {
                    return Err(TrainError::NonFiniteParams { epoch, step });
                }
                loss_sum += loss * (end - start) as f64;
                metrics.add(batch_metrics);
                start = end;
                progress.step();
            }
            let seconds = clock.seconds();
            progress.finish();
            let (accuracy, mae, mse) = metrics.means(task, n);
            let mut stats = EpochStats {
                epoch,
                loss: loss_sum / n as f64,
                accuracy,
                mae,
                mse,
                learning_rate: self.optimizer.learning_rate(),
                seconds,
                samples_per_second: seconds.map(|s| n as f64 / s),
                ..EpochStats::default()
            };
            if let Some((vx, vt)) = validation {
                let v = self.evaluate(&*batch.model(), vx, vt)?;
                stats.val_loss = Some(v.loss);
                stats.val_accuracy = v.accuracy;
                stats.val_mae = v.mae;
                stats.val_mse = v.mse;
            }
            history.push(stats);
            self.report(&stats);
            let mut control = Control::new(stats.learning_rate);
            callbacks.on_epoch_end(&stats, &mut *batch.model(), &mut control)?;
            if control.learning_rate() != stats.learning_rate {
                if self.adjust.scheduled() {
                    return Err(TrainError::RateSetWithSchedule { epoch });
                }
                crate::optim::hyperparameter::positive("learning_rate", control.learning_rate())?;
                self.optimizer.set_learning_rate(control.learning_rate());
            }
            if control.stopping() {
                break;
            }
        }
        callbacks.on_train_end(&mut *batch.model())?;
        Ok(history)
    }

    /// Mean loss and the metrics of the loss's [`Task`](super::Task) of `model` on the given
    /// data (Keras' `evaluate`).
    ///
    /// # Errors
    /// [`TrainError::InvalidHyperParameter`] (the loss's), [`TrainError::EmptyDataset`],
    /// [`TrainError::LabelCountMismatch`], [`TrainError::InvalidLabel`] or
    /// [`TrainError::NonFiniteInput`].
    pub fn evaluate<M, X>(&self, model: &M, xs: &[X], targets: &[L::Target]) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: crate::Layer<X>,
        L: Loss<M::Out>,
        L::Target: MetricTarget<M::Out>,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        self.loss.check_hyperparameters()?;
        validate(&self.loss, xs, targets)?;
        let task = self.loss.task();
        let (mut loss, mut metrics) = (0.0f64, MetricSums::default());
        for (x, t) in xs.iter().zip(targets) {
            let y = model.forward(x);
            loss += self.loss.loss(&y, t).to_f64_lossless();
            metrics.add(MetricSums::of(task, &y, t));
        }
        let (accuracy, mae, mse) = metrics.means(task, xs.len());
        Ok(EpochStats { loss: loss / xs.len() as f64, accuracy, mae, mse, ..EpochStats::default() })
    }

    /// The model's output for every input, [`batch_size`](Trainer::batch_size) at a time
    /// (feature `alloc`): [`predict`](super::predict) with the trainer's batch size.
    ///
    /// **Keras equivalent:** `model.predict(xs, batch_size=...)`.
    ///
    /// # Errors
    /// [`TrainError::ZeroBatchSize`].
    #[cfg(feature = "alloc")]
    pub fn predict<M, X>(&self, model: &M, xs: &[X]) -> Result<alloc::vec::Vec<M::Out>, TrainError>
    where
        X: Tensor,
        M: crate::Layer<X> + crate::batch::ForwardBatch<X>,
    {
        super::predict(model, xs, self.batch_size)
    }

    fn report(&self, stats: &EpochStats) {
        #[cfg(feature = "std")]
        if self.verbose {
            let width = self.epochs.checked_ilog10().map_or(1, |d| d as usize + 1);
            std::println!("epoch {:>width$}/{}  {stats}", stats.epoch, self.epochs);
        }
        #[cfg(not(feature = "std"))]
        let _ = stats;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::loss::SparseCategoricalCrossentropy;
    use crate::optim::Adam;
    use crate::{Dense, Params, Vector};

    type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);

    fn data() -> ([Vector<2>; 16], [usize; 16]) {
        let xs: [Vector<2>; 16] = core::array::from_fn(|i| Vector::from([(i % 4) as f32 - 1.5, (i / 4) as f32 - 1.5]));
        let labels = xs.map(|x| usize::from(x[0] > x[1]));
        (xs, labels)
    }

    #[test]
    fn training_learns_a_separable_problem_with_or_without_alloc() {
        // Runs the batched path with `alloc` and the per-sample path without (CI tests the
        // library both ways).
        let (xs, labels) = data();
        let mut model: Net = Params::init(&mut SeedRng::seed(2));
        let mut trainer =
            Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).epochs(100).batch_size(4);
        let first = trainer.evaluate(&model, &xs, &labels).unwrap_or_default();
        let last = trainer.fit(&mut model, &xs, &labels).unwrap_or_default();
        assert!(last.accuracy > Some(0.99) && last.loss < first.loss / 4.0, "{first:?} -> {last:?}");
        assert_eq!(last.epoch, 100);
    }

    #[test]
    fn bad_input_is_a_typed_error_before_any_step() {
        let (xs, labels) = data();
        let mut model: Net = Params::init(&mut SeedRng::seed(2));
        let before = model.clone();
        let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default());
        assert_eq!(
            trainer.fit(&mut model, &xs[..3], &labels[..2]),
            Err(TrainError::LabelCountMismatch { samples: 3, labels: 2 })
        );
        assert_eq!(trainer.fit(&mut model, &xs[..0], &labels[..0]), Err(TrainError::EmptyDataset));
        let mut bad_labels = labels;
        bad_labels[5] = 2;
        assert_eq!(trainer.fit(&mut model, &xs, &bad_labels), Err(TrainError::InvalidLabel { index: 5 }));
        let mut nan = xs;
        nan[7] = Vector::from([f32::NAN, 0.0]);
        assert_eq!(trainer.fit(&mut model, &nan, &labels), Err(TrainError::NonFiniteInput { index: 7 }));
        let mut zero = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).batch_size(0);
        assert_eq!(zero.fit(&mut model, &xs, &labels), Err(TrainError::ZeroBatchSize));
        assert_eq!(model, before, "no step was taken");
    }

    #[test]
    fn a_diverging_step_is_undone_and_named_with_or_without_alloc() {
        // Runs the batched path with `alloc` and the per-sample path without. A learning rate
        // of 1e300 is +∞ in f32: the first step, whose loss is finite, makes every weight ±∞
        // (or NaN, ∞·0, where the gradient is 0).
        let (xs, labels) = data();
        let mut model: Net = Params::init(&mut SeedRng::seed(2));
        let before = model.clone();
        let mut trainer = Trainer::new(crate::optim::Sgd::new(1e300), SparseCategoricalCrossentropy::from_logits())
            .epochs(5)
            .batch_size(4);
        assert_eq!(trainer.fit(&mut model, &xs, &labels), Err(TrainError::NonFiniteParams { epoch: 1, step: 1 }));
        assert_eq!(model, before);
    }

    #[test]
    fn settings_that_cannot_be_right_are_refused_with_or_without_alloc() {
        let (xs, labels) = data();
        let mut model: Net = Params::init(&mut SeedRng::seed(2));
        let before = model.clone();
        let mut nan = Trainer::new(Adam::new(f64::NAN), SparseCategoricalCrossentropy::default());
        assert!(matches!(
            nan.fit(&mut model, &xs, &labels),
            Err(TrainError::InvalidHyperParameter(e)) if e.name == "learning_rate"
        ));
        let mut none = Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(0);
        assert_eq!(none.fit(&mut model, &xs, &labels), Err(TrainError::ZeroEpochs));
        assert_eq!(model, before);
    }
}
