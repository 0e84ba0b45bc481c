//! The update that follows each gradient: the optimizer's step on the model, checked, and
//! undone if it made a weight NaN or infinite.
//!
//! Everything that changes the model after a batch's gradient is known happens in
//! [`Undo::update`], in this order: copy the weights and the state (the undo copy), the
//! optimizer's step, the check of the weights, the state update
//! ([`update_state`](crate::params::update_state): batch normalisation's moving statistics,
//! dropout's step counter), then the check of the state. Another change of the model that
//! training makes besides the optimizer's belongs there too, before the last check, so that a
//! broken update is caught and undone as one.

use crate::{Optimizer, Params, Scalar, Zeros};

/// The weights before the current step, kept to put them back if the step breaks them.
///
/// # Allocation
/// One value of the model type, made once per `fit` call with [`Zeros`] (zeroed on the heap
/// for a boxed model); each step copies the weights into it.
pub(crate) struct Undo<M> {
    before: M,
}

/// The update made a weight NaN or infinite; the weights are back to before it and the
/// optimizer was reset.
pub(crate) struct BrokenWeights;

impl<M: Zeros> Undo<M> {
    pub(crate) fn new() -> Self {
        Self { before: M::zeros() }
    }
}

impl<M> Undo<M> {
    /// Applies `optimizer`'s step to `model` with `grad`. If a weight comes out NaN or
    /// infinite, puts every weight back as it was before the step, resets the optimizer (the
    /// step has already changed its state) and returns [`BrokenWeights`].
    pub(crate) fn update<T: Scalar, O: Optimizer<M>>(
        &mut self,
        optimizer: &mut O,
        model: &mut M,
        grad: &M,
    ) -> Result<(), BrokenWeights>
    where
        M: Params<T>,
    {
        copy_params(&mut self.before, model);
        optimizer.step(model, grad);
        // The state update only follows a step that kept the weights finite, so an undone
        // step leaves the state (and a dropout's step counter) as it was.
        if all_finite(model.params()) {
            crate::params::update_state(model, grad);
            if all_finite(model.state()) {
                return Ok(());
            }
        }
        // A dropout's step counter is not a tensor and is not put back: after a broken state
        // update it is one step ahead (it only picks the next masks).
        copy_params(model, &self.before);
        optimizer.reset();
        Err(BrokenWeights)
    }
}

/// Copies every parameter and every state tensor of `src` into `dst` (the same type, so the
/// tensors line up).
fn copy_params<T: Scalar, M: Params<T>>(dst: &mut M, src: &M) {
    for (d, s) in dst.params_mut().zip(src.params()) {
        copy_into(d, s);
    }
    for (d, s) in dst.state_mut().zip(src.state()) {
        copy_into(d, s);
    }
}

/// `copy_from_slice` without its panic on a length mismatch (the tensors of one type match).
fn copy_into<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// Whether every value of the tensors is finite. A non-short-circuiting OR per tensor, so the
/// loop vectorises (as the input check in `validation.rs` does).
fn all_finite<'a, T: Scalar>(mut tensors: impl Iterator<Item = &'a [T]>) -> bool {
    tensors.all(|p| !p.iter().fold(false, |bad, v| bad | !v.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Sgd;
    use crate::{BatchNormalization, Dense};

    fn weights(d: &Dense<1, 1>) -> (f32, f32) {
        (d.kernel[0][0], d.bias[0])
    }

    #[test]
    fn a_step_that_keeps_the_weights_finite_is_applied() {
        let mut model: Dense<1, 1> = Dense::new([[1.0]], [0.5]);
        let mut sgd = Sgd::with_momentum(0.5, 0.9);
        let mut undo = Undo::new();
        assert!(undo.update::<f32, _>(&mut sgd, &mut model, &Dense::new([[2.0]], [-1.0])).is_ok());
        assert_eq!(weights(&model), (0.0, 1.0));
        assert_eq!(sgd.iterations(), 1);
    }

    #[test]
    fn a_step_that_overflows_a_weight_is_undone_and_the_optimizer_reset() {
        let mut model: Dense<1, 1> = Dense::new([[1.0]], [0.5]);
        let mut sgd = Sgd::with_momentum(0.5, 0.9);
        let mut undo = Undo::new();
        assert!(undo.update::<f32, _>(&mut sgd, &mut model, &Dense::new([[2.0]], [-1.0])).is_ok());
        // 0.5 · 1e39 overflows f32: the kernel would become −∞.
        let huge = Dense::new([[f32::MAX]], [0.0]);
        let mut big_lr = sgd.clone();
        big_lr.learning_rate = 1e10;
        assert!(undo.update::<f32, _>(&mut big_lr, &mut model, &huge).is_err());
        assert_eq!(weights(&model), (0.0, 1.0), "the weights after the good step");
        assert_eq!(big_lr.iterations(), 0, "reset");
        // A reset optimizer steps as a new one: its velocity starts at zero again.
        let mut fresh = Sgd::with_momentum(1e10, 0.9);
        let mut a = model.clone();
        let g = Dense::new([[1e-10]], [0.0]);
        big_lr.step(&mut model, &g);
        fresh.step(&mut a, &g);
        assert_eq!(weights(&model), weights(&a));
    }

    #[test]
    fn a_nan_gradient_is_caught_after_the_step() {
        let mut model: Dense<1, 1> = Dense::new([[1.0]], [0.5]);
        let mut sgd = Sgd::new(0.1);
        let mut undo = Undo::new();
        assert!(undo.update::<f32, _>(&mut sgd, &mut model, &Dense::new([[f32::NAN]], [0.0])).is_err());
        assert_eq!(weights(&model), (1.0, 0.5));
    }

    /// `(γ, β, moving mean, moving variance)` of a one-channel batch normalisation.
    fn bn(layer: &BatchNormalization<1>) -> [f32; 4] {
        [layer.gamma[0], layer.beta[0], layer.moving_mean[0], layer.moving_variance[0]]
    }

    #[test]
    fn the_state_update_follows_a_good_step() {
        let mut model = BatchNormalization::<1>::new([1.0], [0.0], [0.5], [2.0]);
        // The gradient's state slots hold the step's update of the moving statistics.
        let grad = BatchNormalization::<1>::new([1.0], [-1.0], [0.25], [-0.5]);
        let mut undo = Undo::new();
        assert!(undo.update::<f32, _>(&mut Sgd::new(0.5), &mut model, &grad).is_ok());
        assert_eq!(bn(&model), [0.5, 0.5, 0.75, 1.5]);
    }

    #[test]
    fn an_undone_step_leaves_the_moving_statistics_as_they_were() {
        let before = [1.0, 0.0, 0.5, 2.0];
        let mut model = BatchNormalization::<1>::new([1.0], [0.0], [0.5], [2.0]);
        let mut undo = Undo::new();
        // The weights break: the state update is never applied.
        let nan_weights = BatchNormalization::<1>::new([f32::NAN], [0.0], [0.25], [0.5]);
        assert!(undo.update::<f32, _>(&mut Sgd::new(0.5), &mut model, &nan_weights).is_err());
        assert_eq!(bn(&model), before);
        // The weights stay finite but the moving variance overflows: weights and state go back.
        let inf_state = BatchNormalization::<1>::new([1.0], [1.0], [0.0], [f32::MAX]);
        model.moving_variance[0] = f32::MAX;
        assert!(undo.update::<f32, _>(&mut Sgd::new(0.5), &mut model, &inf_state).is_err());
        assert_eq!(bn(&model), [1.0, 0.0, 0.5, f32::MAX]);
    }
}
