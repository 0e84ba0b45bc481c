//! Callbacks against Keras 3's own: EarlyStopping and ReduceLROnPlateau driven through scripted
//! sequences of a monitored value, compared with what Keras' code did on the same sequences
//! (tests/fixtures/keras_callbacks.rs, written by scripts/keras_callbacks.py); then each
//! callback through the Trainer, where it must change the outcome; and the settings that
//! cannot be right, refused before the first step.

use core::ops::ControlFlow;

use typed_nn::io::Safetensors;
use typed_nn::prelude::*;
use typed_nn::train::{
    Callback, Control, EarlyStopping, LambdaCallback, Mode, ModelCheckpoint, Monitor, ReduceLROnPlateau, Task,
    TrainPlan,
};

#[allow(clippy::type_complexity)]
mod keras {
    include!("fixtures/keras_callbacks.rs");
}

type One = Dense<1, 1, Identity>;

fn monitor(name: &str) -> Monitor {
    match name {
        "val_loss" => Monitor::ValLoss,
        "val_accuracy" => Monitor::ValAccuracy,
        other => panic!("no monitor {other}"),
    }
}

fn mode(name: &str) -> Mode {
    match name {
        "auto" => Mode::Auto,
        "max" => Mode::Max,
        "min" => Mode::Min,
        other => panic!("no mode {other}"),
    }
}

fn stats(epoch: usize, monitor: Monitor, value: f64, learning_rate: f64) -> EpochStats {
    let mut s = EpochStats { epoch, learning_rate, ..EpochStats::default() };
    match monitor {
        Monitor::ValLoss => s.val_loss = Some(value),
        Monitor::ValAccuracy => s.val_accuracy = Some(value),
        _ => unreachable!(),
    }
    s
}

/// A run of up to 1000 epochs with validation data, for a classification.
const PLAN: TrainPlan = TrainPlan::new(1000, true, Task::Classification);

/// Runs a callback as `fit` does on a scripted sequence, the model's weight set to the epoch
/// number (from 1) before each epoch ends; returns the epochs run, the final weight and the
/// learning rate after each epoch.
fn run(cb: &mut impl Callback<One, f32>, monitor: Monitor, values: &[f64], lr: f64) -> (usize, f32, Vec<f64>) {
    let mut model: One = Dense::new([[0.0]], [0.0]);
    cb.on_train_begin(&model, &PLAN).unwrap();
    let (mut epochs, mut rates, mut lr) = (0, Vec::new(), lr);
    for (i, &v) in values.iter().enumerate() {
        model.kernel[0][0] = (i + 1) as f32;
        let mut control = Control::new(lr);
        cb.on_epoch_end(&stats(i + 1, monitor, v, lr), &mut model, &mut control).unwrap();
        lr = control.learning_rate();
        rates.push(lr);
        epochs += 1;
        if control.stopping() {
            break;
        }
    }
    cb.on_train_end(&mut model).unwrap();
    (epochs, model.kernel[0][0], rates)
}

#[test]
fn early_stopping_stops_and_restores_where_keras_does() {
    for &(name, mon, md, values, patience, min_delta, baseline, restore, start, epochs, weight) in keras::EARLY_STOPPING
    {
        let mut cb = EarlyStopping::new()
            .monitor(monitor(mon))
            .mode(mode(md))
            .patience(patience)
            .min_delta(min_delta)
            .restore_best_weights(restore)
            .start_from_epoch(start);
        if let Some(b) = baseline {
            cb = cb.baseline(b);
        }
        let (ran, w, _) = run(&mut cb, monitor(mon), values, 0.1);
        assert_eq!((ran, w), (epochs, weight as f32), "{name}: (epochs run, weights of epoch)");
    }
}

#[test]
fn reduce_lr_on_plateau_gives_keras_learning_rates() {
    for &(name, mon, md, values, lr, factor, patience, min_delta, cooldown, min_lr, rates) in
        keras::REDUCE_LR_ON_PLATEAU
    {
        let mut cb = ReduceLROnPlateau::new()
            .monitor(monitor(mon))
            .mode(mode(md))
            .factor(factor)
            .patience(patience)
            .min_delta(min_delta)
            .cooldown(cooldown)
            .min_lr(min_lr);
        let (_, _, ours) = run(&mut cb, monitor(mon), values, lr);
        assert_eq!(ours.len(), rates.len(), "{name}");
        for (epoch, (&a, &k)) in ours.iter().zip(rates).enumerate() {
            // Keras keeps the rate in float32; ours is f64 (the same up to float32 rounding).
            assert!((a - k).abs() <= 1e-6 * k, "{name}, epoch {}: {a} vs Keras {k}", epoch + 1);
        }
    }
}

// ---- through the Trainer ----

type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);

fn data() -> (Vec<Vector<2>>, Vec<usize>) {
    let xs: Vec<Vector<2>> = (0..16).map(|i| Vector::from([(i % 4) as f32 - 1.5, (i / 4) as f32 - 1.5])).collect();
    let labels = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
    (xs, labels)
}

fn trainer(epochs: usize) -> Trainer<Adam<Net>, SparseCategoricalCrossentropy> {
    Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).epochs(epochs).batch_size(4)
}

/// Records the weights after every epoch (run before the callback under test).
struct Snapshots(Vec<Net>);

impl Callback<Net, f32> for Snapshots {
    fn on_epoch_end(&mut self, _: &EpochStats, model: &mut Net, _: &mut Control) -> Result<(), TrainError> {
        self.0.push(model.clone());
        Ok(())
    }
}

#[test]
fn early_stopping_through_fit_returns_the_best_epochs_weights_not_the_last() {
    // Validated against the opposite labels: the better the model learns, the worse val_loss
    // gets, so the best epoch is the first and the last is the worst.
    let (xs, labels) = data();
    let flipped: Vec<usize> = labels.iter().map(|l| 1 - l).collect();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let mut snapshots = Snapshots(Vec::new());
    let mut stop = EarlyStopping::new().patience(3).restore_best_weights(true);
    let history = trainer(50)
        .fit_with_callbacks(&mut model, &xs, &labels, Some((&xs, &flipped)), (&mut snapshots, &mut stop))
        .unwrap();
    let val_loss = history.column(|e| e.val_loss);
    let best = (0..val_loss.len()).min_by(|&a, &b| val_loss[a].total_cmp(&val_loss[b])).unwrap();
    assert_eq!(history.epochs().len(), best + 1 + 3, "stopped 3 epochs after the best: {val_loss:?}");
    assert_eq!(stop.best_epoch(), Some(best + 1));
    assert_eq!(stop.stopped_epoch(), Some(history.epoch));
    assert_eq!(model, snapshots.0[best], "the best epoch's weights");
    assert_ne!(model, *snapshots.0.last().unwrap(), "not the last epoch's");
}

#[test]
fn reduce_lr_on_plateau_through_fit_lowers_the_optimizers_rate() {
    // A rate of 1e-30 changes nothing: the loss is flat, so every epoch after the first is a
    // plateau epoch.
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let mut t = Trainer::new(Sgd::new(1e-30), SparseCategoricalCrossentropy::default()).epochs(7).batch_size(4);
    let plateau = ReduceLROnPlateau::new().monitor(Monitor::Loss).patience(2).factor(0.5);
    let history = t.fit_with_callbacks(&mut model, &xs, &labels, None, plateau).unwrap();
    // Epoch 1 sets the best; 2 and 3 wait; the rate halves after 3, again after 5 and 7.
    assert_eq!(history.column(|e| Some(e.learning_rate)), [1e-30, 1e-30, 1e-30, 5e-31, 5e-31, 2.5e-31, 2.5e-31]);
    assert_eq!(t.optimizer.learning_rate(), 1.25e-31);
}

#[test]
fn model_checkpoint_saves_the_best_epoch_as_safetensors() {
    let (xs, labels) = data();
    let flipped: Vec<usize> = labels.iter().map(|l| 1 - l).collect();
    let dir = std::env::temp_dir().join(format!("typed-nn-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("best.safetensors");
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let mut snapshots = Snapshots(Vec::new());
    let mut checkpoint = ModelCheckpoint::new(&path).save_best_only(true);
    let history = trainer(8)
        .fit_with_callbacks(&mut model, &xs, &labels, Some((&xs, &flipped)), (&mut snapshots, &mut checkpoint))
        .unwrap();
    let val_loss = history.column(|e| e.val_loss);
    let best = (0..val_loss.len()).min_by(|&a, &b| val_loss[a].total_cmp(&val_loss[b])).unwrap();
    assert_eq!(checkpoint.saved_epoch(), Some(best + 1));
    let saved = Net::load_safetensors(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved, snapshots.0[best]);
    assert_ne!(saved, model, "the model trained on past the best epoch");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_that_cannot_be_written_stops_training_with_the_cause() {
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let path = std::env::temp_dir().join("typed-nn-no-such-dir").join("x").join("best.safetensors");
    let r = trainer(3).fit_with_callbacks(&mut model, &xs, &labels, None, ModelCheckpoint::new(path));
    assert_eq!(r, Err(TrainError::CheckpointNotSaved { epoch: 1, io: Some(std::io::ErrorKind::NotFound) }));
}

#[test]
fn the_fit_with_closure_still_stops_training() {
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let history = trainer(100)
        .fit_with(&mut model, &xs, &labels, None, |s| {
            if s.epoch == 4 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
    assert_eq!(history.epochs().len(), 4);
    let history = trainer(100)
        .fit_with_callbacks(
            &mut model,
            &xs,
            &labels,
            None,
            LambdaCallback(
                |s: &EpochStats| {
                    if s.epoch == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                },
            ),
        )
        .unwrap();
    assert_eq!(history.epochs().len(), 2);
}

#[test]
fn callback_settings_that_cannot_be_right_are_refused_before_the_first_step() {
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let before = model.clone();
    let refused = |r: Result<History, TrainError>, name: &str| {
        assert!(matches!(r, Err(TrainError::InvalidHyperParameter(e)) if e.name == name), "{name}: {r:?}");
    };
    let val = Some((&xs[..], &labels[..]));
    for factor in [1.0, 2.0, 0.0, -0.5, f64::NAN] {
        refused(
            trainer(3).fit_with_callbacks(&mut model, &xs, &labels, val, ReduceLROnPlateau::new().factor(factor)),
            "factor",
        );
    }
    for min_lr in [-1e-3, f64::INFINITY] {
        refused(
            trainer(3).fit_with_callbacks(&mut model, &xs, &labels, val, ReduceLROnPlateau::new().min_lr(min_lr)),
            "min_lr",
        );
    }
    refused(
        trainer(3).fit_with_callbacks(&mut model, &xs, &labels, val, EarlyStopping::new().min_delta(f64::NAN)),
        "min_delta",
    );
    refused(
        trainer(3).fit_with_callbacks(&mut model, &xs, &labels, val, EarlyStopping::new().baseline(f64::NAN)),
        "baseline",
    );
    // Monitoring what the run does not report: val_loss without validation data, mae in a
    // classification.
    assert_eq!(
        trainer(3).fit_with_callbacks(&mut model, &xs, &labels, None, EarlyStopping::new()),
        Err(TrainError::MonitorUnavailable { monitor: Monitor::ValLoss })
    );
    assert_eq!(
        trainer(3).fit_with_callbacks(&mut model, &xs, &labels, val, ReduceLROnPlateau::new().monitor(Monitor::ValMae)),
        Err(TrainError::MonitorUnavailable { monitor: Monitor::ValMae })
    );
    // The second of two callbacks refuses: the first's check passed, nothing trained.
    assert_eq!(
        trainer(3).fit_with_callbacks(
            &mut model,
            &xs,
            &labels,
            None,
            (ReduceLROnPlateau::new().monitor(Monitor::Loss), EarlyStopping::new())
        ),
        Err(TrainError::MonitorUnavailable { monitor: Monitor::ValLoss })
    );
    assert_eq!(model, before);
}

#[test]
fn a_learning_rate_a_callback_sets_is_checked() {
    struct Zero;
    impl<M> Callback<M, f32> for Zero {
        fn on_epoch_end(&mut self, _: &EpochStats, _: &mut M, c: &mut Control) -> Result<(), TrainError> {
            c.set_learning_rate(0.0);
            Ok(())
        }
    }
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let r = trainer(3).fit_with_callbacks(&mut model, &xs, &labels, None, Zero);
    assert!(matches!(r, Err(TrainError::InvalidHyperParameter(e)) if e.name == "learning_rate"), "{r:?}");
}

#[test]
fn the_history_records_the_rate_a_schedule_gave_each_epochs_last_step() {
    use typed_nn::optim::{ExponentialDecay, LearningRateSchedule};
    let (xs, labels) = data();
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    // 16 samples in batches of 4: 4 updates per epoch; the last of epoch e is update 4e − 1.
    let schedule = ExponentialDecay::new(0.05, 3, 0.5);
    let mut t = trainer(5).learning_rate(schedule);
    let history = t.fit(&mut model, &xs, &labels).unwrap();
    let expected: Vec<f64> = (1..=5).map(|e| 0.05 * 0.5f64.powf((4 * e - 1) as f64 / 3.0)).collect();
    let recorded = history.column(|e| Some(e.learning_rate));
    for (r, e) in recorded.iter().zip(&expected) {
        assert!((r - e).abs() < 1e-12 * e, "{recorded:?} vs {expected:?}");
    }
    assert_eq!(recorded[0], schedule.learning_rate(3));
    // A callback cannot set the rate a schedule sets.
    let plateau = ReduceLROnPlateau::new().monitor(Monitor::Loss);
    let mut model: Net = Params::init(&mut SeedRng::seed(2));
    let before = model.clone();
    assert_eq!(
        trainer(5).learning_rate(schedule).fit_with_callbacks(&mut model, &xs, &labels, None, plateau),
        Err(TrainError::RateSetWithSchedule { epoch: 0 })
    );
    assert_eq!(model, before);
}
