//! Metrics that fit the task, through the Trainer: a regression reports `mae` and `mse` (never
//! an accuracy), an autoencoder with image-shaped targets trains with mean squared error, and
//! each value equals one computed here by hand from the model's outputs.

use typed_nn::prelude::*;

/// Mean absolute and squared error over every element, computed independently of the library.
fn by_hand<M: Layer<X>, X: Tensor<Elem = f32>>(model: &M, xs: &[X], ts: &[M::Out]) -> (f64, f64) {
    let (mut abs, mut sq, mut n) = (0.0f64, 0.0f64, 0usize);
    for (x, t) in xs.iter().zip(ts) {
        for (&p, &t) in model.forward(x).as_slice().iter().zip(t.as_slice()) {
            let d = f64::from(p) - f64::from(t);
            abs += d.abs();
            sq += d * d;
            n += 1;
        }
    }
    (abs / n as f64, sq / n as f64)
}

#[test]
fn a_regression_reports_mae_and_mse_and_no_accuracy() {
    // y = 2·x₀ − x₁ + 0.5 on a grid.
    let xs: Vec<Vector<2>> =
        (0..32).map(|i| Vector::from([(i % 8) as f32 / 4.0 - 1.0, (i / 8) as f32 / 2.0 - 1.0])).collect();
    let ys: Vec<Vector<1>> = xs.iter().map(|x| Vector::from([2.0 * x[0] - x[1] + 0.5])).collect();
    let mut model: Dense<2, 1, Identity> = Dense::init(&mut SeedRng::seed(3));
    let mut trainer = Trainer::new(Adam::new(0.05), MeanSquaredError).epochs(60).batch_size(8);
    let first = trainer.evaluate(&model, &xs, &ys).unwrap();
    let history = trainer.fit_validated(&mut model, &xs, &ys, &xs, &ys).unwrap();
    let last = trainer.evaluate(&model, &xs, &ys).unwrap();
    assert_eq!((history.accuracy, history.val_accuracy, last.accuracy), (None, None, None));
    assert!(!format!("{}", history.last()).contains("accuracy"), "{}", history.last());
    // The library subtracts in f32, as Keras does; by hand in f64: equal to f32 precision.
    let (mae, mse) = by_hand(&model, &xs, &ys);
    assert!(
        (last.mae.unwrap() - mae).abs() < 1e-6 * mae && (last.mse.unwrap() - mse).abs() < 1e-6 * mse,
        "{last:?} vs {mae} {mse}"
    );
    // Validation after the last epoch is the same evaluation.
    assert_eq!((history.val_mae, history.val_mse), (last.mae, last.mse));
    assert!(last.mae.unwrap() < first.mae.unwrap() / 10.0, "{first:?} -> {last:?}");
    // With mean squared error as the loss, mse is the loss.
    assert!((last.mse.unwrap() - last.loss).abs() < 1e-6 * last.loss.max(1e-12));
}

/// A 4×4 one-channel image through a bottleneck of 4 and back: an autoencoder.
type Autoencoder = (Flatten, Dense<16, 4, Relu>, Dense<4, 16, Sigmoid>);

#[test]
fn an_autoencoder_trains_on_image_targets_with_mse_in_f32_and_f64() {
    fn images<T: Scalar>() -> Vec<Image<4, 4, 1, T>> {
        (0..16)
            .map(|i| {
                let mut img = Image::<4, 4, 1, T>::default();
                for (k, v) in img.as_mut_slice().iter_mut().enumerate() {
                    *v = T::lit(if (k + i) % 4 == 0 || k % 5 == i % 5 { 0.9 } else { 0.1 });
                }
                img
            })
            .collect()
    }
    let xs: Vec<Image<4, 4, 1>> = images();
    // The targets are the inputs, image-shaped: the loss compares the output, reshaped.
    let targets: Vec<Vector<16>> = xs.iter().map(|x| Vector::from_slice(x.as_slice()).unwrap()).collect();
    let mut model: Autoencoder = Params::init(&mut SeedRng::seed(5));
    let mut trainer = Trainer::new(Adam::new(0.02), MeanSquaredError).epochs(80).batch_size(4);
    let first = trainer.evaluate(&model, &xs, &targets).unwrap();
    trainer.fit(&mut model, &xs, &targets).unwrap();
    let last = trainer.evaluate(&model, &xs, &targets).unwrap();
    let (mae, _) = by_hand(&model, &xs, &targets);
    assert!((last.mae.unwrap() - mae).abs() < 1e-6 * mae, "{last:?} vs {mae}");
    assert!(last.mse.unwrap() < first.mse.unwrap() / 2.0, "{first:?} -> {last:?}");

    // Image in, image out: a convolutional denoiser whose targets are `Image`s, in f64.
    type Denoiser = (Conv2D<1, 4, 3, Relu, 1, Same, f64>, Conv2D<4, 1, 3, Sigmoid, 1, Same, f64>);
    let xs: Vec<Image<4, 4, 1, f64>> = images();
    let mut model: Denoiser = Params::init(&mut SeedRng::seed(5));
    let mut trainer = Trainer::new(Adam::new(0.02), MeanSquaredError).epochs(40).batch_size(4);
    let history = trainer.fit(&mut model, &xs, &xs).unwrap();
    let losses = history.column(|e| e.mse);
    assert!(losses[39] < losses[0] / 2.0, "{losses:?}");
    assert_eq!(history.accuracy, None);
}
