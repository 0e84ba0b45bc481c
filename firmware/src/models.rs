//! The models the firmware runs: the `f32` ones baked into flash by `model_from_le_bytes!`, the
//! types of the int8 ones, and the function each model runs on a test image.
//!
//! This file is compiled twice: into the firmware (no `std`, Cortex-M) and into `build.rs`
//! (with `std`, on the build machine), which runs the same functions on the same test images to
//! get the host's answers the firmware compares itself with. A weight file of the wrong length
//! does not compile in either (the error names both lengths; `tests/ui/weight_image_length_must_match.rs`
//! in typed-nn pins its text).
//!
//! The Keras-trained models' `static`s (the int8 ones and `cnn_relu`) are in
//! [`crate::keras_models`], not here: their byte images are what `build.rs` writes after
//! loading each file into its type in this file, so they do not exist yet when `build.rs` is
//! compiled. `build.rs` runs the models it loaded through the same functions as the firmware
//! ([`int8_mlp`], [`int8_cnn`], [`cnn_relu`]).
//!
//! MLPerf Tiny's DS-CNN and ResNet-8 ([`ds_cnn`], [`resnet8`]: the definitions in
//! `examples/models/`, shared through `#[path]`) run with every BatchNormalization folded; their
//! binaries bake the weight image `build.rs` writes into a `static` with `model_from_le_bytes!`,
//! which decodes nested blocks too, and run it on fixture inputs ([`crate::fixture`]).
//!
//! To add a model: a `static` (int8: a type here and a
//! `static` in `keras_models.rs`) and a function here, a `src/bin/name.rs` like `mlp.rs`, its
//! host answers in `build.rs` (`Host::f32` or `Host::int8`), its comparison in
//! `src/bin/parity.rs`, its run in `.ci/run`, and its rows in the README's firmware table (the
//! firmware prints them; both targets).

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QLayer, QVector};

/// MLPerf Tiny's DS-CNN (keyword spotting, 49×10×1 MFCC features in, 12 classes out), the one
/// definition the examples and tests use too.
#[allow(dead_code)] // the block alias is for reading
#[path = "../../examples/models/ds_cnn.rs"]
pub mod ds_cnn;

/// MLPerf Tiny's ResNet-8 (CIFAR-10, 32×32×3 in, 10 classes out), the one definition the
/// examples and tests use too.
#[allow(dead_code)] // the block aliases are for reading
#[path = "../../examples/models/resnet8.rs"]
pub mod resnet8;

/// The digits MLP trained by `examples/05_digits.rs` (seed 0):
/// Keras `Dense(32, relu, input 64) → Dense(10, softmax)`.
pub type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

/// The digits CNN trained by `examples/05_digits.rs --conv` (seed 0), on 8×8×1 images.
pub type DigitsCnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

/// The trained MLP, decoded by the compiler from `data/digits/mlp.weights` (9640 bytes).
pub static DIGITS_MLP: DigitsMlp = typed_nn::model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!("../../data/digits/mlp.weights")
);

/// The trained CNN, decoded by the compiler from `data/digits/cnn.weights` (1640 bytes).
pub static DIGITS_CNN: DigitsCnn = typed_nn::model_from_le_bytes!(
    (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>),
    include_bytes!("../../data/digits/cnn.weights")
);

/// A pixel of the dataset (0..=16) as the models' input value, as `typed_nn::data::Digits` does.
#[inline(always)]
fn scale(pixel: u8) -> f32 {
    f32::from(pixel) / 16.0
}

/// The MLP's class probabilities for one 8×8 image (64 pixels, row-major).
#[inline(always)]
pub fn mlp(pixels: &[u8; 64]) -> Vector<10> {
    let x: Vector<64> = Vector::new(pixels.map(scale));
    DIGITS_MLP.forward(&x)
}

/// One 8×8 image (64 pixels, row-major) as the CNNs' input.
#[inline(always)]
fn image(pixels: &[u8; 64]) -> Image<8, 8, 1> {
    let mut rows = [[[0.0f32; 1]; 8]; 8];
    for (row, chunk) in rows.iter_mut().zip(pixels.chunks_exact(8)) {
        for (px, &p) in row.iter_mut().zip(chunk) {
            *px = [scale(p)];
        }
    }
    Image::new(rows)
}

/// The CNN's class probabilities for one 8×8 image (64 pixels, row-major).
#[inline(always)]
pub fn cnn(pixels: &[u8; 64]) -> Vector<10> {
    DIGITS_CNN.forward(&image(pixels))
}

/// The class probabilities of the `f32` CNN the int8 CNN was converted from
/// ([`DigitsCnnRelu`] with its Keras weights) for one 8×8 image.
#[inline(always)]
pub fn cnn_relu(model: &DigitsCnnRelu, pixels: &[u8; 64]) -> Vector<10> {
    model.forward(&image(pixels))
}

/// The int8 digits CNN's float architecture: [`DigitsCnn`] with ReLU instead of the sigmoid
/// (typed-nn's int8 layers fold ReLU and ReLU6 into their output range and have no sigmoid).
/// Its int8 form is the Keras-trained model of `tests/fixtures/tflite/digits_cnn.tflite`; the
/// `cnn_relu` firmware runs it in `f32` with the Keras weights before conversion
/// (`digits_cnn.safetensors`), for a comparison of the same model in `f32` and int8.
///
/// The int8 MLP has [`DigitsMlp`]'s architecture; its int8 form is the Keras-trained model of
/// `tests/fixtures/tflite/digits_mlp.tflite` (other weights than `data/digits/mlp.weights`).
pub type DigitsCnnRelu = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

/// A pixel value (0..=16) as an int8 model's input step: `table[pixel]`. `build.rs` computes it
/// with the model's input scale and zero point (`QuantParams::quantize(pixel / 16)`, as
/// `QLayer::quantize_input` would), so the firmware quantizes its inputs without float code.
pub type PixelTable = [i8; 17];

/// The int8 input of one 8×8 image: each pixel through `table`.
#[inline(always)]
fn quantized(table: &PixelTable, pixels: &[u8; 64]) -> [i8; 64] {
    // A pixel above 16 is not in the data set; it saturates like an input above 1.0 would.
    pixels.map(|p| table.get(usize::from(p)).copied().unwrap_or(i8::MAX))
}

/// The int8 MLP's output steps (class probabilities in steps of 1/256 from −128) for one image.
#[inline(always)]
pub fn int8_mlp(model: &Int8<DigitsMlp>, table: &PixelTable, pixels: &[u8; 64]) -> QVector<10> {
    model.forward(&QVector::new(quantized(table, pixels)))
}

/// The int8 CNN's output steps for one 8×8 image (64 pixels, row-major).
#[inline(always)]
pub fn int8_cnn(model: &Int8<DigitsCnnRelu>, table: &PixelTable, pixels: &[u8; 64]) -> QVector<10> {
    model.forward(&int8_image(quantized(table, pixels)))
}

/// 64 int8 steps, row-major, as the 8×8×1 image the int8 CNN takes.
#[inline(always)]
pub fn int8_image(steps: [i8; 64]) -> QImage<8, 8, 1> {
    let mut rows = [[[0i8; 1]; 8]; 8];
    for (row, chunk) in rows.iter_mut().zip(steps.as_chunks::<8>().0) {
        *row = chunk.map(|v| [v]);
    }
    QImage::new(rows)
}

/// DS-CNN (keyword spotting: 49×10 MFCC features in, 12 classes) as TensorFlow's converter
/// leaves it, BatchNormalization folded and ReLU fused: the model of
/// `tests/fixtures/tflite/ds_cnn.tflite` (its int8 form only).
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
