//! Dense models, each next to its floor in the same group:
//!
//! - seed model 1 (`Dense<784, 64, Relu>` → `Dense<64, 10, Softmax>`), one sample: a
//!   hand-written fixed-array loop doing exactly the same arithmetic, and the memory-bandwidth
//!   floor of its weights (`weight_stream_floor`: only the weights, streamed through FMAs);
//! - seed model 1, a batch of 128: the two bare `matrixmultiply::sgemm` calls of the same
//!   products (no bias, no activation), i.e. what any implementation must at least do;
//! - seed model 3 (`Dense<100, 128, Swish>` → `Dense<128, 10, Softmax>`), one sample: a
//!   hand-written loop; the user's swish (`x * typed_nn::math::sigmoid(x)`) next to the built-in
//!   `Swish` and to a swish written with libm's `exp`.
//!
//! Run: `cargo bench -p typed-nn-benches --bench dense`. Quote ratios (typed-nn time / floor time), not absolute
//! times: they are what carries over between machines.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;
use typed_nn_benches::{M3, M3Builtin, M3Libm, Mlp, hand_written, hand_written_m3, stream};

fn single_sample(c: &mut Criterion) {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let x: [f32; 784] = core::array::from_fn(|i| (i % 17) as f32 / 17.0);
    let xv = Vector::from(x);
    let mut g = c.benchmark_group("seed1_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hand_written_loop", |b| b.iter(|| hand_written(black_box(&model), black_box(&x))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(&model).forward(black_box(&xv))));
    let weights = stream::Weights::of(&model);
    g.bench_function("weight_stream_floor", |b| b.iter(|| black_box(&weights).run()));
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

fn seed3_single_sample(c: &mut Criterion) {
    let model: M3 = M3::init(&mut SeedRng::seed(3));
    let x: [f32; 100] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
    let xv = Vector::from(x);
    let mut g = c.benchmark_group("seed3_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hand_written_loop", |b| b.iter(|| hand_written_m3(black_box(&model), black_box(&x))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(&model).forward(black_box(&xv))));
    let builtin: M3Builtin = M3Builtin::init(&mut SeedRng::seed(3));
    let libm: M3Libm = M3Libm::init(&mut SeedRng::seed(3));
    g.bench_function("typed_nn_builtin_swish", |b| b.iter(|| black_box(&builtin).forward(black_box(&xv))));
    g.bench_function("typed_nn_libm_swish", |b| b.iter(|| black_box(&libm).forward(black_box(&xv))));
    g.finish();
}

criterion_group!(benches, single_sample, batch_128, seed3_single_sample);
criterion_main!(benches);
