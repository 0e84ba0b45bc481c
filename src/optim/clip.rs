//! Gradient clipping, as Keras 3's optimizers apply it: [`Clip`].
//!
//! Keras clips the gradient inside `optimizer.apply`, before the weight decay and the update,
//! with one of three arguments (setting more than one is an error there):
//!
//! | Keras argument | [`Clip`] | what it does |
//! |---|---|---|
//! | `clipnorm=c` | [`Clip::Norm`] | each tensor `g ← g·c / max(‖g‖, c)`, with `‖g‖` that tensor's L2 norm |
//! | `global_clipnorm=c` | [`Clip::GlobalNorm`] | every tensor `g ← g·c·min(1/‖G‖, 1/c)`, with `‖G‖` the norm of all of them together |
//! | `clipvalue=v` | [`Clip::Value`] | each element `g ← min(max(g, −v), v)` |
//!
//! "Tensor" is one slice of the [parameter visitor](crate::Params::params): a `Dense`'s kernel
//! is one, its bias another, as Keras' variables are. The gradient is the whole loss's,
//! regularisation terms included (see [`L2`](crate::regularizer::L2)). No ε is involved: a
//! tensor whose norm is at most `c` is multiplied by `c` and divided by `c` (as Keras does,
//! which may change its last bit), and an all-zero gradient stays zero. A NaN or infinite
//! gradient is not hidden: it makes the clipped tensor (for the global norm, every tensor)
//! NaN, as in Keras, and the [`Trainer`](crate::train::Trainer) then stops.
//!
//! The arithmetic is in the model's float type, as Keras computes in the variables' dtype.

use super::hyperparameter::{self, HyperParameterError};
use crate::{Params, Scalar};

/// One of Keras' three ways to clip a gradient (see the [module docs](self)).
///
/// **Keras equivalent:** the `clipnorm`, `global_clipnorm` and `clipvalue` arguments of every
/// `keras.optimizers.Optimizer`. Keras silently ignores a value ≤ 0; typed-nn refuses one
/// ([`check`](Clip::check)).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::optim::Clip;
/// // The kernel's gradient has norm 5, the bias's norm 1.
/// let grad: Dense<2, 1> = Dense::new([[3.0], [4.0]], [1.0]);
///
/// let mut g = grad.clone();
/// Clip::Norm(2.0).apply(&mut g); // each tensor on its own: the kernel shrinks, the bias stays
/// assert_eq!((g.kernel, g.bias), ([[1.2], [1.6]], [1.0]));
///
/// let mut g = grad.clone();
/// Clip::GlobalNorm(2.0).apply(&mut g); // all together: ‖G‖ = √26, every tensor scaled alike
/// let scale = 2.0 / 26f32.sqrt();
/// assert!((g.kernel[0][0] - 3.0 * scale).abs() < 1e-6 && (g.bias[0] - scale).abs() < 1e-6);
///
/// let mut g = grad.clone();
/// Clip::Value(2.0).apply(&mut g); // element by element
/// assert_eq!((g.kernel, g.bias), ([[2.0], [2.0]], [1.0]));
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None.
#[derive(Clone, Copy, Debug, PartialEq)]
#[doc(alias = "clipnorm")]
#[doc(alias = "clipvalue")]
#[doc(alias = "global_clipnorm")]
pub enum Clip {
    /// Keras' `clipnorm`: each tensor's L2 norm at most this.
    Norm(f64),
    /// Keras' `global_clipnorm`: the L2 norm of all tensors together at most this.
    GlobalNorm(f64),
    /// Keras' `clipvalue`: each element in `[−v, v]`.
    Value(f64),
}

impl Clip {
    /// Clips `grad` in place.
    pub fn apply<T: Scalar, M: Params<T> + ?Sized>(&self, grad: &mut M) {
        match *self {
            Clip::Norm(c) => {
                let c = T::lit(c);
                for g in grad.params_mut() {
                    let norm = norm(squares(g));
                    // max(norm, c), NaN-propagating as `ops.maximum` is.
                    let denominator = if norm <= c { c } else { norm };
                    for g in g.iter_mut() {
                        *g = *g * c / denominator;
                    }
                }
            }
            Clip::GlobalNorm(c) => {
                let c = T::lit(c);
                let norm = norm(grad.params().map(squares).fold(T::zero(), |a, b| a + b));
                // Keras: c·min(1/‖G‖, 1/c) + (‖G‖ − ‖G‖), the last term 0 for a finite norm
                // and NaN otherwise, so that such a gradient is not passed on as finite.
                let (inverse, inverse_c) = (T::one() / norm, T::one() / c);
                let smaller = if inverse < inverse_c { inverse } else { inverse_c };
                let scale = if norm.is_finite() { c * smaller } else { T::nan() };
                for g in grad.params_mut() {
                    for g in g.iter_mut() {
                        *g *= scale;
                    }
                }
            }
            Clip::Value(v) => {
                let v = T::lit(v);
                for g in grad.params_mut().flat_map(|g| g.iter_mut()) {
                    // Comparisons, not `max`/`min`, which would turn a NaN into ±v.
                    if *g > v {
                        *g = v;
                    } else if *g < -v {
                        *g = -v;
                    }
                }
            }
        }
    }

    /// `Ok` if the bound is a finite number above 0.
    ///
    /// # Errors
    /// [`HyperParameterError`] named `clipnorm`, `global_clipnorm` or `clipvalue`, as Keras
    /// names the argument.
    pub fn check(&self) -> Result<(), HyperParameterError> {
        match *self {
            Clip::Norm(c) => hyperparameter::positive("clipnorm", c),
            Clip::GlobalNorm(c) => hyperparameter::positive("global_clipnorm", c),
            Clip::Value(v) => hyperparameter::positive("clipvalue", v),
        }
    }
}

/// `Σ g²`, in the tensor's float type.
fn squares<T: Scalar>(g: &[T]) -> T {
    g.iter().fold(T::zero(), |sum, &g| sum + g * g)
}

/// `√sum`, with Keras' guard: a sum of 0 (or NaN) is returned as it is.
fn norm<T: Scalar>(sum: T) -> T {
    if sum > T::zero() { sum.sqrt() } else { sum }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dense;

    fn grad<T: Scalar>(kernel: [f64; 2], bias: f64) -> Dense<2, 1, crate::activation::Identity, T> {
        Dense::new([[T::lit(kernel[0])], [T::lit(kernel[1])]], [T::lit(bias)])
    }

    fn flat<T: Scalar>(d: &Dense<2, 1, crate::activation::Identity, T>) -> [f64; 3] {
        [d.kernel[0][0], d.kernel[1][0], d.bias[0]].map(T::to_f64_lossless)
    }

    #[test]
    fn clipnorm_scales_only_the_tensors_above_the_bound_in_f32_and_f64() {
        let mut g = grad::<f64>([-6.0, 8.0], 0.5);
        Clip::Norm(5.0).apply(&mut g);
        assert_eq!(flat(&g), [-3.0, 4.0, 0.5]);
        let mut g = grad::<f32>([-6.0, 8.0], 0.5);
        Clip::Norm(5.0).apply(&mut g);
        assert_eq!(flat(&g), [-3.0, 4.0, 0.5]);
    }

    #[test]
    fn global_clipnorm_scales_every_tensor_by_the_same_factor() {
        // ‖G‖ = √(36 + 64 + 0) = 10; the bound 5 halves everything (exact in binary).
        let mut g = grad::<f64>([-6.0, 8.0], 0.0);
        Clip::GlobalNorm(5.0).apply(&mut g);
        assert_eq!(flat(&g), [-3.0, 4.0, 0.0]);
        // Below the bound: c·(1/c), which is 1 here.
        let mut g = grad::<f64>([-6.0, 8.0], 0.0);
        Clip::GlobalNorm(20.0).apply(&mut g);
        assert_eq!(flat(&g), [-6.0, 8.0, 0.0]);
    }

    #[test]
    fn clipvalue_clamps_each_element() {
        let mut g = grad::<f32>([-6.0, 0.25], 8.0);
        Clip::Value(1.0).apply(&mut g);
        assert_eq!(flat(&g), [-1.0, 0.25, 1.0]);
    }

    #[test]
    fn a_zero_gradient_stays_zero() {
        for clip in [Clip::Norm(1.0), Clip::GlobalNorm(1.0), Clip::Value(1.0)] {
            let mut g = grad::<f32>([0.0, 0.0], 0.0);
            clip.apply(&mut g);
            assert_eq!(flat(&g), [0.0; 3], "{clip:?}");
        }
    }

    #[test]
    fn a_nan_gradient_is_not_clipped_into_a_finite_one() {
        for clip in [Clip::Norm(1.0), Clip::Value(1.0)] {
            let mut g = grad::<f32>([f64::NAN, 3.0], 0.0);
            clip.apply(&mut g);
            assert!(g.kernel[0][0].is_nan(), "{clip:?}");
        }
        // The global norm is NaN, so every tensor becomes NaN (Keras' `+ (norm − norm)`).
        let mut g = grad::<f32>([f64::NAN, 3.0], 0.0);
        Clip::GlobalNorm(1.0).apply(&mut g);
        assert!(flat(&g).iter().all(|v| v.is_nan()));
        // An infinite element: its norm is infinite, and so is nothing finite left behind.
        let mut g = grad::<f64>([f64::INFINITY, 3.0], 0.0);
        Clip::GlobalNorm(1.0).apply(&mut g);
        assert!(flat(&g).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn bounds_that_cannot_be_right_are_refused_by_their_keras_name() {
        let name = |c: Clip| c.check().err().map(|e| e.name);
        assert_eq!(name(Clip::Norm(0.0)), Some("clipnorm"));
        assert_eq!(name(Clip::Norm(-1.0)), Some("clipnorm"));
        assert_eq!(name(Clip::GlobalNorm(f64::NAN)), Some("global_clipnorm"));
        assert_eq!(name(Clip::Value(f64::INFINITY)), Some("clipvalue"));
        assert_eq!(name(Clip::Value(1e-9)), None);
    }
}
