//! # 13 — Training a residual CNN with BatchNorm on real data
//!
//! A small ResNet for the bundled 8×8 digits, assembled from ResNet-8's own blocks
//! (`examples/models/resnet8.rs`): a `Conv → BN → ReLU` stem, an identity stack of 8 filters
//! and a projection stack of 16 (stride 2), global average pooling and a softmax `Dense`.
//! 5 274 parameters. Trained with Keras' recipe of `examples/05_digits.rs` (Adam 0.01,
//! batches of 32, 30 epochs, the standard 1437/360 split), then evaluated in inference mode
//! (moving statistics), unfolded and with every BatchNormalization folded.
//!
//! `scripts/keras_digits_resnet.py` trains the same architecture with the same recipe and split
//! in Keras over seeds 0 to 9 (`data/digits/keras_resnet_baseline.json`); the README quotes both
//! means.
//!
//! Builds on `examples/12_resnet8.rs`; next: `examples/14_ds_cnn.rs`.
//!
//! Run: `cargo run --release --example resnet_digits [-- --seeds N] [--epochs E]` (seeds 0 to
//! N − 1, default 1; E epochs, default 30, the recipe's; prints each seed's test accuracy, then
//! the mean and the population standard deviation).

use std::error::Error;

use typed_nn::data::Digits;
use typed_nn::prelude::*;

#[allow(dead_code)] // ResNet-8 itself is not used here, only its blocks
#[path = "models/resnet8.rs"]
mod resnet8;
use resnet8::{Conv3, IdentityStack, ProjectionStack};

/// The residual digits CNN: ResNet-8's blocks on `Image<8, 8, 1>`.
type ResDigits = (
    Conv3<1, 8, 1>,
    BatchNormalization<8>,
    ActivationLayer<Relu>,
    IdentityStack<8>,
    ProjectionStack<8, 16>,
    GlobalAvgPool2D,
    Dense<16, 10, Softmax>,
);

fn main() -> Result<(), Box<dyn Error>> {
    let (mut seeds, mut epochs) = (1u64, 30usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seeds", Some(n)) => seeds = n.parse()?,
            ("--epochs", Some(n)) => epochs = n.parse()?,
            _ => return Err("usage: cargo run --release --example resnet_digits [-- --seeds N] [--epochs E]".into()),
        }
    }
    let digits = Digits::bundled()?;
    let (x_train, y_train) = digits.train_images();
    let (x_test, y_test) = digits.test_images();
    ResDigits::default().summary_for::<Image<8, 8, 1>>();

    let mut accuracies = Vec::new();
    for seed in 0..seeds {
        let mut model = ResDigits::init(&mut SeedRng::seed(seed));
        let mut trainer = Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default())
            .epochs(epochs)
            .batch_size(32)
            .seed(seed);
        let start = std::time::Instant::now();
        let stats = trainer.fit(&mut model, &x_train, &y_train)?;
        let accuracy = trainer.evaluate(&model, &x_test, &y_test)?.accuracy.unwrap_or_default();
        let folded = model.fold_batch_norm();
        let folded_accuracy = trainer.evaluate(&folded, &x_test, &y_test)?.accuracy.unwrap_or_default();
        println!(
            "seed {seed}: test accuracy {accuracy:.4} ({} / 360), folded {folded_accuracy:.4}; final training loss {:.4}; {:.1} s",
            (accuracy * 360.0).round(),
            stats.loss,
            start.elapsed().as_secs_f64()
        );
        accuracies.push(accuracy);
    }
    let n = accuracies.len() as f64;
    let mean = accuracies.iter().sum::<f64>() / n;
    let std = (accuracies.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n).sqrt();
    println!("test accuracy over {seeds} seeds: {mean:.4} ± {std:.4}");
    Ok(())
}
