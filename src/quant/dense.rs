//! [`QDense`]: the int8 fully connected layer (TFLite `FULLY_CONNECTED`, per-channel weights),
//! with its activation folded into the output range or followed by an int8 softmax.

use core::marker::PhantomData;

use super::image::{Int8Bytes, Int8ImageError, Reader, Writer, const_try};
use super::layer::{QActivation, QLayer};
use super::requant::Requant;
use super::softmax::{SoftmaxParams, softmax_i8};
use super::tensor::{Int8Tensor, QVector, QuantParams};
use crate::activation::Identity;
use crate::layer::{Dense, Layer};
use crate::seal::Seal;
use crate::shape::Vector;

/// The int8 form of [`Dense<IN, OUT, A>`](crate::Dense): `y[o] = clamp(zₒ + M[o]·(Σᵢ W[o][i]·(x[i] −
/// z_in) + b[o]))`, all in integers, then (for `A = Softmax`) TFLite's int8 softmax.
///
/// The weights are int8 with one symmetric scale per output (TFLite's per-channel
/// quantization, zero point 0), the biases int32 with scale `s_in·s_w[o]`, and `M[o] =
/// s_in·s_w[o]/s_out` is the fixed-point [`Requant`] computed once, at construction, exactly as
/// TFLite Micro's `Prepare` computes it. `Relu` and `Relu6` are the clamp bounds; `Softmax`
/// keeps the logits' quantization and TFLite's softmax constants.
///
/// **TFLite equivalent:** `FULLY_CONNECTED` (fused activation `NONE`, `RELU` or `RELU6`), plus a
/// `SOFTMAX` operator when `A` is [`Softmax`](crate::activation::Softmax). The kernel has
/// TFLite's layout `(out, in)`, the transpose of Keras' and of the float [`Dense`]'s.
///
/// Rounding: TFLite Micro's reference `FullyConnectedPerChannel`, i.e.
/// `MultiplyByQuantizedMultiplier` with two roundings (the high multiply rounds ties up, the
/// final shift rounds ties away from zero). LiteRT's reference kernels can differ by one step on
/// a tie; typed-nn follows TFLite Micro, the interpreter embedded users run.
///
/// # Examples
/// ```
/// use typed_nn::quant::{Int8, Int8Tensor, QLayer, QVector, QuantParams};
/// use typed_nn::prelude::*;
/// let io = QuantParams { scale: 0.5, zero_point: 0 };
/// // y = relu(2·x0 − x1): weights 1.0 and −0.5 at scale 2⁻⁷ and 2⁻⁸ … one scale per output.
/// let layer: Int8<Dense<2, 1, Relu>> = Int8::<Dense<2, 1, Relu>>::new([[64, -32]], [0], [2.0 / 64.0], io, io, 1.0);
/// let y: QVector<1> = layer.forward(&QVector::new([4, 2])); // x = (2.0, 1.0) → 2·2 − 1 = 3.0
/// assert_eq!(y.as_array(), &[6]); // 3.0 / 0.5
/// let y: QVector<1> = layer.forward(&QVector::new([1, 4])); // 2·0.5 − 2 < 0 → 0
/// assert_eq!(y.as_array(), &[0]);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. `IN·OUT + 16·OUT` bytes of parameters inline (int8 weights; int32 bias, bias with the
/// input zero point folded in, multiplier and shift per output); `forward` uses `OUT` bytes
/// of stack (`2·OUT` with a softmax).
#[derive(Clone, Debug, PartialEq)]
pub struct QDense<const IN: usize, const OUT: usize, A = Identity> {
    /// int8 weights in TFLite's layout: `kernel[o][i]` from input `i` to output `o`.
    pub kernel: [[i8; IN]; OUT],
    /// int32 biases, scale `s_in·s_w[o]`.
    pub bias: [i32; OUT],
    /// Per-output weight scales `s_w[o]` (zero point 0).
    pub weight_scales: [f32; OUT],
    /// Input quantization.
    pub input: QuantParams,
    /// Quantization of the fully connected output (for a softmax layer: of its logits).
    pub output: QuantParams,
    /// The softmax's `β` (1.0 from Keras); unused unless `A` is `Softmax`.
    pub beta: f32,
    requant: [Requant; OUT],
    /// `bias[o] − z_in·Σᵢ kernel[o][i]`: the input zero point folded into the bias.
    folded_bias: [i32; OUT],
    softmax: SoftmaxParams,
    act: (i8, i8),
    /// No weight is −128: the SIMD kernels may run (see `kernel::int8`).
    narrow: bool,
    activation: PhantomData<A>,
}

impl<const IN: usize, const OUT: usize, A: QActivation> QDense<IN, OUT, A> {
    /// The layer from its int8 weights (layout `(out, in)`), int32 biases, per-output weight
    /// scales, the input and output quantization, and the softmax's `β` (ignored without a
    /// softmax). Precomputes the requantization multipliers, the activation range and the
    /// softmax constants as TFLite Micro's `Prepare` does.
    ///
    /// Scales must be positive and finite (the `.tflite` importer and the post-training
    /// quantizer guarantee it); a zero or invalid scale gives a zero multiplier, never a panic.
    /// A `const fn`: [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes) builds the
    /// layer in the compiler, this precomputation included.
    #[allow(clippy::indexing_slicing)] // every index is below OUT or IN, the loop bounds; `get` is not const
    pub const fn new(
        kernel: [[i8; IN]; OUT],
        bias: [i32; OUT],
        weight_scales: [f32; OUT],
        input: QuantParams,
        output: QuantParams,
        beta: f32,
    ) -> Self {
        let mut requant = [Requant { multiplier: 0, shift: 0 }; OUT];
        let mut folded_bias = [0i32; OUT];
        let mut o = 0;
        while o < OUT {
            requant[o] = Requant::from_real(input.scale as f64 * weight_scales[o] as f64 / output.scale as f64);
            let mut row_sum = 0i32;
            let mut i = 0;
            while i < IN {
                row_sum = row_sum.wrapping_add(kernel[o][i] as i32);
                i += 1;
            }
            folded_bias[o] = bias[o].wrapping_sub(input.zero_point.wrapping_mul(row_sum));
            o += 1;
        }
        let softmax = if A::SOFTMAX {
            match SoftmaxParams::new(beta, output.scale) {
                Some(p) => p,
                None => SoftmaxParams { input_multiplier: 0, input_left_shift: 0, diff_min: 0 },
            }
        } else {
            SoftmaxParams { input_multiplier: 0, input_left_shift: 0, diff_min: 0 }
        };
        Self {
            kernel,
            bias,
            weight_scales,
            input,
            output,
            beta,
            requant,
            folded_bias,
            softmax,
            act: A::FUSED.range(output),
            narrow: crate::kernel::int8::has_no_minus_128(kernel.as_flattened()),
            activation: PhantomData,
        }
    }

    /// The requantization multiplier and shift of each output.
    pub fn requant(&self) -> &[Requant; OUT] {
        &self.requant
    }

    /// The fully connected part: int8 logits (before any softmax).
    #[inline]
    pub fn logits(&self, x: &[i8; IN]) -> QVector<OUT> {
        let mut y = QVector::default();
        self.logits_into(x, y.as_mut_array());
        y
    }

    /// [`logits`](Self::logits) into `y`, every byte of which it writes.
    #[inline]
    fn logits_into(&self, x: &[i8; IN], y: &mut [i8; OUT]) {
        let mut acc = [0i32; OUT];
        crate::kernel::int8::dot_rows(x, self.kernel.as_flattened(), &mut acc, self.narrow);
        crate::kernel::int8::requantize_rows(
            &acc,
            &self.folded_bias,
            &self.requant,
            self.output.zero_point,
            self.act,
            y,
        );
    }
}

impl<const IN: usize, const OUT: usize, A: QActivation> QDense<IN, OUT, A> {
    /// The layer whose [int8 image](super::image) starts at byte `offset` of `bytes`, built in
    /// the compiler when used in a `const` or `static` (what
    /// [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes) does).
    ///
    /// # Errors
    /// [`Int8ImageError`] for a scale that is not positive and finite, a zero point outside
    /// the int8 range, or (with a softmax) a `β·s` TFLite's softmax cannot use.
    pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        let mut r = Reader::new(bytes, offset);
        let input = const_try!(r.params());
        let output = const_try!(r.params());
        let beta_at = r.offset();
        let beta = r.f32();
        if A::SOFTMAX && SoftmaxParams::new(beta, output.scale).is_none() {
            return Err(Int8ImageError::Softmax { offset: beta_at });
        }
        let mut weight_scales = [0f32; OUT];
        const_try!(r.scales(&mut weight_scales));
        let mut bias = [0i32; OUT];
        r.i32s(&mut bias);
        let mut kernel = [[0i8; IN]; OUT];
        r.i8s(kernel.as_flattened_mut());
        Ok(Self::new(kernel, bias, weight_scales, input, output, beta))
    }
}

super::image::leaf_from_image!([const IN: usize, const OUT: usize, A: QActivation] QDense<IN, OUT, A>);

impl<const IN: usize, const OUT: usize, A: QActivation> Int8Bytes for QDense<IN, OUT, A> {
    const IMAGE_BYTES: usize = 20 + 8 * OUT + IN * OUT;

    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
        let mut w = Writer::new(out, offset);
        w.params(self.input);
        w.params(self.output);
        w.f32(self.beta);
        w.f32s(&self.weight_scales);
        w.i32s(&self.bias);
        w.i8s(self.kernel.as_flattened());
    }

    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        Self::from_le_bytes_at(bytes, offset)
    }
}

impl<const IN: usize, const OUT: usize, A> Default for QDense<IN, OUT, A> {
    /// All-zero weights, unit scales.
    fn default() -> Self {
        Self {
            kernel: [[0; IN]; OUT],
            bias: [0; OUT],
            weight_scales: [1.0; OUT],
            input: QuantParams::default(),
            output: QuantParams::default(),
            beta: 1.0,
            requant: [Requant::default(); OUT],
            folded_bias: [0; OUT],
            softmax: SoftmaxParams::default(),
            act: (i8::MIN, i8::MAX),
            narrow: true,
            activation: PhantomData,
        }
    }
}

impl<X, const IN: usize, const OUT: usize, A> QLayer<X> for QDense<IN, OUT, A>
where
    X: Int8Tensor,
    A: QActivation,
    Dense<IN, OUT, A>: Layer<X::Float, Out = Vector<OUT>>,
{
    type Out = QVector<OUT>;
    const PARAM_BYTES: usize = IN * OUT + 16 * OUT;
    const ACTIVATION_BYTES: usize = if A::SOFTMAX { 2 * OUT } else { OUT };

    #[inline]
    fn forward(&self, x: &X) -> QVector<OUT> {
        let mut out = QVector::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut QVector<OUT>) {
        // After a `Flatten` of an H × W × C image, IN must be H·W·C (as for the float Dense).
        const { assert!(IN == X::LEN, "the int8 Dense after a Flatten must take H·W·C inputs") };
        let Ok(x) = <&[i8; IN]>::try_from(x.as_slice()) else {
            // Unreachable (`IN == X::LEN` above); zeros, as `forward` gave, rather than a panic.
            out.as_mut_array().fill(0);
            return;
        };
        if !A::SOFTMAX {
            return self.logits_into(x, out.as_mut_array());
        }
        let mut logits = [0i8; OUT];
        self.logits_into(x, &mut logits);
        softmax_i8(&self.softmax, &logits, out.as_mut_array());
    }

    fn input_params(&self) -> QuantParams {
        self.input
    }

    fn output_params(&self) -> QuantParams {
        if A::SOFTMAX { QuantParams { scale: 1.0 / 256.0, zero_point: -128 } } else { self.output }
    }
}
