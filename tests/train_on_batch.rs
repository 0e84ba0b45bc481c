//! `train_on_batch` (issue 17): one Keras-like step that clears the gradient itself. The
//! expected weights are computed here by hand, in f64, from the formulas of a linear layer
//! under mean squared error and plain SGD; a step that kept the previous batch's gradient
//! (the bug `zero_params` exists to prevent) lands elsewhere from the second step on.

use typed_nn::backprop::Workspace;
use typed_nn::optim::Sgd;
use typed_nn::params::update_state;
use typed_nn::prelude::*;

type Linear = Dense<2, 1>;

const XS: [[f64; 2]; 3] = [[1.0, 2.0], [-1.0, 0.5], [0.25, -1.5]];
const TS: [f64; 3] = [1.0, -2.0, 0.5];
const LR: f64 = 0.1;

/// `(w₀, w₁, b)` after each of `steps` SGD steps on the mean of `(w·x + b − t)²`, and the
/// loss each step reports (before its update).
fn by_hand(steps: usize) -> Vec<([f64; 3], f64)> {
    let (mut w, mut b) = ([0.5, -0.25], 0.125);
    let n = XS.len() as f64;
    let mut out = Vec::new();
    for _ in 0..steps {
        let (mut gw, mut gb, mut loss) = ([0.0; 2], 0.0, 0.0);
        for (x, t) in XS.iter().zip(TS) {
            let e = w[0] * x[0] + w[1] * x[1] + b - t;
            loss += e * e / n;
            gw[0] += 2.0 * e * x[0] / n;
            gw[1] += 2.0 * e * x[1] / n;
            gb += 2.0 * e / n;
        }
        w = [w[0] - LR * gw[0], w[1] - LR * gw[1]];
        b -= LR * gb;
        out.push(([w[0], w[1], b], loss));
    }
    out
}

fn model() -> Linear {
    Dense::new([[0.5], [-0.25]], [0.125])
}

fn data() -> (Vec<Vector<2>>, Vec<Vector<1>>) {
    let xs = XS.iter().map(|x| Vector::from([x[0] as f32, x[1] as f32])).collect();
    let ts = TS.iter().map(|&t| Vector::from([t as f32])).collect();
    (xs, ts)
}

fn assert_step(model: &Linear, loss: f32, expected: ([f64; 3], f64), step: usize) {
    let got = [model.kernel[0][0], model.kernel[1][0], model.bias[0]];
    for (g, e) in got.iter().zip(expected.0) {
        assert!((f64::from(*g) - e).abs() < 1e-6, "step {step}: weights {got:?}, expected {:?}", expected.0);
    }
    assert!((f64::from(loss) - expected.1).abs() < 1e-6, "step {step}: loss {loss}, expected {}", expected.1);
}

#[test]
fn each_step_starts_from_a_cleared_gradient() {
    let (xs, ts) = data();
    let mut model = model();
    // A gradient buffer full of junk, as a previous loop would leave it: it must not count.
    let mut grad = Dense::new([[100.0], [-100.0]], [100.0]);
    let mut opt = Sgd::new(LR);
    for (step, expected) in by_hand(4).into_iter().enumerate() {
        let loss = train_on_batch(&mut model, &xs, &ts, &MeanSquaredError, &mut opt, &mut grad).unwrap();
        assert_step(&model, loss, expected, step);
    }
    assert_eq!(opt.iterations(), 4);
}

#[test]
fn the_batched_kernels_take_the_same_steps() {
    let (xs, ts) = data();
    let mut model = model();
    let mut grad = Dense::new([[100.0], [-100.0]], [100.0]);
    let (mut opt, mut workspace) = (Sgd::new(LR), Workspace::new());
    for (step, expected) in by_hand(4).into_iter().enumerate() {
        let loss =
            train_on_batch_with(&mut model, &xs, &ts, &MeanSquaredError, &mut opt, &mut grad, &mut workspace).unwrap();
        assert_step(&model, loss, expected, step);
    }
}

/// The batch-norm's moving statistics move too, as after a step of the `Trainer`: the same
/// as clearing, accumulating, stepping and updating the state by hand. (Through the batched
/// kernels: sample by sample, a batch norm runs in inference mode and has no state update.)
#[test]
fn the_state_update_follows_the_step() {
    type Net = (Dense<2, 3>, BatchNormalization<3>, Dense<3, 1>);
    let (xs, ts) = data();
    let start: Net = Net::init(&mut SeedRng::seed(3));
    let (mut ours, mut theirs) = (start.clone(), start);
    let (mut grad, mut g2) = (Net::default(), Net::default());
    let (mut opt, mut o2) = (Sgd::new(LR), Sgd::new(LR));
    let (mut w1, mut w2) = (Workspace::new(), Workspace::new());
    for _ in 0..3 {
        train_on_batch_with(&mut ours, &xs, &ts, &MeanSquaredError, &mut opt, &mut grad, &mut w1).unwrap();
        g2.zero_params();
        value_and_grad_batch(&theirs, &xs, &ts, &MeanSquaredError, &mut g2, &mut w2).unwrap();
        o2.step(&mut theirs, &g2);
        update_state(&mut theirs, &g2);
    }
    assert!(ours.1.moving_mean.iter().all(|&m| m != 0.0), "{:?}", ours.1.moving_mean);
    assert_eq!(ours, theirs);
}

#[test]
fn a_bad_batch_changes_nothing() {
    let (xs, ts) = data();
    let mut model = model();
    let mut grad = Linear::default();
    let mut opt = Sgd::new(LR);
    let empty: [Vector<2>; 0] = [];
    assert_eq!(train_on_batch(&mut model, &empty, &[], &MeanSquaredError, &mut opt, &mut grad), Err(BatchError::Empty));
    assert_eq!(
        train_on_batch(&mut model, &xs, &ts[..2], &MeanSquaredError, &mut opt, &mut grad),
        Err(BatchError::TargetCountMismatch { inputs: 3, targets: 2 })
    );
    assert_eq!(model, self::model());
    assert_eq!(opt.iterations(), 0);
}
