//! Saving and loading parameters.
//!
//! - [`bytes`]: the raw little-endian image of a model's parameters, whose length is a
//!   compile-time constant — for firmware (`include_bytes!`) and quick checkpoints.

pub mod bytes;

pub use bytes::{BytesError, ParamBytes};
