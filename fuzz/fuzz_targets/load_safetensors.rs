//! Any bytes fed to the safetensors loader give a model or a `LoadError`, never a panic, an
//! abort or an out-of-bounds access.
//!
//! Run: `cargo +nightly fuzz run load_safetensors` (from the repository root; needs
//! `cargo install cargo-fuzz`). Seed the corpus with `fuzz/seed_corpus.sh`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
type Mlp = (Dense<3, 2, Relu>, Dense<2, 1>);
type Small = (Conv2D<2, 3, 2>, Flatten, Dense<12, 2>);

fuzz_target!(|data: &[u8]| {
    let lenient = LoadOptions { ignore_extra: true };
    let _ = Box::<Cnn>::load_safetensors(data);
    let _ = Box::<Cnn>::load_safetensors_with(data, lenient);
    let _ = Mlp::load_safetensors(data);
    let _ = Mlp::load_safetensors_with(data, lenient);
    let _ = Small::load_safetensors_with(data, lenient);
});
