//! # 03 — An MLP with your own activation, proven
//!
//! Keras' `Dense(128, swish, input 100) → Dense(10, softmax)` with a *user-defined* swish.
//! An activation is a unit struct implementing `Activation`: the function `f` and its
//! derivative `df`. Naming it in the layer type (`Dense<100, 128, Swish>`) compiles it into
//! the layer's loop, exactly like a built-in one. It is written with `typed_nn::math::sigmoid`,
//! the vectorising sigmoid the built-ins use (libm's `exp` would be a function call per value,
//! so the loop could not become vector code): this swish runs about as fast as the built-in
//! `Swish` (BENCHMARKS.md). `typed_nn::gradcheck` then checks `df`, the
//! layer and the whole model against finite differences; the last part shows what it reports
//! when `df` is wrong.
//!
//! Builds on `examples/02_mlp.rs`; next: `examples/04_cnn.rs`.
//!
//! Run: `cargo run --release --example custom_activation --features proptest` — prints the
//! summary, a prediction, three passing checks and two failure reports.

use typed_nn::gradcheck::{GradCheck, check_activation, check_layer, check_model_loss};
use typed_nn::math::sigmoid;
use typed_nn::prelude::*;

/// swish(x) = x·sigmoid(x), written by hand.
#[derive(Clone, Copy, Debug, Default)]
struct Swish;

impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x * sigmoid(x)
    }

    /// d/dx [x·s(x)] = s(x) + x·s(x)·(1 − s(x)) = s·(1 + x·(1 − s)).
    fn df<T: Float>(x: T) -> T {
        let s = sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
}

/// The same function with a typical mistake in the derivative: the product rule's second term
/// is forgotten (`df = s` instead of `s + x·s·(1 − s)`).
#[derive(Clone, Copy, Debug, Default)]
struct BuggySwish;

impl Activation for BuggySwish {
    fn f<T: Float>(x: T) -> T {
        Swish::f(x)
    }
    fn df<T: Float>(x: T) -> T {
        sigmoid(x)
    }
}

type M3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

fn main() {
    let model: M3 = M3::init(&mut SeedRng::seed(3));
    model.summary();

    let x: Vector<100> = Vector::from_fn(|i| (i as f32 * 0.37).sin());
    let y: Vector<10> = model.forward(&x);
    println!("probabilities: {:.4?}", y.as_slice());
    println!("predicted class: {}", y.argmax());

    // The proof, in f64: the activation alone, one layer, and the whole model with its loss.
    let cfg = GradCheck::default();
    let points = [-6.0, -2.5, -0.3, 0.0, 0.4, 1.7, 5.0];
    let report = check_activation::<Swish>(&points, &cfg).expect("swish' is right");
    println!("\ncheck_activation::<Swish>: ok, {} points, max error {:.1e}", report.coordinates, report.max_error);

    let layer: Dense<6, 4, Swish, f64> = Dense::init(&mut SeedRng::seed(1));
    let x6 = Vector::from([0.5, -1.2, 0.3, 2.0, -0.7, 0.1]);
    let report = check_layer(&layer, &x6, &cfg).expect("the layer's backward is right");
    println!(
        "check_layer(Dense<6, 4, Swish>): ok, {} coordinates, max error {:.1e}",
        report.coordinates, report.max_error
    );

    type M3f64 = (Dense<100, 128, Swish, f64>, Dense<128, 10, Softmax, f64>);
    let model64: Box<M3f64> = M3f64::init_boxed(&mut SeedRng::seed(3));
    let x100: Vector<100, f64> = Vector::from_fn(|i| (i as f64 * 0.37).sin());
    let loss = SparseCategoricalCrossentropy::default();
    let report = check_model_loss(&model64, &x100, &4, &loss, &cfg).expect("the model's gradients are right");
    println!(
        "check_model_loss(Dense<100, 128, Swish> → Dense<128, 10, Softmax>): ok, {} coordinates, max error {:.1e}",
        report.coordinates, report.max_error
    );

    // And what a mistake looks like.
    let err = check_activation::<BuggySwish>(&points, &cfg).expect_err("the bug is caught");
    println!("\ncheck_activation::<BuggySwish>:\n  {err}");
    let buggy: Dense<6, 4, BuggySwish, f64> = Dense::init(&mut SeedRng::seed(1));
    let err = check_layer(&buggy, &x6, &cfg).expect_err("the bug is caught through the layer");
    println!("check_layer(Dense<6, 4, BuggySwish>):\n  {err}");
}
