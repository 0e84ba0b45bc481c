//! The raw little-endian byte image of a model's parameters.
//!
//! # Layout
//! The parameter tensors in [`Params`] order — for each layer of the model, in order, its
//! kernel then its bias, each flattened in Keras' layout (`Dense`: `(in, out)`; `Conv2D`:
//! `(kh, kw, in, out)`) — every value as `size_of::<T>()` little-endian bytes. No header, no
//! padding: the length is exactly [`Params::PARAM_BYTES`], known at compile time, which is
//! how a wrong file is caught. Seed model 1 is 203 560 bytes; the digits MLP 9 640.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SmallRng::seed(1));
//! let bytes: Vec<u8> = model.to_le_bytes();
//! assert_eq!(bytes.len(), <Mlp as Params<f32>>::PARAM_BYTES);
//! let back = Mlp::from_le_bytes(&bytes)?;
//! assert_eq!(back, model);
//! assert_eq!(Mlp::from_le_bytes(&bytes[1..]), Err(BytesError::WrongLength { expected: 9640, found: 9639 }));
//! # Ok::<(), BytesError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

use crate::{Params, Scalar};

/// Why a byte image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytesError {
    /// The image (or output buffer) does not have exactly the model's parameter bytes.
    WrongLength {
        /// `PARAM_BYTES` of the model type.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// A parameter decodes to NaN or infinity: the file is corrupt or from a diverged run.
    NonFinite {
        /// Index of the parameter (not the byte).
        index: usize,
    },
}

impl fmt::Display for BytesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { expected, found } => write!(
                f,
                "the parameter image has {found} bytes but this model type has {expected}; was it saved from another model?"
            ),
            Self::NonFinite { index } => write!(f, "parameter {index} is NaN or infinite; the image is corrupt"),
        }
    }
}

impl core::error::Error for BytesError {}

/// Writes and reads the [byte image](self) of any model; implemented for every `Params<T>`.
pub trait ParamBytes<T: Scalar>: Params<T> {
    /// Writes the image into `out`, which must be exactly `PARAM_BYTES` long.
    ///
    /// # Errors
    /// [`BytesError::WrongLength`] if `out` has another length (nothing is written).
    fn write_le_bytes(&self, out: &mut [u8]) -> Result<(), BytesError> {
        if out.len() != Self::PARAM_BYTES {
            return Err(BytesError::WrongLength { expected: Self::PARAM_BYTES, found: out.len() });
        }
        let mut chunks = out.chunks_exact_mut(T::BYTES);
        for v in self.params().flatten() {
            if let Some(dst) = chunks.next() {
                v.write_le(dst);
            }
        }
        Ok(())
    }

    /// The image as a new vector (feature `alloc`).
    #[cfg(feature = "alloc")]
    fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = alloc::vec![0u8; Self::PARAM_BYTES];
        let _ = self.write_le_bytes(&mut out);
        out
    }

    /// Replaces the parameters with those in `bytes`.
    ///
    /// # Errors
    /// [`BytesError::WrongLength`] or [`BytesError::NonFinite`]; the model is unchanged then.
    fn read_le_bytes(&mut self, bytes: &[u8]) -> Result<(), BytesError> {
        if bytes.len() != Self::PARAM_BYTES {
            return Err(BytesError::WrongLength { expected: Self::PARAM_BYTES, found: bytes.len() });
        }
        if let Some(index) = bytes.chunks_exact(T::BYTES).position(|b| !T::read_le(b).is_finite()) {
            return Err(BytesError::NonFinite { index });
        }
        let mut chunks = bytes.chunks_exact(T::BYTES);
        for v in self.params_mut().flatten() {
            if let Some(src) = chunks.next() {
                *v = T::read_le(src);
            }
        }
        Ok(())
    }

    /// A model from an image.
    ///
    /// # Errors
    /// As [`read_le_bytes`](ParamBytes::read_le_bytes).
    fn from_le_bytes(bytes: &[u8]) -> Result<Self, BytesError>
    where
        Self: Sized + Default,
    {
        let mut model = Self::default();
        model.read_le_bytes(bytes)?;
        Ok(model)
    }
}

impl<T: Scalar, M: Params<T>> ParamBytes<T> for M {}
