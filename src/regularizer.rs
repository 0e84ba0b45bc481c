//! Weight regularisation: [`L2`], Keras' `kernel_regularizer=l2(…)` on every kernel of a model
//! (and `depthwise_regularizer=l2(…)` on every depthwise kernel).
//!
//! Keras adds `l2·Σw²` of each regularised kernel to the loss that it differentiates and
//! reports, so the gradient gains `2·l2·w` on those kernels and nothing elsewhere. Biases,
//! `BatchNormalization`'s `gamma` and `beta` and its moving statistics are not kernels and are
//! never regularised by a `kernel_regularizer`.
//!
//! # `DepthwiseConv2D`: its own regulariser, as in Keras
//! Keras 3's `DepthwiseConv2D` has no `kernel_regularizer` (passing one raises "Unrecognized
//! keyword arguments"; tf.keras 2 accepted it and silently ignored it): its kernel is
//! regularised by `depthwise_regularizer`. So [`add_to`](L2::add_to) and
//! [`penalty`](L2::penalty) leave depthwise kernels alone, and
//! [`add_to_depthwise`](L2::add_to_depthwise) regularises them (and nothing else), as
//! [`Trainer::depthwise_regularizer`](crate::train::Trainer::depthwise_regularizer) does. A
//! depthwise-separable recipe that regularises every convolution sets both.
//!
//! # Where it is set: on the model's kernels, all of them
//! In Keras the regulariser is an argument of each layer. In typed-nn a layer's type spells its
//! sizes and activation; a regulariser in it would add a parameter to every layer type for a
//! setting that recipes keep the same across the model (ResNet-8 and DS-CNN use `l2(1e-4)` on
//! every convolution and dense kernel). So [`L2`] is set once, for every tensor that the
//! model's layers name `"kernel"` (`Dense` and `Conv2D`, also inside `Residual` blocks, not
//! `DepthwiseConv2D`: see above), on the [`Trainer`](crate::train::Trainer) or in a loop of
//! your own with [`L2::add_to`].
//! A model whose Keras twin regularises only some layers cannot be trained the same way.
//!
//! Kernels are found through [`Params::describe_params`], which names each tensor of
//! [`params`](Params::params) in order. A layer of your own that keeps the default (describing
//! nothing) would shift the names onto the wrong tensors, so the walk checks that every
//! description lines up with a tensor of its length, and returns [`UndescribedParams`] if one
//! does not.
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::regularizer::L2;
//! let model: Dense<2, 1> = Dense::new([[3.0], [4.0]], [10.0]);
//! let mut grad: Dense<2, 1> = Dense::new([[1.0], [1.0]], [1.0]);
//! // 0.01·(3² + 4²): the bias is not a kernel.
//! let penalty = L2::new(0.01).add_to(&model, &mut grad)?;
//! assert!((penalty - 0.25).abs() < 1e-7);
//! // The kernel's gradient gains 2·0.01·w; the bias's does not change.
//! assert_eq!((grad.kernel, grad.bias), ([[1.06], [1.08]], [1.0]));
//! # Ok::<(), typed_nn::regularizer::UndescribedParams>(())
//! ```

use core::fmt;

use crate::optim::HyperParameterError;
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::{Params, Scalar};

/// L2 regularisation of every kernel: adds `l2·Σw²` to the loss and `2·l2·w` to the kernels'
/// gradient (see the [module docs](self) for which tensors are kernels, and why it is set for
/// the whole model).
///
/// **Keras equivalent:** `kernel_regularizer=keras.regularizers.l2(l2)` on every `Dense` and
/// `Conv2D` ([`add_to`](L2::add_to)), `depthwise_regularizer=keras.regularizers.l2(l2)` on
/// every `DepthwiseConv2D` ([`add_to_depthwise`](L2::add_to_depthwise)); Keras' default factor,
/// that of `L2()` and `kernel_regularizer="l2"`, is 0.01.
///
/// # Examples
/// See the [module docs](self), and
/// [`Trainer::kernel_regularizer`](crate::train::Trainer::kernel_regularizer) for training
/// with it.
///
/// # Errors
/// [`check`](L2::check) refuses a negative or non-finite factor.
#[derive(Clone, Copy, Debug, PartialEq)]
#[doc(alias = "l2")]
#[doc(alias = "kernel_regularizer")]
pub struct L2 {
    /// The factor (Keras' `l2`).
    pub l2: f64,
}

impl L2 {
    /// L2 regularisation with factor `l2`, as Keras' `l2(l2)`.
    pub const fn new(l2: f64) -> Self {
        Self { l2 }
    }

    /// `l2·Σw²` over the kernels of `model` (`Dense` and `Conv2D`, not `DepthwiseConv2D`):
    /// the term added to the loss. The sum is in the model's float type, as Keras computes it
    /// in the variables' dtype.
    ///
    /// # Errors
    /// [`UndescribedParams`] if the model's descriptions do not line up with its tensors (a
    /// layer of your own that keeps the default `describe_params`).
    ///
    /// # Allocation
    /// None.
    pub fn penalty<T: Scalar, M: Params<T>>(&self, model: &M) -> Result<T, UndescribedParams> {
        self.penalty_of(Weights::Kernels, model)
    }

    fn penalty_of<T: Scalar, M: Params<T>>(&self, which: Weights, model: &M) -> Result<T, UndescribedParams> {
        let l2 = T::lit(self.l2);
        let mut penalty = T::zero();
        let mut tensors = model.params();
        walk::<T, M>(which, |kernel| {
            let w = tensors.next();
            if let (Some(w), true) = (w, kernel) {
                penalty += l2 * w.iter().fold(T::zero(), |sum, &w| sum + w * w);
            }
            w.map(<[T]>::len)
        })?;
        Ok(penalty)
    }

    /// Adds `2·l2·w` to the kernels' gradient in `grad` and returns the
    /// [`penalty`](L2::penalty), both computed from `model`'s weights: call it after the
    /// loss's gradient is in `grad`, before clipping and the optimizer step (Keras clips the
    /// gradient of the whole loss).
    ///
    /// # Errors
    /// [`UndescribedParams`], as [`penalty`](L2::penalty); `grad` is then unchanged.
    ///
    /// # Allocation
    /// None.
    pub fn add_to<T: Scalar, M: Params<T>>(&self, model: &M, grad: &mut M) -> Result<T, UndescribedParams> {
        self.add_to_of(Weights::Kernels, model, grad)
    }

    /// [`add_to`](L2::add_to) for the depthwise kernels of `model` (every `DepthwiseConv2D`'s)
    /// and nothing else: Keras' `depthwise_regularizer`. Returns `l2·Σw²` over them.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// use typed_nn::regularizer::L2;
    /// type Net = (DepthwiseConv2D<1, 1>, Conv2D<1, 1, 1>);
    /// let model: Net = (DepthwiseConv2D::new([[[[3.0]]]], [[5.0]]), Conv2D::new([[[[4.0]]]], [6.0]));
    /// let mut grad = Net::default();
    /// // Only the depthwise kernel: 0.5·3².
    /// assert_eq!(L2::new(0.5).add_to_depthwise(&model, &mut grad)?, 4.5);
    /// assert_eq!((grad.0.kernel, grad.1.kernel), ([[[[3.0]]]], [[[[0.0]]]]));
    /// // And `add_to`, only the convolution's: 0.5·4².
    /// assert_eq!(L2::new(0.5).add_to(&model, &mut Net::default())?, 8.0);
    /// # Ok::<(), typed_nn::regularizer::UndescribedParams>(())
    /// ```
    ///
    /// # Errors
    /// [`UndescribedParams`], as [`penalty`](L2::penalty); `grad` is then unchanged.
    ///
    /// # Allocation
    /// None.
    pub fn add_to_depthwise<T: Scalar, M: Params<T>>(&self, model: &M, grad: &mut M) -> Result<T, UndescribedParams> {
        self.add_to_of(Weights::DepthwiseKernels, model, grad)
    }

    fn add_to_of<T: Scalar, M: Params<T>>(
        &self,
        which: Weights,
        model: &M,
        grad: &mut M,
    ) -> Result<T, UndescribedParams> {
        let penalty = self.penalty_of(which, model)?;
        let two_l2 = T::lit(2.0 * self.l2);
        let mut tensors = model.params().zip(grad.params_mut());
        walk::<T, M>(which, |kernel| {
            let pair = tensors.next();
            let len = pair.as_ref().map(|(w, _)| w.len());
            if let (Some((w, g)), true) = (pair, kernel) {
                for (g, &w) in g.iter_mut().zip(w) {
                    *g += two_l2 * w;
                }
            }
            len
        })?;
        Ok(penalty)
    }

    /// `Ok` if the factor is a finite number ≥ 0 (0 regularises nothing).
    ///
    /// # Errors
    /// [`HyperParameterError`] named `l2`.
    pub fn check(&self) -> Result<(), HyperParameterError> {
        crate::optim::hyperparameter::non_negative("l2", self.l2)
    }

    /// `Ok` if the kernels of `M` can be told from its other tensors (every layer describes
    /// its parameters); [`penalty`](L2::penalty) and [`add_to`](L2::add_to) then cannot fail.
    ///
    /// # Errors
    /// [`UndescribedParams`] naming the first tensor no description lines up with.
    pub fn check_model<T: Scalar, M: Params<T>>(model: &M) -> Result<(), UndescribedParams> {
        let mut tensors = model.params();
        walk::<T, M>(Weights::Kernels, |_| tensors.next().map(<[T]>::len))
    }
}

impl Default for L2 {
    /// Keras' default factor, 0.01.
    fn default() -> Self {
        Self::new(0.01)
    }
}

/// The tensors a regulariser applies to.
#[derive(Clone, Copy)]
enum Weights {
    /// Keras' `kernel_regularizer`: the kernels of `Dense` and `Conv2D`.
    Kernels,
    /// Keras' `depthwise_regularizer`: the kernels of `DepthwiseConv2D`.
    DepthwiseKernels,
}

impl Weights {
    fn contains(self, spec: &ParamSpec) -> bool {
        let depthwise = matches!(spec.shape, ParamShape::DepthwiseKernel { .. });
        spec.name == "kernel"
            && match self {
                Weights::Kernels => !depthwise,
                Weights::DepthwiseKernels => depthwise,
            }
    }
}

/// Walks `M`'s tensor descriptions in order, calling `visit(is_kernel)` once per description
/// (`is_kernel`: one of the tensors `which` names);
/// `visit` takes the model's next tensor and returns its length (`None` if there is none).
/// The walk is valid when every length equals its description's and no tensor is left over;
/// a tensor is visited as a kernel only while that holds (so a misaligned walk regularises
/// nothing past the first mismatch, and [`check_model`](L2::check_model) refuses it first).
fn walk<T: Scalar, M: Params<T>>(
    which: Weights,
    mut visit: impl FnMut(bool) -> Option<usize>,
) -> Result<(), UndescribedParams> {
    let (mut index, mut first_bad) = (0usize, None);
    M::describe_params(&mut ParamWalk::default(), &mut |spec: &ParamSpec| {
        let aligned = first_bad.is_none();
        let len = visit(aligned && which.contains(spec));
        if aligned && len != Some(spec.shape.len()) {
            first_bad = Some(index);
        }
        index += 1;
    });
    if let Some(tensor) = first_bad {
        return Err(UndescribedParams { tensor });
    }
    // Tensors left over after the last description: a layer described fewer than it has.
    if visit(false).is_some() {
        return Err(UndescribedParams { tensor: index });
    }
    Ok(())
}

/// [`L2`] cannot tell this model's kernels from its other parameters: the descriptions of its
/// tensors ([`Params::describe_params`]) do not line up with the tensors
/// [`params`](Params::params) yields, because a layer (one of your own) keeps the default
/// `describe_params`, which describes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UndescribedParams {
    /// Position, in [`params`](Params::params) order from 0, of the first tensor whose
    /// description is missing or of another length.
    pub tensor: usize,
}

impl fmt::Display for UndescribedParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parameter tensor {} has no matching description, so the L2 regulariser cannot tell kernels from other weights; implement `Params::describe_params` for your layer, naming its kernels \"kernel\"",
            self.tensor
        )
    }
}

impl core::error::Error for UndescribedParams {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Relu;
    use crate::{BatchNormalization, Conv2D, Dense, Flatten, Valid};

    type Net = (Conv2D<1, 2, 3, Relu, 1, Valid, f64>, BatchNormalization<2, f64>, Flatten, Dense<18, 2, Relu, f64>);

    #[test]
    fn only_kernels_are_regularised_not_biases_gamma_or_beta() {
        type Cnn = (Conv2D<1, 2, 3, Relu, 1, Valid, f64>, BatchNormalization<2, f64>);
        let mut model = Cnn::default();
        for p in model.params_mut() {
            p.fill(2.0);
        }
        let mut grad = Cnn::default();
        let penalty = L2::new(0.5).add_to(&model, &mut grad);
        // Only the 3·3·1·2 = 18 kernel weights: 0.5·18·4 = 36; gradient 2·0.5·2 = 2 there.
        assert_eq!(penalty, Ok(36.0));
        let expected: [&[f64]; 4] = [&[2.0; 18], &[0.0; 2], &[0.0; 2], &[0.0; 2]];
        assert!(grad.params().eq(expected), "{grad:?}");
    }

    /// A layer with parameters that keeps the default `describe_params`.
    #[derive(Clone, Debug, Default)]
    struct Undescribed([f64; 3]);
    impl Params<f64> for Undescribed {
        const PARAMS: usize = 3;
        fn params(&self) -> impl Iterator<Item = &[f64]> {
            core::iter::once(&self.0[..])
        }
        fn params_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            core::iter::once(&mut self.0[..])
        }
    }

    #[test]
    fn a_layer_that_does_not_describe_its_tensors_is_an_error_not_a_shifted_penalty() {
        type Shifted = (Undescribed, Dense<2, 1, Relu, f64>);
        let mut model = Shifted::default();
        for p in model.params_mut() {
            p.fill(1.0);
        }
        assert_eq!(L2::check_model(&model), Err(UndescribedParams { tensor: 0 }));
        let mut grad = Shifted::default();
        assert_eq!(L2::new(0.1).add_to(&model, &mut grad), Err(UndescribedParams { tensor: 0 }));
        assert!(grad.params().all(|g| g.iter().all(|&g| g == 0.0)), "the gradient is unchanged");
        // Last in the model: every description lines up, and one tensor is left over.
        type Trailing = (Dense<2, 1, Relu, f64>, Undescribed);
        assert_eq!(L2::check_model(&Trailing::default()), Err(UndescribedParams { tensor: 2 }));
        assert_eq!(L2::check_model(&Net::default()), Ok(()));
    }

    #[test]
    fn depthwise_kernels_have_their_own_regulariser_as_in_keras() {
        // Keras 3: `DepthwiseConv2D(kernel_regularizer=…)` raises; its kernel is regularised by
        // `depthwise_regularizer` only.
        type Separable =
            (crate::DepthwiseConv2D<2, 3, Relu, 1, Valid, f64>, Conv2D<2, 1, 1, Relu, 1, Valid, f64>, Flatten);
        let mut model = Separable::default();
        for p in model.params_mut() {
            p.fill(2.0);
        }
        // Tensors: depthwise kernel (3·3·2 = 18), depthwise bias (2), kernel (2), bias (1).
        let mut grad = Separable::default();
        assert_eq!(L2::new(0.5).add_to(&model, &mut grad), Ok(0.5 * 2.0 * 4.0));
        let expected: [&[f64]; 4] = [&[0.0; 18], &[0.0; 2], &[2.0; 2], &[0.0]];
        assert!(grad.params().eq(expected), "{grad:?}");
        let mut grad = Separable::default();
        assert_eq!(L2::new(0.5).add_to_depthwise(&model, &mut grad), Ok(0.5 * 18.0 * 4.0));
        let expected: [&[f64]; 4] = [&[2.0; 18], &[0.0; 2], &[0.0; 2], &[0.0]];
        assert!(grad.params().eq(expected), "{grad:?}");
        assert_eq!(L2::new(0.5).penalty(&model), Ok(4.0));
    }

    #[test]
    fn negative_or_non_finite_factors_are_refused() {
        assert_eq!(L2::new(-1e-4).check().map_err(|e| e.name), Err("l2"));
        assert_eq!(L2::new(f64::NAN).check().map_err(|e| e.name), Err("l2"));
        assert_eq!(L2::new(0.0).check(), Ok(()));
        assert_eq!(L2::default().l2, 0.01);
    }
}
