//! Any bytes fed to the `.tflite` loader give an int8 model or a `TfliteError`, never a panic,
//! an abort or an out-of-bounds access.
//!
//! Run: `cargo +nightly fuzz run load_tflite` (from the repository root; needs
//! `cargo install cargo-fuzz`). Seed the corpus with `fuzz/seed_corpus.sh`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QLayer, QVector};
use typed_nn::tflite::FromTflite;

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Cnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);
type Cnn2 =
    (Conv2D<1, 8, 3, Relu6, 1, Same>, AvgPool2D<2>, Conv2D<8, 16, 3, Relu, 2, Same>, GlobalAvgPool2D, Dense<16, 10, Softmax>);

fuzz_target!(|data: &[u8]| {
    // A model that loads must also run without panicking.
    if let Ok(m) = Int8::<Mlp>::from_tflite::<QVector<64>>(data) {
        let _ = m.forward(&QVector::new([7; 64]));
    }
    if let Ok(m) = Int8::<Cnn>::from_tflite::<QImage<8, 8, 1>>(data) {
        let _ = m.forward(&QImage::<8, 8, 1>::default());
    }
    if let Ok(m) = Int8::<Cnn2>::from_tflite::<QImage<8, 8, 1>>(data) {
        let _ = m.forward(&QImage::<8, 8, 1>::default());
    }
});
