//! [`EpochStats`]: what one epoch (or an evaluation) measured.

use core::fmt;

/// What one epoch (or an evaluation) measured.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct EpochStats {
    /// Epoch number, from 1 (0 for [`Trainer::evaluate`](super::Trainer::evaluate)).
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
