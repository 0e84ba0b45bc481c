//! Metrics: accuracy, the fraction of samples whose predicted class is the target's class.

use num_traits::Float;

use crate::{Scalar, Tensor, Vector};

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
pub(crate) fn predicted_class<Y: Tensor>(y: &Y) -> usize {
    let mut best = (0, Y::Elem::neg_infinity());
    for (i, &v) in y.as_slice().iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
