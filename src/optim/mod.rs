//! Optimizers with Keras 3's update rules and defaults: [`Sgd`] (with momentum and Nesterov),
//! [`Adam`], [`AdamW`] and [`RmsProp`].
//!
//! An optimizer's state has the model's own type: Adam's first and second moment estimates are
//! two more values of type `M`, so one step is a zip over the parameter visitor of the model,
//! its gradient and the state — no lookup by name, no heap (a boxed model gets boxed state).
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<4, 8, Relu>, Dense<8, 3, Softmax>);
//! let mut model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let mut grad = Mlp::default();
//! let mut opt = Adam::new(0.01);
//! let x = Vector::from([0.5, -1.0, 2.0, 0.0]);
//! let loss = SparseCategoricalCrossentropy::default();
//! let before = value_and_grad(&model, &x, &2, &loss, &mut grad)?;
//! for _ in 0..20 {
//!     grad.zero_params();
//!     value_and_grad(&model, &x, &2, &loss, &mut grad)?;
//!     opt.step(&mut model, &grad);
//! }
//! let after = value_and_grad(&model, &x, &2, &loss, &mut grad)?;
//! assert!(after < before / 2.0, "{before} -> {after}");
//! # Ok::<(), typed_nn::BatchError>(())
//! ```

mod adam;
pub mod clip;
// From the `training` branch (not on main yet; its docs adapted to main), which also uses `decay`.
#[allow(dead_code)]
pub(crate) mod hyperparameter;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use clip::Clip;
pub use hyperparameter::HyperParameterError;
pub use rmsprop::RmsProp;
pub use schedule::{CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay};
pub use sgd::Sgd;

use crate::{Params, Scalar};

/// Updates a model from its gradient.
///
/// `M` is the model type; the optimizer's state (if any) holds values of type `M`, created on
/// the first step.
pub trait Optimizer<M> {
    /// Applies one update to `model` given `grad`, a value of the same type holding `∂L/∂θ`.
    fn step(&mut self, model: &mut M, grad: &M);

    /// The learning rate.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (for schedules); the state is kept.
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// Steps taken so far (Keras' `iterations`).
    fn iterations(&self) -> u64;
}

/// A zeroed value of the model type, for optimizer state.
fn zeros<M: Params<T> + Default, T: Scalar>() -> M {
    let mut m = M::default();
    m.zero_params();
    m
}

/// Calls `update(w, g, s)` for every parameter of `model` with the matching element of `grad`
/// and of one state value.
fn for_each3<M: Params<T>, T: Scalar>(model: &mut M, grad: &M, a: &mut M, mut update: impl FnMut(&mut T, T, &mut T)) {
    let tensors = model.params_mut().zip(grad.params()).zip(a.params_mut());
    for ((w, g), a) in tensors {
        for ((w, &g), a) in w.iter_mut().zip(g).zip(a.iter_mut()) {
            update(w, g, a);
        }
    }
}

/// Calls `update(w, g, s₁, s₂)` for every parameter of `model` with the matching element of
/// `grad` and of two state values.
fn for_each4<M: Params<T>, T: Scalar>(
    model: &mut M,
    grad: &M,
    a: &mut M,
    b: &mut M,
    mut update: impl FnMut(&mut T, T, &mut T, &mut T),
) {
    let tensors = model.params_mut().zip(grad.params()).zip(a.params_mut()).zip(b.params_mut());
    for (((w, g), a), b) in tensors {
        for (((w, &g), a), b) in w.iter_mut().zip(g).zip(a.iter_mut()).zip(b.iter_mut()) {
            update(w, g, a, b);
        }
    }
}
