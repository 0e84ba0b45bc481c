//! [`QConv2D`]: the int8 2-D convolution (TFLite `CONV_2D`, per-channel weights).

use core::marker::PhantomData;

use super::image::{Int8Bytes, Int8ImageError, Reader, Writer, const_try};
use super::layer::{Fused, QLayer};
use super::requant::Requant;
use super::tensor::{QImage, QuantParams};
use crate::activation::{Activation, Identity, Relu, Relu6};
use crate::layer::{Bias, Conv2D, Layer, Same, Valid};
use crate::seal::Seal;
use crate::shape::Image;

/// Output pixels whose sums the SIMD forward passes hold at once (4 KB of `i32` for 64
/// filters), then requantize together: a multiple of the GEMM's four-pixel tiles.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const CHUNK: usize = 16;

/// Output pixels per call of the SIMD matrix product (AVX-512 VNNI or AVX2) when their receptive fields fit
/// [`GEMM_FLIP_BYTES`] (DS-CNN's 125 pixels of 40 or 64 values): one call per layer, so its
/// per-call constants are laid out once.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const GEMM_CHUNK: usize = 128;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use crate::kernel::int8::GEMM_FLIP_BYTES;

/// The stack buffers of the SIMD matrix product for a receptive field that is not a multiple
/// of 4 values ([`QConv2D::forward_gemm_padded`]): the weights padded, their rearranged copy,
/// and the chunk's padded receptive fields, each at most 4 KB (ResNet-8's stem: 16 filters of
/// 28, 128 pixels of 28).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const PADDED_BYTES: usize = 4096;

/// A padding an int8 convolution supports, with TFLite's code for it.
pub trait QPadding: Copy + Default + 'static + sealed::Sealed {
    /// TFLite's `Padding` enum value: `SAME` = 0, `VALID` = 1.
    const TFLITE: u8;
    /// Zero rows (or columns) before the image: TFLite's `ComputePaddingHeightWidth`,
    /// `max((out − 1)·S + K − side, 0) / 2` for `SAME`, 0 for `VALID`.
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize;
}

impl QPadding for Valid {
    const TFLITE: u8 = 1;
    fn before(_side: usize, _out: usize, _k: usize, _s: usize) -> usize {
        0
    }
}

impl QPadding for Same {
    const TFLITE: u8 = 0;
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize {
        out.saturating_sub(1).saturating_mul(s).saturating_add(k).saturating_sub(side) / 2
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::layer::Valid {}
    impl Sealed for crate::layer::Same {}
    impl Sealed for crate::activation::Identity {}
    impl Sealed for crate::activation::Relu {}
    impl Sealed for crate::activation::Relu6 {}
}

/// An activation an int8 convolution folds into its output range: [`Identity`], [`Relu`] or
/// [`Relu6`] (a softmax over channels has no int8 form here).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no int8 form for a convolution in typed-nn",
    label = "not an int8 convolution activation",
    note = "an int8 Conv2D takes Identity, Relu or Relu6, folded into its output range"
)]
pub trait ConvActivation: Activation + sealed::Sealed {
    /// The activation as TFLite's fused activation.
    const FUSED: Fused;
}
impl ConvActivation for Identity {
    const FUSED: Fused = Fused::None;
}
impl ConvActivation for Relu {
    const FUSED: Fused = Fused::Relu;
}
impl ConvActivation for Relu6 {
    const FUSED: Fused = Fused::Relu6;
}

/// The int8 form of [`Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>`](crate::Conv2D): for each
/// output pixel and filter `o`, `clamp(z_out + M[o]·(Σ W[o][ky][kx][c]·(x − z_in) + b[o]))`,
/// summing only the kernel positions inside the image (padding contributes nothing, as in
/// TFLite).
///
/// Weights are int8 with a symmetric scale per filter, biases int32, `M[o] = s_in·s_w[o]/s_out`
/// as a fixed-point [`Requant`]; `Relu`/`Relu6` are the clamp bounds. The kernel is `K × KW`
/// (`K × K` unless `KW` is given) and the strides `(S, SW)`, as for the float layer; a float
/// layer without a bias ([`NoBias`](crate::NoBias)) has the int8 form with zero biases, as the
/// converter writes it.
///
/// **TFLite equivalent:** `CONV_2D` with `stride_h = S`, `stride_w = SW`, dilation 1, padding
/// `VALID` or `SAME` (TFLite's offsets: `max((out − 1)·S + K − side, 0) / 2` rows before, the
/// rest after; the same for columns with `SW`, `KW`), fused activation `NONE`, `RELU` or
/// `RELU6`. The kernel has TFLite's layout `OHWI`, `kernel[o][ky][kx][c]` (Keras' is
/// `(kh, kw, in, out)`).
///
/// Rounding: TFLite Micro's `ConvPerChannel` (`MultiplyByQuantizedMultiplier`, two roundings);
/// TFLite's other reference kernels round the same way for convolutions.
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. `K·KW·CI·CO + 16·CO` bytes of parameters (int8 weights; int32 bias, bias with the
/// input zero point folded in, multiplier and shift per filter); `forward` returns the output
/// image by value and holds one `K·KW·CI`-byte receptive field on the stack. On x86-64 with
/// `std`, the SIMD paths (for a receptive field of a multiple of 4 values and a multiple of 8
/// filters) hold more, still on the stack: a rearranged copy of the weights, up to 128 pixels'
/// receptive fields, and `12·CO` bytes of per-filter constants; for a multiple of 16 filters
/// both the AVX-512 VNNI and the AVX2 path requantize in registers (the AVX2 one, for
/// receptive fields of at most 8192 values, widens them to `i16` in a 16 KB buffer), otherwise 16 pixels' `i32` sums are held too.
/// A receptive field that is not a multiple of 4 values (ResNet-8's 3×3×3 stem) is padded with
/// zeros in three more 4 KB stack buffers.
///
/// Generic parameters: those of [`Conv2D`] without `T` and `B`: `CI`, `CO`, `K`,
/// `A` ([`Identity`]), `S` (1), `P` ([`Valid`]), `KW` (`K`), `SW` (`S`).
#[derive(Clone, Debug, PartialEq)]
pub struct QConv2D<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A = Identity,
    const S: usize = 1,
    P = Valid,
    const KW: usize = K,
    const SW: usize = S,
> {
    /// int8 weights in TFLite's `OHWI` layout: `kernel[o][ky][kx][c]`.
    pub kernel: [[[[i8; CI]; KW]; K]; CO],
    /// int32 biases, scale `s_in·s_w[o]`.
    pub bias: [i32; CO],
    /// Per-filter weight scales (zero point 0).
    pub weight_scales: [f32; CO],
    /// Input quantization.
    pub input: QuantParams,
    /// Output quantization.
    pub output: QuantParams,
    requant: [Requant; CO],
    /// `bias[o] − z_in·Σ kernel[o]`: the input zero point folded into the bias (padding is
    /// filled with `z_in`, so it contributes nothing, as in TFLite).
    folded_bias: [i32; CO],
    act: (i8, i8),
    /// No weight is −128: the SIMD kernels may run (see `kernel::int8`).
    narrow: bool,
    config: PhantomData<(A, P)>,
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const KW: usize,
    const SW: usize,
> QConv2D<CI, CO, K, A, S, P, KW, SW>
{
    /// The layer from its int8 weights (`OHWI`), int32 biases, per-filter scales and the input
    /// and output quantization; precomputes the multipliers and the activation range as
    /// TFLite Micro's `Prepare` does. Invalid scales give zero multipliers, never a panic. A
    /// `const fn`, for [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes).
    #[allow(clippy::indexing_slicing)] // `o < CO`, the loop bound; `get` is not const
    pub const fn new(
        kernel: [[[[i8; CI]; KW]; K]; CO],
        bias: [i32; CO],
        weight_scales: [f32; CO],
        input: QuantParams,
        output: QuantParams,
    ) -> Self {
        let mut requant = [Requant { multiplier: 0, shift: 0 }; CO];
        let mut folded_bias = [0i32; CO];
        let mut o = 0;
        while o < CO {
            requant[o] = Requant::from_real(input.scale as f64 * weight_scales[o] as f64 / output.scale as f64);
            let filter = kernel[o].as_flattened().as_flattened();
            let mut sum = 0i32;
            let mut i = 0;
            while i < filter.len() {
                sum = sum.wrapping_add(filter[i] as i32);
                i += 1;
            }
            folded_bias[o] = bias[o].wrapping_sub(input.zero_point.wrapping_mul(sum));
            o += 1;
        }
        let narrow = crate::kernel::int8::has_no_minus_128(kernel.as_flattened().as_flattened().as_flattened());
        Self {
            kernel,
            bias,
            weight_scales,
            input,
            output,
            requant,
            folded_bias,
            act: A::FUSED.range(output),
            narrow,
            config: PhantomData,
        }
    }

    /// The requantization multiplier and shift of each filter.
    pub fn requant(&self) -> &[Requant; CO] {
        &self.requant
    }

    /// The forward pass around a dot product: for each output pixel, its receptive field
    /// (channels-last like one filter, padding holding the input zero point) goes to `dot`,
    /// which fills one sum per filter; the sums are requantized into the pixel.
    #[inline(always)]
    fn pixels<const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        mut dot: impl FnMut(&[[[i8; CI]; KW]; K], &mut [i32; CO]),
        out: &mut QImage<HO, WO, CO>,
    ) {
        let top = P::before(H, HO, K, S);
        let left = P::before(W, WO, KW, SW);
        // Padding holds the input zero point: `w·(z_in − z_in) = 0`, as TFLite skips it.
        let pad = [self.input.zero_point.clamp(-128, 127) as i8; CI];
        let x = x.as_array();
        let mut patch = [[pad; KW]; K];
        for (oy, out_row) in out.as_mut_array().iter_mut().enumerate() {
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                for (ky, patch_row) in patch.iter_mut().enumerate() {
                    let row = (oy * S + ky).checked_sub(top).and_then(|iy| x.get(iy));
                    for (kx, p) in patch_row.iter_mut().enumerate() {
                        let pixel = row.and_then(|r| (ox * SW + kx).checked_sub(left).and_then(|ix| r.get(ix)));
                        *p = pixel.copied().unwrap_or(pad);
                    }
                }
                let mut acc = [0i32; CO];
                dot(&patch, &mut acc);
                crate::kernel::int8::requantize_rows(
                    &acc,
                    &self.folded_bias,
                    &self.requant,
                    self.output.zero_point,
                    self.act,
                    out_pixel,
                );
            }
        }
    }

    /// The receptive fields of output pixels `first..first + patches.len()` (row-major, as in
    /// the output image; channels-last like one filter, padding holding the input zero point),
    /// for the kernels that take [`CHUNK`] pixels at a time. Pixels past the image are left as
    /// they are.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(always)]
    fn im2col<const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        first: usize,
        patches: &mut [[[[i8; CI]; KW]; K]],
    ) {
        let top = P::before(H, HO, K, S);
        let left = P::before(W, WO, KW, SW);
        let pad = [self.input.zero_point.clamp(-128, 127) as i8; CI];
        let x = x.as_array();
        for (p, patch) in patches.iter_mut().enumerate() {
            let (oy, ox) = ((first + p) / WO.max(1), (first + p) % WO.max(1));
            for (ky, rows) in patch.iter_mut().enumerate() {
                let Some(row) = (oy * S + ky).checked_sub(top).and_then(|iy| x.get(iy)) else {
                    *rows = [pad; KW];
                    continue;
                };
                // The kernel row inside the image: one copy of `KW` pixels.
                if let Some(inside) = (ox * SW).checked_sub(left).and_then(|ix| row.get(ix..ix + KW)) {
                    rows.copy_from_slice(inside);
                    continue;
                }
                for (kx, p) in rows.iter_mut().enumerate() {
                    let pixel = (ox * SW + kx).checked_sub(left).and_then(|ix| row.get(ix));
                    *p = pixel.copied().unwrap_or(pad);
                }
            }
        }
    }

    /// The forward pass with the weights rearranged once per call for the kernel that runs
    /// over output channels (`kernel::int8::dot_rows_packed`), one pixel at a time, and
    /// requantized [`CHUNK`] pixels at a time. The copies live on this function's stack only.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_packed<const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        out: &mut QImage<HO, WO, CO>,
    ) {
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        let mut packed = [[[[0i8; CI]; KW]; K]; CO];
        let packed = packed.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        crate::kernel::int8::pack_by_fours(weights, K * KW * CI, packed);
        let packed: &[i8] = packed;
        let rq = crate::kernel::int8::ChannelRequant::<CO>::new(&self.folded_bias, &self.requant);
        let mut acc = [[0i32; CO]; CHUNK];
        let mut patches = [[[[0i8; CI]; KW]; K]; CHUNK];
        for (c, out) in out.as_mut_array().as_flattened_mut().chunks_mut(CHUNK).enumerate() {
            let acc = acc.get_mut(..out.len()).unwrap_or_default();
            let patches = patches.get_mut(..out.len()).unwrap_or_default();
            self.im2col::<H, W, HO, WO>(x, c * CHUNK, patches);
            for (patch, a) in patches.iter().zip(acc.iter_mut()) {
                crate::kernel::int8::dot_rows_packed(
                    patch.as_flattened().as_flattened(),
                    weights,
                    packed,
                    a,
                    self.narrow,
                );
            }
            crate::kernel::int8::requantize_pixels(acc, &rq, self.output.zero_point, self.act, out);
        }
    }

    /// The forward pass as one int8 matrix product over all pixels
    /// (`kernel::int8::gemm_requantized`, the AVX-512 VNNI or the AVX2 kernel: four or more
    /// pixels per load of the weights, each tile requantized while its sums are in registers), the weights rearranged
    /// once per call; `CH` pixels' receptive fields at a time ([`CHUNK`], or [`GEMM_CHUNK`]
    /// when they fit the kernel's buffer of inputs flipped to unsigned, so that its per-call
    /// constants are laid out once: DS-CNN's stem).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_gemm<const CH: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        out: &mut QImage<HO, WO, CO>,
    ) {
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        let mut packed = [[[[0i8; CI]; KW]; K]; CO];
        let packed = packed.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        let (init, rq) = self.gemm_setup(packed);
        let packed: &[i8] = packed;
        let n = K * KW * CI;
        let mut patches = [[[[0i8; CI]; KW]; K]; CH];
        for (c, out) in out.as_mut_array().as_flattened_mut().chunks_mut(CH).enumerate() {
            let patches = patches.get_mut(..out.len()).unwrap_or_default();
            self.im2col::<H, W, HO, WO>(x, c * CH, patches);
            crate::kernel::int8::gemm_requantized(
                patches.as_flattened().as_flattened().as_flattened(),
                n,
                (weights, packed, &init),
                (&rq.bias, &rq.multiplier, &rq.shift),
                self.output.zero_point,
                self.act,
                out.as_flattened_mut(),
            );
        }
    }

    /// The set-up [`Self::forward_gemm`] and [`Self::forward_gemm_direct`] share, once per
    /// call: the weights rearranged into `packed` (`K·KW·CI·CO` bytes) for
    /// `kernel::int8::gemm_requantized`, and the starting sums and per-filter requantization
    /// that kernel takes with them.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(always)]
    fn gemm_setup(&self, packed: &mut [i8]) -> ([i32; CO], crate::kernel::int8::ChannelRequant<CO>) {
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        let mut init = [0i32; CO];
        crate::kernel::int8::pack_gemm(weights, K * KW * CI, packed, &mut init);
        (init, crate::kernel::int8::ChannelRequant::<CO>::new(&self.folded_bias, &self.requant))
    }

    /// [`Self::forward_gemm`] for a receptive field that is not a multiple of 4 values
    /// (ResNet-8's 3×3×3 stem: 27): each filter and each receptive field padded with zeros to
    /// the next multiple of 4 (a zero weight adds nothing), in stack buffers of
    /// [`PADDED_BYTES`]; `None` (nothing computed) when they do not fit.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_gemm_padded<const CH: usize, const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        out: &mut QImage<HO, WO, CO>,
    ) -> Option<()> {
        let n = K * KW * CI;
        let np = n.next_multiple_of(4);
        let (mut wpad, mut packed, mut xs) = ([0i8; PADDED_BYTES], [0i8; PADDED_BYTES], [0i8; PADDED_BYTES]);
        let (wpad, packed) = (wpad.get_mut(..np * CO)?, packed.get_mut(..np * CO)?);
        let xs = xs.get_mut(..np * CH)?;
        for (row, filter) in wpad.chunks_exact_mut(np).zip(&self.kernel) {
            let filter = filter.as_flattened().as_flattened();
            row.get_mut(..n)?.copy_from_slice(filter);
        }
        let wpad: &[i8] = wpad;
        let mut init = [0i32; CO];
        crate::kernel::int8::pack_gemm(wpad, np, packed, &mut init);
        let rq = crate::kernel::int8::ChannelRequant::<CO>::new(&self.folded_bias, &self.requant);
        let mut patches = [[[[0i8; CI]; KW]; K]; CH];
        for (c, out) in out.as_mut_array().as_flattened_mut().chunks_mut(CH).enumerate() {
            let patches = patches.get_mut(..out.len()).unwrap_or_default();
            self.im2col::<H, W, HO, WO>(x, c * CH, patches);
            // The padding bytes stay 0 from the start.
            let xs = xs.get_mut(..out.len() * np).unwrap_or_default();
            for (d, p) in xs.chunks_exact_mut(np).zip(patches.iter()) {
                d.get_mut(..n)?.copy_from_slice(p.as_flattened().as_flattened());
            }
            crate::kernel::int8::gemm_requantized(
                xs,
                np,
                (wpad, packed, &init),
                (&rq.bias, &rq.multiplier, &rq.shift),
                self.output.zero_point,
                self.act,
                out.as_flattened_mut(),
            );
        }
        Some(())
    }

    /// [`Self::forward_gemm`] for a 1×1 convolution with stride 1, whose receptive fields are
    /// the image's pixels: read in place, [`GEMM_CHUNK`] pixels at a time (DS-CNN's whole
    /// 25×5×64 image in one call).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[inline(never)]
    fn forward_gemm_direct<const H: usize, const W: usize, const HO: usize, const WO: usize>(
        &self,
        x: &QImage<H, W, CI>,
        out: &mut QImage<HO, WO, CO>,
    ) {
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        let mut packed = [[[[0i8; CI]; KW]; K]; CO];
        let packed = packed.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        // K = KW = 1 here, so the receptive field is the CI values of one pixel.
        let (init, rq) = self.gemm_setup(packed);
        let packed: &[i8] = packed;
        // Pixels per call: all of them that fit the kernel's buffer of flipped inputs.
        let chunk = (GEMM_FLIP_BYTES / CI.max(1)).clamp(CHUNK, GEMM_CHUNK);
        let image = x.as_array().as_flattened().as_flattened().chunks(chunk * CI);
        for (xs, out) in image.zip(out.as_mut_array().as_flattened_mut().chunks_mut(chunk)) {
            crate::kernel::int8::gemm_requantized(
                xs,
                CI,
                (weights, packed, &init),
                (&rq.bias, &rq.multiplier, &rq.shift),
                self.output.zero_point,
                self.act,
                out.as_flattened_mut(),
            );
        }
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const KW: usize,
    const SW: usize,
> QConv2D<CI, CO, K, A, S, P, KW, SW>
{
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
        let mut weight_scales = [0f32; CO];
        const_try!(r.scales(&mut weight_scales));
        let mut bias = [0i32; CO];
        r.i32s(&mut bias);
        let mut kernel = [[[[0i8; CI]; KW]; K]; CO];
        r.i8s(kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
        Ok(Self::new(kernel, bias, weight_scales, input, output))
    }
}

super::image::leaf_from_image!(
    [const CI: usize, const CO: usize, const K: usize, A: ConvActivation, const ST: usize, P: QPadding, const KW: usize, const SW: usize]
    QConv2D<CI, CO, K, A, ST, P, KW, SW>
);

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const KW: usize,
    const SW: usize,
> Int8Bytes for QConv2D<CI, CO, K, A, S, P, KW, SW>
{
    const IMAGE_BYTES: usize = 16 + 8 * CO + K * KW * CI * CO;

    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
        let mut w = Writer::new(out, offset);
        w.params(self.input);
        w.params(self.output);
        w.f32s(&self.weight_scales);
        w.i32s(&self.bias);
        w.i8s(self.kernel.as_flattened().as_flattened().as_flattened());
    }

    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        Self::from_le_bytes_at(bytes, offset)
    }
}

impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, const KW: usize, const SW: usize> Default
    for QConv2D<CI, CO, K, A, S, P, KW, SW>
{
    /// All-zero weights, unit scales.
    fn default() -> Self {
        Self {
            kernel: [[[[0; CI]; KW]; K]; CO],
            bias: [0; CO],
            weight_scales: [1.0; CO],
            input: QuantParams::default(),
            output: QuantParams::default(),
            requant: [Requant::default(); CO],
            folded_bias: [0; CO],
            act: (i8::MIN, i8::MAX),
            narrow: true,
            config: PhantomData,
        }
    }
}

impl<
    const H: usize,
    const W: usize,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const KW: usize,
    const SW: usize,
    const HO: usize,
    const WO: usize,
> QLayer<QImage<H, W, CI>> for QConv2D<CI, CO, K, A, S, P, KW, SW>
where
    Conv2D<CI, CO, K, A, S, P, f32, Bias, KW, SW>: Layer<Image<H, W, CI>, Out = Image<HO, WO, CO>>,
{
    type Out = QImage<HO, WO, CO>;
    const PARAM_BYTES: usize = K * KW * CI * CO + 16 * CO;

    #[inline]
    fn forward(&self, x: &QImage<H, W, CI>) -> QImage<HO, WO, CO> {
        let mut out = QImage::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    fn forward_into(&self, _: Seal, x: &QImage<H, W, CI>, out: &mut QImage<HO, WO, CO>) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if crate::kernel::int8::gemm_fits(K * KW * CI, CO) {
                if K == 1 && KW == 1 && S == 1 && SW == 1 && H == HO && W == WO {
                    return self.forward_gemm_direct(x, out);
                }
                if K * KW * CI * GEMM_CHUNK <= GEMM_FLIP_BYTES {
                    return self.forward_gemm::<GEMM_CHUNK, H, W, HO, WO>(x, out);
                }
                // Two tiles of the 16-filter kernel's 16 pixels per call when they fit the
                // buffer of flipped inputs (ResNet-8's 3×3 convolutions over 16 channels).
                if K * KW * CI * 2 * CHUNK <= GEMM_FLIP_BYTES {
                    return self.forward_gemm::<{ 2 * CHUNK }, H, W, HO, WO>(x, out);
                }
                return self.forward_gemm::<CHUNK, H, W, HO, WO>(x, out);
            }
            // A receptive field padded to a multiple of 4 (ResNet-8's stem: 27 values to 28).
            let np = (K * KW * CI).next_multiple_of(4);
            if np != K * KW * CI && np * CO <= PADDED_BYTES && crate::kernel::int8::gemm_fits(np, CO) {
                // `None`: the buffers did not fit after all, and the paths below overwrite
                // whatever it wrote.
                let done = if np * GEMM_CHUNK <= PADDED_BYTES {
                    self.forward_gemm_padded::<GEMM_CHUNK, H, W, HO, WO>(x, out)
                } else {
                    self.forward_gemm_padded::<CHUNK, H, W, HO, WO>(x, out)
                };
                if done.is_some() {
                    return;
                }
            }
            if crate::kernel::int8::packed_fits(K * KW * CI, CO, self.narrow) {
                return self.forward_packed(x, out);
            }
        }
        let weights = self.kernel.as_flattened().as_flattened().as_flattened();
        self.pixels(
            x,
            |patch, acc| {
                if K * KW * CI < 32 {
                    // A small receptive field: one fixed-length dot product per filter, which the
                    // compiler unrolls completely (the SIMD kernels need 32 inputs).
                    for (a, filter) in acc.iter_mut().zip(&self.kernel) {
                        *a = crate::kernel::int8::dot_fixed(patch, filter);
                    }
                } else {
                    crate::kernel::int8::dot_rows(patch.as_flattened().as_flattened(), weights, acc, self.narrow);
                }
            },
            out,
        );
    }

    fn input_params(&self) -> QuantParams {
        self.input
    }

    fn output_params(&self) -> QuantParams {
        self.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::SeedRng;
    use rand_core::Rng;

    /// TFLite Micro's `ConvPerChannel` as a textbook loop: every output pixel and filter sums
    /// `(x − z_in)·w` over the taps inside the image (TFLite's `SAME` offsets), adds the bias,
    /// requantizes with the filter's multiplier and shift, adds `z_out` and clamps.
    #[allow(clippy::needless_range_loop)] // the loop as TFLite writes it
    fn textbook<
        const H: usize,
        const W: usize,
        const CI: usize,
        const CO: usize,
        const K: usize,
        A: ConvActivation,
        const S: usize,
        P: QPadding,
        const HO: usize,
        const WO: usize,
    >(
        layer: &QConv2D<CI, CO, K, A, S, P>,
        x: &[[[i8; CI]; W]; H],
    ) -> [[[i8; CO]; WO]; HO] {
        let (top, left) = (P::before(H, HO, K, S), P::before(W, WO, K, S));
        let z_in = layer.input.zero_point;
        let (lo, hi) = A::FUSED.range(layer.output);
        let mut out = [[[0i8; CO]; WO]; HO];
        for oy in 0..HO {
            for ox in 0..WO {
                for o in 0..CO {
                    let mut sum = layer.bias[o];
                    for ky in 0..K {
                        for kx in 0..K {
                            let (iy, ix) =
                                ((oy * S + ky) as isize - top as isize, (ox * S + kx) as isize - left as isize);
                            if iy < 0 || ix < 0 || iy >= H as isize || ix >= W as isize {
                                continue;
                            }
                            for c in 0..CI {
                                let v = i32::from(x[iy as usize][ix as usize][c]) - z_in;
                                sum += v * i32::from(layer.kernel[o][ky][kx][c]);
                            }
                        }
                    }
                    let y = layer.requant()[o].apply(sum) + layer.output.zero_point;
                    out[oy][ox][o] = y.clamp(i32::from(lo), i32::from(hi)) as i8;
                }
            }
        }
        out
    }

    /// A layer with random weights (one −128), biases and inputs, scales that leave many
    /// outputs unclamped, and the last filter with a multiplier above 1 (a left shift: the
    /// requantization's full form); its forward pass on the path in use against [`textbook`].
    fn check<
        const H: usize,
        const W: usize,
        const CI: usize,
        const CO: usize,
        const K: usize,
        A: ConvActivation,
        const S: usize,
        P: QPadding,
        const HO: usize,
        const WO: usize,
    >(
        seed: u64,
    ) where
        Conv2D<CI, CO, K, A, S, P, f32, Bias, K, S>: Layer<Image<H, W, CI>, Out = Image<HO, WO, CO>>,
    {
        let mut rng = SeedRng::seed(seed);
        let mut byte = || (rng.next_u32() & 0xff) as u8 as i8;
        let mut kernel = [[[[0i8; CI]; K]; K]; CO];
        kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut().fill_with(&mut byte);
        kernel[0][0][0][0] = -128;
        let mut x = [[[0i8; CI]; W]; H];
        x.as_flattened_mut().as_flattened_mut().fill_with(&mut byte);
        let bias: [i32; CO] = core::array::from_fn(|o| (o as i32 - 8) * 611);
        let (input, output) = (QuantParams { scale: 0.5, zero_point: -7 }, QuantParams { scale: 1.0, zero_point: 3 });
        // M = 0.5·s_w: about 1/1000, so that sums of K·K·CI products land inside the range.
        let fan_in = (K * K * CI) as f32;
        let scales: [f32; CO] =
            core::array::from_fn(|o| if o + 1 == CO { 4.0 } else { (0.03 + 0.002 * o as f32) / fan_in.sqrt() });
        let layer = QConv2D::<CI, CO, K, A, S, P>::new(kernel, bias, scales, input, output);
        let got = QLayer::<QImage<H, W, CI>>::forward(&layer, &QImage::new(x));
        let want = textbook::<H, W, CI, CO, K, A, S, P, HO, WO>(&layer, &x);
        assert_eq!(
            got.as_array(),
            &want,
            "{H}×{W}×{CI} → {CO} filters {K}×{K} stride {S}, path {}",
            crate::kernel::int8::simd()
        );
        let (lo, hi) = A::FUSED.range(output);
        let inside = want.as_flattened().as_flattened().iter().filter(|&&v| v > lo && v < hi).count();
        // A ReLU clamps about half of them; the rest must mostly land inside.
        assert!(inside * 4 > HO * WO * CO, "too many outputs clamped: {inside} of {} inside", HO * WO * CO);
    }

    #[test]
    fn resnet8s_convolution_shapes_equal_the_textbook_convolution() {
        // The stem (27 values per receptive field: padded to 28 on the VNNI path), 16 and 32
        // filters over 16 channels with stride 1 and 2 (SAME: one row before at 9×9 → 5×5, none
        // at 8×8 → 4×4), the 1×1 stride-2 projection, 64 filters with stride 2; pixel counts
        // around the 16-filter kernel's tiles of 16 (81, 25, 16).
        check::<8, 8, 3, 16, 3, Relu, 1, Same, 8, 8>(1);
        check::<9, 9, 16, 16, 3, Relu, 1, Same, 9, 9>(2);
        check::<9, 9, 16, 32, 3, Relu, 2, Same, 5, 5>(3);
        check::<8, 8, 16, 32, 3, Identity, 2, Same, 4, 4>(4);
        check::<8, 8, 16, 32, 1, Identity, 2, Valid, 4, 4>(5);
        check::<7, 7, 32, 32, 3, Relu, 1, Same, 7, 7>(6);
        check::<8, 8, 32, 64, 3, Relu, 2, Same, 4, 4>(7);
        check::<6, 6, 32, 48, 3, Identity, 1, Valid, 4, 4>(8);
    }
}
