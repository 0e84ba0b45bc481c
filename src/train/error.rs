//! [`TrainError`]: why training or evaluation did not run, or stopped.

use core::fmt;

/// Why training or evaluation did not run (or stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrainError {
    /// There are no samples.
    EmptyDataset,
    /// `batch_size` is 0.
    ZeroBatchSize,
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
