//! Batched inference: many samples through a model at once, one GEMM per `Dense` layer
//! (feature `alloc`), and [`BatchError`], the error of every batch-level call.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let xs: Vec<Vector<784>> = (0..8).map(|i| Vector::from([i as f32 / 8.0; 784])).collect();
//! let mut ys = vec![Vector::<10>::default(); xs.len()];
//! model.forward_batch(&xs, &mut ys)?;
//! for (x, y) in xs.iter().zip(&ys) {
//!     let single = model.forward(x);
//!     assert!(single.iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
//! }
//! # Ok::<(), typed_nn::BatchError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "alloc")]
use crate::kernel::cast::{flat, flat_mut};
#[cfg(feature = "alloc")]
use crate::layer::Seal;
#[cfg(feature = "alloc")]
use crate::{Layer, Tensor};

/// Why a batch-level call (batched forward, loss and gradient over a batch) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// The output slice does not have one slot per input.
    LengthMismatch {
        /// Number of inputs given.
        inputs: usize,
        /// Number of output slots given.
        outputs: usize,
    },
    /// The targets (labels) are not one per input.
    TargetCountMismatch {
        /// Number of inputs given.
        inputs: usize,
        /// Number of targets given.
        targets: usize,
    },
    /// The batch is empty, so its mean loss is undefined.
    Empty,
    /// A target is not valid for the loss (see [`Loss::valid_target`](crate::Loss::valid_target)):
    /// a class index out of range, a NaN/infinite value, or a cross-entropy target outside
    /// `[0, 1]`.
    InvalidTarget {
        /// Position of the target in the batch.
        index: usize,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { inputs, outputs } => {
                write!(f, "{inputs} inputs but {outputs} output slots; pass one output per input")
            }
            Self::TargetCountMismatch { inputs, targets } => {
                write!(f, "{inputs} inputs but {targets} targets; pass one target per input")
            }
            Self::Empty => f.write_str("the batch is empty; pass at least one sample"),
            Self::InvalidTarget { index } => {
                write!(
                    f,
                    "target {index} is not valid for this loss (class out of range, not finite, or a probability outside [0, 1])"
                )
            }
        }
    }
}

impl core::error::Error for BatchError {}

/// Batched forward passes, for every layer and model (feature `alloc`).
#[cfg(feature = "alloc")]
pub trait ForwardBatch<In: Tensor>: Layer<In> {
    /// Runs the model on every input and writes the outputs in order.
    ///
    /// Equal to calling [`Layer::forward`] per sample (within float rounding: the GEMM sums in
    /// a different order), but each `Dense` layer does one matrix product for the batch.
    ///
    /// # Errors
    /// [`BatchError::LengthMismatch`] if `ys.len() != xs.len()`; nothing is written then.
    ///
    /// # Allocation
    /// One scratch buffer for the intermediate activations, per call. Use
    /// [`forward_batch_with`](ForwardBatch::forward_batch_with) to reuse one across calls.
    fn forward_batch(&self, xs: &[In], ys: &mut [Self::Out]) -> Result<(), BatchError> {
        let () = <Self as Layer<In>>::CHECK;
        self.forward_batch_with(xs, ys, &mut Vec::new())
    }

    /// Like [`forward_batch`](ForwardBatch::forward_batch), with a caller-owned scratch buffer
    /// that grows to the size it needs once and is reused afterwards.
    ///
    /// # Errors
    /// [`BatchError::LengthMismatch`] if `ys.len() != xs.len()`.
    fn forward_batch_with(
        &self,
        xs: &[In],
        ys: &mut [Self::Out],
        scratch: &mut Vec<In::Elem>,
    ) -> Result<(), BatchError> {
        let () = <Self as Layer<In>>::CHECK;
        if xs.len() != ys.len() {
            return Err(BatchError::LengthMismatch { inputs: xs.len(), outputs: ys.len() });
        }
        let n = xs.len();
        let need = Self::batch_scratch_len(Seal, n);
        if scratch.len() < need {
            scratch.resize(need, num_traits::Zero::zero());
        }
        self.forward_batch_flat(Seal, n, flat(xs), flat_mut(ys), scratch);
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl<In: Tensor, L: Layer<In>> ForwardBatch<In> for L {}
