//! Activation fusion in the int8 type function: `(Conv2D<…, Identity>, ActivationLayer<Relu>)`
//! is one int8 layer, `QConv2D<…, Relu>`, as TensorFlow's converter fuses the ReLU into the
//! convolution's output range.
//!
//! *See the guide's [int8 chapter](crate::guide::ch08_int8).* A float
//! model written layer for layer from Keras (`Conv2D → BatchNormalization → Activation("relu")`,
//! folded to `Conv2D → Activation`; ResNet's `Add → Activation("relu")`) has its activations as
//! layers of their own. TFLite has no such operator in an int8 model: the activation becomes
//! the *fused activation* of the operator before it, a clamp of its output range. [`Int8`]
//! follows: a tuple is walked as a list, as [`fold`](crate::fold) walks it, and each layer says
//! with [`FuseRole::Role`] how it pairs with the next one. The roles are the ones the f32
//! activation fusion uses ([`crate::fuse`], where they are defined, so a layer of your own
//! implements them once for both):
//!
//! - [`TakesActivation`]: a `Dense`, `Conv2D` or `DepthwiseConv2D` with the [`Identity`]
//!   activation, or a [`Residual`] block (TFLite's `ADD` has a fused activation too);
//! - [`IsActivation`]: an [`ActivationLayer`];
//! - [`Vanishes`]: a `Dropout`, which has no int8 form (a compile error that names it);
//! - [`Alone`]: every other layer.
//!
//! Where a [`TakesActivation`] layer is directly followed by an [`IsActivation`] one, the pair
//! is one int8 layer, [`FuseActivation::Fused`] (for a convolution, the int8 form of the same
//! convolution with that activation, so `Int8<(Conv2D<3, 16, 3, Identity>,
//! ActivationLayer<Relu>)>` is `(QConv2D<3, 16, 3, Relu>,)`); every other layer is quantized on
//! its own ([`Quantize`]). An `ActivationLayer` with nothing to fuse into has no int8 form and is
//! a compile error that names it, as is one whose activation TFLite cannot fuse (`Tanh`).
//!
//! The shapes still check: an `ActivationLayer` maps a tensor to one of the same type, so the
//! fused layer has the shapes of the pair, and the int8 model's tuple checks each layer's input
//! against the previous output as before.
//!
//! Post-training quantization ([`calibrate`](super::calibrate())) does not fuse yet: a model
//! calibrates when its int8 form has one int8 layer per float layer (no `ActivationLayer`). The
//! same list walk for calibration made the compiler's work grow exponentially on ResNet-8's
//! nested tuples (measured: over 10 GB and 20 minutes for one test), so it was left out.

use super::conv::{ConvActivation, QConv2D, QPadding};
use super::dense::QDense;
use super::depthwise::QDepthwiseConv2D;
use super::layer::QActivation;
use super::model::{Int8, Quantize};
use super::residual::QResidual;
use crate::activation::Identity;
use crate::fold::IntoTuple;
use crate::fuse::{Alone, FuseRole, IsActivation, TakesActivation, Vanishes};
use crate::layer::{ActivationLayer, BiasMode, Conv2D, Dense, DepthwiseConv2D, Residual};

/// A [`TakesActivation`] layer followed by `ActivationLayer<A>`: the int8 layer the pair is.
#[diagnostic::on_unimplemented(
    message = "`ActivationLayer<{A}>` cannot be fused into `{Self}` in an int8 model",
    label = "no fused int8 form",
    note = "TFLite fuses Relu and Relu6 into a Conv2D, DepthwiseConv2D or Residual (and Softmax too after a Dense) with the Identity activation"
)]
pub trait FuseActivation<A> {
    /// The int8 layer: the same layer with `A` folded into its output range.
    type Fused;
}

impl<const IN: usize, const OUT: usize, A: QActivation, B: BiasMode> FuseActivation<A>
    for Dense<IN, OUT, Identity, f32, B>
{
    type Fused = QDense<IN, OUT, A>;
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> FuseActivation<A> for Conv2D<CI, CO, K, Identity, S, P, f32, B, KW, SW>
{
    type Fused = QConv2D<CI, CO, K, A, S, P, KW, SW>;
}

impl<
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> FuseActivation<A> for DepthwiseConv2D<C, K, Identity, S, P, f32, B, M, KW, SW>
{
    type Fused = QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>;
}

impl<F: Quantize, S: Quantize, A: ConvActivation> FuseActivation<A> for Residual<F, S> {
    type Fused = QResidual<Int8<F>, Int8<S>, A>;
}

/// A list of float layer types `(A, (B, ()))` quantized front to back: a tuple's layers as
/// [`Int8`] walks them.
#[doc(hidden)]
pub trait QuantizeList {
    /// The int8 layers, as a list `(A', (B', ()))`.
    type Out;
}

impl QuantizeList for () {
    type Out = ();
}

/// The last layer: quantized on its own.
impl<A: Quantize> QuantizeList for (A, ()) {
    type Out = (A::Int8, ());
}

/// Two layers or more: the pair of their roles decides.
impl<A: FuseRole, B: FuseRole, R> QuantizeList for (A, (B, R))
where
    (A::Role, B::Role): QuantizePair<A, B, R>,
{
    type Out = <(A::Role, B::Role) as QuantizePair<A, B, R>>::Out;
}

/// What the first two layers of a list become, chosen by their roles (`Self`).
#[doc(hidden)]
pub trait QuantizePair<A, B, R> {
    /// The int8 list.
    type Out;
}

/// A layer that takes the activation layer after it: the pair is one int8 layer.
impl<A: FuseActivation<Act>, Act, R: QuantizeList> QuantizePair<A, ActivationLayer<Act>, R>
    for (TakesActivation, IsActivation)
{
    type Out = (A::Fused, R::Out);
}

/// Every other pair of roles: the first layer on its own, then the rest.
macro_rules! quantize_apart {
    ($(($RA:ty, $RB:ty)),*) => {$(
        impl<A: Quantize, B, R> QuantizePair<A, B, R> for ($RA, $RB)
        where
            (B, R): QuantizeList,
        {
            type Out = (A::Int8, <(B, R) as QuantizeList>::Out);
        }
    )*};
}
// A `Dropout` (`Vanishes`) has no int8 form: its pairs quantize apart, so that `Quantize`'s
// error names it.
quantize_apart!(
    (TakesActivation, TakesActivation),
    (TakesActivation, Alone),
    (TakesActivation, Vanishes),
    (IsActivation, TakesActivation),
    (IsActivation, IsActivation),
    (IsActivation, Alone),
    (IsActivation, Vanishes),
    (Alone, TakesActivation),
    (Alone, IsActivation),
    (Alone, Alone),
    (Alone, Vanishes),
    (Vanishes, TakesActivation),
    (Vanishes, IsActivation),
    (Vanishes, Alone),
    (Vanishes, Vanishes)
);

/// The list type `(A, (B, ..()))` of some types.
macro_rules! list {
    () => { () };
    ($head:tt $(, $tail:tt)*) => { ($head, list!($($tail),*)) };
}

/// `Quantize` for tuples of one to twelve layers.
macro_rules! tuple_quantize {
    ($($L:ident $i:tt),+) => {
        /// A tuple's int8 form: its layers quantized front to back, each `ActivationLayer`
        /// fused into the layer before it (see the [module docs](self)).
        impl<$($L,)+ Out: IntoTuple> Quantize for ($($L,)+)
        where
            list!($($L),+): QuantizeList<Out = Out>,
        {
            type Int8 = Out::Tuple;
        }
    };
}
tuple_quantize!(L0 0);
tuple_quantize!(L0 0, L1 1);
tuple_quantize!(L0 0, L1 1, L2 2);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10);
tuple_quantize!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10, L11 11);
