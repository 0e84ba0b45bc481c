//! [`TrainError`]: why training or evaluation did not run, or stopped.

use core::fmt;

use crate::optim::HyperParameterError;
use crate::regularizer::UndescribedParams;

/// Why training or evaluation did not run (or stopped).
///
/// The variants up to [`NonFiniteInput`](TrainError::NonFiniteInput) are found before the
/// first step, so the model and the optimizer are untouched. The two that stop training on the
/// way, [`NonFiniteLoss`](TrainError::NonFiniteLoss) and
/// [`NonFiniteParams`](TrainError::NonFiniteParams), leave the model with the weights it had
/// before the failing step (see each).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// There are no samples.
    EmptyDataset,
    /// `batch_size` is 0.
    ZeroBatchSize,
    /// `epochs` is 0: nothing would be trained, and there would be no epoch to report.
    ZeroEpochs,
    /// A hyper-parameter of the optimizer or the loss cannot be right (a learning rate that is
    /// not a finite number above 0, a `beta_1` of 1, a `label_smoothing` above 1, ...).
    InvalidHyperParameter(HyperParameterError),
    /// A regulariser ([`Trainer::kernel_regularizer`](super::Trainer::kernel_regularizer) or
    /// [`depthwise_regularizer`](super::Trainer::depthwise_regularizer)) is set, but the
    /// model's kernels cannot be told from its other weights: a layer of your own keeps the
    /// default [`describe_params`](crate::Params::describe_params).
    UndescribedParams(UndescribedParams),
    /// The number of labels (targets) differs from the number of samples.
    LabelCountMismatch {
        /// Samples given.
        samples: usize,
        /// Labels given.
        labels: usize,
    },
    /// A target the loss refuses: a class label out of range for the model's outputs, a
    /// target value that is not finite, or, for the cross-entropies, a target value outside
    /// `[0, 1]` (see [`Loss::valid_target`](crate::Loss::valid_target)).
    InvalidLabel {
        /// Position of the sample.
        index: usize,
    },
    /// A sample contains NaN or infinity.
    NonFiniteInput {
        /// Position of the sample.
        index: usize,
    },
    /// The loss of a batch was NaN or infinite. Its step was not applied: the model and the
    /// optimizer are as they were after the step before it.
    NonFiniteLoss {
        /// Epoch, from 1.
        epoch: usize,
        /// Step within the epoch, from 1.
        step: usize,
    },
    /// A step made a weight NaN or infinite (a learning rate far too large, or a gradient that
    /// overflowed). The weights were put back as they were before that step, and the optimizer
    /// was [reset](crate::Optimizer::reset), since that step had already changed its state.
    NonFiniteParams {
        /// Epoch, from 1.
        epoch: usize,
        /// Step within the epoch, from 1.
        step: usize,
    },
    /// A callback watches a quantity this run will not report: a `val_` quantity without
    /// validation data, an accuracy for a regression, `mae` for a classification (see
    /// [`Task`](super::Task)). Found before the first step.
    MonitorUnavailable {
        /// The quantity.
        monitor: super::Monitor,
    },
    /// A callback set the learning rate, but a [schedule](super::Trainer::learning_rate) sets
    /// it before every update. [`ReduceLROnPlateau`](super::ReduceLROnPlateau) is refused
    /// before the first step (epoch 0); another callback after the epoch it tried.
    RateSetWithSchedule {
        /// Epoch, from 1 (0: before the first).
        epoch: usize,
    },
    /// A [`ModelCheckpoint`](super::ModelCheckpoint) could not save the model (feature `std`).
    /// The model is as that epoch left it.
    #[cfg(feature = "std")]
    CheckpointNotSaved {
        /// Epoch, from 1 (0: before the first, the model cannot be described as safetensors).
        epoch: usize,
        /// Why the file could not be written; `None` if the model could not be described (a
        /// layer of your own without tensor names).
        io: Option<std::io::ErrorKind>,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyDataset => f.write_str("the dataset is empty; pass at least one sample"),
            Self::ZeroBatchSize => f.write_str("batch size 0; use at least 1"),
            Self::ZeroEpochs => f.write_str("epochs is 0; train for at least 1 epoch"),
            Self::InvalidHyperParameter(e) => write!(f, "{e}"),
            Self::UndescribedParams(e) => write!(f, "{e}"),
            Self::LabelCountMismatch { samples, labels } => {
                write!(f, "{samples} samples but {labels} labels; pass one label per sample")
            }
            Self::InvalidLabel { index } => write!(
                f,
                "label {index} is not valid for this loss: a class out of range for the model's outputs, a value that is not finite, or a cross-entropy target outside [0, 1]"
            ),
            Self::NonFiniteInput { index } => {
                write!(f, "sample {index} contains NaN or infinity; clean or drop it before training")
            }
            Self::NonFiniteLoss { epoch, step } => write!(
                f,
                "the loss became NaN or infinite at epoch {epoch}, step {step} (not applied); lower the learning rate or check the data"
            ),
            Self::NonFiniteParams { epoch, step } => write!(
                f,
                "a weight became NaN or infinite at epoch {epoch}, step {step}; the weights are restored to before that step and the optimizer is reset; lower the learning rate or check the data"
            ),
            Self::MonitorUnavailable { monitor } => write!(
                f,
                "a callback monitors `{}`, which this run does not report; pass validation data or monitor a quantity of the loss's task",
                monitor.name()
            ),
            Self::RateSetWithSchedule { epoch } => write!(
                f,
                "a callback set the learning rate (epoch {epoch}) but a schedule sets it before every update; use one or the other"
            ),
            #[cfg(feature = "std")]
            Self::CheckpointNotSaved { epoch, io: Some(kind) } => {
                write!(f, "the checkpoint of epoch {epoch} could not be written ({kind}); check the path")
            }
            #[cfg(feature = "std")]
            Self::CheckpointNotSaved { epoch, io: None } => write!(
                f,
                "the model cannot be saved as safetensors (epoch {epoch}): describe the tensors of your own layers"
            ),
        }
    }
}

/// The message of [`InvalidHyperParameter`](TrainError::InvalidHyperParameter) is its
/// [`HyperParameterError`]'s, so `source()` does not repeat it.
impl core::error::Error for TrainError {}

impl From<HyperParameterError> for TrainError {
    fn from(e: HyperParameterError) -> Self {
        Self::InvalidHyperParameter(e)
    }
}
