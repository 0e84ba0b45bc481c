//! Loading a fully int8 `.tflite` model into a typed int8 model (feature `tflite`).
//!
//! *See the guide's [int8 chapter](crate::guide::ch08_int8).* The file is read with the
//! `flatbuffers` runtime, whose verifier checks every offset before anything is read; typed-nn
//! then walks the first subgraph's operators in order and checks each against the layer the
//! type puts there: operator kind, options (stride, padding, filter size, fused activation),
//! tensor types, shapes and quantization, and that each operator reads what the previous one
//! wrote. Any difference is a [`TfliteError`] naming the operator index, its kind and both
//! values; nothing in a hostile file can make the loader panic.
//!
//! # Examples
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::quant::{Int8, QLayer, QVector};
//! use typed_nn::tflite::FromTflite;
//!
//! type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
//! let bytes = include_bytes!("../../tests/fixtures/tflite/digits_mlp.tflite");
//! let model: Int8<Mlp> = Int8::<Mlp>::from_tflite::<QVector<64>>(bytes)?;
//! let y: QVector<10> = model.forward(&QVector::new([-128; 64]));
//! assert!(y.argmax() < 10);
//!
//! // The same file does not load into another architecture: the error names the operator.
//! type Wider = (Dense<64, 48, Relu>, Dense<48, 10, Softmax>);
//! let err = Int8::<Wider>::from_tflite::<QVector<64>>(bytes).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "operator 0 (FULLY_CONNECTED): weights has shape [32, 64], the type expects [48, 64]"
//! );
//! # Ok::<(), typed_nn::tflite::TfliteError>(())
//! ```

mod error;
mod import;

pub use error::{Dims, OpKind, QuantProblem, TfliteError};
pub use import::{Operators, TfliteImport};

use crate::kernel::tflite_schema;
use crate::quant::Int8Tensor;

/// `from_tflite` for every int8 model type: `Int8::<Mlp>::from_tflite::<QVector<64>>(&bytes)`.
///
/// The input tensor type is named with a turbofish because one layer type accepts several
/// inputs (a convolution takes images of any size that fits); the float side's
/// `summary_table::<Vector<784>>()` does the same.
pub trait FromTflite: Sized {
    /// Loads a fully int8 `.tflite` model (TensorFlow's converter with
    /// `optimizations=[DEFAULT]`, a representative dataset and int8 input and output) into
    /// this type, checking every operator against it.
    ///
    /// # Errors
    /// A [`TfliteError`] for a file that is not a verified TFLite flatbuffer, is not int8, or
    /// whose operators, options, shapes or quantization differ from the type.
    ///
    /// # Panics
    /// Never, whatever the bytes.
    fn from_tflite<X: Int8Tensor>(bytes: &[u8]) -> Result<Self, TfliteError>
    where
        Self: TfliteImport<X>,
    {
        if bytes.len() < 8 || !flatbuffers::buffer_has_identifier(bytes, "TFL3", false) {
            return Err(TfliteError::NotTflite);
        }
        let model =
            tflite_schema::verified_model(bytes).map_err(|e| TfliteError::Malformed(alloc::boxed::Box::new(e)))?;
        let mut ops = Operators::new(model)?;
        ops.check_model_input()?;
        let layers = Self::import(&mut ops)?;
        ops.finish()?;
        Ok(layers)
    }
}

impl<M> FromTflite for M {}
