#![doc = include_str!("../README.md")]
#![doc = include_str!("../docs/crate.md")]
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing,
        clippy::std_instead_of_core,
        clippy::std_instead_of_alloc,
        clippy::alloc_instead_of_core,
        clippy::missing_errors_doc,
        clippy::missing_panics_doc
    )
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod activation;
pub mod backprop;
pub mod batch;
#[cfg(feature = "alloc")]
pub mod boxed;
#[cfg(feature = "alloc")]
pub mod data;
pub mod fold;
pub mod fuse;
#[cfg(feature = "proptest")]
pub mod gradcheck;
pub mod guide;
pub mod init;
pub mod io;
mod kernel;
pub mod layer;
pub mod loss;
pub mod math;
mod model;
pub mod optim;
pub mod params;
pub mod prelude;
pub mod quant;
pub mod regularizer;
pub mod scalar;
mod seal;
pub mod shape;
pub mod summary;
#[cfg(feature = "tflite")]
pub mod tflite;
#[cfg(feature = "threads")]
pub mod threads;
pub mod train;
pub mod zeros;

pub use activation::Activation;
pub use batch::BatchError;
#[cfg(feature = "alloc")]
pub use batch::ForwardBatch;
#[cfg(feature = "alloc")]
pub use boxed::NewBoxed;
pub use kernel::{FloatSimd, float_simd};
pub use layer::{
    ActivationLayer, AvgPool2D, Backward, BatchNormalization, Bias, Conv2D, Conv2DRect, Dense, DepthwiseConv2D,
    DepthwiseConv2DRect, Dropout, Flatten, GlobalAvgPool2D, Layer, MaxPool2D, NoBias, Residual, Same, Skip, Valid,
};
pub use loss::Loss;
pub use optim::Optimizer;
pub use params::Params;
pub use scalar::Scalar;
pub use shape::{Flat, Image, Tensor, Vector};
pub use summary::{InputShape, Summary};
pub use zeros::Zeros;
