//! int8 models: a tuple of int8 layers is an int8 layer, and [`Int8<M>`] names the int8 model
//! of a float model type `M`, so the architecture is written once.

use super::conv::{ConvActivation, QConv2D, QPadding};
use super::dense::QDense;
use super::depthwise::QDepthwiseConv2D;
use super::flatten::QFlatten;
use super::layer::{QActivation, QLayer};
use super::pool::{QAvgPool2D, QGlobalAvgPool2D, QMaxPool2D};
use super::tensor::{Int8Tensor, QuantParams};
use crate::layer::{AvgPool2D, BiasMode, Conv2D, Dense, DepthwiseConv2D, Flatten, GlobalAvgPool2D, MaxPool2D};
use crate::seal::Seal;

/// A float layer or model that has an int8 form: the type-level function behind [`Int8`].
///
/// Implemented for `f32` [`Dense`] (activations `Identity`, `Relu`, `Relu6`, `Softmax`),
/// [`Conv2D`] and [`DepthwiseConv2D`] (`Identity`, `Relu`, `Relu6`; `Valid` or `Same`; any
/// kernel sides, strides and depth multiplier), with or without a bias, [`MaxPool2D`] and
/// [`AvgPool2D`] (square or rectangular windows), [`GlobalAvgPool2D`], [`Flatten`], and tuples
/// of up to 12 of them. A model with `BatchNormalization` is quantized after folding it
/// ([`Folded`](crate::fold::Folded)), with each activation written into the layer before it,
/// as TensorFlow's converter fuses it (see the guide's int8 chapter).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form in typed-nn",
    label = "no int8 form",
    note = "int8 models are made of f32 Dense (Identity, Relu, Relu6, Softmax), Conv2D and DepthwiseConv2D (Identity, Relu, Relu6), Residual, Skip, MaxPool2D, AvgPool2D, GlobalAvgPool2D and Flatten",
    note = "an ActivationLayer (Relu, Relu6) has no int8 operator of its own: it is fused into the Dense, Conv2D or DepthwiseConv2D (with Identity) or the Residual right before it in the same tuple"
)]
pub trait Quantize {
    /// The int8 layer or model with the same shapes.
    type Int8;
}

/// The int8 model of the float model type `M`: `Int8<(Dense<64, 32, Relu>, Dense<32, 10,
/// Softmax>)>` is `(QDense<64, 32, Relu>, QDense<32, 10, Softmax>)`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::quant::{Int8, QLayer, QVector};
/// type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
/// type MlpI8 = Int8<Mlp>;
/// // The memory of the int8 model is a constant, about a quarter of the float one's.
/// assert_eq!(<MlpI8 as QLayer<QVector<784>>>::PARAM_BYTES, 784 * 64 + 64 * 10 + 16 * 74);
/// assert_eq!(<Mlp as Params<f32>>::PARAM_BYTES, 4 * 50_890);
/// assert_eq!(<MlpI8 as QLayer<QVector<784>>>::ACTIVATION_BYTES, 64 + 2 * 10);
/// ```
pub type Int8<M> = <M as Quantize>::Int8;

impl<const IN: usize, const OUT: usize, A: QActivation, B: BiasMode> Quantize for Dense<IN, OUT, A, f32, B> {
    type Int8 = QDense<IN, OUT, A>;
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
> Quantize for Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW>
{
    type Int8 = QConv2D<CI, CO, K, A, S, P, KW, SW>;
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
> Quantize for DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>
{
    type Int8 = QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>;
}

impl<const P: usize, const PW: usize> Quantize for MaxPool2D<P, PW> {
    type Int8 = QMaxPool2D<P, PW>;
}

impl<const P: usize, const PW: usize> Quantize for AvgPool2D<P, PW> {
    type Int8 = QAvgPool2D<P, PW>;
}

impl Quantize for GlobalAvgPool2D {
    type Int8 = QGlobalAvgPool2D;
}

impl Quantize for Flatten {
    type Int8 = QFlatten;
}

/// A one-layer tuple is that layer.
impl<X: Int8Tensor, L: QLayer<X>> QLayer<X> for (L,) {
    type Out = L::Out;
    const PARAM_BYTES: usize = L::PARAM_BYTES;
    const ACTIVATION_BYTES: usize = L::ACTIVATION_BYTES;
    const PEAK_ACTIVATION_BYTES: usize = L::PEAK_ACTIVATION_BYTES;

    #[inline]
    fn forward(&self, x: &X) -> L::Out {
        self.0.forward(x)
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut L::Out) {
        self.0.forward_into(Seal, x, out);
    }

    fn input_params(&self) -> QuantParams {
        self.0.input_params()
    }

    fn output_params(&self) -> QuantParams {
        self.0.output_params()
    }
}

/// `QLayer` for one tuple arity ≥ 2: entry `(Yᵢ₋₁, Lᵢ, Yᵢ, i)` says layer `Lᵢ` maps `Yᵢ₋₁` to
/// `Yᵢ`; the invocations below were written by a loop, one per arity.
macro_rules! qtuple {
    (first = ($L0:ident, $Y0:ident); middle = [$(($In:ident, $L:ident, $Y:ident, $i:tt)),*]; last = ($InZ:ident, $Z:ident, $YZ:ident, $iz:tt);) => {
        impl<X: Int8Tensor, $L0, $Y0, $($L, $Y,)* $Z, $YZ> QLayer<X> for ($L0, $($L,)* $Z,)
        where
            $L0: QLayer<X, Out = $Y0>,
            $Y0: Int8Tensor,
            $($L: QLayer<$In, Out = $Y>, $Y: Int8Tensor,)*
            $Z: QLayer<$InZ, Out = $YZ>,
            $YZ: Int8Tensor,
        {
            type Out = $YZ;
            const PARAM_BYTES: usize = $L0::PARAM_BYTES $(+ $L::PARAM_BYTES)* + $Z::PARAM_BYTES;
            const ACTIVATION_BYTES: usize = $L0::ACTIVATION_BYTES $(+ $L::ACTIVATION_BYTES)* + $Z::ACTIVATION_BYTES;
            const PEAK_ACTIVATION_BYTES: usize = {
                let peak = $L0::PEAK_ACTIVATION_BYTES;
                $(let peak = crate::model::max_usize(peak, <$In as Int8Tensor>::LEN + <$L as QLayer<$In>>::PEAK_ACTIVATION_BYTES);)*
                crate::model::max_usize(peak, <$InZ as Int8Tensor>::LEN + <$Z as QLayer<$InZ>>::PEAK_ACTIVATION_BYTES)
            };

            #[inline]
            fn forward(&self, x: &X) -> $YZ {
                let mut out = $YZ::default();
                self.forward_into(Seal, x, &mut out);
                out
            }

            #[inline]
            fn forward_into(&self, _: Seal, x: &X, out: &mut $YZ) {
                // Each layer writes its output where it stays, and only the live pair (input,
                // output) of each step is on the stack: see `forward_into_scopes!`, which the
                // float tuples run too.
                let model = self;
                crate::model::forward_into_scopes!(model, x, out; 0, $($i,)* $iz)
            }

            fn input_params(&self) -> QuantParams {
                self.0.input_params()
            }

            fn output_params(&self) -> QuantParams {
                self.$iz.output_params()
            }
        }
    };
}

qtuple! { first = (L0, Y0); middle = []; last = (Y0, L1, Y1, 1); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1)]; last = (Y1, L2, Y2, 2); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2)]; last = (Y2, L3, Y3, 3); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3)]; last = (Y3, L4, Y4, 4); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4)]; last = (Y4, L5, Y5, 5); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5)]; last = (Y5, L6, Y6, 6); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6)]; last = (Y6, L7, Y7, 7); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7)]; last = (Y7, L8, Y8, 8); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8)]; last = (Y8, L9, Y9, 9); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8), (Y8, L9, Y9, 9)]; last = (Y9, L10, Y10, 10); }
qtuple! { first = (L0, Y0); middle = [(Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8), (Y8, L9, Y9, 9), (Y9, L10, Y10, 10)]; last = (Y10, L11, Y11, 11); }
