//! [`QLayer`]: an int8 layer, and the activations an int8 layer can apply ([`QActivation`]).

use super::tensor::{Int8Tensor, QuantParams};
use crate::activation::{Activation, Identity, Relu, Relu6, Softmax};
use crate::seal::Seal;

/// An int8 layer that maps an int8 tensor `In` to [`Out`](QLayer::Out) with integer arithmetic
/// only, bit for bit as TensorFlow Lite for Microcontrollers' reference kernels do.
///
/// Implemented by [`QDense`](super::QDense), [`QConv2D`](super::QConv2D),
/// [`QDepthwiseConv2D`](super::QDepthwiseConv2D), the pooling layers,
/// [`QFlatten`](super::QFlatten) and tuples of them. Its input and output shapes are those of
/// the float layer it is the int8 form of (see [`Quantize`](super::Quantize)), so a miswired
/// int8 model is the same compile error as the float one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{In}` as its input",
    label = "this int8 layer does not accept `{In}`",
    note = "an int8 model has the shapes of its float model: each layer must take exactly what the previous layer produces"
)]
pub trait QLayer<In: Int8Tensor> {
    /// The int8 tensor this layer produces.
    type Out: Int8Tensor;

    /// Bytes of parameters: int8 weights, int32 biases and the per-channel requantization
    /// (multiplier and shift, 8 bytes per output channel), a constant of the type.
    const PARAM_BYTES: usize;

    /// Bytes of every activation a forward pass produces: the layer's int8 output (a tuple: the
    /// sum of its layers'), a constant of the type; an upper bound, see
    /// [`PEAK_ACTIVATION_BYTES`](QLayer::PEAK_ACTIVATION_BYTES).
    const ACTIVATION_BYTES: usize = <Self::Out as Int8Tensor>::LEN;

    /// Bytes of activations alive at once at the worst moment of a forward pass, not counting
    /// its input: a layer's [`ACTIVATION_BYTES`](QLayer::ACTIVATION_BYTES); for a tuple, the
    /// largest of (the output of layer `k − 1` + the peak of layer `k`), as for
    /// [`Layer::PEAK_ACTIVATION_BYTES`](crate::Layer::PEAK_ACTIVATION_BYTES).
    const PEAK_ACTIVATION_BYTES: usize = Self::ACTIVATION_BYTES;

    /// Computes the layer's int8 output: integer arithmetic only.
    ///
    /// # Panics
    /// Never.
    fn forward(&self, x: &In) -> Self::Out;

    /// [`forward`](QLayer::forward) into `out`, which holds anything on entry and every output
    /// byte on return. The default is `*out = self.forward(x)`; the built-in int8 layers
    /// override it to write `out` directly, and a tuple runs its layers through it, so an
    /// activation is not built in a layer's frame and then moved (as
    /// [`Layer::forward_into`](crate::Layer) for the float layers). Sealed: a layer written
    /// outside the crate implements [`forward`](QLayer::forward) only.
    #[doc(hidden)]
    #[inline(always)]
    fn forward_into(&self, _: Seal, x: &In, out: &mut Self::Out) {
        *out = self.forward(x);
    }

    /// Scale and zero point of the input tensor.
    fn input_params(&self) -> QuantParams;

    /// Scale and zero point of the output tensor.
    fn output_params(&self) -> QuantParams;

    /// Quantizes a float input with the model's input scale and zero point (as TFLite's
    /// converter does for its representative inputs: round half away from zero, saturate).
    fn quantize_input(&self, x: &In::Float) -> In {
        In::quantize(x, self.input_params())
    }

    /// Quantizes `x`, runs the int8 [`forward`](QLayer::forward) and dequantizes the output:
    /// the int8 model seen as a float function.
    fn forward_f32(&self, x: &In::Float) -> <Self::Out as Int8Tensor>::Float {
        self.forward(&self.quantize_input(x)).dequantize(self.output_params())
    }
}

/// TFLite's fused activations: the ones an int8 layer folds into its output range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fused {
    /// No clamp beyond the int8 range (`NONE`).
    None,
    /// `max(x, 0)`: the output range starts at the zero point (`RELU`).
    Relu,
    /// `min(max(x, 0), 6)`: the range ends at the step of 6.0 too (`RELU6`).
    Relu6,
}

impl Fused {
    /// TFLite's `ActivationFunctionType` code: `NONE` = 0, `RELU` = 1, `RELU6` = 3.
    pub const fn code(self) -> i8 {
        match self {
            Self::None => 0,
            Self::Relu => 1,
            Self::Relu6 => 3,
        }
    }

    /// TFLite's `CalculateActivationRangeQuantized` for an int8 output: the clamp bounds, with
    /// 0.0 and 6.0 quantized as `zero_point + round(x / scale)` in `f32`. A `const fn`, so an
    /// int8 layer can be built at compile time.
    pub const fn range(self, output: QuantParams) -> (i8, i8) {
        const fn quantize(x: f32, output: QuantParams) -> i8 {
            let q = output.zero_point as i64 + super::requant::round_f32_saturating(x / output.scale);
            (if q < -128 {
                -128
            } else if q > 127 {
                127
            } else {
                q
            }) as i8
        }
        match self {
            Self::None => (i8::MIN, i8::MAX),
            Self::Relu => (quantize(0.0, output), i8::MAX),
            Self::Relu6 => (quantize(0.0, output), quantize(6.0, output)),
        }
    }
}

/// An activation an int8 `Dense` or `Conv2D` can end with: [`Identity`], [`Relu`], [`Relu6`]
/// (folded into the output range) or, for `Dense`, [`Softmax`] (a TFLite `SOFTMAX` operator
/// after the fully connected one).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form in typed-nn",
    label = "not an int8 activation",
    note = "int8 layers take Identity, Relu and Relu6 (folded into the output range) and Softmax (Dense only)"
)]
pub trait QActivation: Activation + sealed::Sealed {
    /// The activation folded into the layer's output range.
    const FUSED: Fused;
    /// Whether a softmax follows (its own TFLite operator).
    const SOFTMAX: bool;
}

impl QActivation for Identity {
    const FUSED: Fused = Fused::None;
    const SOFTMAX: bool = false;
}
impl QActivation for Relu {
    const FUSED: Fused = Fused::Relu;
    const SOFTMAX: bool = false;
}
impl QActivation for Relu6 {
    const FUSED: Fused = Fused::Relu6;
    const SOFTMAX: bool = false;
}
impl QActivation for Softmax {
    const FUSED: Fused = Fused::None;
    const SOFTMAX: bool = true;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::activation::Identity {}
    impl Sealed for crate::activation::Relu {}
    impl Sealed for crate::activation::Relu6 {}
    impl Sealed for crate::activation::Softmax {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_ranges_quantize_zero_and_six() {
        let out = QuantParams { scale: 0.05, zero_point: -100 };
        assert_eq!(Fused::None.range(out), (-128, 127));
        assert_eq!(Fused::Relu.range(out), (-100, 127));
        // 6 / 0.05 = 120 steps above the zero point: 20.
        assert_eq!(Fused::Relu6.range(out), (-100, 20));
        // A zero point below −128 is clamped into the int8 range.
        let low = QuantParams { scale: 0.1, zero_point: -200 };
        assert_eq!(Fused::Relu.range(low), (-128, 127));
    }
}
