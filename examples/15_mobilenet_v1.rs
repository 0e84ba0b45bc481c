//! # 15 — MobileNetV1: an 83-layer model as a 12-element type
//!
//! MLPerf Tiny's visual-wake-words model, MobileNetV1 with α = 0.25 on 96×96 RGB images
//! (`examples/models/mobilenet_v1.rs`): thirteen depthwise-separable blocks without biases, each
//! a `DwBlock<C, F, S>`, five identical ones as `X5<DwBlock<128, 128, 1>>`. The example prints
//! Keras' summary table, takes a few training steps on synthetic images, folds the
//! normalisations (each convolution gains the bias it did not have), checks the folded outputs
//! and prints the memory. `tests/mlperf_tiny.rs` checks the type against Keras (outputs within
//! 1e-5, folded or not).
//!
//! Builds on `examples/14_ds_cnn.rs`; the guide's chapter 13 explains the block aliases.
//!
//! Run: `cargo run --release --example mobilenet_v1`.

use std::error::Error;

use typed_nn::prelude::*;

#[path = "models/mobilenet_v1.rs"]
mod mobilenet_v1;
use mobilenet_v1::{MobileNetV1, MobileNetV1Folded};

/// A synthetic 96×96 image: a bright square ("person", class 1) or none (class 0), on noise.
fn image(class: usize, rng: &mut SeedRng) -> Image<96, 96, 3> {
    Image::new(core::array::from_fn(|y| {
        core::array::from_fn(|x| {
            let noise = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
            let inside = class == 1 && (30..66).contains(&y) && (30..66).contains(&x);
            [0.3 * noise + if inside { 0.7 } else { 0.0 }; 3]
        })
    }))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut model: Box<MobileNetV1> = MobileNetV1::init_boxed(&mut SeedRng::seed(0));
    model.summary_for::<Image<96, 96, 3>>();

    let mut rng = SeedRng::seed(1);
    let xs: Vec<Image<96, 96, 3>> = (0..16).map(|i| image(i % 2, &mut rng)).collect();
    let labels: Vec<usize> = (0..16).map(|i| i % 2).collect();
    let mut trainer = Trainer::new(Adam::new(0.001), SparseCategoricalCrossentropy::default()).batch_size(8);
    for epoch in 1..=3 {
        println!("epoch {epoch}: {}", trainer.fit(&mut model, &xs, &labels)?);
    }

    let folded: Box<MobileNetV1Folded> = Box::new(model.fold_batch_norm());
    let worst = xs
        .iter()
        .flat_map(|x| {
            let (a, b) = (model.forward(x), folded.forward(x));
            a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs()).collect::<Vec<_>>()
        })
        .fold(0.0f32, f32::max);
    println!("folded model: largest probability difference to the trained one {worst:.1e}");
    println!(
        "memory (f32): {} bytes of parameters ({} folded), {} bytes of activations per forward ({} folded)",
        <MobileNetV1 as Params<f32>>::PARAM_BYTES,
        <MobileNetV1Folded as Params<f32>>::PARAM_BYTES,
        <MobileNetV1 as Layer<Image<96, 96, 3>>>::ACTIVATION_BYTES,
        <MobileNetV1Folded as Layer<Image<96, 96, 3>>>::ACTIVATION_BYTES,
    );
    Ok(())
}
