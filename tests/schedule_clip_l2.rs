//! Learning-rate schedules, gradient clipping and L2 kernel regularisation against Keras 3
//! (tests/fixtures/keras_schedule_clip_l2.safetensors, written by
//! scripts/keras_schedule_clip_l2_fixtures.py):
//!
//! - each schedule's value at steps 0..=40;
//! - eight runs of six training steps (three batches of 8, twice) from the same initial weights,
//!   compared after *every* step: the reported loss (with the L2 term) and every weight (and the
//!   moving statistics of the CNN's BatchNormalization), first with the building blocks in a
//!   loop of our own, then through the `Trainer`.

mod common;

use common::{Fixture, assert_close};
use typed_nn::optim::{Clip, CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay};
use typed_nn::params::update_state;
use typed_nn::prelude::*;
use typed_nn::regularizer::L2;

const FILE: &str = "keras_schedule_clip_l2.safetensors";

#[test]
fn schedules_match_keras_at_every_step() {
    let fx = Fixture::load(FILE);
    let cases: [(&str, &dyn LearningRateSchedule); 5] = [
        ("exp", &ExponentialDecay::new(0.1, 7, 0.5)),
        ("exp_staircase", &ExponentialDecay::new(0.1, 7, 0.5).staircase(true)),
        ("cosine", &CosineDecay::new(0.1, 20).alpha(0.1)),
        ("cosine_warmup", &CosineDecay::new(0.0, 20).warmup(0.2, 5)),
        ("piecewise", &PiecewiseConstantDecay::new([5, 12], [0.1, 0.05, 0.01])),
    ];
    for (name, schedule) in cases {
        let ours: Vec<f32> = (0..=40).map(|step| schedule.learning_rate(step) as f32).collect();
        // Keras computes in float32, we in f64: they agree to float32 rounding.
        assert_close(&format!("sched.{name}"), &ours, &fx.f32s(&format!("sched.{name}")), 1e-9, 1e-6);
    }
}

type Mlp = (Dense<4, 6, Relu>, Dense<6, 3, Softmax>);
type Cnn = (Conv2D<1, 2, 3, Relu>, BatchNormalization<2>, Flatten, Dense<18, 3, Softmax>);

const MLP_PARAMS: [&str; 4] = ["0.kernel", "0.bias", "1.kernel", "1.bias"];
const CNN_PARAMS: [&str; 6] = ["0.kernel", "0.bias", "1.gamma", "1.beta", "3.kernel", "3.bias"];
const CNN_STATE: [&str; 2] = ["1.moving_mean", "1.moving_variance"];

/// One run of the fixture: its optimizer, schedule, clipping and regulariser as typed-nn
/// spells them.
struct Run<M> {
    name: &'static str,
    optimizer: Box<dyn Optimizer<M>>,
    schedule: Box<dyn LearningRateSchedule>,
    clip: Option<Clip>,
    l2: Option<L2>,
}

fn mlp_runs() -> Vec<Run<Mlp>> {
    let run = |name, optimizer: Box<dyn Optimizer<Mlp>>, schedule: Box<dyn LearningRateSchedule>, clip| Run {
        name,
        optimizer,
        schedule,
        clip,
        l2: None,
    };
    vec![
        run("sgd_exp", Box::new(Sgd::new(0.01)), Box::new(ExponentialDecay::new(0.5, 2, 0.5).staircase(true)), None),
        run(
            "adam_cosine",
            Box::new(Adam::new(0.001)),
            Box::new(CosineDecay::new(0.0, 4).alpha(0.1).warmup(0.05, 2)),
            None,
        ),
        run(
            "momentum_piecewise",
            Box::new(Sgd::with_momentum(0.01, 0.9)),
            Box::new(PiecewiseConstantDecay::new([1, 3], [0.3, 0.1, 0.03])),
            None,
        ),
        run("clipnorm", Box::new(Sgd::new(0.5)), Box::new(0.5), Some(Clip::Norm(0.18))),
        run("clipvalue", Box::new(Sgd::new(0.5)), Box::new(0.5), Some(Clip::Value(0.02))),
        run("global_clipnorm", Box::new(Sgd::new(0.5)), Box::new(0.5), Some(Clip::GlobalNorm(0.05))),
    ]
}

fn cnn_runs() -> Vec<Run<Cnn>> {
    vec![
        Run {
            name: "l2",
            optimizer: Box::new(Sgd::new(0.2)),
            schedule: Box::new(0.2),
            clip: None,
            l2: Some(L2::new(0.01)),
        },
        Run {
            name: "l2_adam_all",
            optimizer: Box::new(Adam::new(0.001)),
            schedule: Box::new(ExponentialDecay::new(0.05, 3, 0.5)),
            clip: Some(Clip::GlobalNorm(0.5)),
            l2: Some(L2::new(0.01)),
        },
    ]
}

/// A model with the fixture's tensors `{prefix}{name}`: parameters, then state, in order.
fn load<M: Params<f32> + Default>(fx: &Fixture, prefix: &str, params: &[&str], state: &[&str]) -> M {
    let mut model = M::default();
    let (mut p, mut s) = (0, 0);
    for (dst, name) in model.params_mut().zip(params) {
        dst.copy_from_slice(&fx.f32s(&format!("{prefix}{name}")));
        p += 1;
    }
    for (dst, name) in model.state_mut().zip(state) {
        dst.copy_from_slice(&fx.f32s(&format!("{prefix}{name}")));
        s += 1;
    }
    assert_eq!((p, s), (params.len(), state.len()), "one tensor per name");
    model
}

/// Every weight and state tensor of `model` against Keras' after step `step` of run `run`.
fn compare<M: Params<f32>>(fx: &Fixture, model: &M, run: &str, step: usize, params: &[&str], state: &[&str]) {
    for (ours, name) in model.params().zip(params).chain(model.state().zip(state)) {
        let what = format!("{run}.step{step}.{name}");
        // Six float32 steps on both sides, summed in different orders: a few ulps of drift.
        assert_close(&what, ours, &fx.f32s(&what), 2e-6, 2e-5);
    }
}

/// Six steps with the building blocks, compared with Keras after each: the recipe a loop of
/// your own follows (and the `Trainer` too).
fn replay<M, X>(kind: &str, runs: Vec<Run<M>>, params: &[&str], state: &[&str])
where
    X: Tensor<Elem = f32>,
    M: Backward<X> + Params<f32> + Default,
{
    let fx = Fixture::load(FILE);
    let xs: Vec<X> = fx.samples(&format!("{kind}.x"));
    let labels = fx.indices(&format!("{kind}.labels"));
    let loss = SparseCategoricalCrossentropy::default();
    for mut run in runs {
        let mut model: M = load(&fx, &format!("{kind}.init."), params, state);
        let mut grad = M::default();
        let mut workspace = Workspace::new();
        for step in 1..=6 {
            let batch = ((step - 1) % 3) * 8..((step - 1) % 3 + 1) * 8;
            grad.zero_params();
            let mut value =
                value_and_grad_batch(&model, &xs[batch.clone()], &labels[batch], &loss, &mut grad, &mut workspace)
                    .unwrap();
            if let Some(l2) = run.l2 {
                value += l2.add_to(&model, &mut grad).unwrap();
            }
            if let Some(clip) = run.clip {
                assert!(clips(clip, &grad), "{}, step {step}: {clip:?} leaves this gradient as it is", run.name);
                clip.apply(&mut grad);
            }
            let lr = run.schedule.learning_rate(run.optimizer.iterations());
            run.optimizer.set_learning_rate(lr);
            run.optimizer.step(&mut model, &grad);
            update_state(&mut model, &grad);
            let name = run.name;
            assert_close(
                &format!("{name}.loss{step}"),
                &[value],
                &[fx.scalar(&format!("{name}.loss{step}"))],
                1e-6,
                1e-5,
            );
            compare(&fx, &model, name, step, params, state);
        }
    }
}

/// Whether `clip` changes `grad` (its bound is exceeded), computed here in f64: every fixture
/// run with clipping clips at every one of its six steps, or its comparison would not show
/// that clipping is done right (`l2_adam_all`'s gradient has a global norm of 1.6 to 3.6
/// against its bound of 0.5).
fn clips<M: Params<f32>>(clip: Clip, grad: &M) -> bool {
    let norm = |g: &[f32]| g.iter().map(|&g| f64::from(g).powi(2)).sum::<f64>().sqrt();
    match clip {
        Clip::Norm(c) => grad.params().any(|g| norm(g) > c),
        Clip::GlobalNorm(c) => grad.params().map(|g| norm(g).powi(2)).sum::<f64>().sqrt() > c,
        Clip::Value(v) => grad.params().flatten().any(|&g| f64::from(g).abs() > v),
    }
}

#[test]
fn schedules_and_clipping_retrace_keras_step_by_step() {
    replay::<Mlp, Vector<4>>("mlp", mlp_runs(), &MLP_PARAMS, &[]);
}

#[test]
fn l2_kernel_regularisation_retraces_keras_step_by_step_with_batch_normalization() {
    replay::<Cnn, Image<5, 5, 1>>("cnn", cnn_runs(), &CNN_PARAMS, &CNN_STATE);
}

#[test]
fn the_fixture_runs_differ_from_plain_training() {
    // Each feature must change the numbers by far more than the tolerances above, or the
    // comparisons would pass without it: the clipped runs against each other (same SGD(0.5),
    // same data), and the L2 run's loss against its data loss alone.
    let fx = Fixture::load(FILE);
    let step1 = |run: &str| fx.f32s(&format!("{run}.step1.0.kernel"));
    for (a, b) in [("clipnorm", "clipvalue"), ("clipvalue", "global_clipnorm"), ("clipnorm", "global_clipnorm")] {
        let gap = step1(a).iter().zip(step1(b)).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(gap > 1e-3, "{a} and {b} differ by only {gap:e}");
    }
    let xs: Vec<Image<5, 5, 1>> = fx.samples("cnn.x");
    let labels = fx.indices("cnn.labels");
    let model: Cnn = load(&fx, "cnn.init.", &CNN_PARAMS, &CNN_STATE);
    let data_loss = value_and_grad_batch(
        &model,
        &xs[..8],
        &labels[..8],
        &SparseCategoricalCrossentropy::default(),
        &mut Cnn::default(),
        &mut Workspace::new(),
    )
    .unwrap();
    assert!(fx.scalar("l2.loss1") - data_loss > 0.05, "{} vs {data_loss}", fx.scalar("l2.loss1"));
}

/// A run's boxed optimizer and schedule, as the `Trainer`'s type parameters.
struct Dyn<B: ?Sized>(Box<B>);

impl<M> Optimizer<M> for Dyn<dyn Optimizer<M>> {
    fn step(&mut self, model: &mut M, grad: &M) {
        self.0.step(model, grad);
    }
    fn learning_rate(&self) -> f64 {
        self.0.learning_rate()
    }
    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.0.set_learning_rate(learning_rate);
    }
    fn iterations(&self) -> u64 {
        self.0.iterations()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

impl LearningRateSchedule for Dyn<dyn LearningRateSchedule> {
    fn learning_rate(&self, step: u64) -> f64 {
        self.0.learning_rate(step)
    }
}

/// The same six steps through `Trainer::fit` (batches of 8 in order, two epochs): each epoch's
/// reported loss is the mean of Keras' three batch losses, and the final weights are Keras'.
fn fit<M, X>(kind: &str, runs: Vec<Run<M>>, params: &[&str], state: &[&str])
where
    X: Tensor<Elem = f32>,
    M: Backward<X> + Params<f32> + Default + Zeros,
{
    let fx = Fixture::load(FILE);
    let xs: Vec<X> = fx.samples(&format!("{kind}.x"));
    let labels = fx.indices(&format!("{kind}.labels"));
    for run in runs {
        let name = run.name;
        let mut model: M = load(&fx, &format!("{kind}.init."), params, state);
        let mut trainer = Trainer::new(Dyn(run.optimizer), SparseCategoricalCrossentropy::default())
            .epochs(2)
            .batch_size(8)
            .shuffle(false)
            .learning_rate(Dyn(run.schedule));
        trainer = match run.clip {
            Some(Clip::Norm(c)) => trainer.clipnorm(c),
            Some(Clip::GlobalNorm(c)) => trainer.global_clipnorm(c),
            Some(Clip::Value(v)) => trainer.clipvalue(v),
            _ => trainer,
        };
        if let Some(l2) = run.l2 {
            trainer = trainer.kernel_regularizer(l2);
        }
        let mut losses = Vec::new();
        trainer
            .fit_with(&mut model, &xs, &labels, None, |e| {
                losses.push(e.loss as f32);
                core::ops::ControlFlow::Continue(())
            })
            .unwrap();
        let keras: Vec<f32> = [1..=3, 4..=6]
            .map(|steps| steps.map(|s| fx.scalar(&format!("{name}.loss{s}"))).sum::<f32>() / 3.0)
            .to_vec();
        assert_close(&format!("{name} epoch losses"), &losses, &keras, 1e-6, 1e-5);
        compare(&fx, &model, name, 6, params, state);
    }
}

#[test]
fn the_trainer_applies_schedules_and_clipping_as_keras_does() {
    fit::<Mlp, Vector<4>>("mlp", mlp_runs(), &MLP_PARAMS, &[]);
}

#[test]
fn the_trainer_adds_l2_to_the_reported_loss_and_the_gradient_as_keras_does() {
    fit::<Cnn, Image<5, 5, 1>>("cnn", cnn_runs(), &CNN_PARAMS, &CNN_STATE);
}

#[test]
fn settings_that_cannot_be_right_are_typed_errors_before_training_and_the_model_is_untouched() {
    let fx = Fixture::load(FILE);
    let xs: Vec<Vector<4>> = fx.samples("mlp.x");
    let labels = fx.indices("mlp.labels");
    let initial: Mlp = load(&fx, "mlp.init.", &MLP_PARAMS, &[]);
    let trainer = || Trainer::new(Sgd::new(0.1), SparseCategoricalCrossentropy::default()).epochs(2);
    let refused = |result: Result<History, TrainError>| match result {
        Err(TrainError::InvalidHyperParameter(e)) => (e.name, e.value),
        other => panic!("expected InvalidHyperParameter, got {other:?}"),
    };
    let mut model = initial.clone();
    let cases = [
        (refused(trainer().learning_rate(f64::NAN).fit(&mut model, &xs, &labels)), "learning_rate"),
        (
            refused(
                trainer().learning_rate(ExponentialDecay::new(f64::INFINITY, 10, 0.9)).fit(&mut model, &xs, &labels),
            ),
            "initial_learning_rate",
        ),
        (
            refused(trainer().learning_rate(ExponentialDecay::new(0.1, 0, 0.9)).fit(&mut model, &xs, &labels)),
            "decay_steps",
        ),
        (refused(trainer().clipnorm(0.0).fit(&mut model, &xs, &labels)), "clipnorm"),
        (refused(trainer().global_clipnorm(-1.0).fit(&mut model, &xs, &labels)), "global_clipnorm"),
        (refused(trainer().clipvalue(f64::NAN).fit(&mut model, &xs, &labels)), "clipvalue"),
        (refused(trainer().kernel_regularizer(L2::new(-1e-4)).fit(&mut model, &xs, &labels)), "l2"),
    ];
    for ((name, _), expected) in cases {
        assert_eq!(name, expected);
    }
    assert_eq!(model, initial, "no step was taken");
    // The message names the setting, its value and the rule.
    let err = trainer().clipnorm(-0.5).fit(&mut model, &xs, &labels).unwrap_err();
    assert_eq!(err.to_string(), "clipnorm is -0.5; it must be a finite number > 0");
}

#[test]
fn a_run_that_a_schedule_makes_diverge_comes_back_with_the_weights_before_the_failing_step() {
    // Two updates at 0.1, then a rate of 1e300 (+∞ in f32): the third update makes the weights
    // infinite or NaN. With clipping and L2 set too, the `Trainer` still undoes that update
    // alone: the model is the one two good updates made.
    let fx = Fixture::load(FILE);
    let xs: Vec<Vector<4>> = fx.samples("mlp.x");
    let labels = fx.indices("mlp.labels");
    let initial: Mlp = load(&fx, "mlp.init.", &MLP_PARAMS, &[]);
    let trainer = || {
        Trainer::new(Sgd::with_momentum(0.01, 0.9), SparseCategoricalCrossentropy::default())
            .batch_size(8)
            .shuffle(false)
            .learning_rate(PiecewiseConstantDecay::new([1], [0.1, 1e300]))
            .clipnorm(1.0)
            .kernel_regularizer(L2::new(0.01))
    };
    let mut diverged = initial.clone();
    let mut failing = trainer().epochs(3);
    assert_eq!(failing.fit(&mut diverged, &xs, &labels), Err(TrainError::NonFiniteParams { epoch: 1, step: 3 }));
    assert_eq!(failing.optimizer.iterations(), 0, "the optimizer was reset");
    // The same two updates, and no third: the first 16 samples in two batches of 8.
    let mut two_steps = initial.clone();
    trainer().fit(&mut two_steps, &xs[..16], &labels[..16]).unwrap();
    assert_ne!(two_steps, initial);
    assert!(two_steps.params().flatten().all(|w| w.is_finite()));
    assert_eq!(diverged, two_steps);
}

#[test]
fn the_trainer_regularises_depthwise_kernels_with_depthwise_regularizer_only() {
    // Keras 3: `DepthwiseConv2D` takes `depthwise_regularizer`, not `kernel_regularizer`. With a
    // learning rate of 1e-30 the step changes nothing visible, so the reported loss is the data
    // loss (from `evaluate`) plus the penalty of the weights below.
    type Separable = (DepthwiseConv2D<2, 3, Relu>, Conv2D<2, 3, 1, Relu>, Flatten, Dense<27, 2, Softmax>);
    let mut model: Separable = Separable::init(&mut SeedRng::seed(5));
    let xs: Vec<Image<5, 5, 2>> = (0..4)
        .map(|s| {
            Image::new(core::array::from_fn(|y| {
                core::array::from_fn(|x| core::array::from_fn(|c| ((s + 2 * y + 3 * x + c) % 7) as f32 / 7.0 - 0.4))
            }))
        })
        .collect();
    let labels = [0, 1, 1, 0];
    let squares = |w: &[f32]| w.iter().map(|&w| f64::from(w).powi(2)).sum::<f64>();
    let depthwise = squares(model.0.kernel.as_flattened().as_flattened().as_flattened());
    let kernels =
        squares(model.1.kernel.as_flattened().as_flattened().as_flattened()) + squares(model.3.kernel.as_flattened());
    let trainer = || Trainer::new(Sgd::new(1e-30), SparseCategoricalCrossentropy::default()).batch_size(4);
    let data_loss = trainer().evaluate(&model, &xs, &labels).unwrap().loss;
    let cases = [
        (trainer().kernel_regularizer(L2::new(0.1)), 0.1 * kernels),
        (trainer().depthwise_regularizer(L2::new(0.1)), 0.1 * depthwise),
        (
            trainer().kernel_regularizer(L2::new(0.1)).depthwise_regularizer(L2::new(0.2)),
            0.1 * kernels + 0.2 * depthwise,
        ),
    ];
    for (i, (mut trainer, penalty)) in cases.into_iter().enumerate() {
        let reported = trainer.fit(&mut model, &xs, &labels).unwrap().loss;
        assert!((reported - data_loss - penalty).abs() < 1e-5, "case {i}: {reported} - {data_loss} vs {penalty}");
    }
    // The penalties differ enough for the comparisons to tell them apart.
    assert!((0.1 * kernels - 0.1 * depthwise).abs() > 1e-2, "{kernels} {depthwise}");
}
