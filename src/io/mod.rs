//! Saving and loading parameters.
//!
//! - [`bytes`]: the raw little-endian image of a model's parameters, whose length is a
//!   compile-time constant — for firmware (`include_bytes!`) and quick checkpoints.
//! - `safetensors` (feature `std`): Keras' and PyTorch's weights, by name, checked against the
//!   model's type.

pub mod bytes;
#[cfg(feature = "std")]
pub mod safetensors;

pub use bytes::{BytesError, ParamBytes};
#[cfg(feature = "std")]
pub use safetensors::{LoadError, LoadOptions, Safetensors};
