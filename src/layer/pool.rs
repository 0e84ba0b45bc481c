//! Pooling: [`MaxPool2D`], [`AvgPool2D`] (a `P × PW` window, square by default, with strides
//! equal to the window and no padding) and [`GlobalAvgPool2D`].

use num_traits::One;

use crate::layer::{Seal, rows, rows_mut};
use crate::shape::rules::{ImageInput, PoolInput};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// Max pooling over `P × PW` windows (`P × P` unless `PW` is given) with strides equal to the
/// window: `out[y][x][c]` is the largest `in[y·P + i][x·PW + j][c]` for `i < P`, `j < PW`. The
/// height becomes `⌊(H − P)/P⌋ + 1` and the width `⌊(W − PW)/PW⌋ + 1` (26 → 13, 5 → 2: a
/// leftover row or column is dropped, as in Keras). A window larger than the image in either
/// direction is a compile error.
///
/// The gradient flows only to the maximum of each window (the first one on a tie).
///
/// **Keras equivalent:** `keras.layers.MaxPooling2D((P, PW))` (strides default to the pool
/// size, `padding="valid"`).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 4, 1> = [[[1.0], [5.0], [2.0], [0.0]], [[3.0], [4.0], [8.0], [6.0]]].into();
/// let out: Image<1, 2, 1> = MaxPool2D::<2>.forward(&img);
/// assert_eq!(out.as_slice(), &[5.0, 8.0]);
/// // A 1×4 window: the maximum of each row.
/// let rows: Image<2, 1, 1> = MaxPool2D::<1, 4>.forward(&img);
/// assert_eq!(rows.as_slice(), &[5.0, 8.0]);
/// ```
///
/// # Allocation
/// None; no parameters.
///
/// Generic parameters: `P`, the window's height (and width); `PW`, its width, `P` by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "MaxPooling2D")]
pub struct MaxPool2D<const P: usize, const PW: usize = P>;

/// Average pooling over `P × PW` windows (`P × P` unless `PW` is given) with strides equal to
/// the window: the mean of each window. Sides shrink like [`MaxPool2D`]'s; the gradient is
/// spread evenly, `dy/(P·PW)` to each input of the window.
///
/// **Keras equivalent:** `keras.layers.AveragePooling2D((P, PW))` (`padding="valid"`).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 2, 1> = [[[1.0], [2.0]], [[3.0], [6.0]]].into();
/// let out: Image<1, 1, 1> = AvgPool2D::<2>.forward(&img);
/// assert_eq!(out.as_slice(), &[3.0]);
/// // DS-CNN's last pooling: a 25×5 window averages its whole 25×5 feature map.
/// let pooled: Image<1, 1, 64> = AvgPool2D::<25, 5>.forward(&Image::<25, 5, 64>::default());
/// # let _ = pooled;
/// ```
///
/// # Allocation
/// None; no parameters.
///
/// Generic parameters: `P`, the window's height (and width); `PW`, its width, `P` by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "AveragePooling2D")]
pub struct AvgPool2D<const P: usize, const PW: usize = P>;

/// Global average pooling: the mean of each channel over the whole image,
/// `Image<H, W, C>` → `Vector<C>`.
///
/// **Keras equivalent:** `keras.layers.GlobalAveragePooling2D()` (`keepdims=False`).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<1, 2, 2> = [[[1.0, 10.0], [3.0, 20.0]]].into();
/// let out: Vector<2> = GlobalAvgPool2D.forward(&img);
/// assert_eq!(out.as_slice(), &[2.0, 15.0]);
/// ```
///
/// # Allocation
/// None; no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "GlobalAveragePooling2D")]
pub struct GlobalAvgPool2D;

/// Parameterless layers read nothing from a byte image (see
/// [`model_from_le_bytes!`](crate::model_from_le_bytes)).
macro_rules! no_bytes {
    ($($Layer:ident $(<$($P:ident),+>)?),*) => {$(
        impl<$($(const $P: usize),+)?> $Layer$(<$($P),+>)? {
            /// This layer has no parameters: `Self`, whatever the bytes.
            pub const fn from_le_bytes_at(_bytes: &[u8], _offset: usize) -> Self {
                Self
            }
        }
        impl<$($(const $P: usize),+)?> crate::io::bytes::ConstLoad for $Layer$(<$($P),+>)? {
            const BYTES: usize = 0;
        }
        impl<$($(const $P: usize,)+)? S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S> for $Layer$(<$($P),+>)? {
            const DECODED: Self = Self;
        }
    )*};
}
no_bytes!(MaxPool2D<P, PW>, AvgPool2D<P, PW>, GlobalAvgPool2D);
pub(crate) use no_bytes;

impl<const P: usize, const PW: usize, T: Scalar> Params<T> for MaxPool2D<P, PW> {}
impl<const P: usize, const PW: usize, T: Scalar> Params<T> for AvgPool2D<P, PW> {}

/// Its output is a vector, not an image.
impl<T: Scalar> Params<T> for GlobalAvgPool2D {
    fn describe_params(walk: &mut crate::params::ParamWalk, _visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        walk.end_layer(None);
    }
}

/// Channels per block in the pooling kernels: one AVX2 vector of `f32`.
const LANES: usize = 8;

/// Channels per block in the forward pooling kernel ([`Windows::reduce`]), before the
/// [`LANES`]-wide blocks: 64 `f32` accumulators are four AVX-512 or eight AVX2 registers,
/// independent of each other, so a window's additions are not one chain of dependent adds per
/// vector. Each channel's values are still combined one window position after the other, in
/// the same order as in a narrower block: the block width changes no result.
#[cfg(target_arch = "x86_64")]
const WIDE: usize = 64;
/// No wide blocks where no wide vector unit was measured: on the Cortex-M4F the 64-wide block
/// made DS-CNN's `.text` 3.7 KB (15%) larger for no fewer instructions.
#[cfg(not(target_arch = "x86_64"))]
const WIDE: usize = 0;

/// The sizes of one pooling layer's input and output.
#[derive(Clone, Copy)]
struct Windows {
    w: usize,
    c: usize,
    ho: usize,
    wo: usize,
    /// Window height and width (also the strides).
    ph: usize,
    pw: usize,
}

impl Windows {
    fn of<X: PoolInput<P, PW>, const P: usize, const PW: usize>() -> Self {
        let ((_, w, c), (ho, wo)) = (X::HWC, X::OUT_HW);
        Self { w, c, ho, wo, ph: P, pw: PW }
    }

    /// Positions in a window.
    #[inline(always)]
    fn size(self) -> usize {
        self.ph * self.pw
    }

    /// Flat index of the first channel of input pixel `(oy·PH + j / PW, ox·PW + j % PW)`:
    /// window position `j` (row-major) of output pixel `(oy, ox)`.
    #[inline(always)]
    fn start(self, oy: usize, ox: usize, j: usize) -> usize {
        let pw = self.pw.max(1);
        ((oy * self.ph + j / pw) * self.w + ox * pw + j % pw) * self.c
    }

    /// Runs `block(oy, ox, ch, lanes)` over every output pixel and every block of channels:
    /// blocks of [`LANES`] and then single channels. The kernels below take `L` as a const
    /// generic and keep a block in a local array (registers), so each is written once for
    /// both block widths.
    #[inline(always)]
    fn blocks(self, block: impl FnMut(usize, usize, usize, usize)) {
        self.blocks_from(0, block);
    }

    /// [`blocks`](Self::blocks) with, first, blocks of `wide` channels (a multiple of
    /// [`LANES`]; `0` for none).
    #[inline(always)]
    fn blocks_from(self, wide: usize, mut block: impl FnMut(usize, usize, usize, usize)) {
        let wide_end = self.c.checked_div(wide).unwrap_or(0) * wide;
        let full = self.c / LANES * LANES;
        for oy in 0..self.ho {
            for ox in 0..self.wo {
                for ch in (0..wide_end).step_by(wide.max(1)) {
                    block(oy, ox, ch, wide);
                }
                for ch in (wide_end..full).step_by(LANES) {
                    block(oy, ox, ch, LANES);
                }
                for ch in full..self.c {
                    block(oy, ox, ch, 1);
                }
            }
        }
    }

    /// Each window reduced per channel: its max (`MAX`) or its mean. Blocks of [`WIDE`]
    /// channels first, then of [`LANES`], then single channels; every block visits its
    /// window's positions in the same (row-major) order.
    #[inline(always)] // the sizes are the layer's constants once inlined
    fn reduce<T: Scalar, const MAX: bool>(self, x: &[T], y: &mut [T]) {
        self.blocks_from(WIDE, |oy, ox, ch, lanes| match lanes {
            WIDE => self.reduce_block::<T, MAX, WIDE>(x, y, oy, ox, ch),
            LANES => self.reduce_block::<T, MAX, LANES>(x, y, oy, ox, ch),
            _ => self.reduce_block::<T, MAX, 1>(x, y, oy, ox, ch),
        });
    }

    #[inline(always)]
    fn reduce_block<T: Scalar, const MAX: bool, const L: usize>(
        self,
        x: &[T],
        y: &mut [T],
        oy: usize,
        ox: usize,
        ch: usize,
    ) {
        let mut m = [if MAX { T::neg_infinity() } else { T::zero() }; L];
        // Window row `r`, column `col`: position `j = r·PW + col` of [`start`](Self::start),
        // in the same order, without its division.
        for r in 0..self.ph {
            let row = ((oy * self.ph + r) * self.w + ox * self.pw) * self.c + ch;
            for col in 0..self.pw {
                let start = row + col * self.c;
                let Some(src) = x.get(start..start + L) else { continue };
                for (m, &v) in m.iter_mut().zip(src) {
                    *m = if !MAX {
                        *m + v
                    } else if v > *m {
                        v
                    } else {
                        *m
                    };
                }
            }
        }
        let out = (oy * self.wo + ox) * self.c + ch;
        let Some(dst) = y.get_mut(out..out + L) else { return };
        let scale = T::one() / T::lit(self.size().max(1) as f64);
        for (d, &m) in dst.iter_mut().zip(&m) {
            *d = if MAX { m } else { m * scale };
        }
    }

    /// [`reduce`](Self::reduce) for the max, also recording which window position (0..P·PW,
    /// row-major, stored as a float) held each maximum. The first maximum wins ties, as in
    /// Keras/XLA, whose backward pass keeps the first in a select-and-scatter.
    #[inline(always)] // the sizes are the layer's constants once inlined
    fn max_forward_argmax<T: Scalar>(self, x: &[T], y: &mut [T], argmax: &mut [T]) {
        self.blocks(|oy, ox, ch, lanes| match lanes {
            LANES => self.argmax_block::<T, LANES>(x, y, argmax, oy, ox, ch),
            _ => self.argmax_block::<T, 1>(x, y, argmax, oy, ox, ch),
        });
    }

    #[inline(always)]
    fn argmax_block<T: Scalar, const L: usize>(
        self,
        x: &[T],
        y: &mut [T],
        argmax: &mut [T],
        oy: usize,
        ox: usize,
        ch: usize,
    ) {
        let (mut m, mut idx) = ([T::neg_infinity(); L], [T::zero(); L]);
        for j in 0..self.size() {
            let start = self.start(oy, ox, j) + ch;
            let Some(src) = x.get(start..start + L) else { continue };
            let position = T::lit(j as f64);
            // Written as arithmetic, not `if`: two selects on one condition made LLVM branch
            // instead of vectorise, and a branch on activations mispredicts (9× slower on
            // seed model 2).
            for ((m, i), &v) in m.iter_mut().zip(idx.iter_mut()).zip(src) {
                let better = T::lit(f64::from(u8::from(v > *m)));
                *i += better * (position - *i);
                *m = m.max(v);
            }
        }
        let out = (oy * self.wo + ox) * self.c + ch;
        if let (Some(dst), Some(arg)) = (y.get_mut(out..out + L), argmax.get_mut(out..out + L)) {
            dst.copy_from_slice(&m);
            arg.copy_from_slice(&idx);
        }
    }

    /// The backward pass given the argmax positions: each output's gradient goes to the input
    /// element its window's maximum came from. Windows do not overlap (the stride is the
    /// window), so every window position is written, not accumulated; `dx` is zeroed first
    /// for the rows and columns no window covers.
    #[inline(always)] // the sizes are the layer's constants once inlined
    fn max_scatter<T: Scalar>(self, argmax: &[T], dy: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        self.blocks(|oy, ox, ch, lanes| match lanes {
            LANES => self.scatter_block::<T, LANES>(argmax, dy, dx, oy, ox, ch),
            _ => self.scatter_block::<T, 1>(argmax, dy, dx, oy, ox, ch),
        });
    }

    #[inline(always)]
    fn scatter_block<T: Scalar, const L: usize>(
        self,
        argmax: &[T],
        dy: &[T],
        dx: &mut [T],
        oy: usize,
        ox: usize,
        ch: usize,
    ) {
        let out = (oy * self.wo + ox) * self.c + ch;
        let (Some(idx), Some(g)) = (argmax.get(out..out + L), dy.get(out..out + L)) else { return };
        let (mut idx_block, mut g_block) = ([T::zero(); L], [T::zero(); L]);
        idx_block.copy_from_slice(idx);
        g_block.copy_from_slice(g);
        for j in 0..self.size() {
            let start = self.start(oy, ox, j) + ch;
            let Some(dst) = dx.get_mut(start..start + L) else { continue };
            let position = T::lit(j as f64);
            for ((d, &i), &g) in dst.iter_mut().zip(&idx_block).zip(&g_block) {
                *d = g * T::lit(f64::from(u8::from(i == position)));
            }
        }
    }

    /// Single-sample backward: recompute the argmax into temporaries the size of the output.
    fn max_backward<T: Scalar, Y: Tensor<Elem = T>>(self, x: &[T], dy: &[T], dx: &mut [T]) {
        let (mut y, mut argmax) = (Y::default(), Y::default());
        self.max_forward_argmax(x, y.as_mut_slice(), argmax.as_mut_slice());
        self.max_scatter(argmax.as_slice(), dy, dx);
    }

    #[inline(always)] // the sizes are the layer's constants once inlined
    fn avg_backward<T: Scalar>(self, dy: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        let c = self.c;
        let inv = T::one() / T::lit(self.size() as f64);
        for oy in 0..self.ho {
            for ox in 0..self.wo {
                let out = (oy * self.wo + ox) * c;
                let Some(src) = dy.get(out..out + c) else { return };
                for j in 0..self.size() {
                    let start = self.start(oy, ox, j);
                    if let Some(dst) = dx.get_mut(start..start + c) {
                        for (d, &g) in dst.iter_mut().zip(src) {
                            *d += g * inv;
                        }
                    }
                }
            }
        }
    }
}

/// A batch of pooling forward passes, run on the widest vector unit (see
/// [`Vectorized`](crate::kernel::simd::Vectorized)). The input type is a type parameter, not
/// a runtime size, so the sizes stay constants inside the CPU-specific copy.
struct PoolRows<'a, X: Tensor, const P: usize, const PW: usize, const MAX: bool> {
    n: usize,
    xs: &'a [X::Elem],
    ys: &'a mut [X::Elem],
}

impl<X: PoolInput<P, PW>, const P: usize, const PW: usize, const MAX: bool> crate::kernel::simd::Vectorized
    for PoolRows<'_, X, P, PW, MAX>
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let w = Windows::of::<X, P, PW>();
        for (x, y) in rows(self.xs, X::LEN, self.n).zip(rows_mut(self.ys, X::Out::LEN, self.n)) {
            w.reduce::<X::Elem, MAX>(x, y);
        }
    }
}

/// A training batch's max pooling with argmax, on the widest vector unit.
struct ArgmaxRows<'a, X: Tensor, const P: usize, const PW: usize> {
    n: usize,
    xs: &'a [X::Elem],
    ys: &'a mut [X::Elem],
    argmax: &'a mut [X::Elem],
}

impl<X: PoolInput<P, PW>, const P: usize, const PW: usize> crate::kernel::simd::Vectorized
    for ArgmaxRows<'_, X, P, PW>
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let w = Windows::of::<X, P, PW>();
        let (len, out_len) = (X::LEN, X::Out::LEN);
        let rows_iter = rows(self.xs, len, self.n).zip(rows_mut(self.ys, out_len, self.n));
        for ((x, y), argmax) in rows_iter.zip(rows_mut(self.argmax, out_len, self.n)) {
            w.max_forward_argmax(x, y, argmax);
        }
    }
}

/// A training batch's max-pooling backward pass, on the widest vector unit.
struct ScatterRows<'a, X: Tensor, const P: usize, const PW: usize> {
    n: usize,
    argmax: &'a [X::Elem],
    dys: &'a [X::Elem],
    dxs: &'a mut [X::Elem],
}

impl<X: PoolInput<P, PW>, const P: usize, const PW: usize> crate::kernel::simd::Vectorized
    for ScatterRows<'_, X, P, PW>
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let w = Windows::of::<X, P, PW>();
        let (len, out_len) = (X::LEN, X::Out::LEN);
        let rows_iter = rows(self.argmax, out_len, self.n).zip(rows(self.dys, out_len, self.n));
        for ((argmax, dy), dx) in rows_iter.zip(rows_mut(self.dxs, len, self.n)) {
            w.max_scatter(argmax, dy, dx);
        }
    }
}

/// Implements `Layer` for a windowed pooling layer: `MAX` picks max or average pooling.
macro_rules! pooling {
    ($Layer:ident, $name:literal, max = $max:literal) => {
        impl<X: PoolInput<P, PW>, const P: usize, const PW: usize> Layer<X> for $Layer<P, PW> {
            type Out = X::Out;
            const NAME: &'static str = $name;

            #[inline(always)]
            fn max_pool_window(_: Seal) -> Option<(usize, usize)> {
                if $max { Some((P, PW)) } else { None }
            }

            fn forward(&self, x: &X) -> X::Out {
                let mut y = X::Out::default();
                <Self as Layer<X>>::forward_batch_flat(self, Seal, 1, x.as_slice(), y.as_mut_slice(), &mut []);
                y
            }

            /// The kernel writes every output.
            #[inline]
            fn forward_into(&self, _: Seal, x: &X, out: &mut X::Out) {
                <Self as Layer<X>>::forward_batch_flat(self, Seal, 1, x.as_slice(), out.as_mut_slice(), &mut []);
            }

            fn forward_batch_flat(
                &self,
                _: Seal,
                n: usize,
                xs: &[X::Elem],
                ys: &mut [X::Elem],
                _scratch: &mut [X::Elem],
            ) {
                crate::kernel::simd::dispatch(PoolRows::<X, P, PW, $max> { n, xs, ys });
            }
        }
    };
}

pooling!(MaxPool2D, "MaxPooling2D", max = true);
pooling!(AvgPool2D, "AveragePooling2D", max = false);

/// The gradient flows to each window's maximum. One sample recomputes the argmax from the
/// input; a batch records it in the forward pass (one position per output, in the cache) so
/// the backward pass is a plain scatter.
impl<X: PoolInput<P, PW>, const P: usize, const PW: usize> Backward<X> for MaxPool2D<P, PW> {
    type Cache = ();

    fn chunkable(_: Seal) -> bool {
        true
    }

    fn forward_train(&self, x: &X) -> (X::Out, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, x: &X, _cache: &(), dy: &X::Out, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            Windows::of::<X, P, PW>().max_backward::<X::Elem, X::Out>(x.as_slice(), dy.as_slice(), dx.as_mut_slice());
        }
    }

    fn train_cache_len(_: Seal, n: usize) -> usize {
        n.saturating_mul(X::Out::LEN)
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        cache: &mut [X::Elem],
        _scratch: &mut [X::Elem],
    ) {
        crate::kernel::simd::dispatch(ArgmaxRows::<X, P, PW> { n, xs, ys, argmax: cache });
    }

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        _xs: &[X::Elem],
        _ys: &[X::Elem],
        cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let Some(dxs) = dxs else { return };
        crate::kernel::simd::dispatch(ScatterRows::<X, P, PW> { n, argmax: cache, dys, dxs });
    }
}

/// Each input of a window receives `dy/(P·PW)`; the backward pass needs nothing from the
/// forward.
impl<X: PoolInput<P, PW>, const P: usize, const PW: usize> Backward<X> for AvgPool2D<P, PW> {
    type Cache = ();

    fn forward_train(&self, x: &X) -> (X::Out, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, _x: &X, _cache: &(), dy: &X::Out, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            Windows::of::<X, P, PW>().avg_backward(dy.as_slice(), dx.as_mut_slice());
        }
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        _cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        <Self as Layer<X>>::forward_batch_flat(self, Seal, n, xs, ys, scratch);
    }

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        _xs: &[X::Elem],
        _ys: &[X::Elem],
        _cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let Some(dxs) = dxs else { return };
        let w = Windows::of::<X, P, PW>();
        for (dy, dx) in rows(dys, X::Out::LEN, n).zip(rows_mut(dxs, X::LEN, n)) {
            w.avg_backward(dy, dx);
        }
    }
}

impl<X: ImageInput> Layer<X> for GlobalAvgPool2D {
    type Out = X::Channels;
    const NAME: &'static str = "GlobalAveragePooling2D";

    fn forward(&self, x: &X) -> X::Channels {
        let (h, w, c) = X::HWC;
        let mut y = X::Channels::default();
        let inv = X::Elem::one() / X::Elem::lit((h * w) as f64);
        for pixel in rows(x.as_slice(), c, h * w) {
            for (acc, &v) in y.as_mut_slice().iter_mut().zip(pixel) {
                *acc += v;
            }
        }
        for v in y.as_mut_slice() {
            *v *= inv;
        }
        y
    }
}

impl<X: ImageInput> Backward<X> for GlobalAvgPool2D {
    type Cache = ();

    fn forward_train(&self, x: &X) -> (X::Channels, ()) {
        (self.forward(x), ())
    }

    /// Every pixel of channel `c` receives `dy[c] / (H·W)`.
    fn backward(&self, _x: &X, _cache: &(), dy: &X::Channels, _grad: &mut Self, dx: Option<&mut X>) {
        let Some(dx) = dx else { return };
        let (h, w, c) = X::HWC;
        let inv = X::Elem::one() / X::Elem::lit((h * w) as f64);
        for pixel in rows_mut(dx.as_mut_slice(), c, h * w) {
            for (d, &g) in pixel.iter_mut().zip(dy.as_slice()) {
                *d = g * inv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Image;

    #[test]
    fn max_pool_drops_the_leftover_row_and_column_like_keras() {
        // 5 → 2: the last row and column are not visited.
        let img: Image<5, 5, 1, f64> =
            Image::from(core::array::from_fn(|i| core::array::from_fn(|j| [(i * 5 + j) as f64])));
        let out: Image<2, 2, 1, f64> = MaxPool2D::<2>.forward(&img);
        assert_eq!(out.as_slice(), &[6.0, 8.0, 16.0, 18.0]);
    }

    #[test]
    fn max_pool_backward_routes_gradient_to_the_argmax() {
        let img: Image<2, 2, 2, f64> = [[[1.0, -4.0], [7.0, -1.0]], [[3.0, -2.0], [0.0, -3.0]]].into();
        let mut dx = Image::default();
        MaxPool2D::<2>.backward(&img, &(), &Image::from([[[10.0, 20.0]]]), &mut MaxPool2D, Some(&mut dx));
        assert_eq!(dx.as_slice(), &[0.0, 0.0, 10.0, 20.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn rectangular_windows_pool_rows_and_columns_separately() {
        // 3×5 values 0..15; a 2×3 window: one row of windows (the last row dropped) and one
        // column of windows (the last two columns dropped).
        let img: Image<3, 5, 1, f64> =
            Image::from(core::array::from_fn(|i| core::array::from_fn(|j| [(i * 5 + j) as f64])));
        let max: Image<1, 1, 1, f64> = MaxPool2D::<2, 3>.forward(&img);
        assert_eq!(max.as_slice(), &[7.0]);
        let avg: Image<1, 1, 1, f64> = AvgPool2D::<2, 3>.forward(&img);
        assert_eq!(avg.as_slice(), &[(0.0 + 1.0 + 2.0 + 5.0 + 6.0 + 7.0) / 6.0]);
        // A 3×1 window: a column maximum per column, all five kept.
        let cols: Image<1, 5, 1, f64> = MaxPool2D::<3, 1>.forward(&img);
        assert_eq!(cols.as_slice(), &[10.0, 11.0, 12.0, 13.0, 14.0]);
        let mut dx = Image::default();
        AvgPool2D::<2, 3>.backward(&img, &(), &Image::from([[[6.0]]]), &mut AvgPool2D, Some(&mut dx));
        let expected: [f64; 15] = core::array::from_fn(|p| if p % 5 < 3 && p / 5 < 2 { 1.0 } else { 0.0 });
        assert_eq!(dx.as_slice(), &expected);
    }

    #[test]
    fn average_pool_backward_spreads_the_gradient_evenly() {
        let img: Image<2, 2, 1, f64> = Image::default();
        let mut dx = Image::default();
        AvgPool2D::<2>.backward(&img, &(), &Image::from([[[8.0]]]), &mut AvgPool2D, Some(&mut dx));
        assert_eq!(dx.as_slice(), &[2.0; 4]);
    }
}

#[cfg(test)]
mod dispatch_tests {
    use super::*;
    use crate::init::{SeedRng, uniform01};
    use crate::kernel::simd::Vectorized;
    use crate::shape::Image;

    /// The dispatched pooling kernel and the portable one (`run::<false>`) give identical
    /// results: max and mean involve no fused arithmetic. 36 channels: four 8-wide blocks and
    /// a remainder.
    #[test]
    fn the_dispatched_and_portable_pooling_agree() {
        let mut rng = SeedRng::seed(5);
        let mut x: Image<7, 6, 36> = Image::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = uniform01(&mut rng) as f32 - 0.5);
        fn both<const MAX: bool>(x: &Image<7, 6, 36>) -> [Image<3, 3, 36>; 2] {
            let (mut fast, mut portable) = (Image::default(), Image::default());
            crate::kernel::simd::dispatch(PoolRows::<Image<7, 6, 36>, 2, 2, MAX> {
                n: 1,
                xs: x.as_slice(),
                ys: fast.as_mut_slice(),
            });
            PoolRows::<Image<7, 6, 36>, 2, 2, MAX> { n: 1, xs: x.as_slice(), ys: portable.as_mut_slice() }
                .run::<false>();
            [fast, portable]
        }
        let [fast, portable] = both::<true>(&x);
        assert_eq!(fast, portable);
        // Spot-check against the definition: output (1, 2), channel 35.
        let window = [(2, 4), (2, 5), (3, 4), (3, 5)].map(|(i, j)| x.as_slice()[(i * 6 + j) * 36 + 35]);
        assert_eq!(fast.as_slice()[(3 + 2) * 36 + 35], window.into_iter().fold(f32::NEG_INFINITY, f32::max));
        let [fast, portable] = both::<false>(&x);
        assert_eq!(fast, portable);
        assert!((fast.as_slice()[(3 + 2) * 36 + 35] - window.iter().sum::<f32>() / 4.0).abs() < 1e-6);
    }

    /// With 75 channels (on x86-64 a [`WIDE`] block of 64, then one of 8 and 3 single
    /// channels) over 3 × 2 windows, both kernels give, bit for bit, each channel's window
    /// values combined one position after the other in row-major order (then times 1/6 for the
    /// mean): the wide block changes no result, and the order Keras-parity tests were written
    /// against stays.
    #[test]
    fn wide_channel_blocks_pool_in_window_order() {
        const C: usize = 75;
        let mut rng = SeedRng::seed(6);
        let mut x: Image<7, 5, C> = Image::default();
        x.as_mut_slice().iter_mut().for_each(|v| *v = uniform01(&mut rng) as f32 - 0.5);
        let xs = x.as_slice();
        for max in [false, true] {
            let mut expected = [0.0f32; 2 * 2 * C];
            for (oy, ox, ch) in (0..2).flat_map(|oy| (0..2).flat_map(move |ox| (0..C).map(move |ch| (oy, ox, ch)))) {
                let mut acc = if max { f32::NEG_INFINITY } else { 0.0 };
                for (i, j) in (0..3).flat_map(|i| (0..2).map(move |j| (i, j))) {
                    let v = xs[((oy * 3 + i) * 5 + ox * 2 + j) * C + ch];
                    acc = if max { acc.max(v) } else { acc + v };
                }
                expected[(oy * 2 + ox) * C + ch] = if max { acc } else { acc * (1.0 / 6.0) };
            }
            let (mut fast, mut portable) = (Image::<2, 2, C>::default(), Image::<2, 2, C>::default());
            if max {
                crate::kernel::simd::dispatch(PoolRows::<Image<7, 5, C>, 3, 2, true> {
                    n: 1,
                    xs,
                    ys: fast.as_mut_slice(),
                });
                PoolRows::<Image<7, 5, C>, 3, 2, true> { n: 1, xs, ys: portable.as_mut_slice() }.run::<false>();
            } else {
                crate::kernel::simd::dispatch(PoolRows::<Image<7, 5, C>, 3, 2, false> {
                    n: 1,
                    xs,
                    ys: fast.as_mut_slice(),
                });
                PoolRows::<Image<7, 5, C>, 3, 2, false> { n: 1, xs, ys: portable.as_mut_slice() }.run::<false>();
            }
            for (i, e) in expected.iter().enumerate() {
                assert_eq!(fast.as_slice()[i].to_bits(), e.to_bits(), "max = {max}, output {i}");
                assert_eq!(portable.as_slice()[i].to_bits(), e.to_bits(), "max = {max}, output {i}");
            }
        }
    }
}
