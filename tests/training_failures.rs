//! Training that cannot be right says so (issue 12): settings that cannot be right are typed
//! errors before the first step, a run that diverges stops naming the epoch and step, and in
//! every case the model comes back with the weights it had before the failing step, the
//! optimizer's state consistent with them.

use typed_nn::optim::HyperParameterError;
use typed_nn::prelude::*;

type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);

/// Sixteen points on a grid, labelled by `x₀ > x₁`, every coordinate multiplied by `scale`.
fn data(scale: f32) -> (Vec<Vector<2>>, Vec<usize>) {
    let xs: Vec<Vector<2>> =
        (0..16).map(|i| Vector::from([((i % 4) as f32 - 1.5) * scale, ((i / 4) as f32 - 1.5) * scale])).collect();
    let labels = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
    (xs, labels)
}

fn initial() -> Net {
    Net::init(&mut SeedRng::seed(2))
}

fn weights(model: &Net) -> Vec<f32> {
    model.params().flatten().copied().collect()
}

fn trainer<O: Optimizer<Net>>(optimizer: O) -> Trainer<O, SparseCategoricalCrossentropy> {
    Trainer::new(optimizer, SparseCategoricalCrossentropy::default()).batch_size(4).shuffle(false)
}

/// The model after the first `steps` steps of `optimizer` on `xs` (in order, batches of 4), or
/// the initial model for 0 steps: what a failure at step `steps + 1` must leave behind.
fn after_steps<O: Optimizer<Net>>(optimizer: O, xs: &[Vector<2>], labels: &[usize], steps: usize) -> Vec<f32> {
    let mut model = initial();
    if steps > 0 {
        trainer(optimizer).fit(&mut model, &xs[..4 * steps], &labels[..4 * steps]).unwrap();
    }
    weights(&model)
}

/// `fit` stops with `NonFiniteParams` or `NonFiniteLoss` in the first epoch (of one epoch
/// over the 16 samples: 4 steps) and leaves exactly the weights of the steps before.
fn assert_stops_and_restores<O: Optimizer<Net> + Clone>(
    optimizer: O,
    xs: &[Vector<2>],
    labels: &[usize],
) -> TrainError {
    let mut model = initial();
    let mut t = trainer(optimizer.clone());
    let err = t.fit(&mut model, xs, labels).unwrap_err();
    let step = match err {
        TrainError::NonFiniteParams { epoch: 1, step } | TrainError::NonFiniteLoss { epoch: 1, step } => step,
        other => panic!("expected a non-finite stop in epoch 1, got {other:?}"),
    };
    assert!(weights(&model).iter().all(|w| w.is_finite()), "{err:?}: the model is left non-finite");
    assert_eq!(
        weights(&model),
        after_steps(optimizer, xs, labels, step - 1),
        "{err:?}: not the weights before the step"
    );
    err
}

#[test]
fn sgd_at_learning_rate_1e6_stops_and_leaves_the_weights_before_the_failing_step() {
    // Large inputs: the first step's loss is finite, but 1e6 · its gradient overflows f32.
    let (xs, labels) = data(1e35);
    let err = assert_stops_and_restores(Sgd::new(1e6), &xs, &labels);
    assert_eq!(err, TrainError::NonFiniteParams { epoch: 1, step: 1 });
    // Ordinary inputs: the weights stay finite and grow until a loss overflows.
    let (xs, labels) = data(1.0);
    let mut model = initial();
    let err = trainer(Sgd::new(1e6)).epochs(20).fit(&mut model, &xs, &labels).unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteParams { .. }), "{err:?}");
    assert!(weights(&model).iter().all(|w| w.is_finite()), "{err:?}");
}

#[test]
fn f32_max_inputs_stop_training_and_leave_the_weights_before_the_failing_step() {
    // x = (±f32::MAX, 0): the loss stays finite, Adam's second moment g² overflows to +∞ on the
    // first step and turns NaN on the second (∞ − ∞), making the weights NaN.
    let xs: Vec<Vector<2>> = data(1.0).0.iter().map(|x| Vector::from([x[0].signum() * f32::MAX, 0.0])).collect();
    let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > 0.0)).collect();
    let err = assert_stops_and_restores(Adam::new(0.01), &xs, &labels);
    assert!(matches!(err, TrainError::NonFiniteParams { epoch: 1, .. }), "{err:?}");
}

#[test]
fn a_step_that_is_undone_resets_the_optimizer() {
    let (xs, labels) = data(1e35);
    let mut model = initial();
    let mut t = trainer(Sgd::with_momentum(1e6, 0.9));
    assert_eq!(t.fit(&mut model, &xs, &labels), Err(TrainError::NonFiniteParams { epoch: 1, step: 1 }));
    assert_eq!(t.optimizer.iterations(), 0);
    // Training on, at a sane learning rate, is training from the restored weights with a new
    // optimizer: bit for bit.
    let (xs, labels) = data(1.0);
    t.optimizer.learning_rate = 0.1;
    t.fit(&mut model, &xs, &labels).unwrap();
    let mut fresh = initial();
    trainer(Sgd::with_momentum(0.1, 0.9)).fit(&mut fresh, &xs, &labels).unwrap();
    assert_eq!(weights(&model), weights(&fresh));
}

#[test]
fn a_refused_loss_leaves_the_optimizer_as_after_the_last_applied_step() {
    // Step 3's batch holds an input so large that its outputs, and so its loss, are NaN
    // (+∞ − ∞ in the second layer); steps 1 and 2 apply.
    let (mut xs, labels) = data(1.0);
    xs[9] = Vector::from([f32::MAX, f32::MAX]);
    let mut model = initial();
    let mut t = trainer(Adam::new(0.01));
    assert_eq!(t.fit(&mut model, &xs, &labels), Err(TrainError::NonFiniteLoss { epoch: 1, step: 3 }));
    assert_eq!(t.optimizer.iterations(), 2);
    assert_eq!(weights(&model), after_steps(Adam::new(0.01), &xs, &labels, 2));
}

/// `fit` refuses the optimizer before the first step, naming `name` and `value`, and leaves
/// the model and the optimizer untouched.
fn assert_refused<O: Optimizer<Net>>(optimizer: O, name: &str, value: f64) {
    let (xs, labels) = data(1.0);
    let mut model = initial();
    let mut t = trainer(optimizer);
    match t.fit(&mut model, &xs, &labels) {
        Err(TrainError::InvalidHyperParameter(HyperParameterError { name: n, value: v, .. })) => {
            assert_eq!(n, name);
            assert!(v == value || (v.is_nan() && value.is_nan()), "{name}: {v} vs {value}");
        }
        other => panic!("{name} = {value}: expected InvalidHyperParameter, got {other:?}"),
    }
    assert_eq!(weights(&model), weights(&initial()), "{name} = {value}: the model changed");
    assert_eq!(t.optimizer.iterations(), 0, "{name} = {value}: a step was taken");
}

#[test]
fn adam_with_a_learning_rate_of_nan_or_infinity_is_refused_before_the_first_step() {
    for lr in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.01] {
        assert_refused(Adam::new(lr), "learning_rate", lr);
    }
}

#[test]
fn adam_with_beta_1_of_one_is_refused_before_the_first_step() {
    let adam = |set: fn(&mut Adam<Net>)| {
        let mut a = Adam::new(0.01);
        set(&mut a);
        a
    };
    assert_refused(adam(|a| a.beta_1 = 1.0), "beta_1", 1.0);
    assert_refused(adam(|a| a.beta_1 = -0.1), "beta_1", -0.1);
    assert_refused(adam(|a| a.beta_2 = 1.0), "beta_2", 1.0);
    assert_refused(adam(|a| a.beta_2 = f64::NAN), "beta_2", f64::NAN);
    assert_refused(adam(|a| a.epsilon = 0.0), "epsilon", 0.0);
    assert_refused(adam(|a| a.epsilon = -1e-7), "epsilon", -1e-7);
    assert_refused(adam(|a| a.weight_decay = -0.004), "weight_decay", -0.004);
}

#[test]
fn adamw_rmsprop_and_sgd_settings_that_cannot_be_right_are_refused() {
    let mut adamw: AdamW<Net> = AdamW::new(0.01);
    adamw.beta_1 = 1.0;
    assert_refused(adamw, "beta_1", 1.0);
    assert_refused(AdamW::with_weight_decay(0.01, f64::INFINITY), "weight_decay", f64::INFINITY);
    let rms = |set: fn(&mut RmsProp<Net>)| {
        let mut r = RmsProp::new(0.01);
        set(&mut r);
        r
    };
    assert_refused(rms(|r| r.learning_rate = 0.0), "learning_rate", 0.0);
    assert_refused(rms(|r| r.rho = 1.0), "rho", 1.0);
    assert_refused(rms(|r| r.momentum = 1.0), "momentum", 1.0);
    assert_refused(rms(|r| r.epsilon = 0.0), "epsilon", 0.0);
    assert_refused(Sgd::new(-0.1), "learning_rate", -0.1);
    assert_refused(Sgd::with_momentum(0.1, 1.0), "momentum", 1.0);
    assert_refused(Sgd::nesterov(0.1, -0.9), "momentum", -0.9);
}

#[test]
fn the_settings_at_the_edges_of_their_ranges_are_accepted() {
    let (xs, labels) = data(1.0);
    let mut adam: Adam<Net> = Adam::new(1e-3);
    adam.beta_1 = 0.0;
    adam.beta_2 = 0.0;
    let mut rms: RmsProp<Net> = RmsProp::new(1e-3);
    rms.rho = 0.0;
    rms.centered = true;
    assert!(trainer(adam).fit(&mut initial(), &xs, &labels).is_ok());
    assert!(trainer(rms).fit(&mut initial(), &xs, &labels).is_ok());
    assert!(trainer(Sgd::with_momentum(1e-3, 0.0)).fit(&mut initial(), &xs, &labels).is_ok());
    let onehot: Vec<Vector<2>> = labels.iter().map(|&l| Vector::from_fn(|k| f32::from(u8::from(k == l)))).collect();
    let smoothing = |s: f64| CategoricalCrossentropy { from_logits: false, label_smoothing: s };
    for s in [0.0, 1.0] {
        assert!(Trainer::new(Sgd::new(0.1), smoothing(s)).fit(&mut initial(), &xs, &onehot).is_ok(), "{s}");
    }
}

#[test]
fn label_smoothing_outside_zero_one_is_refused_by_fit_and_evaluate() {
    let (xs, labels) = data(1.0);
    let onehot: Vec<Vector<2>> = labels.iter().map(|&l| Vector::from_fn(|k| f32::from(u8::from(k == l)))).collect();
    for s in [-0.1, 1.5, f64::NAN] {
        let mut t = Trainer::new(Sgd::new(0.1), CategoricalCrossentropy { from_logits: false, label_smoothing: s });
        let mut model = initial();
        let refused = |r: Result<EpochStats, TrainError>| matches!(r, Err(TrainError::InvalidHyperParameter(e)) if e.name == "label_smoothing");
        assert!(refused(t.fit(&mut model, &xs, &onehot).map(|h| *h.last())), "{s}");
        assert!(refused(t.evaluate(&model, &xs, &onehot)), "{s}");
        assert_eq!(weights(&model), weights(&initial()));
        let binary = Trainer::new(Sgd::<Net>::new(0.1), BinaryCrossentropy { from_logits: false, label_smoothing: s });
        let model: (Dense<2, 1, Sigmoid>,) = Zeros::zeros();
        let targets: Vec<Vector<1>> = labels.iter().map(|&l| Vector::from([l as f32])).collect();
        assert!(refused(binary.evaluate(&model, &xs, &targets)), "binary {s}");
    }
}

#[test]
fn zero_epochs_is_an_error_not_an_empty_success() {
    let (xs, labels) = data(1.0);
    let mut model = initial();
    let mut t = trainer(Adam::new(0.01)).epochs(0);
    assert_eq!(t.fit(&mut model, &xs, &labels), Err(TrainError::ZeroEpochs));
    assert_eq!(weights(&model), weights(&initial()));
}

#[test]
fn a_cross_entropy_target_outside_zero_one_is_refused_and_the_message_says_why() {
    let (xs, _) = data(1.0);
    let mut targets: Vec<Vector<2>> = xs.iter().map(|_| Vector::from([1.0, 0.0])).collect();
    targets[3] = Vector::from([1.5, -0.5]);
    let mut model = initial();
    let mut t = Trainer::new(Adam::new(0.01), CategoricalCrossentropy::default());
    let err = t.fit(&mut model, &xs, &targets).unwrap_err();
    assert_eq!(err, TrainError::InvalidLabel { index: 3 });
    assert!(err.to_string().contains("outside [0, 1]"), "{err}");
}
