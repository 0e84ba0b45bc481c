//! MLPerf Tiny's ResNet-8 and DS-CNN (`examples/models/`, the Keras weights of
//! `tests/fixtures/keras_{resnet8,ds_cnn}.safetensors`), single-sample `f32` inference: typed-nn
//! unfolded and BatchNorm-folded, next to a floor made of the bare im2col + GEMM calls of the same
//! convolutions and the `Dense` (no bias, activation, addition or pooling; DS-CNN's depthwise
//! convolutions as a plain direct loop, which is what they are). LiteRT's times for the same
//! models and weights come from `scripts/litert_mlperf_tiny_bench.py`.
//!
//! Run: `cargo bench -p typed-nn-benches --bench mlperf`. Quote ratios, not absolute times.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;
use typed_nn_benches::mlperf_floor::{CONVS, Conv, DS_CONVS, depthwise_3x3, gemm};

#[allow(dead_code)] // the block aliases are for reading
#[path = "../examples/models/resnet8.rs"]
mod resnet8;
use resnet8::{ResNet8, ResNet8Folded};

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;
use ds_cnn::{DsCnn, DsCnnFolded};

fn single_sample(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_resnet8.safetensors");
    let model: Box<ResNet8> = Box::<ResNet8>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
    let folded: Box<ResNet8Folded> = Box::new(model.fold_batch_norm());
    let mut x = Image::<32, 32, 3>::default();
    let mut rng = SeedRng::seed(5);
    x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);

    let mut buffers: Vec<[Vec<f32>; 4]> = CONVS.iter().map(Conv::buffers).collect();
    let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 640], vec![0.0f32; 10]);

    let mut g = c.benchmark_group("resnet8_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            for (l, b) in CONVS.iter().zip(&mut buffers) {
                l.run(b);
            }
            gemm(1, 64, 10, &pooled, &dense, &mut logits);
            black_box((&buffers, &logits));
        })
    });
    g.bench_function("typed_nn_folded", |b| b.iter(|| black_box(folded.forward(black_box(&x)))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&x)))));
    g.finish();
}

fn ds_cnn_single_sample(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_ds_cnn.safetensors");
    let model: Box<DsCnn> = Box::<DsCnn>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
    let folded: Box<DsCnnFolded> = Box::new(model.fold_batch_norm());
    let mut x = Image::<49, 10, 1>::default();
    let mut rng = SeedRng::seed(6);
    x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32 * 2.0 - 1.0);

    let mut buffers: Vec<[Vec<f32>; 4]> = DS_CONVS.iter().map(Conv::buffers).collect();
    let (dw_x, dw_k, mut dw_y) = (vec![0.5f32; 25 * 5 * 64], vec![0.01f32; 9 * 64], vec![0.0f32; 25 * 5 * 64]);
    let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 64 * 12], vec![0.0f32; 12]);

    let mut g = c.benchmark_group("ds_cnn_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            DS_CONVS[0].run(&mut buffers[0]);
            for (l, b) in DS_CONVS.iter().zip(&mut buffers).skip(1) {
                depthwise_3x3(&dw_x, &dw_k, &mut dw_y);
                l.run(b);
            }
            gemm(1, 64, 12, &pooled, &dense, &mut logits);
            black_box((&buffers, &dw_y, &logits));
        })
    });
    g.bench_function("typed_nn_folded", |b| b.iter(|| black_box(folded.forward(black_box(&x)))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&x)))));
    g.finish();
}

/// One ResNet-8 convolution shape, single sample, typed-nn's forward: `Elements` is its
/// FLOP count (2 per multiply-add, padding taps excluded), so criterion's "elem/s" reads as
/// FLOP/s.
fn conv_layer<const H: usize, const CI: usize, const CO: usize, const K: usize, const S: usize>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
) where
    Image<H, H, CI>: Tensor<Elem = f32>,
    Conv2D<CI, CO, K, Identity, S, Same>: Layer<Image<H, H, CI>>,
{
    let layer: Box<Conv2D<CI, CO, K, Identity, S, Same>> = Conv2D::init_boxed(&mut SeedRng::seed(7));
    let mut x = Image::<H, H, CI>::default();
    let mut rng = SeedRng::seed(8);
    x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
    let ho = H.div_ceil(S);
    let pad = ((ho - 1) * S + K).saturating_sub(H) / 2;
    let inside = |o: usize, k: usize| (o * S + k).checked_sub(pad).is_some_and(|i| i < H);
    let taps: usize = (0..ho).map(|o| (0..K).filter(|&k| inside(o, k)).count()).sum();
    g.throughput(Throughput::Elements((2 * taps * taps * CI * CO) as u64));
    g.bench_function(name, |b| b.iter(|| black_box(layer.forward(black_box(&x)))));
}

/// ResNet-8's convolution shapes one by one (where the time goes; issue 14's profile).
fn resnet8_layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("resnet8_conv_1_sample");
    conv_layer::<32, 3, 16, 3, 1>(&mut g, "32x32_3to16_3x3_s1");
    conv_layer::<32, 16, 16, 3, 1>(&mut g, "32x32_16to16_3x3_s1");
    conv_layer::<32, 16, 32, 3, 2>(&mut g, "32x32_16to32_3x3_s2");
    conv_layer::<32, 16, 32, 1, 2>(&mut g, "32x32_16to32_1x1_s2");
    conv_layer::<16, 32, 32, 3, 1>(&mut g, "16x16_32to32_3x3_s1");
    conv_layer::<16, 32, 64, 3, 2>(&mut g, "16x16_32to64_3x3_s2");
    conv_layer::<16, 32, 64, 1, 2>(&mut g, "16x16_32to64_1x1_s2");
    conv_layer::<8, 64, 64, 3, 1>(&mut g, "8x8_64to64_3x3_s1");
    g.finish();
}

criterion_group!(benches, single_sample, ds_cnn_single_sample, resnet8_layers);
criterion_main!(benches);
