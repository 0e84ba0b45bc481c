//! Same weights, same inputs → the same outputs, losses and gradients as Keras 3 (JAX backend),
//! on the committed fixtures written by scripts/keras_fixtures.py. Forward within 1e-5
//! absolute; gradients within 1e-5 + 1e-3·|reference|.
//!
//! Finite differences cannot catch a layout mistake made consistently in forward and backward
//! (a transposed kernel, a wrong flatten order); these comparisons can.

mod common;

use common::{Fixture, assert_close, param_names};
use typed_nn::prelude::*;

type Seed1 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

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
type Seed3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

/// Forward, the three losses, and both gradient paths against the fixture.
fn check_seed<M, X>(file: &str, layers: &[usize])
where
    M: Backward<X, Out = Vector<10>> + Params<f32> + NewBoxed + Default + Clone,
    X: Tensor<Elem = f32>,
{
    let fx = Fixture::load(file);
    let model: Box<M> = fx.model(&param_names("", layers));
    let xs: Vec<X> = fx.samples("x");
    let onehot: Vec<Vector<10>> = fx.samples("labels");
    let labels = fx.indices("label_index");
    assert_eq!(labels, [3, 7, 0, 9]);

    // Forward.
    let ys: Vec<f32> = xs.iter().flat_map(|x| model.forward(x).into_array()).collect();
    assert_close("y", &ys, &fx.f32s("y"), 1e-5, 0.0);

    // Losses (batch means).
    let mean = |l: &dyn Fn(&Vector<10>, usize) -> f32| {
        xs.iter().enumerate().map(|(i, x)| l(&model.forward(x), i)).sum::<f32>() / 4.0
    };
    let cce = mean(&|y, i| CategoricalCrossentropy::default().loss(y, &onehot[i]));
    let sparse = mean(&|y, i| SparseCategoricalCrossentropy::default().loss(y, &labels[i]));
    let mse = mean(&|y, i| MeanSquaredError.loss(y, &onehot[i]));
    assert_close("loss", &[cce], &[fx.scalar("loss")], 1e-5, 1e-6);
    assert_close("loss_sparse", &[sparse], &[fx.scalar("loss_sparse")], 1e-5, 1e-6);
    assert_close("loss_mse", &[mse], &[fx.scalar("loss_mse")], 1e-6, 1e-6);

    // Gradients of the cross-entropy, per-sample path and batched (GEMM) path.
    let expected: Vec<Vec<f32>> = param_names("grad.", layers).iter().map(|n| fx.f32s(n)).collect();
    let mut per_sample: Box<M> = Box::default();
    let loss =
        value_and_grad_mean(&*model, &xs, &onehot, &CategoricalCrossentropy::default(), &mut per_sample).unwrap();
    assert_close("loss via value_and_grad_mean", &[loss], &[fx.scalar("loss")], 1e-5, 1e-6);
    let mut batched: Box<M> = Box::default();
    let mut ws = Workspace::new();
    value_and_grad_batch(&*model, &xs, &labels, &SparseCategoricalCrossentropy::default(), &mut batched, &mut ws)
        .unwrap();
    for (k, (name, reference)) in param_names("grad.", layers).iter().zip(&expected).enumerate() {
        let a: Vec<f32> = per_sample.params().nth(k).unwrap().to_vec();
        assert_close(name, &a, reference, 1e-5, 1e-3);
        let b: Vec<f32> = batched.params().nth(k).unwrap().to_vec();
        assert_close(&format!("{name} (batched)"), &b, reference, 1e-5, 1e-3);
    }

    // Gradient with respect to the input (the fused path, from the logits back to x).
    let mut dx_all = Vec::new();
    for (x, t) in xs.iter().zip(&onehot) {
        let mut scratch: Box<M> = Box::default();
        let mut dx = X::default();
        value_and_grad_input(&*model, x, t, &CategoricalCrossentropy::default(), &mut scratch, &mut dx).unwrap();
        // The mean over the batch of 4: each sample's input gradient is a quarter of its own.
        dx_all.extend(dx.as_slice().iter().map(|d| d * 0.25));
    }
    assert_close("grad.x", &dx_all, &fx.f32s("grad.x"), 1e-5, 1e-3);

    // Mean squared error: its gradient goes through the softmax Jacobian (no fusion).
    let mut mse_grad: Box<M> = Box::default();
    value_and_grad_mean(&*model, &xs, &onehot, &MeanSquaredError, &mut mse_grad).unwrap();
    for (k, name) in param_names("grad_mse.", layers).iter().enumerate() {
        let a: Vec<f32> = mse_grad.params().nth(k).unwrap().to_vec();
        assert_close(name, &a, &fx.f32s(name), 1e-5, 1e-3);
    }
}

#[test]
fn seed_model_1_matches_keras_outputs_losses_and_gradients() {
    check_seed::<Seed1, Vector<784>>("keras_seed1.safetensors", &[0, 1]);
}

#[test]
fn seed_model_3_with_a_user_activation_matches_keras() {
    check_seed::<Seed3, Vector<100>>("keras_seed3.safetensors", &[0, 1]);
}

type Seed2 = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

#[test]
fn seed_model_2_matches_keras_so_conv_layout_and_flatten_order_are_keras() {
    // Layer indices count the parameterless pool and flatten, as Keras' `model.layers` does.
    // Single-sample training of this model keeps about 1 MiB of caches on the stack (more in a
    // debug build), so it runs on a thread with room for it.
    common::with_stack(32 << 20, || check_seed::<Seed2, Image<28, 28, 1>>("keras_seed2.safetensors", &[0, 3]));
}
