//! # 08 — A trained model baked into the program
//!
//! The digits classifier from `examples/05_digits.rs`, decoded from its byte image *at compile
//! time* into a `static`, as firmware keeps it in flash. No heap, no `unsafe`, no decoding at
//! run time, and a wrong-length file is a compile error.
//!
//! The image (`data/digits/mlp.weights`, 9640 bytes) was written by
//! `cargo run --release --example digits -- --save data/digits/mlp.weights`. Its layout: the
//! parameters in the model's order — layer 1's kernel (64 × 32, Keras' `(in, out)` layout,
//! row-major), layer 1's bias (32), layer 2's kernel (32 × 10), layer 2's bias (10) — each an
//! `f32` in 4 little-endian bytes, nothing else.
//!
//! The `nostd-check` crate runs the same model in a `#![no_std]` binary and proves, at link
//! time, that its inference cannot panic.
//!
//! Builds on `examples/05_digits.rs` and `examples/07_load_weights.rs`; the last example.
//!
//! Run: `cargo run --release --example embedded` — prints the probabilities of a hand-drawn
//! "7", the answer, and the model's memory as compile-time constants.

use typed_nn::prelude::*;

type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

/// The trained model, in read-only memory.
static MODEL: DigitsMlp = typed_nn::model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!("../data/digits/mlp.weights")
);

/// A hand-drawn "7" in the dataset's format: 8×8 pixels, values 0..=16.
const SEVEN: [u8; 64] = [
    0, 2, 12, 16, 16, 16, 9, 0, //
    0, 1, 8, 8, 8, 15, 10, 0, //
    0, 0, 0, 0, 3, 16, 4, 0, //
    0, 0, 0, 0, 11, 12, 0, 0, //
    0, 0, 0, 3, 16, 5, 0, 0, //
    0, 0, 0, 10, 13, 0, 0, 0, //
    0, 0, 2, 16, 6, 0, 0, 0, //
    0, 0, 6, 13, 0, 0, 0, 0, //
];

fn main() {
    let x: Vector<64> = Vector::from_fn(|i| f32::from(SEVEN[i]) / 16.0);
    let y: Vector<10> = MODEL.forward(&x);
    println!("probabilities: {:.3?}", y.as_slice());
    println!("this digit is a {} (p = {:.3})", y.argmax(), y[y.argmax()]);
    println!(
        "memory, known at compile time: {} bytes of parameters (in flash), {} bytes of activations per forward pass",
        <DigitsMlp as Params<f32>>::PARAM_BYTES,
        <DigitsMlp as Layer<Vector<64>>>::ACTIVATION_BYTES
    );
    assert_eq!(y.argmax(), 7);
}
