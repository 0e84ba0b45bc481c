//! [`Conv2D`]: 2-D convolution (Keras' cross-correlation) over channels-last images, with
//! [`Valid`] or [`Same`] padding.

use core::marker::PhantomData;

use rand_core::Rng;

use crate::activation::{Activation, Fusion, Identity};
use crate::init::glorot_uniform;
use crate::layer::{rows, rows_mut};
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::shape::rules::ConvInput;
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// No padding: the kernel only visits positions where it fits, so each side shrinks to
/// `⌊(H − K)/S⌋ + 1`. Keras' default (`padding="valid"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Valid;

/// Zero padding so that each side becomes `⌈H/S⌉`. The total padding
/// `max((out − 1)·S + K − H, 0)` is split with the smaller half before (top/left) and any odd
/// row or column after (bottom/right), exactly as Keras (and TF/XLA `"SAME"`) do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Same;

/// A padding mode: [`Valid`] or [`Same`].
pub trait Padding: Copy + Default + 'static + sealed::Sealed {
    /// Keras' spelling, `"valid"` or `"same"`.
    const NAME: &'static str;
    /// Zero rows (or columns) added before the image on an axis of `side`, for `out` outputs.
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize;
}

impl Padding for Valid {
    const NAME: &'static str = "valid";
    fn before(_side: usize, _out: usize, _k: usize, _s: usize) -> usize {
        0
    }
}

impl Padding for Same {
    const NAME: &'static str = "same";
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize {
        (out.saturating_sub(1).saturating_mul(s).saturating_add(k)).saturating_sub(side) / 2
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Valid {}
    impl Sealed for super::Same {}
}

/// A 2-D convolution with `CO` filters of size `K × K` over `CI` input channels:
/// `z[y][x][o] = b[o] + Σ_{ky, kx, c} in[y·S + ky − pt][x·S + kx − pl][c] · kernel[ky][kx][c][o]`,
/// then `out = act(z)` (applied per pixel over the channels, as Keras applies it to the last
/// axis). Out-of-image positions read zeros (padding).
///
/// The output size is computed by the compiler from the input's: a `Conv2D<1, 32, 3>` turns
/// an `Image<28, 28, 1>` into an `Image<26, 26, 32>`, and a kernel larger than the image, or
/// an image with the wrong channel count, is a compile error.
///
/// **Keras equivalent:** `keras.layers.Conv2D(CO, (K, K), strides=S, padding=..., activation=...)`
/// on channels-last input. The kernel has Keras' layout `(kh, kw, in, out)`, so Keras'
/// `get_weights()` maps onto `(kernel, bias)` unchanged; PyTorch's `Conv2d.weight` is
/// `(out, in, kh, kw)`. Like Keras (and unlike the textbook convolution) the kernel is not
/// flipped.
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
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None for one sample (`forward` needs the output image on the stack); the batched path
/// (feature `alloc`) uses an im2col buffer from its scratch space.
///
/// Generic parameters:
/// - `CI`: input channels; `CO`: filters (output channels); `K`: kernel side;
/// - `A`: the [`Activation`], [`Identity`] by default;
/// - `S`: stride, 1 by default; `P`: [`Valid`] (default) or [`Same`] padding;
/// - `T`: the scalar type, `f32` by default.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2D<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A = Identity,
    const S: usize = 1,
    P = Valid,
    T = f32,
> {
    /// Weights, `kernel[ky][kx][c][o]` (Keras layout `(kh, kw, in, out)`).
    pub kernel: [[[[T; CO]; CI]; K]; K],
    /// One bias per filter.
    pub bias: [T; CO],
    config: PhantomData<(A, P)>,
}

impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, T> Conv2D<CI, CO, K, A, S, P, T> {
    /// A layer with the given kernel (Keras layout `(kh, kw, in, out)`) and bias; `const`, so
    /// a trained layer can live in a `static`.
    pub const fn new(kernel: [[[[T; CO]; CI]; K]; K], bias: [T; CO]) -> Self {
        Self { kernel, bias, config: PhantomData }
    }
}

/// `const` decoding from a byte image, one impl per float type.
macro_rules! conv_from_bytes {
    ($T:ty, $read:ident) => {
        impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P> Conv2D<CI, CO, K, A, S, P, $T> {
            /// The layer whose parameters start at byte `offset` of a little-endian image (kernel
            /// in Keras layout `(kh, kw, in, out)`, then bias), decoded at compile time when used
            /// in a `const` or `static`; see [`model_from_le_bytes!`](crate::model_from_le_bytes).
            /// Values past the end of `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            #[allow(clippy::indexing_slicing)] // `while` loops bounded by the array lengths; no iterators in const fn
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                const N: usize = core::mem::size_of::<$T>();
                let mut layer = Self::new([[[[0.0; CO]; CI]; K]; K], [0.0; CO]);
                let mut at = offset;
                let mut ky = 0;
                while ky < K {
                    let mut kx = 0;
                    while kx < K {
                        let mut c = 0;
                        while c < CI {
                            let mut o = 0;
                            while o < CO {
                                layer.kernel[ky][kx][c][o] = crate::io::bytes::$read(bytes, at);
                                at += N;
                                o += 1;
                            }
                            c += 1;
                        }
                        kx += 1;
                    }
                    ky += 1;
                }
                let mut o = 0;
                while o < CO {
                    layer.bias[o] = crate::io::bytes::$read(bytes, at);
                    at += N;
                    o += 1;
                }
                layer
            }
        }
    };
}
conv_from_bytes!(f32, f32_at);
conv_from_bytes!(f64, f64_at);

impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, T: Scalar> crate::io::bytes::ConstLoad
    for Conv2D<CI, CO, K, A, S, P, T>
{
    const BYTES: usize = (K * K * CI * CO + CO) * T::BYTES;
}

impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, T: Scalar> Default
    for Conv2D<CI, CO, K, A, S, P, T>
{
    /// All-zero weights and biases.
    fn default() -> Self {
        Self::new([[[[T::zero(); CO]; CI]; K]; K], [T::zero(); CO])
    }
}

impl<const CI: usize, const CO: usize, const K: usize, A: Activation, const S: usize, P: Padding, T: Scalar> Params<T>
    for Conv2D<CI, CO, K, A, S, P, T>
{
    const PARAMS: usize = K * K * CI * CO + CO;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        [self.kernel.as_flattened().as_flattened().as_flattened(), &self.bias[..]].into_iter()
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut(), &mut self.bias[..]].into_iter()
    }

    /// Glorot-uniform kernel with Keras' conv fans (`fan_in = K·K·CI`, `fan_out = K·K·CO`),
    /// zero bias.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let kernel = self.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        glorot_uniform(rng, K * K * CI, K * K * CO, kernel);
        self.bias = [T::zero(); CO];
    }

    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let kernel = ParamShape::ConvKernel { k: K, inputs: CI, outputs: CO };
        visit(&ParamSpec { layer: walk.layer, name: "kernel", shape: kernel });
        visit(&ParamSpec { layer: walk.layer, name: "bias", shape: ParamShape::Vector(CO) });
        walk.end_layer(Some(CO));
    }
}

/// The sizes of one convolution, from the layer's and the input's types.
#[derive(Clone, Copy)]
struct Geometry {
    h: usize,
    w: usize,
    ho: usize,
    wo: usize,
    /// Padding rows above and columns left of the image.
    top: usize,
    left: usize,
}

impl<const CI: usize, const CO: usize, const K: usize, A: Activation, const S: usize, P: Padding, T: Scalar>
    Conv2D<CI, CO, K, A, S, P, T>
{
    /// Scalars per im2col row: one receptive field, `K·K·CI`.
    #[cfg(feature = "alloc")]
    const PATCH: usize = K * K * CI;

    fn geometry<X: ConvInput<CI, CO, K, S, P, T>>() -> Geometry {
        let ((h, w), (ho, wo)) = (X::HW, X::OUT_HW);
        Geometry { h, w, ho, wo, top: P::before(h, ho, K, S), left: P::before(w, wo, K, S) }
    }

    /// Calls `visit(ky, kx, pixel_start)` for every kernel tap of output pixel `(oy, ox)` that
    /// lands inside the image (padding taps are skipped: they read zeros).
    #[inline(always)]
    fn taps(g: Geometry, oy: usize, ox: usize, mut visit: impl FnMut(usize, usize, usize)) {
        for ky in 0..K {
            let Some(iy) = (oy * S + ky).checked_sub(g.top).filter(|&iy| iy < g.h) else { continue };
            for kx in 0..K {
                let Some(ix) = (ox * S + kx).checked_sub(g.left).filter(|&ix| ix < g.w) else { continue };
                visit(ky, kx, (iy * g.w + ix) * CI);
            }
        }
    }

    /// `z = conv(x) + b` for one image, directly (no im2col): for each output pixel, an `axpy`
    /// over the `CO` filters per input value.
    fn convolve(&self, g: Geometry, x: &[T], z: &mut [T]) {
        for (p, zpix) in rows_mut(z, CO, g.ho * g.wo).enumerate() {
            zpix.copy_from_slice(&self.bias);
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let (Some(xpix), Some(kk)) = (x.get(start..start + CI), self.kernel.get(ky).and_then(|r| r.get(kx)))
                else {
                    return;
                };
                for (&xc, kc) in xpix.iter().zip(kk) {
                    for (zo, &w) in zpix.iter_mut().zip(kc) {
                        *zo += xc * w;
                    }
                }
            });
        }
    }

    /// Backward of the convolution for one image given `dz`: `∂b += Σ dz`,
    /// `∂kernel[ky][kx][c][o] += Σ x[..][c]·dz[..][o]`, and `dx` (zeroed first) `+= kernel·dz`.
    fn convolve_backward(&self, g: Geometry, x: &[T], dz: &[T], grad: &mut Self, mut dx: Option<&mut [T]>) {
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(T::zero());
        }
        for (p, dzpix) in rows(dz, CO, g.ho * g.wo).enumerate() {
            for (gb, &d) in grad.bias.iter_mut().zip(dzpix) {
                *gb += d;
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

    /// The im2col matrix of one image: row `oy·WO + ox` holds the `K·K·CI` input values under
    /// the kernel at that output pixel (zeros for padding), in the kernel's `(ky, kx, c)`
    /// order, so that `Z = patches · kernel` with the kernel as a `(K·K·CI) × CO` matrix.
    #[cfg(feature = "alloc")]
    fn im2col(g: Geometry, x: &[T], patches: &mut [T]) {
        for (p, row) in rows_mut(patches, Self::PATCH, g.ho * g.wo).enumerate() {
            row.fill(T::zero());
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let at = (ky * K + kx) * CI;
                if let (Some(dst), Some(src)) = (row.get_mut(at..at + CI), x.get(start..start + CI)) {
                    dst.copy_from_slice(src);
                }
            });
        }
    }

    /// The adjoint of [`im2col`](Self::im2col): adds each patch value back onto the input
    /// pixel it came from (`dx` must be zeroed by the caller).
    #[cfg(feature = "alloc")]
    fn col2im(g: Geometry, patches: &[T], dx: &mut [T]) {
        for (p, row) in rows(patches, Self::PATCH, g.ho * g.wo).enumerate() {
            Self::taps(g, p / g.wo.max(1), p % g.wo.max(1), |ky, kx, start| {
                let at = (ky * K + kx) * CI;
                if let (Some(src), Some(dst)) = (row.get(at..at + CI), dx.get_mut(start..start + CI)) {
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d += s;
                    }
                }
            });
        }
    }

    /// `Z = im2col(X)·kernel + b` for `n` images in one GEMM; `patches` receives the im2col
    /// matrices (`n·HO·WO` rows).
    #[cfg(feature = "alloc")]
    fn convolve_batch(&self, g: Geometry, n: usize, xs: &[T], patches: &mut [T], zs: &mut [T]) {
        use crate::kernel::gemm::{Dims, Strided, gemm};
        let pixels = g.ho * g.wo;
        for (x, p) in rows(xs, g.h * g.w * CI, n).zip(rows_mut(patches, pixels * Self::PATCH, n)) {
            Self::im2col(g, x, p);
        }
        let rows_total = n * pixels;
        for zpix in rows_mut(zs, CO, rows_total) {
            zpix.copy_from_slice(&self.bias);
        }
        let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
        let dims = Dims { m: rows_total, k: Self::PATCH, n: CO };
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

impl<X, const CI: usize, const CO: usize, const K: usize, A: Activation, const S: usize, P: Padding, T: Scalar> Layer<X>
    for Conv2D<CI, CO, K, A, S, P, T>
where
    X: ConvInput<CI, CO, K, S, P, T>,
{
    type Out = X::Out;
    const NAME: &'static str = "Conv2D";

    fn forward(&self, x: &X) -> X::Out {
        let mut out = X::Out::default();
        self.convolve(Self::geometry::<X>(), x.as_slice(), out.as_mut_slice());
        for pixel in rows_mut(out.as_mut_slice(), CO, X::Out::LEN / CO.max(1)) {
            A::apply_fast(pixel);
        }
        out
    }

    #[cfg(feature = "alloc")]
    fn batch_scratch_len(n: usize) -> usize {
        n.saturating_mul(X::Out::LEN / CO.max(1)).saturating_mul(Self::PATCH)
    }

    /// im2col + one GEMM for the whole batch, then the activation per pixel.
    #[cfg(feature = "alloc")]
    fn forward_batch_flat(&self, n: usize, xs: &[T], ys: &mut [T], scratch: &mut [T]) {
        let g = Self::geometry::<X>();
        self.convolve_batch(g, n, xs, scratch, ys);
        for pixel in rows_mut(ys, CO, n * g.ho * g.wo) {
            A::apply_fast(pixel);
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
impl<X, const CI: usize, const CO: usize, const K: usize, A: Activation, const S: usize, P: Padding, T: Scalar>
    Backward<X> for Conv2D<CI, CO, K, A, S, P, T>
where
    X: ConvInput<CI, CO, K, S, P, T>,
{
    type Cache = ConvCache<X::Out>;
    const FUSION: Fusion = Fusion::None;

    fn forward_train(&self, x: &X) -> (X::Out, ConvCache<X::Out>) {
        let mut z = X::Out::default();
        self.convolve(Self::geometry::<X>(), x.as_slice(), z.as_mut_slice());
        let mut y = z.clone();
        for pixel in rows_mut(y.as_mut_slice(), CO, X::Out::LEN / CO.max(1)) {
            A::apply_fast(pixel);
        }
        (y, ConvCache { z })
    }

    fn backward(&self, x: &X, cache: &ConvCache<X::Out>, dy: &X::Out, grad: &mut Self, dx: Option<&mut X>) {
        let mut dz = X::Out::default();
        let pixels = X::Out::LEN / CO.max(1);
        let rows_iter = rows(cache.z.as_slice(), CO, pixels).zip(rows(dy.as_slice(), CO, pixels));
        for ((z, dy), dz) in rows_iter.zip(rows_mut(dz.as_mut_slice(), CO, pixels)) {
            let mut y = [T::zero(); CO];
            y.copy_from_slice(z);
            A::apply_fast(&mut y);
            A::backprop(z, &y, dy, dz);
        }
        self.convolve_backward(Self::geometry::<X>(), x.as_slice(), dz.as_slice(), grad, dx.map(|d| d.as_mut_slice()));
    }

    #[cfg(feature = "alloc")]
    fn train_cache_len(n: usize) -> usize {
        // im2col patches, then Z, then Y.
        let pixels = n.saturating_mul(X::Out::LEN / CO.max(1));
        pixels.saturating_mul(Self::PATCH).saturating_add(pixels.saturating_mul(2 * CO))
    }

    #[cfg(feature = "alloc")]
    fn train_scratch_len(n: usize) -> usize {
        // dZ, then the patch gradients for dX.
        let pixels = n.saturating_mul(X::Out::LEN / CO.max(1));
        pixels.saturating_mul(CO).saturating_add(pixels.saturating_mul(Self::PATCH))
    }

    #[cfg(feature = "alloc")]
    fn forward_train_batch_flat(&self, n: usize, xs: &[T], ys: &mut [T], cache: &mut [T], _scratch: &mut [T]) {
        let g = Self::geometry::<X>();
        let pixels = n * g.ho * g.wo;
        let Some((patches, rest)) = cache.split_at_mut_checked(pixels * Self::PATCH) else { return };
        let Some((zs, rest)) = rest.split_at_mut_checked(pixels * CO) else { return };
        let (Some(y_cache), Some(ys)) = (rest.get_mut(..pixels * CO), ys.get_mut(..pixels * CO)) else { return };
        self.convolve_batch(g, n, xs, patches, zs);
        ys.copy_from_slice(zs);
        for pixel in rows_mut(ys, CO, pixels) {
            A::apply_fast(pixel);
        }
        y_cache.copy_from_slice(ys);
    }

    /// `dZ` per pixel, then `∂kernel += Pᵀ·dZ` and `dP = dZ·kernelᵀ` (two GEMMs over all
    /// `n·HO·WO` pixels), and `dX = col2im(dP)`.
    #[cfg(feature = "alloc")]
    fn backward_batch_flat(
        &self,
        n: usize,
        _xs: &[T],
        cache: &[T],
        dys: &[T],
        grad: &mut Self,
        dxs: Option<&mut [T]>,
        logits: bool,
        scratch: &mut [T],
    ) {
        use crate::kernel::gemm::{Dims, Strided, gemm};
        let g = Self::geometry::<X>();
        let pixels = n * g.ho * g.wo;
        let Some((patches, rest)) = cache.split_at_checked(pixels * Self::PATCH) else { return };
        let (Some(zs), Some(ys), Some(dys)) =
            (rest.get(..pixels * CO), rest.get(pixels * CO..2 * pixels * CO), dys.get(..pixels * CO))
        else {
            return;
        };
        let Some((dz_buf, rest)) = scratch.split_at_mut_checked(pixels * CO) else { return };
        let dzs: &[T] = if logits {
            dys
        } else {
            let rows_iter = rows(zs, CO, pixels).zip(rows(ys, CO, pixels)).zip(rows(dys, CO, pixels));
            for (((z, y), dy), dz) in rows_iter.zip(rows_mut(dz_buf, CO, pixels)) {
                A::backprop(z, y, dy, dz);
            }
            dz_buf
        };
        for dz in rows(dzs, CO, pixels) {
            for (gb, &d) in grad.bias.iter_mut().zip(dz) {
                *gb += d;
            }
        }
        let gk = grad.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        let dk = Dims { m: Self::PATCH, k: pixels, n: CO };
        let _ =
            gemm(dk, T::one(), Strided::transposed(patches, Self::PATCH), Strided::row_major(dzs, CO), T::one(), gk);
        if let Some(dxs) = dxs {
            let Some(dp) = rest.get_mut(..pixels * Self::PATCH) else { return };
            let kernel = self.kernel.as_flattened().as_flattened().as_flattened();
            let dims = Dims { m: pixels, k: CO, n: Self::PATCH };
            let _ = gemm(dims, T::one(), Strided::row_major(dzs, CO), Strided::transposed(kernel, CO), T::zero(), dp);
            dxs.fill(T::zero());
            let in_len = g.h * g.w * CI;
            for (dp, dx) in rows(dp, g.ho * g.wo * Self::PATCH, n).zip(rows_mut(dxs, in_len, n)) {
                Self::col2im(g, dp, dx);
            }
        }
    }
}
