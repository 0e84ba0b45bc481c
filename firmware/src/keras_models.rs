//! The digits models trained in Keras (`scripts/tflite_int8_fixtures.py`), baked into flash
//! from the images `build.rs` writes: the int8 MLP and CNN as TensorFlow's converter wrote
//! them (`tests/fixtures/tflite/digits_{mlp,cnn}.tflite`), and the `f32` CNN they were
//! converted from, for a comparison of one model in `f32` and in int8; and the int8 DS-CNN and
//! ResNet-8 of `tests/fixtures/tflite/{ds_cnn,resnet8}.tflite`.
//!
//! For each int8 model, `build.rs` loads the `.tflite` file into its int8 type
//! (`src/models.rs`) with typed-nn's verifying loader, so a file that does not match the type
//! stops the build naming the operator, and writes the checked model's int8 byte image into
//! `OUT_DIR`; the compiler decodes that image here, checking its length against the type (guide
//! chapter 8, "In firmware"). The firmware holds the finished layers and no loading code.

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Tensor, QImage, QLayer, QVector};

use crate::models::resnet8::ResNet8Folded;
use crate::models::{self, DigitsCnnRelu, DigitsMlp, DsCnn};
use crate::table::{CNN_INT8_PIXELS, MLP_INT8_PIXELS};

/// The int8 digits MLP of `tests/fixtures/tflite/digits_mlp.tflite`, checked by `build.rs`.
pub static MLP_INT8: Int8<DigitsMlp> = typed_nn::int8_model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!(concat!(env!("OUT_DIR"), "/mlp_int8.int8"))
);

/// The int8 digits CNN of `tests/fixtures/tflite/digits_cnn.tflite`, checked by `build.rs`.
pub static CNN_INT8: Int8<DigitsCnnRelu> = typed_nn::int8_model_from_le_bytes!(
    (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>),
    include_bytes!(concat!(env!("OUT_DIR"), "/cnn_int8.int8"))
);

/// The `f32` CNN that `CNN_INT8` was converted from: the Keras weights of
/// `tests/fixtures/tflite/digits_cnn.safetensors`, as a weight image written by `build.rs`.
pub static CNN_RELU: DigitsCnnRelu = typed_nn::model_from_le_bytes!(
    (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>),
    include_bytes!(concat!(env!("OUT_DIR"), "/cnn_relu.weights"))
);

/// The int8 MLP's output for one image (its pixels quantized with the model's input step).
#[inline(always)]
pub fn mlp_int8(pixels: &[u8; 64]) -> QVector<10> {
    models::int8_mlp(&MLP_INT8, &MLP_INT8_PIXELS, pixels)
}

/// The int8 CNN's output for one image.
#[inline(always)]
pub fn cnn_int8(pixels: &[u8; 64]) -> QVector<10> {
    models::int8_cnn(&CNN_INT8, &CNN_INT8_PIXELS, pixels)
}

/// The `f32` CNN's class probabilities for one image.
#[inline(always)]
pub fn cnn_relu(pixels: &[u8; 64]) -> Vector<10> {
    models::cnn_relu(&CNN_RELU, pixels)
}

/// The int8 DS-CNN of `tests/fixtures/tflite/ds_cnn.tflite`, checked by `build.rs`.
pub static DS_CNN_INT8: Int8<DsCnn> = typed_nn::int8_model_from_le_bytes!(
    (
        Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        AvgPool2D<25, 5>,
        Flatten,
        Dense<64, 12, Softmax>,
    ),
    include_bytes!(concat!(env!("OUT_DIR"), "/ds_cnn_int8.int8"))
);

/// DS-CNN's int8 output for one int8 input (49×10 features, already quantized).
#[inline(always)]
pub fn ds_cnn_int8(input: &[u8; 490]) -> QVector<12> {
    let mut x = QImage::<49, 10, 1>::default();
    for (d, &b) in x.as_mut_slice().iter_mut().zip(input) {
        *d = b as i8;
    }
    DS_CNN_INT8.forward(&x)
}

/// The int8 ResNet-8 of `tests/fixtures/tflite/resnet8.tflite` (each `ADD` with its ReLU fused),
/// checked by `build.rs`; the compiler decodes its nested residual blocks.
pub static RESNET8_INT8: Int8<ResNet8Folded> =
    typed_nn::int8_model_from_le_bytes!(ResNet8Folded, include_bytes!(concat!(env!("OUT_DIR"), "/resnet8_int8.int8")));

/// ResNet-8's int8 output for one int8 input (a 32×32×3 image, already quantized).
#[inline(always)]
pub fn resnet8_int8(input: &[u8; 3072]) -> QVector<10> {
    let mut x = QImage::<32, 32, 3>::default();
    for (d, &b) in x.as_mut_slice().iter_mut().zip(input) {
        *d = b as i8;
    }
    RESNET8_INT8.forward(&x)
}
