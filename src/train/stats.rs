//! [`EpochStats`]: what one epoch (or an evaluation) measured.

use core::fmt;

/// What one epoch (or an evaluation) measured: the loss, the metrics of the loss's
/// [`Task`](super::Task), the same on the validation data, the learning rate and the time.
///
/// The metric fields a task does not report are `None`: a classification has `accuracy`, a
/// regression `mae` and `mse` (see [`Task`](super::Task)). Keras' `History.history` keys are
/// the field names.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct EpochStats {
    /// Epoch number, from 1 (0 for [`Trainer::evaluate`](super::Trainer::evaluate)).
    pub epoch: usize,
    /// Mean loss over the epoch's samples (measured during training, as Keras reports it).
    pub loss: f64,
    /// Classification: the fraction of samples classified correctly (binary classification:
    /// of outputs on the right side of the threshold).
    pub accuracy: Option<f64>,
    /// Regression: mean absolute error over every output element.
    pub mae: Option<f64>,
    /// Regression: mean squared error over every output element (without a regularisation
    /// term, which the loss includes).
    pub mse: Option<f64>,
    /// Mean loss on the validation data, if given.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation data, if given and the task reports it.
    pub val_accuracy: Option<f64>,
    /// Mean absolute error on the validation data, if given and the task reports it.
    pub val_mae: Option<f64>,
    /// Mean squared error on the validation data, if given and the task reports it.
    pub val_mse: Option<f64>,
    /// The optimizer's learning rate at the end of the epoch: the rate of the epoch's last
    /// step (a schedule's value for that step), before a callback changes it. 0 for
    /// [`Trainer::evaluate`](super::Trainer::evaluate).
    pub learning_rate: f64,
    /// Wall time of the epoch (with `std`; training steps only, not validation).
    pub seconds: Option<f64>,
    /// Training samples per second (with `std`).
    pub samples_per_second: Option<f64>,
}

impl fmt::Display for EpochStats {
    /// Keras-style progress line: `loss 0.2481  accuracy 0.9312  val_loss …  3.1 ms …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.4}", self.loss)?;
        let metrics = [
            ("accuracy", self.accuracy),
            ("mae", self.mae),
            ("mse", self.mse),
            ("val_loss", self.val_loss),
            ("val_accuracy", self.val_accuracy),
            ("val_mae", self.val_mae),
            ("val_mse", self.val_mse),
        ];
        for (name, value) in metrics {
            if let Some(v) = value {
                write!(f, "  {name} {v:.4}")?;
            }
        }
        if let (Some(s), Some(r)) = (self.seconds, self.samples_per_second) {
            write!(f, "  {:.1} ms  {:.0} samples/s", s * 1e3, r)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_only_the_metrics_the_task_reports() {
        let regression = EpochStats { loss: 0.5, mae: Some(0.25), mse: Some(0.5), ..EpochStats::default() };
        assert_eq!(std::format!("{regression}"), "loss 0.5000  mae 0.2500  mse 0.5000");
        let classification = EpochStats {
            loss: 0.5,
            accuracy: Some(0.75),
            val_loss: Some(0.625),
            val_accuracy: Some(0.5),
            ..EpochStats::default()
        };
        assert_eq!(
            std::format!("{classification}"),
            "loss 0.5000  accuracy 0.7500  val_loss 0.6250  val_accuracy 0.5000"
        );
    }
}
