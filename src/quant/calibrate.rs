//! Post-training quantization: a trained `f32` model, run on representative data, becomes its
//! int8 model, with the scales, zero points and int8 weights TensorFlow Lite's converter would
//! choose for the same weights and data.
//!
//! *See the guide's [int8 chapter](crate::guide::ch08_int8#post-training-quantization-in-typed-nn).*
//! [`calibrate`] runs the float model on every sample, records the range of each tensor the int8
//! model quantizes on its own (a [`Range`]), then builds [`Int8<M>`](super::Int8) layer by layer:
//!
//! | tensor | TFLite's choice, followed here |
//! |---|---|
//! | activations (the input, each `Dense`/`Conv2D` output, a `GlobalAvgPool2D` output) | asymmetric int8 from the calibration min/max, widened to include 0: `scale = (max − min)/255`, zero point `−128 − min/scale` rounded half away from zero; a range narrower than 10⁻⁶ is first widened by 10⁻⁶ on both sides |
//! | `Relu` / `Relu6` | folded: the range recorded is the layer's output *after* the activation (so `min = 0`, and `max ≤ 6` for `Relu6`), and the clamp bounds come from it ([`Fused::range`](super::Fused::range)) |
//! | weights | per output channel, symmetric: `scale = max|w|/127` (at least `5·10⁻⁷/127`), `q = round(w/scale)` half away from zero, zero point 0 |
//! | biases | int32, `round(b / (s_in·s_w))` |
//! | softmax | output scale `1/256`, zero point `−128`; its input keeps the logits' own range |
//! | pooling, `Flatten` | output quantization = input quantization |
//!
//! The scales and zero points are computed in `f64` from the `f32` range and stored as `f32`,
//! as the converter does. `tests/int8_calibrate.rs` checks the result against the converter's
//! own files for the same Keras weights and calibration data.
//!
//! # Examples
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::quant::{self, Int8, QLayer, QVector};
//!
//! type Mlp = (Dense<4, 8, Relu>, Dense<8, 3, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! // Representative inputs: in firmware, a few hundred real sensor readings.
//! let data: Vec<Vector<4>> =
//!     (0..100).map(|i| i as f32 / 100.0).map(|t| Vector::from([t, 1.0 - t, -0.5, 2.0 * t])).collect();
//! let int8: Int8<Mlp> = quant::calibrate(&model, &data)?;
//! // The inputs span [−0.5, 1.98]: a step of 2.48/255, and 0.0 at step −128 + 0.5/step = −77.
//! assert_eq!(int8.0.input.scale, (f64::from(2.48f32) / 255.0) as f32);
//! assert_eq!(int8.0.input.zero_point, -77);
//! // The int8 model computes the float model's probabilities to within a few 1/256 steps.
//! let y: Vector<3> = QLayer::<QVector<4>>::forward_f32(&int8, &data[30]);
//! let p: Vector<3> = model.forward(&data[30]);
//! assert!(y.iter().zip(p.iter()).all(|(a, b)| (a - b).abs() < 0.02));
//! # Ok::<(), quant::CalibrationError>(())
//! ```

use core::fmt;
use core::fmt::Debug;

use super::conv::{ConvActivation, QConv2D, QPadding};
use super::dense::QDense;
use super::depthwise::QDepthwiseConv2D;
use super::flatten::QFlatten;
use super::layer::QActivation;
use super::model::Quantize;
use super::pool::{QAvgPool2D, QGlobalAvgPool2D, QMaxPool2D};
use super::requant::round_f32_saturating;
use super::softmax::SoftmaxParams;
use super::tensor::QuantParams;
use crate::layer::{
    AvgPool2D, BiasMode, Conv2D, Dense, DenseCache, DepthwiseConv2D, Flatten, GlobalAvgPool2D, MaxPool2D,
};
use crate::shape::Vector;
use crate::{Backward, Layer, Tensor};

/// Ranges narrower than this are widened by it on both sides (activations) or to it
/// (weights, symmetric): the converter's guard against huge int8 steps from tiny ranges. It is
/// the `f32` nearest 10⁻⁶, used in `f64` arithmetic: that reproduces the converter's scales
/// bit for bit (`tests/int8_calibrate.rs`), `1e-6f64` does not.
const NEAR_ZERO: f64 = 1e-6f32 as f64;

/// Why a model could not be quantized.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum CalibrationError {
    /// No representative samples were given.
    NoData,
    /// A NaN or infinity appeared in the tensor the layer produces (`layer` counts the
    /// model's layers from 0; `None` is the model's input).
    NonFinite {
        /// The layer whose output (or `None`: the model input) held it.
        layer: Option<usize>,
    },
    /// The logits of the softmax at `layer` span so little that TFLite's fixed-point softmax
    /// cannot represent their scale (`β·s ≤ 2⁻²⁶`).
    Softmax {
        /// The `Dense` layer ending in the softmax.
        layer: usize,
        /// The logits' scale.
        scale: f32,
    },
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoData => write!(f, "calibration needs at least one representative sample"),
            Self::NonFinite { layer: None } => write!(f, "a representative sample holds a NaN or an infinity"),
            Self::NonFinite { layer: Some(l) } => {
                write!(f, "layer {l} produced a NaN or an infinity during calibration")
            }
            Self::Softmax { layer, scale } => write!(
                f,
                "layer {layer}: the softmax's logits span too little (scale {scale:e}) for TFLite's int8 softmax"
            ),
        }
    }
}

impl core::error::Error for CalibrationError {}

/// The range of real values one tensor took during calibration, 0 included (the default is
/// `[0, 0]`), and whether a non-finite value was seen.
///
/// # Examples
/// ```
/// use typed_nn::quant::calibrate::Range;
/// let mut r = Range::default();
/// r.observe(&[0.5, 2.0, 1.0]);
/// assert_eq!((r.min, r.max), (0.0, 2.0)); // zero included
/// let q = r.quant();
/// assert_eq!((q.params.scale, q.params.zero_point), ((2.0f64 / 255.0) as f32, -128));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    /// The smallest value seen, at most 0.
    pub min: f32,
    /// The largest value seen, at least 0.
    pub max: f32,
    /// Whether a NaN or an infinity was seen (such values do not move `min` and `max`).
    pub non_finite: bool,
}

impl Range {
    /// Widens the range to cover `values`.
    pub fn observe(&mut self, values: &[f32]) {
        for &v in values {
            if v.is_finite() {
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            } else {
                self.non_finite = true;
            }
        }
    }

    /// The asymmetric int8 quantization of this range, as TFLite's converter computes it: a
    /// range narrower than 10⁻⁶ is first widened by 10⁻⁶ on both sides; `scale = (max −
    /// min)/255` in `f64`, stored as `f32`; then `zero_point = round(−128 − min/scale)` in
    /// `f32` arithmetic with the stored scale, half away from zero, clamped to the int8 range.
    ///
    /// The precision matters only where `−min/scale` lands near a half, and there it decides
    /// the zero point: this mix is the one that reproduces every zero point the converter wrote
    /// in the cases tried (`tests/int8_calibrate.rs`); all-`f64` arithmetic, or nudging from
    /// the `max` end, misses some of them by one.
    pub fn quant(&self) -> TensorQuant {
        let (mut lo, mut hi) = (f64::from(self.min.min(0.0)), f64::from(self.max.max(0.0)));
        if hi - lo < NEAR_ZERO {
            lo -= NEAR_ZERO;
            hi += NEAR_ZERO;
        }
        let exact_scale = (hi - lo) / 255.0;
        let scale = exact_scale as f32;
        let zero = -128.0f32 - lo as f32 / scale;
        let zero_point = round_f32_saturating(zero).clamp(-128, 127) as i32;
        TensorQuant { params: QuantParams { scale, zero_point }, exact_scale }
    }
}

/// How one tensor is quantized: the [`QuantParams`] the int8 model stores (`f32` scale), and
/// the unrounded `f64` scale the converter computed it from, which it also uses to quantize
/// the next layer's biases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorQuant {
    /// The stored scale and zero point.
    pub params: QuantParams,
    /// The scale before rounding to `f32`.
    pub exact_scale: f64,
}

impl TensorQuant {
    /// A tensor whose scale is exactly an `f32` (the softmax output's `1/256`).
    pub fn exact(params: QuantParams) -> Self {
        Self { params, exact_scale: f64::from(params.scale) }
    }
}

/// `round(x)` half away from zero, saturated to the `i64` range (NaN gives 0).
fn round_f64(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let r = libm::round(x);
    if r >= i64::MAX as f64 {
        i64::MAX
    } else if r <= i64::MIN as f64 {
        i64::MIN
    } else {
        r as i64
    }
}

/// Symmetric per-channel quantization of one output channel's weights (`weights(i)` for
/// `i < n`): TFLite's `scale = max(max|w|, 5·10⁻⁷)/127` (the converter widens a symmetric
/// range narrower than 10⁻⁶ to it), `q = round(w/scale)` clamped to `±127`. Returns the `f32`
/// scale and the unrounded one.
fn quantize_channel(n: usize, weights: impl Fn(usize) -> f32, mut store: impl FnMut(usize, i8)) -> (f32, f64) {
    let rmax = (0..n).map(|i| f64::from(weights(i)).abs()).fold(0.0f64, f64::max).max(NEAR_ZERO / 2.0);
    let scale = rmax / 127.0;
    for i in 0..n {
        let q = round_f64(f64::from(weights(i)) / scale).clamp(-127, 127);
        store(i, q as i8);
    }
    (scale as f32, scale)
}

/// An int32 bias, `round(b / (s_in·s_w))` with the converter's unrounded scales, saturated.
fn quantize_bias(b: f32, input_scale: f64, weight_scale: f64) -> i32 {
    round_f64(f64::from(b) / (input_scale * weight_scale)).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// A float layer (or model) that can be calibrated on inputs `X` and quantized into its
/// [`Int8`](super::Int8) form. Implemented for the layers [`Quantize`] covers and tuples of
/// them; use it through [`calibrate`] or [`Calibrator`].
pub trait Calibrate<X: Tensor<Elem = f32>>: Quantize {
    /// The float tensor this layer produces.
    type Out: Tensor<Elem = f32>;
    /// The ranges this layer records: a [`Range`] for a layer with its own output
    /// quantization, `()` for one that passes its input's on, a tuple for a model.
    type Ranges: Clone + Debug + Default;

    /// Runs the float layer on `x`, widening `ranges` with what its quantized output sees.
    fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> Self::Out;

    /// The int8 layer for an input quantized as `input`, and how its output is quantized;
    /// `layer` is this layer's index in the model, advanced past it (for errors).
    ///
    /// # Errors
    /// [`CalibrationError::NonFinite`] if the layer's output held a NaN or an infinity;
    /// [`CalibrationError::Softmax`] if its logits span too little for TFLite's softmax.
    fn quantize(
        &self,
        input: TensorQuant,
        ranges: &Self::Ranges,
        layer: &mut usize,
    ) -> Result<(Self::Int8, TensorQuant), CalibrationError>;
}

/// Calibrates `model` on representative samples and returns its int8 model, quantized as
/// TensorFlow Lite's converter does (see the [module docs](self)).
///
/// The samples should look like the data the model will see (TFLite's guidance: a few hundred
/// of the training inputs); every sample widens the recorded ranges, so one outlier widens
/// every step of that tensor.
///
/// # Errors
/// [`CalibrationError::NoData`] for no samples; [`CalibrationError::NonFinite`] for a NaN or
/// infinity in a sample or in any layer's output; [`CalibrationError::Softmax`] for logits
/// that span too little for TFLite's softmax.
///
/// # Allocation
/// None: the ranges are a few `f32`s per layer, on the stack; each sample runs one
/// [`Layer::forward`]-sized pass.
pub fn calibrate<'a, M, X>(model: &M, samples: impl IntoIterator<Item = &'a X>) -> Result<M::Int8, CalibrationError>
where
    M: Calibrate<X>,
    X: Tensor<Elem = f32> + 'a,
{
    let mut calibrator = Calibrator::new(model);
    for x in samples {
        calibrator.observe(x);
    }
    calibrator.finish()
}

/// [`calibrate`] one sample at a time, for data that arrives in pieces.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::quant::{Int8, calibrate::Calibrator};
/// type M = (Dense<2, 2, Relu>, Dense<2, 2>);
/// let model: M = M::init(&mut SeedRng::seed(3));
/// let mut c = Calibrator::new(&model);
/// c.observe(&Vector::from([1.0, -1.0]));
/// c.observe(&Vector::from([0.5, 2.0]));
/// assert_eq!(c.samples(), 2);
/// assert_eq!((c.input_range().min, c.input_range().max), (-1.0, 2.0));
/// let int8: Int8<M> = c.finish()?;
/// # Ok::<(), typed_nn::quant::CalibrationError>(())
/// ```
#[derive(Debug)]
pub struct Calibrator<'m, M: Calibrate<X>, X: Tensor<Elem = f32>> {
    model: &'m M,
    input: Range,
    ranges: M::Ranges,
    samples: usize,
}

impl<'m, M: Calibrate<X>, X: Tensor<Elem = f32>> Calibrator<'m, M, X> {
    /// A calibrator for `model` that has seen nothing yet.
    pub fn new(model: &'m M) -> Self {
        Self { model, input: Range::default(), ranges: M::Ranges::default(), samples: 0 }
    }

    /// Runs the model on `x`, recording the ranges of the input and of every quantized tensor.
    pub fn observe(&mut self, x: &X) {
        self.input.observe(x.as_slice());
        let _ = self.model.observe(x, &mut self.ranges);
        self.samples += 1;
    }

    /// The number of samples observed.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// The range of the model's input so far.
    pub fn input_range(&self) -> Range {
        self.input
    }

    /// The recorded ranges of the layers (a tuple of [`Range`]s and `()`s, one per layer).
    pub fn ranges(&self) -> &M::Ranges {
        &self.ranges
    }

    /// The int8 model from the ranges recorded so far.
    ///
    /// # Errors
    /// As [`calibrate`].
    pub fn finish(&self) -> Result<M::Int8, CalibrationError> {
        if self.samples == 0 {
            return Err(CalibrationError::NoData);
        }
        if self.input.non_finite {
            return Err(CalibrationError::NonFinite { layer: None });
        }
        let mut layer = 0;
        self.model.quantize(self.input.quant(), &self.ranges, &mut layer).map(|(m, _)| m)
    }
}

/// The next layer's index (counting from 0, `layer` moves past it) and its output's
/// quantization, from its recorded range, which is checked.
fn next_output(range: &Range, layer: &mut usize) -> Result<(usize, TensorQuant), CalibrationError> {
    let index = *layer;
    *layer += 1;
    if range.non_finite {
        return Err(CalibrationError::NonFinite { layer: Some(index) });
    }
    Ok((index, range.quant()))
}

/// The `Calibrate` items of a layer with an output range of its own, recorded from its output
/// (after its activation, which the int8 output range folds in): `Conv2D`, `DepthwiseConv2D`,
/// `GlobalAvgPool2D`. With `quantize_fn -> Int8Type`, also `quantize` by that function.
macro_rules! records_its_output {
    ($quantize:ident -> $Int8:ty) => {
        records_its_output!();

        fn quantize(
            &self,
            input: TensorQuant,
            range: &Range,
            layer: &mut usize,
        ) -> Result<($Int8, TensorQuant), CalibrationError> {
            $quantize(self, input, range, layer)
        }
    };
    () => {
        type Out = <Self as Layer<X>>::Out;
        type Ranges = Range;

        /// Records the output after the activation (folded into the int8 output range).
        fn observe(&self, x: &X, range: &mut Range) -> Self::Out {
            let y = self.forward(x);
            range.observe(y.as_slice());
            y
        }
    };
}

impl<X, const IN: usize, const OUT: usize, A, B> Calibrate<X> for Dense<IN, OUT, A, f32, B>
where
    X: Tensor<Elem = f32>,
    A: QActivation,
    B: BiasMode,
    Dense<IN, OUT, A, f32, B>: Backward<X, Out = Vector<OUT>, Cache = DenseCache<OUT, f32>>,
{
    type Out = Vector<OUT>;
    type Ranges = Range;

    /// Records the output after `Relu`/`Relu6` (folded into the int8 output range), or the
    /// logits before a softmax (the softmax's input keeps their range).
    fn observe(&self, x: &X, range: &mut Range) -> Vector<OUT> {
        let (y, cache) = self.forward_train(x);
        range.observe(if A::SOFTMAX { &cache.z } else { &cache.y });
        y
    }

    fn quantize(
        &self,
        input: TensorQuant,
        range: &Range,
        layer: &mut usize,
    ) -> Result<(QDense<IN, OUT, A>, TensorQuant), CalibrationError> {
        quantize_dense(self, input, range, layer)
    }
}

/// A `Dense` (any activation of its own) as the int8 `Dense` with activation `A`: per-channel
/// weights, int32 biases, the output quantized from `range`.
fn quantize_dense<const IN: usize, const OUT: usize, A: QActivation, A0, B: BiasMode>(
    dense: &Dense<IN, OUT, A0, f32, B>,
    input: TensorQuant,
    range: &Range,
    layer: &mut usize,
) -> Result<(QDense<IN, OUT, A>, TensorQuant), CalibrationError> {
    let (index, output) = next_output(range, layer)?;
    let mut kernel = [[0i8; IN]; OUT];
    let mut bias = [0i32; OUT];
    let mut weight_scales = [0f32; OUT];
    for (o, ((row, b), s)) in kernel.iter_mut().zip(&mut bias).zip(&mut weight_scales).enumerate() {
        // Keras' (in, out) kernel: column `o` is output channel `o`.
        let column = |i: usize| dense.kernel.get(i).and_then(|r| r.get(o)).copied().unwrap_or(0.0);
        let (scale, exact) = quantize_channel(IN, column, |i, q| {
            if let Some(w) = row.get_mut(i) {
                *w = q;
            }
        });
        *s = scale;
        *b = quantize_bias(bias_of::<B, OUT>(&dense.bias, o), input.exact_scale, exact);
    }
    let beta = 1.0;
    if A::SOFTMAX && SoftmaxParams::new(beta, output.params.scale).is_none() {
        return Err(CalibrationError::Softmax { layer: index, scale: output.params.scale });
    }
    let int8 = QDense::new(kernel, bias, weight_scales, input.params, output.params, beta);
    let next =
        if A::SOFTMAX { TensorQuant::exact(QuantParams { scale: 1.0 / 256.0, zero_point: -128 }) } else { output };
    Ok((int8, next))
}

impl<X, const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, B, const KW: usize, const SW: usize>
    Calibrate<X> for Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW>
where
    X: Tensor<Elem = f32>,
    A: ConvActivation,
    P: QPadding,
    B: BiasMode,
    Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW>: Layer<X>,
    <Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW> as Layer<X>>::Out: Tensor<Elem = f32>,
{
    records_its_output!(quantize_conv -> QConv2D<CI, CO, K, A, S, P, KW, SW>);
}

/// A `Conv2D` (any activation of its own) as the int8 `Conv2D` with activation `A`.
fn quantize_conv<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    A0,
    const S: usize,
    P: QPadding,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
>(
    conv: &Conv2D<CI, CO, K, A0, S, P, f32, B, KW, SW>,
    input: TensorQuant,
    range: &Range,
    layer: &mut usize,
) -> Result<(QConv2D<CI, CO, K, A, S, P, KW, SW>, TensorQuant), CalibrationError> {
    let (_, output) = next_output(range, layer)?;
    let mut kernel = [[[[0i8; CI]; KW]; K]; CO];
    let mut bias = [0i32; CO];
    let mut weight_scales = [0f32; CO];
    // Keras' (kh, kw, in, out) kernel to TFLite's OHWI, filter by filter; within a filter
    // `i` runs over (ky, kx, c) in OHWI order.
    let keras = |i: usize, o: usize| {
        let (ky, kx, c) = (i / (KW * CI), i / CI % KW, i % CI);
        conv.kernel.get(ky).and_then(|r| r.get(kx)).and_then(|p| p.get(c)).and_then(|w| w.get(o)).copied()
    };
    for (o, ((filter, b), s)) in kernel.iter_mut().zip(&mut bias).zip(&mut weight_scales).enumerate() {
        let flat = filter.as_flattened_mut().as_flattened_mut();
        let (scale, exact) = quantize_channel(
            K * KW * CI,
            |i| keras(i, o).unwrap_or(0.0),
            |i, q| {
                if let Some(w) = flat.get_mut(i) {
                    *w = q;
                }
            },
        );
        *s = scale;
        *b = quantize_bias(bias_of::<B, CO>(&conv.bias, o), input.exact_scale, exact);
    }
    Ok((QConv2D::new(kernel, bias, weight_scales, input.params, output.params), output))
}

/// Bias `o` of a layer's bias storage, 0 for a layer without one ([`NoBias`](crate::NoBias)).
fn bias_of<B: BiasMode, const N: usize>(store: &B::Store<[f32; N]>, o: usize) -> f32 {
    B::get(store).and_then(|b| b.get(o)).copied().unwrap_or(0.0)
}

impl<X, const C: usize, const K: usize, A, const S: usize, P, B, const M: usize, const KW: usize, const SW: usize>
    Calibrate<X> for DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>
where
    X: Tensor<Elem = f32>,
    A: ConvActivation,
    P: QPadding,
    B: BiasMode,
    DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>: Layer<X>,
    <DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW> as Layer<X>>::Out: Tensor<Elem = f32>,
{
    records_its_output!(quantize_depthwise -> QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>);
}

/// A `DepthwiseConv2D` (any activation of its own) as the int8 one with activation `A`.
fn quantize_depthwise<
    const C: usize,
    const K: usize,
    A: ConvActivation,
    A0,
    const S: usize,
    P: QPadding,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
>(
    dw: &DepthwiseConv2D<C, K, A0, S, P, f32, B, M, KW, SW>,
    input: TensorQuant,
    range: &Range,
    layer: &mut usize,
) -> Result<(QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>, TensorQuant), CalibrationError> {
    let (_, output) = next_output(range, layer)?;
    // Keras' (kh, kw, in, multiplier) kernel is TFLite's [1, kh, kw, in·multiplier]: the
    // same order; each output channel (c, m) has its own scale over its K·KW taps.
    let mut kernel = [[[[0i8; M]; C]; KW]; K];
    let mut bias = [[0i32; M]; C];
    let mut weight_scales = [[0f32; M]; C];
    let float_bias = B::get(&dw.bias);
    for c in 0..C {
        for m in 0..M {
            let tap = |i: usize| {
                dw.kernel.get(i / KW).and_then(|r| r.get(i % KW)).and_then(|t| t.get(c)).and_then(|t| t.get(m))
            };
            let (scale, exact) = quantize_channel(
                K * KW,
                |i| tap(i).copied().unwrap_or(0.0),
                |i, q| {
                    let w = kernel.get_mut(i / KW).and_then(|r| r.get_mut(i % KW));
                    if let Some(w) = w.and_then(|t| t.get_mut(c)).and_then(|t| t.get_mut(m)) {
                        *w = q;
                    }
                },
            );
            let b = float_bias.and_then(|b| b.get(c)).and_then(|b| b.get(m)).copied().unwrap_or(0.0);
            if let (Some(s), Some(q)) =
                (weight_scales.get_mut(c).and_then(|s| s.get_mut(m)), bias.get_mut(c).and_then(|q| q.get_mut(m)))
            {
                *s = scale;
                *q = quantize_bias(b, input.exact_scale, exact);
            }
        }
    }
    Ok((QDepthwiseConv2D::new(kernel, bias, weight_scales, input.params, output.params), output))
}

/// A layer whose output shares its input's quantization: it records nothing.
macro_rules! pass_through {
    ($Float:ident $(<$($P:ident),+>)?, $Int8:ident) => {
        impl<X $($(, const $P: usize)+)?> Calibrate<X> for $Float$(<$($P),+>)?
        where
            X: Tensor<Elem = f32>,
            $Float$(<$($P),+>)?: Layer<X>,
            <$Float$(<$($P),+>)? as Layer<X>>::Out: Tensor<Elem = f32>,
        {
            type Out = <Self as Layer<X>>::Out;
            type Ranges = ();

            fn observe(&self, x: &X, _: &mut ()) -> Self::Out {
                self.forward(x)
            }

            fn quantize(
                &self,
                input: TensorQuant,
                _: &(),
                layer: &mut usize,
            ) -> Result<($Int8$(<$($P),+>)?, TensorQuant), CalibrationError> {
                *layer += 1;
                Ok(($Int8 { params: input.params }, input))
            }
        }
    };
}

pass_through!(MaxPool2D<P, PW>, QMaxPool2D);
pass_through!(AvgPool2D<P, PW>, QAvgPool2D);
pass_through!(Flatten, QFlatten);

impl<X> Calibrate<X> for GlobalAvgPool2D
where
    X: Tensor<Elem = f32>,
    GlobalAvgPool2D: Layer<X>,
    <GlobalAvgPool2D as Layer<X>>::Out: Tensor<Elem = f32>,
{
    records_its_output!();

    fn quantize(
        &self,
        input: TensorQuant,
        range: &Range,
        layer: &mut usize,
    ) -> Result<(QGlobalAvgPool2D, TensorQuant), CalibrationError> {
        let (_, output) = next_output(range, layer)?;
        Ok((QGlobalAvgPool2D::new(input.params, output.params), output))
    }
}

/// The ranges of a one-layer tuple: that layer's.
impl<X: Tensor<Elem = f32>, L: Calibrate<X>> Calibrate<X> for (L,)
where
    (L,): Quantize<Int8 = (L::Int8,)>,
{
    type Out = L::Out;
    type Ranges = (L::Ranges,);

    fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> L::Out {
        self.0.observe(x, &mut ranges.0)
    }

    fn quantize(
        &self,
        input: TensorQuant,
        ranges: &Self::Ranges,
        layer: &mut usize,
    ) -> Result<((L::Int8,), TensorQuant), CalibrationError> {
        let (l, q) = self.0.quantize(input, &ranges.0, layer)?;
        Ok(((l,), q))
    }
}

/// `Calibrate` for one tuple arity ≥ 2: entry `(Xᵢ, Lᵢ, i)` says layer `Lᵢ` (field `i`) takes
/// `Xᵢ`, the previous layer's `Out`. Only for tuples whose int8 form is layer for layer (no
/// activation layer fused away, see [`fuse`](super::fuse)).
macro_rules! calibrate_tuple {
    ($L0:ident; $(($L:ident, $Prev:ident, $i:tt)),+; $Last:ident) => {
        impl<X: Tensor<Elem = f32>, $L0: Calibrate<X>, $($L: Calibrate<$Prev::Out>),+> Calibrate<X> for ($L0, $($L,)+)
        where
            ($L0, $($L,)+): Quantize<Int8 = ($L0::Int8, $($L::Int8,)+)>,
        {
            type Out = $Last::Out;
            type Ranges = ($L0::Ranges, $($L::Ranges,)+);

            fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> Self::Out {
                let x = self.0.observe(x, &mut ranges.0);
                $(let x = self.$i.observe(&x, &mut ranges.$i);)+
                x
            }

            fn quantize(
                &self,
                input: TensorQuant,
                ranges: &Self::Ranges,
                layer: &mut usize,
            ) -> Result<(Self::Int8, TensorQuant), CalibrationError> {
                let q = input;
                #[allow(non_snake_case)]
                let ($L0, q) = self.0.quantize(q, &ranges.0, layer)?;
                $(
                    #[allow(non_snake_case)]
                    let ($L, q) = self.$i.quantize(q, &ranges.$i, layer)?;
                )+
                Ok((($L0, $($L,)+), q))
            }
        }
    };
}

calibrate_tuple!(L0; (L1, L0, 1); L1);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2); L2);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3); L3);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4); L4);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5); L5);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6); L6);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6), (L7, L6, 7); L7);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6), (L7, L6, 7), (L8, L7, 8); L8);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6), (L7, L6, 7), (L8, L7, 8), (L9, L8, 9); L9);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6), (L7, L6, 7), (L8, L7, 8), (L9, L8, 9), (L10, L9, 10); L10);
calibrate_tuple!(L0; (L1, L0, 1), (L2, L1, 2), (L3, L2, 3), (L4, L3, 4), (L5, L4, 5), (L6, L5, 6), (L7, L6, 7), (L8, L7, 8), (L9, L8, 9), (L10, L9, 10), (L11, L10, 11); L11);
