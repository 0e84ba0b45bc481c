//! [`RmsProp`].

use core::marker::PhantomData;

use super::hyperparameter::{self, HyperParameterError};
use super::{Optimizer, for_each3, for_each4};
use crate::{Params, Scalar, Zeros};

/// RMSprop, as Keras 3 computes it:
///
/// ```text
/// v ← ρ·v + (1 − ρ)·g²
/// centered:  ḡ ← ρ·ḡ + (1 − ρ)·g,  den = v − ḡ² + ε      otherwise  den = v + ε
/// inc = lr·g/√den                                          (ε inside the square root)
/// momentum μ > 0:  m ← μ·m + inc,  w ← w − m               otherwise  w ← w − inc
/// ```
///
/// **Keras equivalent:** `keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9,
/// momentum=0.0, epsilon=1e-7, centered=False)`; PyTorch's defaults are ρ = 0.99 and ε = 1e-8
/// outside the root.
///
/// # Errors
/// [`check_hyperparameters`](Optimizer::check_hyperparameters) refuses a learning rate or an
/// ε that is not a finite number above 0, and a `rho` or `momentum` outside `[0, 1)` (at
/// `rho = 1` the average never moves from 0; at `momentum = 1` the velocity never decays).
///
/// # Allocation
/// One value of the model type (two with momentum or `centered`, three with both), made with
/// [`Zeros`] on the first step (zeroed on the heap for a `Box`).
#[derive(Clone, Debug)]
#[doc(alias = "RMSprop")]
pub struct RmsProp<M, T = f32> {
    /// Learning rate (Keras default 0.001).
    pub learning_rate: f64,
    /// Decay ρ of the squared-gradient average (default 0.9).
    pub rho: f64,
    /// Momentum μ (default 0).
    pub momentum: f64,
    /// ε (default 1e-7), inside the square root.
    pub epsilon: f64,
    /// Subtract the squared mean gradient from the second moment (default `false`).
    pub centered: bool,
    state: Option<State<M>>,
    iterations: u64,
    scalar: PhantomData<T>,
}

#[derive(Clone, Debug)]
struct State<M> {
    v: M,
    mean: Option<M>,
    velocity: Option<M>,
}

impl<M, T> RmsProp<M, T> {
    /// RMSprop with the given learning rate and Keras' other defaults.
    pub const fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            state: None,
            iterations: 0,
            scalar: PhantomData,
        }
    }
}

impl<M, T> Default for RmsProp<M, T> {
    /// Keras' defaults: learning rate 0.001.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<M: Params<T> + Zeros, T: Scalar> Optimizer<M> for RmsProp<M, T> {
    fn step(&mut self, model: &mut M, grad: &M) {
        self.iterations += 1;
        let (rho, one_minus_rho) = (T::lit(self.rho), T::lit(1.0 - self.rho));
        let (lr, eps, mu) = (T::lit(self.learning_rate), T::lit(self.epsilon), T::lit(self.momentum));
        let (centered, with_momentum) = (self.centered, self.momentum > 0.0);
        let state = self.state.get_or_insert_with(|| State {
            v: M::zeros(),
            mean: centered.then(M::zeros),
            velocity: with_momentum.then(M::zeros),
        });
        // Pass 1: the averages; afterwards `v` holds the denominator's v (and `mean` ḡ).
        match &mut state.mean {
            Some(mean) => for_each4(model, grad, &mut state.v, mean, |_, g, v, mean| {
                *v = rho * *v + one_minus_rho * g * g;
                *mean = rho * *mean + one_minus_rho * g;
            }),
            None => for_each3(model, grad, &mut state.v, |_, g, v| *v = rho * *v + one_minus_rho * g * g),
        }
        // Pass 2: the increment, through momentum if any.
        let denominator = |v: T, mean: T| if centered { v - mean * mean + eps } else { v + eps };
        let tensors = model.params_mut().zip(grad.params()).zip(state.v.params());
        let mut means = state.mean.as_ref().map(|m| m.params());
        let mut velocities = state.velocity.as_mut().map(|m| m.params_mut());
        for ((w, g), v) in tensors {
            let mean = means.as_mut().and_then(Iterator::next);
            let mut velocity = velocities.as_mut().and_then(Iterator::next);
            for (i, ((w, &g), &v)) in w.iter_mut().zip(g).zip(v).enumerate() {
                let m = mean.and_then(|m| m.get(i)).copied().unwrap_or_else(T::zero);
                let inc = lr * g / denominator(v, m).sqrt();
                match velocity.as_deref_mut().and_then(|vel| vel.get_mut(i)) {
                    Some(vel) => {
                        *vel = mu * *vel + inc;
                        *w -= *vel;
                    }
                    None => *w -= inc,
                }
            }
        }
    }

    fn reset(&mut self) {
        self.state = None;
        self.iterations = 0;
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("learning_rate", self.learning_rate)?;
        hyperparameter::decay("rho", self.rho)?;
        hyperparameter::decay("momentum", self.momentum)?;
        hyperparameter::positive("epsilon", self.epsilon)
    }

    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }
}
