//! The update that follows each gradient: the optimizer's step on the model, checked, and
//! undone if it made a weight NaN or infinite.
//!
//! Everything that changes the model after a batch's gradient is known happens in
//! [`Undo::update`], in this order: copy the weights (the undo copy), the optimizer's step,
//! then the check. A change of the model that training makes besides the optimizer's (such as
//! updating a normalisation layer's moving statistics) belongs between the step and the
//! check, so that a broken update is caught and undone as one.

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
        if all_finite(model) {
            return Ok(());
        }
        copy_params(model, &self.before);
        optimizer.reset();
        Err(BrokenWeights)
    }
}

/// Copies every parameter of `src` into `dst` (the same type, so the tensors line up).
fn copy_params<T: Scalar, M: Params<T>>(dst: &mut M, src: &M) {
    for (d, s) in dst.params_mut().zip(src.params()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = s;
        }
    }
}

/// Whether every parameter is finite. A non-short-circuiting OR per tensor, so the loop
/// vectorises (as the input check in `validation.rs` does).
fn all_finite<T: Scalar, M: Params<T>>(model: &M) -> bool {
    model.params().all(|p| !p.iter().fold(false, |bad, v| bad | !v.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dense;
    use crate::optim::Sgd;

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
}
