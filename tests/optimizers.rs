//! One and three steps of every optimizer against Keras 3 on the committed fixtures (seed
//! models 1, 2 and 3). The fixture applies gradients `c_t·G` with `c = (1, −0.5, 2)` and `G`
//! Keras' gradient, so these tests exercise only the optimizers: momentum, Nesterov, Adam's
//! bias correction over three steps, AdamW's decay, RMSprop's centred and momentum variants.
//! Keras' results are sampled at every 7th flat index of each tensor.

mod common;

use common::{Fixture, param_names};
use typed_nn::prelude::*;

#[derive(Clone, Copy, Debug, Default)]
struct Swish;
impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

type Seed1 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
type Seed2 = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
type Seed3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

/// An optimizer for a boxed model, named as in the fixture.
type Named<M> = (&'static str, Box<dyn Optimizer<Box<M>>>);

/// Each optimizer of the fixture, built with the same hyperparameters.
fn optimizers<M: Params<f32> + NewBoxed + 'static>() -> Vec<Named<M>> {
    let mut rms_mc = RmsProp::new(0.001);
    rms_mc.momentum = 0.9;
    rms_mc.centered = true;
    vec![
        ("sgd", Box::new(Sgd::new(0.01))),
        ("sgd_momentum", Box::new(Sgd::with_momentum(0.01, 0.9))),
        ("sgd_nesterov", Box::new(Sgd::nesterov(0.01, 0.9))),
        ("adam", Box::new(Adam::new(0.001))),
        // Keras' `AdamW()` defaults, weight decay 0.004 included.
        ("adamw", Box::new(AdamW::new(0.001))),
        ("rmsprop", Box::new(RmsProp::new(0.001))),
        ("rmsprop_momentum_centered", Box::new(rms_mc)),
    ]
}

/// The largest |ours − Keras| over the sampled elements of every tensor, per optimizer and
/// step.
fn run<M: Params<f32> + NewBoxed + 'static>(file: &str, layers: &[usize]) -> Vec<(String, f32)> {
    let fx = Fixture::load(file);
    assert_eq!(fx.meta("opt_sample_stride"), "7");
    assert_eq!(fx.meta("opt_grad_scale"), "1.0,-0.5,2.0");
    let grad: Box<M> = fx.model(&param_names("grad.", layers));
    let mut results = Vec::new();
    for (name, mut opt) in optimizers::<M>() {
        let mut model: Box<M> = fx.model(&param_names("", layers));
        for (t, c) in [1.0f32, -0.5, 2.0].into_iter().enumerate() {
            let mut scaled = grad.clone_box();
            for p in scaled.params_mut() {
                p.iter_mut().for_each(|g| *g *= c);
            }
            opt.step(&mut model, &scaled);
            let step = t + 1;
            if step == 2 {
                continue;
            }
            let mut worst = 0.0f32;
            for (ours, reference) in model.params().zip(param_names(&format!("{name}.step{step}."), layers)) {
                let keras = fx.f32s(&reference);
                let sampled: Vec<f32> = ours.iter().step_by(7).copied().collect();
                assert_eq!(sampled.len(), keras.len(), "{reference}");
                for (a, b) in sampled.iter().zip(&keras) {
                    worst = worst.max((a - b).abs());
                }
            }
            results.push((format!("{file} {name} step {step}"), worst));
        }
    }
    results
}

/// `Box<M>: Clone` would need `M: Clone`; our layers are, so clone through the parameters.
trait CloneBox {
    fn clone_box(&self) -> Self;
}
impl<M: Params<f32> + NewBoxed> CloneBox for Box<M> {
    fn clone_box(&self) -> Self {
        let mut b: Box<M> = M::new_boxed();
        for (d, s) in b.params_mut().zip(self.params()) {
            d.copy_from_slice(s);
        }
        b
    }
}

fn check(results: Vec<(String, f32)>) {
    for (what, worst) in &results {
        println!("{what}: max |ours − keras| = {worst:e}");
    }
    for (what, worst) in results {
        // SGD and its momentum forms are the same float32 operations as Keras': bit for bit.
        // Adam and RMSprop divide by a square root; 1e-6 absolute, as the issue asks.
        let tolerance = if what.contains("sgd") { 0.0 } else { 1e-6 };
        assert!(worst <= tolerance, "{what}: max |ours − keras| = {worst:e} > {tolerance:e}");
    }
}

#[test]
fn optimizers_match_keras_on_seed_model_1() {
    check(run::<Seed1>("keras_seed1.safetensors", &[0, 1]));
}

#[test]
fn optimizers_match_keras_on_seed_model_2() {
    check(run::<Seed2>("keras_seed2.safetensors", &[0, 3]));
}

#[test]
fn optimizers_match_keras_on_seed_model_3() {
    check(run::<Seed3>("keras_seed3.safetensors", &[0, 1]));
}

#[test]
fn the_adamw_fixture_really_exercises_weight_decay() {
    // If the decay term were missing, AdamW would equal Adam; the fixture tells them apart by
    // far more than the tolerance above.
    let fx = Fixture::load("keras_seed3.safetensors");
    let adam = fx.f32s("adam.step3.0.kernel");
    let adamw = fx.f32s("adamw.step3.0.kernel");
    let gap = adam.iter().zip(&adamw).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(gap > 1e-6, "AdamW and Adam differ by only {gap:e}");
}
