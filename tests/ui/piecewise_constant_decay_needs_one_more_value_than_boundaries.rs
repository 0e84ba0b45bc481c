// Two boundaries cut the steps into three intervals, so PiecewiseConstantDecay needs three
// values (Keras raises a ValueError at run time; here the program does not build).
use typed_nn::optim::{LearningRateSchedule, PiecewiseConstantDecay};

fn main() {
    let schedule = PiecewiseConstantDecay::new([100, 200], [0.1, 0.01]);
    let _lr = schedule.learning_rate(0);
}
