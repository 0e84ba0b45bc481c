//! Training: epochs of shuffled mini-batches, Keras' `model.fit` and `model.evaluate`.
//!
//! ```
//! use typed_nn::prelude::*;
//! // Learn y = x₀ > x₁ from eight points.
//! let xs: Vec<Vector<2>> = (0..8).map(|i| Vector::from([(i % 4) as f32, (i / 2) as f32])).collect();
//! let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
//! type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);
//! let mut model: Net = Net::init(&mut SeedRng::seed(1));
//! let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default())
//!     .epochs(150)
//!     .batch_size(4);
//! let last = trainer.fit(&mut model, &xs, &labels)?;
//! assert!(last.accuracy > 0.99, "{last:?}");
//! # Ok::<(), typed_nn::train::TrainError>(())
//! ```
//!
//! With feature `alloc` each mini-batch goes through the batched kernels (one GEMM per `Dense`
//! and direction) with buffers reused across steps; without it, samples are processed one at a
//! time with no heap at all, for on-device fine-tuning. Both compute the same mean gradient.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;
use core::ops::ControlFlow;

use num_traits::Float;

#[cfg(not(feature = "alloc"))]
use crate::backprop::value_and_grad_scaled;
use crate::init::SeedRng;
use crate::optim::{Clip, HyperParameterError, LearningRateSchedule};
use crate::regularizer::{L2, UndescribedParams};
use crate::{Backward, Loss, Optimizer, Scalar, Tensor, Vector};

/// A target that names a class: a class index, or a one-hot (or probability) vector, whose
/// class is its largest entry. Accuracy compares it with the prediction's largest entry.
pub trait AsClass {
    /// The class this target names.
    fn class(&self) -> usize;
}

impl AsClass for usize {
    fn class(&self) -> usize {
        *self
    }
}

impl<const N: usize, T: Scalar> AsClass for Vector<N, T> {
    fn class(&self) -> usize {
        self.argmax()
    }
}

/// The index of the largest element of a prediction.
fn predicted_class<Y: Tensor>(y: &Y) -> usize {
    let mut best = (0, Y::Elem::neg_infinity());
    for (i, &v) in y.as_slice().iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Why training or evaluation did not run (or stopped).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// There are no samples.
    EmptyDataset,
    /// `batch_size` is 0.
    ZeroBatchSize,
    /// A setting that cannot be right: a learning-rate schedule's (a non-finite rate, a
    /// `decay_steps` of 0), a clipping bound ≤ 0, a negative L2 factor. Found before the first
    /// step: the model and the optimizer are untouched.
    InvalidHyperParameter(HyperParameterError),
    /// A [`kernel_regularizer`](Trainer::kernel_regularizer) is set, but the model's kernels
    /// cannot be told from its other weights (a layer of your own keeps the default
    /// `describe_params`). Found before the first step.
    UndescribedParams(UndescribedParams),
    /// The number of labels (targets) differs from the number of samples.
    LabelCountMismatch {
        /// Samples given.
        samples: usize,
        /// Labels given.
        labels: usize,
    },
    /// A label is out of range for the model's outputs, or a target value is not finite.
    InvalidLabel {
        /// Position of the sample.
        index: usize,
    },
    /// A sample contains NaN or infinity.
    NonFiniteInput {
        /// Position of the sample.
        index: usize,
    },
    /// The loss became NaN or infinite; the step that produced it was not applied.
    NonFiniteLoss {
        /// Epoch, from 1.
        epoch: usize,
        /// Step within the epoch, from 1.
        step: usize,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyDataset => f.write_str("the dataset is empty; pass at least one sample"),
            Self::ZeroBatchSize => f.write_str("batch size 0; use at least 1"),
            Self::InvalidHyperParameter(e) => write!(f, "{e}"),
            Self::UndescribedParams(e) => write!(f, "{e}"),
            Self::LabelCountMismatch { samples, labels } => {
                write!(f, "{samples} samples but {labels} labels; pass one label per sample")
            }
            Self::InvalidLabel { index } => {
                write!(f, "label {index} is out of range for the model's outputs (or not finite)")
            }
            Self::NonFiniteInput { index } => {
                write!(f, "sample {index} contains NaN or infinity; clean or drop it before training")
            }
            Self::NonFiniteLoss { epoch, step } => write!(
                f,
                "the loss became NaN or infinite at epoch {epoch}, step {step} (not applied); lower the learning rate or check the data"
            ),
        }
    }
}

impl core::error::Error for TrainError {}

/// What one epoch (or an evaluation) measured.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct EpochStats {
    /// Epoch number, from 1 (0 for [`Trainer::evaluate`]).
    pub epoch: usize,
    /// Mean loss over the epoch's samples (measured during training, as Keras reports it).
    pub loss: f64,
    /// Fraction of samples whose largest output is the target's class.
    pub accuracy: f64,
    /// Mean loss on the validation data, if given.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation data, if given.
    pub val_accuracy: Option<f64>,
    /// Wall time of the epoch (with `std`; training steps only, not validation).
    pub seconds: Option<f64>,
    /// Training samples per second (with `std`).
    pub samples_per_second: Option<f64>,
}

impl fmt::Display for EpochStats {
    /// Keras-style progress line: `epoch 3/30  loss 0.2481  accuracy 0.9312  …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.4}  accuracy {:.4}", self.loss, self.accuracy)?;
        if let (Some(l), Some(a)) = (self.val_loss, self.val_accuracy) {
            write!(f, "  val_loss {l:.4}  val_accuracy {a:.4}")?;
        }
        if let (Some(s), Some(r)) = (self.seconds, self.samples_per_second) {
            write!(f, "  {:.1} ms  {:.0} samples/s", s * 1e3, r)?;
        }
        Ok(())
    }
}

/// The order in which an epoch visits the samples.
enum Order {
    /// A Fisher–Yates permutation (feature `alloc`).
    #[cfg(feature = "alloc")]
    Shuffled(Vec<usize>),
    /// `i ↦ (a·i + b) mod n` with `gcd(a, n) = 1`: a permutation that needs no memory, for
    /// `no_std` without `alloc`. It mixes less than a uniform shuffle, but every epoch visits
    /// every sample once, in an order that changes per epoch.
    #[cfg_attr(feature = "alloc", allow(dead_code))]
    Affine { a: usize, b: usize, n: usize },
    /// In order.
    Sequential,
}

impl Order {
    fn new(n: usize, shuffle: bool, rng: &mut SeedRng) -> Self {
        if !shuffle {
            return Order::Sequential;
        }
        #[cfg(feature = "alloc")]
        {
            let mut p: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                p.swap(i, rng.below(i + 1));
            }
            Order::Shuffled(p)
        }
        #[cfg(not(feature = "alloc"))]
        Self::affine(n, rng)
    }

    /// A random affine permutation of `0..n`: `a` coprime to `n`, `b` any offset.
    #[cfg_attr(feature = "alloc", allow(dead_code))]
    fn affine(n: usize, rng: &mut SeedRng) -> Self {
        let mut a = 1 + rng.below(n.max(1));
        while gcd(a, n) != 1 {
            a = a % n.max(1) + 1;
        }
        Order::Affine { a, b: rng.below(n.max(1)), n }
    }

    fn at(&self, i: usize) -> usize {
        match self {
            #[cfg(feature = "alloc")]
            Order::Shuffled(p) => p.get(i).copied().unwrap_or(i),
            Order::Affine { a, b, n } => (a.wrapping_mul(i).wrapping_add(*b)) % (*n).max(1),
            Order::Sequential => i,
        }
    }
}

#[cfg_attr(feature = "alloc", allow(dead_code))]
fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Trains a model with an optimizer and a loss: Keras' `compile` + `fit` + `evaluate`.
///
/// Defaults follow Keras' `fit`: 1 epoch, batch size 32, shuffled each epoch (from
/// [`seed`](Trainer::seed), so runs are reproducible), silent. Examples turn on
/// [`verbose`](Trainer::verbose) for a progress line per epoch (feature `std`).
///
/// What Keras sets on the optimizer and the layers besides — a learning-rate
/// [schedule](Trainer::learning_rate), gradient clipping ([`clipnorm`](Trainer::clipnorm),
/// [`global_clipnorm`](Trainer::global_clipnorm), [`clipvalue`](Trainer::clipvalue)) and L2
/// [kernel regularisation](Trainer::kernel_regularizer) — is set here too (see the [guide's
/// chapter 13](crate::guide::ch13_schedules_clipping_l2) for why).
///
/// Generic parameters: the optimizer `O`, the loss `L`, and `R`, the type of the learning-rate
/// schedule (`f64` until [`learning_rate`](Trainer::learning_rate) sets one).
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
    schedule: Option<R>,
    clip: Option<Clip>,
    kernel_regularizer: Option<L2>,
}

impl<O, L> Trainer<O, L> {
    /// A trainer with Keras' `fit` defaults.
    pub const fn new(optimizer: O, loss: L) -> Self {
        Self {
            optimizer,
            loss,
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            verbose: false,
            schedule: None,
            clip: None,
            kernel_regularizer: None,
        }
    }
}

impl<O, L, R: LearningRateSchedule> Trainer<O, L, R> {
    /// Sets the optimizer's learning rate from `schedule` before every update, as
    /// `schedule.learning_rate(optimizer.iterations())` (Keras asks a schedule with the
    /// optimizer's `iterations`: 0 for the first update). The rate the optimizer was built
    /// with is not used.
    ///
    /// **Keras equivalent:** `Adam(learning_rate=schedule)`.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// use typed_nn::optim::CosineDecay;
    /// let xs = [Vector::from([1.0, 0.0]), Vector::from([0.0, 1.0])];
    /// let mut model: Dense<2, 2, Softmax> = Dense::init(&mut SeedRng::seed(0));
    /// let mut trainer = Trainer::new(Sgd::default(), SparseCategoricalCrossentropy::default())
    ///     .learning_rate(CosineDecay::new(0.5, 10))
    ///     .epochs(10);
    /// trainer.fit(&mut model, &xs, &[0, 1])?;
    /// // The rate of the tenth and last update: step 9 of 10.
    /// assert!((trainer.optimizer.learning_rate() - 0.5 * 0.5 * (1.0 + (0.9 * core::f64::consts::PI).cos())).abs() < 1e-12);
    /// # Ok::<(), TrainError>(())
    /// ```
    pub fn learning_rate<S: LearningRateSchedule>(self, schedule: S) -> Trainer<O, L, S> {
        Trainer {
            optimizer: self.optimizer,
            loss: self.loss,
            epochs: self.epochs,
            batch_size: self.batch_size,
            shuffle: self.shuffle,
            seed: self.seed,
            verbose: self.verbose,
            schedule: Some(schedule),
            clip: self.clip,
            kernel_regularizer: self.kernel_regularizer,
        }
    }

    /// Clips each parameter tensor's gradient to an L2 norm of at most `clipnorm` before every
    /// update ([`Clip::Norm`]). Keras allows one kind of clipping: the last of `clipnorm`,
    /// [`global_clipnorm`](Trainer::global_clipnorm) and [`clipvalue`](Trainer::clipvalue)
    /// set is the one used.
    ///
    /// **Keras equivalent:** `Adam(clipnorm=1.0)` (any optimizer).
    pub const fn clipnorm(mut self, clipnorm: f64) -> Self {
        self.clip = Some(Clip::Norm(clipnorm));
        self
    }

    /// Clips the gradient of all parameters together to an L2 norm of at most
    /// `global_clipnorm` before every update ([`Clip::GlobalNorm`]).
    ///
    /// **Keras equivalent:** `Adam(global_clipnorm=1.0)` (any optimizer).
    pub const fn global_clipnorm(mut self, global_clipnorm: f64) -> Self {
        self.clip = Some(Clip::GlobalNorm(global_clipnorm));
        self
    }

    /// Clips every element of the gradient to `[−clipvalue, clipvalue]` before every update
    /// ([`Clip::Value`]).
    ///
    /// **Keras equivalent:** `Adam(clipvalue=0.5)` (any optimizer).
    pub const fn clipvalue(mut self, clipvalue: f64) -> Self {
        self.clip = Some(Clip::Value(clipvalue));
        self
    }

    /// Regularises every kernel of the model (every `Dense` and `Conv2D`, not biases and not
    /// `BatchNormalization`'s weights): `l2·Σw²` is added to each batch's loss, in the
    /// reported loss as in Keras', and `2·l2·w` to the kernels' gradient, before clipping.
    ///
    /// **Keras equivalent:** `kernel_regularizer=l2(1e-4)` on every `Dense` and `Conv2D`.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// use typed_nn::regularizer::L2;
    /// let xs = [Vector::from([1.0, 0.0]), Vector::from([0.0, 1.0])];
    /// let mut model: Dense<2, 2, Softmax> = Dense::new([[2.0, 0.0], [0.0, 2.0]], [0.0, 0.0]);
    /// let mut trainer = Trainer::new(Sgd::new(1e-30), SparseCategoricalCrossentropy::default())
    ///     .kernel_regularizer(L2::new(0.01));
    /// let data_only = trainer.evaluate(&model, &xs, &[0, 1])?.loss;
    /// let reported = trainer.fit(&mut model, &xs, &[0, 1])?.loss;
    /// // The reported loss includes 0.01·(2² + 2²) = 0.08.
    /// assert!((reported - data_only - 0.08).abs() < 1e-6, "{reported} {data_only}");
    /// # Ok::<(), TrainError>(())
    /// ```
    pub const fn kernel_regularizer(mut self, l2: L2) -> Self {
        self.kernel_regularizer = Some(l2);
        self
    }

    /// Passes over the data per `fit` call.
    pub const fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per gradient step (the last batch of an epoch may be smaller).
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

    /// Print one line per epoch to standard output (feature `std`; ignored without it).
    pub const fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Trains for the configured epochs and returns the last epoch's statistics.
    ///
    /// # Errors
    /// See [`fit_with`](Trainer::fit_with).
    pub fn fit<M, X>(&mut self, model: &mut M, xs: &[X], targets: &[L::Target]) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Default,
        L: Loss<M::Out>,
        L::Target: AsClass + Clone,
        O: Optimizer<M>,
    {
        self.fit_with(model, xs, targets, None, |_| ControlFlow::Continue(()))
    }

    /// Trains, and after every epoch measures the loss and accuracy on validation data
    /// (Keras' `validation_data`).
    ///
    /// # Errors
    /// See [`fit_with`](Trainer::fit_with); the validation data is checked the same way.
    pub fn fit_validated<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        val_xs: &[X],
        val_targets: &[L::Target],
    ) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Default,
        L: Loss<M::Out>,
        L::Target: AsClass + Clone,
        O: Optimizer<M>,
    {
        self.fit_with(model, xs, targets, Some((val_xs, val_targets)), |_| ControlFlow::Continue(()))
    }

    /// The general form: optional validation data, and a callback after every epoch that can
    /// stop training early by returning `ControlFlow::Break(())` (or record a history).
    ///
    /// # Errors
    /// Before the first step: [`TrainError::EmptyDataset`], [`ZeroBatchSize`],
    /// [`LabelCountMismatch`], [`InvalidLabel`], [`NonFiniteInput`]. During training:
    /// [`NonFiniteLoss`], naming the epoch and step (that step is not applied).
    ///
    /// [`ZeroBatchSize`]: TrainError::ZeroBatchSize
    /// [`LabelCountMismatch`]: TrainError::LabelCountMismatch
    /// [`InvalidLabel`]: TrainError::InvalidLabel
    /// [`NonFiniteInput`]: TrainError::NonFiniteInput
    /// [`NonFiniteLoss`]: TrainError::NonFiniteLoss
    ///
    /// With a schedule, clipping or a regulariser set, also before the first step:
    /// [`TrainError::InvalidHyperParameter`] and [`TrainError::UndescribedParams`].
    pub fn fit_with<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        mut on_epoch: impl FnMut(&EpochStats) -> ControlFlow<()>,
    ) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Default,
        L: Loss<M::Out>,
        L::Target: AsClass + Clone,
        O: Optimizer<M>,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        self.train(xs, targets, validation, &mut on_epoch, &mut Batch::<M, X, L>::new(model))
    }

    /// [`fit_with`](Trainer::fit_with) on `threads` threads (feature `threads`): each batch is
    /// cut into `threads` shards whose gradients are computed in parallel and summed (see
    /// [`crate::threads`]). The same steps as `fit_with` up to float rounding; two threads
    /// train `(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)` in batches of 128 1.2–1.5× as fast
    /// as one on this repository's 2-core benchmark machine (`BENCHMARKS.md`).
    ///
    /// The helper threads live for the whole call and wait for each step spinning (then
    /// parked, when idle for long), so a step's hand-off costs well under a microsecond; the
    /// model and the data are shared with them, hence the `Send`/`Sync` bounds.
    ///
    /// # Errors
    /// As [`fit_with`](Trainer::fit_with).
    #[cfg(feature = "threads")]
    pub fn fit_threaded<M, X>(
        &mut self,
        model: &mut M,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        threads: usize,
        mut on_epoch: impl FnMut(&EpochStats) -> ControlFlow<()>,
    ) -> Result<EpochStats, TrainError>
    where
        X: Tensor + Send + Sync,
        M: Backward<X> + Default + Send + Sync,
        M::Out: Send,
        L: Loss<M::Out> + Clone + Send + Sync,
        L::Target: AsClass + Clone + Send + Sync,
        O: Optimizer<M>,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        let loss = self.loss.clone();
        crate::threads::with_team(model, xs, targets, loss, threads, |team| {
            self.train(xs, targets, validation, &mut on_epoch, team)
        })
    }

    /// The training loop, given how a batch's gradient is computed.
    fn train<M, X, S>(
        &mut self,
        xs: &[X],
        targets: &[L::Target],
        validation: Option<(&[X], &[L::Target])>,
        on_epoch: &mut impl FnMut(&EpochStats) -> ControlFlow<()>,
        batch: &mut S,
    ) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: Backward<X> + Default,
        L: Loss<M::Out>,
        L::Target: AsClass + Clone,
        O: Optimizer<M>,
        S: Step<M, X, L>,
    {
        if self.batch_size == 0 {
            return Err(TrainError::ZeroBatchSize);
        }
        self.check_update(&*batch.model())?;
        validate(&self.loss, xs, targets)?;
        if let Some((vx, vt)) = validation {
            validate(&self.loss, vx, vt)?;
        }
        let n = xs.len();
        let mut rng = SeedRng::seed(self.seed);
        let mut grad = M::default();
        let mut last = EpochStats::default();
        for epoch in 1..=self.epochs {
            let clock = Clock::start();
            let order = Order::new(n, self.shuffle, &mut rng);
            let (mut loss_sum, mut correct) = (0.0f64, 0usize);
            let mut start = 0;
            let mut step = 0;
            while start < n {
                step += 1;
                let end = (start + self.batch_size).min(n);
                grad.zero_params();
                let (loss, hits) = batch.step(&self.loss, xs, targets, (start..end).map(|i| order.at(i)), &mut grad);
                let loss = loss + self.regularize(&*batch.model(), &mut grad)?;
                if !loss.is_finite() {
                    return Err(TrainError::NonFiniteLoss { epoch, step });
                }
                self.clip_and_schedule(&mut grad);
                self.optimizer.step(&mut *batch.model(), &grad);
                crate::params::update_state(&mut *batch.model(), &grad);
                loss_sum += loss * (end - start) as f64;
                correct += hits;
                start = end;
            }
            let seconds = clock.seconds();
            let (val_loss, val_accuracy) = match validation {
                Some((vx, vt)) => {
                    let v = self.evaluate(&*batch.model(), vx, vt)?;
                    (Some(v.loss), Some(v.accuracy))
                }
                None => (None, None),
            };
            last = EpochStats {
                epoch,
                loss: loss_sum / n as f64,
                accuracy: correct as f64 / n as f64,
                val_loss,
                val_accuracy,
                seconds,
                samples_per_second: seconds.map(|s| n as f64 / s),
            };
            self.report(&last);
            if on_epoch(&last).is_break() {
                break;
            }
        }
        Ok(last)
    }

    /// The schedule's, clipping's and regulariser's settings, before the first step.
    fn check_update<T: Scalar, M: crate::Params<T>>(&self, model: &M) -> Result<(), TrainError> {
        let invalid = TrainError::InvalidHyperParameter;
        if let Some(schedule) = &self.schedule {
            schedule.check().map_err(invalid)?;
        }
        if let Some(clip) = self.clip {
            clip.check().map_err(invalid)?;
        }
        if let Some(l2) = self.kernel_regularizer {
            l2.check().map_err(invalid)?;
            L2::check_model(model).map_err(TrainError::UndescribedParams)?;
        }
        Ok(())
    }

    /// The regularisation term of `model` (returned, to add to the loss) and its gradient,
    /// added to `grad`: Keras differentiates the loss with the term.
    fn regularize<T: Scalar, M: crate::Params<T>>(&self, model: &M, grad: &mut M) -> Result<f64, TrainError> {
        match self.kernel_regularizer {
            Some(l2) => Ok(l2.add_to(model, grad).map_err(TrainError::UndescribedParams)?.to_f64_lossless()),
            None => Ok(0.0),
        }
    }

    /// What comes between the (regularised) gradient and the optimizer's step, in Keras'
    /// order: clipping, then the scheduled learning rate for this update.
    fn clip_and_schedule<T: Scalar, M: crate::Params<T>>(&mut self, grad: &mut M)
    where
        O: Optimizer<M>,
    {
        if let Some(clip) = self.clip {
            clip.apply(grad);
        }
        if let Some(schedule) = &self.schedule {
            self.optimizer.set_learning_rate(schedule.learning_rate(self.optimizer.iterations()));
        }
    }

    /// Mean loss and accuracy of `model` on the given data (Keras' `evaluate`).
    ///
    /// # Errors
    /// [`TrainError::EmptyDataset`], [`TrainError::LabelCountMismatch`],
    /// [`TrainError::InvalidLabel`] or [`TrainError::NonFiniteInput`].
    pub fn evaluate<M, X>(&self, model: &M, xs: &[X], targets: &[L::Target]) -> Result<EpochStats, TrainError>
    where
        X: Tensor,
        M: crate::Layer<X>,
        L: Loss<M::Out>,
        L::Target: AsClass,
    {
        // A miswired model (Flatten → Dense) fails to build here, at the caller's `fit` line.
        let () = <M as crate::Layer<X>>::CHECK;
        validate(&self.loss, xs, targets)?;
        let (mut loss, mut correct) = (0.0f64, 0usize);
        for (x, t) in xs.iter().zip(targets) {
            let y = model.forward(x);
            loss += self.loss.loss(&y, t).to_f64_lossless();
            correct += usize::from(predicted_class(&y) == t.class());
        }
        let n = xs.len() as f64;
        Ok(EpochStats { loss: loss / n, accuracy: correct as f64 / n, ..EpochStats::default() })
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

/// Checks a dataset once, before any step.
fn validate<X: Tensor, Y: Tensor, L: Loss<Y>>(loss: &L, xs: &[X], targets: &[L::Target]) -> Result<(), TrainError> {
    if xs.is_empty() {
        return Err(TrainError::EmptyDataset);
    }
    if targets.len() != xs.len() {
        return Err(TrainError::LabelCountMismatch { samples: xs.len(), labels: targets.len() });
    }
    if let Some(index) = targets.iter().position(|t| !loss.valid_target(t)) {
        return Err(TrainError::InvalidLabel { index });
    }
    // A non-short-circuiting OR over each sample, so the check vectorises (`any` stops at the
    // first hit and does not); 2.2× faster on seed model 1's 4096×784 inputs.
    let finite = |x: &X| !x.as_slice().iter().fold(false, |bad, v| bad | !v.is_finite());
    if let Some(index) = xs.iter().position(|x| !finite(x)) {
        return Err(TrainError::NonFiniteInput { index });
    }
    Ok(())
}

/// One-thread training: the model, and the buffers of a step: gathered samples for the
/// batched kernels (feature `alloc`), nothing otherwise.
struct Batch<'m, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    model: &'m mut M,
    #[cfg(feature = "alloc")]
    xs: Vec<X>,
    #[cfg(feature = "alloc")]
    targets: Vec<L::Target>,
    #[cfg(feature = "alloc")]
    workspace: crate::backprop::Workspace<M::Out>,
    #[cfg(not(feature = "alloc"))]
    unused: core::marker::PhantomData<Unused<X, L>>,
}

/// The type parameters a heap-free [`Batch`] does not store.
#[cfg(not(feature = "alloc"))]
type Unused<X, L> = fn() -> (X, L);

impl<'m, M: Backward<X>, X: Tensor, L: Loss<M::Out>> Batch<'m, M, X, L> {
    fn new(model: &'m mut M) -> Self {
        Self {
            model,
            #[cfg(feature = "alloc")]
            xs: Vec::new(),
            #[cfg(feature = "alloc")]
            targets: Vec::new(),
            #[cfg(feature = "alloc")]
            workspace: crate::backprop::Workspace::new(),
            #[cfg(not(feature = "alloc"))]
            unused: core::marker::PhantomData,
        }
    }
}

/// How the training loop turns a batch into a gradient: [`Batch`] on one thread,
/// `ThreadedBatch` on several (feature `threads`).
trait Step<M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    /// The model being trained, for the optimizer and for validation between steps.
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_;

    /// Adds the mean gradient of the model on the samples at `indices` into `grad`; returns
    /// their mean loss and how many were classified correctly.
    fn step(
        &mut self,
        loss: &L,
        xs: &[X],
        targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, usize);
}

/// Feature `threads`: the batch is cut into shards computed by a team of threads.
#[cfg(feature = "threads")]
impl<M, X, L> Step<M, X, L> for crate::threads::Team<'_, '_, M, X, L>
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: AsClass + Clone + Send + Sync,
{
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_ {
        self.model_mut()
    }

    fn step(
        &mut self,
        // The team holds the loss, and the data it was made with (the same `xs` and `targets`
        // the loop passes here); each thread gathers its own samples by index.
        _loss: &L,
        _xs: &[X],
        _targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, usize) {
        let value = self.value_and_grad(indices, grad);
        let hits = self.count_hits(|y, t| predicted_class(y) == t.class());
        (value.to_f64_lossless(), hits)
    }
}

impl<M: Backward<X>, X: Tensor, L: Loss<M::Out>> Step<M, X, L> for Batch<'_, M, X, L>
where
    L::Target: AsClass + Clone,
{
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_ {
        &mut *self.model
    }

    fn step(
        &mut self,
        loss: &L,
        xs: &[X],
        targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, usize) {
        let model: &M = self.model;
        #[cfg(feature = "alloc")]
        {
            self.xs.clear();
            self.targets.clear();
            for i in indices {
                if let (Some(x), Some(t)) = (xs.get(i), targets.get(i)) {
                    self.xs.push(x.clone());
                    self.targets.push(t.clone());
                }
            }
            let value =
                crate::backprop::value_and_grad_batch(model, &self.xs, &self.targets, loss, grad, &mut self.workspace);
            let hits = self
                .workspace
                .outputs()
                .iter()
                .zip(&self.targets)
                .filter(|(y, t)| predicted_class(*y) == t.class())
                .count();
            (value.map_or(f64::NAN, |v| v.to_f64_lossless()), hits)
        }
        #[cfg(not(feature = "alloc"))]
        {
            let count = indices.clone().count();
            let scale = X::Elem::lit(1.0 / count.max(1) as f64);
            let (mut total, mut hits) = (0.0f64, 0usize);
            for i in indices {
                if let (Some(x), Some(t)) = (xs.get(i), targets.get(i)) {
                    total += value_and_grad_scaled(model, x, t, loss, scale, grad, None).to_f64_lossless();
                    hits += usize::from(predicted_class(&model.forward(x)) == t.class());
                }
            }
            (total / count.max(1) as f64, hits)
        }
    }
}

/// Wall time with `std`, nothing without.
struct Clock {
    #[cfg(feature = "std")]
    start: std::time::Instant,
}

impl Clock {
    fn start() -> Self {
        Self {
            #[cfg(feature = "std")]
            start: std::time::Instant::now(),
        }
    }

    fn seconds(&self) -> Option<f64> {
        #[cfg(feature = "std")]
        return Some(self.start.elapsed().as_secs_f64());
        #[cfg(not(feature = "std"))]
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::loss::SparseCategoricalCrossentropy;
    use crate::optim::Adam;
    use crate::{Dense, Params};

    type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);

    fn data() -> ([Vector<2>; 16], [usize; 16]) {
        let xs: [Vector<2>; 16] = core::array::from_fn(|i| Vector::from([(i % 4) as f32 - 1.5, (i / 4) as f32 - 1.5]));
        let labels = xs.map(|x| usize::from(x[0] > x[1]));
        (xs, labels)
    }

    #[test]
    fn affine_orders_visit_every_sample_once() {
        let mut rng = SeedRng::seed(3);
        for n in [1usize, 2, 7, 12, 97, 100] {
            for _ in 0..5 {
                let order = Order::affine(n, &mut rng);
                let mut seen = std::vec![false; n];
                for i in 0..n {
                    seen[order.at(i)] = true;
                }
                assert!(seen.iter().all(|&s| s), "n = {n}");
            }
        }
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
        assert!(last.accuracy > 0.99 && last.loss < first.loss / 4.0, "{first:?} -> {last:?}");
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
    fn a_diverging_loss_stops_training_and_names_the_step() {
        let (xs, labels) = data();
        let mut model: Net = Params::init(&mut SeedRng::seed(2));
        // A learning rate of 1e30 overflows the weights within a few steps.
        let mut trainer = Trainer::new(crate::optim::Sgd::new(1e30), SparseCategoricalCrossentropy::from_logits())
            .epochs(5)
            .batch_size(4);
        match trainer.fit(&mut model, &xs, &labels) {
            Err(TrainError::NonFiniteLoss { epoch, step }) => assert!(epoch >= 1 && (1..=4).contains(&step)),
            other => panic!("expected NonFiniteLoss, got {other:?}"),
        }
    }
}
