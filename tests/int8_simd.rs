//! The int8 kernel paths (AVX-512 VNNI, AVX2, portable) give the same bytes: every fixture model,
//! run on every fixture input under each path, equals TensorFlow Lite Micro's outputs.
//!
//! The path is chosen once per process (`TYPED_NN_SIMD`), so the test runs this test binary
//! again, once per path, with only the `#[ignore]`d child test selected. On a CPU without a
//! path the choice falls back to the next one down; the child prints the path it ran.
#![cfg(feature = "tflite")]

use std::process::Command;

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Tensor, QImage, QVector};
use typed_nn::tflite::{FromTflite, TfliteImport};

type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Mlp784 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);
type DigitsCnn2 = (
    Conv2D<1, 8, 3, Relu6, 1, Same>,
    AvgPool2D<2>,
    Conv2D<8, 16, 3, Relu, 2, Same>,
    GlobalAvgPool2D,
    Dense<16, 10, Softmax>,
);

/// DS-CNN as the converter leaves it (tests/tflite_int8.rs): rectangular stem, depthwise
/// layers (the channel-vectorised kernel) and 1×1 convolutions (the packed kernel).
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
    let path = format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Samples whose outputs equal TFLite Micro's, out of all.
fn equal_to_tflm<M, X>(name: &str) -> (usize, usize)
where
    M: TfliteImport<X>,
    X: Int8Tensor,
    M::Out: Int8Tensor,
{
    let model = M::from_tflite::<X>(&fixture(&format!("{name}.tflite"))).unwrap();
    let inputs: Vec<i8> = fixture(&format!("{name}.input.bin")).iter().map(|&b| b as i8).collect();
    let tflm: Vec<i8> = fixture(&format!("{name}.tflm.bin")).iter().map(|&b| b as i8).collect();
    let out = M::Out::LEN;
    let mut same = 0;
    let samples = inputs.len() / X::LEN;
    for (x, want) in inputs.chunks_exact(X::LEN).zip(tflm.chunks_exact(out)) {
        let y = model.forward(&X::from_slice(x).unwrap());
        same += usize::from(y.as_slice() == want);
    }
    (same, samples)
}

/// Run by the test below in a child process, under one `TYPED_NN_SIMD` setting.
#[test]
#[ignore = "run by every_kernel_path_equals_tflite_micro, once per path"]
fn child_fixture_models_equal_tflite_micro() {
    println!("int8 path: {}", typed_nn::quant::simd());
    for (name, (same, n)) in [
        ("digits_mlp", equal_to_tflm::<Int8<DigitsMlp>, QVector<64>>("digits_mlp")),
        ("mlp784", equal_to_tflm::<Int8<Mlp784>, QVector<784>>("mlp784")),
        ("digits_cnn", equal_to_tflm::<Int8<DigitsCnn>, QImage<8, 8, 1>>("digits_cnn")),
        ("digits_cnn2", equal_to_tflm::<Int8<DigitsCnn2>, QImage<8, 8, 1>>("digits_cnn2")),
        ("ds_cnn", equal_to_tflm::<Int8<DsCnn>, QImage<49, 10, 1>>("ds_cnn")),
    ] {
        assert_eq!(same, n, "{name}: outputs equal to TFLite Micro's");
        assert!(n >= 64, "{name}: {n} samples");
    }
}

#[test]
fn every_kernel_path_equals_tflite_micro() {
    let exe = std::env::current_exe().unwrap();
    let mut ran = Vec::new();
    for path in ["avx512", "avx2", "portable"] {
        let out = Command::new(&exe)
            .args(["--ignored", "--exact", "child_fixture_models_equal_tflite_micro", "--nocapture"])
            .env("TYPED_NN_SIMD", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "TYPED_NN_SIMD={path}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout.lines().find(|l| l.starts_with("int8 path: ")).unwrap_or("int8 path: ?").to_string();
        println!("TYPED_NN_SIMD={path}: {line}, all fixture outputs equal to TFLite Micro's");
        ran.push(line);
    }
    // `portable` is always honoured; the SIMD choices run where the CPU has them.
    assert_eq!(ran.last().map(String::as_str), Some("int8 path: portable"));
}
