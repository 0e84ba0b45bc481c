//! # 11 — MLPerf Tiny's anomaly detector: a 28-layer autoencoder as a type
//!
//! The fully connected autoencoder of the MLPerf Tiny benchmark (`examples/models/autoencoder.rs`,
//! line for line Keras' definition): 640 features in, through four `Dense(128) → BN → ReLU`
//! blocks, an 8-wide bottleneck and four more blocks, back out to 640. A generic type alias per
//! block keeps the model a tuple of ten elements.
//!
//! The example trains it, with the mean squared error as MLPerf Tiny does, on synthetic
//! "machine sound" frames (random mixtures of four smooth spectra), then scores frames by how
//! badly it reconstructs them: frames with an extra narrow tone, which the normal data never
//! has, reconstruct worse. Then it folds every `BatchNormalization` into the `Dense` before it
//! (a new, shorter model type with the same outputs) and prints the memory the deployed model
//! needs. `tests/mlperf_tiny.rs` checks the same type against Keras: weights written by Keras
//! load into it and reproduce Keras' outputs within 1e-5, folded and unfolded.
//!
//! Builds on `examples/10_quantize.rs`; next: `examples/12_resnet8.rs`.
//!
//! Run: `cargo run --release --example autoencoder` (a few seconds).

use std::error::Error;

use typed_nn::fold::Folded;
use typed_nn::prelude::*;

#[path = "models/autoencoder.rs"]
mod autoencoder;
use autoencoder::{Autoencoder, AutoencoderFolded};

/// Four smooth "spectra" over the 640 bins; normal frames mix them.
fn templates() -> [[f32; 640]; 4] {
    core::array::from_fn(|k| {
        core::array::from_fn(|i| {
            let t = i as f32 / 640.0;
            let centre = 0.15 + 0.23 * k as f32;
            (-((t - centre) / 0.12).powi(2)).exp() + 0.2 * (core::f32::consts::TAU * (k + 1) as f32 * t).cos()
        })
    })
}

/// A frame: a random mixture of the templates plus small noise; with `tone`, a narrow peak at a
/// random bin as well (the anomaly).
fn frame(rng: &mut SeedRng, templates: &[[f32; 640]; 4], tone: bool) -> Vector<640> {
    let mut u = || (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    let mix: [f32; 4] = core::array::from_fn(|_| u());
    let peak = (u() * 600.0) as usize + 20;
    let noise: Vec<f32> = (0..640).map(|_| 0.05 * (u() - 0.5)).collect();
    Vector::from_fn(|i| {
        let base: f32 = templates.iter().zip(&mix).map(|(t, m)| t[i] * m).sum();
        let tone = if tone && i.abs_diff(peak) < 6 { 1.5 } else { 0.0 };
        base + noise[i] + tone
    })
}

/// The mean squared reconstruction error of each frame.
fn scores<M: Layer<Vector<640>, Out = Vector<640>>>(model: &M, frames: &[Vector<640>]) -> Vec<f32> {
    frames
        .iter()
        .map(|x| {
            let y = model.forward(x);
            x.iter().zip(y.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / 640.0
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut model: Box<Autoencoder> = Autoencoder::init_boxed(&mut SeedRng::seed(0));
    model.summary_for::<Vector<640>>();

    let mut rng = SeedRng::seed(1);
    let templates = templates();
    let train: Vec<Vector<640>> = (0..1024).map(|_| frame(&mut rng, &templates, false)).collect();
    let normal: Vec<Vector<640>> = (0..200).map(|_| frame(&mut rng, &templates, false)).collect();
    let anomalous: Vec<Vector<640>> = (0..200).map(|_| frame(&mut rng, &templates, true)).collect();

    // The autoencoder's target is its input.
    let mut trainer = Trainer::new(Adam::new(0.001), MeanSquaredError).epochs(30).batch_size(32).verbose(false);
    let before = trainer.evaluate(&model, &normal, &normal)?.loss;
    let stats = trainer.fit(&mut model, &train, &train)?;
    println!(
        "trained 30 epochs: training loss {:.4}; reconstruction loss on new normal frames {before:.4} before, {:.4} after",
        stats.loss,
        trainer.evaluate(&model, &normal, &normal)?.loss
    );

    // Anomaly scores: a frame is flagged when its error exceeds the 95th percentile of normal
    // frames' errors.
    let (normal_scores, anomalous_scores) = (scores(&*model, &normal), scores(&*model, &anomalous));
    let mut sorted = normal_scores.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[sorted.len() * 95 / 100];
    let flagged = anomalous_scores.iter().filter(|&&s| s > threshold).count();
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    println!(
        "mean reconstruction error: normal {:.4}, with a tone {:.4}; {flagged}/{} tones flagged at 5% false alarms",
        mean(&normal_scores),
        mean(&anomalous_scores),
        anomalous.len()
    );

    // Deployment: fold the normalisations into the Dense layers. The type changes: each
    // `(Dense<IN, OUT>, BatchNormalization<OUT>, ActivationLayer<Relu>)` becomes
    // `(Dense<IN, OUT>, ActivationLayer<Relu>)` with new weights.
    let folded: Box<Folded<Autoencoder>> = Box::new(model.fold_batch_norm());
    let _: &(Dense<640, 128>, ActivationLayer<Relu>) = &folded.0;
    let worst = normal
        .iter()
        .flat_map(|x| {
            let (a, b) = (model.forward(x), folded.forward(x));
            a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs()).collect::<Vec<_>>()
        })
        .fold(0.0f32, f32::max);
    println!("folded model: largest difference to the trained one {worst:.1e}");
    println!(
        "memory (f32): {} bytes of parameters ({} folded), {} bytes of activations per forward ({} folded)",
        <Autoencoder as Params<f32>>::PARAM_BYTES,
        <AutoencoderFolded as Params<f32>>::PARAM_BYTES,
        <Autoencoder as Layer<Vector<640>>>::ACTIVATION_BYTES,
        <AutoencoderFolded as Layer<Vector<640>>>::ACTIVATION_BYTES,
    );
    Ok(())
}
