//! # 14 — DS-CNN: keyword spotting with rectangular kernels and depthwise convolutions
//!
//! MLPerf Tiny's keyword-spotting model (`examples/models/ds_cnn.rs`): a 10×4 stride-2 first
//! convolution on 49×10 MFCC frames (uneven "same" padding, computed by the compiler), four
//! depthwise-separable blocks, and a 25×5 average pool. The example prints Keras' summary table,
//! takes a few training steps on synthetic "utterances" (batch statistics, dropout masks and
//! moving averages as Keras' `fit` uses them), folds the normalisations into the convolutions,
//! fuses the activation layers into them and drops the dropouts (`DsCnnInference`), checks that
//! the deployable model gives the same outputs, and prints the memory both need.
//! `tests/mlperf_tiny.rs` checks the type against Keras (outputs within 1e-5, folded or not) and
//! `nostd-check` runs both forms without a heap or a panic path.
//!
//! Builds on `examples/13_resnet_digits.rs`; next: `examples/15_mobilenet_v1.rs`.
//!
//! Run: `cargo run --release --example ds_cnn`.

use std::error::Error;

use typed_nn::prelude::*;

#[path = "models/ds_cnn.rs"]
mod ds_cnn;
use ds_cnn::{DsCnn, DsCnnFolded, DsCnnInference};

/// A synthetic utterance of keyword `class`: a ridge across the MFCC frames whose position
/// depends on the class, plus noise.
fn utterance(class: usize, rng: &mut SeedRng) -> Image<49, 10, 1> {
    Image::new(core::array::from_fn(|t| {
        core::array::from_fn(|f| {
            let noise = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let ridge = if (t + f * 3 + class * 4) % 49 < 6 { 1.0 } else { 0.0 };
            [ridge + 0.2 * noise]
        })
    }))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut model: Box<DsCnn> = DsCnn::init_boxed(&mut SeedRng::seed(0));
    model.summary_for::<Image<49, 10, 1>>();

    let mut rng = SeedRng::seed(1);
    let xs: Vec<Image<49, 10, 1>> = (0..48).map(|i| utterance(i % 12, &mut rng)).collect();
    let labels: Vec<usize> = (0..48).map(|i| i % 12).collect();
    let mut trainer = Trainer::new(Adam::new(0.001), SparseCategoricalCrossentropy::default()).batch_size(16);
    for epoch in 1..=5 {
        println!("epoch {epoch}: {}", trainer.fit(&mut model, &xs, &labels)?);
    }

    // Deployment: fold the normalisations, then fuse each ReLU into its convolution.
    let folded: Box<DsCnnFolded> = Box::new(model.fold_batch_norm());
    let inference: Box<DsCnnInference> = Box::new(folded.fuse_activations());
    let worst = xs
        .iter()
        .flat_map(|x| {
            let (a, b) = (model.forward(x), inference.forward(x));
            a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs()).collect::<Vec<_>>()
        })
        .fold(0.0f32, f32::max);
    let same = xs.iter().all(|x| folded.forward(x) == inference.forward(x));
    println!("inference model: largest probability difference to the trained one {worst:.1e}");
    println!("inference model: the same bits as the folded one on all {} utterances: {same}", xs.len());
    println!(
        "memory (f32): {} bytes of parameters ({} for inference), {} bytes of activations per forward ({} for inference)",
        <DsCnn as Params<f32>>::PARAM_BYTES,
        <DsCnnInference as Params<f32>>::PARAM_BYTES,
        <DsCnn as Layer<Image<49, 10, 1>>>::ACTIVATION_BYTES,
        <DsCnnInference as Layer<Image<49, 10, 1>>>::ACTIVATION_BYTES,
    );
    Ok(())
}
