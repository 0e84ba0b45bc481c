//! A user-defined swish against the built-in `Swish` and a hand-written loop: what an
//! activation costs when it is the user's own (issue 17).
//!
//! Three ways to write swish, each in the same criterion group:
//! - `builtin`: `typed_nn::activation::Swish` (its own vectorised, fused `eˣ`);
//! - `user_math`: a user's `x * sigmoid(x)` with `typed_nn::math::sigmoid`, the obvious way
//!   (examples/03_custom_activation.rs);
//! - `user_libm`: a user's `x / (1 + (-x).exp())`, libm's scalar `exp` (before issue 17);
//! - `hand_written_loop`: the same formula over a plain array, compiled for the default target.
//!
//! Groups: `swish_4096_single` is a `Dense<1, 4096, A>` on one sample (the single-sample row
//! kernel: 4096 multiply-adds, then the activation of 4096 values, on the AVX2 path);
//! `swish_batch_16x1024` a `Dense<1, 1024, A>` on 16 samples (`forward_batch`: the activation
//! runs on the widest path, AVX-512 here). `TYPED_NN_SIMD=avx2` caps the path (see
//! BENCHMARKS.md).
//!
//! Run: `cargo bench -p typed-nn-benches --bench activation`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;
use typed_nn_benches::{LibmSwish, UserSwish};

const N: usize = 4096;

/// `Dense<1, N, Swish>` by hand: `z = x·k + b`, then `z / (1 + e^{−z})`.
fn hand_written(k: &[f32; N], b: &[f32; N], x: f32) -> [f32; N] {
    let mut z = [0.0f32; N];
    for ((z, &k), &b) in z.iter_mut().zip(k).zip(b) {
        let v = x * k + b;
        *z = v / (1.0 + (-v).exp());
    }
    z
}

fn layer<A: Activation, const OUT: usize>() -> Box<Dense<1, OUT, A>> {
    // Pre-activations spread over [−8, 8].
    let mut l: Box<Dense<1, OUT, A>> = Dense::new_boxed();
    for j in 0..OUT {
        l.kernel[0][j] = (j as f32 / OUT as f32) * 16.0 - 8.0;
        l.bias[j] = ((j * 7) % 5) as f32 * 0.01;
    }
    l
}

fn single(c: &mut Criterion) {
    let (builtin, user, libm) = (layer::<Swish, N>(), layer::<UserSwish, N>(), layer::<LibmSwish, N>());
    let x = Vector::from([0.9f32]);
    let mut g = c.benchmark_group("swish_4096_single");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("hand_written_loop", |b| {
        b.iter(|| hand_written(black_box(&builtin.kernel[0]), black_box(&builtin.bias), black_box(0.9)))
    });
    g.bench_function("builtin", |b| b.iter(|| black_box(&*builtin).forward(black_box(&x))));
    g.bench_function("user_math", |b| b.iter(|| black_box(&*user).forward(black_box(&x))));
    g.bench_function("user_libm", |b| b.iter(|| black_box(&*libm).forward(black_box(&x))));
    g.finish();
}

fn batch(c: &mut Criterion) {
    const OUT: usize = 1024;
    const ROWS: usize = 16;
    let (builtin, user, libm) = (layer::<Swish, OUT>(), layer::<UserSwish, OUT>(), layer::<LibmSwish, OUT>());
    let xs: Vec<Vector<1>> = (0..ROWS).map(|i| Vector::from([0.5 + i as f32 * 0.05])).collect();
    let mut ys = vec![Vector::<OUT>::default(); ROWS];
    let mut scratch = Vec::new();
    let mut g = c.benchmark_group("swish_batch_16x1024");
    g.throughput(Throughput::Elements((OUT * ROWS) as u64));
    g.bench_function("builtin", |b| {
        b.iter(|| builtin.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap())
    });
    g.bench_function("user_math", |b| {
        b.iter(|| user.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap())
    });
    g.bench_function("user_libm", |b| {
        b.iter(|| libm.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap())
    });
    g.finish();
}

criterion_group!(benches, single, batch);
criterion_main!(benches);
