//! [`DepthwiseConv2D`]: a convolution that filters each channel on its own, the cheap half of a
//! depthwise-separable convolution (MobileNet, DS-CNN).

use core::marker::PhantomData;

use rand_core::Rng;

use crate::activation::{Activation, Identity};
use crate::init::glorot_uniform;
use crate::layer::bias::{Bias, BiasMode, NoBias};
use crate::layer::conv::{ConvCache, Geometry};
use crate::layer::{Seal, rows, rows_mut};
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::shape::float::FloatIs;
use crate::shape::rules::DepthwiseInput;
use crate::shape::{Padding, Valid};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// A depthwise 2-D convolution: every input channel `c` is convolved with its own `M` filters
/// of size `K × KW` (`K × K` unless `KW` is given), giving `C·M` output channels:
/// `z[y][x][c·M + m] = b[c][m] + Σ_{ky, kx} in[y·S + ky − pt][x·SW + kx − pl][c] · kernel[ky][kx][c][m]`,
/// then `out = act(z)` per pixel. Stride and padding work as in [`Conv2D`](crate::Conv2D):
/// out-of-image positions read zeros, and the output sides are computed by the compiler, as is
/// the output channel count `C·M` (up to 4096, the limit of computed sizes; a `Conv2D`'s
/// channel counts, which it does not compute, have none).
///
/// Channels never mix, so a layer costs `K·KW·C·M` multiplications per pixel where a `Conv2D`
/// producing as many channels costs `K·KW·C·C·M`; a `1 × 1` `Conv2D` after it mixes them
/// (a depthwise-separable convolution).
///
/// **Keras equivalent:** `keras.layers.DepthwiseConv2D((K, KW), strides=(S, SW), padding=...,
/// depth_multiplier=M, activation=..., use_bias=...)` on channels-last input. The kernel has
/// Keras' layout `(kh, kw, in, depth_multiplier)` and the bias is Keras' `(in·M,)` vector held
/// as `[[T; M]; C]` (the same values in the same order: output channel `c·M + m`), so Keras'
/// `get_weights()` maps onto `(kernel, bias)` unchanged. Keras' Glorot initialiser takes its
/// fans from that kernel shape, `fan_in = K·KW·C` and `fan_out = K·KW·M`, and so does
/// [`init`](Params::init). PyTorch's equivalent is a `Conv2d(C, C·M, (K, KW), groups=C)`,
/// whose weight is `(C·M, 1, kh, kw)`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// // Two channels, a 2×2 kernel: channel 0 summed, channel 1 doubled at the top-left tap.
/// let dw: DepthwiseConv2D<2, 2> = DepthwiseConv2D::new(
///     [[[[1.0], [2.0]], [[1.0], [0.0]]], [[[1.0], [0.0]], [[1.0], [0.0]]]],
///     [[0.0], [0.5]],
/// );
/// let img: Image<2, 2, 2> = [[[1.0, 10.0], [2.0, 20.0]], [[3.0, 30.0], [4.0, 40.0]]].into();
/// let out: Image<1, 1, 2> = dw.forward(&img);
/// assert_eq!(out.as_slice(), &[10.0, 20.5]);
/// // MobileNet's blocks: 3×3, `Same` padding, no bias; a depth multiplier of 2 doubles the
/// // channels.
/// type Dw = DepthwiseConv2D<8, 3, Relu6, 2, Same, f32, NoBias, 2>;
/// let y: Image<48, 48, 16> = Dw::default().forward(&Image::<96, 96, 8>::default());
/// assert_eq!(Dw::PARAMS, 3 * 3 * 8 * 2);
/// # let _ = y;
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. `forward` keeps the output image and one pixel's `C·M` sums on the stack; the
/// batched paths (a direct kernel, run on the widest vector unit) use one image's `C·M·HO·WO`
/// values of scratch for the backward pass.
///
/// Generic parameters, in this order so that the usual spelling stays short (the
/// [`DepthwiseConv2DRect`] alias orders them as Keras does, kernel sides first):
/// - `C`: input channels; `K`: kernel height (and width);
/// - `A`: the [`Activation`], [`Identity`] by default;
/// - `S`: vertical stride (and horizontal), 1 by default; `P`: [`Valid`] (default) or
///   [`Same`](crate::Same) padding;
/// - `T`: the scalar type, `f32` by default;
/// - `B`: [`Bias`] (default) or [`NoBias`] (Keras' `use_bias=False`);
/// - `M`: the depth multiplier, 1 by default (the layer outputs `C·M` channels);
/// - `KW`: kernel width, `K` by default; `SW`: horizontal stride, `S` by default.
#[derive(Clone, Debug, PartialEq)]
#[doc(alias = "SeparableConv2D")]
pub struct DepthwiseConv2D<
    const C: usize,
    const K: usize,
    A = Identity,
    const S: usize = 1,
    P = Valid,
    T = f32,
    B: BiasMode = Bias,
    const M: usize = 1,
    const KW: usize = K,
    const SW: usize = S,
> {
    /// Weights, `kernel[ky][kx][c][m]` (Keras layout `(kh, kw, in, depth_multiplier)`).
    pub kernel: [[[[T; M]; C]; KW]; K],
    /// One bias per output channel, `bias[c][m]` for output channel `c·M + m` (Keras' `(in·M,)`
    /// vector), or [`NoBias`].
    pub bias: B::Store<[[T; M]; C]>,
    config: PhantomData<(A, P)>,
}

/// A [`DepthwiseConv2D`] with a `KH × KW` kernel and strides `(SH, SW)`, its parameters in
/// Keras' order: `DepthwiseConv2DRect<C, 3, 1, Relu, 1, 1, Same>` is
/// `keras.layers.DepthwiseConv2D((3, 1), padding="same", activation="relu")`. **An alias**:
/// the type is `DepthwiseConv2D<C, KH, A, SH, P, T, B, M, KW, SW>`, which is how compiler
/// messages print it, and its methods are [`DepthwiseConv2D`]'s.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// type Column = DepthwiseConv2DRect<4, 3, 1, Relu, 1, 1, Same>;
/// let y: Image<5, 6, 4> = Column::default().forward(&Image::<5, 6, 4>::default());
/// assert_eq!(Column::PARAMS, 3 * 1 * 4 + 4);
/// # let _ = y;
/// ```
///
/// Generic parameters: `C`; kernel height `KH` and width `KW`; `A` ([`Identity`]); vertical
/// stride `SH` (1) and horizontal `SW` (`SH`); `P` ([`Valid`]); `T` (`f32`); `B` ([`Bias`]);
/// `M` (1).
pub type DepthwiseConv2DRect<
    const C: usize,
    const KH: usize,
    const KW: usize,
    A = Identity,
    const SH: usize = 1,
    const SW: usize = SH,
    P = Valid,
    T = f32,
    B = Bias,
    const M: usize = 1,
> = DepthwiseConv2D<C, KH, A, SH, P, T, B, M, KW, SW>;

impl<
    const C: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    /// A layer with the given kernel (Keras layout `(kh, kw, in, depth_multiplier)`) and bias
    /// (`[[T; M]; C]`, or `NoBias` for a layer without one); `const`, so a trained layer can
    /// live in a `static`.
    pub const fn new(kernel: [[[[T; M]; C]; KW]; K], bias: B::Store<[[T; M]; C]>) -> Self {
        let () = crate::shape::rules::DepthwiseSizes::<C, M, K, KW, S, SW>::AT_LEAST_ONE;
        Self { kernel, bias, config: PhantomData }
    }
}

/// `const` decoding from a byte image, one impl per float type and bias mode.
macro_rules! depthwise_from_bytes {
    ($T:ty, $fill:ident, Bias) => {
        impl<const C: usize, const K: usize, A, const S: usize, P, const M: usize, const KW: usize, const SW: usize>
            DepthwiseConv2D<C, K, A, S, P, $T, Bias, M, KW, SW>
        {
            /// The layer whose parameters start at byte `offset` of a little-endian image (kernel
            /// in Keras layout `(kh, kw, in, depth_multiplier)`, then bias), decoded at compile
            /// time when used in a `const` or `static`; see
            /// [`model_from_le_bytes!`](crate::model_from_le_bytes). Values past the end of
            /// `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[[[0.0; M]; C]; KW]; K], [[0.0; M]; C]);
                let kernel = layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
                let at = crate::io::bytes::$fill(kernel, bytes, offset);
                crate::io::bytes::$fill(layer.bias.as_flattened_mut(), bytes, at);
                layer
            }
        }
        impl<
            const C: usize,
            const K: usize,
            A,
            const S: usize,
            P,
            const M: usize,
            const KW: usize,
            const SW: usize,
            I: crate::io::bytes::ImageAt,
        > crate::io::bytes::FromImage<I> for DepthwiseConv2D<C, K, A, S, P, $T, Bias, M, KW, SW>
        {
            const DECODED: Self = Self::from_le_bytes_at(I::IMAGE, I::OFFSET);
        }
    };
    ($T:ty, $fill:ident, NoBias) => {
        impl<const C: usize, const K: usize, A, const S: usize, P, const M: usize, const KW: usize, const SW: usize>
            DepthwiseConv2D<C, K, A, S, P, $T, NoBias, M, KW, SW>
        {
            /// The layer whose kernel (Keras layout `(kh, kw, in, depth_multiplier)`, no bias)
            /// starts at byte `offset` of a little-endian image, decoded at compile time when
            /// used in a `const` or `static`; see
            /// [`model_from_le_bytes!`](crate::model_from_le_bytes). Values past the end of
            /// `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[[[0.0; M]; C]; KW]; K], NoBias);
                let kernel = layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
                crate::io::bytes::$fill(kernel, bytes, offset);
                layer
            }
        }
        impl<
            const C: usize,
            const K: usize,
            A,
            const S: usize,
            P,
            const M: usize,
            const KW: usize,
            const SW: usize,
            I: crate::io::bytes::ImageAt,
        > crate::io::bytes::FromImage<I> for DepthwiseConv2D<C, K, A, S, P, $T, NoBias, M, KW, SW>
        {
            const DECODED: Self = Self::from_le_bytes_at(I::IMAGE, I::OFFSET);
        }
    };
}
depthwise_from_bytes!(f32, fill_f32, Bias);
depthwise_from_bytes!(f64, fill_f64, Bias);
depthwise_from_bytes!(f32, fill_f32, NoBias);
depthwise_from_bytes!(f64, fill_f64, NoBias);

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
> crate::io::bytes::ConstLoad for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    const BYTES: usize = (K * KW * C * M + if B::USE_BIAS { C * M } else { 0 }) * T::BYTES;
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
> Default for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    /// All-zero weights and biases.
    fn default() -> Self {
        Self::new([[[[T::zero(); M]; C]; KW]; K], B::store([[T::zero(); M]; C]))
    }
}

impl<
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Params<T> for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    const PARAMS: usize = {
        let () = crate::shape::rules::DepthwiseSizes::<C, M, K, KW, S, SW>::AT_LEAST_ONE;
        K * KW * C * M + if B::USE_BIAS { C * M } else { 0 }
    };

    fn params(&self) -> impl Iterator<Item = &[T]> {
        let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
        core::iter::once(kernel).chain(B::get(&self.bias).map(|b| b.as_flattened()))
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        let kernel = self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        core::iter::once(kernel).chain(B::get_mut(&mut self.bias).map(|b| b.as_flattened_mut()))
    }

    /// Glorot-uniform kernel with Keras' fans for the kernel shape `(K, KW, C, M)`:
    /// `fan_in = K·KW·C`, `fan_out = K·KW·M` (checked against Keras 3.15.1: a 3×3 kernel on
    /// 256 channels has `max |w|` = 0.05092 against the limit `√(6/(2304 + 9))` = 0.05093);
    /// zero bias.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let kernel = self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        glorot_uniform(rng, K * KW * C, K * KW * M, kernel);
        if let Some(bias) = B::get_mut(&mut self.bias) {
            *bias = [[T::zero(); M]; C];
        }
    }

    /// `{k}.kernel` `(kh, kw, in, depth_multiplier)`, then `{k}.bias` `(in·M,)` if the layer
    /// has one (Keras 3 names the depthwise kernel `kernel`).
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let kernel = ParamShape::DepthwiseKernel { kh: K, kw: KW, channels: C, multiplier: M };
        visit(&ParamSpec { layer: walk.layer(), name: "kernel", shape: kernel });
        if B::USE_BIAS {
            visit(&ParamSpec { layer: walk.layer(), name: "bias", shape: ParamShape::Vector(C * M) });
        }
        walk.end_layer(Some(C * M));
    }
}

/// `acc[i] += x[i]·w[i]`, as 8-lane blocks of straight-line code the vectoriser turns into
/// whole-register multiply-adds (see `kernel::simd::axpy`).
#[inline(always)]
fn mul_add<T: Scalar, const FMA: bool>(acc: &mut [T], x: &[T], w: &[T]) {
    const LANES: usize = 8;
    let mut a_blocks = acc.chunks_exact_mut(LANES);
    let mut x_blocks = x.chunks_exact(LANES);
    let mut w_blocks = w.chunks_exact(LANES);
    for ((a, x), w) in (&mut a_blocks).zip(&mut x_blocks).zip(&mut w_blocks) {
        let (mut v, mut xv, mut wv) = ([T::zero(); LANES], [T::zero(); LANES], [T::zero(); LANES]);
        v.copy_from_slice(a);
        xv.copy_from_slice(x);
        wv.copy_from_slice(w);
        for ((v, &x), &w) in v.iter_mut().zip(&xv).zip(&wv) {
            *v = if FMA { x.mul_add(w, *v) } else { *v + x * w };
        }
        a.copy_from_slice(&v);
    }
    let rest = a_blocks.into_remainder().iter_mut().zip(x_blocks.remainder()).zip(w_blocks.remainder());
    for ((a, &x), &w) in rest {
        *a = if FMA { x.mul_add(w, *a) } else { *a + x * w };
    }
}

impl<
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    /// Output channels, `C·M`.
    const CM: usize = C * M;

    fn geometry<X: DepthwiseInput<C, M, K, KW, S, SW, P, T>>() -> Geometry {
        let ((h, w), (ho, wo)) = (X::HW, X::OUT_HW);
        Geometry { h, w, ho, wo, top: P::before(h, ho, K, S), left: P::before(w, wo, KW, SW) }
    }

    /// The bias, or zeros for a layer without one.
    #[inline(always)]
    fn bias_or_zero(&self) -> [[T; M]; C] {
        B::get(&self.bias).copied().unwrap_or([[T::zero(); M]; C])
    }

    /// Calls `visit(ky, kx, pixel_start)` for every kernel tap of output pixel `(oy, ox)` that
    /// lands inside the image (padding taps are skipped: they read zeros).
    #[inline(always)]
    fn taps(g: Geometry, oy: usize, ox: usize, mut visit: impl FnMut(usize, usize, usize)) {
        for ky in 0..K {
            let Some(iy) = (oy * S + ky).checked_sub(g.top).filter(|&iy| iy < g.h) else { continue };
            for kx in 0..KW {
                let Some(ix) = (ox * SW + kx).checked_sub(g.left).filter(|&ix| ix < g.w) else { continue };
                visit(ky, kx, (iy * g.w + ix) * C);
            }
        }
    }

    /// The direct depthwise convolution of one image: each output pixel's `C·M` sums live in
    /// a local array while every kernel tap adds `x[c]·kernel[ky][kx][c][m]` to them (for
    /// `M = 1` one element-wise multiply-add over the channels, which vectorises), and are
    /// stored once. On the AVX-512/AVX2 paths, for `f32` with `M = 1` and `C` a multiple of 8,
    /// the explicit-SIMD kernel (`kernel/conv_direct.rs`: the weights of a vector of channels
    /// in registers, rows of output pixels in accumulators) computes the same sums in the same
    /// order instead, and applies an element-wise activation to each vector before storing it
    /// when no pre-activations are kept (`z` is `None`). Otherwise a finished output row is
    /// copied into `z` (pre-activations, if given) and activated in place in `y`.
    #[inline(always)]
    fn convolve<const FMA: bool>(&self, g: Geometry, x: &[T], z: Option<&mut [T]>, y: &mut [T]) {
        let row_len = g.wo * Self::CM;
        if row_len == 0 {
            return;
        }
        // The activation goes into the kernel when it is element-wise (any grouping of the
        // values gives the same results) and nothing needs the pre-activations.
        let fuse = A::ELEMENTWISE && z.is_none();
        let mut z_rows = z.map(|z| z.chunks_exact_mut(row_len));
        // Never on the portable path (`FMA` is false there), nor for a depth multiplier.
        let done = FMA && M == 1 && {
            let shape = crate::kernel::conv_direct::ConvShape {
                h: g.h,
                w: g.w,
                kh: K,
                kw: KW,
                sh: S,
                top: g.top,
                left: g.left,
                ho: g.ho,
                wo: g.wo,
            };
            let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
            let bias = self.bias_or_zero();
            let bias = bias.as_flattened();
            if fuse {
                crate::kernel::conv_direct::depthwise_image::<T, C, K, KW, SW>(
                    shape,
                    x,
                    kernel,
                    bias,
                    y,
                    A::apply_with::<T, FMA>,
                )
            } else {
                crate::kernel::conv_direct::depthwise_image::<T, C, K, KW, SW>(shape, x, kernel, bias, y, |_| {})
            }
        };
        if done && fuse {
            return;
        }
        for (oy, yrow) in y.chunks_exact_mut(row_len).take(g.ho).enumerate() {
            for (ox, ypix) in yrow.chunks_exact_mut(Self::CM).enumerate().filter(|_| !done) {
                let mut acc = self.bias_or_zero();
                Self::taps(g, oy, ox, |ky, kx, start| {
                    let (Some(xpix), Some(tap)) =
                        (x.get(start..start + C), self.kernel.get(ky).and_then(|r| r.get(kx)))
                    else {
                        return;
                    };
                    if M == 1 {
                        mul_add::<T, FMA>(acc.as_flattened_mut(), xpix, tap.as_flattened());
                    } else {
                        for ((a, w), &xc) in acc.iter_mut().zip(tap).zip(xpix) {
                            crate::kernel::simd::axpy::<T, FMA>(a, xc, w);
                        }
                    }
                });
                ypix.copy_from_slice(acc.as_flattened());
            }
            if let Some(zrow) = z_rows.as_mut().and_then(Iterator::next) {
                zrow.copy_from_slice(yrow);
            }
            let apply = A::apply_with::<T, FMA>;
            if A::ELEMENTWISE {
                apply(yrow);
            } else {
                yrow.chunks_exact_mut(Self::CM).for_each(apply);
            }
        }
    }

    /// Backward of the depthwise convolution for one image given `dz`: `∂b += Σ dz`,
    /// `∂kernel[ky][kx][c][m] += Σ x[..][c]·dz[..][c·M + m]`, and `dx` (zeroed first)
    /// `+= Σ_m kernel[ky][kx][c][m]·dz[..][c·M + m]`.
    #[inline(always)]
    fn backward_image<const FMA: bool>(
        &self,
        g: Geometry,
        x: &[T],
        dz: &[T],
        grad: &mut Self,
        mut dx: Option<&mut [T]>,
    ) {
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(T::zero());
        }
        for (p, dzpix) in rows(dz, Self::CM, g.ho * g.wo).enumerate() {
            if let Some(gbias) = B::get_mut(&mut grad.bias) {
                for (gb, &d) in gbias.as_flattened_mut().iter_mut().zip(dzpix) {
                    *gb += d;
                }
            }
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let Some(xpix) = x.get(start..start + C) else { return };
                if let Some(gk) = grad.kernel.get_mut(ky).and_then(|r| r.get_mut(kx)) {
                    if M == 1 {
                        mul_add::<T, FMA>(gk.as_flattened_mut(), xpix, dzpix);
                    } else {
                        for ((gc, &xc), dzc) in gk.iter_mut().zip(xpix).zip(dzpix.chunks_exact(M.max(1))) {
                            crate::kernel::simd::axpy::<T, FMA>(gc, xc, dzc);
                        }
                    }
                }
                let dxpix = dx.as_deref_mut().and_then(|dx| dx.get_mut(start..start + C));
                if let (Some(dxpix), Some(tap)) = (dxpix, self.kernel.get(ky).and_then(|r| r.get(kx))) {
                    if M == 1 {
                        mul_add::<T, FMA>(dxpix, tap.as_flattened(), dzpix);
                    } else {
                        for ((d, w), dzc) in dxpix.iter_mut().zip(tap).zip(dzpix.chunks_exact(M.max(1))) {
                            *d += w.iter().zip(dzc).map(|(&w, &g)| w * g).sum::<T>();
                        }
                    }
                }
            });
        }
    }

    /// `dz = act'(z) ⊙ dy` pixel by pixel (the activation's own Jacobian-vector product for a
    /// softmax), from the pre-activations `z` and outputs `y`.
    fn activation_backward(zs: &[T], ys: &[T], dys: &[T], dzs: &mut [T]) {
        let pixels = dzs.len() / Self::CM.max(1);
        let tile = rows(zs, Self::CM, pixels).zip(rows(ys, Self::CM, pixels)).zip(rows(dys, Self::CM, pixels));
        for (((z, y), dy), dz) in tile.zip(rows_mut(dzs, Self::CM, pixels)) {
            A::backprop(z, y, dy, dz);
        }
    }
}

/// A batch of direct depthwise convolutions, as a
/// [`Vectorized`](crate::kernel::simd::Vectorized) computation for the AVX2/AVX-512 dispatch;
/// the input type `X` is a type parameter so that its sizes stay constants in each CPU's copy.
struct DepthwiseRows<'a, L, X: Tensor> {
    layer: &'a L,
    n: usize,
    xs: &'a [X::Elem],
    zs: Option<&'a mut [X::Elem]>,
    ys: &'a mut [X::Elem],
}

impl<
    X,
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> crate::kernel::simd::Vectorized for DepthwiseRows<'_, DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>, X>
where
    X: DepthwiseInput<C, M, K, KW, S, SW, P, T>,
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let DepthwiseRows { layer, n, xs, zs, ys } = self;
        let g = DepthwiseConv2D::<C, K, A, S, P, T, B, M, KW, SW>::geometry::<X>();
        let (in_len, out_len) = (X::LEN, X::Out::LEN);
        let mut z_rows = zs.map(|z| rows_mut(z, out_len, n));
        for (x, y) in rows(xs, in_len, n).zip(rows_mut(ys, out_len, n)) {
            let z = z_rows.as_mut().and_then(Iterator::next);
            layer.convolve::<FMA>(g, x, z, y);
        }
    }
}

/// One image's depthwise backward pass given `dz`, on the widest vector unit.
struct DepthwiseBackward<'a, L, X: Tensor> {
    layer: &'a L,
    x: &'a [X::Elem],
    dz: &'a [X::Elem],
    grad: &'a mut L,
    dx: Option<&'a mut [X::Elem]>,
}

impl<
    X,
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> crate::kernel::simd::Vectorized for DepthwiseBackward<'_, DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>, X>
where
    X: DepthwiseInput<C, M, K, KW, S, SW, P, T>,
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let DepthwiseBackward { layer, x, dz, grad, dx } = self;
        let g = DepthwiseConv2D::<C, K, A, S, P, T, B, M, KW, SW>::geometry::<X>();
        layer.backward_image::<FMA>(g, x, dz, grad, dx);
    }
}

/// The output of a `DepthwiseConv2D` on `X`: `X`'s shape rule, reached through the float-type
/// rule.
type Rule<X, const C: usize, const M: usize, const K: usize, const KW: usize, const S: usize, const SW: usize, P, T> =
    <<X as FloatIs<T>>::Checked as DepthwiseInput<C, M, K, KW, S, SW, P, T>>::Out;

impl<
    X,
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Layer<X> for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: DepthwiseInput<C, M, K, KW, S, SW, P, T>,
{
    type Out = Rule<X, C, M, K, KW, S, SW, P, T>;
    const NAME: &'static str = "DepthwiseConv2D";
    const CHECK: () = X::Checked::CHECK;

    fn forward(&self, x: &X) -> Rule<X, C, M, K, KW, S, SW, P, T> {
        let () = X::Checked::CHECK;
        let mut out = <Self as Layer<X>>::Out::default();
        let ys = out.as_mut_slice();
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: self, n: 1, xs: x.as_slice(), zs: None, ys });
        out
    }

    /// Every kernel path writes every output, so `out` needs no clearing.
    #[inline(always)]
    fn forward_into(&self, _: Seal, x: &X, out: &mut Self::Out) {
        let () = X::Checked::CHECK;
        let ys = out.as_mut_slice();
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: self, n: 1, xs: x.as_slice(), zs: None, ys });
    }

    /// The direct kernel over the whole batch, without copying samples in and out.
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], _scratch: &mut [T]) {
        let () = X::Checked::CHECK;
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: self, n, xs, zs: None, ys });
    }
}

/// Backward: `dz = act'(z) ⊙ dy` per pixel, then the adjoint of the depthwise convolution (see
/// [`DepthwiseConv2D`]'s formula), each channel on its own. The cache is the pre-activations,
/// as for a `Conv2D`.
impl<
    X,
    const C: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Backward<X> for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: DepthwiseInput<C, M, K, KW, S, SW, P, T>,
{
    type Cache = ConvCache<Rule<X, C, M, K, KW, S, SW, P, T>>;

    fn forward_train(
        &self,
        x: &X,
    ) -> (Rule<X, C, M, K, KW, S, SW, P, T>, ConvCache<Rule<X, C, M, K, KW, S, SW, P, T>>) {
        let () = X::Checked::CHECK;
        let (mut z, mut y) = (<Self as Layer<X>>::Out::default(), <Self as Layer<X>>::Out::default());
        let (xs, zs, ys) = (x.as_slice(), Some(z.as_mut_slice()), y.as_mut_slice());
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: self, n: 1, xs, zs, ys });
        (y, ConvCache { z })
    }

    fn backward(
        &self,
        x: &X,
        cache: &ConvCache<Rule<X, C, M, K, KW, S, SW, P, T>>,
        dy: &Rule<X, C, M, K, KW, S, SW, P, T>,
        grad: &mut Self,
        dx: Option<&mut X>,
    ) {
        let mut dz = <Self as Layer<X>>::Out::default();
        let pixels = <Self as Layer<X>>::Out::LEN / Self::CM.max(1);
        let pairs = rows(cache.z.as_slice(), Self::CM, pixels).zip(rows(dy.as_slice(), Self::CM, pixels));
        for ((z, dy), dz) in pairs.zip(rows_mut(dz.as_mut_slice(), Self::CM, pixels)) {
            let mut y = [[T::zero(); M]; C];
            let y = y.as_flattened_mut();
            y.copy_from_slice(z);
            A::apply_fast(y);
            A::backprop(z, y, dy, dz);
        }
        let (x, dz, dx) = (x.as_slice(), dz.as_slice(), dx.map(|d| d.as_mut_slice()));
        crate::kernel::simd::dispatch(DepthwiseBackward::<_, X> { layer: self, x, dz, grad, dx });
    }

    fn train_cache_len(_: Seal, n: usize) -> usize {
        // Z, as `forward_train` keeps it.
        n.saturating_mul(<Self as Layer<X>>::Out::LEN)
    }

    fn train_scratch_len(_: Seal, _n: usize) -> usize {
        // One image's dZ.
        <Self as Layer<X>>::Out::LEN
    }

    /// `Z` into the cache and `Y = act(Z)` into `ys`, with the direct kernel.
    fn forward_train_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], cache: &mut [T], _scratch: &mut [T]) {
        let () = X::Checked::CHECK;
        let Some(zs) = cache.get_mut(..n.saturating_mul(<Self as Layer<X>>::Out::LEN)) else { return };
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: self, n, xs, zs: Some(zs), ys });
    }

    /// Image by image: `dZ` from `Z` (the cache), `Y` and `dY` into the scratch, then the
    /// direct backward pass.
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[T],
        ys: &[T],
        cache: &[T],
        dys: &[T],
        grad: &mut Self,
        dxs: Option<&mut [T]>,
        logits: bool,
        scratch: &mut [T],
    ) {
        let (in_len, out_len) = (X::LEN, <Self as Layer<X>>::Out::LEN);
        let Some(dz_buf) = scratch.get_mut(..out_len) else { return };
        let mut dx_rows = dxs.map(|d| rows_mut(d, in_len, n));
        let images =
            rows(xs, in_len, n).zip(rows(ys, out_len, n)).zip(rows(cache, out_len, n)).zip(rows(dys, out_len, n));
        // `∂b = Σ dz` over every pixel of every image, accumulated in `f64` and written once at
        // the end (replacing the per-image `f32` sums): before a BatchNormalization that sum is 0
        // up to rounding, and an `f32` running sum over the batch leaves a residue that Adam,
        // which divides by the gradient's own size, turns into full-size random steps of the
        // bias (see `Conv2D`'s batched backward).
        let bias_before = B::get_mut(&mut grad.bias).map(|b| *b);
        let mut bias_sum = [[0.0f64; M]; C];
        for (((x, y), z), dy) in images {
            let dz: &[T] = if logits {
                dy
            } else {
                Self::activation_backward(z, y, dy, dz_buf);
                dz_buf
            };
            if B::USE_BIAS {
                for dzpix in dz.chunks_exact(Self::CM.max(1)) {
                    for (sum, &d) in bias_sum.as_flattened_mut().iter_mut().zip(dzpix) {
                        *sum += d.to_f64_lossless();
                    }
                }
            }
            let dx = dx_rows.as_mut().and_then(Iterator::next);
            crate::kernel::simd::dispatch(DepthwiseBackward::<_, X> { layer: self, x, dz, grad, dx });
        }
        if let (Some(gbias), Some(before)) = (B::get_mut(&mut grad.bias), bias_before) {
            let parts = before.as_flattened().iter().zip(bias_sum.as_flattened());
            for (gb, (&b, &sum)) in gbias.as_flattened_mut().iter_mut().zip(parts) {
                *gb = b + T::lit(sum);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu6, Sigmoid, Softmax};
    use crate::init::{SeedRng, uniform01};
    use crate::kernel::simd::Vectorized;
    use crate::shape::{Image, Same};

    fn random_image<const H: usize, const W: usize, const C: usize>(seed: u64) -> Image<H, W, C> {
        let mut rng = SeedRng::seed(seed);
        let mut img = Image::default();
        img.as_mut_slice().iter_mut().for_each(|v| *v = uniform01(&mut rng) as f32 * 2.0 - 1.0);
        img
    }

    /// The definition, as nested loops over every output value: an independent reference.
    fn reference<
        const C: usize,
        const K: usize,
        A: Activation,
        const S: usize,
        P: Padding,
        B: BiasMode,
        const M: usize,
        const KW: usize,
        const SW: usize,
        X,
    >(
        layer: &DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>,
        x: &X,
    ) -> std::vec::Vec<f32>
    where
        X: DepthwiseInput<C, M, K, KW, S, SW, P, f32>,
    {
        let ((h, w), (ho, wo)) = (X::HW, X::OUT_HW);
        let (top, left) = (P::before(h, ho, K, S), P::before(w, wo, KW, SW));
        let bias = layer.bias_or_zero();
        let mut out = std::vec![0.0f32; ho * wo * C * M];
        for oy in 0..ho {
            for ox in 0..wo {
                for c in 0..C {
                    for m in 0..M {
                        let mut acc = bias[c][m] as f64;
                        for ky in 0..K {
                            for kx in 0..KW {
                                let (iy, ix) =
                                    ((oy * S + ky) as isize - top as isize, (ox * SW + kx) as isize - left as isize);
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    let v = x.as_slice()[((iy as usize) * w + ix as usize) * C + c];
                                    acc += f64::from(v) * f64::from(layer.kernel[ky][kx][c][m]);
                                }
                            }
                        }
                        out[((oy * wo + ox) * C + c) * M + m] = acc as f32;
                    }
                }
                let pixel = &mut out[(oy * wo + ox) * C * M..][..C * M];
                A::apply(pixel);
            }
        }
        out
    }

    /// The dispatched kernel (AVX-512 or AVX2+FMA where the CPU has them), the portable one
    /// (`run::<false>`, what `no_std` runs) and the nested-loop definition agree to 1e-5.
    fn agrees_with_the_definition<
        X,
        const C: usize,
        const K: usize,
        A: Activation,
        const S: usize,
        P: Padding,
        B: BiasMode,
        const M: usize,
        const KW: usize,
        const SW: usize,
    >(
        layer: &DepthwiseConv2D<C, K, A, S, P, f32, B, M, KW, SW>,
        x: &X,
    ) where
        X: DepthwiseInput<C, M, K, KW, S, SW, P, f32>,
    {
        let mut fast = X::Out::default();
        let ys = fast.as_mut_slice();
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer, n: 1, xs: x.as_slice(), zs: None, ys });
        let mut portable = X::Out::default();
        let ys = portable.as_mut_slice();
        DepthwiseRows::<_, X> { layer, n: 1, xs: x.as_slice(), zs: None, ys }.run::<false>();
        let expected = reference(layer, x);
        for ((a, b), e) in fast.as_slice().iter().zip(portable.as_slice()).zip(&expected) {
            assert!((a - e).abs() <= 1e-5 && (b - e).abs() <= 1e-5, "{a}, {b} vs {e}");
        }
        assert!(expected.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn depthwise_convolution_equals_its_definition_on_every_path() {
        std::println!(
            "AVX-512: {}, AVX2+FMA: {}",
            crate::kernel::simd::has_avx512(),
            crate::kernel::simd::has_avx2_fma()
        );
        // DS-CNN's block layer (64 channels: eight 8-lane blocks), a strided rectangular one
        // with a depth multiplier and a per-pixel softmax, and a valid one with a remainder
        // of channels.
        let mut ds: DepthwiseConv2D<64, 3, Relu6, 1, Same> = DepthwiseConv2D::init(&mut SeedRng::seed(1));
        ds.bias = core::array::from_fn(|c| [c as f32 * 0.01]);
        agrees_with_the_definition(&ds, &random_image::<25, 5, 64>(2));
        let mult: DepthwiseConv2DRect<3, 3, 2, Softmax, 2, 1, Same, f32, Bias, 2> =
            DepthwiseConv2D::init(&mut SeedRng::seed(3));
        agrees_with_the_definition(&mult, &random_image::<7, 6, 3>(4));
        let valid: DepthwiseConv2D<11, 2, Sigmoid, 1, Valid, f32, NoBias> =
            DepthwiseConv2D::init(&mut SeedRng::seed(5));
        agrees_with_the_definition(&valid, &random_image::<5, 4, 11>(6));
    }

    /// One image through the dispatched kernel without pre-activations (on the AVX-512/AVX2
    /// paths the activation runs inside the kernel, on each vector before its store) and with
    /// them (the kernel stores the pre-activations, then each row is activated in place):
    /// the same bits, and the pre-activations are the identity layer's output.
    fn fused_equals_unfused<X, const C: usize, const K: usize, A: Activation, const S: usize, const SW: usize>(
        layer: &DepthwiseConv2DRect<C, K, K, A, S, SW, Same>,
        x: &X,
    ) where
        X: DepthwiseInput<C, 1, K, K, S, SW, Same, f32>,
    {
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>();
        let (mut fused, mut unfused, mut z) = (X::Out::default(), X::Out::default(), X::Out::default());
        let xs = x.as_slice();
        let ys = fused.as_mut_slice();
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer, n: 1, xs, zs: None, ys });
        let (zs, ys) = (Some(z.as_mut_slice()), unfused.as_mut_slice());
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer, n: 1, xs, zs, ys });
        assert_eq!(bits(fused.as_slice()), bits(unfused.as_slice()), "{}", A::NAME);
        let linear = DepthwiseConv2DRect::<C, K, K, Identity, S, SW, Same> {
            kernel: layer.kernel,
            bias: layer.bias,
            ..Default::default()
        };
        let mut pre = X::Out::default();
        let ys = pre.as_mut_slice();
        crate::kernel::simd::dispatch(DepthwiseRows::<_, X> { layer: &linear, n: 1, xs, zs: None, ys });
        assert_eq!(bits(z.as_slice()), bits(pre.as_slice()));
        // The activation changed something, so a kernel that skipped it would fail.
        assert_ne!(bits(fused.as_slice()), bits(pre.as_slice()), "{}", A::NAME);
    }

    /// The activation fused into the explicit-SIMD kernel gives the bits of the separate pass,
    /// for a clamp (`Relu6`, with outputs on both sides of 6 and 0) and an `eˣ` (`Sigmoid`,
    /// `Swish`), on DS-CNN's shape and on a stride-2 one.
    #[test]
    fn fused_activation_gives_the_separate_pass_bits() {
        use crate::activation::{Relu, Swish};
        let x = random_image::<25, 5, 64>(8);
        let mut big = random_image::<25, 5, 64>(8);
        big.as_mut_slice().iter_mut().for_each(|v| *v *= 20.0);
        let mut relu6: DepthwiseConv2D<64, 3, Relu6, 1, Same> = DepthwiseConv2D::init(&mut SeedRng::seed(9));
        relu6.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut().iter_mut().for_each(|w| *w *= 4.0);
        fused_equals_unfused(&relu6, &big);
        let relu: DepthwiseConv2D<64, 3, Relu, 1, Same> = DepthwiseConv2D::init(&mut SeedRng::seed(10));
        fused_equals_unfused(&relu, &x);
        let sigmoid: DepthwiseConv2D<64, 3, Sigmoid, 1, Same> = DepthwiseConv2D::init(&mut SeedRng::seed(11));
        fused_equals_unfused(&sigmoid, &x);
        let swish: DepthwiseConv2D<32, 3, Swish, 2, Same> = DepthwiseConv2D::init(&mut SeedRng::seed(12));
        fused_equals_unfused(&swish, &random_image::<14, 13, 32>(13));
    }

    #[test]
    fn depthwise_counts_and_names_its_parameters_as_keras() {
        assert_eq!(<DepthwiseConv2D<64, 3> as Params<f32>>::PARAMS, 640);
        assert_eq!(<DepthwiseConv2D<64, 3, Identity, 1, Valid, f32, NoBias, 2> as Params<f32>>::PARAMS, 1152);
        let mut specs = std::vec::Vec::new();
        <DepthwiseConv2DRect<3, 3, 2, Identity, 1, 1, Valid, f32, Bias, 2> as Params<f32>>::describe_params(
            &mut ParamWalk::default(),
            &mut |s| specs.push(*s),
        );
        let kernel = ParamShape::DepthwiseKernel { kh: 3, kw: 2, channels: 3, multiplier: 2 };
        assert_eq!(
            specs,
            [
                ParamSpec { layer: 0, name: "kernel", shape: kernel },
                ParamSpec { layer: 0, name: "bias", shape: ParamShape::Vector(6) },
            ]
        );
    }

    /// Keras' fans: `fan_in = K·KW·C = 2304`, `fan_out = K·KW·M = 9`, so the limit is
    /// `√(6/2313)`, not `√(6/18)` as a per-channel fan would give.
    #[test]
    fn depthwise_init_uses_keras_fans() {
        let layer: DepthwiseConv2D<256, 3> = DepthwiseConv2D::init(&mut SeedRng::seed(7));
        let limit = (6.0f32 / 2313.0).sqrt();
        let max = layer.kernel.as_flattened().as_flattened().as_flattened().iter().fold(0.0f32, |m, w| m.max(w.abs()));
        assert!(max <= limit && max > 0.99 * limit, "max |w| {max}, limit {limit}");
    }
}
