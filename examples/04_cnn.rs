//! # 04 — A CNN: shapes the compiler computes
//!
//! Keras' `Conv2D(32, 3×3, sigmoid, input 28×28×1) → MaxPooling2D(2×2) → Flatten →
//! Dense(10, softmax)`, with every shape computed by the compiler, on stable Rust. Nobody
//! writes 26, 13 or 5408 except the `Dense` (and if that number were wrong, the build would say
//! so). The intermediate shapes are nameable types: the `let`s below spell them and the
//! compiler checks each one.
//!
//! Builds on `examples/02_mlp.rs`; next: `examples/05_digits.rs`.
//!
//! Run: `cargo run --release --example cnn` — prints the summary table (Keras' numbers:
//! 54,410 parameters) and a prediction of untrained weights.

use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

fn main() {
    // 217 KB of weights: build them on the heap.
    let model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(7));
    model.summary_for::<Image<28, 28, 1>>();

    // A made-up "digit": a bright ring on a dark background.
    let img: Image<28, 28, 1> = Image::new(core::array::from_fn(|i| {
        core::array::from_fn(|j| {
            let r = ((i as f32 - 13.5).powi(2) + (j as f32 - 13.5).powi(2)).sqrt();
            [if (6.0..10.0).contains(&r) { 1.0 } else { 0.0 }]
        })
    }));

    // Layer by layer, each output type written out and checked by the compiler...
    let conv: Image<26, 26, 32> = model.0.forward(&img);
    let pooled: Image<13, 13, 32> = model.1.forward(&conv);
    let flat: Flat<13, 13, 32> = model.2.forward(&pooled);
    let y: Vector<10> = model.3.forward(&flat);
    // ...or all at once.
    assert_eq!(y, model.forward(&img));

    println!("probabilities: {:.4?}", y.as_slice());
    println!("predicted class: {} (untrained weights)", y.argmax());
}
