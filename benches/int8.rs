//! int8 inference, one sample, each model next to its `f32` twin and (for the MLPs) a
//! hand-written int8 loop in the same group:
//!
//! - the 784-64-10 MLP (`Int8<(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)>`, from
//!   `tests/fixtures/tflite/mlp784.tflite`) — the issue's goal: int8 under half the `f32` time;
//! - the digits MLP, the digits CNN and the second digits CNN (same-padding, stride 2, ReLU6,
//!   average and global average pooling), from the other fixtures.
//!
//! The `f32` models have random weights (their speed does not depend on the values); the int8
//! ones are the fixture files. The hand-written loop is TFLite's reference arithmetic written
//! the obvious way, `Σ w·(x − z_in)` then typed-nn's (public) requantization and softmax
//! functions, compiled for the default target: what a careful programmer gets without SIMD.
//!
//! The int8 benchmark's name says which kernel path ran (`typed_nn_int8_avx512-vnni`,
//! `_avx2`, `_portable`). Pick one with `TYPED_NN_SIMD=avx512|avx2|portable` (an unavailable
//! choice falls back to portable):
//!
//! ```text
//! cargo bench -p typed-nn-benches --bench int8
//! TYPED_NN_SIMD=avx2 cargo bench -p typed-nn-benches --bench int8 -- typed_nn_int8
//! TYPED_NN_SIMD=portable cargo bench -p typed-nn-benches --bench int8 -- typed_nn_int8
//! ```
//!
//! `python3 scripts/bench_table_int8.py` prints the int8 tables in BENCHMARKS.md from the results.

// The reference loop is written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;
use typed_nn::quant::requant::multiply_by_quantized_multiplier;
use typed_nn::quant::softmax::{SoftmaxParams, softmax_i8};
use typed_nn::quant::{Int8, Int8Tensor, QActivation, QDense, QImage, QLayer, QVector};
use typed_nn::tflite::{FromTflite, TfliteImport};

type Mlp784 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);
type DigitsCnn2 = (
    Conv2D<1, 8, 3, Relu6, 1, Same>,
    AvgPool2D<2>,
    Conv2D<8, 16, 3, Relu, 2, Same>,
    GlobalAvgPool2D,
    Dense<16, 10, Softmax>,
);

/// DS-CNN as TensorFlow's converter leaves it (BN folded, ReLU fused, dropout gone), as in
/// `tests/tflite_int8.rs`.
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

fn fixture(name: &str) -> Vec<u8> {
    // This package is `benches/`; the fixtures are the library's.
    std::fs::read(format!("{}/../tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn load<M: TfliteImport<X>, X: Int8Tensor>(name: &str) -> (M, X) {
    let model = M::from_tflite::<X>(&fixture(&format!("{name}.tflite"))).expect("model");
    let inputs: Vec<i8> = fixture(&format!("{name}.input.bin")).iter().map(|&b| b as i8).collect();
    (model, X::from_slice(&inputs[..X::LEN]).expect("input"))
}

/// One int8 fully connected layer, TFLite's reference arithmetic written the obvious way.
fn fully_connected<const IN: usize, const OUT: usize, A: QActivation>(
    l: &QDense<IN, OUT, A>,
    x: &[i8; IN],
    relu: bool,
) -> [i8; OUT] {
    let mut y = [0i8; OUT];
    let zero_point = l.input.zero_point;
    for o in 0..OUT {
        let row = &l.kernel[o];
        let mut acc = l.bias[o];
        for i in 0..IN {
            acc += i32::from(row[i]) * (i32::from(x[i]) - zero_point);
        }
        let m = l.requant()[o];
        let v = multiply_by_quantized_multiplier(acc, m.multiplier, m.shift) + l.output.zero_point;
        let lo = if relu { l.output.zero_point } else { -128 };
        y[o] = v.clamp(lo.max(-128), 127) as i8;
    }
    y
}

/// A Dense → ReLU → Dense → softmax int8 MLP, by hand.
fn hand_written<const IN: usize, const H: usize, A: QActivation, B: QActivation>(
    (l1, l2): &(QDense<IN, H, A>, QDense<H, 10, B>),
    softmax: &SoftmaxParams,
    x: &[i8; IN],
) -> [i8; 10] {
    let h = fully_connected(l1, x, true);
    let z = fully_connected(l2, &h, false);
    let mut y = [0i8; 10];
    softmax_i8(softmax, &z, &mut y);
    y
}

fn int8_name() -> String {
    format!("typed_nn_int8_{}", typed_nn::quant::simd())
}

fn mlp<const IN: usize, const H: usize>(c: &mut Criterion, group: &str, name: &str)
where
    (Dense<IN, H, Relu>, Dense<H, 10, Softmax>): Quantize<Int8 = (QDense<IN, H, Relu>, QDense<H, 10, Softmax>)>
        + Layer<Vector<IN>, Out = Vector<10>>
        + Params<f32>,
    (QDense<IN, H, Relu>, QDense<H, 10, Softmax>): TfliteImport<QVector<IN>> + QLayer<QVector<IN>, Out = QVector<10>>,
{
    let float: Box<(Dense<IN, H, Relu>, Dense<H, 10, Softmax>)> = Box::new(Params::init(&mut SeedRng::seed(1)));
    let (int8, x): ((QDense<IN, H, Relu>, QDense<H, 10, Softmax>), QVector<IN>) = load(name);
    let xf: Vector<IN> = Vector::from_fn(|i| (i % 17) as f32 / 17.0);
    let softmax = SoftmaxParams::new(int8.1.beta, int8.1.output.scale).expect("softmax");
    // The hand-written loop computes what typed-nn does.
    assert_eq!(&hand_written(&int8, &softmax, x.as_array()), int8.forward(&x).as_array());
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    g.bench_function("typed_nn_f32", |b| b.iter(|| black_box(&*float).forward(black_box(&xf))));
    g.bench_function("hand_written_int8_loop", |b| {
        b.iter(|| hand_written(black_box(&int8), black_box(&softmax), black_box(x.as_array())))
    });
    g.bench_function(int8_name(), |b| b.iter(|| black_box(&int8).forward(black_box(&x))));
    g.finish();
}

fn mlp784(c: &mut Criterion) {
    mlp::<784, 64>(c, "int8_mlp784_1_sample", "mlp784");
}

fn digits_mlp(c: &mut Criterion) {
    mlp::<64, 32>(c, "int8_digits_mlp_1_sample", "digits_mlp");
}

fn cnn<M>(c: &mut Criterion, group: &str, name: &str)
where
    M: Quantize + Layer<Image<8, 8, 1>, Out = Vector<10>> + Params<f32> + Default,
    M::Int8: TfliteImport<QImage<8, 8, 1>> + QLayer<QImage<8, 8, 1>, Out = QVector<10>>,
{
    let float: Box<M> = Box::new(M::init(&mut SeedRng::seed(1)));
    let (int8, x): (M::Int8, QImage<8, 8, 1>) = load(name);
    let pixels: Vec<f32> = (0..64).map(|i| (i % 17) as f32 / 17.0).collect();
    let xf: Image<8, 8, 1> = Tensor::from_slice(&pixels).expect("64 pixels");
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    g.bench_function("typed_nn_f32", |b| b.iter(|| black_box(&*float).forward(black_box(&xf))));
    g.bench_function(int8_name(), |b| b.iter(|| black_box(&int8).forward(black_box(&x))));
    g.finish();
}

fn digits_cnn(c: &mut Criterion) {
    cnn::<DigitsCnn>(c, "int8_digits_cnn_1_sample", "digits_cnn");
}

fn digits_cnn2(c: &mut Criterion) {
    cnn::<DigitsCnn2>(c, "int8_digits_cnn2_1_sample", "digits_cnn2");
}

/// DS-CNN (49×10 MFCC input, 12 keywords): the `f32` model with random weights next to the
/// int8 fixture, and a floor: copying the 490-byte input and 12-byte output, what a call costs
/// at least.
fn ds_cnn(c: &mut Criterion) {
    let float: Box<DsCnn> = Box::new(DsCnn::init(&mut SeedRng::seed(1)));
    let (int8, x): (Box<Int8<DsCnn>>, QImage<49, 10, 1>) = {
        let (m, x) = load::<Int8<DsCnn>, QImage<49, 10, 1>>("ds_cnn");
        (Box::new(m), x)
    };
    let pixels: Vec<f32> = (0..490).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
    let xf: Image<49, 10, 1> = Tensor::from_slice(&pixels).expect("490 values");
    let mut g = c.benchmark_group("int8_ds_cnn_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("typed_nn_f32", |b| b.iter(|| black_box(&*float).forward(black_box(&xf))));
    g.bench_function(int8_name(), |b| b.iter(|| black_box(&*int8).forward(black_box(&x))));
    g.bench_function("floor_copy_in_out", |b| {
        b.iter(|| {
            let x: QImage<49, 10, 1> = *black_box(&x);
            black_box(&x);
            QVector::<12>::default()
        })
    });
    g.finish();
}

/// ResNet-8 (32×32×3 image, 10 classes): the folded `f32` model with the Keras weights of
/// `tests/fixtures/keras_resnet8.safetensors` next to its int8 form loaded from the fixture
/// converted from the same weights (`Int8<ResNet8Folded>`: each ReLU fused into the
/// convolution or residual `ADD` before it).
fn resnet8(c: &mut Criterion) {
    use typed_nn::fold::FoldBatchNorm;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_resnet8.safetensors");
    let model: Box<resnet8::ResNet8> =
        Box::<resnet8::ResNet8>::load_safetensors(&std::fs::read(path).expect("weights")).expect("ResNet-8");
    let float: Box<resnet8::ResNet8Folded> = Box::new(model.fold_batch_norm());
    let (int8, x): (Box<Int8<resnet8::ResNet8Folded>>, QImage<32, 32, 3>) = {
        let (m, x) = load::<Int8<resnet8::ResNet8Folded>, QImage<32, 32, 3>>("resnet8");
        (Box::new(m), x)
    };
    let pixels: Vec<f32> = (0..3072).map(|i| (i % 17) as f32 / 17.0).collect();
    let xf: Image<32, 32, 3> = Tensor::from_slice(&pixels).expect("3072 values");
    let mut g = c.benchmark_group("int8_resnet8_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("typed_nn_f32", |b| b.iter(|| black_box(&*float).forward(black_box(&xf))));
    g.bench_function(int8_name(), |b| b.iter(|| black_box(&*int8).forward(black_box(&x))));
    g.finish();
}

#[allow(dead_code)]
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

/// DS-CNN int8 layer by layer (the profile behind BENCHMARKS.md's int8 section): the stem, the
/// first depthwise and 1×1 pair (the other three pairs have the same shapes and kernels), and the
/// head (average pool, flatten, dense, softmax), each on the activations the model feeds it.
fn ds_cnn_layers(c: &mut Criterion) {
    let (m, x) = load::<Int8<DsCnn>, QImage<49, 10, 1>>("ds_cnn");
    let m = Box::new(m);
    let stem = m.0.forward(&x);
    let dw = m.1.forward(&stem);
    let pw = m.2.forward(&dw);
    let mut p = pw;
    for (d, q) in [(&m.3, &m.4), (&m.5, &m.6), (&m.7, &m.8)] {
        p = q.forward(&d.forward(&p));
    }
    let head = (m.9, m.10, m.11.clone());
    // The pieces chain to the whole model's output.
    assert_eq!(head.forward(&p).as_array(), m.forward(&x).as_array());
    let path = typed_nn::quant::simd();
    let mut g = c.benchmark_group("int8_ds_cnn_layers");
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("stem_conv_10x4_s2_{path}"), |b| b.iter(|| black_box(&m.0).forward(black_box(&x))));
    g.bench_function(format!("depthwise_3x3_{path}"), |b| b.iter(|| black_box(&m.1).forward(black_box(&stem))));
    g.bench_function(format!("pointwise_1x1_{path}"), |b| b.iter(|| black_box(&m.2).forward(black_box(&dw))));
    g.bench_function(format!("avgpool_dense_softmax_{path}"), |b| b.iter(|| black_box(&head).forward(black_box(&p))));
    g.finish();
}

use typed_nn::quant::Quantize;

criterion_group!(benches, mlp784, digits_mlp, digits_cnn, digits_cnn2, ds_cnn, ds_cnn_layers, resnet8);
criterion_main!(benches);

// Names the model types once, so a changed fixture architecture is a compile error here.
const _: fn(&Int8<Mlp784>, &Int8<DigitsMlp>) = |_, _| {};
