//! # 02 — An MLP: a model is a type
//!
//! Keras' `Dense(64, relu, input 784) → Dense(10, softmax)` written as the type
//! `(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)`: built with Keras' initialisation, its
//! summary printed (the same table Keras prints, from compile-time facts), one input
//! classified.
//!
//! Builds on `examples/01_tensors.rs`; next: `examples/03_custom_activation.rs`.
//!
//! Run: `cargo run --release --example mlp` — prints the summary table, ten probabilities and
//! the predicted class.

use typed_nn::prelude::*;

/// The whole architecture is this type: sizes and activations included.
type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

fn main() {
    let mut rng = SeedRng::seed(42);
    let model: Mlp = Mlp::init(&mut rng);
    model.summary();

    // A made-up 28×28 "image", flattened to 784 values in [0, 1].
    let x: Vector<784> = Vector::from_fn(|i| ((i % 28) as f32 / 27.0) * ((i / 28) as f32 / 27.0));
    let y: Vector<10> = model.forward(&x);
    println!("probabilities: {:.4?}", y.as_slice());
    println!("predicted class: {} (p = {:.4})", y.argmax(), y[y.argmax()]);
    println!("parameters: {} ({} bytes), known at compile time", Mlp::PARAMS, <Mlp as Params<f32>>::PARAM_BYTES);
}
