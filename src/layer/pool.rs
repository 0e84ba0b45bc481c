//! Pooling: [`MaxPool2D`], [`AvgPool2D`] (a `P × P` window, stride `P`, no padding) and
//! [`GlobalAvgPool2D`].

use num_traits::One;

use crate::layer::{rows, rows_mut};
use crate::shape::rules::{ImageInput, PoolInput};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// Max pooling over `P × P` windows with stride `P`: `out[y][x][c]` is the largest
/// `in[y·P + i][x·P + j][c]` for `i, j < P`. Each side becomes `⌊(H − P)/P⌋ + 1` (26 → 13,
/// 5 → 2: a leftover row or column is dropped, as in Keras). A window larger than the image is
/// a compile error.
///
/// The gradient flows only to the maximum of each window (the first one on a tie).
///
/// **Keras equivalent:** `keras.layers.MaxPooling2D((P, P))` (strides default to the pool
/// size, `padding="valid"`).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 4, 1> = [[[1.0], [5.0], [2.0], [0.0]], [[3.0], [4.0], [8.0], [6.0]]].into();
/// let out: Image<1, 2, 1> = MaxPool2D::<2>.forward(&img);
/// assert_eq!(out.as_slice(), &[5.0, 8.0]);
/// ```
///
/// # Allocation
/// None; no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "MaxPooling2D")]
pub struct MaxPool2D<const P: usize>;

/// Average pooling over `P × P` windows with stride `P`: the mean of each window. Sides shrink
/// like [`MaxPool2D`]'s; the gradient is spread evenly, `dy/P²` to each input of the window.
///
/// **Keras equivalent:** `keras.layers.AveragePooling2D((P, P))` (`padding="valid"`).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let img: Image<2, 2, 1> = [[[1.0], [2.0]], [[3.0], [6.0]]].into();
/// let out: Image<1, 1, 1> = AvgPool2D::<2>.forward(&img);
/// assert_eq!(out.as_slice(), &[3.0]);
/// ```
///
/// # Allocation
/// None; no parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "AveragePooling2D")]
pub struct AvgPool2D<const P: usize>;

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
    ($($Layer:ident $(<$P:ident>)?),*) => {$(
        impl<$(const $P: usize)?> $Layer$(<$P>)? {
            /// This layer has no parameters: `Self`, whatever the bytes.
            pub const fn from_le_bytes_at(_bytes: &[u8], _offset: usize) -> Self {
                Self
            }
        }
        impl<$(const $P: usize)?> crate::io::bytes::ConstLoad for $Layer$(<$P>)? {
            const BYTES: usize = 0;
        }
    )*};
}
no_bytes!(MaxPool2D<P>, AvgPool2D<P>, GlobalAvgPool2D);
pub(crate) use no_bytes;

impl<const P: usize, T: Scalar> Params<T> for MaxPool2D<P> {}
impl<const P: usize, T: Scalar> Params<T> for AvgPool2D<P> {}

/// Its output is a vector, not an image.
impl<T: Scalar> Params<T> for GlobalAvgPool2D {
    fn describe_params(walk: &mut crate::params::ParamWalk, _visit: &mut impl FnMut(&crate::params::ParamSpec)) {
        walk.end_layer(None);
    }
}

/// The sizes of one pooling layer's input and output.
#[derive(Clone, Copy)]
struct Windows {
    w: usize,
    c: usize,
    ho: usize,
    wo: usize,
    p: usize,
}

/// The input pixels under one output pixel, as flat indices of their first channel.
#[derive(Clone, Copy)]
struct Window {
    at: Windows,
    oy: usize,
    ox: usize,
    k: usize,
}

impl Iterator for Window {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        let Windows { w, c, p, .. } = self.at;
        if self.k >= p * p {
            return None;
        }
        let (i, j) = (self.k / p, self.k % p);
        self.k += 1;
        Some(((self.oy * p + i) * w + self.ox * p + j) * c)
    }
}

impl Windows {
    fn of<X: PoolInput<P>, const P: usize>() -> Self {
        let ((_, w, c), (ho, wo)) = (X::HWC, X::OUT_HW);
        Self { w, c, ho, wo, p: P }
    }

    fn in_len<X: PoolInput<P>, const P: usize>() -> usize {
        X::LEN
    }

    /// For every output pixel, calls `visit(out_pixel_start, window)`: the flat index of its
    /// first channel, and an iterator over the first-channel indices of the `P × P` input
    /// pixels under it, row by row. A pixel's channels are contiguous, so callers loop over
    /// them innermost (and the compiler vectorises that loop).
    #[inline(always)]
    fn each_pixel(self, mut visit: impl FnMut(usize, Window)) {
        for oy in 0..self.ho {
            for ox in 0..self.wo {
                visit((oy * self.wo + ox) * self.c, Window { at: self, oy, ox, k: 0 });
            }
        }
    }

    /// Max of each window per channel; the first window pixel wins ties (as XLA's
    /// select-and-scatter, which Keras' JAX backend uses).
    fn max_forward<T: Scalar>(self, x: &[T], y: &mut [T]) {
        let c = self.c;
        self.each_pixel(|out, window| {
            let Some(dst) = y.get_mut(out..out + c) else { return };
            dst.fill(T::neg_infinity());
            for start in window {
                if let Some(src) = x.get(start..start + c) {
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = if v > *d { v } else { *d };
                    }
                }
            }
        });
    }

    fn max_backward<T: Scalar>(self, x: &[T], dy: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        let c = self.c;
        self.each_pixel(|out, window| {
            for ch in 0..c {
                let mut best: Option<(T, usize)> = None;
                for start in window {
                    if let Some(&v) = x.get(start + ch)
                        && best.is_none_or(|(b, _)| v > b)
                    {
                        best = Some((v, start + ch));
                    }
                }
                if let (Some((_, at)), Some(&d)) = (best, dy.get(out + ch))
                    && let Some(slot) = dx.get_mut(at)
                {
                    *slot += d;
                }
            }
        });
    }

    fn avg_forward<T: Scalar>(self, x: &[T], y: &mut [T]) {
        let c = self.c;
        let inv = T::one() / T::lit((self.p * self.p) as f64);
        self.each_pixel(|out, window| {
            let Some(dst) = y.get_mut(out..out + c) else { return };
            dst.fill(T::zero());
            for start in window {
                if let Some(src) = x.get(start..start + c) {
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d += v;
                    }
                }
            }
            for d in dst {
                *d *= inv;
            }
        });
    }

    fn avg_backward<T: Scalar>(self, dy: &[T], dx: &mut [T]) {
        dx.fill(T::zero());
        let c = self.c;
        let inv = T::one() / T::lit((self.p * self.p) as f64);
        self.each_pixel(|out, window| {
            let Some(src) = dy.get(out..out + c) else { return };
            for start in window {
                if let Some(dst) = dx.get_mut(start..start + c) {
                    for (d, &g) in dst.iter_mut().zip(src) {
                        *d += g * inv;
                    }
                }
            }
        });
    }
}

/// Implements `Layer` and `Backward` for a windowed pooling layer from its two kernels.
macro_rules! pooling {
    ($Layer:ident, $name:literal, forward = $fwd:ident, backward = |$w:ident, $x:ident, $dy:ident, $dx:ident| $bwd:expr) => {
        impl<X: PoolInput<P>, const P: usize> Layer<X> for $Layer<P> {
            type Out = X::Out;
            const NAME: &'static str = $name;

            fn forward(&self, x: &X) -> X::Out {
                let mut y = X::Out::default();
                Windows::of::<X, P>().$fwd(x.as_slice(), y.as_mut_slice());
                y
            }

            fn forward_batch_flat(&self, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], _scratch: &mut [X::Elem]) {
                let w = Windows::of::<X, P>();
                for (x, y) in rows(xs, Windows::in_len::<X, P>(), n).zip(rows_mut(ys, X::Out::LEN, n)) {
                    w.$fwd(x, y);
                }
            }
        }

        /// The input is all the backward pass needs: no cache.
        impl<X: PoolInput<P>, const P: usize> Backward<X> for $Layer<P> {
            type Cache = ();

            fn forward_train(&self, x: &X) -> (X::Out, ()) {
                (self.forward(x), ())
            }

            fn backward(&self, x: &X, _cache: &(), dy: &X::Out, _grad: &mut Self, dx: Option<&mut X>) {
                if let Some(dx) = dx {
                    let ($w, $x, $dy, $dx) = (Windows::of::<X, P>(), x.as_slice(), dy.as_slice(), dx.as_mut_slice());
                    $bwd
                }
            }

            fn forward_train_batch_flat(
                &self,
                n: usize,
                xs: &[X::Elem],
                ys: &mut [X::Elem],
                _cache: &mut [X::Elem],
                scratch: &mut [X::Elem],
            ) {
                <Self as Layer<X>>::forward_batch_flat(self, n, xs, ys, scratch);
            }

            fn backward_batch_flat(
                &self,
                n: usize,
                xs: &[X::Elem],
                _cache: &[X::Elem],
                dys: &[X::Elem],
                _grad: &mut Self,
                dxs: Option<&mut [X::Elem]>,
                _logits: bool,
                _scratch: &mut [X::Elem],
            ) {
                let Some(dxs) = dxs else { return };
                let in_len = Windows::in_len::<X, P>();
                let rows_iter = rows(xs, in_len, n).zip(rows(dys, X::Out::LEN, n));
                for (($x, $dy), $dx) in rows_iter.zip(rows_mut(dxs, in_len, n)) {
                    let $w = Windows::of::<X, P>();
                    $bwd
                }
            }
        }
    };
}

pooling!(MaxPool2D, "MaxPooling2D", forward = max_forward, backward = |w, x, dy, dx| w.max_backward(x, dy, dx));
pooling!(
    AvgPool2D,
    "AveragePooling2D",
    forward = avg_forward,
    backward = |w, x, dy, dx| {
        let _ = x;
        w.avg_backward(dy, dx)
    }
);

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
    fn average_pool_backward_spreads_the_gradient_evenly() {
        let img: Image<2, 2, 1, f64> = Image::default();
        let mut dx = Image::default();
        AvgPool2D::<2>.backward(&img, &(), &Image::from([[[8.0]]]), &mut AvgPool2D, Some(&mut dx));
        assert_eq!(dx.as_slice(), &[2.0; 4]);
    }
}
