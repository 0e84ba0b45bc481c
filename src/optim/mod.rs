//! Optimizers with Keras 3's update rules and defaults: [`Sgd`] (with momentum and Nesterov),
//! [`Adam`], [`AdamW`] and [`RmsProp`].
//!
//! An optimizer's state has the model's own type: Adam's first and second moment estimates are
//! two more values of type `M`, so one step is a zip over the parameter visitor of the model,
//! its gradient and the state — no lookup by name, no heap. The state is made with
//! [`Zeros`](crate::Zeros), so a boxed model gets its state in boxes, allocated zeroed on the
//! heap (never built on the stack).
//!
//! Hyper-parameters that cannot be right (a learning rate that is not a finite number above 0,
//! a `beta_1` of 1, ...) are refused by
//! [`check_hyperparameters`](Optimizer::check_hyperparameters), which the
//! [`Trainer`](crate::train::Trainer) calls before the first step; a loop of your own can call
//! it too, since [`step`](Optimizer::step) itself cannot fail.
//!
//! What Keras sets on every optimizer besides is here as building blocks that work with any
//! [`Optimizer`], yours included: learning-rate [schedules](schedule) ([`ExponentialDecay`],
//! [`CosineDecay`], [`PiecewiseConstantDecay`], asked with [`iterations`](Optimizer::iterations)
//! before each step) and gradient [clipping](clip) ([`Clip`]: Keras' `clipnorm`,
//! `global_clipnorm`, `clipvalue`), applied to the gradient before the step. An optimizer only
//! sees `&M`, so clipping lives in the loop, not in the optimizer: the
//! [`Trainer`](crate::train::Trainer) sets them with
//! [`learning_rate`](crate::train::Trainer::learning_rate) and
//! [`clipnorm`](crate::train::Trainer::clipnorm) and its siblings; a loop of your own calls
//! them in the same order (the [guide's chapter 14](crate::guide::ch14_schedules_clipping_l2)).
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
/// the first step (with [`Zeros`](crate::Zeros), for the built-in optimizers).
///
/// # Implementing it
/// [`step`](Optimizer::step), the learning-rate accessors, [`iterations`](Optimizer::iterations)
/// and [`reset`](Optimizer::reset); override
/// [`check_hyperparameters`](Optimizer::check_hyperparameters) if the optimizer has
/// hyper-parameters besides the learning rate. The [guide's chapter
/// 11](crate::guide::ch11_your_own_optimizer) writes one.
pub trait Optimizer<M> {
    /// Applies one update to `model` given `grad`, a value of the same type holding `∂L/∂θ`.
    fn step(&mut self, model: &mut M, grad: &M);

    /// Forgets what past steps built up (moments, velocity, the step count), leaving the
    /// optimizer as a new one with the same hyper-parameters.
    ///
    /// The [`Trainer`](crate::train::Trainer) calls it when a step made a weight NaN or
    /// infinite: it puts the weights back as they were before that step, and the state, which
    /// that step has already changed (and may have filled with NaN), starts over with them.
    fn reset(&mut self);

    /// `Ok` if every hyper-parameter can be right; otherwise the first one that cannot.
    ///
    /// The default checks that the [learning rate](Optimizer::learning_rate) is a finite number
    /// above 0. The built-in optimizers also check their decay rates, momenta and ε (see each
    /// one's docs).
    ///
    /// # Errors
    /// [`HyperParameterError`] naming the field, its value and the values it may take.
    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("learning_rate", self.learning_rate())
    }

    /// The learning rate.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (for schedules); the state is kept.
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// Steps taken so far (Keras' `iterations`).
    fn iterations(&self) -> u64;
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
