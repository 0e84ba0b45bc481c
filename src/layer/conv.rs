//! [`Conv2D`]: 2-D convolution (Keras' cross-correlation) over channels-last images, with
//! [`Valid`] or [`Same`] padding (defined with the shapes they compute, in `shape`), square or
//! rectangular kernels and strides ([`Conv2DRect`]), with or without a bias.

use core::marker::PhantomData;

use rand_core::Rng;

use crate::activation::{Activation, Identity};
use crate::init::glorot_uniform;
use crate::layer::Seal;
use crate::layer::bias::{Bias, BiasMode, NoBias};
use crate::layer::{rows, rows_mut};
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::shape::float::FloatIs;
use crate::shape::rules::ConvInput;
pub use crate::shape::{Padding, Same, Valid};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// A 2-D convolution with `CO` filters of size `K × KW` (square, `K × K`, unless `KW` is
/// given) over `CI` input channels:
/// `z[y][x][o] = b[o] + Σ_{ky, kx, c} in[y·S + ky − pt][x·SW + kx − pl][c] · kernel[ky][kx][c][o]`,
/// then `out = act(z)` (applied per pixel over the channels, as Keras applies it to the last
/// axis). Out-of-image positions read zeros (padding); `b` is zero for a layer without a bias.
///
/// The output size is computed by the compiler from the input's: a `Conv2D<1, 32, 3>` turns
/// an `Image<28, 28, 1>` into an `Image<26, 26, 32>`, and a kernel larger than the image (in
/// either direction), or an image with the wrong channel count, is a compile error.
///
/// **Keras equivalent:** `keras.layers.Conv2D(CO, (K, KW), strides=(S, SW), padding=...,
/// activation=..., use_bias=...)` on channels-last input. The kernel has Keras' layout
/// `(kh, kw, in, out)`, so Keras' `get_weights()` maps onto `(kernel, bias)` unchanged;
/// PyTorch's `Conv2d.weight` is `(out, in, kh, kw)`. Like Keras (and unlike the textbook
/// convolution) the kernel is not flipped.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// // A 2×2 box filter summing a 3×3 single-channel image.
/// let conv: Conv2D<1, 1, 2> = Conv2D::new([[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]], [0.0]);
/// let img: Image<3, 3, 1> = [[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]], [[7.0], [8.0], [9.0]]].into();
/// let out: Image<2, 2, 1> = conv.forward(&img);
/// assert_eq!(out.as_slice(), &[12.0, 16.0, 24.0, 28.0]);
/// // With `Same` padding the side is kept (and the extra padding row goes to the bottom).
/// let same: Conv2D<1, 1, 2, Identity, 1, Same> = Conv2D::new(conv.kernel, [0.0]);
/// let out: Image<3, 3, 1> = same.forward(&img);
/// assert_eq!(out.as_slice(), &[12.0, 16.0, 9.0, 24.0, 28.0, 15.0, 15.0, 17.0, 9.0]);
/// // A 1×2 kernel with strides (1, 2), written with the rectangular alias: 3×3 → 3×1.
/// let rect: Conv2DRect<1, 1, 1, 2, Identity, 1, 2> = Conv2D::new([[[[1.0]], [[10.0]]]], [0.0]);
/// let out: Image<3, 1, 1> = rect.forward(&img);
/// assert_eq!(out.as_slice(), &[21.0, 54.0, 87.0]);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None for one sample (`forward` needs the output image on the stack); the batched path
/// (feature `alloc`) uses an im2col buffer from its scratch space.
///
/// Generic parameters, in this order so that the square spelling stays short (the
/// [`Conv2DRect`] alias orders them as Keras does, kernel sides first):
/// - `CI`: input channels; `CO`: filters (output channels); `K`: kernel height (and width);
/// - `A`: the [`Activation`], [`Identity`] by default;
/// - `S`: vertical stride (and horizontal), 1 by default; `P`: [`Valid`] (default) or [`Same`]
///   padding;
/// - `T`: the scalar type, `f32` by default;
/// - `B`: [`Bias`] (default) or [`NoBias`] (Keras' `use_bias=False`: the `bias` field is
///   then the zero-sized `NoBias` and the layer has no bias parameters);
/// - `KW`: kernel width, `K` by default; `SW`: horizontal stride, `S` by default.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2D<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A = Identity,
    const S: usize = 1,
    P = Valid,
    T = f32,
    B: BiasMode = Bias,
    const KW: usize = K,
    const SW: usize = S,
> {
    /// Weights, `kernel[ky][kx][c][o]` (Keras layout `(kh, kw, in, out)`).
    pub kernel: [[[[T; CO]; CI]; KW]; K],
    /// One bias per filter (`[T; CO]`), or [`NoBias`].
    pub bias: B::Store<[T; CO]>,
    config: PhantomData<(A, P)>,
}

/// A [`Conv2D`] with a `KH × KW` kernel and strides `(SH, SW)`, its parameters in Keras'
/// order: `Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>` is
/// `keras.layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same", activation="relu")` on
/// one channel (DS-CNN's first layer). **An alias**: the type is
/// `Conv2D<CI, CO, KH, A, SH, P, T, B, KW, SW>`, which is how compiler messages print it, and
/// its methods are [`Conv2D`]'s.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// type First = Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>;
/// let conv: Box<First> = First::new_boxed();
/// let y: Image<25, 5, 64> = conv.forward(&Image::<49, 10, 1>::default());
/// assert_eq!(First::PARAMS, 10 * 4 * 64 + 64);
/// # let _ = y;
/// ```
///
/// Generic parameters: `CI`, `CO`; kernel height `KH` and width `KW`; `A` ([`Identity`]);
/// vertical stride `SH` (1) and horizontal `SW` (`SH`); `P` ([`Valid`]); `T` (`f32`); `B`
/// ([`Bias`]).
pub type Conv2DRect<
    const CI: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    A = Identity,
    const SH: usize = 1,
    const SW: usize = SH,
    P = Valid,
    T = f32,
    B = Bias,
> = Conv2D<CI, CO, KH, A, SH, P, T, B, KW, SW>;

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    /// A layer with the given kernel (Keras layout `(kh, kw, in, out)`) and bias (`[T; CO]`,
    /// or `NoBias` for a layer without one); `const`, so a trained layer can live in a
    /// `static`.
    pub const fn new(kernel: [[[[T; CO]; CI]; KW]; K], bias: B::Store<[T; CO]>) -> Self {
        let () = crate::shape::rules::ConvSizes::<CI, CO, K, KW, S, SW>::AT_LEAST_ONE;
        Self { kernel, bias, config: PhantomData }
    }
}

/// `const` decoding from a byte image, one impl per float type and bias mode.
macro_rules! conv_from_bytes {
    ($T:ty, $fill:ident, Bias) => {
        impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, const KW: usize, const SW: usize>
            Conv2D<CI, CO, K, A, S, P, $T, Bias, KW, SW>
        {
            /// The layer whose parameters start at byte `offset` of a little-endian image (kernel
            /// in Keras layout `(kh, kw, in, out)`, then bias), decoded at compile time when used
            /// in a `const` or `static`; see [`model_from_le_bytes!`](crate::model_from_le_bytes).
            /// Values past the end of `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[[[0.0; CO]; CI]; KW]; K], [0.0; CO]);
                let kernel = layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
                let at = crate::io::bytes::$fill(kernel, bytes, offset);
                crate::io::bytes::$fill(&mut layer.bias, bytes, at);
                layer
            }
        }
        impl<
            const CI: usize,
            const CO: usize,
            const K: usize,
            A,
            const S: usize,
            P,
            const KW: usize,
            const SW: usize,
            I: crate::io::bytes::ImageAt,
        > crate::io::bytes::FromImage<I> for Conv2D<CI, CO, K, A, S, P, $T, Bias, KW, SW>
        {
            const DECODED: Self = Self::from_le_bytes_at(I::IMAGE, I::OFFSET);
        }
    };
    ($T:ty, $fill:ident, NoBias) => {
        impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, const KW: usize, const SW: usize>
            Conv2D<CI, CO, K, A, S, P, $T, NoBias, KW, SW>
        {
            /// The layer whose kernel (Keras layout `(kh, kw, in, out)`, no bias) starts at byte
            /// `offset` of a little-endian image, decoded at compile time when used in a `const`
            /// or `static`; see [`model_from_le_bytes!`](crate::model_from_le_bytes).
            /// Values past the end of `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[[[0.0; CO]; CI]; KW]; K], NoBias);
                let kernel = layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
                crate::io::bytes::$fill(kernel, bytes, offset);
                layer
            }
        }
        impl<
            const CI: usize,
            const CO: usize,
            const K: usize,
            A,
            const S: usize,
            P,
            const KW: usize,
            const SW: usize,
            I: crate::io::bytes::ImageAt,
        > crate::io::bytes::FromImage<I> for Conv2D<CI, CO, K, A, S, P, $T, NoBias, KW, SW>
        {
            const DECODED: Self = Self::from_le_bytes_at(I::IMAGE, I::OFFSET);
        }
    };
}
conv_from_bytes!(f32, fill_f32, Bias);
conv_from_bytes!(f64, fill_f64, Bias);
conv_from_bytes!(f32, fill_f32, NoBias);
conv_from_bytes!(f64, fill_f64, NoBias);

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
> crate::io::bytes::ConstLoad for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    const BYTES: usize = (K * KW * CI * CO + if B::USE_BIAS { CO } else { 0 }) * T::BYTES;
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
> Default for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    /// All-zero weights and biases.
    fn default() -> Self {
        Self::new([[[[T::zero(); CO]; CI]; KW]; K], B::store([T::zero(); CO]))
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Params<T> for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    const PARAMS: usize = {
        let () = crate::shape::rules::ConvSizes::<CI, CO, K, KW, S, SW>::AT_LEAST_ONE;
        K * KW * CI * CO + if B::USE_BIAS { CO } else { 0 }
    };

    fn params(&self) -> impl Iterator<Item = &[T]> {
        let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
        core::iter::once(kernel).chain(B::get(&self.bias).map(|b| &b[..]))
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        let kernel = self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        core::iter::once(kernel).chain(B::get_mut(&mut self.bias).map(|b| &mut b[..]))
    }

    /// Glorot-uniform kernel with Keras' conv fans (`fan_in = K·KW·CI`, `fan_out = K·KW·CO`),
    /// zero bias.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let kernel = self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        glorot_uniform(rng, K * KW * CI, K * KW * CO, kernel);
        if let Some(bias) = B::get_mut(&mut self.bias) {
            *bias = [T::zero(); CO];
        }
    }

    /// `{k}.kernel` `(kh, kw, in, out)`, then `{k}.bias` `(out,)` if the layer has one.
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let kernel = ParamShape::ConvKernel { kh: K, kw: KW, inputs: CI, outputs: CO };
        visit(&ParamSpec { layer: walk.layer(), name: "kernel", shape: kernel });
        if B::USE_BIAS {
            visit(&ParamSpec { layer: walk.layer(), name: "bias", shape: ParamShape::Vector(CO) });
        }
        walk.end_layer(Some(CO));
    }
}

/// The sizes of one convolution, from the layer's and the input's types (shared with
/// `DepthwiseConv2D`).
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) ho: usize,
    pub(super) wo: usize,
    /// Padding rows above and columns left of the image.
    pub(super) top: usize,
    pub(super) left: usize,
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    /// Scalars per im2col row: one receptive field, `K·KW·CI`.
    #[cfg(feature = "alloc")]
    const PATCH: usize = K * KW * CI;

    fn geometry<X: ConvInput<CI, CO, K, KW, S, SW, P, T>>() -> Geometry {
        let ((h, w), (ho, wo)) = (X::HW, X::OUT_HW);
        Geometry { h, w, ho, wo, top: P::before(h, ho, K, S), left: P::before(w, wo, KW, SW) }
    }

    /// The bias, or zeros for a layer without one: what every output pixel's sum starts from.
    #[inline(always)]
    fn bias_or_zero(&self) -> [T; CO] {
        B::get(&self.bias).copied().unwrap_or([T::zero(); CO])
    }

    /// Calls `visit(ky, kx, pixel_start)` for every kernel tap of output pixel `(oy, ox)` that
    /// lands inside the image (padding taps are skipped: they read zeros).
    #[inline(always)]
    fn taps(g: Geometry, oy: usize, ox: usize, mut visit: impl FnMut(usize, usize, usize)) {
        for ky in 0..K {
            let Some(iy) = (oy * S + ky).checked_sub(g.top).filter(|&iy| iy < g.h) else { continue };
            for kx in 0..KW {
                let Some(ix) = (ox * SW + kx).checked_sub(g.left).filter(|&ix| ix < g.w) else { continue };
                visit(ky, kx, (iy * g.w + ix) * CI);
            }
        }
    }

    /// The direct convolution of one image, register-blocked: on the AVX-512/AVX2 paths, for
    /// `f32` with `CO` a multiple of 8, by the explicit-SIMD kernel (`kernel/conv_direct.rs`:
    /// blocks of output pixels × vectors of channels in registers), or, for a 1×1 stride-1
    /// convolution, by the row GEMM ([`pointwise_gemm`](Self::pointwise_gemm)); otherwise each
    /// output pixel's `CO` sums are computed in registers by [`pixel`](Self::pixel) and stored
    /// once. All add the taps in the same order, so they give the same bits. Then each output row
    /// (`Wo·CO` values) is copied into `z` (pre-activation, if given) and activated in place in
    /// `y`, in one long vectorised pass. `FMA` selects fused multiply-adds (inside the
    /// AVX2/AVX-512 dispatch).
    #[inline(always)]
    fn convolve_direct<const FMA: bool>(&self, g: Geometry, x: &[T], z: Option<&mut [T]>, y: &mut [T]) {
        let row_len = g.wo * CO;
        if row_len == 0 {
            return;
        }
        let mut z_rows = z.map(|z| z.chunks_exact_mut(row_len));
        // The explicit AVX-512/AVX2 kernels (the same sums in the same order), where they
        // apply; never on the portable path.
        let done = FMA
            && (self.pointwise_gemm(g, x, y) || {
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
                crate::kernel::conv_direct::conv_image::<T, CI, CO, SW>(shape, x, kernel, &self.bias_or_zero(), y)
            });
        for (oy, yrow) in y.chunks_exact_mut(row_len).take(g.ho).enumerate() {
            if !done {
                for (ox, ypix) in yrow.chunks_exact_mut(CO).enumerate() {
                    ypix.copy_from_slice(&self.pixel::<FMA>(g, x, oy, ox));
                }
            }
            if let Some(zrow) = z_rows.as_mut().and_then(Iterator::next) {
                zrow.copy_from_slice(yrow);
            }
            let apply = A::apply_with::<T, FMA>;
            if A::ELEMENTWISE {
                apply(yrow);
            } else {
                yrow.chunks_exact_mut(CO).for_each(apply);
            }
        }
    }

    /// A 1×1 convolution with stride 1 (never padded) as the matrix product it is, on the
    /// AVX-512/AVX2 row GEMM of `kernel/rowgemm.rs`: the image's `H·W` pixels are the rows of a
    /// `(H·W) × CI` matrix, the kernel (Keras' `(1, 1, CI, CO)`, read in place) is `CI × CO`,
    /// and the bias (zeros without one) is every tile's starting value. Its tiles of 6 pixels ×
    /// 64 channels run across the image's rows (DS-CNN's 25 × 5 map: 20 tiles of 6 and one of
    /// 5, against 25 blocks of one 5-pixel row in the direct kernel); per output the same sum
    /// in the same order (bias, then one fused multiply-add per input channel in increasing
    /// order), so the same bits. Returns `false`, having written nothing, for other layers,
    /// other scalar types, without feature `alloc`, on the portable path, or when `CO` is not a
    /// multiple of the vector width (the caller then runs the direct kernel).
    #[inline(always)]
    fn pointwise_gemm(&self, g: Geometry, x: &[T], y: &mut [T]) -> bool {
        #[cfg(feature = "alloc")]
        if K == 1 && KW == 1 && S == 1 && SW == 1 && (g.ho, g.wo, g.top, g.left) == (g.h, g.w, 0, 0) {
            use crate::kernel::cast::{same_scalar, same_scalar_mut};
            use crate::kernel::rowgemm::{Init, gemm_rows};
            let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
            let bias = self.bias_or_zero();
            let pixels = g.h * g.w;
            if let (Some(x), Some(kernel), Some(bias), Some(y)) = (
                same_scalar::<T, f32>(x),
                same_scalar::<T, f32>(kernel),
                same_scalar::<T, f32>(&bias),
                same_scalar_mut::<T, f32>(y),
            ) && y.len() == pixels * CO
            {
                return gemm_rows(pixels, CI, CO, x, CI, 1, kernel, Init::Row(bias), y);
            }
        }
        let _ = (g, x, y);
        false
    }

    /// The pre-activations of output pixel `(oy, ox)`: its `CO` sums live in a local array
    /// (registers: 32 `f32` are two AVX-512 or four AVX2 vectors) while every kernel tap adds
    /// `x·K[ky][kx]` to them.
    #[inline(always)]
    fn pixel<const FMA: bool>(&self, g: Geometry, x: &[T], oy: usize, ox: usize) -> [T; CO] {
        let mut acc = self.bias_or_zero();
        // The window's first column, if the whole window row lies inside the image.
        let inside = (ox * SW).checked_sub(g.left).filter(|&ix| ix + KW <= g.w);
        for (ky, kernel_row) in self.kernel.iter().enumerate() {
            let Some(iy) = (oy * S + ky).checked_sub(g.top).filter(|&iy| iy < g.h) else { continue };
            if let Some(ix) = inside {
                // The common case: one bounds check for the KW·CI inputs under the
                // kernel row, then a loop of constant length the compiler unrolls.
                let start = (iy * g.w + ix) * CI;
                let Some(window) = x.get(start..start + KW * CI) else { continue };
                for (xpix, tap) in window.chunks_exact(CI.max(1)).zip(kernel_row) {
                    for (&xc, wc) in xpix.iter().zip(tap) {
                        crate::kernel::simd::axpy::<T, FMA>(&mut acc, xc, wc);
                    }
                }
                continue;
            }
            // At a padded border: tap by tap, skipping those outside the image.
            for (kx, tap) in kernel_row.iter().enumerate() {
                let Some(ix) = (ox * SW + kx).checked_sub(g.left).filter(|&ix| ix < g.w) else { continue };
                let start = (iy * g.w + ix) * CI;
                let Some(xpix) = x.get(start..start + CI) else { continue };
                for (&xc, wc) in xpix.iter().zip(tap) {
                    crate::kernel::simd::axpy::<T, FMA>(&mut acc, xc, wc);
                }
            }
        }
        acc
    }

    /// The direct convolution of one image followed by a max pooling over `ph × pw` windows
    /// (strides equal to the window), *before* the activation, which must be
    /// [`MONOTONIC`](Activation::MONOTONIC): `y` is the pooled image. Each output pixel's sums
    /// go straight into the running maxima of its window's pooled row, in the pooling's order
    /// (row-major within the window, `v > max` so that the first maximum wins), and the
    /// finished pooled row (`⌊Wo/pw⌋·CO` values, in L1) is activated: `max(f(a), f(b)) =
    /// f(max(a, b))`, so the result is the unfused one bit for bit, with one `f` per window.
    /// A window whose sums are all NaN (or −∞) is recomputed the unfused way, where `f` comes
    /// first: the pooling of NaNs gives −∞, not `f(−∞)`.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn convolve_pooled<const FMA: bool>(&self, g: Geometry, (ph, pw): (usize, usize), x: &[T], y: &mut [T]) {
        let (hp, wp) = (g.ho / ph.max(1), g.wo / pw.max(1));
        let row_len = wp * CO;
        if row_len == 0 {
            return;
        }
        for (py, prow) in y.chunks_exact_mut(row_len).take(hp).enumerate() {
            for (px, ppix) in prow.chunks_exact_mut(CO).enumerate() {
                // The window's maxima stay in registers and are stored once (a conditional
                // store per pixel compiled to `vmaskmovps`, slow on AMD cores).
                let mut m = [T::neg_infinity(); CO];
                for oy in py * ph..(py + 1) * ph {
                    for ox in px * pw..(px + 1) * pw {
                        let z = self.pixel::<FMA>(g, x, oy, ox);
                        for (m, &v) in m.iter_mut().zip(&z) {
                            *m = if v > *m { v } else { *m };
                        }
                    }
                }
                ppix.copy_from_slice(&m);
            }
            // Without early exit, so that it vectorises.
            if prow.iter().fold(false, |any, &m| any | (m == T::neg_infinity())) {
                // Rare (NaN or infinite sums): this row the unfused way, `f` then the max.
                for (px, ppix) in prow.chunks_exact_mut(CO).enumerate() {
                    ppix.fill(T::neg_infinity());
                    for oy in py * ph..(py + 1) * ph {
                        for ox in px * pw..(px + 1) * pw {
                            let mut fz = self.pixel::<FMA>(g, x, oy, ox);
                            A::apply_with::<T, FMA>(&mut fz);
                            for (m, &v) in ppix.iter_mut().zip(&fz) {
                                *m = if v > *m { v } else { *m };
                            }
                        }
                    }
                }
            } else {
                A::apply_with::<T, FMA>(prow);
            }
        }
    }

    /// Whether the direct kernel beats im2col + GEMM: for small receptive fields (seed model 2
    /// and the digits model have `K·KW·CI = 9`) the GEMM mostly pays for packing.
    #[cfg(feature = "alloc")]
    const DIRECT: bool = K * KW * CI <= 64;

    /// Runs [`convolve_direct`](Self::convolve_direct) on `n` images of type `X` on the best
    /// vector unit.
    fn convolve_images<X: ConvInput<CI, CO, K, KW, S, SW, P, T>>(
        &self,
        n: usize,
        xs: &[T],
        zs: Option<&mut [T]>,
        ys: &mut [T],
    ) {
        crate::kernel::simd::dispatch(DirectConv::<_, X> { layer: self, n, xs, zs, ys });
    }

    /// Backward of the convolution for one image given `dz`: `∂b += Σ dz`,
    /// `∂kernel[ky][kx][c][o] += Σ x[..][c]·dz[..][o]`, and `dx` (zeroed first) `+= kernel·dz`.
    fn convolve_backward(&self, g: Geometry, x: &[T], dz: &[T], grad: &mut Self, mut dx: Option<&mut [T]>) {
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(T::zero());
        }
        for (p, dzpix) in rows(dz, CO, g.ho * g.wo).enumerate() {
            if let Some(gbias) = B::get_mut(&mut grad.bias) {
                for (gb, &d) in gbias.iter_mut().zip(dzpix) {
                    *gb += d;
                }
            }
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let Some(xpix) = x.get(start..start + CI) else { return };
                if let Some(gk) = grad.kernel.get_mut(ky).and_then(|r| r.get_mut(kx)) {
                    for (&xc, gc) in xpix.iter().zip(gk.iter_mut()) {
                        for (g, &d) in gc.iter_mut().zip(dzpix) {
                            *g += xc * d;
                        }
                    }
                }
                let dxpix = dx.as_deref_mut().and_then(|dx| dx.get_mut(start..start + CI));
                if let (Some(dxpix), Some(kk)) = (dxpix, self.kernel.get(ky).and_then(|r| r.get(kx))) {
                    for (dxc, kc) in dxpix.iter_mut().zip(kk) {
                        *dxc += kc.iter().zip(dzpix).map(|(&w, &d)| w * d).sum::<T>();
                    }
                }
            });
        }
    }

    /// Pixel rows per tile of the batched kernels: the im2col tile stays near 64 KB, so one
    /// tile's patches, outputs and activations are still in cache when the next step reads
    /// them (the batch's whole output, 2.7 MB for seed model 2, would not be).
    #[cfg(feature = "alloc")]
    const TILE: usize = {
        let t = 16_384 / if Self::PATCH == 0 { 1 } else { Self::PATCH };
        if t < 16 {
            16
        } else if t > 4096 {
            4096
        } else {
            t
        }
    };

    /// im2col of the batch's pixel rows `r0..r1` (row `s·HO·WO + oy·WO + ox` is output pixel
    /// `(oy, ox)` of image `s`): the `K·K·CI` input values under the kernel there, zeros for
    /// padding, in the kernel's `(ky, kx, c)` order, so that `Z = patches · kernel`.
    #[cfg(feature = "alloc")]
    fn im2col_rows(g: Geometry, xs: &[T], r0: usize, r1: usize, patches: &mut [T]) {
        let (pixels, in_len) = (g.ho * g.wo, g.h * g.w * CI);
        for (r, row) in (r0..r1).zip(rows_mut(patches, Self::PATCH, r1 - r0)) {
            row.fill(T::zero());
            let (image, p) = (r / pixels.max(1), r % pixels.max(1));
            let Some(x) = xs.get(image * in_len..(image + 1) * in_len) else { continue };
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let at = (ky * KW + kx) * CI;
                if let (Some(dst), Some(src)) = (row.get_mut(at..at + CI), x.get(start..start + CI)) {
                    dst.copy_from_slice(src);
                }
            });
        }
    }

    /// The adjoint of [`im2col_rows`](Self::im2col_rows): adds each patch value back onto the
    /// input pixel it came from (`dxs` must be zeroed by the caller).
    #[cfg(feature = "alloc")]
    fn col2im_rows(g: Geometry, patches: &[T], r0: usize, r1: usize, dxs: &mut [T]) {
        let (pixels, in_len) = (g.ho * g.wo, g.h * g.w * CI);
        for (r, row) in (r0..r1).zip(rows(patches, Self::PATCH, r1 - r0)) {
            let (image, p) = (r / pixels.max(1), r % pixels.max(1));
            let Some(dx) = dxs.get_mut(image * in_len..(image + 1) * in_len) else { continue };
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let at = (ky * KW + kx) * CI;
                if let (Some(src), Some(dst)) = (row.get(at..at + CI), dx.get_mut(start..start + CI)) {
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d += s;
                    }
                }
            });
        }
    }

    /// `Z = patches·kernel + b` for the rows of one tile (`zs` has `patches.len()/PATCH` rows).
    #[cfg(feature = "alloc")]
    fn linear_tile(&self, patches: &[T], zs: &mut [T]) {
        use crate::kernel::gemm::{Dims, Strided, gemm};
        let rows_n = zs.len() / CO.max(1);
        let bias = self.bias_or_zero();
        for zpix in rows_mut(zs, CO, rows_n) {
            zpix.copy_from_slice(&bias);
        }
        let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
        let dims = Dims { m: rows_n, k: Self::PATCH, n: CO };
        let _ = gemm(
            dims,
            T::one(),
            Strided::row_major(patches, Self::PATCH),
            Strided::row_major(kernel, CO),
            T::one(),
            zs,
        );
    }
}

/// A batch of direct convolutions, as a [`Vectorized`](crate::kernel::simd::Vectorized)
/// computation for the AVX2/AVX-512 dispatch. The input type `X` is a type parameter rather
/// than a runtime geometry so that the sizes stay constants inside the CPU-specific copy
/// (which the compiler cannot inline into its caller): 5% faster on seed model 2.
struct DirectConv<'a, L, X: Tensor> {
    layer: &'a L,
    n: usize,
    xs: &'a [X::Elem],
    zs: Option<&'a mut [X::Elem]>,
    ys: &'a mut [X::Elem],
}

impl<
    X,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> crate::kernel::simd::Vectorized for DirectConv<'_, Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>, X>
where
    X: ConvInput<CI, CO, K, KW, S, SW, P, T>,
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let DirectConv { layer, n, xs, zs, ys } = self;
        let g = Conv2D::<CI, CO, K, A, S, P, T, B, KW, SW>::geometry::<X>();
        let (in_len, out_len) = (g.h * g.w * CI, g.ho * g.wo * CO);
        let mut z_rows = zs.map(|z| rows_mut(z, out_len, n));
        for (x, y) in rows(xs, in_len, n).zip(rows_mut(ys, out_len, n)) {
            let z = z_rows.as_mut().and_then(Iterator::next);
            layer.convolve_direct::<FMA>(g, x, z, y);
        }
    }
}

/// A batch of direct convolutions each followed by the max pooling `N` (the model's next
/// layer), pooled before the activation: see [`Conv2D::convolve_pooled`]. The next layer is a
/// type parameter so that its window is a constant inside the CPU-specific copy.
#[cfg(feature = "alloc")]
struct PooledConv<'a, L, X: Tensor, Y, N> {
    layer: &'a L,
    n: usize,
    xs: &'a [X::Elem],
    ys: &'a mut [X::Elem],
    next: PhantomData<(Y, N)>,
}

#[cfg(feature = "alloc")]
impl<
    X,
    Y: Tensor,
    N: Layer<Y>,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> crate::kernel::simd::Vectorized for PooledConv<'_, Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>, X, Y, N>
where
    X: ConvInput<CI, CO, K, KW, S, SW, P, T>,
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let PooledConv { layer, n, xs, ys, .. } = self;
        let Some(window) = N::max_pool_window(crate::layer::Seal) else { return };
        let g = Conv2D::<CI, CO, K, A, S, P, T, B, KW, SW>::geometry::<X>();
        let out_len = (g.ho / window.0.max(1)) * (g.wo / window.1.max(1)) * CO;
        for (x, y) in rows(xs, g.h * g.w * CI, n).zip(rows_mut(ys, out_len, n)) {
            layer.convolve_pooled::<FMA>(g, window, x, y);
        }
    }
}

/// The output of a `Conv2D` on `X`: `X`'s shape rule, reached through the float-type rule.
type Rule<X, const CI: usize, const CO: usize, const K: usize, const KW: usize, const S: usize, const SW: usize, P, T> =
    <<X as FloatIs<T>>::Checked as ConvInput<CI, CO, K, KW, S, SW, P, T>>::Out;

impl<
    X,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Layer<X> for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: ConvInput<CI, CO, K, KW, S, SW, P, T>,
{
    type Out = Rule<X, CI, CO, K, KW, S, SW, P, T>;
    const NAME: &'static str = "Conv2D";
    const CHECK: () = X::Checked::CHECK;

    fn forward(&self, x: &X) -> Rule<X, CI, CO, K, KW, S, SW, P, T> {
        let () = X::Checked::CHECK;
        let mut out = <Self as Layer<X>>::Out::default();
        self.convolve_images::<X::Checked>(1, x.as_slice(), None, out.as_mut_slice());
        out
    }

    /// Every kernel path writes every output, so `out` needs no clearing.
    #[inline(always)]
    fn forward_into(&self, _: Seal, x: &X, out: &mut Self::Out) {
        let () = X::Checked::CHECK;
        self.convolve_images::<X::Checked>(1, x.as_slice(), None, out.as_mut_slice());
    }

    #[cfg(feature = "alloc")]
    fn batch_scratch_len(_: Seal, _n: usize) -> usize {
        if Self::DIRECT { 0 } else { Self::TILE * Self::PATCH }
    }

    /// Before a max pooling, with a [`MONOTONIC`](Activation::MONOTONIC) activation and the
    /// direct kernel: the pooled output at once, pooling before the activation (the same bits,
    /// a quarter of the activations for 2×2 windows, and the full-size output never leaves
    /// L1). The type says when: for other activations or layers this is the plain forward.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn forward_batch_flat_then<Y: Tensor, N: Layer<Y>>(
        &self,
        _: Seal,
        next: &N,
        n: usize,
        xs: &[T],
        ys: &mut [T],
        next_ys: &mut [T],
        scratch: &mut [T],
    ) -> bool {
        let _ = next;
        let is_output = Y::LEN == <Self as Layer<X>>::Out::LEN;
        if Self::DIRECT && A::MONOTONIC && A::ELEMENTWISE && is_output && N::max_pool_window(Seal).is_some() {
            let pooled = PooledConv::<_, X::Checked, Y, N> { layer: self, n, xs, ys: next_ys, next: PhantomData };
            crate::kernel::simd::dispatch(pooled);
            return true;
        }
        <Self as Layer<X>>::forward_batch_flat(self, Seal, n, xs, ys, scratch);
        false
    }

    /// The direct kernel for small receptive fields; otherwise tile by tile: im2col, one GEMM
    /// (with the bias), the activation — while the tile is in cache.
    #[cfg(feature = "alloc")]
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], scratch: &mut [T]) {
        let g = Self::geometry::<X::Checked>();
        if Self::DIRECT {
            self.convolve_images::<X::Checked>(n, xs, None, ys);
            return;
        }
        let total = n * g.ho * g.wo;
        let mut r0 = 0;
        while r0 < total {
            let r1 = (r0 + Self::TILE).min(total);
            let (Some(patches), Some(zs)) = (scratch.get_mut(..(r1 - r0) * Self::PATCH), ys.get_mut(r0 * CO..r1 * CO))
            else {
                return;
            };
            Self::im2col_rows(g, xs, r0, r1, patches);
            self.linear_tile(patches, zs);
            crate::activation::activate_rows::<A, T>(zs, CO);
            r0 = r1;
        }
    }
}

/// What a [`Conv2D`] keeps for its backward pass: the pre-activations `z`. (The outputs
/// `act(z)` are recomputed pixel by pixel in the backward pass, in a `CO`-sized buffer, rather
/// than kept: a conv output can be large, and single-sample training keeps caches on the
/// stack.)
#[derive(Clone, Debug, PartialEq)]
pub struct ConvCache<Y> {
    /// Pre-activations.
    pub z: Y,
}

/// Backward: `dz = act'(z) ⊙ dy` per pixel, then the adjoint of the convolution (see
/// [`Conv2D`]'s formula): `∂b = Σ_pixels dz`, `∂kernel = Σ_pixels patchᵀ·dz`, and
/// `dx = Σ_pixels` (kernel·dz scattered back onto the patch).
impl<
    X,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: Activation,
    const S: usize,
    P: Padding,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Backward<X> for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: ConvInput<CI, CO, K, KW, S, SW, P, T>,
{
    type Cache = ConvCache<Rule<X, CI, CO, K, KW, S, SW, P, T>>;

    fn chunkable(_: crate::layer::Seal) -> bool {
        true
    }

    fn forward_train(
        &self,
        x: &X,
    ) -> (Rule<X, CI, CO, K, KW, S, SW, P, T>, ConvCache<Rule<X, CI, CO, K, KW, S, SW, P, T>>) {
        let (mut z, mut y) = (<Self as Layer<X>>::Out::default(), <Self as Layer<X>>::Out::default());
        self.convolve_images::<X::Checked>(1, x.as_slice(), Some(z.as_mut_slice()), y.as_mut_slice());
        (y, ConvCache { z })
    }

    fn backward(
        &self,
        x: &X,
        cache: &ConvCache<Rule<X, CI, CO, K, KW, S, SW, P, T>>,
        dy: &Rule<X, CI, CO, K, KW, S, SW, P, T>,
        grad: &mut Self,
        dx: Option<&mut X>,
    ) {
        let mut dz = <Self as Layer<X>>::Out::default();
        let pixels = <Self as Layer<X>>::Out::LEN / CO.max(1);
        let rows_iter = rows(cache.z.as_slice(), CO, pixels).zip(rows(dy.as_slice(), CO, pixels));
        for ((z, dy), dz) in rows_iter.zip(rows_mut(dz.as_mut_slice(), CO, pixels)) {
            let mut y = [T::zero(); CO];
            y.copy_from_slice(z);
            A::apply_fast(&mut y);
            A::backprop(z, &y, dy, dz);
        }
        self.convolve_backward(
            Self::geometry::<X::Checked>(),
            x.as_slice(),
            dz.as_slice(),
            grad,
            dx.map(|d| d.as_mut_slice()),
        );
    }

    #[cfg(feature = "alloc")]
    fn train_cache_len(_: Seal, n: usize) -> usize {
        // Z; the backward pass recomputes each tile's im2col from the input, in cache.
        n.saturating_mul(<Self as Layer<X>>::Out::LEN)
    }

    #[cfg(feature = "alloc")]
    fn train_scratch_len(_: Seal, _n: usize) -> usize {
        // One tile of dZ, of patches and of patch gradients.
        Self::TILE * (CO + 2 * Self::PATCH)
    }

    /// `Z` into the cache and `Y = act(Z)` into `ys`: the direct kernel for small receptive
    /// fields, otherwise tile by tile (im2col, GEMM, activation).
    #[cfg(feature = "alloc")]
    fn forward_train_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], cache: &mut [T], scratch: &mut [T]) {
        let g = Self::geometry::<X::Checked>();
        let total = n * g.ho * g.wo;
        let Some(all_zs) = cache.get_mut(..total * CO) else { return };
        if Self::DIRECT {
            self.convolve_images::<X::Checked>(n, xs, Some(all_zs), ys);
            return;
        }
        let mut r0 = 0;
        while r0 < total {
            let r1 = (r0 + Self::TILE).min(total);
            let patches = scratch.get_mut(..(r1 - r0) * Self::PATCH);
            let (zs, out) = (all_zs.get_mut(r0 * CO..r1 * CO), ys.get_mut(r0 * CO..r1 * CO));
            let (Some(patches), Some(zs), Some(out)) = (patches, zs, out) else { return };
            Self::im2col_rows(g, xs, r0, r1, patches);
            self.linear_tile(patches, zs);
            out.copy_from_slice(zs);
            crate::activation::activate_rows::<A, T>(out, CO);
            r0 = r1;
        }
    }

    /// Tile by tile: `dZ` from `Z`, `Y` and `dY`; `∂b += Σ dZ`; the tile's im2col again; `∂K +=
    /// Pᵀ·dZ`; and, if wanted, `dP = dZ·Kᵀ` scattered back onto the input (`col2im`).
    #[cfg(feature = "alloc")]
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[T],
        ys: &[T],
        cache: &[T],
        dys: &[T],
        grad: &mut Self,
        mut dxs: Option<&mut [T]>,
        logits: bool,
        scratch: &mut [T],
    ) {
        use crate::kernel::gemm::{Dims, Strided, gemm, gemm_rows};
        let g = Self::geometry::<X::Checked>();
        let total = n * g.ho * g.wo;
        let Some(all_zs) = cache.get(..total * CO) else { return };
        let Some((dz_buf, rest)) = scratch.split_at_mut_checked(Self::TILE * CO) else { return };
        let Some((patch_buf, dp_buf)) = rest.split_at_mut_checked(Self::TILE * Self::PATCH) else { return };
        if let Some(dxs) = dxs.as_deref_mut() {
            dxs.fill(T::zero());
        }
        let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
        // `∂b = Σ dz` over every pixel of every image, accumulated in `f64`: before a
        // BatchNormalization that sum is 0 up to rounding, and an `f32` running sum of thousands
        // of terms leaves a residue that Adam, which divides by the gradient's own size, turns
        // into full-size random steps of the bias.
        let mut bias_sum = [0.0f64; CO];
        let mut r0 = 0;
        while r0 < total {
            let r1 = (r0 + Self::TILE).min(total);
            let rows_n = r1 - r0;
            let (Some(zs), Some(ys), Some(dys), Some(patches)) = (
                all_zs.get(r0 * CO..r1 * CO),
                ys.get(r0 * CO..r1 * CO),
                dys.get(r0 * CO..r1 * CO),
                patch_buf.get_mut(..rows_n * Self::PATCH),
            ) else {
                return;
            };
            let dzs: &[T] = if logits {
                dys
            } else {
                let Some(dz) = dz_buf.get_mut(..rows_n * CO) else { return };
                let tile = rows(zs, CO, rows_n).zip(rows(ys, CO, rows_n)).zip(rows(dys, CO, rows_n));
                for (((z, y), dy), d) in tile.zip(rows_mut(dz, CO, rows_n)) {
                    A::backprop(z, y, dy, d);
                }
                dz
            };
            for dz in rows(dzs, CO, rows_n) {
                for (sum, &d) in bias_sum.iter_mut().zip(dz) {
                    *sum += d.to_f64_lossless();
                }
            }
            Self::im2col_rows(g, xs, r0, r1, patches);
            let gk = grad.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
            // `∂K` (PATCH × CO, 9 × 32 for a 3×3 single-channel conv) read as whole rows of
            // `dZ`: typed-nn's own kernel keeps all of `∂K` in registers (see `kernel::rowgemm`).
            let dk = Dims { m: Self::PATCH, k: rows_n, n: CO };
            let _ = gemm_rows(dk, Strided::transposed(patches, Self::PATCH), dzs, None, gk);
            if let (Some(dxs), Some(dp)) = (dxs.as_deref_mut(), dp_buf.get_mut(..rows_n * Self::PATCH)) {
                let dims = Dims { m: rows_n, k: CO, n: Self::PATCH };
                let _ =
                    gemm(dims, T::one(), Strided::row_major(dzs, CO), Strided::transposed(kernel, CO), T::zero(), dp);
                Self::col2im_rows(g, dp, r0, r1, dxs);
            }
            r0 = r1;
        }
        if let Some(gbias) = B::get_mut(&mut grad.bias) {
            for (gb, &sum) in gbias.iter_mut().zip(&bias_sum) {
                *gb += T::lit(sum);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Sigmoid, Softmax, Tanh};
    use crate::init::{SeedRng, uniform01};
    use crate::kernel::simd::Vectorized;
    use crate::shape::Image;

    fn random_image<const H: usize, const W: usize, const C: usize>(seed: u64) -> Image<H, W, C> {
        let mut rng = SeedRng::seed(seed);
        let mut img = Image::default();
        img.as_mut_slice().iter_mut().for_each(|v| *v = uniform01(&mut rng) as f32 * 2.0 - 1.0);
        img
    }

    /// The dispatched kernel (AVX-512 or AVX2+FMA on CPUs that have them) and the portable one
    /// (`run::<false>`, what a `no_std` build runs) agree to 1e-5, pre-activations included.
    fn paths_agree<
        X,
        const CI: usize,
        const CO: usize,
        const K: usize,
        A: Activation,
        const S: usize,
        P: Padding,
        B: BiasMode,
        const KW: usize,
        const SW: usize,
    >(
        layer: &Conv2D<CI, CO, K, A, S, P, f32, B, KW, SW>,
        x: &X,
    ) where
        X: ConvInput<CI, CO, K, KW, S, SW, P, f32>,
    {
        let (mut z_fast, mut y_fast) = (X::Out::default(), X::Out::default());
        layer.convolve_images::<X>(1, x.as_slice(), Some(z_fast.as_mut_slice()), y_fast.as_mut_slice());
        let (mut z_port, mut y_port) = (X::Out::default(), X::Out::default());
        let portable = DirectConv::<_, X> {
            layer,
            n: 1,
            xs: x.as_slice(),
            zs: Some(z_port.as_mut_slice()),
            ys: y_port.as_mut_slice(),
        };
        portable.run::<false>();
        let pairs =
            z_fast.as_slice().iter().zip(z_port.as_slice()).chain(y_fast.as_slice().iter().zip(y_port.as_slice()));
        for (a, b) in pairs {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
        assert!(y_fast.as_slice().iter().any(|&v| v != 0.0));
    }

    #[test]
    fn the_dispatched_and_portable_convolutions_agree() {
        std::println!(
            "AVX-512: {}, AVX2+FMA: {}",
            crate::kernel::simd::has_avx512(),
            crate::kernel::simd::has_avx2_fma()
        );
        // Seed model 2's layer, and a padded, strided one with a per-pixel softmax (the
        // border taps and the non-elementwise activation take other branches).
        let seed2: Conv2D<1, 32, 3, Sigmoid> = Conv2D::init(&mut SeedRng::seed(1));
        paths_agree(&seed2, &random_image::<28, 28, 1>(2));
        let strided: Conv2D<3, 5, 3, Softmax, 2, Same> = Conv2D::init(&mut SeedRng::seed(3));
        paths_agree(&strided, &random_image::<9, 7, 3>(4));
        // A rectangular kernel and strides, no bias: DS-CNN's first layer on its 49×10 input.
        let mut rect: Conv2DRect<1, 64, 10, 4, Sigmoid, 2, 2, Same, f32, NoBias> = Conv2D::default();
        rect.init_params(&mut SeedRng::seed(5));
        paths_agree(&rect, &random_image::<49, 10, 1>(6));
    }

    /// A layer without a bias computes what the same layer with a zero bias computes, and
    /// has only its kernel as parameters.
    #[test]
    fn a_conv_without_bias_equals_one_with_a_zero_bias() {
        let with: Conv2DRect<2, 3, 3, 2, Tanh, 2, 1, Same> = Conv2D::init(&mut SeedRng::seed(8));
        let without: Conv2DRect<2, 3, 3, 2, Tanh, 2, 1, Same, f32, NoBias> = Conv2D::new(with.kernel, NoBias);
        let x = random_image::<7, 6, 2>(9);
        assert_eq!(with.forward(&x), without.forward(&x));
        assert_eq!(without.params().map(<[f32]>::len).collect::<std::vec::Vec<_>>(), [3 * 2 * 2 * 3]);
        assert_eq!(<Conv2DRect<2, 3, 3, 2, Tanh, 2, 1, Same, f32, NoBias> as Params<f32>>::PARAMS, 36);
    }

    /// Images that exercise the pooling rewrite's edge cases, each a batch of its own: random
    /// values; a constant image (every window a tie); huge values (the sigmoid saturates: equal
    /// outputs from different sums); signed zeros; a NaN block large enough that some pooling
    /// windows see only NaN sums (the unfused pooling gives −∞ there) and others a mix; and
    /// infinities (infinite and NaN sums).
    /// An image whose value at `(y, x, c)` is `f(y, x, c)`.
    fn image_from_fn<const H: usize, const W: usize, const C: usize, T: Scalar>(
        f: impl Fn(usize, usize, usize) -> T,
    ) -> Image<H, W, C, T> {
        let mut img = Image::<H, W, C, T>::default();
        for (i, v) in img.as_mut_slice().iter_mut().enumerate() {
            *v = f(i / C / W, i / C % W, i % C);
        }
        img
    }

    #[cfg(feature = "alloc")]
    fn edge_case_images<const H: usize, const W: usize, const C: usize>() -> std::vec::Vec<Image<H, W, C>> {
        let mut out = std::vec![random_image::<H, W, C>(21), random_image::<H, W, C>(22)];
        out.push(image_from_fn(|_, _, _| 0.25));
        out.push(image_from_fn(|y, x, c| if (y + x + c) % 3 == 0 { 1e4 } else { -1e4 }));
        out.push(image_from_fn(|y, x, _| if (y + x) % 2 == 0 { -0.0 } else { 0.0 }));
        let mut nan = random_image::<H, W, C>(23);
        for (i, v) in nan.as_mut_slice().iter_mut().enumerate() {
            let (y, x) = (i / C / W, i / C % W);
            if y < 7 && x < 7 {
                *v = f32::NAN;
            }
        }
        out.push(nan);
        let mut inf = random_image::<H, W, C>(24);
        for (i, v) in inf.as_mut_slice().iter_mut().enumerate() {
            if i % 37 == 0 {
                *v = if i % 2 == 0 { f32::INFINITY } else { f32::NEG_INFINITY };
            }
        }
        out.push(inf);
        out
    }

    /// The batched model (which pools before a monotonic activation) against the single-sample
    /// one (activation, then pooling, layer by layer): the same bits. Returns the outputs.
    #[cfg(feature = "alloc")]
    fn batched_equals_layer_by_layer<M, X, Y>(model: &M, xs: &[X]) -> std::vec::Vec<Y>
    where
        M: Layer<X, Out = Y>,
        X: Tensor,
        Y: Tensor,
        X::Elem: Into<f64>,
        Y::Elem: Into<f64>,
    {
        use crate::ForwardBatch;
        let mut ys = std::vec![Y::default(); xs.len()];
        model.forward_batch(xs, &mut ys).unwrap();
        for (x, y) in xs.iter().zip(&ys) {
            let single = model.forward(x);
            for (a, b) in y.as_slice().iter().zip(single.as_slice()) {
                let (a, b): (f64, f64) = ((*a).into(), (*b).into());
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "batched {a:e}, layer by layer {b:e}"
                );
            }
        }
        ys
    }

    static CALLS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

    /// The sigmoid, counting its calls; monotonic as promised when `M`.
    #[derive(Clone, Copy, Debug, Default)]
    struct Counted<const M: bool>;
    impl<const M: bool> Activation for Counted<M> {
        const MONOTONIC: bool = M;
        fn f<T: num_traits::Float>(x: T) -> T {
            CALLS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            Sigmoid::f(x)
        }
        fn df<T: num_traits::Float>(x: T) -> T {
            Sigmoid::df(x)
        }
    }

    /// `Conv2D` with a monotonic activation, then `MaxPool2D`: the batched forward pass pools
    /// first — bit for bit the layer-by-layer result, ties, saturation, signed zeros, NaN and
    /// infinite sums included — and calls the activation once per window.
    #[cfg(feature = "alloc")]
    #[test]
    fn pooling_before_a_monotonic_activation_gives_the_same_bits() {
        use crate::layer::MaxPool2D;
        // 12×13 → 10×11 → 5×5: the pooling drops the last column.
        let conv: Conv2D<2, 8, 3, Sigmoid> = Conv2D::init(&mut SeedRng::seed(11));
        let model = (conv.clone(), MaxPool2D::<2>);
        let xs = edge_case_images::<12, 13, 2>();
        let ys = batched_equals_layer_by_layer(&model, &xs);
        let all: std::vec::Vec<f32> = ys.iter().flat_map(|y| y.as_slice().iter().copied()).collect();
        assert!(all.contains(&f32::NEG_INFINITY), "no all-NaN window was pooled");
        assert!(all.contains(&1.0) && all.contains(&0.0), "the sigmoid did not saturate");
        // A rectangular window, strides and the identity (also monotonic).
        let rect: Conv2DRect<2, 4, 2, 3, Identity, 1, 2> = Conv2D::init(&mut SeedRng::seed(12));
        batched_equals_layer_by_layer(&(rect, MaxPool2D::<3, 2>), &xs);
        // f64, and the seed model's shapes.
        let conv64: Conv2D<1, 32, 3, Sigmoid, 1, Valid, f64> = Conv2D::init(&mut SeedRng::seed(13));
        let xs64: std::vec::Vec<Image<28, 28, 1, f64>> = edge_case_images::<28, 28, 1>()
            .iter()
            .map(|x| image_from_fn(|y, c, k| f64::from(x.as_array()[y][c][k])))
            .collect();
        batched_equals_layer_by_layer(&(conv64, MaxPool2D::<2>), &xs64);

        // One activation per window (5·5·8 per image) instead of one per pixel (10·11·8).
        let xs = [random_image::<12, 13, 2>(30)];
        for (monotonic, calls) in [(true, 5 * 5 * 8), (false, 10 * 11 * 8)] {
            CALLS.store(0, core::sync::atomic::Ordering::Relaxed);
            if monotonic {
                let m = (Conv2D::<2, 8, 3, Counted<true>>::new(conv.kernel, conv.bias), MaxPool2D::<2>);
                crate::ForwardBatch::forward_batch(&m, &xs, &mut [Image::default()]).unwrap();
            } else {
                let m = (Conv2D::<2, 8, 3, Counted<false>>::new(conv.kernel, conv.bias), MaxPool2D::<2>);
                crate::ForwardBatch::forward_batch(&m, &xs, &mut [Image::default()]).unwrap();
            }
            assert_eq!(CALLS.load(core::sync::atomic::Ordering::Relaxed), calls, "monotonic: {monotonic}");
        }
    }
}
