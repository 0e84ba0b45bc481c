//! [`Zeros`]: the all-zero value of a model's type, which gradients, optimizer states and
//! training's undo copy start from; made directly on the heap when the model is boxed.
//!
//! Training needs values of the model's own type besides the model: the gradient, the
//! optimizer's moments (Adam keeps two), and the copy of the weights that undoes a step that
//! made them NaN. For a model of 64 MB each of those is 64 MB, so where it is built matters.
//! `Default` cannot be the way to build them: `Box::<M>::default()` is
//! `Box::new(M::default())`, which builds the whole model on the stack first (always in debug
//! builds, often in release) and overflows any normal thread. `Zeros` instead:
//!
//! - a built-in layer, or a tuple of layers that are all [`bytemuck::Zeroable`], is zeroed in
//!   place: `M::zeros()` is a value of the model's size, wherever the caller keeps it (the
//!   stack, for a model that lives on the stack);
//! - a boxed model (`Box<M>` with `M:` [`NewBoxed`](crate::NewBoxed), feature `alloc`) is
//!   allocated zeroed, straight on the heap: no model-sized value ever touches the stack.
//!
//! So a model kept in a `Box` trains with its gradient and its optimizer's state in boxes too,
//! in debug and release builds alike (`tests/big_models.rs` trains a 67 MB model on a thread
//! with a 1 MiB stack, in the debug profile).
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<4, 3, Relu>, Dense<3, 2, Softmax>);
//! let grad: Mlp = Mlp::zeros();
//! assert!(grad.params().flatten().all(|&g| g == 0.0));
//! // The boxed model's zero value is allocated zeroed, never built on the stack.
//! let big: Box<(Dense<4096, 4096, Relu>, Dense<4096, 2, Softmax>)> = Zeros::zeros();
//! assert_eq!(big.0.kernel[4095][4095], 0.0);
//! ```
//!
//! # Your own layers
//! Derive [`bytemuck::Zeroable`] for your layer (add `bytemuck = { version = "1", features =
//! ["derive"] }` to your `Cargo.toml`): the derive checks that every field may be all-zero
//! bytes, which holds for floats and arrays of them. Every model tuple containing it then has a
//! zero value, on the heap when boxed. Its non-parameter fields are zero in that value too; the
//! library never reads them from a gradient or an optimizer's state, and the loaders
//! ([`from_le_bytes`](crate::io::ParamBytes::from_le_bytes), `load_safetensors`) fill in only the
//! parameters, so give such a field its meaning through the type (a const generic) rather
//! than through a value set in `Default`.
//!
//! A custom layer trained *on its own*, not inside a tuple, implements `Zeros` itself (one
//! line, as below) or is trained as the one-layer model `(MyLayer,)`:
//!
//! ```
//! use typed_nn::prelude::*;
//! #[derive(Clone, Debug, bytemuck::Zeroable)]
//! struct Scale {
//!     gamma: [f32; 4],
//! }
//! impl Zeros for Scale {
//!     fn zeros() -> Self {
//!         bytemuck::Zeroable::zeroed()
//!     }
//! }
//! assert_eq!(Scale::zeros().gamma, [0.0; 4]);
//! // In a tuple, the derive is all it needs.
//! let model: (Dense<4, 4, Relu>, Scale) = Zeros::zeros();
//! assert_eq!(model.1.gamma, [0.0; 4]);
//! ```

#[cfg(feature = "alloc")]
use alloc::boxed::Box;

use bytemuck::Zeroable;

use crate::{
    ActivationLayer, AvgPool2D, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten, GlobalAvgPool2D,
    MaxPool2D, Residual, Scalar, Skip, layer::BiasMode,
};

/// A model type whose all-zero value (every parameter 0) the library can make without building
/// a boxed model on the stack: every built-in layer, every tuple of 1 to 12
/// [`bytemuck::Zeroable`] layers, and `Box<M>` for `M:` [`NewBoxed`](crate::NewBoxed) (see the
/// [module docs](self)).
///
/// The [`Trainer`](crate::train::Trainer), the optimizers, the threaded step and the loaders
/// make their model-typed values with it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no zero value to start a gradient or an optimizer's state from",
    label = "training and loading need `Zeros`: every layer must be `bytemuck::Zeroable`",
    note = "derive `bytemuck::Zeroable` for your own layers; a custom layer on its own implements `typed_nn::Zeros` (one line) or is trained as the model `(MyLayer,)`"
)]
pub trait Zeros: Sized {
    /// The value whose every parameter is 0.
    ///
    /// # Allocation
    /// For a boxed model, one zeroed allocation of the model's size (no stack copy); otherwise
    /// none: the value is returned like any other.
    fn zeros() -> Self;
}

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: BiasMode> Zeros for Dense<IN, OUT, A, T, B> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Zeros for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<
    const C: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Zeros for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<const P: usize, const PW: usize> Zeros for MaxPool2D<P, PW> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<const P: usize, const PW: usize> Zeros for AvgPool2D<P, PW> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

/// The parameterless layers.
macro_rules! zeros_unit {
    ($($Layer:ident $(<$P:ident>)?),*) => {$(
        impl<$(const $P: usize)?> Zeros for $Layer$(<$P>)? {
            fn zeros() -> Self {
                Zeroable::zeroed()
            }
        }
    )*};
}
zeros_unit!(GlobalAvgPool2D, Flatten, Skip, Dropout<P>);

impl<const C: usize, T: Scalar> Zeros for BatchNormalization<C, T> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<A> Zeros for ActivationLayer<A> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

impl<F: Zeroable, S: Zeroable> Zeros for Residual<F, S> {
    fn zeros() -> Self {
        Zeroable::zeroed()
    }
}

/// A tuple of `Zeroable` layers, element by element (bytemuck's own tuple impls stop at 8).
macro_rules! zeros_tuple {
    ($($L:ident),+) => {
        #[diagnostic::do_not_recommend]
        impl<$($L: Zeroable),+> Zeros for ($($L,)+) {
            fn zeros() -> Self {
                ($($L::zeroed(),)+)
            }
        }
    };
}
zeros_tuple!(A);
zeros_tuple!(A, B);
zeros_tuple!(A, B, C);
zeros_tuple!(A, B, C, D);
zeros_tuple!(A, B, C, D, E);
zeros_tuple!(A, B, C, D, E, F);
zeros_tuple!(A, B, C, D, E, F, G);
zeros_tuple!(A, B, C, D, E, F, G, H);
zeros_tuple!(A, B, C, D, E, F, G, H, I);
zeros_tuple!(A, B, C, D, E, F, G, H, I, J);
zeros_tuple!(A, B, C, D, E, F, G, H, I, J, K);
zeros_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);

/// A boxed model: allocated zeroed on the heap, never built on the stack.
#[cfg(feature = "alloc")]
impl<M: crate::NewBoxed> Zeros for Box<M> {
    fn zeros() -> Self {
        M::new_boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Params;
    use crate::activation::{Relu, Softmax};

    type Twelve = (
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Relu>,
        Dense<2, 2, Softmax>,
    );

    #[test]
    fn every_parameter_of_a_twelve_layer_model_is_zero() {
        let mut model = Twelve::zeros();
        assert_eq!(Params::<f32>::params(&model).map(<[f32]>::len).sum::<usize>(), 12 * 6);
        assert!(model.params().flatten().all(|&w| w == 0.0));
        // Each call makes a new value.
        model.11.bias[1] = 1.0;
        assert!(model.11.bias[1] == 1.0 && Twelve::zeros().11.bias[1] == 0.0);
    }

    #[test]
    fn the_rectangular_depthwise_and_bias_free_layers_are_zero() {
        use crate::{Bias, NoBias, Same, Valid};
        type Separable = (
            Conv2D<1, 4, 3, Relu, 1, Same, f32, NoBias, 2>,
            DepthwiseConv2D<4, 3, Relu, 1, Valid, f32, Bias, 2>,
            MaxPool2D<2, 1>,
            AvgPool2D<1, 2>,
            Flatten,
            Dense<8, 2, Softmax, f32, NoBias>,
        );
        let model = Separable::zeros();
        let sizes: usize = Params::<f32>::params(&model).map(<[f32]>::len).sum();
        // 3·2·1·4 kernel, no bias; 3·3·4·2 depthwise kernel + 8 biases; 8·2 dense kernel, no bias.
        assert_eq!(sizes, 24 + 72 + 8 + 16);
        assert!(model.params().flatten().all(|&w| w == 0.0));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn a_boxed_model_is_zero_and_on_the_heap() {
        let model: Box<(Dense<3, 2, Relu>, Flatten, Dense<2, 2, Softmax>)> = Zeros::zeros();
        assert!(model.params().flatten().all(|&w| w == 0.0));
        assert_eq!(Params::<f32>::params(&*model).map(<[f32]>::len).sum::<usize>(), 3 * 2 + 2 + 2 * 2 + 2);
    }
}
