//! The digits models `nostd-check` runs, written once and shared by `build.rs` (which checks
//! the `.tflite` files against their int8 types, on the build machine) and the binary (which
//! bakes the checked images into flash): `#[path = "src/models.rs"] mod models;` in both.

use typed_nn::prelude::*;

/// The digits MLP: as `f32`, the model `examples/05_digits.rs` trains (seed 0, 351/360); as
/// `Int8<DigitsMlp>`, the Keras model of `tests/fixtures/tflite/digits_mlp.tflite`.
pub type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

/// The digits CNN of `tests/fixtures/tflite/digits_cnn.tflite` (its int8 form only).
pub type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

/// DS-CNN (keyword spotting, 49×10 MFCC input, 12 classes) as TensorFlow's converter leaves it:
/// each BatchNormalization folded into its convolution, each ReLU fused, dropout gone; the
/// model of `tests/fixtures/tflite/ds_cnn.tflite` (its int8 form; the `f32` type gives the
/// float sizes).
pub type DsCnn = (
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
);
