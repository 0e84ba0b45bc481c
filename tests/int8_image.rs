//! The int8 byte image: what a firmware's `build.rs` writes from a checked `.tflite` and
//! `int8_model_from_le_bytes!` bakes into a `static`. The baked model equals the loaded one,
//! the layout is the documented one, and bad images are typed errors.
//!
//! `tests/fixtures/tflite/digits_mlp.int8` is the image of `digits_mlp.tflite`, committed for
//! the doc examples and the compile-fail case; `TYPED_NN_BLESS=1 cargo test --test int8_image`
//! rewrites it (the test below fails whenever it differs from the loader's output).
#![cfg(feature = "tflite")]

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Bytes, Int8ImageError, Int8Tensor, QImage, QLayer, QVector};
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

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load<M: TfliteImport<X>, X: Int8Tensor>(name: &str) -> M {
    M::from_tflite::<X>(&fixture(&format!("{name}.tflite"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads a fixture, writes its image, reads it back: the same model, the same outputs.
fn round_trip<M, X>(name: &str, expected_len: usize)
where
    M: TfliteImport<X> + Int8Bytes + PartialEq + std::fmt::Debug,
    X: Int8Tensor,
{
    let model: M = load::<M, X>(name);
    let image = model.to_le_bytes();
    assert_eq!(image.len(), expected_len, "{name}: image length");
    assert_eq!(M::IMAGE_BYTES, expected_len, "{name}: IMAGE_BYTES");
    let back = M::from_le_bytes(&image).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(back, model, "{name}: decoded model");
    let inputs: Vec<i8> = fixture(&format!("{name}.input.bin")).iter().map(|&b| b as i8).collect();
    for x in inputs.chunks_exact(X::LEN).take(50) {
        let x = X::from_slice(x).unwrap();
        assert_eq!(back.forward(&x), model.forward(&x), "{name}: outputs");
    }
}

#[test]
fn every_fixture_model_round_trips_through_its_image() {
    // Lengths from the documented layout: Dense 20 + 8·OUT + IN·OUT, Conv2D 16 + 8·CO +
    // K·K·CI·CO, pools and Flatten 8, GlobalAvgPool2D 16.
    round_trip::<Int8<DigitsMlp>, QVector<64>>("digits_mlp", (20 + 8 * 32 + 64 * 32) + (20 + 8 * 10 + 32 * 10));
    round_trip::<Int8<Mlp784>, QVector<784>>("mlp784", (20 + 8 * 64 + 784 * 64) + (20 + 8 * 10 + 64 * 10));
    round_trip::<Int8<DigitsCnn>, QImage<8, 8, 1>>("digits_cnn", (16 + 8 * 4 + 9 * 4) + 8 + 8 + (20 + 80 + 360));
    round_trip::<Int8<DigitsCnn2>, QImage<8, 8, 1>>(
        "digits_cnn2",
        (16 + 8 * 8 + 9 * 8) + 8 + (16 + 8 * 16 + 9 * 8 * 16) + 16 + (20 + 8 * 10 + 16 * 10),
    );
}

#[test]
fn the_image_has_the_documented_layout() {
    let model: Int8<DigitsMlp> = load::<Int8<DigitsMlp>, QVector<64>>("digits_mlp");
    let image = model.to_le_bytes();
    let f32_at = |at: usize| f32::from_le_bytes(image[at..at + 4].try_into().unwrap());
    let i32_at = |at: usize| i32::from_le_bytes(image[at..at + 4].try_into().unwrap());
    let first = &model.0;
    // Input scale and zero point as the converter wrote them (summary.json: 1/255 as f32, −128).
    assert_eq!(f32_at(0), (1.0f64 / 255.0) as f32);
    assert_eq!(i32_at(4), -128);
    assert_eq!((f32_at(8), i32_at(12)), (first.output.scale, first.output.zero_point));
    assert_eq!(f32_at(16), 1.0, "β");
    assert_eq!(f32_at(20), first.weight_scales[0]);
    assert_eq!(f32_at(20 + 4 * 31), first.weight_scales[31]);
    assert_eq!(i32_at(20 + 4 * 32), first.bias[0]);
    // The kernel, TFLite's (out, in) order: output 1, input 0 is 64 bytes after output 0's.
    let kernel = 20 + 8 * 32;
    assert_eq!(image[kernel] as i8, first.kernel[0][0]);
    assert_eq!(image[kernel + 64] as i8, first.kernel[1][0]);
    assert_eq!(image[kernel + 64 * 32 - 1] as i8, first.kernel[31][63]);
    // The second layer follows directly.
    let second = kernel + 64 * 32;
    assert_eq!(f32_at(second), model.1.input.scale);
    assert_eq!(image[image.len() - 1] as i8, model.1.kernel[9][31]);
}

#[test]
fn the_committed_image_is_the_loaders_output() {
    let model: Int8<DigitsMlp> = load::<Int8<DigitsMlp>, QVector<64>>("digits_mlp");
    let image = model.to_le_bytes();
    let path = format!("{}/tests/fixtures/tflite/digits_mlp.int8", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("TYPED_NN_BLESS").is_some() {
        std::fs::write(&path, &image).unwrap();
    }
    assert!(fixture("digits_mlp.int8") == image, "{path} is stale: rerun with TYPED_NN_BLESS=1");
}

/// Baked by the compiler from the committed image.
static BAKED: Int8<DigitsMlp> = typed_nn::int8_model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!("fixtures/tflite/digits_mlp.int8")
);

#[test]
fn the_baked_static_equals_the_model_loaded_from_the_tflite_file() {
    let loaded: Int8<DigitsMlp> = load::<Int8<DigitsMlp>, QVector<64>>("digits_mlp");
    // Every field, the precomputed multipliers, shifts, clamp bounds and softmax constants
    // included (they are private, and part of the derived equality).
    assert_eq!(BAKED, loaded);
    // And it classifies the fixture digits exactly as TFLite Micro does.
    let inputs = fixture("digits_mlp.input.bin");
    let tflm = fixture("digits_mlp.tflm.bin");
    for (x, want) in inputs.chunks_exact(64).zip(tflm.chunks_exact(10)) {
        let x: QVector<64> = QVector::from_slice(&x.iter().map(|&b| b as i8).collect::<Vec<_>>()).unwrap();
        let y: QVector<10> = BAKED.forward(&x);
        assert_eq!(y.as_slice(), want.iter().map(|&b| b as i8).collect::<Vec<_>>().as_slice());
    }
}

#[test]
fn bad_images_are_typed_errors() {
    let model: Int8<DigitsMlp> = load::<Int8<DigitsMlp>, QVector<64>>("digits_mlp");
    let good = model.to_le_bytes();
    let expected = good.len();
    assert_eq!(
        Int8::<DigitsMlp>::from_le_bytes(&good[1..]),
        Err(Int8ImageError::WrongLength { expected, found: expected - 1 })
    );
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(
        Int8::<DigitsMlp>::from_le_bytes(&longer),
        Err(Int8ImageError::WrongLength { expected, found: expected + 1 })
    );
    let with = |at: usize, bytes: [u8; 4]| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&bytes);
        Int8::<DigitsMlp>::from_le_bytes(&b)
    };
    // Input scale (byte 0): zero, negative, NaN and infinite scales name their byte.
    for bad in [0.0f32, -0.5, f32::NAN, f32::INFINITY] {
        assert_eq!(with(0, bad.to_le_bytes()), Err(Int8ImageError::Scale { offset: 0 }), "{bad}");
    }
    // A weight scale of the second output channel of the first layer.
    assert_eq!(with(24, 0f32.to_le_bytes()), Err(Int8ImageError::Scale { offset: 24 }));
    // A zero point outside the int8 range (the first layer's output zero point, byte 12).
    assert_eq!(with(12, 200i32.to_le_bytes()), Err(Int8ImageError::ZeroPoint { offset: 12 }));
    assert_eq!(with(12, (-129i32).to_le_bytes()), Err(Int8ImageError::ZeroPoint { offset: 12 }));
    // The softmax layer's β (its byte 16): zero cannot be prepared.
    let beta = 20 + 8 * 32 + 64 * 32 + 16;
    assert_eq!(with(beta, 0f32.to_le_bytes()), Err(Int8ImageError::Softmax { offset: beta }));
    // The messages name the problem.
    assert_eq!(
        Int8ImageError::Scale { offset: 24 }.to_string(),
        "a scale in the int8 image is not positive and finite (byte 24)"
    );
    // Writing into a buffer of the wrong size is refused, and writes nothing.
    let mut short = vec![7u8; expected - 1];
    assert!(matches!(model.write_le_bytes(&mut short), Err(Int8ImageError::WrongLength { .. })));
    assert!(short.iter().all(|&b| b == 7));
}

#[test]
fn corrupting_any_byte_of_an_image_never_panics() {
    let model: Int8<DigitsCnn> = load::<Int8<DigitsCnn>, QImage<8, 8, 1>>("digits_cnn");
    let good = model.to_le_bytes();
    for i in 0..good.len() {
        for v in [0x00, 0x7f, 0x80, 0xff] {
            let mut b = good.clone();
            b[i] = v;
            if let Ok(m) = Int8::<DigitsCnn>::from_le_bytes(&b) {
                let _ = m.forward(&QImage::<8, 8, 1>::default());
            }
        }
    }
}
