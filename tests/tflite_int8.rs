//! int8 models loaded from `.tflite` files reproduce TensorFlow Lite for Microcontrollers
//! byte for byte, and LiteRT's reference kernels within one int8 step.
//!
//! The files, their inputs and both interpreters' outputs are written by
//! `scripts/tflite_int8_fixtures.py` (tests/fixtures/tflite/README.md).
#![cfg(feature = "tflite")]

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Tensor, QImage, QVector};
use typed_nn::tflite::FromTflite;

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

/// DS-CNN (keyword spotting) as TensorFlow's converter leaves it: each BatchNormalization
/// folded into the convolution before it and each ReLU fused into its output range, the
/// dropout gone (`scripts/tflite_ds_cnn_fixtures.py`).
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

fn as_i8(bytes: &[u8]) -> Vec<i8> {
    bytes.iter().map(|&b| b as i8).collect()
}

/// What one model did on its fixture inputs.
struct Report {
    samples: usize,
    equal_to_tflm: usize,
    max_step_from_litert: i32,
    correct: usize,
}

fn run<M, X>(name: &str) -> Report
where
    M: typed_nn::tflite::TfliteImport<X>,
    X: Int8Tensor,
    M::Out: Int8Tensor,
{
    let model = M::from_tflite::<X>(&fixture(&format!("{name}.tflite"))).unwrap_or_else(|e| panic!("{name}: {e}"));
    let inputs = as_i8(&fixture(&format!("{name}.input.bin")));
    let tflm = as_i8(&fixture(&format!("{name}.tflm.bin")));
    let litert = as_i8(&fixture(&format!("{name}.litert_ref.bin")));
    let labels = fixture(&format!("{name}.labels.bin"));
    let out_len = M::Out::LEN;
    assert_eq!(inputs.len(), labels.len() * X::LEN, "{name}: input file length");
    assert_eq!(tflm.len(), labels.len() * out_len, "{name}: TFLM output file length");
    let mut report = Report { samples: 0, equal_to_tflm: 0, max_step_from_litert: 0, correct: 0 };
    for (i, &label) in labels.iter().enumerate() {
        let x = X::from_slice(&inputs[i * X::LEN..(i + 1) * X::LEN]).unwrap();
        let y = model.forward(&x);
        let y = y.as_slice();
        let want = &tflm[i * out_len..(i + 1) * out_len];
        report.samples += 1;
        report.equal_to_tflm += usize::from(y == want);
        for (a, b) in y.iter().zip(&litert[i * out_len..(i + 1) * out_len]) {
            report.max_step_from_litert = report.max_step_from_litert.max((i32::from(*a) - i32::from(*b)).abs());
        }
        let argmax = (0..out_len).fold(0, |best, k| if y[k] > y[best] { k } else { best });
        report.correct += usize::from(argmax == usize::from(label));
    }
    report
}

fn assert_bit_exact(name: &str, r: &Report) {
    assert_eq!(r.equal_to_tflm, r.samples, "{name}: outputs equal to TFLite Micro's");
    assert!(r.max_step_from_litert <= 1, "{name}: {} steps from LiteRT's reference kernels", r.max_step_from_litert);
}

#[test]
fn digits_mlp_equals_tflite_micro_on_every_test_digit() {
    let r = run::<Int8<DigitsMlp>, QVector<64>>("digits_mlp");
    assert_eq!(r.samples, 360);
    assert_bit_exact("digits_mlp", &r);
    // TFLite Micro's int8 accuracy on these digits (summary.json): 349/360.
    assert_eq!(r.correct, 349);
}

#[test]
fn mlp_784_64_10_equals_tflite_micro() {
    let r = run::<Int8<Mlp784>, QVector<784>>("mlp784");
    assert_eq!(r.samples, 100);
    assert_bit_exact("mlp784", &r);
    assert_eq!(r.correct, 99);
}

#[test]
fn digits_cnn_equals_tflite_micro_on_every_test_digit() {
    let r = run::<Int8<DigitsCnn>, QImage<8, 8, 1>>("digits_cnn");
    assert_bit_exact("digits_cnn", &r);
    assert_eq!(r.correct, 347);
}

#[test]
fn digits_cnn_with_same_padding_stride_relu6_avgpool_and_mean_equals_tflite_micro() {
    let r = run::<Int8<DigitsCnn2>, QImage<8, 8, 1>>("digits_cnn2");
    assert_bit_exact("digits_cnn2", &r);
    assert_eq!(r.correct, 345);
}

#[test]
fn ds_cnn_with_rectangular_stem_depthwise_and_rectangular_pool_equals_tflite_micro() {
    let r = run::<Int8<DsCnn>, QImage<49, 10, 1>>("ds_cnn");
    assert_eq!(r.samples, 64);
    assert_bit_exact("ds_cnn", &r);
}
