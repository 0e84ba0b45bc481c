//! [`Sgd`]: stochastic gradient descent, with optional momentum and Nesterov momentum.

use core::marker::PhantomData;

use super::hyperparameter::{self, HyperParameterError};
use super::{Optimizer, for_each3};
use crate::{Params, Scalar, Zeros};

/// Stochastic gradient descent, in Keras' "learning rate inside the velocity" form:
///
/// - momentum = 0: `w ← w − lr·g`;
/// - momentum μ > 0: `v ← μ·v − lr·g`, then `w ← w + v`;
/// - Nesterov: `v ← μ·v − lr·g`, then `w ← w + μ·v − lr·g`.
///
/// The velocity starts at zero and is created (a value of the model's type) on the first step
/// with momentum. PyTorch puts the learning rate outside the velocity, which agrees only for a
/// constant learning rate.
///
/// **Keras equivalent:** `keras.optimizers.SGD(learning_rate=0.01, momentum=0.0,
/// nesterov=False)`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let mut layer: Dense<1, 1> = Dense::new([[1.0]], [0.0]);
/// let grad: Dense<1, 1> = Dense::new([[2.0]], [-1.0]);
/// let mut sgd = Sgd::new(0.1);
/// sgd.step(&mut layer, &grad);
/// assert_eq!((layer.kernel[0][0], layer.bias[0]), (0.8, 0.1));
/// ```
///
/// # Errors
/// [`check_hyperparameters`](Optimizer::check_hyperparameters) refuses a learning rate that is
/// not a finite number above 0 and a momentum outside `[0, 1)`. Keras accepts a momentum of
/// exactly 1, a velocity that never forgets a gradient and so cannot settle; typed-nn refuses it.
///
/// # Allocation
/// None for plain SGD; with momentum, one value of the model type, made with [`Zeros`] on the
/// first step (zeroed on the heap if the model is a `Box`).
#[derive(Clone, Debug)]
#[doc(alias = "SGD")]
pub struct Sgd<M, T = f32> {
    /// Learning rate (Keras default 0.01).
    pub learning_rate: f64,
    /// Momentum μ (default 0).
    pub momentum: f64,
    /// Nesterov momentum (default `false`).
    pub nesterov: bool,
    velocity: Option<M>,
    iterations: u64,
    scalar: PhantomData<T>,
}

impl<M, T> Sgd<M, T> {
    /// Plain SGD with the given learning rate.
    pub const fn new(learning_rate: f64) -> Self {
        Self { learning_rate, momentum: 0.0, nesterov: false, velocity: None, iterations: 0, scalar: PhantomData }
    }

    /// SGD with momentum μ.
    pub const fn with_momentum(learning_rate: f64, momentum: f64) -> Self {
        let mut sgd = Self::new(learning_rate);
        sgd.momentum = momentum;
        sgd
    }

    /// SGD with Nesterov momentum μ.
    pub const fn nesterov(learning_rate: f64, momentum: f64) -> Self {
        let mut sgd = Self::with_momentum(learning_rate, momentum);
        sgd.nesterov = true;
        sgd
    }
}

impl<M, T> Default for Sgd<M, T> {
    /// Keras' defaults: learning rate 0.01, no momentum.
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl<M: Params<T> + Zeros, T: Scalar> Optimizer<M> for Sgd<M, T> {
    fn step(&mut self, model: &mut M, grad: &M) {
        self.iterations += 1;
        let lr = T::lit(self.learning_rate);
        if self.momentum == 0.0 {
            for (w, g) in model.params_mut().zip(grad.params()) {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w -= lr * g;
                }
            }
            return;
        }
        let mu = T::lit(self.momentum);
        let nesterov = self.nesterov;
        let velocity = self.velocity.get_or_insert_with(M::zeros);
        for_each3(model, grad, velocity, |w, g, v| {
            *v = mu * *v - lr * g;
            if nesterov {
                *w += mu * *v - lr * g;
            } else {
                *w += *v;
            }
        });
    }

    fn reset(&mut self) {
        self.velocity = None;
        self.iterations = 0;
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("learning_rate", self.learning_rate)?;
        hyperparameter::decay("momentum", self.momentum)
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
