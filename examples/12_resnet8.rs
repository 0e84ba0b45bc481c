//! # 12 — ResNet-8: residual blocks and BatchNorm folding as types
//!
//! MLPerf Tiny's image classifier (CIFAR-10) in `examples/models/resnet8.rs`: a stem, three
//! residual stacks and a pooled `Dense` head, written with generic type aliases so that it reads
//! like the Keras functional definition. Each stack is `(Residual<Branch, Shortcut>,
//! ActivationLayer<Relu>)`, and the compiler checks that the branch and the shortcut produce the
//! same tensor (`Image<16, 16, 32>` for stack 2) before they are added.
//!
//! The example prints Keras' summary table, trains a few steps on a small batch (with batch
//! statistics in all seven normalisations and their moving averages updated, as Keras'
//! `fit` does), folds the normalisations into the convolutions and fuses the activation layers
//! after them into them (`ResNet8Inference`: a new model type, compared output for output with
//! the trained one) and prints the memory both need. Pass a weights file
//! written by `scripts/export_weights.py` from a Keras ResNet-8 to classify with it instead
//! (`tests/fixtures/keras_resnet8.safetensors` is one, with random statistics;
//! `tests/mlperf_tiny.rs` checks that it reproduces Keras' outputs within 1e-5).
//!
//! Builds on `examples/11_autoencoder.rs`; the guide's chapter 13 explains residual blocks and
//! folding as types. Next: `examples/13_resnet_digits.rs`.
//!
//! Run: `cargo run --release --example resnet8 [-- WEIGHTS.safetensors]`.

use std::error::Error;

use typed_nn::prelude::*;

#[path = "models/resnet8.rs"]
mod resnet8;
use resnet8::{ResNet8, ResNet8Folded, ResNet8Inference};

/// A synthetic 32×32 "photo": a smooth colour gradient whose direction depends on `class`, plus
/// noise.
fn image(class: usize, rng: &mut SeedRng) -> Image<32, 32, 3> {
    let angle = class as f32 * 0.628;
    let (s, c) = angle.sin_cos();
    Image::new(core::array::from_fn(|y| {
        core::array::from_fn(|x| {
            let t = ((x as f32 - 15.5) * c + (y as f32 - 15.5) * s) / 22.0;
            core::array::from_fn(|ch| {
                let noise = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                0.5 + 0.4 * t * [1.0, -0.5, 0.25][ch] + 0.1 * noise
            })
        })
    }))
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut model: Box<ResNet8> = match std::env::args().nth(1) {
        Some(path) => {
            println!("loading Keras weights from {path}");
            Box::<ResNet8>::load_safetensors(&std::fs::read(&path)?)?
        }
        None => ResNet8::init_boxed(&mut SeedRng::seed(0)),
    };
    model.summary_for::<Image<32, 32, 3>>();

    // Stack 2's block, on its own: the branch and the projection shortcut both produce
    // Image<16, 16, 32> (written here to show it; the compiler computed and checked it).
    let x: Image<32, 32, 3> = image(3, &mut SeedRng::seed(9));
    let stem: Image<32, 32, 16> = model.2.forward(&model.1.forward(&model.0.forward(&x)));
    let stack1: Image<32, 32, 16> = model.3.forward(&stem);
    let branch: Image<16, 16, 32> = model.4.0.branch.forward(&stack1);
    let shortcut: Image<16, 16, 32> = model.4.0.shortcut.forward(&stack1);
    let out: Image<16, 16, 32> = model.4.forward(&stack1);
    let diff = (out.as_slice().iter().zip(branch.as_slice().iter().zip(shortcut.as_slice())))
        .map(|(o, (b, s))| (o - (b + s).max(0.0)).abs())
        .fold(0.0f32, f32::max);
    println!("stack 2 = relu(branch + shortcut), both Image<16, 16, 32>: largest difference {diff:.1e}");

    // A few training steps on 32 synthetic images of 10 classes.
    let mut rng = SeedRng::seed(1);
    let xs: Vec<Image<32, 32, 3>> = (0..32).map(|i| image(i % 10, &mut rng)).collect();
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let mut trainer = Trainer::new(Adam::new(0.001), SparseCategoricalCrossentropy::default()).batch_size(16).epochs(1);
    for epoch in 1..=8 {
        let stats = trainer.fit(&mut model, &xs, &labels)?;
        println!("epoch {epoch}: {stats}");
    }

    // Deployment: fold every BatchNormalization into the convolution before it, then fuse each
    // ReLU that follows a convolution into it.
    let folded: Box<ResNet8Folded> = Box::new(model.fold_batch_norm());
    let inference: Box<ResNet8Inference> = Box::new(folded.fuse_activations());
    let mut worst = 0.0f32;
    let mut agree = 0;
    for x in &xs {
        let (a, b) = (model.forward(x), inference.forward(x));
        worst = a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs()).fold(worst, f32::max);
        agree += usize::from(a.argmax() == b.argmax());
    }
    println!("inference model: same class for {agree}/{} images, largest probability difference {worst:.1e}", xs.len());
    println!(
        "memory (f32): {} bytes of parameters ({} for inference), {} bytes of activations per forward ({} for inference)",
        <ResNet8 as Params<f32>>::PARAM_BYTES,
        <ResNet8Inference as Params<f32>>::PARAM_BYTES,
        <ResNet8 as Layer<Image<32, 32, 3>>>::ACTIVATION_BYTES,
        <ResNet8Inference as Layer<Image<32, 32, 3>>>::ACTIVATION_BYTES,
    );
    // Ten new images, one per class, through the deployable model.
    let right = (0..10).filter(|&class| inference.forward(&image(class, &mut rng)).argmax() == class).count();
    // Inference uses the moving statistics, which after 16 steps have moved only
    // 1 − 0.99^16 = 15% of the way from their initial (0, 1) to the data's: as in Keras, a
    // BatchNormalization model needs far more steps than this before inference agrees with
    // training.
    println!(
        "inference model on 10 new images: {right}/10 right (after 16 steps the moving statistics are still 85% their initial values)"
    );
    Ok(())
}
