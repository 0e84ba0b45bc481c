//! [`Adam`] and [`AdamW`].

use core::marker::PhantomData;

use super::hyperparameter::{self, HyperParameterError};
use super::{Optimizer, for_each4};
use crate::{Params, Scalar, Zeros};

/// Adam, exactly as Keras 3 computes it:
///
/// ```text
/// m ← m + (g − m)·(1 − β₁)          (= β₁·m + (1 − β₁)·g)
/// v ← v + (g² − v)·(1 − β₂)
/// αₜ = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)
/// w ← w − αₜ·m/(√v + ε)             (amsgrad: v̂ ← max(v̂, v), and v̂ instead of v)
/// ```
///
/// Keras' ε is Kingma & Ba's "ε-hat" (it is not rescaled by the bias correction), which is not
/// PyTorch's `lr·m̂/(√v̂ + ε)`; the two differ by less than 1e-7 relative when `|g| ≫ ε`. Step
/// 1 moves each weight by about `lr·sign(g)`.
///
/// **Keras equivalent:** `keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9,
/// beta_2=0.999, epsilon=1e-7, amsgrad=False)`.
///
/// # Errors
/// [`check_hyperparameters`](Optimizer::check_hyperparameters) refuses a learning rate or an
/// ε that is not a finite number above 0, a `beta_1` or `beta_2` outside `[0, 1)` (at 1 the
/// bias correction `1 − βᵗ` is 0) and a negative or non-finite weight decay.
///
/// # Allocation
/// Two values of the model type for the moments (three with `amsgrad`), made with
/// [`Zeros`] on the first step: inside the optimizer for a plain model, zeroed on the heap for a
/// `Box` (never built on the stack).
#[derive(Clone, Debug)]
pub struct Adam<M, T = f32> {
    /// Learning rate (Keras default 0.001).
    pub learning_rate: f64,
    /// Decay of the first moment (default 0.9).
    pub beta_1: f64,
    /// Decay of the second moment (default 0.999).
    pub beta_2: f64,
    /// ε-hat (default 1e-7).
    pub epsilon: f64,
    /// Use the maximum of past second moments (default `false`).
    pub amsgrad: bool,
    /// Decoupled weight decay, applied before the update as `w ← w − w·wd·lr`: 0 for Adam
    /// (Keras' `Adam(weight_decay=None)`), 0.004 for [`AdamW`] by default.
    pub weight_decay: f64,
    state: Option<Moments<M>>,
    iterations: u64,
    scalar: PhantomData<T>,
}

#[derive(Clone, Debug)]
struct Moments<M> {
    m: M,
    v: M,
    v_hat: Option<M>,
}

/// AdamW: Adam with decoupled weight decay, as Keras 3 computes it. Before each [`Adam`]
/// update every parameter (biases included, as Keras does) decays:
///
/// ```text
/// w ← w − lr·wd·w
/// ```
///
/// then the Adam step runs on the decayed weights. It is an [`Adam`] whose
/// [`weight_decay`](Adam::weight_decay) defaults to Keras' 0.004 instead of 0; every field of
/// `Adam` is reachable through it (`opt.beta_1 = 0.95`), since `AdamW` dereferences to its
/// `Adam`.
///
/// **Keras equivalent:** `keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.004,
/// beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`; PyTorch's default decay is 0.01.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// // With a zero gradient, Adam's step is 0 and only the decay acts: w ← w − lr·wd·w.
/// let mut model: Dense<1, 1> = Dense::new([[2.0]], [1.0]);
/// let mut opt = AdamW::new(0.5);
/// assert_eq!(opt.weight_decay, 0.004);
/// opt.step(&mut model, &Dense::default());
/// assert_eq!((model.kernel[0][0], model.bias[0]), (2.0 - 0.5 * 0.004 * 2.0, 1.0 - 0.5 * 0.004));
/// ```
///
/// # Allocation
/// As [`Adam`].
#[derive(Clone, Debug)]
pub struct AdamW<M, T = f32>(Adam<M, T>);

impl<M, T> AdamW<M, T> {
    /// AdamW with the given learning rate and Keras' other defaults (`weight_decay = 0.004`).
    pub const fn new(learning_rate: f64) -> Self {
        Self::with_weight_decay(learning_rate, 0.004)
    }

    /// AdamW with the given learning rate and weight decay, and Keras' other defaults.
    pub const fn with_weight_decay(learning_rate: f64, weight_decay: f64) -> Self {
        let mut adam = Adam::new(learning_rate);
        adam.weight_decay = weight_decay;
        Self(adam)
    }
}

impl<M, T> Default for AdamW<M, T> {
    /// Keras' defaults: learning rate 0.001, weight decay 0.004.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<M, T> core::ops::Deref for AdamW<M, T> {
    type Target = Adam<M, T>;
    fn deref(&self) -> &Adam<M, T> {
        &self.0
    }
}

impl<M, T> core::ops::DerefMut for AdamW<M, T> {
    fn deref_mut(&mut self) -> &mut Adam<M, T> {
        &mut self.0
    }
}

impl<M: Params<T> + Zeros, T: Scalar> Optimizer<M> for AdamW<M, T> {
    fn step(&mut self, model: &mut M, grad: &M) {
        self.0.step(model, grad);
    }

    fn reset(&mut self) {
        self.0.reset();
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        self.0.check_hyperparameters()
    }

    fn learning_rate(&self) -> f64 {
        self.0.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.0.learning_rate = learning_rate;
    }

    fn iterations(&self) -> u64 {
        self.0.iterations
    }
}

impl<M, T> Adam<M, T> {
    /// Adam with the given learning rate and Keras' other defaults.
    pub const fn new(learning_rate: f64) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            weight_decay: 0.0,
            state: None,
            iterations: 0,
            scalar: PhantomData,
        }
    }

    /// Adam with decoupled weight decay `weight_decay`: the same steps as
    /// [`AdamW::with_weight_decay`].
    #[deprecated(note = "use `AdamW::new` (Keras' weight decay 0.004) or `AdamW::with_weight_decay`")]
    pub const fn adamw(learning_rate: f64, weight_decay: f64) -> Self {
        let mut adam = Self::new(learning_rate);
        adam.weight_decay = weight_decay;
        adam
    }
}

impl<M, T> Default for Adam<M, T> {
    /// Keras' defaults: learning rate 0.001.
    fn default() -> Self {
        Self::new(0.001)
    }
}

impl<M: Params<T> + Zeros, T: Scalar> Optimizer<M> for Adam<M, T> {
    fn step(&mut self, model: &mut M, grad: &M) {
        self.iterations += 1;
        let t = self.iterations as f64;
        let lr = self.learning_rate;
        if self.weight_decay != 0.0 {
            let decay = T::lit(self.weight_decay * lr);
            for w in model.params_mut().flat_map(|p| p.iter_mut()) {
                *w -= *w * decay;
            }
        }
        let alpha = T::lit(lr * libm::sqrt(1.0 - libm::pow(self.beta_2, t)) / (1.0 - libm::pow(self.beta_1, t)));
        let (c1, c2, eps) = (T::lit(1.0 - self.beta_1), T::lit(1.0 - self.beta_2), T::lit(self.epsilon));
        let amsgrad = self.amsgrad;
        let state =
            self.state.get_or_insert_with(|| Moments { m: M::zeros(), v: M::zeros(), v_hat: amsgrad.then(M::zeros) });
        match &mut state.v_hat {
            None => for_each4(model, grad, &mut state.m, &mut state.v, |w, g, m, v| {
                *m += (g - *m) * c1;
                *v += (g * g - *v) * c2;
                *w -= alpha * *m / (v.sqrt() + eps);
            }),
            Some(v_hat) => {
                for_each4(model, grad, &mut state.m, &mut state.v, |_, g, m, v| {
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                });
                for_each4(model, &state.m, &mut state.v, v_hat, |w, m, v, v_hat| {
                    *v_hat = v_hat.max(*v);
                    *w -= alpha * m / (v_hat.sqrt() + eps);
                });
            }
        }
    }

    fn reset(&mut self) {
        self.state = None;
        self.iterations = 0;
    }

    fn check_hyperparameters(&self) -> Result<(), HyperParameterError> {
        hyperparameter::positive("learning_rate", self.learning_rate)?;
        hyperparameter::decay("beta_1", self.beta_1)?;
        hyperparameter::decay("beta_2", self.beta_2)?;
        hyperparameter::positive("epsilon", self.epsilon)?;
        hyperparameter::non_negative("weight_decay", self.weight_decay)
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
