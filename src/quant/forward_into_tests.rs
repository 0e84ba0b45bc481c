//! `QLayer::forward_into` is what an int8 tuple runs: every built-in int8 layer's must write
//! every output byte, whatever `out` held, with `forward`'s bytes, on every kernel path. Each
//! layer below is run into an `out` filled with one sentinel, then another: a byte the layer
//! skipped (or added to) shows in at least one of the two runs. The shapes take each dispatch
//! branch of the convolutions (the VNNI matrix products direct, in chunks of 128, 32 and 16
//! pixels, and padded; the packed kernel; the portable loops) and of the depthwise layer.

use rand_core::Rng;

use super::conv::{ConvActivation, QConv2D, QPadding};
use super::dense::QDense;
use super::depthwise::QDepthwiseConv2D;
use super::flatten::QFlatten;
use super::layer::{QActivation, QLayer};
use super::pool::{QAvgPool2D, QGlobalAvgPool2D, QMaxPool2D};
use super::residual::{QResidual, QSkip};
use super::tensor::{Int8Tensor, QImage, QVector, QuantParams};
use crate::activation::{Identity, Relu, Relu6, Softmax};
use crate::init::SeedRng;
use crate::layer::{Same, Valid};
use crate::seal::Seal;

const INPUT: QuantParams = QuantParams { scale: 0.5, zero_point: -7 };
const OUTPUT: QuantParams = QuantParams { scale: 1.0, zero_point: 3 };

fn fill(seed: u64, values: &mut [i8]) {
    let mut rng = SeedRng::seed(seed);
    values.iter_mut().for_each(|v| *v = (rng.next_u32() & 0xff) as u8 as i8);
}

fn random<X: Int8Tensor>(seed: u64) -> X {
    let mut x = X::default();
    fill(seed, x.as_mut_slice());
    x
}

/// Weights from `seed`: with `narrow`, none is −128 (the SIMD kernels' condition), otherwise
/// the first is (the portable path).
fn weights(seed: u64, w: &mut [i8], narrow: bool) {
    fill(seed, w);
    if narrow {
        w.iter_mut().for_each(|v| *v = (*v).max(-127));
    } else if let Some(first) = w.first_mut() {
        *first = -128;
    }
}

/// Per-output scales that leave most sums of `fan_in` products unclamped (as in the
/// convolution's own tests).
fn scales<const N: usize>(fan_in: usize) -> [f32; N] {
    core::array::from_fn(|o| (0.03 + 0.002 * o as f32) / (fan_in as f32).sqrt())
}

fn conv<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, const KW: usize, const SW: usize>(
    seed: u64,
    narrow: bool,
) -> QConv2D<CI, CO, K, A, S, P, KW, SW>
where
    A: ConvActivation,
    P: QPadding,
{
    let mut kernel = [[[[0i8; CI]; KW]; K]; CO];
    weights(seed, kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut(), narrow);
    let bias = core::array::from_fn(|o| (o as i32 - 8) * 611);
    QConv2D::new(kernel, bias, scales(K * KW * CI), INPUT, OUTPUT)
}

fn depthwise<const C: usize, const K: usize, A, const S: usize, P, const M: usize, const KW: usize, const SW: usize>(
    seed: u64,
) -> QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
where
    A: ConvActivation,
    P: QPadding,
{
    let mut kernel = [[[[0i8; M]; C]; KW]; K];
    weights(seed, kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut(), true);
    let bias = core::array::from_fn(|c| [(c as i32 - 8) * 97; M]);
    let scales: [f32; C] = scales(K * KW);
    QDepthwiseConv2D::new(kernel, bias, scales.map(|s| [s; M]), INPUT, OUTPUT)
}

fn dense<const IN: usize, const OUT: usize, A: QActivation>(seed: u64) -> QDense<IN, OUT, A> {
    let mut kernel = [[0i8; IN]; OUT];
    weights(seed, kernel.as_flattened_mut(), true);
    let bias = core::array::from_fn(|o| (o as i32 - 4) * 311);
    let output = QuantParams { scale: 0.25, zero_point: -5 };
    QDense::new(kernel, bias, scales(IN), INPUT, output, 1.0)
}

/// `forward_into` against `forward`, byte for byte, with `out` starting as each of two sentinels.
fn into_matches_forward<X: Int8Tensor, L: QLayer<X>>(name: &str, layer: &L, x: &X) {
    let expected = layer.forward(x);
    let expected = expected.as_slice();
    // Outputs that all equal one value would hide a skipped byte equal to it.
    assert!(expected.iter().any(|v| Some(v) != expected.first()), "{name}: every output is the same");
    for sentinel in [0x55, -0x56] {
        let mut out = L::Out::default();
        out.as_mut_slice().fill(sentinel);
        layer.forward_into(Seal, x, &mut out);
        assert_eq!(out.as_slice(), expected, "{name}, out starting as {sentinel}, path {}", crate::quant::simd());
    }
}

fn every_layer_writes_every_output() {
    let x3: QImage<8, 8, 3> = random(1);
    let x4: QImage<12, 12, 4> = random(2);
    let x16: QImage<9, 9, 16> = random(3);
    let x32: QImage<7, 7, 32> = random(4);
    let x64: QImage<6, 5, 64> = random(5);
    // 1×1, stride 1, 64 filters: the direct matrix product (30 pixels).
    into_matches_forward("conv 1x1", &conv::<64, 64, 1, Relu, 1, Same, 1, 1>(6, true), &x64);
    // 36 values per receptive field: 128 pixels per call, 144 pixels (a partial second chunk).
    into_matches_forward("conv 3x3x4", &conv::<4, 16, 3, Relu6, 1, Same, 3, 1>(7, true), &x4);
    // 144 values: 32 pixels per call, 81 pixels; with stride 2, 25.
    into_matches_forward("conv 3x3x16", &conv::<16, 16, 3, Relu, 1, Same, 3, 1>(8, true), &x16);
    into_matches_forward("conv 3x3x16 s2", &conv::<16, 32, 3, Identity, 2, Same, 3, 2>(9, true), &x16);
    // 288 values: 16 pixels per call.
    into_matches_forward("conv 3x3x32", &conv::<32, 32, 3, Relu, 1, Same, 3, 1>(10, true), &x32);
    // 27 values: the receptive field padded to 28 (ResNet-8's stem).
    into_matches_forward("conv stem", &conv::<3, 16, 3, Relu, 1, Same, 3, 1>(11, true), &x3);
    // 8 filters: the packed kernel on the SIMD paths; with a −128 weight, the portable loop.
    into_matches_forward("conv 8 filters", &conv::<16, 8, 3, Relu, 1, Valid, 3, 1>(12, true), &x16);
    into_matches_forward("conv -128", &conv::<16, 16, 3, Relu, 1, Same, 3, 1>(13, false), &x16);
    // 5 filters of 27 values: the unrolled fixed-length dot product.
    into_matches_forward("conv 5 filters", &conv::<3, 5, 3, Identity, 2, Same, 3, 2>(14, true), &x3);
    // Depthwise: 64 channels (VNNI), 16 (the taps kernel), multiplier 2 (the portable loop).
    into_matches_forward("depthwise 64", &depthwise::<64, 3, Relu, 1, Same, 1, 3, 1>(15), &x64);
    into_matches_forward("depthwise 16", &depthwise::<16, 3, Relu6, 2, Same, 1, 3, 2>(16), &x16);
    into_matches_forward("depthwise M=2", &depthwise::<3, 3, Identity, 2, Same, 2, 2, 1>(17), &x3);
    // Dense, with and without its softmax; after a Flatten.
    let v: QVector<48> = random(18);
    into_matches_forward("dense", &dense::<48, 10, Relu>(19), &v);
    into_matches_forward("dense softmax", &dense::<48, 10, Softmax>(20), &v);
    into_matches_forward("dense after flatten", &dense::<192, 7, Identity>(21), &random::<super::QFlat<8, 8, 3>>(22));
    // Pools, Flatten, the identity shortcut.
    into_matches_forward("max pool", &QMaxPool2D::<2> { params: INPUT }, &x16);
    into_matches_forward("avg pool", &QAvgPool2D::<3, 2> { params: INPUT }, &x16);
    into_matches_forward("global avg pool", &QGlobalAvgPool2D::new(INPUT, OUTPUT), &x16);
    into_matches_forward("global avg pool (same params)", &QGlobalAvgPool2D::new(INPUT, INPUT), &x16);
    into_matches_forward("flatten", &QFlatten { params: INPUT }, &x16);
    into_matches_forward("skip", &QSkip { params: INPUT }, &x16);
    // Residual blocks, identity and projection shortcuts.
    let add = (QuantParams { scale: 0.4, zero_point: 2 }, QuantParams { scale: 0.6, zero_point: -3 });
    let block = QResidual::<_, _, Relu>::new(
        (conv::<16, 16, 3, Relu, 1, Same, 3, 1>(23, true), conv::<16, 16, 3, Identity, 1, Same, 3, 1>(24, true)),
        QSkip { params: INPUT },
        INPUT,
        OUTPUT,
        add.0,
    );
    into_matches_forward("residual", &block, &x16);
    let projected = QResidual::<_, _, Identity>::new(
        conv::<16, 32, 3, Relu, 2, Same, 3, 2>(25, true),
        conv::<16, 32, 1, Identity, 2, Same, 1, 2>(26, true),
        OUTPUT,
        OUTPUT,
        add.1,
    );
    into_matches_forward("projected residual", &projected, &x16);
    // Tuples: every layer's output where the next reads it, the last one's in `out`.
    let model = (
        conv::<3, 16, 3, Relu, 1, Same, 3, 1>(27, true),
        depthwise::<16, 3, Relu, 1, Same, 1, 3, 1>(28),
        QMaxPool2D::<2> { params: OUTPUT },
        QFlatten { params: OUTPUT },
        dense::<256, 10, Softmax>(29),
    );
    into_matches_forward("tuple", &model, &x3);
    into_matches_forward("1-tuple", &(dense::<48, 10, Relu>(30),), &v);
}

#[test]
fn every_int8_layer_writes_every_output() {
    every_layer_writes_every_output();
}

/// Run by the test below in a child process, under one `TYPED_NN_SIMD` setting.
#[test]
#[ignore = "run by every_int8_layer_writes_every_output_on_every_path, once per path"]
fn child_every_int8_layer_writes_every_output() {
    std::println!("int8 path: {}", crate::quant::simd());
    every_layer_writes_every_output();
}

/// The kernel path is chosen once per process: the test binary again, once per path.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[test]
fn every_int8_layer_writes_every_output_on_every_path() {
    let exe = std::env::current_exe().unwrap();
    for path in ["avx512", "avx2", "portable"] {
        let out = std::process::Command::new(&exe)
            .args(["--ignored", "--exact", "--nocapture"])
            .arg("quant::forward_into_tests::child_every_int8_layer_writes_every_output")
            .env("TYPED_NN_SIMD", path)
            .output()
            .unwrap();
        let stdout = std::string::String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "TYPED_NN_SIMD={path}:\n{stdout}\n{}",
            std::string::String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "TYPED_NN_SIMD={path}: the child test did not run:\n{stdout}");
        let line = stdout.lines().find(|l| l.starts_with("int8 path:")).unwrap_or("int8 path: ?");
        std::println!("TYPED_NN_SIMD={path}: {line}");
    }
}
