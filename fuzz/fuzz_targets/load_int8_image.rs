//! Any bytes fed to the int8 image decoder (`Int8Bytes::from_le_bytes`, the run-time twin of
//! `int8_model_from_le_bytes!`) give an int8 model or an `Int8ImageError`, never a panic; a
//! model that decodes also runs.
//!
//! Run: `cargo +nightly fuzz run load_int8_image` (from the repository root; needs
//! `cargo install cargo-fuzz`). Seed the corpus with `fuzz/seed_corpus.sh`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Bytes, QImage, QLayer, QVector};

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Cnn2 =
    (Conv2D<1, 8, 3, Relu6, 1, Same>, AvgPool2D<2>, Conv2D<8, 16, 3, Relu, 2, Same>, GlobalAvgPool2D, Dense<16, 10, Softmax>);

fuzz_target!(|data: &[u8]| {
    // Fuzzed bytes rarely have the exact length; also try them padded or cut to it.
    for len in [data.len(), <Int8<Mlp> as Int8Bytes>::IMAGE_BYTES] {
        let mut bytes = data.to_vec();
        bytes.resize(len, 0x3c);
        if let Ok(m) = Int8::<Mlp>::from_le_bytes(&bytes) {
            let _ = m.forward(&QVector::new([7; 64]));
        }
    }
    let mut bytes = data.to_vec();
    bytes.resize(<Int8<Cnn2> as Int8Bytes>::IMAGE_BYTES, 0x3c);
    if let Ok(m) = Int8::<Cnn2>::from_le_bytes(&bytes) {
        let _ = m.forward(&QImage::<8, 8, 1>::default());
    }
});
