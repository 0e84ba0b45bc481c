//! The int8 residual block: [`QResidual`] (a branch, a shortcut and TFLite's int8 `ADD`,
//! [`QAdd`]) and [`QSkip`], the identity shortcut.

use core::marker::PhantomData;

use super::calibrate::{Calibrate, CalibrationError, Range, TensorQuant};
use super::conv::ConvActivation;
use super::image::{Int8Bytes, Int8ImageError, Int8Records, Reader, Writer, const_try, refuse};
use super::layer::{Fused, QLayer};
use super::model::Quantize;
use super::pool::shared_params_image;
use super::requant::Requant;
use super::tensor::{Int8Tensor, QuantParams};
use crate::Tensor;
use crate::activation::Identity;
use crate::io::bytes::{After, ConstLoad, FromImage, ImageAt};
use crate::layer::{ActivationLayer, Layer, Residual, Skip};
use crate::seal::Seal;

/// TFLite's int8 `ADD`: `clamp(z_out + M_out·(M₁·((a − z₁)·2²⁰) + M₂·((b − z₂)·2²⁰)))`, each
/// input brought to a common scale before the sum and the sum to the output scale.
///
/// As TFLite Micro's `Prepare` computes them (in `f64`, each a fixed-point [`Requant`]):
/// `twice_max = 2·max(s₁, s₂)`, `M₁ = s₁/twice_max`, `M₂ = s₂/twice_max` (both ≤ ½) and
/// `M_out = twice_max / (2²⁰·s_out)`. The left shift by 20 keeps the 8-bit inputs' precision
/// through the two roundings of `M₁`, `M₂`. Rounding: every product is TFLite's
/// `MultiplyByQuantizedMultiplierSmallerThanOneExp` (`SaturatingRoundingDoublingHighMul`,
/// ties toward +∞, then `RoundingDivideByPOT`, ties away from zero), so three roundings per
/// value; TFLite Micro and LiteRT's reference kernels round the same way. The fused activation
/// (`NONE`, `RELU`, `RELU6`) is the clamp, as for a convolution ([`Fused::range`]).
///
/// The sum is symmetric in its inputs, so which of the two the file lists first does not
/// matter.
///
/// # Examples
/// ```
/// use typed_nn::quant::{Fused, QAdd, QuantParams};
/// let a = QuantParams { scale: 0.1, zero_point: -10 };
/// let b = QuantParams { scale: 0.05, zero_point: 3 };
/// let out = QuantParams { scale: 0.2, zero_point: 0 };
/// let add = QAdd::new(a, b, out, Fused::None);
/// // 0.1·(20 + 10) + 0.05·(43 − 3) = 3 + 2 = 5.0 = 25 steps of 0.2.
/// assert_eq!(add.add(20, 43), 25);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QAdd {
    /// Quantization of the first input (the shortcut's output in a [`QResidual`]).
    pub input1: QuantParams,
    /// Quantization of the second input (the branch's output).
    pub input2: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// `M₁`, `M₂` and `M_out`.
    requant: [Requant; 3],
    act: (i8, i8),
}

/// TFLite's left shift of both inputs before their rescaling (int8 `ADD`).
pub const ADD_LEFT_SHIFT: i32 = 20;

impl Default for QAdd {
    /// Unit scales, zero points 0, zero multipliers.
    fn default() -> Self {
        Self {
            input1: QuantParams::default(),
            input2: QuantParams::default(),
            output: QuantParams::default(),
            requant: [Requant { multiplier: 0, shift: 0 }; 3],
            act: (i8::MIN, i8::MAX),
        }
    }
}

impl QAdd {
    /// The `ADD` of inputs quantized as `input1` and `input2` into `output`, with the fused
    /// activation `fused`; the multipliers as TFLite Micro's `Prepare` computes them. Invalid
    /// scales give zero multipliers, never a panic. A `const fn`.
    pub const fn new(input1: QuantParams, input2: QuantParams, output: QuantParams, fused: Fused) -> Self {
        let (s1, s2) = (input1.scale as f64, input2.scale as f64);
        let twice_max = 2.0 * if s1 > s2 { s1 } else { s2 };
        let requant = [
            Requant::from_real(s1 / twice_max),
            Requant::from_real(s2 / twice_max),
            Requant::from_real(twice_max / ((1i64 << ADD_LEFT_SHIFT) as f64 * output.scale as f64)),
        ];
        Self { input1, input2, output, requant, act: fused.range(output) }
    }

    /// The multipliers `M₁`, `M₂` and `M_out`.
    pub fn requant(&self) -> &[Requant; 3] {
        &self.requant
    }

    /// One output value: `a` from the first input, `b` from the second.
    #[inline(always)]
    pub fn add(&self, a: i8, b: i8) -> i8 {
        let [m1, m2, out] = self.requant;
        let shifted = |q: i8, z: i32| (i32::from(q).wrapping_sub(z)).wrapping_mul(1 << ADD_LEFT_SHIFT);
        let sum =
            m1.apply(shifted(a, self.input1.zero_point)).wrapping_add(m2.apply(shifted(b, self.input2.zero_point)));
        let raw = out.apply(sum).wrapping_add(self.output.zero_point);
        // `act` holds int8 values, so the clamped value is one too.
        raw.max(i32::from(self.act.0)).min(i32::from(self.act.1)) as i8
    }

    /// `b[i] = add(a[i], b[i])` over the shorter of the two: in place, each sum reads only the
    /// two values at its own index. On x86-64 with `std`, the AVX-512 VNNI path takes sixteen
    /// values at a time (`kernel::int8::add_requantized`, the same bytes).
    #[cfg(any(test, all(feature = "std", target_arch = "x86_64")))]
    pub(crate) fn add_in_place(&self, a: &[i8], b: &mut [i8]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        let done = crate::kernel::int8::add_requantized(
            a,
            b,
            (self.input1.zero_point, self.input2.zero_point, self.output.zero_point),
            self.requant,
            self.act,
        );
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        let done = 0;
        for (o, &a) in b.iter_mut().zip(a).skip(done) {
            *o = self.add(a, *o);
        }
    }

    /// `out[i] = add(a[i], b[i])` over the shortest of the three.
    pub fn add_slices(&self, a: &[i8], b: &[i8], out: &mut [i8]) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = self.add(a, b);
        }
    }
}

/// The int8 form of [`Skip`]: the identity shortcut, `S(x) = x`, which knows the scale and
/// zero point of the block's input (the `ADD` reads `x` itself).
///
/// # Allocation
/// None; 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QSkip {
    /// Quantization of the block's input, which is this shortcut's output.
    pub params: QuantParams,
}

// Its image: the block input's scale and zero point (8 bytes).
shared_params_image!(QSkip);

impl<X: Int8Tensor> QLayer<X> for QSkip {
    type Out = X;
    const PARAM_BYTES: usize = 0;
    /// Nothing: the `ADD` reads the block's input where it is.
    const ACTIVATION_BYTES: usize = 0;

    #[inline]
    fn forward(&self, x: &X) -> X {
        x.clone()
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X) {
        out.clone_from(x);
    }

    fn input_params(&self) -> QuantParams {
        self.params
    }

    fn output_params(&self) -> QuantParams {
        self.params
    }
}

/// The shape rule of an int8 residual block: the branch's output (`Self`) and the shortcut's
/// (`Other`) are the same int8 tensor type, as for the float [`Residual`].
#[diagnostic::on_unimplemented(
    message = "the branches of an int8 residual block produce different tensors: `{Self}` and `{Other}`",
    label = "the branch and the shortcut must produce the same tensor type",
    note = "the ADD sums the two element by element: give the shortcut the branch's output shape (a 1×1 QConv2D with the branch's stride and filters)"
)]
pub trait QBranchesAgree<Other> {}
impl<T> QBranchesAgree<T> for T {}

/// The int8 form of [`Residual<F, S>`](Residual) followed by an activation `A` (`Identity`,
/// `Relu`, `Relu6`): `A(F(x) + S(x))` where the sum is TFLite's int8 `ADD` ([`QAdd`]) with `A`
/// as its fused activation.
///
/// `Int8<(Residual<F, S>, ActivationLayer<Relu>)>` is `(QResidual<Int8<F>, Int8<S>, Relu>,)`
/// (see [`fuse`](super::fuse)); ResNet's projection shortcut, a 1×1 `Conv2D` with stride 2,
/// is a [`QConv2D`](super::QConv2D), and the identity shortcut [`QSkip`].
///
/// **TFLite equivalent:** the branch's operators, then the shortcut's, then `ADD` with inputs
/// `[shortcut, branch]` (as the converter writes `Add()([x, y])`; the other order loads too),
/// no broadcasting, fused activation `NONE`, `RELU` or `RELU6`.
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. `forward` holds the branch's and the shortcut's outputs and the sum on the stack.
///
/// Generic parameters: `F` the int8 branch, `S` the int8 shortcut ([`QSkip`] by default), `A`
/// the fused activation ([`Identity`] by default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QResidual<F, S = QSkip, A = Identity> {
    /// The int8 branch.
    pub branch: F,
    /// The int8 shortcut.
    pub shortcut: S,
    /// The `ADD`: input 1 is the shortcut's output, input 2 the branch's.
    pub add: QAdd,
    activation: PhantomData<A>,
}

impl<F, S, A: ConvActivation> QResidual<F, S, A> {
    /// The block: `branch` and `shortcut` whose outputs are quantized as `shortcut_out` and
    /// `branch_out`, summed into `output` with `A` fused. A `const fn`.
    pub const fn new(
        branch: F,
        shortcut: S,
        shortcut_out: QuantParams,
        branch_out: QuantParams,
        output: QuantParams,
    ) -> Self {
        Self { branch, shortcut, add: QAdd::new(shortcut_out, branch_out, output, A::FUSED), activation: PhantomData }
    }
}

impl<X, F, S, A, Y> QLayer<X> for QResidual<F, S, A>
where
    X: Int8Tensor,
    F: QLayer<X, Out = Y>,
    S: QLayer<X>,
    Y: Int8Tensor + QBranchesAgree<S::Out>,
    A: ConvActivation,
{
    type Out = Y;
    /// The branch's and the shortcut's, and the `ADD`'s three multipliers and scales.
    const PARAM_BYTES: usize = F::PARAM_BYTES + S::PARAM_BYTES + 48;
    const ACTIVATION_BYTES: usize = F::ACTIVATION_BYTES + S::ACTIVATION_BYTES + Y::LEN;
    /// The branch runs, then the shortcut while the branch's output lives, then the `ADD` writes
    /// the sum over the branch's output while the shortcut's lives (the identity shortcut's
    /// output is a copy of the input): as for the float [`Residual`].
    const PEAK_ACTIVATION_BYTES: usize = crate::model::max_usize(
        F::PEAK_ACTIVATION_BYTES,
        crate::model::max_usize(Y::LEN + S::PEAK_ACTIVATION_BYTES, 2 * Y::LEN),
    );

    fn forward(&self, x: &X) -> Y {
        let mut y = Y::default();
        self.forward_into(Seal, x, &mut y);
        y
    }

    /// The branch writes into `out`, then the `ADD` sums the shortcut's output into it in
    /// place (the shortcut through `forward`: `QSkip`'s is one copy, not a zeroing and a copy).
    fn forward_into(&self, _: Seal, x: &X, out: &mut Y) {
        self.branch.forward_into(Seal, x, out);
        let s = self.shortcut.forward(x);
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        self.add.add_in_place(s.as_slice(), out.as_mut_slice());
        // Elsewhere (the firmware) the loop as it was, in place: each sum reads only the two
        // values at its own index. A call to `add_in_place` there changed the inlining and
        // grew the M4F's ResNet-8 stack from 58 068 to 74 800 bytes.
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        for (o, &s) in out.as_mut_slice().iter_mut().zip(s.as_slice()) {
            *o = self.add.add(s, *o);
        }
    }

    fn input_params(&self) -> QuantParams {
        self.branch.input_params()
    }

    fn output_params(&self) -> QuantParams {
        self.add.output
    }
}

/// The `ADD`'s part of a residual block's [int8 image](super::image): the quantization of its
/// first input (the shortcut's output), its second (the branch's) and its output, as a `const fn`.
const fn add_params_at(bytes: &[u8], offset: usize) -> Result<[QuantParams; 3], Int8ImageError> {
    let mut r = Reader::new(bytes, offset);
    let input1 = const_try!(r.params());
    let input2 = const_try!(r.params());
    let output = const_try!(r.params());
    Ok([input1, input2, output])
}

/// The image of a residual block: the branch's, the shortcut's, then the `ADD`'s input 1
/// (shortcut), input 2 (branch) and output scale and zero point, `F + S + 24` bytes. The `ADD`'s
/// multipliers are recomputed from those, as the loader computes them.
impl<F: Int8Bytes, S: Int8Bytes, A: ConvActivation> Int8Bytes for QResidual<F, S, A> {
    const IMAGE_BYTES: usize = F::IMAGE_BYTES + S::IMAGE_BYTES + 24;

    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
        self.branch.write_le_bytes_at(out, offset);
        let offset = offset.saturating_add(F::IMAGE_BYTES);
        self.shortcut.write_le_bytes_at(out, offset);
        let mut w = Writer::new(out, offset.saturating_add(S::IMAGE_BYTES));
        w.params(self.add.input1);
        w.params(self.add.input2);
        w.params(self.add.output);
    }

    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        let branch = F::read_le_bytes_at(bytes, offset)?;
        let offset = offset.saturating_add(F::IMAGE_BYTES);
        let shortcut = S::read_le_bytes_at(bytes, offset)?;
        let [input1, input2, output] = add_params_at(bytes, offset.saturating_add(S::IMAGE_BYTES))?;
        Ok(Self::new(branch, shortcut, input1, input2, output))
    }
}

impl<F: Int8Bytes, S: Int8Bytes, A: ConvActivation> ConstLoad<Int8Records> for QResidual<F, S, A> {
    const BYTES: usize = <Self as Int8Bytes>::IMAGE_BYTES;
}

/// The block decoded by the compiler: the branch at `I`, the shortcut after it, the `ADD` after
/// both.
impl<I, F, S, A> FromImage<I, Int8Records> for QResidual<F, S, A>
where
    I: ImageAt,
    F: FromImage<I, Int8Records> + Int8Bytes,
    S: FromImage<After<I, F, Int8Records>, Int8Records> + Int8Bytes,
    A: ConvActivation,
{
    const DECODED: Self = {
        let [input1, input2, output] = match add_params_at(I::IMAGE, <After<I, (F, S), Int8Records> as ImageAt>::OFFSET)
        {
            Ok(p) => p,
            Err(e) => refuse(e),
        };
        Self::new(F::DECODED, <S as FromImage<After<I, F, Int8Records>, Int8Records>>::DECODED, input1, input2, output)
    };
}

impl Quantize for Skip {
    type Int8 = QSkip;
}

/// A residual block not followed by an activation: the `ADD` without a fused one.
impl<F: Quantize, S: Quantize> Quantize for Residual<F, S> {
    type Int8 = QResidual<F::Int8, S::Int8, Identity>;
}

/// The identity shortcut records nothing; its int8 form carries the block input's quantization.
impl<X: Tensor<Elem = f32>> Calibrate<X> for Skip {
    type Out = X;
    type Ranges = ();

    fn observe(&self, x: &X, _: &mut ()) -> X {
        x.clone()
    }

    fn quantize(&self, input: TensorQuant, _: &(), _: &mut usize) -> Result<(QSkip, TensorQuant), CalibrationError> {
        Ok((QSkip { params: input.params }, input))
    }
}

/// The ranges of a residual block: the branch's, the shortcut's, and the `ADD`'s output.
pub type ResidualRanges<F, S> = (F, S, Range);

/// Runs both branches and records the sum after `A`.
fn observe_residual<X, F, S, A, Y>(
    block: &Residual<F, S>,
    x: &X,
    ranges: &mut ResidualRanges<F::Ranges, S::Ranges>,
) -> Y
where
    X: Tensor<Elem = f32>,
    F: Calibrate<X, Out = Y>,
    S: Calibrate<X, Out = Y>,
    Y: Tensor<Elem = f32>,
    A: ConvActivation,
    ActivationLayer<A>: Layer<Y, Out = Y>,
{
    let mut y = block.branch.observe(x, &mut ranges.0);
    let s = block.shortcut.observe(x, &mut ranges.1);
    for (y, s) in y.as_mut_slice().iter_mut().zip(s.as_slice()) {
        *y += *s;
    }
    let y = ActivationLayer::<A>::new().forward(&y);
    ranges.2.observe(y.as_slice());
    y
}

/// Quantizes both branches from the block's input, then the `ADD` from its recorded range.
#[allow(clippy::type_complexity)]
fn quantize_residual<X, F, S, A, Y>(
    block: &Residual<F, S>,
    input: TensorQuant,
    ranges: &ResidualRanges<F::Ranges, S::Ranges>,
    layer: &mut usize,
) -> Result<(QResidual<F::Int8, S::Int8, A>, TensorQuant), CalibrationError>
where
    X: Tensor<Elem = f32>,
    F: Calibrate<X, Out = Y>,
    S: Calibrate<X, Out = Y>,
    Y: Tensor<Elem = f32>,
    A: ConvActivation,
{
    let (branch, branch_out) = block.branch.quantize(input, &ranges.0, layer)?;
    let (shortcut, shortcut_out) = block.shortcut.quantize(input, &ranges.1, layer)?;
    let index = *layer;
    *layer += 1;
    if ranges.2.non_finite {
        return Err(CalibrationError::NonFinite { layer: Some(index) });
    }
    let output = ranges.2.quant();
    Ok((QResidual::new(branch, shortcut, shortcut_out.params, branch_out.params, output.params), output))
}

/// A residual block on its own: the `ADD`'s output range is the sum's.
impl<X, F, S, Y> Calibrate<X> for Residual<F, S>
where
    X: Tensor<Elem = f32>,
    F: Calibrate<X, Out = Y>,
    S: Calibrate<X, Out = Y>,
    Y: Tensor<Elem = f32>,
{
    type Out = Y;
    type Ranges = ResidualRanges<F::Ranges, S::Ranges>;

    fn observe(&self, x: &X, ranges: &mut Self::Ranges) -> Y {
        observe_residual::<X, F, S, Identity, Y>(self, x, ranges)
    }

    fn quantize(
        &self,
        input: TensorQuant,
        ranges: &Self::Ranges,
        layer: &mut usize,
    ) -> Result<(Self::Int8, TensorQuant), CalibrationError> {
        quantize_residual::<X, F, S, Identity, Y>(self, input, ranges, layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::requant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};

    /// TFLite's int8 `AddFunc`, written out from the reference kernel's steps with the
    /// multipliers recomputed here (not through `QAdd`).
    fn tflite_add(a: i8, b: i8, p1: QuantParams, p2: QuantParams, out: QuantParams, lo: i32, hi: i32) -> i8 {
        let twice_max = 2.0 * f64::from(p1.scale.max(p2.scale));
        let q = |real: f64| {
            let r = Requant::from_real(real);
            (r.multiplier, r.shift)
        };
        let (m1, m2, mo) = (
            q(f64::from(p1.scale) / twice_max),
            q(f64::from(p2.scale) / twice_max),
            q(twice_max / (1048576.0 * f64::from(out.scale))),
        );
        let smaller_than_one = |x: i32, (m, s): (i32, i32)| {
            assert!(s <= 0, "multipliers below one");
            rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, m), -s)
        };
        let x1 = (i32::from(a) - p1.zero_point) * (1 << 20);
        let x2 = (i32::from(b) - p2.zero_point) * (1 << 20);
        let raw = smaller_than_one(smaller_than_one(x1, m1) + smaller_than_one(x2, m2), mo) + out.zero_point;
        raw.clamp(lo, hi) as i8
    }

    #[test]
    fn add_follows_tflites_reference_steps_on_every_input_pair() {
        let p1 = QuantParams { scale: 0.0713, zero_point: -17 };
        let p2 = QuantParams { scale: 0.0291, zero_point: 40 };
        let out = QuantParams { scale: 0.0874, zero_point: -128 };
        let add = QAdd::new(p1, p2, out, Fused::Relu);
        let (lo, hi) = Fused::Relu.range(out);
        for a in i8::MIN..=i8::MAX {
            for b in i8::MIN..=i8::MAX {
                assert_eq!(add.add(a, b), tflite_add(a, b, p1, p2, out, lo.into(), hi.into()), "{a} + {b}");
            }
        }
    }

    #[test]
    fn the_in_place_add_follows_tflites_reference_steps_on_every_input_pair() {
        // `add_in_place` (sixteen values at a time on the AVX-512 VNNI path, then one at a
        // time) over all 65 536 pairs plus a tail of 5 (not a multiple of 16), against the
        // reference steps, for ResNet-8-like scales and the earlier test's.
        let cases = [
            (
                QuantParams { scale: 0.0713, zero_point: -17 },
                QuantParams { scale: 0.0291, zero_point: 40 },
                QuantParams { scale: 0.0874, zero_point: -128 },
                Fused::Relu,
            ),
            (
                QuantParams { scale: 0.0412, zero_point: -128 },
                QuantParams { scale: 0.1173, zero_point: 5 },
                QuantParams { scale: 0.0655, zero_point: 12 },
                Fused::None,
            ),
            (
                QuantParams { scale: 0.02, zero_point: 3 },
                QuantParams { scale: 0.02, zero_point: -3 },
                QuantParams { scale: 0.01, zero_point: -100 },
                Fused::Relu6,
            ),
        ];
        for (p1, p2, out, fused) in cases {
            let add = QAdd::new(p1, p2, out, fused);
            let (lo, hi) = fused.range(out);
            let pairs = (i8::MIN..=i8::MAX).flat_map(|a| (i8::MIN..=i8::MAX).map(move |b| (a, b)));
            let pairs: std::vec::Vec<(i8, i8)> =
                pairs.chain([(1, 2), (-128, 127), (127, -128), (0, 0), (9, -9)]).collect();
            let a: std::vec::Vec<i8> = pairs.iter().map(|p| p.0).collect();
            let mut b: std::vec::Vec<i8> = pairs.iter().map(|p| p.1).collect();
            add.add_in_place(&a, &mut b);
            for (&(x, y), &got) in pairs.iter().zip(&b) {
                assert_eq!(got, tflite_add(x, y, p1, p2, out, lo.into(), hi.into()), "{x} + {y}, {fused:?}");
            }
            assert!(b.iter().any(|&v| v > lo && v < hi), "not all clamped");
        }
    }

    #[test]
    fn add_is_close_to_the_real_sum_and_clamps_with_the_fused_activation() {
        let p1 = QuantParams { scale: 0.05, zero_point: 10 };
        let p2 = QuantParams { scale: 0.02, zero_point: -30 };
        let out = QuantParams { scale: 0.04, zero_point: -20 };
        let plain = QAdd::new(p1, p2, out, Fused::None);
        let relu6 = QAdd::new(p1, p2, out, Fused::Relu6);
        for (a, b) in [(-128i8, -128i8), (0, 0), (60, 90), (127, 127), (-50, 100), (127, -128)] {
            let real = p1.dequantize(a) + p2.dequantize(b);
            let expected = out.quantize(real);
            let got = plain.add(a, b);
            assert!((i32::from(got) - i32::from(expected)).abs() <= 1, "{a} + {b}: {got} vs {expected}");
            // ReLU6: 0.0 at step −20, 6.0 at −20 + 150 (clamped to 127).
            assert_eq!(relu6.add(a, b), got.max(-20));
        }
    }
}
