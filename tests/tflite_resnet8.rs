//! ResNet-8 in int8: the float model type, folded (`Folded<ResNet8>`), has an int8 form
//! (`Int8<ResNet8Folded>`: each `ActivationLayer<Relu>` fused into the convolution or residual
//! `ADD` before it) that loads TensorFlow's converted file and reproduces TensorFlow Lite for
//! Microcontrollers byte for byte, on every int8 kernel path; its residual `ADD`s reproduce
//! LiteRT's reference kernels inside the model.
//!
//! Fixtures: `scripts/tflite_resnet8_fixtures.py` (tests/fixtures/tflite/README.md), from the
//! weights of tests/fixtures/keras_resnet8.safetensors.
#![cfg(feature = "tflite")]

mod common;

#[allow(dead_code)]
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

use std::process::Command;

use common::with_stack;
use resnet8::ResNet8Folded;
use typed_nn::prelude::*;
use typed_nn::quant::{self, Int8, Int8Bytes, Int8ImageError, Int8Tensor, QImage, QLayer, QResidual, QSkip};
use typed_nn::tflite::FromTflite;

type ResNet8I8 = Int8<ResNet8Folded>;

/// Debug-build single-sample passes hold a few hundred KB on the stack.
const STACK: usize = 64 << 20;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn as_i8(bytes: &[u8]) -> Vec<i8> {
    bytes.iter().map(|&b| b as i8).collect()
}

fn load() -> Box<ResNet8I8> {
    Box::new(ResNet8I8::from_tflite::<QImage<32, 32, 3>>(&fixture("resnet8.tflite")).unwrap())
}

fn inputs() -> Vec<QImage<32, 32, 3>> {
    fixture("resnet8.input.bin").chunks_exact(3072).map(|x| QImage::from_slice(&as_i8(x)).unwrap()).collect()
}

#[test]
fn the_int8_type_of_folded_resnet8_fuses_every_relu() {
    // Stem: Conv2D + ReLU is one int8 layer; each stack (Residual, ActivationLayer<Relu>) is
    // one block whose ADD has the ReLU fused.
    type Stem = quant::QConv2D<3, 16, 3, Relu, 1, Same>;
    type Branch<const C: usize, const F: usize, const S: usize> =
        (quant::QConv2D<C, F, 3, Relu, S, Same>, quant::QConv2D<F, F, 3, Identity, 1, Same>);
    type Proj<const C: usize, const F: usize> = quant::QConv2D<C, F, 1, Identity, 2, Same>;
    type Expected = (
        Stem,
        (QResidual<Branch<16, 16, 1>, QSkip, Relu>,),
        (QResidual<Branch<16, 32, 2>, Proj<16, 32>, Relu>,),
        (QResidual<Branch<32, 64, 2>, Proj<32, 64>, Relu>,),
        quant::QAvgPool2D<8>,
        quant::QFlatten,
        quant::QDense<64, 10, Softmax>,
    );
    let same: fn(ResNet8I8) -> Expected = |m| m;
    let _ = same;
    // 78,186 trainable float parameters less the BatchNormalizations' γ and β (folded away):
    // int8 weights, 16 bytes per output channel (bias, folded bias, multiplier and shift), and
    // the three ADDs' 48 bytes.
    let weights = 3 * 3 * 3 * 16
        + 2 * 3 * 3 * 16 * 16
        + (3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 16 * 32)
        + (3 * 3 * 32 * 64 + 3 * 3 * 64 * 64 + 32 * 64)
        + 64 * 10;
    let channels = 16 + 2 * 16 + 3 * 32 + 3 * 64 + 10;
    assert_eq!(<ResNet8I8 as QLayer<QImage<32, 32, 3>>>::PARAM_BYTES, weights + 16 * channels + 3 * 48);
    // A little over a quarter of the folded f32 model's 310,824 bytes: the 16 bytes per output
    // channel next to few weights in the early layers.
    assert_eq!(<ResNet8Folded as Params<f32>>::PARAM_BYTES, 310_824);
    assert_eq!(<ResNet8I8 as QLayer<QImage<32, 32, 3>>>::PARAM_BYTES, 83_040);
}

#[test]
fn resnet8_equals_tflite_micro_on_every_sample() {
    with_stack(STACK, || {
        let model = load();
        let tflm = as_i8(&fixture("resnet8.tflm.bin"));
        let litert = as_i8(&fixture("resnet8.litert_ref.bin"));
        let xs = inputs();
        assert_eq!(xs.len(), 8);
        for (i, x) in xs.iter().enumerate() {
            let y = model.forward(x);
            assert_eq!(y.as_slice(), &tflm[i * 10..(i + 1) * 10], "sample {i}");
            for (a, b) in y.as_slice().iter().zip(&litert[i * 10..(i + 1) * 10]) {
                assert!((i32::from(*a) - i32::from(*b)).abs() <= 1, "sample {i}: {a} vs LiteRT's {b}");
            }
        }
    });
}

#[test]
fn every_residual_add_equals_litert_inside_the_model() {
    with_stack(STACK, || {
        let model = load();
        let adds = as_i8(&fixture("resnet8.adds.bin"));
        let per_sample = 32 * 32 * 16 + 16 * 16 * 32 + 8 * 8 * 64;
        assert_eq!(adds.len(), 2 * per_sample);
        for (i, x) in inputs().iter().take(2).enumerate() {
            let want = &adds[i * per_sample..(i + 1) * per_sample];
            let a1 = model.1.forward(&model.0.forward(x));
            let a2 = model.2.forward(&a1);
            let a3 = model.3.forward(&a2);
            let (w1, rest) = want.split_at(32 * 32 * 16);
            let (w2, w3) = rest.split_at(16 * 16 * 32);
            assert_eq!(a1.as_slice(), w1, "sample {i}, stack 1 (identity shortcut)");
            assert_eq!(a2.as_slice(), w2, "sample {i}, stack 2 (projection shortcut)");
            assert_eq!(a3.as_slice(), w3, "sample {i}, stack 3 (projection shortcut)");
            // The ReLU is fused: nothing below the zero point of each block's output.
            let zero_points =
                [model.1.0.add.output.zero_point, model.2.0.add.output.zero_point, model.3.0.add.output.zero_point];
            for (a, z) in [a1.as_slice(), a2.as_slice(), a3.as_slice()].into_iter().zip(zero_points) {
                let z = z.max(-128);
                assert!(a.iter().all(|&v| i32::from(v) >= z));
                assert!(a.iter().any(|&v| i32::from(v) == z) && a.iter().any(|&v| i32::from(v) > z));
            }
        }
    });
}

#[test]
fn a_type_without_the_fused_relu_is_refused_naming_the_add() {
    use resnet8::Conv3;
    use typed_nn::layer::Residual;
    type Branch<const C: usize, const F: usize, const S: usize> =
        (Conv3<C, F, S>, ActivationLayer<Relu>, Conv3<F, F, 1>);
    type Stack<const C: usize, const F: usize> =
        (Residual<Branch<C, F, 2>, Conv2D<C, F, 1, Identity, 2, Same>>, ActivationLayer<Relu>);
    type IdentityStack = (Residual<Branch<16, 16, 1>>, ActivationLayer<Relu>);
    // The last stack without its ReLU: the ADD of the file fuses one.
    type NoRelu = (
        Conv3<3, 16, 1>,
        ActivationLayer<Relu>,
        IdentityStack,
        Stack<16, 32>,
        Residual<Branch<32, 64, 2>, Conv2D<32, 64, 1, Identity, 2, Same>>,
        AvgPool2D<8>,
        Flatten,
        Dense<64, 10, Softmax>,
    );
    with_stack(STACK, || {
        let err = Int8::<NoRelu>::from_tflite::<QImage<32, 32, 3>>(&fixture("resnet8.tflite")).unwrap_err();
        assert_eq!(err.to_string(), "operator 11 (ADD): fused_activation_function is 1, the type expects 0");
        // A block whose shortcut is the identity where the file has a projection: the third
        // stack's first convolution reads the block input, the type expected the ADD.
        type NoProjection = (Conv3<3, 16, 1>, ActivationLayer<Relu>, IdentityStack, IdentityStack);
        let err = Int8::<NoProjection>::from_tflite::<QImage<32, 32, 3>>(&fixture("resnet8.tflite")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "operator 4 (CONV_2D): stride_w is 2, the type expects 1",
            "the second stack's stride"
        );
    });
}

/// ResNet-8's int8 image, written by the loader (the test below fails when it is stale;
/// `TYPED_NN_BLESS=1 cargo test --all-features --test tflite_resnet8` rewrites it), decoded by
/// the compiler through the nested tuples and residual blocks of the model's type.
static BAKED: ResNet8I8 =
    typed_nn::int8_model_from_le_bytes!(ResNet8Folded, include_bytes!("fixtures/tflite/resnet8.int8"));

#[test]
fn resnet8s_int8_image_has_the_documented_layout_and_the_committed_one_is_current() {
    with_stack(STACK, || {
        let model = load();
        let image = model.to_le_bytes();
        // The layout (src/quant/image.rs): Conv2D 16 + 8·CO + K·K·CI·CO, Dense 20 + 8·OUT +
        // IN·OUT, QSkip, AvgPool2D and Flatten 8, each ADD 24 (three scales and zero points).
        let conv = |ci: usize, co: usize, k: usize| 16 + 8 * co + k * k * ci * co;
        let expected = conv(3, 16, 3)
            + (conv(16, 16, 3) + conv(16, 16, 3) + 8 + 24)
            + (conv(16, 32, 3) + conv(32, 32, 3) + conv(16, 32, 1) + 24)
            + (conv(32, 64, 3) + conv(64, 64, 3) + conv(32, 64, 1) + 24)
            + 8
            + 8
            + (20 + 8 * 10 + 64 * 10);
        assert_eq!(image.len(), expected);
        assert_eq!(ResNet8I8::IMAGE_BYTES, expected);
        let back = Box::new(ResNet8I8::from_le_bytes(&image).unwrap());
        assert!(*back == *model, "the run-time decoder gives the loaded model back");
        assert_eq!(
            ResNet8I8::from_le_bytes(&image[1..]),
            Err(Int8ImageError::WrongLength { expected, found: expected - 1 })
        );
        let path = format!("{}/tests/fixtures/tflite/resnet8.int8", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("TYPED_NN_BLESS").is_some() {
            std::fs::write(&path, &image).unwrap();
        }
        assert!(fixture("resnet8.int8") == image, "{path} is stale: rerun with TYPED_NN_BLESS=1");
    });
}

#[test]
fn the_compile_time_decoded_resnet8_equals_the_loaded_one_and_tflite_micro() {
    with_stack(STACK, || {
        let loaded = load();
        // Every field of every layer, the ADDs' multipliers and clamp bounds included (the image
        // holds scales; the compiler recomputed the rest): an offset off by one byte anywhere, or
        // a branch read as a shortcut, would differ.
        assert!(BAKED == *loaded, "the baked ResNet-8 differs from the one loaded from resnet8.tflite");
        assert_eq!(BAKED.2.0.add, loaded.2.0.add);
        let tflm = as_i8(&fixture("resnet8.tflm.bin"));
        for (i, x) in inputs().iter().enumerate() {
            assert_eq!(BAKED.forward(x).as_slice(), &tflm[i * 10..(i + 1) * 10], "sample {i}");
        }
    });
}

/// Run by the test below in a child process, under one `TYPED_NN_SIMD` setting.
#[test]
#[ignore = "run by every_kernel_path_equals_tflite_micro_on_resnet8, once per path"]
fn child_resnet8_equals_tflite_micro() {
    println!("int8 path: {}", quant::simd());
    with_stack(STACK, || {
        let model = load();
        let tflm = as_i8(&fixture("resnet8.tflm.bin"));
        let same =
            inputs().iter().zip(tflm.chunks_exact(10)).filter(|(x, want)| model.forward(x).as_slice() == *want).count();
        assert_eq!(same, 8, "outputs equal to TFLite Micro's");
    });
}

#[test]
fn every_kernel_path_equals_tflite_micro_on_resnet8() {
    let exe = std::env::current_exe().unwrap();
    let mut ran = Vec::new();
    for path in ["avx512", "avx2", "portable"] {
        let out = Command::new(&exe)
            .args(["--ignored", "--exact", "child_resnet8_equals_tflite_micro", "--nocapture"])
            .env("TYPED_NN_SIMD", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "TYPED_NN_SIMD={path}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout.lines().find(|l| l.starts_with("int8 path: ")).unwrap_or("int8 path: ?").to_string();
        println!("TYPED_NN_SIMD={path}: {line}, ResNet-8 outputs equal to TFLite Micro's");
        ran.push(line);
    }
    assert_eq!(ran.last().map(String::as_str), Some("int8 path: portable"));
}
