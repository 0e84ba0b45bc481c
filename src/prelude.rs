//! Everything an example needs: `use typed_nn::prelude::*;`.
//!
//! Layers, activations, tensors, the traits whose methods you call (`forward`, `params`,
//! `summary`, ...), the random generator for `init` ([`SeedRng`]), and
//! `num_traits::Float` (the bound of an activation's `f` and `df`).

pub use num_traits::Float;
pub use rand_core::{Rng, SeedableRng};

pub use crate::activation::{
    Activation, Elu, Exponential, Gelu, HardSigmoid, HardSwish, Identity, LeakyRelu, LogSoftmax, Mish, Relu, Relu6,
    Selu, Sigmoid, Softmax, Softplus, Softsign, Swish, Tanh,
};
#[cfg(feature = "alloc")]
pub use crate::backprop::{Workspace, train_on_batch_with, value_and_grad_batch};
pub use crate::backprop::{train_on_batch, value_and_grad, value_and_grad_input, value_and_grad_mean};
pub use crate::batch::BatchError;
#[cfg(feature = "alloc")]
pub use crate::batch::ForwardBatch;
#[cfg(feature = "alloc")]
pub use crate::boxed::NewBoxed;
pub use crate::fold::FoldBatchNorm;
pub use crate::fuse::FuseActivations;
pub use crate::init::SeedRng;
#[allow(deprecated)]
pub use crate::init::SmallRng;
pub use crate::io::{BytesError, ParamBytes};
#[cfg(feature = "std")]
pub use crate::io::{LoadError, LoadOptions, Safetensors};
pub use crate::layer::{
    ActivationLayer, AvgPool2D, Backward, BatchNormalization, Bias, Conv2D, Conv2DRect, Dense, DepthwiseConv2D,
    DepthwiseConv2DRect, Dropout, Flatten, GlobalAvgPool2D, Layer, MaxPool2D, NoBias, Residual, Same, Skip, Valid,
};
pub use crate::loss::{
    BinaryCrossentropy, CategoricalCrossentropy, Loss, MeanSquaredError, SparseCategoricalCrossentropy,
};
pub use crate::optim::{Adam, AdamW, Optimizer, RmsProp, Sgd};
pub use crate::params::Params;
pub use crate::scalar::Scalar;
pub use crate::shape::{Flat, Image, Tensor, Vector};
pub use crate::summary::{InputShape, Summary};
#[cfg(feature = "threads")]
pub use crate::threads::{ThreadedWorkspace, value_and_grad_batch_threaded};
pub use crate::train::{AsClass, EpochStats, History, MetricTarget, TrainError, Trainer};
pub use crate::zeros::Zeros;
