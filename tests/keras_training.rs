//! Five epochs of training, from Keras' own initial weights with shuffling off, against Keras'
//! run of the same (tests/fixtures/keras_digits_trajectory.safetensors): the per-epoch losses,
//! the final weights and the test accuracy. Everything here is deterministic on both sides, so
//! this compares the whole training pipeline — forward, fused cross-entropy gradient, backward,
//! Adam, batching, Keras' epoch-loss bookkeeping, max-pool tie-breaking — end to end.

mod common;

use common::{Fixture, assert_close, param_names};
use typed_nn::data::Digits;
use typed_nn::prelude::*;

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Cnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

/// `weight_atol`: after 225 Adam steps the weights carry accumulated float-rounding differences
/// (the two sides sum in different orders), and Adam's per-coordinate normalisation amplifies
/// them where a gradient is near zero. The MLP stays within 1.3e-5; the CNN, still in its steep
/// descent at epoch 5, within 1e-3 of weights of size 2.4 — while its per-epoch losses agree to
/// 1e-5 relative, which is what rules out a systematic difference.
fn check<M, X>(name: &str, layers: &[usize], train: (Vec<X>, Vec<usize>), test: (Vec<X>, Vec<usize>), weight_atol: f32)
where
    X: Tensor<Elem = f32>,
    M: Backward<X> + Params<f32> + NewBoxed,
{
    let fx = Fixture::load("keras_digits_trajectory.safetensors");
    let mut model: Box<M> = fx.model(&param_names(&format!("{name}.init."), layers));
    let mut trainer =
        Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(5).batch_size(32).shuffle(false);
    let mut losses = Vec::new();
    trainer
        .fit_with(&mut model, &train.0, &train.1, None, |e| {
            losses.push(e.loss as f32);
            core::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_close(&format!("{name}.epoch_loss"), &losses, &fx.f32s(&format!("{name}.epoch_loss")), 1e-4, 1e-4);
    for (ours, reference) in model.params().zip(param_names(&format!("{name}.final."), layers)) {
        assert_close(&reference, ours, &fx.f32s(&reference), weight_atol, 1e-3);
    }
    let eval = trainer.evaluate(&*model, &test.0, &test.1).unwrap();
    assert_close(
        &format!("{name}.test_loss"),
        &[eval.loss as f32],
        &[fx.scalar(&format!("{name}.test_loss"))],
        1e-4,
        1e-4,
    );
    assert_eq!(
        eval.accuracy.map(|a| a as f32),
        Some(fx.scalar(&format!("{name}.test_accuracy"))),
        "{name}: test accuracy"
    );
}

#[test]
fn five_epochs_of_the_digits_mlp_retrace_keras() {
    let d = Digits::bundled().unwrap();
    check::<Mlp, Vector<64>>("mlp", &[0, 1], d.train_vectors(), d.test_vectors(), 5e-5);
}

#[test]
fn five_epochs_of_the_digits_cnn_retrace_keras_including_max_pool_ties() {
    let d = Digits::bundled().unwrap();
    check::<Cnn, Image<8, 8, 1>>("cnn", &[0, 3], d.train_images(), d.test_images(), 2e-3);
}
