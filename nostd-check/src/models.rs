//! The models `nostd-check` runs, written once and shared by `build.rs` (which checks the
//! `.tflite` files against their int8 types and loads the Keras ResNet-8 weights, on the build
//! machine) and the binary (which bakes the checked images in): `#[path = "src/models.rs"] mod
//! models;` in both.

use typed_nn::prelude::*;

/// The digits MLP: as `f32`, the model `examples/05_digits.rs` trains (seed 0, 351/360); as
/// `Int8<DigitsMlp>`, the Keras model of `tests/fixtures/tflite/digits_mlp.tflite`.
pub type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

/// The digits CNN of `tests/fixtures/tflite/digits_cnn.tflite` (its int8 form only).
pub type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

/// MLPerf Tiny's ResNet-8, the one definition the examples and tests use too.
#[allow(dead_code)] // the block aliases are for reading, the binary names the whole models
#[path = "../../examples/models/resnet8.rs"]
pub mod resnet8;

/// MLPerf Tiny's DS-CNN, the one definition the examples and tests use too.
#[allow(dead_code)] // the block alias is for reading
#[path = "../../examples/models/ds_cnn.rs"]
pub mod ds_cnn;
