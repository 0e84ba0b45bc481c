//! # 10 — Post-training quantization: a model trained here, deployed as int8
//!
//! Trains the digits MLP `(Dense<64, 32, Relu>, Dense<32, 10, Softmax>)` and the digits CNN
//! `(Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)` as
//! `examples/05_digits.rs` does (Adam 0.01, batches of 32, 30 epochs), then quantizes each with
//! `quant::calibrate` on the training digits, the way TensorFlow Lite's converter would, and
//! compares the f32 and int8 models on the 360 test digits. With `--save DIR` it writes each
//! int8 model's byte image (`DIR/digits_mlp.int8`, `DIR/digits_cnn.int8`), which firmware bakes
//! in with `int8_model_from_le_bytes!` (guide, chapter 8).
//!
//! Builds on `examples/05_digits.rs` (training) and `examples/09_tflite_int8.rs` (int8 models
//! from TensorFlow Lite); next: `examples/11_autoencoder.rs`.
//!
//! Run: `cargo run --release --example quantize [-- --seed N] [-- --save DIR]`. Prints, per
//! model, the f32 and int8 test accuracy and memory, and as its last line the largest accuracy
//! loss, `int8 loses at most X.XX percentage points` (0.00 for seed 0; at most 0.28, one
//! test digit, over seeds 0 to 9).

use std::error::Error;
use std::path::PathBuf;

use typed_nn::data::Digits;
use typed_nn::prelude::*;
use typed_nn::quant::{self, Int8, Int8Bytes, Int8Tensor, QLayer, QVector};

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Cnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

struct Args {
    seed: u64,
    save: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut args = Args { seed: 0, save: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seed" => args.seed = it.next().and_then(|s| s.parse().ok()).ok_or("--seed needs a number")?,
            "--save" => args.save = Some(it.next().ok_or("--save needs a directory")?.into()),
            other => return Err(format!("unknown argument {other}; use --seed N, --save DIR")),
        }
    }
    Ok(args)
}

/// The percentage of `samples` a classifier gets right.
fn accuracy<X>(samples: &[X], labels: &[usize], classify: impl Fn(&X) -> usize) -> f64 {
    let right = samples.iter().zip(labels).filter(|&(x, &y)| classify(x) == y).count();
    100.0 * right as f64 / samples.len() as f64
}

/// Trains `model`, quantizes it, prints the comparison; returns the accuracy lost (points).
fn train_and_quantize<M, X, Q>(
    name: &str,
    mut model: M,
    (x_train, y_train): (Vec<X>, Vec<usize>),
    (x_test, y_test): (Vec<X>, Vec<usize>),
    args: &Args,
) -> Result<f64, Box<dyn Error>>
where
    M: Backward<X, Out = Vector<10>> + Params<f32> + Zeros + quant::calibrate::Calibrate<X, Int8 = Q>,
    X: Tensor<Elem = f32>,
    Q: QLayer<X::Int8, Out = QVector<10>> + Int8Bytes,
    X: quant::HasInt8,
{
    let mut trainer = Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default())
        .epochs(30)
        .batch_size(32)
        .seed(args.seed);
    trainer.fit(&mut model, &x_train, &y_train)?;

    // Post-training quantization: the float model on the training digits, ranges recorded.
    let int8: Q = quant::calibrate(&model, &x_train)?;

    let f32_accuracy = accuracy(&x_test, &y_test, |x| model.forward(x).argmax());
    let int8_accuracy = accuracy(&x_test, &y_test, |x| {
        let q: X::Int8 = Int8Tensor::quantize(x, int8.input_params());
        int8.forward(&q).argmax()
    });
    println!("{name}:");
    println!("  test accuracy: f32 {f32_accuracy:.2}%, int8 {int8_accuracy:.2}%");
    println!(
        "  parameters: f32 {} bytes, int8 {} bytes (image for firmware: {} bytes)",
        M::PARAM_BYTES,
        Q::PARAM_BYTES,
        Q::IMAGE_BYTES
    );
    if let Some(dir) = &args.save {
        let path = dir.join(format!("{name}.int8"));
        std::fs::write(&path, int8.to_le_bytes())?;
        println!("  wrote {}", path.display());
    }
    Ok(f32_accuracy - int8_accuracy)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = args()?;
    let digits = Digits::bundled()?;
    let mut rng = SeedRng::seed(args.seed);

    let mlp: Mlp = Mlp::init(&mut rng);
    let mlp_loss = train_and_quantize::<Mlp, Vector<64>, Int8<Mlp>>(
        "digits_mlp",
        mlp,
        digits.train_vectors(),
        digits.test_vectors(),
        &args,
    )?;
    let cnn: Cnn = Cnn::init(&mut rng);
    let cnn_loss = train_and_quantize::<Cnn, Image<8, 8, 1>, Int8<Cnn>>(
        "digits_cnn",
        cnn,
        digits.train_images(),
        digits.test_images(),
        &args,
    )?;
    println!("int8 loses at most {:.2} percentage points", mlp_loss.max(cnn_loss).max(0.0));
    Ok(())
}
