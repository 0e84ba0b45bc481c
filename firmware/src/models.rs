//! The models the firmware runs, baked into flash by `model_from_le_bytes!`.
//!
//! This file is compiled twice: into the firmware (no `std`, Cortex-M) and into `build.rs`
//! (with `std`, on the build machine), which runs the same functions on the same test images to
//! get the host's answers the firmware compares itself with. A weight file of the wrong length
//! does not compile in either (the error names both lengths; `tests/ui/weight_image_length_must_match.rs`
//! in typed-nn pins its text).
//!
//! To add a model (the DS-CNN, ResNet-8 or an int8 model when they land): a `static` and a
//! `fn name(pixels) -> Vector<10>` here, a `src/bin/name.rs` like `mlp.rs`, its host answers in
//! `build.rs` (`MODELS`), its comparison in `src/bin/parity.rs`, and its rows in the README's
//! firmware table (the firmware prints them; both targets). For an int8 model
//! (`typed_nn::quant::Int8<DigitsMlp>`) the rows that matter most are the thumbv6m ones, a core
//! without an FPU. It needs a `static` built at compile time from the `.tflite` (issue 15's
//! compile-time loading; `QDense::new` is not `const` yet), and `parity` should then demand the
//! same bytes as TFLite Micro (`tests/fixtures/tflite/digits_mlp.tflm.bin`), not a tolerance.

use typed_nn::prelude::*;

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

/// The CNN's class probabilities for one 8×8 image (64 pixels, row-major).
#[inline(always)]
pub fn cnn(pixels: &[u8; 64]) -> Vector<10> {
    let mut rows = [[[0.0f32; 1]; 8]; 8];
    for (row, chunk) in rows.iter_mut().zip(pixels.chunks_exact(8)) {
        for (px, &p) in row.iter_mut().zip(chunk) {
            *px = [scale(p)];
        }
    }
    let x: Image<8, 8, 1> = Image::new(rows);
    DIGITS_CNN.forward(&x)
}
