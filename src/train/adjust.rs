//! What happens between a batch's gradient and the optimizer's step, in Keras' order: L2
//! regularisation (into the loss and the gradient), then, after the loop's check of the loss,
//! clipping and the scheduled learning rate. The [`Trainer`]'s settings for them, and their
//! checks before the first step.
//!
//! None of these changes the model: the step that follows is [`Undo::update`], so a step
//! that a schedule, clipping or L2 makes diverge is undone like any other.
//!
//! [`Undo::update`]: super::update::Undo::update

use super::{TrainError, Trainer};
use crate::optim::{Clip, LearningRateSchedule};
use crate::regularizer::L2;
use crate::{Optimizer, Params, Scalar};

/// The settings Keras keeps on the optimizer (schedule, clipping) and on the layers
/// (regularisers), kept on the [`Trainer`].
pub(super) struct Adjust<R> {
    schedule: Option<R>,
    clip: Option<Clip>,
    kernel_regularizer: Option<L2>,
    depthwise_regularizer: Option<L2>,
}

impl Adjust<f64> {
    /// Nothing set: the optimizer's own rate, no clipping, no regularisation.
    pub(super) const fn new() -> Self {
        Self { schedule: None, clip: None, kernel_regularizer: None, depthwise_regularizer: None }
    }
}

impl<R: LearningRateSchedule> Adjust<R> {
    /// Every setting, before the first step.
    pub(super) fn check<T: Scalar, M: Params<T>>(&self, model: &M) -> Result<(), TrainError> {
        if let Some(schedule) = &self.schedule {
            schedule.check()?;
        }
        if let Some(clip) = self.clip {
            clip.check()?;
        }
        for l2 in [self.kernel_regularizer, self.depthwise_regularizer].into_iter().flatten() {
            l2.check()?;
            L2::check_model(model).map_err(TrainError::UndescribedParams)?;
        }
        Ok(())
    }

    /// Whether a schedule sets the rate before every update (a rate a callback sets would be
    /// replaced at the next step).
    pub(super) const fn scheduled(&self) -> bool {
        self.schedule.is_some()
    }

    /// Adds the regularisers' gradient to `grad` and returns their term, to add to the batch's
    /// loss (Keras differentiates and reports the loss with it).
    pub(super) fn regularize<T: Scalar, M: Params<T>>(&self, model: &M, grad: &mut M) -> Result<f64, TrainError> {
        let mut penalty = 0.0;
        if let Some(l2) = self.kernel_regularizer {
            penalty += l2.add_to(model, grad).map_err(TrainError::UndescribedParams)?.to_f64_lossless();
        }
        if let Some(l2) = self.depthwise_regularizer {
            penalty += l2.add_to_depthwise(model, grad).map_err(TrainError::UndescribedParams)?.to_f64_lossless();
        }
        Ok(penalty)
    }

    /// Clips the (regularised) gradient, then sets the optimizer's rate for this update:
    /// `schedule.learning_rate(optimizer.iterations())`.
    pub(super) fn clip_and_schedule<T: Scalar, M: Params<T>, O: Optimizer<M>>(&self, optimizer: &mut O, grad: &mut M) {
        if let Some(clip) = self.clip {
            clip.apply(grad);
        }
        if let Some(schedule) = &self.schedule {
            optimizer.set_learning_rate(schedule.learning_rate(optimizer.iterations()));
        }
    }
}

impl<O, L, R: LearningRateSchedule> Trainer<O, L, R> {
    /// Sets the optimizer's learning rate from `schedule` before every update, as
    /// `schedule.learning_rate(optimizer.iterations())` (Keras asks a schedule with the
    /// optimizer's `iterations`: 0 for the first update). The rate the optimizer was built
    /// with is not used. A step undone for [`NonFiniteParams`](TrainError::NonFiniteParams)
    /// resets the optimizer, and with it the schedule, to step 0.
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
        self.map_adjust(|a| Adjust {
            schedule: Some(schedule),
            clip: a.clip,
            kernel_regularizer: a.kernel_regularizer,
            depthwise_regularizer: a.depthwise_regularizer,
        })
    }

    /// Clips each parameter tensor's gradient to an L2 norm of at most `clipnorm` before every
    /// update ([`Clip::Norm`]). Keras allows one kind of clipping: the last of `clipnorm`,
    /// [`global_clipnorm`](Trainer::global_clipnorm) and [`clipvalue`](Trainer::clipvalue)
    /// set is the one used.
    ///
    /// **Keras equivalent:** `Adam(clipnorm=1.0)` (any optimizer).
    pub const fn clipnorm(mut self, clipnorm: f64) -> Self {
        self.adjust.clip = Some(Clip::Norm(clipnorm));
        self
    }

    /// Clips the gradient of all parameters together to an L2 norm of at most
    /// `global_clipnorm` before every update ([`Clip::GlobalNorm`]).
    ///
    /// **Keras equivalent:** `Adam(global_clipnorm=1.0)` (any optimizer).
    pub const fn global_clipnorm(mut self, global_clipnorm: f64) -> Self {
        self.adjust.clip = Some(Clip::GlobalNorm(global_clipnorm));
        self
    }

    /// Clips every element of the gradient to `[−clipvalue, clipvalue]` before every update
    /// ([`Clip::Value`]).
    ///
    /// **Keras equivalent:** `Adam(clipvalue=0.5)` (any optimizer).
    pub const fn clipvalue(mut self, clipvalue: f64) -> Self {
        self.adjust.clip = Some(Clip::Value(clipvalue));
        self
    }

    /// Regularises every kernel of the model (every `Dense` and `Conv2D`; not biases, not
    /// `BatchNormalization`'s weights, not `DepthwiseConv2D`'s kernel: see
    /// [`depthwise_regularizer`](Trainer::depthwise_regularizer)): `l2·Σw²` is added to each
    /// batch's loss, in the reported loss as in Keras', and `2·l2·w` to the kernels' gradient,
    /// before clipping.
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
        self.adjust.kernel_regularizer = Some(l2);
        self
    }

    /// Regularises every `DepthwiseConv2D` kernel of the model (and nothing else), as
    /// [`kernel_regularizer`](Trainer::kernel_regularizer) does the other kernels: Keras 3
    /// gives `DepthwiseConv2D` a `depthwise_regularizer` and no `kernel_regularizer` (see
    /// [`crate::regularizer`]).
    ///
    /// **Keras equivalent:** `depthwise_regularizer=l2(1e-4)` on every `DepthwiseConv2D`.
    pub const fn depthwise_regularizer(mut self, l2: L2) -> Self {
        self.adjust.depthwise_regularizer = Some(l2);
        self
    }
}
