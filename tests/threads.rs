//! Feature `threads`: the data-parallel step computes the one-thread step's loss and gradient
//! (up to float rounding) for any number of shards, including more shards than samples, and
//! threaded training follows the one-thread training run.
#![cfg(feature = "threads")]

use core::ops::ControlFlow;

use typed_nn::data::Digits;
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

fn max_diff(a: &Cnn, b: &Cnn) -> f32 {
    a.params().flatten().zip(b.params().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn the_threaded_step_matches_the_one_thread_step_for_any_shard_count() {
    let digits = Digits::bundled().unwrap();
    let (xs, labels) = digits.train_images();
    let model: Cnn = Cnn::init(&mut SeedRng::seed(3));
    let loss = SparseCategoricalCrossentropy::default();
    for n in [1usize, 2, 7, 32] {
        let (xs, labels) = (&xs[..n], &labels[..n]);
        let mut expected = Cnn::default();
        let l1 = value_and_grad_batch(&model, xs, labels, &loss, &mut expected, &mut Workspace::new()).unwrap();
        assert!(max_diff(&expected, &Cnn::default()) > 1e-4, "the gradient is not trivially zero");
        for threads in [1usize, 2, 3, 5] {
            let mut shards = ThreadedWorkspace::new(threads);
            // Twice: the second step reuses the grown buffers and must clear the shard gradients.
            for _ in 0..2 {
                let mut grad = Cnn::default();
                let l = value_and_grad_batch_threaded(&model, xs, labels, &loss, &mut grad, &mut shards).unwrap();
                assert!((l - l1).abs() < 1e-5, "n {n}, {threads} threads: loss {l} vs {l1}");
                assert!(max_diff(&grad, &expected) < 1e-5, "n {n}, {threads} threads");
                let outputs: Vec<_> = shards.outputs().cloned().collect();
                assert_eq!(outputs.len(), n);
                for (x, y) in xs.iter().zip(&outputs) {
                    let single = model.forward(x);
                    assert!(single.iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
                }
            }
        }
    }
}

#[test]
fn the_threaded_step_rejects_bad_batches_like_the_one_thread_step() {
    let model: Cnn = Cnn::default();
    let loss = SparseCategoricalCrossentropy::default();
    let mut grad = Cnn::default();
    let mut shards = ThreadedWorkspace::new(2);
    let x = [Image::<8, 8, 1>::default(); 3];
    let err = |xs: &[Image<8, 8, 1>], t: &[usize], grad: &mut Cnn, shards: &mut ThreadedWorkspace<Cnn, _>| {
        value_and_grad_batch_threaded(&model, xs, t, &loss, grad, shards).unwrap_err()
    };
    assert_eq!(err(&[], &[], &mut grad, &mut shards), BatchError::Empty);
    assert_eq!(err(&x, &[1, 2], &mut grad, &mut shards), BatchError::TargetCountMismatch { inputs: 3, targets: 2 });
    assert_eq!(err(&x, &[1, 10, 2], &mut grad, &mut shards), BatchError::InvalidTarget { index: 1 });
    assert_eq!(max_diff(&grad, &Cnn::default()), 0.0, "a refused batch leaves the gradient alone");
}

#[test]
fn threaded_training_follows_one_thread_training() {
    let digits = Digits::bundled().unwrap();
    let (xs, labels) = digits.train_images();
    let (test_x, test_y) = digits.test_images();
    let trainer = || Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(3).batch_size(32);
    let mut one: Cnn = Cnn::init(&mut SeedRng::seed(0));
    let mut two = one.clone();
    let a = trainer().fit_validated(&mut one, &xs, &labels, &test_x, &test_y).unwrap();
    let mut epochs = 0;
    let b = trainer()
        .fit_threaded(&mut two, &xs, &labels, Some((&test_x, &test_y)), 2, |_| {
            epochs += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(epochs, 3);
    // Same shuffles, same steps; only the order of float additions differs.
    assert!((a.loss - b.loss).abs() < 1e-4, "{a:?} vs {b:?}");
    assert!((a.val_loss.unwrap() - b.val_loss.unwrap()).abs() < 1e-3, "{a:?} vs {b:?}");
    assert!(max_diff(&one, &two) < 1e-3, "weights drifted apart: {}", max_diff(&one, &two));
    assert!(a.val_accuracy.unwrap() > 0.5, "three epochs learn something: {a:?}");
}
