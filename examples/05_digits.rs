//! # 05 — Training on real data, as Keras would
//!
//! Trains `(Dense<64, 32, Relu>, Dense<32, 10, Softmax>)` on the UCI optical digits (8×8
//! images, 10 classes, bundled) with Adam (learning rate 0.01), batches of 32, 30 epochs, on
//! the standard 1437/360 split; prints one line per epoch and then `test accuracy: 0.xxxx`.
//! Keras reaches 0.9748 ± 0.0054 on exactly this setup (40 seeds,
//! `data/digits/keras_baseline.json`); typed-nn 0.9745 ± 0.0046.
//!
//! Builds on `examples/02_mlp.rs` and `examples/04_cnn.rs`; next:
//! `examples/06_custom_layer.rs`.
//!
//! Run:
//! - `cargo run --release --example digits` — the MLP (the README's main command);
//! - `cargo run --release --example digits -- --conv` — the convolutional variant
//!   `(Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)` on
//!   `Image<8, 8, 1>` (Keras: 0.9500 ± 0.0108);
//! - `--seed N` picks the initialisation and shuffling seed (default 0); `--save FILE` writes
//!   the trained parameters as a raw little-endian image (`examples/08_embedded.rs` bakes such a
//!   file into a program); `--plot FILE` also validates on the test split after every epoch
//!   and draws the training and validation loss and accuracy curves as an SVG
//!   (`docs/img/digits-loss.svg` is one); `--help` prints the usage.

use std::error::Error;

use plotters::prelude::*;
use typed_nn::data::Digits;
use typed_nn::prelude::*;

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type Cnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

struct Args {
    conv: bool,
    seed: u64,
    save: Option<String>,
    plot: Option<String>,
}

const USAGE: &str = "\
Trains a digit classifier on the bundled UCI optical digits and prints the test accuracy.

usage: cargo run --release --example digits -- [--conv] [--seed N] [--save FILE] [--plot FILE]

  --conv       train (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)
               instead of (Dense<64, 32, Relu>, Dense<32, 10, Softmax>)
  --seed N     initialisation and shuffling seed (default 0)
  --save FILE  write the trained parameters as a raw little-endian image
               (examples/08_embedded.rs bakes such a file into a program)
  --plot FILE  validate on the test split after every epoch and draw the loss and
               accuracy curves (training and validation) as an SVG
  --help       print this and exit";

/// The parsed command line; `None` when `--help` asked for the usage text.
fn args() -> Result<Option<Args>, String> {
    let mut args = Args { conv: false, seed: 0, save: None, plot: None };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--conv" => args.conv = true,
            "--seed" => args.seed = it.next().and_then(|s| s.parse().ok()).ok_or("--seed needs a number")?,
            "--save" => args.save = Some(it.next().ok_or("--save needs a file name")?),
            "--plot" => args.plot = Some(it.next().ok_or("--plot needs a file name")?),
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Some(args))
}

/// Keras' `compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy")` and
/// `fit(batch_size=32, epochs=30)`.
fn trainer<M>(seed: u64) -> Trainer<Adam<M>, SparseCategoricalCrossentropy> {
    Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default())
        .epochs(30)
        .batch_size(32)
        .seed(seed)
        .verbose(true)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = match args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let digits = Digits::bundled()?;
    let mut rng = SeedRng::seed(args.seed);
    // Validation on the test split only when plotting: it evaluates, it does not change a
    // step, so the test accuracy is the same either way.
    let validate = args.plot.is_some();
    let (test_accuracy, bytes, history) = if args.conv {
        let (x_train, y_train): (Vec<Image<8, 8, 1>>, Vec<usize>) = digits.train_images();
        let (x_test, y_test) = digits.test_images();
        let mut model: Cnn = Cnn::init(&mut rng);
        model.summary_for::<Image<8, 8, 1>>();
        let mut trainer = trainer(args.seed);
        let validation = validate.then_some((&x_test[..], &y_test[..]));
        let history: History = trainer.fit_with_callbacks(&mut model, &x_train, &y_train, validation, ())?;
        (trainer.evaluate(&model, &x_test, &y_test)?.accuracy, model.to_le_bytes()?, history)
    } else {
        let (x_train, y_train): (Vec<Vector<64>>, Vec<usize>) = digits.train_vectors();
        let (x_test, y_test) = digits.test_vectors();
        let mut model: Mlp = Mlp::init(&mut rng);
        model.summary();
        let mut trainer = trainer(args.seed);
        let validation = validate.then_some((&x_test[..], &y_test[..]));
        let history: History = trainer.fit_with_callbacks(&mut model, &x_train, &y_train, validation, ())?;
        (trainer.evaluate(&model, &x_test, &y_test)?.accuracy, model.to_le_bytes()?, history)
    };
    if let Some(path) = args.save {
        std::fs::write(&path, &bytes)?;
        println!("saved {} bytes of parameters to {path}", bytes.len());
    }
    if let Some(path) = args.plot {
        plot(&history, &path)?;
        println!("wrote the loss and accuracy curves to {path}");
    }
    println!("test accuracy: {:.4}", test_accuracy.unwrap_or_default());
    Ok(())
}

/// Two panels, loss and accuracy per epoch, training and validation, as an SVG file.
fn plot(history: &History, path: &str) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (960, 380)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let panels = [
        (left, "loss", history.column(|e| Some(e.loss)), history.column(|e| e.val_loss)),
        (right, "accuracy", history.column(|e| e.accuracy), history.column(|e| e.val_accuracy)),
    ];
    for (area, name, train, val) in panels {
        let epochs = train.len().max(2);
        let (lo, hi) =
            train.iter().chain(&val).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let pad = (hi - lo).max(1e-3) * 0.05;
        let mut chart = ChartBuilder::on(&area)
            .caption(name, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(1f64..epochs as f64, (lo - pad)..(hi + pad))?;
        chart.configure_mesh().x_desc("epoch").light_line_style(WHITE).draw()?;
        let series = [(&train, "training", BLUE), (&val, "validation", RED)];
        for (values, label, color) in series {
            if values.is_empty() {
                continue;
            }
            let points = values.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw()?;
    }
    root.present()?;
    Ok(())
}
