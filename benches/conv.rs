//! Seed model 2 forward on a batch of 32, in one group with two floors: a hand-written direct
//! convolution loop of the same math (3×3 valid conv + sigmoid, 2×2 max pool, flatten, dense +
//! softmax), and the bare im2col + GEMM calls (no activation, no pooling). Then the
//! single-sample forward next to the hand-written loop.
//!
//! Run: `cargo bench -p typed-nn-benches --bench conv`. Quote ratios, not absolute times.

// The baseline is written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
const BATCH: usize = 32;

/// The same forward pass written by hand for one image: direct convolution, pooling, dense.
fn hand_written(
    model: &Cnn,
    x: &[[[f32; 1]; 28]; 28],
    conv: &mut [[[f32; 32]; 26]; 26],
    pooled: &mut [f32; 5408],
) -> [f32; 10] {
    let (k, b) = (&model.0.kernel, &model.0.bias);
    for oy in 0..26 {
        for ox in 0..26 {
            let mut acc = *b;
            for ky in 0..3 {
                for kx in 0..3 {
                    let v = x[oy + ky][ox + kx][0];
                    for o in 0..32 {
                        acc[o] += v * k[ky][kx][0][o];
                    }
                }
            }
            for o in 0..32 {
                conv[oy][ox][o] = 1.0 / (1.0 + (-acc[o]).exp());
            }
        }
    }
    for py in 0..13 {
        for px in 0..13 {
            for c in 0..32 {
                let m = conv[2 * py][2 * px][c]
                    .max(conv[2 * py][2 * px + 1][c])
                    .max(conv[2 * py + 1][2 * px][c])
                    .max(conv[2 * py + 1][2 * px + 1][c]);
                pooled[(py * 13 + px) * 32 + c] = m;
            }
        }
    }
    let (k, b) = (&model.3.kernel, &model.3.bias);
    let mut z = *b;
    for i in 0..5408 {
        for j in 0..10 {
            z[j] += pooled[i] * k[i][j];
        }
    }
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in &mut z {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.map(|v| v / sum)
}

fn images() -> Vec<Image<28, 28, 1>> {
    let mut rng = SeedRng::seed(5);
    (0..BATCH)
        .map(|_| {
            let mut img = Image::default();
            img.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
            img
        })
        .collect()
}

fn batch_32(c: &mut Criterion) {
    let model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(1));
    let xs = images();
    let mut ys = vec![Vector::<10>::default(); BATCH];
    let mut scratch = Vec::new();
    let mut conv = Box::new([[[0.0f32; 32]; 26]; 26]);
    let mut pooled = Box::new([0.0f32; 5408]);
    let mut g = c.benchmark_group("seed2_forward_batch_32");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("hand_written_direct_loop", |b| {
        b.iter(|| {
            for x in &xs {
                black_box(hand_written(&model, x.as_array(), &mut conv, &mut pooled));
            }
        })
    });
    // The GEMM floor: im2col of the batch (a plain copy loop) and the two products (conv as
    // (32·676 × 9)·(9 × 32), dense as (32 × 5408)·(5408 × 10)), no activation, no pooling.
    let mut patches = vec![0.0f32; BATCH * 676 * 9];
    let mut z = vec![0.0f32; BATCH * 676 * 32];
    let pooled_flat = vec![0.5f32; BATCH * 5408];
    let mut logits = vec![0.0f32; BATCH * 10];
    let kc = model.0.kernel.as_flattened().as_flattened().as_flattened().to_vec();
    let kd = model.3.kernel.as_flattened().to_vec();
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            for (n, x) in xs.iter().enumerate() {
                let x = x.as_array();
                for oy in 0..26 {
                    for ox in 0..26 {
                        let row = &mut patches[((n * 26 + oy) * 26 + ox) * 9..][..9];
                        for ky in 0..3 {
                            for kx in 0..3 {
                                row[ky * 3 + kx] = x[oy + ky][ox + kx][0];
                            }
                        }
                    }
                }
            }
            unsafe {
                // SAFETY: every matrix is a row-major Vec of exactly the stated size.
                matrixmultiply::sgemm(
                    BATCH * 676,
                    9,
                    32,
                    1.0,
                    patches.as_ptr(),
                    9,
                    1,
                    kc.as_ptr(),
                    32,
                    1,
                    0.0,
                    z.as_mut_ptr(),
                    32,
                    1,
                );
                matrixmultiply::sgemm(
                    BATCH,
                    5408,
                    10,
                    1.0,
                    pooled_flat.as_ptr(),
                    5408,
                    1,
                    kd.as_ptr(),
                    10,
                    1,
                    0.0,
                    logits.as_mut_ptr(),
                    10,
                    1,
                );
            }
            black_box((&z, &logits));
        })
    });
    g.bench_function("typed_nn", |b| {
        b.iter(|| {
            model.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap();
            black_box(&ys);
        })
    });
    g.finish();
}

fn single_sample(c: &mut Criterion) {
    let model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(1));
    let xs = images();
    let mut conv = Box::new([[[0.0f32; 32]; 26]; 26]);
    let mut pooled = Box::new([0.0f32; 5408]);
    let mut g = c.benchmark_group("seed2_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hand_written_direct_loop", |b| {
        b.iter(|| black_box(hand_written(&model, xs[0].as_array(), &mut conv, &mut pooled)))
    });
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&xs[0])))));
    g.finish();
}

criterion_group!(benches, batch_32, single_sample);
criterion_main!(benches);
