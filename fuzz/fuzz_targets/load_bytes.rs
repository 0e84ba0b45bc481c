//! Any bytes fed to the raw byte-image loader give a model or a `BytesError`, never a panic.
//!
//! Run: `cargo +nightly fuzz run load_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use typed_nn::prelude::*;

type Mlp = (Dense<3, 2, Relu>, Dense<2, 1>);
type Mlp64 = (Dense<2, 2, Tanh, f64>, Dense<2, 1, Identity, f64>);

fuzz_target!(|data: &[u8]| {
    let _ = Mlp::from_le_bytes(data);
    let _ = Mlp64::from_le_bytes(data);
    if let Ok(m) = Mlp::from_le_bytes(data) {
        assert_eq!(m.to_le_bytes().ok().as_deref(), Some(data), "a loaded image saves back to the same bytes");
    }
});
