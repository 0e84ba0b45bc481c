//! int8 inference, bit-exact with TensorFlow Lite for Microcontrollers.
//!
//! *See the guide's [int8 chapter](crate::guide::ch08_int8) for the design.* The int8 model of a
//! float model type `M` is the type [`Int8<M>`]: the same layers, with int8 weights (one
//! symmetric scale per output channel), int32 biases, and a scale and zero point on each
//! activation tensor ([`QuantParams`]), all owned by the layers. Inference ([`QLayer::forward`])
//! is integer-only (TFLite's fixed-point requantization, [`requant`]), `no_std`, heap-free and
//! panic-free; its memory ([`QLayer::PARAM_BYTES`], [`QLayer::ACTIVATION_BYTES`]) is a
//! constant of the type, about a quarter of the float model's.
//!
//! An int8 model comes from a `.tflite` file written by TensorFlow's converter
//! (`typed_nn::tflite`, feature `tflite`), or from a trained float model by post-training
//! quantization ([`calibrate()`]), and reaches firmware as a byte image baked in at compile time
//! ([`image`], [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes)).
//!
//! | float layer | int8 layer | TFLite operator(s) |
//! |---|---|---|
//! | `Dense<IN, OUT, A>` | [`QDense<IN, OUT, A>`](QDense) | `FULLY_CONNECTED` (+ `SOFTMAX`) |
//! | `Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW>` | [`QConv2D<CI, CO, K, A, S, P, KW, SW>`](QConv2D) | `CONV_2D` |
//! | `DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>` | [`QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>`](QDepthwiseConv2D) | `DEPTHWISE_CONV_2D` |
//! | `MaxPool2D<P, PW>` | [`QMaxPool2D<P, PW>`](QMaxPool2D) | `MAX_POOL_2D` |
//! | `AvgPool2D<P, PW>` | [`QAvgPool2D<P, PW>`](QAvgPool2D) | `AVERAGE_POOL_2D` |
//! | `GlobalAvgPool2D` | [`QGlobalAvgPool2D`] | `MEAN` (axes 1, 2) |
//! | `Flatten` | [`QFlatten`] | `RESHAPE` |
//! | `Residual<F, S>` | [`QResidual<Int8<F>, Int8<S>, A>`](QResidual) | `F`'s, `S`'s, then `ADD` |
//! | `Skip` | [`QSkip`] | none (the `ADD` reads the block's input) |
//! | `ActivationLayer<Relu \| Relu6>` after a `Dense`, `Conv2D`, `DepthwiseConv2D` (`Identity`) or `Residual` | fused into that layer ([`fuse`]) | its fused activation |

pub mod calibrate;
pub mod conv;
pub mod dense;
pub mod depthwise;
pub mod flatten;
#[cfg(test)]
mod forward_into_tests;
pub mod fuse;
pub mod image;
pub(crate) mod kernel;
pub mod layer;
pub mod model;
pub mod pool;
pub mod requant;
pub mod residual;
pub mod softmax;
pub mod tensor;

pub use crate::kernel::int8::{Simd, simd};
pub use calibrate::{CalibrationError, calibrate};
pub use conv::{ConvActivation, QConv2D, QPadding};
pub use dense::QDense;
pub use depthwise::QDepthwiseConv2D;
pub use flatten::QFlatten;
pub use image::{Int8Bytes, Int8ImageError};
pub use layer::{Fused, QActivation, QLayer};
pub use model::{Int8, Quantize};
pub use pool::{QAvgPool2D, QGlobalAvgPool2D, QMaxPool2D};
pub use requant::Requant;
pub use residual::{QAdd, QResidual, QSkip};
pub use softmax::SoftmaxParams;
pub use tensor::{HasInt8, Int8Of, Int8Tensor, QFlat, QImage, QVector, QuantParams};
