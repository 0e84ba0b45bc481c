//! [`QDepthwiseConv2D`]: the int8 depthwise convolution (TFLite `DEPTHWISE_CONV_2D`,
//! per-channel weights).

use core::marker::PhantomData;

use super::conv::{ConvActivation, QPadding};
use super::image::{Int8Bytes, Int8ImageError, Reader, Writer, const_try};
use super::layer::QLayer;
use super::requant::Requant;
use super::tensor::{QImage, QuantParams};
use crate::activation::Identity;
use crate::layer::{Bias, DepthwiseConv2D, Layer, Valid};
use crate::seal::Seal;
use crate::shape::Image;

/// The int8 form of [`DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>`](crate::DepthwiseConv2D):
/// every input channel `c` filtered on its own by its `M` filters, output channel `c·M + m`
/// being `clamp(z_out + M[c·M + m]·(Σ W[ky][kx][c][m]·(x[..][c] − z_in) + b[c][m]))`, summing
/// only the kernel positions inside the image (padding contributes nothing, as in TFLite).
///
/// Weights are int8 with a symmetric scale per *output* channel (`C·M` scales), biases int32,
/// `M[o] = s_in·s_w[o]/s_out` as a fixed-point [`Requant`]; `Relu`/`Relu6` are the clamp
/// bounds. A float layer without a bias ([`NoBias`](crate::NoBias)) has the int8 form with
/// zero biases.
///
/// **TFLite equivalent:** `DEPTHWISE_CONV_2D` with `stride_h = S`, `stride_w = SW`,
/// `depth_multiplier = M`, dilation 1, padding `VALID` or `SAME` (TFLite's offsets, as for
/// [`QConv2D`](super::QConv2D)), fused activation `NONE`, `RELU` or `RELU6`. The kernel has
/// TFLite's layout `[1, K, KW, C·M]` with its scales along dimension 3, held here as
/// `kernel[ky][kx][c][m]` (the same bytes; Keras' `(kh, kw, in, depth_multiplier)` is the same
/// order too).
///
/// Rounding: TFLite Micro's `DepthwiseConvPerChannel` (`MultiplyByQuantizedMultiplier`, two
/// roundings); LiteRT's reference kernels round the same way.
///
/// # Examples
/// ```
/// use typed_nn::quant::{QDepthwiseConv2D, QImage, QLayer, QuantParams};
/// use typed_nn::prelude::{Relu, Same};
/// let p = QuantParams { scale: 0.5, zero_point: 0 };
/// // Two channels, a 3×3 kernel of ones; input, weight and output scales 1/2, so each output
/// // step is half the sum of the window's input steps (M = 0.5·0.5/0.5).
/// let layer: QDepthwiseConv2D<2, 3, Relu, 1, Same> =
///     QDepthwiseConv2D::new([[[[1]; 2]; 3]; 3], [[0]; 2], [[0.5]; 2], p, p);
/// let x = QImage::<2, 2, 2>::new([[[1, -1], [2, -2]], [[3, -3], [4, -4]]]);
/// let y: QImage<2, 2, 2> = layer.forward(&x);
/// // Channel 0 sums the whole 2×2 image at every pixel (10 · 0.5·0.5/0.5 = 5); channel 1 is
/// // negative and the fused ReLU clamps it to the zero point.
/// assert_eq!(y.as_array(), &[[[5, 0], [5, 0]], [[5, 0], [5, 0]]]);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. `K·KW·C·M + 16·C·M` bytes of parameters (int8 weights; int32 bias, bias with the
/// input zero point folded in, multiplier and shift per output channel); `forward` returns the
/// output image by value and holds one pixel's `C·M` sums on the stack. On x86-64 with `std`
/// and a SIMD path (depth multiplier 1), it holds instead the kernel widened to `i32`
/// (`4·K·KW·C` bytes), one output row's sums and `12·C` bytes of per-channel constants; on
/// the AVX-512 VNNI and the AVX2 paths (a multiple of 64 channels, `K ≤ 4`) a copy of the kernel
/// (`K·KW·C` bytes), one output row's column quads (`256·W` bytes) and the per-channel
/// constants of one 64-channel block (a few KB).
///
/// Generic parameters: those of [`DepthwiseConv2D`] without `T` and
/// `B`: `C`, `K`, `A` ([`Identity`]), `S` (1), `P` ([`Valid`]), `M` (1), `KW` (`K`), `SW` (`S`).
#[derive(Clone, Debug, PartialEq)]
pub struct QDepthwiseConv2D<
    const C: usize,
    const K: usize,
    A = Identity,
    const S: usize = 1,
    P = Valid,
    const M: usize = 1,
    const KW: usize = K,
    const SW: usize = S,
> {
    /// int8 weights, `kernel[ky][kx][c][m]` (TFLite's `[1, K, KW, C·M]`).
    pub kernel: [[[[i8; M]; C]; KW]; K],
    /// int32 biases, `bias[c][m]` for output channel `c·M + m`, scale `s_in·s_w`.
    pub bias: [[i32; M]; C],
    /// Per-output-channel weight scales (zero point 0), `weight_scales[c][m]`.
    pub weight_scales: [[f32; M]; C],
    /// Input quantization.
    pub input: QuantParams,
    /// Output quantization.
    pub output: QuantParams,
    requant: [[Requant; M]; C],
    /// `bias − z_in·Σ kernel` per output channel: the input zero point folded into the bias
    /// (padding is filled with `z_in`, so it contributes nothing, as in TFLite).
    folded_bias: [[i32; M]; C],
    act: (i8, i8),
    config: PhantomData<(A, P)>,
}

impl<
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const M: usize,
    const KW: usize,
    const SW: usize,
> QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
{
    /// The layer from its int8 weights (`kernel[ky][kx][c][m]`), int32 biases, per-channel
    /// scales and the input and output quantization; precomputes the multipliers and the
    /// activation range as TFLite Micro's `Prepare` does. Invalid scales give zero multipliers,
    /// never a panic. A `const fn`, for
    /// [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes).
    #[allow(clippy::indexing_slicing)] // every index is below its loop bound, the array's length
    pub const fn new(
        kernel: [[[[i8; M]; C]; KW]; K],
        bias: [[i32; M]; C],
        weight_scales: [[f32; M]; C],
        input: QuantParams,
        output: QuantParams,
    ) -> Self {
        let mut requant = [[Requant { multiplier: 0, shift: 0 }; M]; C];
        let mut folded_bias = [[0i32; M]; C];
        let mut c = 0;
        while c < C {
            let mut m = 0;
            while m < M {
                requant[c][m] =
                    Requant::from_real(input.scale as f64 * weight_scales[c][m] as f64 / output.scale as f64);
                let mut sum = 0i32;
                let mut ky = 0;
                while ky < K {
                    let mut kx = 0;
                    while kx < KW {
                        sum = sum.wrapping_add(kernel[ky][kx][c][m] as i32);
                        kx += 1;
                    }
                    ky += 1;
                }
                folded_bias[c][m] = bias[c][m].wrapping_sub(input.zero_point.wrapping_mul(sum));
                m += 1;
            }
            c += 1;
        }
        Self {
            kernel,
            bias,
            weight_scales,
            input,
            output,
            requant,
            folded_bias,
            act: A::FUSED.range(output),
            config: PhantomData,
        }
    }

    /// The requantization multiplier and shift of each output channel, `[c][m]`.
    pub fn requant(&self) -> &[[Requant; M]; C] {
        &self.requant
    }

    /// The layer whose [int8 image](super::image) starts at byte `offset` of `bytes`, built in
    /// the compiler when used in a `const` or `static`.
    ///
    /// # Errors
    /// [`Int8ImageError`] for a scale that is not positive and finite or a zero point outside
    /// the int8 range.
    pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        let mut r = Reader::new(bytes, offset);
        let input = const_try!(r.params());
        let output = const_try!(r.params());
        let mut weight_scales = [[0f32; M]; C];
        const_try!(r.scales(weight_scales.as_flattened_mut()));
        let mut bias = [[0i32; M]; C];
        r.i32s(bias.as_flattened_mut());
        let mut kernel = [[[[0i8; M]; C]; KW]; K];
        r.i8s(kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
        Ok(Self::new(kernel, bias, weight_scales, input, output))
    }
}

super::image::leaf_from_image!(
    [const C: usize, const K: usize, A: ConvActivation, const ST: usize, P: QPadding, const M: usize, const KW: usize, const SW: usize]
    QDepthwiseConv2D<C, K, A, ST, P, M, KW, SW>
);

impl<
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Int8Bytes for QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
{
    const IMAGE_BYTES: usize = 16 + 8 * C * M + K * KW * C * M;

    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
        let mut w = Writer::new(out, offset);
        w.params(self.input);
        w.params(self.output);
        w.f32s(self.weight_scales.as_flattened());
        w.i32s(self.bias.as_flattened());
        w.i8s(self.kernel.as_flattened().as_flattened().as_flattened());
    }

    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        Self::from_le_bytes_at(bytes, offset)
    }
}

impl<const C: usize, const K: usize, A, const S: usize, P, const M: usize, const KW: usize, const SW: usize> Default
    for QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
{
    /// All-zero weights, unit scales.
    fn default() -> Self {
        Self {
            kernel: [[[[0; M]; C]; KW]; K],
            bias: [[0; M]; C],
            weight_scales: [[1.0; M]; C],
            input: QuantParams::default(),
            output: QuantParams::default(),
            requant: [[Requant::default(); M]; C],
            folded_bias: [[0; M]; C],
            act: (i8::MIN, i8::MAX),
            config: PhantomData,
        }
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const M: usize,
    const KW: usize,
    const SW: usize,
    const HO: usize,
    const WO: usize,
    const CM: usize,
> QLayer<QImage<H, W, C>> for QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
where
    DepthwiseConv2D<C, K, A, S, P, f32, Bias, M, KW, SW>: Layer<Image<H, W, C>, Out = Image<HO, WO, CM>>,
{
    type Out = QImage<HO, WO, CM>;
    const PARAM_BYTES: usize = K * KW * C * M + 16 * C * M;

    #[inline]
    fn forward(&self, x: &QImage<H, W, C>) -> QImage<HO, WO, CM> {
        let mut out = QImage::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    fn forward_into(&self, _: Seal, x: &QImage<H, W, C>, out: &mut QImage<HO, WO, CM>) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if M == 1 && C == CM && crate::kernel::int8::depthwise_fits(C, K) {
                return self.forward_vnni(x, out);
            }
            if M == 1 && crate::kernel::int8::simd() != crate::kernel::int8::Simd::Portable {
                return self.forward_all_pixels(x, out);
            }
        }
        let top = P::before(H, HO, K, S);
        let left = P::before(W, WO, KW, SW);
        // Padding holds the input zero point: `w·(z_in − z_in) = 0`, as TFLite skips it.
        let pad = [self.input.zero_point.clamp(-128, 127) as i8; C];
        let x = x.as_array();
        // With one filter per channel, the receptive field and the kernel have the same
        // `[tap][channel]` layout: one vectorised product over channels per pixel.
        let gather = M == 1;
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        let mut patch = [[pad; KW]; K];
        for (oy, out_row) in out.as_mut_array().iter_mut().enumerate() {
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                let mut acc = [[0i32; M]; C];
                for (ky, (kernel_row, patch_row)) in self.kernel.iter().zip(patch.iter_mut()).enumerate() {
                    let row = (oy * S + ky).checked_sub(top).and_then(|iy| x.get(iy));
                    for (kx, (taps, p)) in kernel_row.iter().zip(patch_row.iter_mut()).enumerate() {
                        let pixel = row.and_then(|r| (ox * SW + kx).checked_sub(left).and_then(|ix| r.get(ix)));
                        let pixel = pixel.unwrap_or(&pad);
                        if gather {
                            *p = *pixel;
                        } else {
                            crate::kernel::int8::depthwise_tap(&mut acc, pixel, taps);
                        }
                    }
                }
                if gather {
                    let patch = patch.as_flattened().as_flattened();
                    crate::kernel::int8::depthwise_dot(patch, weights, acc.as_flattened_mut());
                }
                crate::kernel::int8::requantize_rows(
                    acc.as_flattened(),
                    self.folded_bias.as_flattened(),
                    self.requant.as_flattened(),
                    self.output.zero_point,
                    self.act,
                    out_pixel,
                );
            }
        }
    }

    fn input_params(&self) -> QuantParams {
        self.input
    }

    fn output_params(&self) -> QuantParams {
        self.output
    }
}

impl<
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const M: usize,
    const KW: usize,
    const SW: usize,
> QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
{
    /// The AVX-512 VNNI and AVX2 forward pass (depth multiplier 1, a multiple of 64 channels,
    /// at most 4 kernel rows): `kernel::int8::depthwise_requantized`, which multiplies four
    /// kernel rows per `vpdpbusd` lane (two per `vpmaddwd` lane on AVX2) and requantizes in
    /// registers. The kernel is copied without its
    /// multiplier axis once per call.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_vnni<const H: usize, const W: usize, const HO: usize, const WO: usize, const CM: usize>(
        &self,
        x: &QImage<H, W, C>,
        out: &mut QImage<HO, WO, CM>,
    ) {
        let mut w = [[[0i8; C]; KW]; K];
        for (w, k) in w.as_flattened_mut().iter_mut().zip(self.kernel.as_flattened()) {
            for (w, k) in w.iter_mut().zip(k) {
                *w = k.first().copied().unwrap_or(0);
            }
        }
        let rq = crate::kernel::int8::ChannelRequant::<CM>::new(
            self.folded_bias.as_flattened(),
            self.requant.as_flattened(),
        );
        let geometry = crate::kernel::int8::DepthwiseGeometry {
            stride: (S, SW),
            before: (P::before(H, HO, K, S), P::before(W, WO, KW, SW)),
            pad: self.input.zero_point.clamp(-128, 127) as i8,
        };
        crate::kernel::int8::depthwise_requantized(
            x.as_array(),
            &w,
            geometry,
            &rq,
            self.output.zero_point,
            self.act,
            out.as_mut_array(),
        );
    }

    /// The SIMD forward pass (depth multiplier 1): per output pixel, pointers to its taps'
    /// input pixels (or to a pixel of padding holding the input zero point; nothing is copied)
    /// go to `kernel::int8::depthwise_taps` with the kernel widened to `i32` once per call; the
    /// sums of each output row are then requantized together (`kernel::int8::requantize_pixels`,
    /// its per-channel constants laid out once per call).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_all_pixels<const H: usize, const W: usize, const HO: usize, const WO: usize, const CM: usize>(
        &self,
        x: &QImage<H, W, C>,
        out: &mut QImage<HO, WO, CM>,
    ) {
        let top = P::before(H, HO, K, S);
        let left = P::before(W, WO, KW, SW);
        let pad = [self.input.zero_point.clamp(-128, 127) as i8; C];
        let x = x.as_array();
        let mut w = [[[0i32; C]; KW]; K];
        for (w, k) in w.as_flattened_mut().iter_mut().zip(self.kernel.as_flattened()) {
            for (w, k) in w.iter_mut().zip(k) {
                *w = k.first().map_or(0, |&k| i32::from(k));
            }
        }
        let rq = crate::kernel::int8::ChannelRequant::<CM>::new(
            self.folded_bias.as_flattened(),
            self.requant.as_flattened(),
        );
        // One output row's sums at a time (with M = 1, CM = C, the float layer's shape rule),
        // requantized together: small enough to stay in L1.
        let mut acc = [[0i32; CM]; WO];
        let mut taps = [[&pad; KW]; K];
        for (oy, out_row) in out.as_mut_array().iter_mut().enumerate() {
            for (ox, a) in acc.iter_mut().enumerate() {
                for (ky, tap_row) in taps.iter_mut().enumerate() {
                    let row = (oy * S + ky).checked_sub(top).and_then(|iy| x.get(iy));
                    for (kx, t) in tap_row.iter_mut().enumerate() {
                        *t =
                            row.and_then(|r| (ox * SW + kx).checked_sub(left).and_then(|ix| r.get(ix))).unwrap_or(&pad);
                    }
                }
                crate::kernel::int8::depthwise_taps(&taps, &w, a);
            }
            crate::kernel::int8::requantize_pixels(&acc, &rq, self.output.zero_point, self.act, out_row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Relu6;
    use crate::layer::Same;
    use crate::quant::Int8Tensor;
    use std::vec::Vec;

    /// The TFLite reference loop written out: per output channel, the taps inside the image,
    /// `(x − z_in)·w`, plus the bias, requantized with the same multiplier.
    #[allow(clippy::indexing_slicing, clippy::needless_range_loop)] // the loop as TFLite writes it
    fn reference<const H: usize, const W: usize, const C: usize, const M: usize, const K: usize, const KW: usize>(
        layer: &QDepthwiseConv2D<C, K, Relu6, 2, Same, M, KW, 1>,
        x: &[[[i8; C]; W]; H],
        (ho, wo): (usize, usize),
    ) -> Vec<i8> {
        let top = ((ho - 1) * 2 + K).saturating_sub(H) / 2;
        let left = ((wo - 1) + KW).saturating_sub(W) / 2;
        let (lo, hi) = <Relu6 as ConvActivation>::FUSED.range(layer.output);
        let mut out = Vec::new();
        for oy in 0..ho {
            for ox in 0..wo {
                for c in 0..C {
                    for m in 0..M {
                        let mut acc = 0i32;
                        for ky in 0..K {
                            for kx in 0..KW {
                                let (iy, ix) =
                                    ((oy * 2 + ky) as isize - top as isize, (ox + kx) as isize - left as isize);
                                if iy >= 0 && ix >= 0 && (iy as usize) < H && (ix as usize) < W {
                                    let v = i32::from(x[iy as usize][ix as usize][c]) - layer.input.zero_point;
                                    acc += v * i32::from(layer.kernel[ky][kx][c][m]);
                                }
                            }
                        }
                        acc += layer.bias[c][m];
                        let y = layer.requant[c][m].apply(acc) + layer.output.zero_point;
                        out.push(y.clamp(i32::from(lo), i32::from(hi)) as i8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn depthwise_equals_the_reference_loop_with_padding_stride_and_multiplier() {
        // 5×4 image, 3 channels, multiplier 2, a 3×2 kernel, stride (2, 1), SAME: the padding
        // offsets differ on each axis, and the zero point is not 0.
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8 as i8
        };
        let mut x = [[[0i8; 3]; 4]; 5];
        x.as_flattened_mut().as_flattened_mut().iter_mut().for_each(|v| *v = next());
        let mut kernel = [[[[0i8; 2]; 3]; 2]; 3];
        kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut().iter_mut().for_each(|v| *v = next().max(-127));
        let bias = [[100, -250], [3000, 0], [-7, 42]];
        let scales = [[0.011, 0.02], [0.005, 0.013], [0.03, 0.0071]];
        let input = QuantParams { scale: 0.05, zero_point: -17 };
        let output = QuantParams { scale: 0.09, zero_point: 11 };
        let layer: QDepthwiseConv2D<3, 3, Relu6, 2, Same, 2, 2, 1> =
            QDepthwiseConv2D::new(kernel, bias, scales, input, output);
        let y: QImage<3, 4, 6> = layer.forward(&QImage::new(x));
        assert_eq!(y.as_slice(), reference(&layer, &x, (3, 4)).as_slice());
        // Not all clamped: the test sees the arithmetic.
        let (lo, hi) = <Relu6 as ConvActivation>::FUSED.range(output);
        assert!(y.as_slice().iter().any(|&v| v > lo && v < hi));
    }

    #[test]
    fn depthwise_image_round_trips() {
        let input = QuantParams { scale: 0.05, zero_point: -17 };
        let output = QuantParams { scale: 0.09, zero_point: 11 };
        let layer: QDepthwiseConv2D<2, 3, Relu6, 2, Same, 2, 1, 1> =
            QDepthwiseConv2D::new([[[[1, -2], [3, 4]]]; 3], [[5, 6], [7, 8]], [[0.1, 0.2], [0.3, 0.4]], input, output);
        let mut bytes = [0u8; 16 + 8 * 4 + 3 * 4];
        layer.write_le_bytes(&mut bytes).ok();
        assert_eq!(QDepthwiseConv2D::from_le_bytes(&bytes), Ok(layer));
    }
}
