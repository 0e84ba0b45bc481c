//! Metrics that fit the task: accuracy for classification, mean absolute and mean squared error
//! for regression.
//!
//! Keras resolves `compile(metrics=["accuracy"])` by the loss (sparse categorical accuracy
//! after `sparse_categorical_crossentropy`, binary accuracy after `binary_crossentropy`); here
//! the loss names its [`Task`] ([`Loss::task`](crate::Loss::task)) and the
//! [`Trainer`](super::Trainer) reports that task's metrics in every
//! [`EpochStats`](super::EpochStats). A regression run (mean squared error) reports `mae` and
//! `mse`, never an accuracy, which means nothing there.

use num_traits::Float;

use crate::{Scalar, Tensor, Vector};

/// What a model is trained to do, which decides the metrics the [`Trainer`](super::Trainer)
/// reports next to the loss.
///
/// | task | metrics | Keras |
/// |---|---|---|
/// | `Classification` | `accuracy`: the largest output is the target's class | `"accuracy"` after a (sparse) categorical cross-entropy |
/// | `BinaryClassification` | `accuracy`: the fraction of outputs on the target's side of `threshold` | `"accuracy"` (`BinaryAccuracy`) after `binary_crossentropy` |
/// | `Regression` | `mae` and `mse`: mean absolute and squared error over every output | `metrics=["mae", "mse"]` |
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Task {
    /// One class per sample: accuracy compares the index of the largest output with the
    /// target's class ([`MetricTarget::class`]).
    Classification,
    /// Independent yes/no outputs: accuracy is the mean over outputs of
    /// `(y > threshold) == (t > 0.5)`, Keras' `BinaryAccuracy`.
    BinaryClassification {
        /// 0.5 for probabilities (Keras' default); 0 for logits.
        threshold: f64,
    },
    /// Values: mean absolute and mean squared error over every output element, averaged over
    /// the samples (Keras' `MeanAbsoluteError`, `MeanSquaredError`).
    Regression,
}

/// A target the metrics can read: its class (for accuracy) and its values (for the regression
/// metrics). Implemented for class indices (`usize`) and for every tensor a loss compares the
/// output with (one-hot vectors, regression vectors, images).
pub trait MetricTarget<Y: Tensor> {
    /// The class this target names: the index itself, or a tensor's largest entry.
    fn class(&self) -> usize;

    /// The target's values, or `None` for a class index.
    fn values(&self) -> Option<&[Y::Elem]>;
}

impl<Y: Tensor> MetricTarget<Y> for usize {
    fn class(&self) -> usize {
        *self
    }

    fn values(&self) -> Option<&[Y::Elem]> {
        None
    }
}

impl<Y: Tensor> MetricTarget<Y> for Y {
    fn class(&self) -> usize {
        predicted_class(self)
    }

    fn values(&self) -> Option<&[Y::Elem]> {
        Some(self.as_slice())
    }
}

/// Sums of the per-sample metric values of a batch or an epoch; divided by the sample count
/// they are the epoch's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct MetricSums {
    /// Classification: correct samples (binary: the per-sample fraction of correct outputs).
    pub(crate) accuracy: f64,
    /// Regression: per-sample mean absolute errors.
    pub(crate) abs: f64,
    /// Regression: per-sample mean squared errors.
    pub(crate) squared: f64,
}

impl MetricSums {
    /// The metrics of one sample, output `y` against `target`.
    pub(crate) fn of<Y: Tensor, T: MetricTarget<Y>>(task: Task, y: &Y, target: &T) -> Self {
        let mut sums = Self::default();
        match task {
            Task::Classification => sums.accuracy = f64::from(u8::from(predicted_class(y) == target.class())),
            Task::BinaryClassification { threshold } => {
                if let Some(t) = target.values() {
                    let hits = y
                        .as_slice()
                        .iter()
                        .zip(t)
                        .filter(|&(&p, &t)| (p.to_f64_lossless() > threshold) == (t.to_f64_lossless() > 0.5))
                        .count();
                    sums.accuracy = hits as f64 / Y::LEN.max(1) as f64;
                } else {
                    // A class index against one output: class 1 is "yes".
                    let yes = y.as_slice().first().is_some_and(|p| p.to_f64_lossless() > threshold);
                    sums.accuracy = f64::from(u8::from(yes == (target.class() == 1)));
                }
            }
            Task::Regression => {
                if let Some(t) = target.values() {
                    let n = Y::LEN.max(1) as f64;
                    for (&p, &t) in y.as_slice().iter().zip(t) {
                        let d = (p - t).to_f64_lossless();
                        sums.abs += d.abs() / n;
                        sums.squared += d * d / n;
                    }
                }
            }
        }
        sums
    }

    /// Adds another batch's (or sample's) sums.
    pub(crate) fn add(&mut self, other: Self) {
        self.accuracy += other.accuracy;
        self.abs += other.abs;
        self.squared += other.squared;
    }

    /// The means over `n` samples, as the fields of [`EpochStats`](super::EpochStats):
    /// `(accuracy, mae, mse)`, each `Some` only if `task` reports it.
    pub(crate) fn means(&self, task: Task, n: usize) -> (Option<f64>, Option<f64>, Option<f64>) {
        let n = n.max(1) as f64;
        match task {
            Task::Classification | Task::BinaryClassification { .. } => (Some(self.accuracy / n), None, None),
            Task::Regression => (None, Some(self.abs / n), Some(self.squared / n)),
        }
    }
}

/// Kept for code written before [`MetricTarget`]: a target that names a class.
///
/// The [`Trainer`](super::Trainer) now asks for [`MetricTarget`], which every `AsClass` target
/// of the library (`usize`, `Vector`) also implements.
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
pub(crate) fn predicted_class<Y: Tensor>(y: &Y) -> usize {
    let mut best = (0, Y::Elem::neg_infinity());
    for (i, &v) in y.as_slice().iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Image;

    fn means<Y: Tensor, T: MetricTarget<Y>>(task: Task, pairs: &[(Y, T)]) -> (Option<f64>, Option<f64>, Option<f64>) {
        let mut sums = MetricSums::default();
        for (y, t) in pairs {
            sums.add(MetricSums::of(task, y, t));
        }
        sums.means(task, pairs.len())
    }

    #[test]
    fn accuracy_counts_samples_whose_largest_output_is_the_class() {
        let pairs = [
            (Vector::from([0.1f32, 0.7, 0.2]), 1usize),
            (Vector::from([0.5, 0.3, 0.2]), 2),
            (Vector::from([0.2, 0.2, 0.6]), 2),
            (Vector::from([0.9, 0.0, 0.1]), 0),
        ];
        assert_eq!(means(Task::Classification, &pairs), (Some(0.75), None, None));
        let one_hot = [
            (Vector::from([0.1f64, 0.9]), Vector::from([0.0, 1.0])),
            (Vector::from([0.6, 0.4]), Vector::from([0.0, 1.0])),
        ];
        assert_eq!(means(Task::Classification, &one_hot), (Some(0.5), None, None));
    }

    #[test]
    fn binary_accuracy_is_the_fraction_of_outputs_on_the_right_side_of_the_threshold() {
        // Keras: keras.metrics.BinaryAccuracy()([[1, 0], [1, 1]], [[0.6, 0.3], [0.4, 0.9]]) = 0.75.
        let pairs = [
            (Vector::from([0.6f32, 0.3]), Vector::from([1.0, 0.0])),
            (Vector::from([0.4, 0.9]), Vector::from([1.0, 1.0])),
        ];
        assert_eq!(means(Task::BinaryClassification { threshold: 0.5 }, &pairs), (Some(0.75), None, None));
    }

    #[test]
    fn a_regression_reports_mae_and_mse_and_no_accuracy() {
        // By hand: errors (0.5, −1.0) and (2.0, 0.0): mae = (0.75 + 1.0)/2, mse = (0.625 + 2.0)/2.
        let pairs = [
            (Vector::from([1.5f32, 1.0]), Vector::from([1.0, 2.0])),
            (Vector::from([3.0, -1.0]), Vector::from([1.0, -1.0])),
        ];
        assert_eq!(means(Task::Regression, &pairs), (None, Some(0.875), Some(1.3125)));
        // One output: argmax is always 0, which is what made a regression print accuracy 1.
        let single = [(Vector::from([0.25f64]), Vector::from([1.0]))];
        assert_eq!(means(Task::Regression, &single), (None, Some(0.75), Some(0.5625)));
    }

    #[test]
    fn image_targets_are_compared_element_by_element() {
        let y: Image<2, 1, 2> = Image::from([[[1.0, 2.0]], [[3.0, 4.0]]]);
        let t: Image<2, 1, 2> = Image::from([[[1.0, 0.0]], [[3.0, 5.0]]]);
        // Errors 0, 2, 0, −1: mae 3/4, mse 5/4.
        assert_eq!(means(Task::Regression, &[(y, t)]), (None, Some(0.75), Some(1.25)));
    }
}
