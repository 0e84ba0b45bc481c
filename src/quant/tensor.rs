//! int8 tensors: [`QVector<N>`], [`QImage<H, W, C>`] and [`QFlat<H, W, C>`], the int8 twins of
//! [`Vector`], [`Image`] and [`Flat`]. They hold only the `i8` values; the scale and zero point
//! that give them a real meaning belong to the layers on either side (see [`QuantParams`]).

use core::fmt::Debug;

use crate::shape::{Flat, Image, Vector};
use crate::{Tensor, Vector as FVector};

/// The affine map between a real number and an int8 step: `real = scale · (q − zero_point)`.
///
/// TFLite stores one per activation tensor (per-tensor quantization); weights have one scale
/// per output channel and a zero point of 0 (see [`QDense`](super::QDense)).
///
/// # Examples
/// ```
/// use typed_nn::quant::QuantParams;
/// let p = QuantParams { scale: 1.0 / 255.0, zero_point: -128 };
/// assert_eq!(p.quantize(0.0), -128);
/// assert_eq!(p.quantize(1.0), 127);
/// assert_eq!(p.quantize(2.0), 127); // saturates
/// assert!((p.dequantize(127) - 1.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantParams {
    /// Real value of one step; positive and finite in every model typed-nn accepts.
    pub scale: f32,
    /// The int8 value that stands for 0.0.
    pub zero_point: i32,
}

impl Default for QuantParams {
    /// Scale 1, zero point 0.
    fn default() -> Self {
        Self { scale: 1.0, zero_point: 0 }
    }
}

impl QuantParams {
    /// TFLite's (and its converter's) quantization of a real value:
    /// `clamp(round(x / scale) + zero_point, −128, 127)`, rounding half away from zero.
    pub fn quantize(self, x: f32) -> i8 {
        let q = super::requant::round_f32_saturating(x / self.scale) + i64::from(self.zero_point);
        q.clamp(-128, 127) as i8
    }

    /// The real value an int8 step stands for: `scale · (q − zero_point)`.
    pub fn dequantize(self, q: i8) -> f32 {
        self.scale * (i32::from(q) - self.zero_point) as f32
    }
}

/// A fixed-size tensor of `i8` values: the values that flow between int8 layers.
///
/// Implemented by [`QVector`], [`QImage`] and [`QFlat`] (sealed). Each is the int8 twin of a
/// float tensor, [`Float`](Int8Tensor::Float), with the same shape and memory order.
pub trait Int8Tensor: Clone + Debug + Default + PartialEq + Send + Sync + 'static + sealed::Sealed {
    /// The float tensor of the same shape (`Vector<N>` for `QVector<N>`, ...).
    type Float: Tensor<Elem = f32>;
    /// Number of values.
    const LEN: usize;
    /// All values in memory order (channels-last for images).
    fn as_slice(&self) -> &[i8];
    /// All values, mutable.
    fn as_mut_slice(&mut self) -> &mut [i8];

    /// A tensor holding a copy of `values`, or `None` if `values.len() != LEN`.
    fn from_slice(values: &[i8]) -> Option<Self> {
        if values.len() != Self::LEN {
            return None;
        }
        let mut t = Self::default();
        t.as_mut_slice().copy_from_slice(values);
        Some(t)
    }

    /// Quantizes a float tensor of the same shape with `params`.
    fn quantize(x: &Self::Float, params: QuantParams) -> Self {
        let mut q = Self::default();
        for (d, &v) in q.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *d = params.quantize(v);
        }
        q
    }

    /// The real values these steps stand for under `params`.
    fn dequantize(&self, params: QuantParams) -> Self::Float {
        let mut f = Self::Float::default();
        for (d, &v) in f.as_mut_slice().iter_mut().zip(self.as_slice()) {
            *d = params.dequantize(v);
        }
        f
    }
}

/// The int8 twin of a float tensor type: `Int8Of<Vector<10>>` is `QVector<10>`.
pub trait HasInt8: Tensor<Elem = f32> {
    /// The int8 tensor of the same shape.
    type Int8: Int8Tensor<Float = Self>;
}

/// The int8 tensor of the same shape as the float tensor `X`.
pub type Int8Of<X> = <X as HasInt8>::Int8;

mod sealed {
    pub trait Sealed {}
    impl<const N: usize> Sealed for super::QVector<N> {}
    impl<const H: usize, const W: usize, const C: usize> Sealed for super::QImage<H, W, C> {}
    impl<const H: usize, const W: usize, const C: usize> Sealed for super::QFlat<H, W, C> {}
}

/// `N` int8 values: the input and output of an int8 `Dense`.
///
/// # Examples
/// ```
/// use typed_nn::quant::QVector;
/// let v: QVector<3> = QVector::new([1, -2, 3]);
/// assert_eq!(v.as_array(), &[1, -2, 3]);
/// assert_eq!(v.argmax(), 2);
/// ```
///
/// # Allocation
/// None: `N` bytes inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct QVector<const N: usize>([i8; N]);

impl<const N: usize> QVector<N> {
    /// Wraps an array; usable in `const` items.
    pub const fn new(values: [i8; N]) -> Self {
        Self(values)
    }

    /// The values as an array.
    pub const fn as_array(&self) -> &[i8; N] {
        &self.0
    }

    /// The values as a mutable array: where an int8 layer's `forward_into` writes.
    #[inline(always)]
    pub(crate) fn as_mut_array(&mut self) -> &mut [i8; N] {
        &mut self.0
    }

    /// The index of the largest value (the first on ties): the predicted class of a classifier,
    /// since quantization keeps the order of the real outputs.
    pub fn argmax(&self) -> usize {
        let mut best = 0;
        for (i, &v) in self.0.iter().enumerate() {
            if self.0.get(best).is_some_and(|&b| v > b) {
                best = i;
            }
        }
        best
    }
}

impl<const N: usize> Default for QVector<N> {
    fn default() -> Self {
        Self([0; N])
    }
}

impl<const N: usize> From<[i8; N]> for QVector<N> {
    fn from(values: [i8; N]) -> Self {
        Self(values)
    }
}

impl<const N: usize> Int8Tensor for QVector<N> {
    type Float = Vector<N>;
    const LEN: usize = N;
    #[inline(always)]
    fn as_slice(&self) -> &[i8] {
        &self.0
    }
    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [i8] {
        &mut self.0
    }
}

impl<const N: usize> HasInt8 for FVector<N> {
    type Int8 = QVector<N>;
}

/// An `H × W` int8 image with `C` channels, channels-last like [`Image`].
///
/// # Allocation
/// None: `H·W·C` bytes inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct QImage<const H: usize, const W: usize, const C: usize>([[[i8; C]; W]; H]);

impl<const H: usize, const W: usize, const C: usize> QImage<H, W, C> {
    /// Wraps nested arrays (rows, columns, channels); usable in `const` items.
    pub const fn new(pixels: [[[i8; C]; W]; H]) -> Self {
        Self(pixels)
    }

    /// The pixels as nested arrays.
    pub const fn as_array(&self) -> &[[[i8; C]; W]; H] {
        &self.0
    }

    /// The pixels as mutable nested arrays: where an int8 layer's `forward_into` writes.
    #[inline(always)]
    pub(crate) fn as_mut_array(&mut self) -> &mut [[[i8; C]; W]; H] {
        &mut self.0
    }
}

impl<const H: usize, const W: usize, const C: usize> Default for QImage<H, W, C> {
    fn default() -> Self {
        Self([[[0; C]; W]; H])
    }
}

impl<const H: usize, const W: usize, const C: usize> Int8Tensor for QImage<H, W, C> {
    type Float = Image<H, W, C>;
    const LEN: usize = H * W * C;
    #[inline(always)]
    fn as_slice(&self) -> &[i8] {
        self.0.as_flattened().as_flattened()
    }
    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [i8] {
        self.0.as_flattened_mut().as_flattened_mut()
    }
}

impl<const H: usize, const W: usize, const C: usize> HasInt8 for Image<H, W, C> {
    type Int8 = QImage<H, W, C>;
}

/// The `H·W·C` values of a [`QImage`] as one vector, Keras' flatten order: what an int8
/// `Flatten` (TFLite's `RESHAPE`) produces, and what an int8 `Dense<H·W·C, ..>` takes.
///
/// # Allocation
/// None: the image's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct QFlat<const H: usize, const W: usize, const C: usize>(QImage<H, W, C>);

impl<const H: usize, const W: usize, const C: usize> From<QImage<H, W, C>> for QFlat<H, W, C> {
    fn from(image: QImage<H, W, C>) -> Self {
        Self(image)
    }
}

impl<const H: usize, const W: usize, const C: usize> Int8Tensor for QFlat<H, W, C> {
    type Float = Flat<H, W, C>;
    const LEN: usize = H * W * C;
    #[inline(always)]
    fn as_slice(&self) -> &[i8] {
        self.0.as_slice()
    }
    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [i8] {
        self.0.as_mut_slice()
    }
}

impl<const H: usize, const W: usize, const C: usize> HasInt8 for Flat<H, W, C> {
    type Int8 = QFlat<H, W, C>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_rounds_half_away_from_zero_and_saturates() {
        let p = QuantParams { scale: 0.5, zero_point: 3 };
        let rows = [(0.0, 3), (0.25, 4), (-0.25, 2), (0.74, 4), (0.75, 5), (100.0, 127), (-100.0, -128)];
        for (x, want) in rows {
            assert_eq!(p.quantize(x), want, "{x}");
        }
        assert_eq!(p.dequantize(5), 1.0);
    }

    #[test]
    fn tensors_round_trip_through_their_float_twins() {
        let p = QuantParams { scale: 0.25, zero_point: -1 };
        let x: Image<1, 2, 2> = [[[0.0, 0.25], [-0.5, 1.0]]].into();
        let q = QImage::<1, 2, 2>::quantize(&x, p);
        assert_eq!(q.as_slice(), &[-1, 0, -3, 3]);
        assert_eq!(q.dequantize(p), x);
        assert_eq!(QFlat::<1, 2, 2>::from(q).as_slice(), q.as_slice());
        assert_eq!(QVector::<2>::from_slice(&[1, 2]), Some(QVector::new([1, 2])));
        assert_eq!(QVector::<2>::from_slice(&[1]), None);
        assert_eq!(QVector::new([3, 7, 7, -1]).argmax(), 1);
    }
}
