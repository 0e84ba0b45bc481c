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

use crate::Tensor;
#[cfg(feature = "alloc")]
use crate::kernel::cast::{flat, flat_mut};
#[cfg(feature = "alloc")]
use crate::layer::Seal;
#[cfg(feature = "alloc")]
use crate::{Layer, Scalar};

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
    /// A flat slice given to [`as_samples`] is not a whole number of samples.
    NotWholeSamples {
        /// Number of values in the slice.
        len: usize,
        /// Number of values in one sample.
        sample_len: usize,
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
            Self::NotWholeSamples { len, sample_len } => write!(
                f,
                "a flat batch of {len} values is not a whole number of samples of {sample_len} values; pass n × {sample_len} values"
            ),
        }
    }
}

impl core::error::Error for BatchError {}

/// A flat slice of `n × X::LEN` values (`n` samples one after the other, as a data loader or a
/// NumPy array gives them) seen as `n` samples, without a copy, for every batch-level call:
/// [`forward_batch`](ForwardBatch::forward_batch),
/// [`value_and_grad_batch`](crate::backprop::value_and_grad_batch), the
/// [`Trainer`](crate::train::Trainer).
///
/// An image sample's values are in Keras' channels-last order (`Image<H, W, C>`: row, column,
/// channel).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::batch::{as_samples, as_samples_mut};
/// type Mlp = (Dense<4, 3, Relu>, Dense<3, 2, Softmax>);
/// let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
/// let data: Vec<f32> = (0..3 * 4).map(|i| i as f32 / 12.0).collect(); // 3 samples of 4
/// let mut out = vec![0.0f32; 3 * 2];
/// // A Dense also accepts a Flatten output, so name the sample type once.
/// model.forward_batch(as_samples::<Vector<4>>(&data)?, as_samples_mut(&mut out)?)?;
/// let second = model.forward(&Vector::from([4.0 / 12.0, 5.0 / 12.0, 6.0 / 12.0, 7.0 / 12.0]));
/// assert!((out[2] - second[0]).abs() < 1e-6 && (out[3] - second[1]).abs() < 1e-6);
/// assert_eq!(
///     as_samples::<Vector<4>>(&data[..10]),
///     Err(BatchError::NotWholeSamples { len: 10, sample_len: 4 })
/// );
/// # Ok::<(), BatchError>(())
/// ```
///
/// # Errors
/// [`BatchError::NotWholeSamples`] if the length is not a multiple of `X::LEN` (or `X` holds
/// no values).
///
/// # Allocation
/// None; the result borrows `flat`.
#[inline]
pub fn as_samples<X: Tensor>(flat: &[X::Elem]) -> Result<&[X], BatchError> {
    crate::kernel::cast::samples(flat).ok_or(BatchError::NotWholeSamples { len: flat.len(), sample_len: X::LEN })
}

/// [`as_samples`] for outputs: a mutable flat slice of `n × X::LEN` values as `n` samples.
///
/// # Errors
/// [`BatchError::NotWholeSamples`] if the length is not a multiple of `X::LEN` (or `X` holds
/// no values).
///
/// # Allocation
/// None; the result borrows `flat`.
#[inline]
pub fn as_samples_mut<X: Tensor>(flat: &mut [X::Elem]) -> Result<&mut [X], BatchError> {
    let len = flat.len();
    crate::kernel::cast::samples_mut(flat).ok_or(BatchError::NotWholeSamples { len, sample_len: X::LEN })
}

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
    /// With `std`: a scratch buffer for the intermediate activations, kept per thread and per
    /// float type and reused by the next call on that thread, so a loop of calls allocates only
    /// when a batch needs more scratch than any before (it keeps the largest size until the
    /// thread ends). Without `std`: one buffer per call. Use
    /// [`forward_batch_with`](ForwardBatch::forward_batch_with) to own the buffer yourself.
    fn forward_batch(&self, xs: &[In], ys: &mut [Self::Out]) -> Result<(), BatchError> {
        let () = <Self as Layer<In>>::CHECK;
        with_scratch(|scratch| self.forward_batch_with(xs, ys, scratch))
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

/// Runs `f` with this thread's reusable scratch buffer for `T` (with `std`; a new buffer
/// without it). The buffer is moved out of the thread-local for the call and back afterwards,
/// so a nested call simply starts with an empty one.
#[cfg(feature = "alloc")]
fn with_scratch<T: Scalar, R>(f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    #[cfg(feature = "std")]
    {
        use core::any::Any;
        use core::cell::Cell;
        std::thread_local! {
            static F32: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
            static F64: Cell<Vec<f64>> = const { Cell::new(Vec::new()) };
        }
        // `T` is `f32` or `f64` (`Scalar` is sealed): the `Any` downcasts of an `Option` slot
        // move the buffer between `Vec<f32>`/`Vec<f64>` and `Vec<T>` without `unsafe` and
        // without allocating; after monomorphisation each is a constant branch.
        fn cast<A: 'static, B: 'static>(v: A) -> Option<B> {
            let mut slot = Some(v);
            (&mut slot as &mut dyn Any).downcast_mut::<Option<B>>().and_then(Option::take)
        }
        let is_f32 = core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>();
        let taken = if is_f32 {
            F32.try_with(Cell::take).ok().and_then(cast)
        } else {
            F64.try_with(Cell::take).ok().and_then(cast)
        };
        let mut buf: Vec<T> = taken.unwrap_or_default();
        let out = f(&mut buf);
        if is_f32 {
            if let Some(b) = cast::<Vec<T>, Vec<f32>>(buf) {
                let _ = F32.try_with(|c| c.set(b));
            }
        } else if let Some(b) = cast::<Vec<T>, Vec<f64>>(buf) {
            let _ = F64.try_with(|c| c.set(b));
        }
        out
    }
    #[cfg(not(feature = "std"))]
    {
        f(&mut Vec::new())
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::backprop::{Workspace, value_and_grad_batch};
    use crate::prelude::*;

    type Mlp = (Dense<5, 4, Tanh, f64>, Dense<4, 3, Softmax, f64>);

    #[test]
    fn a_flat_batch_gives_the_same_outputs_and_gradient_as_the_samples() {
        let model: Mlp = Mlp::init(&mut SeedRng::seed(4));
        let flat: std::vec::Vec<f64> = (0..6 * 5).map(|i| (i as f64 * 0.7).sin()).collect();
        let xs: std::vec::Vec<Vector<5, f64>> = flat.chunks(5).map(|c| Vector::from_fn(|i| c[i])).collect();
        let labels = [0usize, 2, 1, 1, 0, 2];
        let loss = SparseCategoricalCrossentropy::default();

        let mut out = std::vec![0.0f64; 6 * 3];
        model.forward_batch(as_samples::<Vector<5, f64>>(&flat).unwrap(), as_samples_mut(&mut out).unwrap()).unwrap();
        // `forward_batch` promises `forward`'s outputs within rounding, not its bits: the GEMM
        // (matrixmultiply, which uses FMA where the CPU has it) sums in its own order, and
        // `TYPED_NN_SIMD=portable` (or a CPU without AVX2) runs the single-sample row without FMA.
        for (x, y) in xs.iter().zip(out.chunks(3)) {
            for (&a, &b) in model.forward(x).as_slice().iter().zip(y) {
                assert!((a - b).abs() <= 1e-14, "{a} against {b}");
            }
        }

        let (mut g_flat, mut g_samples) = (Mlp::default(), Mlp::default());
        let mut ws = Workspace::new();
        let l_flat = value_and_grad_batch(
            &model,
            as_samples::<Vector<5, f64>>(&flat).unwrap(),
            &labels,
            &loss,
            &mut g_flat,
            &mut ws,
        )
        .unwrap();
        let l_samples = value_and_grad_batch(&model, &xs, &labels, &loss, &mut g_samples, &mut ws).unwrap();
        assert_eq!(l_flat, l_samples);
        assert_eq!(g_flat, g_samples);
    }

    #[test]
    fn a_flat_batch_of_partial_samples_is_a_typed_error() {
        let flat = [0.0f32; 7];
        assert_eq!(as_samples::<Vector<2>>(&flat), Err(BatchError::NotWholeSamples { len: 7, sample_len: 2 }));
        let mut out = [0.0f32; 5];
        assert_eq!(as_samples_mut::<Vector<3>>(&mut out), Err(BatchError::NotWholeSamples { len: 5, sample_len: 3 }));
        assert_eq!(as_samples::<Vector<7>>(&flat).map(<[_]>::len), Ok(1));
    }
}
