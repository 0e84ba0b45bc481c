//! One training step of seed model 1 on a batch of 128 — forward, cross-entropy, backward,
//! SGD — next to the bare GEMMs that step needs (the floor any implementation pays): forward
//! `X·K₁` and `H·K₂`, backward `Hᵀ·dZ₂`, `dZ₂·K₂ᵀ` and `Xᵀ·dZ₁` (no input gradient for the first
//! layer).
//!
//! Run: `cargo bench -p typed-nn-benches --bench train_step`. Quote the ratio of throughputs.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
const N: usize = 128;

/// `n` inputs with values uniform in [0, 1), and labels cycling through the 10 classes.
fn random_batch<X: Tensor<Elem = f32>>(n: usize) -> (Vec<X>, Vec<usize>) {
    let mut rng = SeedRng::seed(2);
    let xs = (0..n)
        .map(|_| {
            let mut x = X::default();
            x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
            x
        })
        .collect();
    (xs, (0..n).map(|i| i % 10).collect())
}

fn train_step(c: &mut Criterion) {
    let mut model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let (xs, labels) = random_batch::<Vector<784>>(N);
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

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
const N2: usize = 32;

/// Seed model 2, batch of 32: the step next to its GEMMs — forward conv `(32·676 × 9)·(9 × 32)`
/// and dense `(32 × 5408)·(5408 × 10)`, backward dense `Xᵀ·dZ` and `dZ·Kᵀ`, conv `Pᵀ·dZ` (no
/// input gradient for the first layer).
fn cnn_train_step(c: &mut Criterion) {
    let mut model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(1));
    let (xs, labels) = random_batch::<Image<28, 28, 1>>(N2);
    let rows = N2 * 676;
    let patches = vec![0.5f32; rows * 9];
    let kc = model.0.kernel.as_flattened().as_flattened().as_flattened().to_vec();
    let kd = model.3.kernel.as_flattened().to_vec();
    let (mut z, flat, mut logits) = (vec![0.0f32; rows * 32], vec![0.5f32; N2 * 5408], vec![0.0f32; N2 * 10]);
    let (dlogits, mut dflat, dz) = (vec![0.01f32; N2 * 10], vec![0.0f32; N2 * 5408], vec![0.01f32; rows * 32]);
    let (mut dkd, mut dkc) = (vec![0.0f32; 5408 * 10], vec![0.0f32; 9 * 32]);

    let mut g = c.benchmark_group("seed2_train_step_batch_32");
    g.throughput(Throughput::Elements(N2 as u64));
    g.bench_function("bare_gemms", |b| {
        b.iter(|| unsafe {
            // SAFETY: every matrix is a row-major Vec of exactly the stated size.
            use matrixmultiply::sgemm;
            sgemm(rows, 9, 32, 1.0, patches.as_ptr(), 9, 1, kc.as_ptr(), 32, 1, 0.0, z.as_mut_ptr(), 32, 1);
            sgemm(N2, 5408, 10, 1.0, flat.as_ptr(), 5408, 1, kd.as_ptr(), 10, 1, 0.0, logits.as_mut_ptr(), 10, 1);
            sgemm(5408, N2, 10, 1.0, flat.as_ptr(), 1, 5408, dlogits.as_ptr(), 10, 1, 0.0, dkd.as_mut_ptr(), 10, 1);
            sgemm(N2, 10, 5408, 1.0, dlogits.as_ptr(), 10, 1, kd.as_ptr(), 1, 10, 0.0, dflat.as_mut_ptr(), 5408, 1);
            sgemm(9, rows, 32, 1.0, patches.as_ptr(), 1, 9, dz.as_ptr(), 32, 1, 0.0, dkc.as_mut_ptr(), 32, 1);
            black_box((&z, &logits, &dkd, &dflat, &dkc));
        })
    });
    let mut grad: Box<Cnn> = Cnn::new_boxed();
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

/// Feature `threads`: one epoch of seed model 1 (32 batches of 128) with `Trainer::fit` on one
/// thread and `Trainer::fit_threaded` on two, in one group so the ratio comes from one run; and
/// the standalone threaded step (rayon) for your own loop. Run:
/// `cargo bench -p typed-nn-benches --features threads --bench train_step -- threads`.
#[cfg(feature = "threads")]
fn threaded_training(c: &mut Criterion) {
    const SAMPLES: usize = 32 * N;
    let mut model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let (xs, labels) = random_batch::<Vector<784>>(SAMPLES);
    let loss = SparseCategoricalCrossentropy::default();
    let mut trainer = Trainer::new(Sgd::new(0.001), loss).batch_size(N);

    let mut g = c.benchmark_group("seed1_fit_epoch_batch_128_threads");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.bench_function("one_thread", |b| b.iter(|| trainer.fit(&mut model, black_box(&xs), &labels).unwrap()));
    g.bench_function("two_threads", |b| {
        b.iter(|| trainer.fit_threaded(&mut model, black_box(&xs), &labels, None, 2, ()).unwrap())
    });
    // Your own loop instead (issue 12): the same epoch as a loop of rayon-threaded steps (two
    // shards through `rayon::join`) and SGD, run inside rayon's global pool (`rayon::scope`),
    // so that the pool's workers stay awake between steps. It does less than `fit_threaded`
    // (no shuffle, no gathering, no accuracy).
    let mut grad = Mlp::default();
    let mut shards = ThreadedWorkspace::new(2);
    let mut sgd = Sgd::new(0.001);
    g.bench_function("two_threads_rayon_scope", |b| {
        b.iter(|| {
            rayon::scope(|_| {
                for (x, t) in black_box(&xs).chunks(N).zip(labels.chunks(N)) {
                    grad.zero_params();
                    value_and_grad_batch_threaded(&model, x, t, &loss, &mut grad, &mut shards).unwrap();
                    sgd.step(&mut model, &grad);
                }
            })
        })
    });
    g.finish();

    let (xs, labels) = (&xs[..N], &labels[..N]);
    let mut grad = Mlp::default();
    let mut shards = ThreadedWorkspace::new(2);
    let mut g = c.benchmark_group("seed1_train_step_batch_128_threads");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("value_and_grad_batch_threaded_2", |b| {
        b.iter(|| {
            grad.zero_params();
            value_and_grad_batch_threaded(&model, black_box(xs), labels, &loss, &mut grad, &mut shards).unwrap()
        })
    });
    g.finish();
}

#[cfg(not(feature = "threads"))]
fn threaded_training(_: &mut Criterion) {}

criterion_group!(benches, train_step, cnn_train_step, threaded_training);
criterion_main!(benches);
