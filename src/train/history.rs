//! [`History`]: what `fit` returns, every epoch's [`EpochStats`], as Keras' `History`.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::ops::Deref;

use super::EpochStats;

/// The record of a `fit` call: one [`EpochStats`] per epoch trained (loss, metrics, validation
/// loss and metrics, learning rate, time), as Keras' `History.history`.
///
/// **Keras equivalent:** `history = model.fit(...)`; `history.history["val_loss"]` is
/// `history.column(|e| e.val_loss)` here.
///
/// It dereferences to the last epoch's [`EpochStats`], so code written when `fit` returned
/// only the last epoch (`trainer.fit(..)?.loss`) keeps working; a `let last: EpochStats = ..`
/// becomes `let last: EpochStats = *trainer.fit(..)?.last();`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let xs: Vec<Vector<2>> = (0..8).map(|i| Vector::from([(i % 4) as f32, (i / 2) as f32])).collect();
/// let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
/// let mut model: (Dense<2, 8, Relu>, Dense<8, 2, Softmax>) = Params::init(&mut SeedRng::seed(1));
/// let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).epochs(20).batch_size(4);
/// let history: History = trainer.fit(&mut model, &xs, &labels)?;
/// assert_eq!(history.epochs().len(), 20);
/// let loss: Vec<f64> = history.column(|e| Some(e.loss));
/// assert!(loss[19] < loss[0]);
/// assert_eq!(history.last().epoch, 20);
/// # Ok::<(), TrainError>(())
/// ```
///
/// # Allocation
/// With feature `alloc`, one `EpochStats` per epoch (a `Vec` grown as epochs end). Without it,
/// only the last epoch is kept, and [`last`](History::last) is all there is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    #[cfg(feature = "alloc")]
    epochs: Vec<EpochStats>,
    last: EpochStats,
}

impl History {
    /// An empty history (no epoch yet).
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records an epoch.
    pub(crate) fn push(&mut self, stats: EpochStats) {
        #[cfg(feature = "alloc")]
        self.epochs.push(stats);
        self.last = stats;
    }

    /// The last epoch trained (the default `EpochStats`, epoch 0, before any).
    pub const fn last(&self) -> &EpochStats {
        &self.last
    }

    /// Every epoch, in order (feature `alloc`).
    #[cfg(feature = "alloc")]
    pub fn epochs(&self) -> &[EpochStats] {
        &self.epochs
    }

    /// One value per epoch where `field` has one (feature `alloc`), as Keras'
    /// `history.history[key]`: `column(|e| e.val_accuracy)`, `column(|e| Some(e.loss))`.
    #[cfg(feature = "alloc")]
    pub fn column(&self, field: impl Fn(&EpochStats) -> Option<f64>) -> Vec<f64> {
        self.epochs.iter().filter_map(field).collect()
    }
}

/// The last epoch's line (as [`EpochStats`]' `Display`), so `println!("{}", trainer.fit(..)?)`
/// prints what it printed when `fit` returned only the last epoch.
impl core::fmt::Display for History {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.last.fmt(f)
    }
}

/// The last epoch, so `trainer.fit(..)?.accuracy` reads as it did when `fit` returned only
/// that.
impl Deref for History {
    type Target = EpochStats;

    fn deref(&self) -> &EpochStats {
        &self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_keeps_every_epoch_in_order_and_reads_as_the_last() {
        let mut h = History::new();
        for epoch in 1..=3 {
            h.push(EpochStats {
                epoch,
                loss: 1.0 / epoch as f64,
                val_loss: (epoch > 1).then_some(0.5),
                ..EpochStats::default()
            });
        }
        assert_eq!(h.epoch, 3);
        assert_eq!(h.last().loss, 1.0 / 3.0);
        #[cfg(feature = "alloc")]
        {
            assert_eq!(h.epochs().iter().map(|e| e.epoch).collect::<Vec<_>>(), [1, 2, 3]);
            assert_eq!(h.column(|e| Some(e.loss)), [1.0, 0.5, 1.0 / 3.0]);
            assert_eq!(h.column(|e| e.val_loss), [0.5, 0.5]);
        }
    }
}
