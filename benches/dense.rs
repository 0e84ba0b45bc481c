//! Dense models, each next to its floor in the same group:
//!
//! - seed model 1 (`Dense<784, 64, Relu>` → `Dense<64, 10, Softmax>`), one sample: a
//!   hand-written fixed-array loop doing exactly the same arithmetic;
//! - seed model 1, a batch of 128: the two bare `matrixmultiply::sgemm` calls of the same
//!   products (no bias, no activation), i.e. what any implementation must at least do;
//! - seed model 3 (`Dense<100, 128, Swish>` → `Dense<128, 10, Softmax>`), one sample: a
//!   hand-written loop.
//!
//! Run: `cargo bench -p typed-nn-benches --bench dense`. Quote ratios (typed-nn time / floor time), not absolute
//! times: they are what carries over between machines.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

/// The same math as `Mlp::forward`, written out by hand over plain arrays.
fn hand_written(model: &Mlp, x: &[f32; 784]) -> [f32; 10] {
    let (k1, b1, k2, b2) = (&model.0.kernel, &model.0.bias, &model.1.kernel, &model.1.bias);
    let mut h = *b1;
    for i in 0..784 {
        let xi = x[i];
        for j in 0..64 {
            h[j] += xi * k1[i][j];
        }
    }
    for v in &mut h {
        *v = v.max(0.0);
    }
    let mut z = *b2;
    for j in 0..64 {
        for k in 0..10 {
            z[k] += h[j] * k2[j][k];
        }
    }
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in &mut z {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in &mut z {
        *v /= sum;
    }
    z
}

fn single_sample(c: &mut Criterion) {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let x: [f32; 784] = core::array::from_fn(|i| (i % 17) as f32 / 17.0);
    let xv = Vector::from(x);
    let mut g = c.benchmark_group("seed1_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hand_written_loop", |b| b.iter(|| hand_written(black_box(&model), black_box(&x))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(&model).forward(black_box(&xv))));
    g.finish();
}

fn batch_128(c: &mut Criterion) {
    const N: usize = 128;
    let model: Mlp = Mlp::init(&mut SeedRng::seed(2));
    let xs: Vec<Vector<784>> = (0..N).map(|s| Vector::from_fn(|i| ((i + s) % 13) as f32 / 13.0)).collect();
    let flat_x: Vec<f32> = xs.iter().flat_map(|x| x.iter().copied()).collect();
    let mut ys = vec![Vector::<10>::default(); N];
    let mut scratch = Vec::new();
    let mut h = vec![0.0f32; N * 64];
    let mut z = vec![0.0f32; N * 10];
    let mut g = c.benchmark_group("seed1_forward_batch_128");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("bare_gemms", |b| {
        b.iter(|| unsafe {
            // SAFETY: every matrix is a row-major Vec of exactly the stated size.
            matrixmultiply::sgemm(
                N,
                784,
                64,
                1.0,
                flat_x.as_ptr(),
                784,
                1,
                model.0.kernel.as_flattened().as_ptr(),
                64,
                1,
                0.0,
                h.as_mut_ptr(),
                64,
                1,
            );
            matrixmultiply::sgemm(
                N,
                64,
                10,
                1.0,
                h.as_ptr(),
                64,
                1,
                model.1.kernel.as_flattened().as_ptr(),
                10,
                1,
                0.0,
                z.as_mut_ptr(),
                10,
                1,
            );
            black_box(&z);
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

#[derive(Clone, Copy, Debug, Default)]
struct Swish;
impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

/// Seed model 3: `Dense<100, 128, Swish>` (a user-defined activation) → `Dense<128, 10, Softmax>`.
type M3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

/// The same math as `M3::forward`, by hand.
fn hand_written_m3(model: &M3, x: &[f32; 100]) -> [f32; 10] {
    let (k1, b1, k2, b2) = (&model.0.kernel, &model.0.bias, &model.1.kernel, &model.1.bias);
    let mut h = *b1;
    for i in 0..100 {
        for j in 0..128 {
            h[j] += x[i] * k1[i][j];
        }
    }
    for v in &mut h {
        *v /= 1.0 + (-*v).exp();
    }
    let mut z = *b2;
    for j in 0..128 {
        for k in 0..10 {
            z[k] += h[j] * k2[j][k];
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

fn seed3_single_sample(c: &mut Criterion) {
    let model: M3 = M3::init(&mut SeedRng::seed(3));
    let x: [f32; 100] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
    let xv = Vector::from(x);
    let mut g = c.benchmark_group("seed3_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hand_written_loop", |b| b.iter(|| hand_written_m3(black_box(&model), black_box(&x))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(&model).forward(black_box(&xv))));
    g.finish();
}

criterion_group!(benches, single_sample, batch_128, seed3_single_sample);
criterion_main!(benches);
