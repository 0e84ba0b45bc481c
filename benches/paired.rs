//! Ratios that survive a shared machine: the variants of one workload are timed in interleaved
//! rounds (A, B, C, A, B, C, ...), so a change in load between rounds hits all of them alike,
//! and each ratio is the median over rounds of `variant time / baseline time` in that round.
//! Criterion times one variant after the other, which on a machine shared with other builds
//! moved ratios by 20% and more between runs.
//!
//! Run: `taskset -c 1 cargo bench -p typed-nn-benches --bench paired`, once per path
//! (`TYPED_NN_SIMD=avx2` caps the kernels at AVX2). Prints, per workload and variant, the
//! fastest round, the median round and the median paired ratio with its interquartile range.
//! The int8 workloads (`int8_mlp784_1_sample`, `int8_ds_cnn_1_sample`) time the int8 fixture
//! models next to their `f32` twins (random weights); `TYPED_NN_SIMD` caps both, and the
//! heading line names the int8 path too. `int8_ds_cnn_alone` times DS-CNN int8 by itself, as
//! `scripts/litert_int8_bench.py --calls 20 --batches 301` times LiteRT; `int8_resnet8_alone`
//! does the same for ResNet-8.
//! The two-thread workload needs both cores and the feature: `cargo bench -p typed-nn-benches
//! --features threads --bench paired -- seed1_fit_epoch_threads` (no `taskset -c 1`).

use std::hint::black_box;
use std::time::Instant;

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Tensor, QImage, QLayer, QVector};
use typed_nn::tflite::{FromTflite, TfliteImport};
use typed_nn_benches::cnn::{self, Cnn};
use typed_nn_benches::{LibmSwish, M3, M3Builtin, M3Libm, Mlp, UserSwish, hand_written, hand_written_m3, stream};

#[allow(dead_code)] // the block aliases are for reading
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;

#[allow(dead_code)]
#[path = "../examples/models/mobilenet_v1.rs"]
mod mobilenet_v1;

const ROUNDS: usize = 301;

/// DS-CNN as TensorFlow's converter leaves it (BN folded, ReLU fused), as in `benches/int8.rs`.
type DsCnn = (
    Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    AvgPool2D<25, 5>,
    Flatten,
    Dense<64, 12, Softmax>,
);

/// An int8 fixture model (`tests/fixtures/tflite/NAME.tflite`) and its first input.
fn int8_fixture<M: TfliteImport<X>, X: Int8Tensor>(name: &str) -> (M, X) {
    let read = |file: String| {
        std::fs::read(format!("{}/../tests/fixtures/tflite/{file}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
    };
    let model = M::from_tflite::<X>(&read(format!("{name}.tflite"))).expect("model");
    let inputs: Vec<i8> = read(format!("{name}.input.bin")).iter().map(|&b| b as i8).collect();
    (model, X::from_slice(&inputs[..X::LEN]).expect("input"))
}

/// Times `iters` calls of each variant per round, interleaved; prints the table.
fn paired(name: &str, iters: u32, variants: &mut [(&str, &mut dyn FnMut())]) {
    paired_rounds(name, ROUNDS, iters, variants);
}

/// [`paired`] with `rounds` rounds; returns each variant's time per call in each round (ns).
fn paired_rounds(name: &str, rounds: usize, iters: u32, variants: &mut [(&str, &mut dyn FnMut())]) -> Vec<Vec<f64>> {
    for (_, f) in variants.iter_mut() {
        for _ in 0..iters {
            f();
        }
    }
    let mut times = vec![Vec::with_capacity(rounds); variants.len()];
    for _ in 0..rounds {
        for ((_, f), t) in variants.iter_mut().zip(&mut times) {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.push(start.elapsed().as_secs_f64() * 1e9 / f64::from(iters));
        }
    }
    println!("{name} ({rounds} rounds of {iters} calls, path {})", typed_nn::float_simd());
    for (i, (label, _)) in variants.iter().enumerate() {
        let mut ratios: Vec<f64> = times[i].iter().zip(&times[0]).map(|(t, b)| t / b).collect();
        let (r25, r50, r75) = (quantile(&mut ratios, 0.25), quantile(&mut ratios, 0.5), quantile(&mut ratios, 0.75));
        let mut t = times[i].clone();
        let (min, med) = (quantile(&mut t, 0.0), quantile(&mut t, 0.5));
        println!(
            "  {label:<28} min {min:>9.1} ns  median {med:>9.1} ns  ratio to {:<22} {r50:.3} (IQR {r25:.3}–{r75:.3})",
            variants[0].0
        );
    }
    times
}

/// The `q`-quantile of `v` (sorts it).
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Feature `threads` (issue 12): one epoch of seed model 1 (32 batches of 128) with `fit` on
/// one thread and `fit_threaded` on two, in interleaved rounds. Prints, besides the table, the
/// speed-up (one thread's time over two threads', per round) and the load average. The
/// measurement that chose rayon over the earlier polling team ran both in this bench, at
/// commit 84550df (`BENCHMARKS.md`).
#[cfg(feature = "threads")]
fn threads_epoch() {
    const N: usize = 128;
    const SAMPLES: usize = 32 * N;
    let mut rng = SeedRng::seed(2);
    let xs: Vec<Vector<784>> =
        (0..SAMPLES).map(|_| Vector::from_fn(|_| typed_nn::init::uniform01(&mut rng) as f32)).collect();
    let labels: Vec<usize> = (0..SAMPLES).map(|i| i % 10).collect();
    let loss = SparseCategoricalCrossentropy::default();
    let trainer = || Trainer::new(Sgd::new(0.001), loss).batch_size(N);
    let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let (mut m1, mut m2) = (model.clone(), model);
    let (mut t1, mut t2) = (trainer(), trainer());
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let rounds = std::env::var("PAIRED_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(101);
    let times = paired_rounds(
        "seed1_fit_epoch_threads",
        rounds,
        1,
        &mut [
            ("one_thread", &mut || {
                black_box(t1.fit(&mut m1, black_box(&xs), &labels).unwrap());
            }),
            ("two_threads", &mut || {
                black_box(t2.fit_threaded(&mut m2, black_box(&xs), &labels, None, 2, ()).unwrap());
            }),
        ],
    );
    let mut speed_ups: Vec<f64> = times[0].iter().zip(&times[1]).map(|(one, two)| one / two).collect();
    let (a, b, c) = (quantile(&mut speed_ups, 0.25), quantile(&mut speed_ups, 0.5), quantile(&mut speed_ups, 0.75));
    println!("  speed-up two_threads {b:.3} (IQR {a:.3}–{c:.3})");
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load average before: {}, after: {}", load_before.trim(), load_after.trim());
}

fn main() {
    // Cargo passes `--bench` (and a filter, if given): run only the workloads it names.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));

    #[cfg(feature = "threads")]
    if wanted("seed1_fit_epoch_threads") {
        threads_epoch();
    }

    if wanted("seed1_forward_1_sample") {
        let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
        let x: [f32; 784] = core::array::from_fn(|i| (i % 17) as f32 / 17.0);
        let xv = Vector::from(x);
        let weights = stream::Weights::of(&model);
        paired(
            "seed1_forward_1_sample",
            200,
            &mut [
                ("weight_stream_floor", &mut || {
                    black_box(black_box(&weights).run());
                }),
                ("typed_nn", &mut || {
                    black_box(black_box(&model).forward(black_box(&xv)));
                }),
                ("hand_written_loop", &mut || {
                    black_box(hand_written(black_box(&model), black_box(&x)));
                }),
            ],
        );
    }

    if wanted("int8_mlp784_1_sample") {
        // Issue 15's goal: the 784-64-10 MLP in int8 under half the `f32` time, on every path.
        let float: Box<Mlp> = Box::new(Mlp::init(&mut SeedRng::seed(1)));
        let xf: Vector<784> = Vector::from_fn(|i| (i % 17) as f32 / 17.0);
        let (int8, x): (Int8<Mlp>, QVector<784>) = int8_fixture("mlp784");
        println!("int8 path: {}", typed_nn::quant::simd());
        paired(
            "int8_mlp784_1_sample",
            500,
            &mut [
                ("typed_nn_f32", &mut || {
                    black_box(black_box(&*float).forward(black_box(&xf)));
                }),
                ("typed_nn_int8", &mut || {
                    black_box(black_box(&int8).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("int8_ds_cnn_1_sample") {
        // Issue 15's other goal: DS-CNN in int8 faster than LiteRT with XNNPACK (whose time
        // comes from scripts/litert_int8_bench.py, run right after this under the same load).
        let float: Box<DsCnn> = Box::new(DsCnn::init(&mut SeedRng::seed(1)));
        let pixels: Vec<f32> = (0..490).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
        let xf: Image<49, 10, 1> = Tensor::from_slice(&pixels).expect("490 values");
        let (int8, x): (Int8<DsCnn>, QImage<49, 10, 1>) = int8_fixture("ds_cnn");
        let int8 = Box::new(int8);
        println!("int8 path: {}", typed_nn::quant::simd());
        paired(
            "int8_ds_cnn_1_sample",
            20,
            &mut [
                ("typed_nn_f32", &mut || {
                    black_box(black_box(&*float).forward(black_box(&xf)));
                }),
                ("typed_nn_int8", &mut || {
                    black_box(black_box(&*int8).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("int8_ds_cnn_alone") {
        // DS-CNN int8 alone, in rounds of 20 calls with nothing in between: the same shape as
        // `scripts/litert_int8_bench.py --calls 20 --batches 301` times LiteRT (warm caches, the
        // fastest round), for the comparison with XNNPACK. Interleaved with the `f32` model, as
        // above, each round starts with caches the other model has evicted.
        let (int8, x): (Int8<DsCnn>, QImage<49, 10, 1>) = int8_fixture("ds_cnn");
        let int8 = Box::new(int8);
        println!("int8 path: {}", typed_nn::quant::simd());
        paired(
            "int8_ds_cnn_alone",
            20,
            &mut [("typed_nn_int8", &mut || {
                black_box(black_box(&*int8).forward(black_box(&x)));
            })],
        );
    }

    if wanted("int8_resnet8_alone") {
        // ResNet-8 int8 alone, as `int8_ds_cnn_alone`, for the comparison with
        // `scripts/litert_int8_bench.py --models resnet8 --calls 20 --batches 301`.
        let (int8, x): (Int8<resnet8::ResNet8Folded>, QImage<32, 32, 3>) = int8_fixture("resnet8");
        let int8 = Box::new(int8);
        println!("int8 path: {}", typed_nn::quant::simd());
        paired(
            "int8_resnet8_alone",
            20,
            &mut [("typed_nn_int8", &mut || {
                black_box(black_box(&*int8).forward(black_box(&x)));
            })],
        );
    }

    if wanted("int8_ds_cnn_layers") {
        // DS-CNN int8 layer by layer on the fixture's activations (where the int8 time goes):
        // the whole model, then the stem, the first depthwise and 1×1 layers (the model runs
        // four of each, the same shapes and kernels) and the head. The fastest round is the
        // number to read.
        let (int8, x): (Int8<DsCnn>, QImage<49, 10, 1>) = int8_fixture("ds_cnn");
        let m = Box::new(int8);
        let stem = m.0.forward(&x);
        let dw = m.1.forward(&stem);
        let pw = m.2.forward(&dw);
        let mut p = pw;
        for (d, q) in [(&m.3, &m.4), (&m.5, &m.6), (&m.7, &m.8)] {
            p = q.forward(&d.forward(&p));
        }
        let head = (m.9, m.10, m.11.clone());
        println!("int8 path: {}", typed_nn::quant::simd());
        paired(
            "int8_ds_cnn_layers",
            20,
            &mut [
                ("whole_model", &mut || {
                    black_box(black_box(&*m).forward(black_box(&x)));
                }),
                ("stem_conv_10x4_s2", &mut || {
                    black_box(black_box(&m.0).forward(black_box(&x)));
                }),
                ("depthwise_3x3", &mut || {
                    black_box(black_box(&m.1).forward(black_box(&stem)));
                }),
                ("pointwise_1x1", &mut || {
                    black_box(black_box(&m.2).forward(black_box(&dw)));
                }),
                ("avgpool_dense_softmax", &mut || {
                    black_box(black_box(&head).forward(black_box(&p)));
                }),
            ],
        );
    }

    if wanted("seed1_forward_batch_128") {
        const N: usize = 128;
        let model: Mlp = Mlp::init(&mut SeedRng::seed(2));
        let xs: Vec<Vector<784>> = (0..N).map(|s| Vector::from_fn(|i| ((i + s) % 13) as f32 / 13.0)).collect();
        let flat_x: Vec<f32> = xs.iter().flat_map(|x| x.iter().copied()).collect();
        let mut ys = vec![Vector::<10>::default(); N];
        let mut scratch = Vec::new();
        let (mut h, mut z) = (vec![0.0f32; N * 64], vec![0.0f32; N * 10]);
        let (k1, k2) = (model.0.kernel.as_flattened().to_vec(), model.1.kernel.as_flattened().to_vec());
        paired(
            "seed1_forward_batch_128",
            20,
            &mut [
                ("bare_gemms", &mut || {
                    // SAFETY: every matrix is a row-major Vec of exactly the stated size.
                    unsafe {
                        matrixmultiply::sgemm(
                            N,
                            784,
                            64,
                            1.0,
                            flat_x.as_ptr(),
                            784,
                            1,
                            k1.as_ptr(),
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
                            k2.as_ptr(),
                            10,
                            1,
                            0.0,
                            z.as_mut_ptr(),
                            10,
                            1,
                        );
                    }
                    black_box(&z);
                }),
                ("typed_nn", &mut || {
                    model.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap();
                    black_box(&ys);
                }),
            ],
        );
    }

    if wanted("seed1_train_step_batch_128") {
        const N: usize = 128;
        let mut model: Mlp = Mlp::init(&mut SeedRng::seed(1));
        let xs: Vec<Vector<784>> = (0..N).map(|s| Vector::from_fn(|i| ((i + s) % 13) as f32 / 13.0)).collect();
        let labels: Vec<usize> = (0..N).map(|i| i % 10).collect();
        let flat_x: Vec<f32> = xs.iter().flat_map(|x| x.iter().copied()).collect();
        let (k1, k2) = (model.0.kernel.as_flattened().to_vec(), model.1.kernel.as_flattened().to_vec());
        let (mut h, mut z, dz2, mut dh) =
            (vec![0.0f32; N * 64], vec![0.0f32; N * 10], vec![0.01f32; N * 10], vec![0.0f32; N * 64]);
        let (mut dk1, mut dk2) = (vec![0.0f32; 784 * 64], vec![0.0f32; 64 * 10]);
        let mut grad = Mlp::default();
        let mut ws = Workspace::new();
        let mut sgd = Sgd::new(0.01);
        let loss = SparseCategoricalCrossentropy::default();
        paired(
            "seed1_train_step_batch_128",
            10,
            &mut [
                ("bare_gemms", &mut || {
                    // SAFETY: every matrix is a row-major Vec of exactly the stated size.
                    unsafe {
                        use matrixmultiply::sgemm;
                        sgemm(N, 784, 64, 1.0, flat_x.as_ptr(), 784, 1, k1.as_ptr(), 64, 1, 0.0, h.as_mut_ptr(), 64, 1);
                        sgemm(N, 64, 10, 1.0, h.as_ptr(), 64, 1, k2.as_ptr(), 10, 1, 0.0, z.as_mut_ptr(), 10, 1);
                        sgemm(64, N, 10, 1.0, h.as_ptr(), 1, 64, dz2.as_ptr(), 10, 1, 0.0, dk2.as_mut_ptr(), 10, 1);
                        sgemm(N, 10, 64, 1.0, dz2.as_ptr(), 10, 1, k2.as_ptr(), 1, 10, 0.0, dh.as_mut_ptr(), 64, 1);
                        sgemm(
                            784,
                            N,
                            64,
                            1.0,
                            flat_x.as_ptr(),
                            1,
                            784,
                            dh.as_ptr(),
                            64,
                            1,
                            0.0,
                            dk1.as_mut_ptr(),
                            64,
                            1,
                        );
                    }
                    black_box((&z, &dk1, &dk2));
                }),
                ("typed_nn", &mut || {
                    grad.zero_params();
                    let l = value_and_grad_batch(&model, black_box(&xs), &labels, &loss, &mut grad, &mut ws).unwrap();
                    sgd.step(&mut model, &grad);
                    black_box(l);
                }),
            ],
        );
    }

    if wanted("seed2_forward_batch_32") {
        const N: usize = 32;
        let model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(1));
        let (xs, _) = cnn::images(N);
        let mut floor = cnn::Floor::new(&model, N);
        let mut ys = vec![Vector::<10>::default(); N];
        let mut scratch = Vec::new();
        paired(
            "seed2_forward_batch_32",
            4,
            &mut [
                ("im2col_gemm_floor", &mut || floor.forward(black_box(&xs))),
                ("typed_nn", &mut || {
                    model.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap();
                    black_box(&ys);
                }),
            ],
        );
    }

    if wanted("seed2_train_step_batch_32") {
        const N: usize = 32;
        let mut model: Box<Cnn> = Cnn::init_boxed(&mut SeedRng::seed(1));
        let (xs, labels) = cnn::images(N);
        let mut floor = cnn::Floor::new(&model, N);
        let mut grad: Box<Cnn> = Box::default();
        let mut ws = Workspace::new();
        let mut sgd = Sgd::new(0.01);
        let loss = SparseCategoricalCrossentropy::default();
        paired(
            "seed2_train_step_batch_32",
            2,
            &mut [
                ("bare_gemms", &mut || floor.train_step()),
                ("typed_nn", &mut || {
                    grad.zero_params();
                    let l = value_and_grad_batch(&*model, black_box(&xs), &labels, &loss, &mut *grad, &mut ws).unwrap();
                    sgd.step(&mut *model, &*grad);
                    black_box(l);
                }),
            ],
        );
    }

    if wanted("depthwise_forward_batch_32") {
        // DS-CNN's depthwise layer: 3×3 "same", 64 channels, on its 25×5 feature map.
        type Dw = DepthwiseConv2D<64, 3, Relu, 1, Same>;
        const N: usize = 32;
        let layer: Box<Dw> = Dw::init_boxed(&mut SeedRng::seed(7));
        let xs: Vec<Image<25, 5, 64>> = (0..N)
            .map(|s| {
                let mut img = Image::default();
                img.as_mut_slice()
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v = ((i * 7 + s) % 23) as f32 / 23.0 - 0.5);
                img
            })
            .collect();
        let mut ys = vec![Image::<25, 5, 64>::default(); N];
        let mut hand = vec![[[[0.0f32; 64]; 5]; 25]; N];
        let mut scratch = Vec::new();
        paired(
            "depthwise_forward_batch_32",
            10,
            &mut [
                ("hand_written_loop", &mut || {
                    for (x, y) in xs.iter().zip(hand.iter_mut()) {
                        typed_nn_benches::depthwise_hand_written(
                            &layer.kernel,
                            &layer.bias,
                            black_box(x.as_array()),
                            y,
                        );
                    }
                    black_box(&hand);
                }),
                ("typed_nn", &mut || {
                    layer.forward_batch_with(black_box(&xs), &mut ys, &mut scratch).unwrap();
                    black_box(&ys);
                }),
            ],
        );
    }

    if wanted("seed3_forward_1_sample") {
        let user: M3 = M3::init(&mut SeedRng::seed(3));
        let builtin: M3Builtin = M3Builtin::init(&mut SeedRng::seed(3));
        let libm: M3Libm = M3Libm::init(&mut SeedRng::seed(3));
        let x: [f32; 100] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
        let xv = Vector::from(x);
        paired(
            "seed3_forward_1_sample",
            400,
            &mut [
                ("typed_nn_builtin_swish", &mut || {
                    black_box(black_box(&builtin).forward(black_box(&xv)));
                }),
                ("typed_nn_user_swish", &mut || {
                    black_box(black_box(&user).forward(black_box(&xv)));
                }),
                ("typed_nn_libm_swish", &mut || {
                    black_box(black_box(&libm).forward(black_box(&xv)));
                }),
                ("hand_written_loop", &mut || {
                    black_box(hand_written_m3(black_box(&user), black_box(&x)));
                }),
            ],
        );
    }

    if wanted("swish_4096_single") {
        // The activation alone (almost): `Dense<1, 4096, A>`, 4096 multiply-adds, 4096 swishes.
        fn layer<A: Activation>() -> Box<Dense<1, 4096, A>> {
            let mut l: Box<Dense<1, 4096, A>> = Dense::new_boxed();
            for j in 0..4096 {
                l.kernel[0][j] = (j as f32 / 4096.0) * 16.0 - 8.0;
            }
            l
        }
        let (builtin, user, libm) = (layer::<Swish>(), layer::<UserSwish>(), layer::<LibmSwish>());
        let x = Vector::from([0.9f32]);
        paired(
            "swish_4096_single",
            50,
            &mut [
                ("builtin", &mut || {
                    black_box(black_box(&*builtin).forward(black_box(&x)));
                }),
                ("user_math", &mut || {
                    black_box(black_box(&*user).forward(black_box(&x)));
                }),
                ("user_libm", &mut || {
                    black_box(black_box(&*libm).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("resnet8_forward_1_sample") {
        // MLPerf Tiny's ResNet-8, BatchNorm folded (and then its activations fused), Keras
        // weights (issue 14), next to the bare im2col + GEMM calls of its convolutions and its
        // `Dense` (`mlperf.rs` has the same).
        use typed_nn_benches::mlperf_floor::{CONVS, Conv, gemm};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_resnet8.safetensors");
        let model = Box::<resnet8::ResNet8>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
        let folded: Box<resnet8::ResNet8Folded> = Box::new(model.fold_batch_norm());
        // Each ReLU after a convolution fused into it (the ones after the three `Add`s stay).
        let fused: Box<resnet8::ResNet8Inference> = Box::new(folded.fuse_activations());
        let mut rng = SeedRng::seed(5);
        let mut x = Image::<32, 32, 3>::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
        let mut buffers: Vec<[Vec<f32>; 4]> = CONVS.iter().map(Conv::buffers).collect();
        let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 640], vec![0.0f32; 10]);
        paired(
            "resnet8_forward_1_sample",
            4,
            &mut [
                ("im2col_gemm_floor", &mut || {
                    for (l, b) in CONVS.iter().zip(&mut buffers) {
                        l.run(b);
                    }
                    gemm(1, 64, 10, &pooled, &dense, &mut logits);
                    black_box((&buffers, &logits));
                }),
                ("typed_nn_folded", &mut || {
                    black_box(black_box(&*folded).forward(black_box(&x)));
                }),
                ("typed_nn_fused", &mut || {
                    black_box(black_box(&*fused).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("mobilenet_v1_forward_1_sample") {
        // MLPerf Tiny's MobileNetV1 (α = 0.25, 96 × 96 × 3), BatchNorm folded and then its
        // activations fused, Keras weights: all of its depthwise shapes (8 to 256 channels,
        // strides 1 and 2, 48 × 48 down to 3 × 3) in one call.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_mobilenet_v1.safetensors");
        let model = Box::<mobilenet_v1::MobileNetV1>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
        let folded: Box<mobilenet_v1::MobileNetV1Folded> = Box::new(model.fold_batch_norm());
        let fused: Box<typed_nn::fuse::Fused<mobilenet_v1::MobileNetV1Folded>> = Box::new(folded.fuse_activations());
        let mut rng = SeedRng::seed(7);
        let mut x = Image::<96, 96, 3>::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
        paired(
            "mobilenet_v1_forward_1_sample",
            4,
            &mut [
                ("typed_nn_folded", &mut || {
                    black_box(black_box(&*folded).forward(black_box(&x)));
                }),
                ("typed_nn_fused", &mut || {
                    black_box(black_box(&*fused).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("ds_cnn_forward_1_sample") {
        // MLPerf Tiny's DS-CNN, BatchNorm folded (and then its activations fused), Keras
        // weights, next to its floor.
        use typed_nn_benches::mlperf_floor::{Conv, DS_CONVS, depthwise_3x3, gemm};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_ds_cnn.safetensors");
        let model = Box::<ds_cnn::DsCnn>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
        let folded: Box<ds_cnn::DsCnnFolded> = Box::new(model.fold_batch_norm());
        // Each ReLU fused into its convolution, the two dropouts gone.
        let fused: Box<ds_cnn::DsCnnInference> = Box::new(folded.fuse_activations());
        let mut rng = SeedRng::seed(6);
        let mut x = Image::<49, 10, 1>::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32 * 2.0 - 1.0);
        let mut buffers: Vec<[Vec<f32>; 4]> = DS_CONVS.iter().map(Conv::buffers).collect();
        let (dw_x, dw_k, mut dw_y) = (vec![0.5f32; 25 * 5 * 64], vec![0.01f32; 9 * 64], vec![0.0f32; 25 * 5 * 64]);
        let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 64 * 12], vec![0.0f32; 12]);
        paired(
            "ds_cnn_forward_1_sample",
            10,
            &mut [
                ("im2col_gemm_floor", &mut || {
                    DS_CONVS[0].run(&mut buffers[0]);
                    for (l, b) in DS_CONVS.iter().zip(&mut buffers).skip(1) {
                        depthwise_3x3(&dw_x, &dw_k, &mut dw_y);
                        l.run(b);
                    }
                    gemm(1, 64, 12, &pooled, &dense, &mut logits);
                    black_box((&buffers, &dw_y, &logits));
                }),
                ("typed_nn_folded", &mut || {
                    black_box(black_box(&*folded).forward(black_box(&x)));
                }),
                ("typed_nn_fused", &mut || {
                    black_box(black_box(&*fused).forward(black_box(&x)));
                }),
            ],
        );
    }

    if wanted("ds_cnn_layers") {
        // DS-CNN's layers one by one, single sample, BatchNorm folded (where its time goes): the
        // whole model first, then each layer type once (the model runs four of each block
        // layer and, besides, the copies between layers). The fastest round is the number to
        // read.
        let mut rng = SeedRng::seed(9);
        let mut fill = |s: &mut [f32]| s.iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32 - 0.5);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_ds_cnn.safetensors");
        let model = Box::<ds_cnn::DsCnn>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
        let folded: Box<ds_cnn::DsCnnFolded> = Box::new(model.fold_batch_norm());
        let fused: Box<ds_cnn::DsCnnInference> = Box::new(folded.fuse_activations());
        let stem: Box<Conv2DRect<1, 64, 10, 4, Identity, 2, 2, Same>> = Conv2DRect::init_boxed(&mut SeedRng::seed(10));
        let dw: Box<DepthwiseConv2D<64, 3, Identity, 1, Same>> = DepthwiseConv2D::init_boxed(&mut SeedRng::seed(11));
        let pw: Box<Conv2D<64, 64, 1, Identity, 1, Same>> = Conv2D::init_boxed(&mut SeedRng::seed(12));
        let dense: Box<Dense<64, 12, Softmax>> = Dense::init_boxed(&mut SeedRng::seed(13));
        let (relu, pool) = (ActivationLayer::<Relu>::default(), AvgPool2D::<25, 5>);
        let mut x = Image::<49, 10, 1>::default();
        fill(x.as_mut_slice());
        let mut h = Image::<25, 5, 64>::default();
        fill(h.as_mut_slice());
        let mut v = Vector::<64>::default();
        fill(v.as_mut_slice());
        paired(
            "ds_cnn_layers",
            20,
            &mut [
                ("whole_model_folded", &mut || {
                    black_box(black_box(&*folded).forward(black_box(&x)));
                }),
                ("whole_model_fused", &mut || {
                    black_box(black_box(&*fused).forward(black_box(&x)));
                }),
                ("stem_49x10_1to64_10x4_s2", &mut || {
                    black_box(stem.forward(black_box(&x)));
                }),
                ("depthwise_25x5x64_3x3", &mut || {
                    black_box(dw.forward(black_box(&h)));
                }),
                ("pointwise_25x5_64to64_1x1", &mut || {
                    black_box(pw.forward(black_box(&h)));
                }),
                ("relu_25x5x64", &mut || {
                    black_box(relu.forward(black_box(&h)));
                }),
                ("avgpool_25x5", &mut || {
                    black_box(pool.forward(black_box(&h)));
                }),
                ("dense_64to12_softmax", &mut || {
                    black_box(dense.forward(black_box(&v)));
                }),
            ],
        );
    }

    if wanted("resnet8_conv_layers") {
        // ResNet-8's convolution shapes one by one, single sample (where its time goes): the
        // fastest round is the number to read, the ratios are to the first layer.
        fn conv<const H: usize, const CI: usize, const CO: usize, const K: usize, const S: usize>()
        -> (Box<Conv2D<CI, CO, K, Identity, S, Same>>, Image<H, H, CI>) {
            let layer = Conv2D::init_boxed(&mut SeedRng::seed(7));
            let mut rng = SeedRng::seed(8);
            let mut x = Image::<H, H, CI>::default();
            x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
            (layer, x)
        }
        let (l0, x0) = conv::<32, 3, 16, 3, 1>();
        let (l1, x1) = conv::<32, 16, 16, 3, 1>();
        let (l2, x2) = conv::<32, 16, 32, 3, 2>();
        let (l3, x3) = conv::<32, 16, 32, 1, 2>();
        let (l4, x4) = conv::<16, 32, 32, 3, 1>();
        let (l5, x5) = conv::<16, 32, 64, 3, 2>();
        let (l6, x6) = conv::<16, 32, 64, 1, 2>();
        let (l7, x7) = conv::<8, 64, 64, 3, 1>();
        paired(
            "resnet8_conv_layers",
            20,
            &mut [
                ("32x32_3to16_3x3_s1", &mut || {
                    black_box(l0.forward(black_box(&x0)));
                }),
                ("32x32_16to16_3x3_s1", &mut || {
                    black_box(l1.forward(black_box(&x1)));
                }),
                ("32x32_16to32_3x3_s2", &mut || {
                    black_box(l2.forward(black_box(&x2)));
                }),
                ("32x32_16to32_1x1_s2", &mut || {
                    black_box(l3.forward(black_box(&x3)));
                }),
                ("16x16_32to32_3x3_s1", &mut || {
                    black_box(l4.forward(black_box(&x4)));
                }),
                ("16x16_32to64_3x3_s2", &mut || {
                    black_box(l5.forward(black_box(&x5)));
                }),
                ("16x16_32to64_1x1_s2", &mut || {
                    black_box(l6.forward(black_box(&x6)));
                }),
                ("8x8_64to64_3x3_s1", &mut || {
                    black_box(l7.forward(black_box(&x7)));
                }),
            ],
        );
    }
}
