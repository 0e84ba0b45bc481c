//! # 07 — Weights from Keras or PyTorch
//!
//! Loads the CNN of `examples/04_cnn.rs` from a `safetensors` file written by PyTorch (`nn.Sequential` of
//! `Conv2d`, `Sigmoid`, `MaxPool2d`, `Flatten`, `Linear`, `Softmax`), reproduces PyTorch's
//! outputs, then shows what a file for the wrong model says. PyTorch stores a conv kernel as
//! `(out, in, kh, kw)` and flattens channel-first; the loader converts both, using the shapes
//! the model's type gives. The file and its reference outputs were written by
//! `scripts/interop_fixtures.py` with `scripts/export_weights.py`.
//!
//! Builds on `examples/04_cnn.rs`; next: `examples/08_embedded.rs`.
//!
//! Run: `cargo run --release --example load_weights` — prints our outputs next to PyTorch's,
//! and the error for a mismatched model.

use std::error::Error;

use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

fn main() -> Result<(), Box<dyn Error>> {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_seed2.safetensors"))?;

    // The file also holds PyTorch's test inputs and outputs: tell the loader to skip tensors the
    // model does not use (without this, extra tensors are an error).
    let model: Box<Cnn> = Box::<Cnn>::load_safetensors_with(&bytes, LoadOptions { ignore_extra: true })?;

    // Read the reference input and output back from the same file.
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let values = |name: &str| -> Result<Vec<f32>, Box<dyn Error>> {
        let data = file.tensor(name)?.data().to_vec();
        Ok(data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    };
    let input: Image<28, 28, 1> = Image::from_slice(&values("input")?[..784]).ok_or("bad input")?;
    let expected = values("output")?[..10].to_vec();
    let y: Vector<10> = model.forward(&input);
    println!("typed-nn: {:.6?}", y.as_slice());
    println!("PyTorch:  {:.6?}", expected);
    let worst = y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    println!("largest difference: {worst:.1e}");

    // The same file for a model with 16 filters: refused, naming the tensor and both shapes.
    type Wrong = (Conv2D<1, 16, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<2704, 10, Softmax>);
    match Box::<Wrong>::load_safetensors_with(&bytes, LoadOptions { ignore_extra: true }) {
        Err(e) => println!("a model with 16 filters: {e}"),
        Ok(_) => println!("unexpectedly loaded"),
    }
    Ok(())
}
