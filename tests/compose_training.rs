//! Training models with BatchNormalization, Dropout and residual blocks through the `Trainer`:
//! the moving statistics follow Keras' moving average once per step (the expected values are
//! computed here from the data, independently of the library), the dropout masks change every
//! step, threads average their shards' statistics, and such a model learns.

use typed_nn::layer::{BatchNormalization, Dropout};
use typed_nn::prelude::*;

/// Eight points, two classes: `x₀ > x₁`.
fn data() -> (Vec<Vector<2>>, Vec<usize>) {
    let xs: Vec<Vector<2>> =
        (0..8).map(|i| Vector::from([(i % 4) as f32 * 1.5 - 2.0, (i / 2) as f32 * 0.7 + 0.3])).collect();
    let labels = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
    (xs, labels)
}

/// Mean and biased variance of one coordinate over some samples, in f64.
fn moments(xs: &[Vector<2>], c: usize) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().map(|x| f64::from(x[c])).sum::<f64>() / n;
    (mean, xs.iter().map(|x| (f64::from(x[c]) - mean).powi(2)).sum::<f64>() / n)
}

/// Keras' moving averages over consecutive batches (shards: each batch is cut into this many
/// equal shards whose statistics are averaged), from Keras' initial values 0 and 1.
fn expected_moving(xs: &[Vector<2>], batch: usize, shards: usize) -> [(f64, f64); 2] {
    let mut moving = [(0.0, 1.0); 2];
    for b in xs.chunks(batch) {
        for (c, m) in moving.iter_mut().enumerate() {
            let parts: Vec<(f64, f64)> = b.chunks(b.len().div_ceil(shards)).map(|s| moments(s, c)).collect();
            let mean = parts.iter().map(|p| p.0).sum::<f64>() / parts.len() as f64;
            let var = parts.iter().map(|p| p.1).sum::<f64>() / parts.len() as f64;
            *m = (m.0 * 0.99 + mean * 0.01, m.1 * 0.99 + var * 0.01);
        }
    }
    moving
}

type FirstNorm = (BatchNormalization<2>, Dropout<100>, Dense<2, 2, Softmax>);

#[test]
fn the_trainer_moves_the_statistics_once_per_step_as_keras_and_renews_the_masks() {
    let (xs, labels) = data();
    let mut model: FirstNorm = FirstNorm::init(&mut SeedRng::seed(1));
    let mut trainer =
        Trainer::new(Sgd::new(0.1), SparseCategoricalCrossentropy::default()).epochs(1).batch_size(4).shuffle(false);
    trainer.fit(&mut model, &xs, &labels).unwrap();
    // The normalisation sees the data itself: two batches of four.
    for (c, (mean, var)) in expected_moving(&xs, 4, 1).into_iter().enumerate() {
        assert!((f64::from(model.0.moving_mean[c]) - mean).abs() < 1e-6, "mean {c}");
        assert!((f64::from(model.0.moving_variance[c]) - var).abs() < 1e-6, "variance {c}");
    }
    assert_eq!(model.1.step(), 2, "one new set of masks per step");
    // γ and β trained (the optimizer saw them), the statistics did not go through it.
    assert_ne!(model.0.gamma, [1.0, 1.0]);
}

#[cfg(feature = "threads")]
#[test]
fn threads_normalise_each_shard_and_average_the_shards_statistics() {
    let (xs, labels) = data();
    let mut model: FirstNorm = FirstNorm::init(&mut SeedRng::seed(1));
    let mut trainer =
        Trainer::new(Sgd::new(0.1), SparseCategoricalCrossentropy::default()).epochs(1).batch_size(4).shuffle(false);
    trainer.fit_threaded(&mut model, &xs, &labels, None, 2, ()).unwrap();
    let per_shard = expected_moving(&xs, 4, 2);
    let whole = expected_moving(&xs, 4, 1);
    for c in 0..2 {
        assert!((f64::from(model.0.moving_mean[c]) - per_shard[c].0).abs() < 1e-6, "mean {c}");
        assert!((f64::from(model.0.moving_variance[c]) - per_shard[c].1).abs() < 1e-6, "variance {c}");
        // The means are the whole batch's; the variances miss the spread between shards.
        assert!((per_shard[c].0 - whole[c].0).abs() < 1e-12);
    }
    assert!((0..2).any(|c| (per_shard[c].1 - whole[c].1).abs() > 1e-4), "the test tells the two apart");
    assert_eq!(model.1.step(), 2);
}

type ResNet = (
    Dense<2, 8>,
    Residual<(Dense<8, 8>, BatchNormalization<8>, ActivationLayer<Relu>, Dense<8, 8>)>,
    ActivationLayer<Relu>,
    Dropout<100>,
    Dense<8, 2, Softmax>,
);

#[test]
fn a_residual_net_with_batch_normalization_and_dropout_learns() {
    let xs: Vec<Vector<2>> =
        (0..64).map(|i| Vector::from([(i % 8) as f32 / 4.0 - 1.0, (i / 8) as f32 / 4.0 - 0.9])).collect();
    let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
    let mut model: ResNet = ResNet::init(&mut SeedRng::seed(2));
    let mut trainer = Trainer::new(Adam::new(0.02), SparseCategoricalCrossentropy::default()).epochs(60).batch_size(16);
    let first = trainer.evaluate(&model, &xs, &labels).unwrap();
    trainer.fit(&mut model, &xs, &labels).unwrap();
    // Evaluated in inference mode: moving statistics, no dropout.
    let last = trainer.evaluate(&model, &xs, &labels).unwrap();
    assert!(last.accuracy >= Some(0.95) && last.loss < first.loss / 2.0, "{first:?} -> {last:?}");
    assert_eq!(model.3.step(), 60 * 4);
}
