//! Seed model 1 — Keras `Dense(64, relu, input 784) -> Dense(10, softmax)` — as a type.
//!
//! Builds the model with Keras' default initialisation, prints its summary (the same table
//! Keras prints) and classifies one input.
//!
//! Run: `cargo run --release --example mlp`

use typed_nn::prelude::*;

/// The whole architecture is this type: sizes and activations included.
type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

fn main() {
    let mut rng = SmallRng::seed(42);
    let model: Mlp = Mlp::init(&mut rng);
    model.summary();

    // A made-up 28×28 "image", flattened to 784 values in [0, 1].
    let x: Vector<784> = Vector::from_fn(|i| ((i % 28) as f32 / 27.0) * ((i / 28) as f32 / 27.0));
    let y: Vector<10> = model.forward(&x);
    println!("probabilities: {:.4?}", y.as_slice());
    println!("predicted class: {} (p = {:.4})", y.argmax(), y[y.argmax()]);
    println!("parameters: {} ({} bytes), known at compile time", Mlp::PARAMS, <Mlp as Params<f32>>::PARAM_BYTES);
}
