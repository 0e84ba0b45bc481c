//! Seed model 3 — Keras `Dense(128, swish, input 100) -> Dense(10, softmax)` with a
//! *user-defined* swish activation.
//!
//! An activation is a unit struct implementing `Activation`: the function `f` and its
//! derivative `df`. Naming it in the layer type (`Dense<100, 128, Swish>`) compiles it into
//! the layer's loop, exactly like a built-in one.
//!
//! Run: `cargo run --release --example custom_activation`

use typed_nn::prelude::*;

/// swish(x) = x·sigmoid(x), written by hand.
#[derive(Clone, Copy, Debug, Default)]
struct Swish;

impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }

    /// d/dx [x·s(x)] = s(x) + x·s(x)·(1 − s(x)) = s·(1 + x·(1 − s)).
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

type M3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

fn main() {
    let model: M3 = M3::init(&mut SmallRng::seed(3));
    model.summary();

    let x: Vector<100> = Vector::from_fn(|i| (i as f32 * 0.37).sin());
    let y: Vector<10> = model.forward(&x);
    println!("probabilities: {:.4?}", y.as_slice());
    println!("predicted class: {}", y.argmax());

    // A quick sanity check of df against a central difference (the gradient issue's
    // `gradcheck` helpers do this thoroughly, with proptest).
    for x in [-3.0f64, -0.5, 0.0, 0.7, 4.0] {
        let h = 1e-6;
        let numeric = (Swish::f(x + h) - Swish::f(x - h)) / (2.0 * h);
        println!("swish'({x:>4}) = {:.8}  (central difference {numeric:.8})", Swish::df(x));
    }
}
