//! The embedded promise, checked by the linker.
//!
//! A `#![no_std]`, `#![no_main]` program for the host that runs seed model 1, the trained
//! digits model (baked into the binary with `model_from_le_bytes!`), a small
//! depthwise-separable model (rectangular kernel and window, depth multiplier, no biases), three
//! int8 models imported from `.tflite` files (the digits MLP and CNN, and DS-CNN: rectangular
//! stem, depthwise layers, rectangular pool; baked in with `int8_model_from_le_bytes!` from the
//! images `build.rs` wrote after checking each file against its type), ResNet-8 int8 (nested
//! residual blocks, each `ADD` with its ReLU fused, baked in the same way), and MLPerf Tiny's
//! ResNet-8 and DS-CNN in f32 with Keras-trained weights, unfolded and with their
//! BatchNormalizations folded, with typed-nn's default features off. It proves three things by
//! *linking at all*:
//!
//! - **no std**: nothing here or in typed-nn links `std` (it would need `#[panic_handler]`
//!   and `eh_personality` conflicts, and `std` symbols are absent);
//! - **no heap**: there is no `#[global_allocator]`, so any allocation would fail to link
//!   (`__rust_alloc` undefined);
//! - **no panic**: the `#[panic_handler]` calls an undefined external symbol, so if any panic
//!   path survives optimisation in the inference code, the link fails naming
//!   `typed_nn_nostd_check_found_a_panic_path`.
//!
//! It also checks, and reports in its exit code, that each int8 model gives exactly the host's
//! outputs on the 360 test digits (so the host's accuracy) and TFLite Micro's outputs on the
//! fixture inputs (DS-CNN and ResNet-8: the host's and TFLite Micro's outputs on their 64 and 8
//! fixture inputs), and
//! that both forms of the f32 ResNet-8 and DS-CNN give Keras' outputs within 1e-5 on the four
//! fixture inputs.
//!
//! Built with the `nostd` profile (release, LTO, `panic = "abort"`, one codegen unit):
//! `cargo build --profile nostd -p nostd-check && target/nostd/nostd-check`.
//! libc is linked only for the process entry (`main`) and `write`.

#![no_std]
#![no_main]

use core::panic::PanicInfo;

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Tensor, QImage, QLayer, QVector, QuantParams};

mod models;
use models::ds_cnn::{DsCnn, DsCnnFolded};
use models::resnet8::{ResNet8, ResNet8Folded};
use models::{DigitsCnn, DigitsMlp, DsCnnTflite};

#[link(name = "c")]
unsafe extern "C" {
    /// Deliberately undefined: referenced only from the panic handler, so the program links
    /// exactly when the optimiser removed every panic path.
    fn typed_nn_nostd_check_found_a_panic_path() -> !;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    // SAFETY: never linked into a working binary; see the module docs.
    unsafe { typed_nn_nostd_check_found_a_panic_path() }
}

/// Seed model 1, Keras `Dense(64, relu, input 784) → Dense(10, softmax)`.
type Seed1 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

/// Seed model 1 with constant weights, in flash.
static SEED1: Seed1 = (Dense::new([[0.001; 64]; 784], [0.0; 64]), Dense::new([[0.01; 10]; 64], [0.0; 10]));

/// A depthwise-separable model on the 8×8 digits: a rectangular stem, a strided depthwise
/// layer with a depth multiplier of 2, a 1×1 convolution, a rectangular average pool, no
/// biases (Keras' `use_bias=False`), as MobileNet and DS-CNN are built.
type Separable = (
    Conv2DRect<1, 4, 3, 2, Relu, 1, 1, Same, f32, NoBias>,
    DepthwiseConv2D<4, 3, Relu6, 2, Same, f32, NoBias, 2>,
    Conv2D<8, 6, 1, Identity, 1, Valid, f32, NoBias>,
    AvgPool2D<4, 2>,
    Flatten,
    Dense<12, 10, Softmax, f32, NoBias>,
);

/// The separable model with constant weights, in flash (the inputs are the digits, so its
/// kernels run on data the compiler cannot see).
static SEPARABLE: Separable = (
    Conv2D::new([[[[0.25, -0.5, 0.75, 1.0]]; 2]; 3], NoBias),
    DepthwiseConv2D::new([[[[0.5, -0.25]; 4]; 3]; 3], NoBias),
    Conv2D::new([[[[0.125, -0.125, 0.25, -0.25, 0.5, -0.5]; 8]]], NoBias),
    AvgPool2D,
    Flatten,
    Dense::new([[0.1, 0.2, 0.3, 0.4, 0.5, -0.1, -0.2, -0.3, -0.4, -0.5]; 12], NoBias),
);

/// The trained digits model, decoded at compile time from its byte image.
static DIGITS: DigitsMlp = typed_nn::model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!("../../data/digits/mlp.weights")
);

/// The int8 digits MLP of `digits_mlp.tflite`, checked against `Int8<DigitsMlp>` by `build.rs`
/// and decoded here by the compiler.
static MLP_I8: Int8<DigitsMlp> = typed_nn::int8_model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!(concat!(env!("OUT_DIR"), "/digits_mlp.int8"))
);

/// The int8 digits CNN of `digits_cnn.tflite`.
static CNN_I8: Int8<DigitsCnn> = typed_nn::int8_model_from_le_bytes!(
    (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>),
    include_bytes!(concat!(env!("OUT_DIR"), "/digits_cnn.int8"))
);

/// DS-CNN int8 of `ds_cnn.tflite` (about 23 k parameters), checked against `Int8<DsCnnTflite>` by
/// `build.rs`.
static DS_CNN_I8: Int8<DsCnnTflite> = typed_nn::int8_model_from_le_bytes!(
    (
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
    ),
    include_bytes!(concat!(env!("OUT_DIR"), "/ds_cnn.int8"))
);
/// DS-CNN's outputs on its fixture inputs: on the host (`build.rs`) and by TFLite Micro.
const DS_CNN_HOST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ds_cnn.host.bin"));
const DS_CNN_TFLM: (&[u8], &[u8]) = (
    include_bytes!("../../tests/fixtures/tflite/ds_cnn.input.bin"),
    include_bytes!("../../tests/fixtures/tflite/ds_cnn.tflm.bin"),
);

/// ResNet-8 int8 of `resnet8.tflite` (about 78 k parameters; its `ADD`s with the ReLU fused),
/// checked against `Int8<ResNet8Folded>` by `build.rs`, decoded here by the compiler through the
/// model's nested tuples and residual blocks.
static RESNET8_I8: Int8<ResNet8Folded> =
    typed_nn::int8_model_from_le_bytes!(ResNet8Folded, include_bytes!(concat!(env!("OUT_DIR"), "/resnet8.int8")));
/// ResNet-8's outputs on its 8 fixture inputs: on the host (`build.rs`) and by TFLite Micro.
const RESNET8_HOST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/resnet8.host.bin"));
const RESNET8_TFLM: (&[u8], &[u8]) = (
    include_bytes!("../../tests/fixtures/tflite/resnet8.input.bin"),
    include_bytes!("../../tests/fixtures/tflite/resnet8.tflm.bin"),
);

/// Runs an int8 model on the `count` inputs of its TFLite Micro fixture; prints and returns
/// whether every output equals the host's and TFLite Micro's.
fn run_tflm_fixture<M, X, const N: usize>(
    name: &[u8],
    model: &M,
    host: &[u8],
    (inputs, tflm): (&[u8], &[u8]),
    count: usize,
) -> bool
where
    M: QLayer<X, Out = QVector<N>>,
    X: Int8Tensor,
{
    let (mut same_as_host, mut exact, mut total) = (0usize, 0usize, 0usize);
    for ((x, want), host) in inputs.chunks_exact(X::LEN).zip(tflm.chunks_exact(N)).zip(host.chunks_exact(N)) {
        let mut q = X::default();
        for (d, &b) in q.as_mut_slice().iter_mut().zip(x) {
            *d = b as i8;
        }
        let y: QVector<N> = model.forward(&q);
        exact += usize::from(y.as_slice().iter().zip(want).all(|(&a, &b)| a == b as i8));
        same_as_host += usize::from(y.as_slice().iter().zip(host).all(|(&a, &b)| a == b as i8));
        total += 1;
    }
    out(name);
    out(b": ");
    out_number(same_as_host);
    out(b"/");
    out_number(total);
    out(b" outputs equal to the host's, bit-exact with TFLite Micro: ");
    out_number(exact);
    out(b"/");
    out_number(total);
    out(b"\n");
    total == count && same_as_host == total && exact == total
}

/// What the host computed for each int8 model on the test digits (`build.rs`), 10 bytes each.
const MLP_HOST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/digits_mlp.host.bin"));
const CNN_HOST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/digits_cnn.host.bin"));

/// The fixture inputs and TFLite Micro's outputs for them (`scripts/tflite_int8_fixtures.py`).
const MLP_TFLM: (&[u8], &[u8]) = (
    include_bytes!("../../tests/fixtures/tflite/digits_mlp.input.bin"),
    include_bytes!("../../tests/fixtures/tflite/digits_mlp.tflm.bin"),
);
const CNN_TFLM: (&[u8], &[u8]) = (
    include_bytes!("../../tests/fixtures/tflite/digits_cnn.input.bin"),
    include_bytes!("../../tests/fixtures/tflite/digits_cnn.tflm.bin"),
);

/// A Keras model's weights as byte images (`build.rs` loaded them by name into the model's type
/// and folded them), four inputs, and Keras' outputs for each.
struct KerasFixture {
    weights: &'static [u8],
    folded: &'static [u8],
    x: &'static [u8],
    keras: &'static [u8],
}

/// `KerasFixture` of the model `$m` from `OUT_DIR`.
macro_rules! keras_fixture {
    ($m:literal) => {
        KerasFixture {
            weights: include_bytes!(concat!(env!("OUT_DIR"), "/", $m, ".weights")),
            folded: include_bytes!(concat!(env!("OUT_DIR"), "/", $m, "_folded.weights")),
            x: include_bytes!(concat!(env!("OUT_DIR"), "/", $m, ".x.bin")),
            keras: include_bytes!(concat!(env!("OUT_DIR"), "/", $m, ".keras.bin")),
        }
    };
}

/// ResNet-8: four 32×32×3 images, ten probabilities each.
const RESNET8: KerasFixture = keras_fixture!("resnet8");
/// DS-CNN: four 49×10×1 MFCC frames, twelve probabilities each.
const DS_CNN: KerasFixture = keras_fixture!("ds_cnn");

const IMAGES: &[u8] = include_bytes!("../../data/digits/images.bin");
const LABELS: &[u8] = include_bytes!("../../data/digits/labels.bin");
const TEST: &[u8] = include_bytes!("../../data/digits/test.txt");

/// Writes bytes to standard output.
fn out(bytes: &[u8]) {
    // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes for the duration of the call.
    let _ = unsafe { write(1, bytes.as_ptr(), bytes.len()) };
}

/// Writes a decimal number (core::fmt is avoided: its float code keeps panic paths).
fn out_number(mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out(digits.get(i..).unwrap_or_default());
}

/// The test split's indices, parsed from `test.txt` (one per line, `#` comments).
fn test_indices(mut visit: impl FnMut(usize)) {
    for line in TEST.split(|&b| b == b'\n') {
        if line.first() == Some(&b'#') || line.is_empty() {
            continue;
        }
        let mut n = 0usize;
        for &b in line {
            n = n * 10 + usize::from(b.wrapping_sub(b'0'));
        }
        visit(n);
    }
}

/// An int8 tensor of the model's input type from 64 digit pixels (0..=16), quantized with the
/// model's input scale and zero point, as a sensor reading would be.
fn quantized<X: Int8Tensor>(pixels: &[u8], params: QuantParams) -> X {
    let mut x = X::default();
    for (q, &p) in x.as_mut_slice().iter_mut().zip(pixels) {
        *q = params.quantize(f32::from(p) / 16.0);
    }
    x
}

/// The index of the largest byte of a 10-byte output (the first on ties), as `QVector::argmax`.
fn argmax(y: &[i8]) -> usize {
    let mut best = 0;
    for (i, &v) in y.iter().enumerate() {
        if y.get(best).is_some_and(|&b| v > b) {
            best = i;
        }
    }
    best
}

/// Runs an int8 model on the test digits and on the TFLite Micro fixture; prints and returns
/// whether it matched the host byte for byte (hence with the host's accuracy) and TFLite Micro.
fn run_int8<M, X>(name: &[u8], model: &M, host: &[u8], (inputs, tflm): (&[u8], &[u8])) -> bool
where
    M: QLayer<X, Out = QVector<10>>,
    X: Int8Tensor,
{
    let (mut correct, mut host_correct, mut same_as_host, mut total) = (0usize, 0usize, 0usize, 0usize);
    test_indices(|i| {
        let (Some(pixels), Some(&label), Some(host)) =
            (IMAGES.get(i * 64..i * 64 + 64), LABELS.get(i), host.get(total * 10..total * 10 + 10))
        else {
            return;
        };
        let y: QVector<10> = model.forward(&quantized::<X>(pixels, model.input_params()));
        let host: [i8; 10] = core::array::from_fn(|k| host.get(k).map_or(0, |&b| b as i8));
        correct += usize::from(y.argmax() == usize::from(label));
        host_correct += usize::from(argmax(&host) == usize::from(label));
        same_as_host += usize::from(y.as_array() == &host);
        total += 1;
    });
    let (mut exact, mut fixtures) = (0usize, 0usize);
    for (x, want) in inputs.chunks_exact(X::LEN).zip(tflm.chunks_exact(10)) {
        let mut q = X::default();
        for (d, &b) in q.as_mut_slice().iter_mut().zip(x) {
            *d = b as i8;
        }
        let y: QVector<10> = model.forward(&q);
        exact += usize::from(y.as_slice().iter().zip(want).all(|(&a, &b)| a == b as i8));
        fixtures += 1;
    }
    out(name);
    out(b": ");
    out_number(correct);
    out(b"/");
    out_number(total);
    out(b" test images right (host: ");
    out_number(host_correct);
    out(b"/");
    out_number(total);
    out(b"), ");
    out_number(same_as_host);
    out(b"/");
    out_number(total);
    out(b" outputs equal to the host's, bit-exact with TFLite Micro: ");
    out_number(exact);
    out(b"/");
    out_number(fixtures);
    out(b"\n");
    total == 360 && same_as_host == total && correct == host_correct && fixtures == 360 && exact == fixtures
}

/// Little-endian `f32`s from bytes, into `dst`.
fn read_f32s(dst: &mut [f32], bytes: &[u8]) {
    for (d, b) in dst.iter_mut().zip(bytes.chunks_exact(4)) {
        *d = f32::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
            b.get(2).copied().unwrap_or(0),
            b.get(3).copied().unwrap_or(0),
        ]);
    }
}

/// One classification, the single-sample forward pass: a function of its own, so that
/// `-Z emit-stack-sizes` reports its stack (README, "known memory").
#[inline(never)]
fn classify<M: Layer<X, Out = Vector<N>>, X: Tensor<Elem = f32>, const N: usize>(model: &M, x: &X) -> Vector<N> {
    model.forward(x)
}

/// Reads a model (`M`: unfolded or folded) from its byte image into a value on the stack (the
/// run-time decoder, without a heap; the firmware bakes the same models into flash with
/// `model_from_le_bytes!` instead), runs the four fixture inputs and prints how many outputs are within 1e-5 of Keras'.
#[inline(never)]
fn run_keras_model<M, X, const N: usize>(name: &[u8], weights: &[u8], fixture: &KerasFixture) -> bool
where
    M: Layer<X, Out = Vector<N>> + ParamBytes<f32> + Default,
    X: Tensor<Elem = f32>,
{
    let mut model = M::default();
    let loaded = model.read_le_bytes(weights).is_ok();
    let (mut close, mut total) = (0usize, 0usize);
    for (x, keras) in fixture.x.chunks_exact(X::LEN * 4).zip(fixture.keras.chunks_exact(N * 4)) {
        let mut input = X::default();
        read_f32s(input.as_mut_slice(), x);
        let mut want = [0.0f32; N];
        read_f32s(&mut want, keras);
        let y = classify(&model, &input);
        for (&a, &b) in y.iter().zip(&want) {
            close += usize::from((a - b).abs() <= 1e-5 + 1e-5 * b.abs());
            total += 1;
        }
    }
    out(name);
    out(b": ");
    out_number(close);
    out(b"/");
    out_number(total);
    out(b" probabilities within 1e-5 of Keras'; ");
    out_number(<M as Params<f32>>::PARAM_BYTES);
    out(b" bytes of parameters, ");
    out_number(<M as Layer<X>>::ACTIVATION_BYTES);
    out(b" bytes of activations per forward, at most ");
    out_number(<M as Layer<X>>::PEAK_ACTIVATION_BYTES);
    out(b" alive at once\n");
    loaded && total == 4 * N && close == total
}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    // Seed model 1: constant weights give equal logits, so a uniform distribution.
    let y: Vector<10> = SEED1.forward(&Vector::new([0.5; 784]));
    let uniform = y.iter().all(|&p| (p - 0.1).abs() < 1e-6);
    out(b"seed model 1: ");
    out(if uniform { b"uniform output as expected\n" } else { b"WRONG output\n" });

    // The digits model on the 360 test images.
    let (mut correct, mut total) = (0usize, 0usize);
    test_indices(|i| {
        let (Some(pixels), Some(&label)) = (IMAGES.get(i * 64..i * 64 + 64), LABELS.get(i)) else { return };
        let x: Vector<64> = Vector::from_fn(|k| f32::from(pixels.get(k).copied().unwrap_or(0)) / 16.0);
        let y: Vector<10> = DIGITS.forward(&x);
        correct += usize::from(y.argmax() == usize::from(label));
        total += 1;
    });
    out(b"digits model: ");
    out_number(correct);
    out(b"/");
    out_number(total);
    out(b" test images classified correctly\n");

    // The separable model on the same images: every output a probability distribution.
    let mut separable_ok = true;
    test_indices(|i| {
        let Some(pixels) = IMAGES.get(i * 64..i * 64 + 64) else { return };
        let x: Image<8, 8, 1> = core::array::from_fn(|y| {
            core::array::from_fn(|x| [f32::from(pixels.get(y * 8 + x).copied().unwrap_or(0)) / 16.0])
        })
        .into();
        let p: Vector<10> = SEPARABLE.forward(&x);
        let sum: f32 = p.iter().sum();
        separable_ok &= p.iter().all(|v| v.is_finite()) && (sum - 1.0).abs() < 1e-5;
    });
    out(b"depthwise-separable model: ");
    out(if separable_ok { b"a distribution for every test image\n" } else { b"WRONG output\n" });
    out(b"parameters: seed 1 ");
    out_number(<Seed1 as Params<f32>>::PARAM_BYTES);
    out(b" bytes, digits ");
    out_number(<DigitsMlp as Params<f32>>::PARAM_BYTES);
    out(b" bytes; activations per forward: seed 1 ");
    out_number(<Seed1 as Layer<Vector<784>>>::ACTIVATION_BYTES);
    out(b" bytes, digits ");
    out_number(<DigitsMlp as Layer<Vector<64>>>::ACTIVATION_BYTES);
    out(b" bytes\n");

    // int8 models imported from .tflite files, baked in at compile time.
    let mlp_ok = run_int8::<_, QVector<64>>(b"int8 digits MLP", &MLP_I8, MLP_HOST, MLP_TFLM);
    let cnn_ok = run_int8::<_, QImage<8, 8, 1>>(b"int8 digits CNN", &CNN_I8, CNN_HOST, CNN_TFLM);
    out(b"int8 parameters: digits MLP ");
    out_number(<Int8<DigitsMlp> as QLayer<QVector<64>>>::PARAM_BYTES);
    out(b" bytes, digits CNN ");
    out_number(<Int8<DigitsCnn> as QLayer<QImage<8, 8, 1>>>::PARAM_BYTES);
    out(b" bytes; activations per forward: digits MLP ");
    out_number(<Int8<DigitsMlp> as QLayer<QVector<64>>>::ACTIVATION_BYTES);
    out(b" bytes, digits CNN ");
    out_number(<Int8<DigitsCnn> as QLayer<QImage<8, 8, 1>>>::ACTIVATION_BYTES);
    out(b" bytes\n");
    let ds_cnn_ok =
        run_tflm_fixture::<_, QImage<49, 10, 1>, 12>(b"int8 DS-CNN", &DS_CNN_I8, DS_CNN_HOST, DS_CNN_TFLM, 64);
    out(b"DS-CNN parameters: f32 ");
    out_number(<DsCnnTflite as Params<f32>>::PARAM_BYTES);
    out(b" bytes, int8 ");
    out_number(<Int8<DsCnnTflite> as QLayer<QImage<49, 10, 1>>>::PARAM_BYTES);
    out(b" bytes; activations per forward: f32 ");
    out_number(<DsCnnTflite as Layer<Image<49, 10, 1>>>::ACTIVATION_BYTES);
    out(b" bytes, int8 ");
    out_number(<Int8<DsCnnTflite> as QLayer<QImage<49, 10, 1>>>::ACTIVATION_BYTES);
    out(b" bytes\n");

    let resnet8_i8_ok =
        run_tflm_fixture::<_, QImage<32, 32, 3>, 10>(b"int8 ResNet-8", &RESNET8_I8, RESNET8_HOST, RESNET8_TFLM, 8);
    out(b"ResNet-8 parameters: f32 (BatchNorm folded) ");
    out_number(<ResNet8Folded as Params<f32>>::PARAM_BYTES);
    out(b" bytes, int8 ");
    out_number(<Int8<ResNet8Folded> as QLayer<QImage<32, 32, 3>>>::PARAM_BYTES);
    out(b" bytes; activations per forward: f32 ");
    out_number(<ResNet8Folded as Layer<Image<32, 32, 3>>>::ACTIVATION_BYTES);
    out(b" bytes, int8 ");
    out_number(<Int8<ResNet8Folded> as QLayer<QImage<32, 32, 3>>>::ACTIVATION_BYTES);
    out(b" bytes\n");

    // MLPerf Tiny's ResNet-8 and DS-CNN, Keras weights, unfolded and folded.
    type ResNetInput = Image<32, 32, 3>;
    type DsCnnInput = Image<49, 10, 1>;
    let keras_ok = [
        run_keras_model::<ResNet8, ResNetInput, 10>(b"ResNet-8", RESNET8.weights, &RESNET8),
        run_keras_model::<ResNet8Folded, ResNetInput, 10>(b"ResNet-8, BatchNorm folded", RESNET8.folded, &RESNET8),
        run_keras_model::<DsCnn, DsCnnInput, 12>(b"DS-CNN", DS_CNN.weights, &DS_CNN),
        run_keras_model::<DsCnnFolded, DsCnnInput, 12>(b"DS-CNN, BatchNorm folded", DS_CNN.folded, &DS_CNN),
    ]
    .iter()
    .all(|&ok| ok);

    // The trained model scores 351/360 (examples/05_digits.rs, seed 0).
    if uniform
        && correct == 351
        && total == 360
        && separable_ok
        && mlp_ok
        && cnn_ok
        && ds_cnn_ok
        && resnet8_i8_ok
        && keras_ok
    {
        0
    } else {
        1
    }
}
