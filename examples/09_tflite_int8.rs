//! # 09 — An int8 model from TensorFlow Lite, bit-exact with TFLite Micro
//!
//! Loads a fully int8 `.tflite` file (as TensorFlow's converter writes it with
//! `optimizations=[DEFAULT]`, a representative dataset and int8 input and output) into a typed
//! int8 model, `Int8<M>` for a float architecture `M` written once, and runs it on the digits
//! test set with integer arithmetic only. The loader checks every operator of the file against
//! the type; a file of another architecture is refused with an error that names the operator.
//!
//! The file is tried against the four bundled architectures (`tests/fixtures/tflite/`,
//! written by `scripts/tflite_int8_fixtures.py`). Its test inputs and TFLite Micro's outputs
//! are read from the files next to it (`NAME.input.bin`, `NAME.labels.bin`, `NAME.tflm.bin`);
//! without them, the digits test set is quantized with the model's input scale and zero point.
//!
//! Builds on `examples/08_embedded.rs` (the same digits, as an f32 model in flash).
//!
//! Run: `cargo run --release --example tflite_int8 [-- path/to/model.tflite]` (default: the
//! bundled int8 digits MLP). Prints the architecture, the memory, the accuracy, and as its last
//! line `bit-exact with TFLite Micro: N/N`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use typed_nn::data::Digits;
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

/// Test inputs (int8), their labels, and TFLite Micro's outputs when they are bundled.
struct Data {
    inputs: Vec<i8>,
    labels: Vec<u8>,
    tflm: Option<Vec<i8>>,
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    path.with_file_name(format!("{stem}.{suffix}"))
}

fn read_i8(path: &Path) -> Option<Vec<i8>> {
    std::fs::read(path).ok().map(|b| b.into_iter().map(|v| v as i8).collect())
}

/// The digits test images as float tensors of the model's input shape (upscaled to 28×28 for a
/// 784-input model, as the fixture script does).
/// Float samples of the model's input type with their labels.
type Samples<X> = Vec<(<X as Int8Tensor>::Float, u8)>;

fn digits_test<X: Int8Tensor>() -> Result<Samples<X>, Box<dyn std::error::Error>> {
    let digits = Digits::bundled()?;
    let (xs, ys) = digits.test_vectors();
    let mut out = Vec::new();
    for (x, &y) in xs.iter().zip(ys.iter()) {
        let px = x.as_slice();
        let values: Vec<f32> =
            if X::LEN == 784 {
                (0..784)
                    .map(|i| (i / 28, i % 28))
                    .map(|(r, c)| {
                        if (2..26).contains(&r) && (2..26).contains(&c) {
                            px[(r - 2) / 3 * 8 + (c - 2) / 3]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            } else {
                px.to_vec()
            };
        if let Some(t) = <X::Float as Tensor>::from_slice(&values) {
            out.push((t, y as u8));
        }
    }
    Ok(out)
}

/// Loads `bytes` as `Int8<M>` taking `X`, runs the data, prints the report; `Err` if the file
/// is not this architecture.
fn run<M, X>(name: &str, bytes: &[u8], path: &Path) -> Result<bool, typed_nn::tflite::TfliteError>
where
    M: TfliteImport<X>,
    X: Int8Tensor,
{
    let model = M::from_tflite::<X>(bytes)?;
    println!("architecture: {name}");
    println!(
        "memory: {} bytes of parameters, {} bytes of activations (compile-time constants)",
        M::PARAM_BYTES,
        M::ACTIVATION_BYTES
    );
    let inputs = read_i8(&sibling(path, "input.bin"));
    let labels = std::fs::read(sibling(path, "labels.bin")).ok();
    let data = match (inputs, labels) {
        (Some(inputs), Some(labels)) => Data { inputs, labels, tflm: read_i8(&sibling(path, "tflm.bin")) },
        _ => {
            let Ok(set) = digits_test::<X>() else { return Ok(false) };
            let mut inputs = Vec::new();
            let mut labels = Vec::new();
            for (x, y) in &set {
                inputs.extend_from_slice(model.quantize_input(x).as_slice());
                labels.push(*y);
            }
            Data { inputs, labels, tflm: None }
        }
    };
    let out_len = <M::Out as Int8Tensor>::LEN;
    let (mut correct, mut exact) = (0usize, 0usize);
    for (i, &label) in data.labels.iter().enumerate() {
        let Some(x) = data.inputs.get(i * X::LEN..(i + 1) * X::LEN).and_then(X::from_slice) else { break };
        let y = model.forward(&x);
        let y = y.as_slice();
        let argmax = (0..out_len).fold(0, |best, k| if y[k] > y[best] { k } else { best });
        correct += usize::from(argmax == usize::from(label));
        if let Some(reference) = data.tflm.as_ref().and_then(|t| t.get(i * out_len..(i + 1) * out_len)) {
            exact += usize::from(reference == y);
        }
    }
    let n = data.labels.len();
    println!("test accuracy: {:.4} ({correct}/{n})", correct as f64 / n as f64);
    let compared = if data.tflm.is_some() { n } else { 0 };
    println!("bit-exact with TFLite Micro: {exact}/{compared}");
    Ok(exact == compared)
}

fn main() -> ExitCode {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tflite/digits_mlp.tflite");
    let path = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| default.to_string()));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    println!("model: {} ({} bytes)", path.display(), bytes.len());
    // The file decides nothing about the code: it is checked against each typed architecture.
    let exit = |all_exact: bool| if all_exact { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    let mut errors = Vec::new();
    match run::<Int8<DigitsMlp>, QVector<64>>("Int8<(Dense<64, 32, Relu>, Dense<32, 10, Softmax>)>", &bytes, &path) {
        Ok(ok) => return exit(ok),
        Err(e) => errors.push(e),
    }
    let cnn = "Int8<(Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)>";
    match run::<Int8<DigitsCnn>, QImage<8, 8, 1>>(cnn, &bytes, &path) {
        Ok(ok) => return exit(ok),
        Err(e) => errors.push(e),
    }
    let cnn2 = "Int8<(Conv2D<1, 8, 3, Relu6, 1, Same>, AvgPool2D<2>, Conv2D<8, 16, 3, Relu, 2, Same>, \
                GlobalAvgPool2D, Dense<16, 10, Softmax>)>";
    match run::<Int8<DigitsCnn2>, QImage<8, 8, 1>>(cnn2, &bytes, &path) {
        Ok(ok) => return exit(ok),
        Err(e) => errors.push(e),
    }
    match run::<Int8<Mlp784>, QVector<784>>("Int8<(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)>", &bytes, &path) {
        Ok(ok) => return exit(ok),
        Err(e) => errors.push(e),
    }
    eprintln!("the file is none of the typed architectures:");
    for e in &errors {
        eprintln!("  {e}");
    }
    println!("bit-exact with TFLite Micro: 0/0");
    ExitCode::FAILURE
}
