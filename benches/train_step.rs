//! One training step of seed model 1 on a batch of 128 — forward, cross-entropy, backward,
//! SGD — next to the bare GEMMs that step needs (the floor any implementation pays): forward
//! `X·K₁` and `H·K₂`, backward `Hᵀ·dZ₂`, `dZ₂·K₂ᵀ` and `Xᵀ·dZ₁` (no input gradient for the first
//! layer).
//!
//! Run: `cargo bench --bench train_step`. Quote the ratio of throughputs.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
const N: usize = 128;

fn train_step(c: &mut Criterion) {
    let mut model: Mlp = Mlp::init(&mut SmallRng::seed(1));
    let mut rng = SmallRng::seed(2);
    let xs: Vec<Vector<784>> =
        (0..N).map(|_| Vector::from_fn(|_| typed_nn::init::uniform01(&mut rng) as f32)).collect();
    let labels: Vec<usize> = (0..N).map(|i| i % 10).collect();
    let flat_x: Vec<f32> = xs.iter().flat_map(|x| x.iter().copied()).collect();
    let (k1, k2) = (model.0.kernel.as_flattened().to_vec(), model.1.kernel.as_flattened().to_vec());
    let (mut h, mut z, mut dz2, mut dh) =
        (vec![0.0f32; N * 64], vec![0.0f32; N * 10], vec![0.01f32; N * 10], vec![0.0f32; N * 64]);
    let (mut dk1, mut dk2) = (vec![0.0f32; 784 * 64], vec![0.0f32; 64 * 10]);

    let mut g = c.benchmark_group("seed1_train_step_batch_128");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("bare_gemms", |b| {
        b.iter(|| unsafe {
            // SAFETY: every matrix is a row-major Vec of exactly the stated size.
            use matrixmultiply::sgemm;
            sgemm(N, 784, 64, 1.0, flat_x.as_ptr(), 784, 1, k1.as_ptr(), 64, 1, 0.0, h.as_mut_ptr(), 64, 1);
            sgemm(N, 64, 10, 1.0, h.as_ptr(), 64, 1, k2.as_ptr(), 10, 1, 0.0, z.as_mut_ptr(), 10, 1);
            sgemm(64, N, 10, 1.0, h.as_ptr(), 1, 64, dz2.as_ptr(), 10, 1, 0.0, dk2.as_mut_ptr(), 10, 1);
            sgemm(N, 10, 64, 1.0, dz2.as_ptr(), 10, 1, k2.as_ptr(), 1, 10, 0.0, dh.as_mut_ptr(), 64, 1);
            sgemm(784, N, 64, 1.0, flat_x.as_ptr(), 1, 784, dh.as_ptr(), 64, 1, 0.0, dk1.as_mut_ptr(), 64, 1);
            black_box((&z, &dk1, &dk2));
            dz2[0] += 0.0;
        })
    });
    let mut grad = Mlp::default();
    let mut ws = Workspace::new();
    let mut sgd = Sgd::new(0.01);
    let loss = SparseCategoricalCrossentropy::default();
    g.bench_function("typed_nn", |b| {
        b.iter(|| {
            grad.zero_params();
            let l = value_and_grad_batch(&model, black_box(&xs), &labels, &loss, &mut grad, &mut ws).unwrap();
            sgd.step(&mut model, &grad);
            black_box(l)
        })
    });
    g.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
