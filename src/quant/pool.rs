//! int8 pooling: [`QMaxPool2D`], [`QAvgPool2D`] (TFLite `MAX_POOL_2D`, `AVERAGE_POOL_2D`) and
//! [`QGlobalAvgPool2D`] (TFLite `MEAN` over height and width).

use super::image::{Int8Bytes, Int8ImageError, Reader, Writer, const_try};
use super::layer::QLayer;
use super::requant::Requant;
use super::tensor::{QImage, QVector, QuantParams};
use crate::layer::{AvgPool2D, GlobalAvgPool2D, Layer, MaxPool2D};
use crate::seal::Seal;
use crate::shape::{Image, Vector};

/// The int8 form of [`MaxPool2D<P, PW>`](crate::MaxPool2D): the largest int8 value of each
/// `P × PW` window (`P × P` unless `PW` is given; stride the window, no padding). Quantization is
/// monotonic, so this is the quantized maximum; input and output share one scale and zero
/// point, as TFLite requires.
///
/// **TFLite equivalent:** `MAX_POOL_2D` with `filter_height = stride_h = P`,
/// `filter_width = stride_w = PW`, padding `VALID`, no fused activation. Exact: no rounding is
/// involved.
///
/// # Allocation
/// None; 8 bytes (the shared quantization).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QMaxPool2D<const P: usize, const PW: usize = P> {
    /// Quantization of the input and the output (TFLite requires them equal).
    pub params: QuantParams,
}

/// The int8 form of [`AvgPool2D<P, PW>`](crate::AvgPool2D): the mean of each `P × PW` window
/// (`P × P` unless `PW` is given) of int8 values, rounded to nearest with ties away from zero
/// (`(sum ± n/2) / n` with `n = P·PW`, C's truncating division), in and out sharing one
/// quantization.
///
/// **TFLite equivalent:** `AVERAGE_POOL_2D` with `filter_height = stride_h = P`,
/// `filter_width = stride_w = PW`, padding `VALID`, no fused activation; TFLite Micro and
/// LiteRT's reference kernels round the same way.
///
/// # Allocation
/// None; 8 bytes (the shared quantization).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QAvgPool2D<const P: usize, const PW: usize = P> {
    /// Quantization of the input and the output (TFLite requires them equal).
    pub params: QuantParams,
}

/// The int8 form of [`GlobalAvgPool2D`]: the mean of each channel.
///
/// **TFLite equivalent:** `MEAN` over axes 1 and 2 without `keep_dims` (what the converter makes
/// of Keras' `GlobalAveragePooling2D`). As in TFLite Micro: when input and output quantization
/// are equal, the int32 sum divided by `H·W` with C's truncation; otherwise
/// `z_out + M'·(sum − H·W·z_in)` where `M' = (s_in/s_out) / (H·W)` is folded into the fixed-point
/// multiplier (`multiplier · 2^k / (H·W)`, `k = ⌊log₂(H·W)⌋`, shift − k).
///
/// # Allocation
/// None; 24 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QGlobalAvgPool2D {
    /// Input quantization.
    pub input: QuantParams,
    /// Output quantization.
    pub output: QuantParams,
    requant: Requant,
}

impl QGlobalAvgPool2D {
    /// The layer for this input and output quantization (`s_in/s_out` as a fixed-point
    /// multiplier, as TFLite Micro's `Prepare` computes it).
    pub const fn new(input: QuantParams, output: QuantParams) -> Self {
        let requant = Requant::from_real(input.scale as f64 / output.scale as f64);
        Self { input, output, requant }
    }
}

/// The image of a layer whose input and output share one quantization: that scale and zero point.
macro_rules! shared_params_image {
    ($Layer:ident $(<$($P:ident),+>)?) => {
        impl<$($(const $P: usize),+)?> $Layer$(<$($P),+>)? {
            /// The layer whose [int8 image](super::image) (its scale and zero point) starts at
            /// byte `offset` of `bytes`, built in the compiler when used in a `const`.
            ///
            /// # Errors
            /// [`Int8ImageError`] for a scale that is not positive and finite or a zero point
            /// outside the int8 range.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
                let params = const_try!(Reader::new(bytes, offset).params());
                Ok(Self { params })
            }
        }

        impl<$($(const $P: usize),+)?> Int8Bytes for $Layer$(<$($P),+>)? {
            const IMAGE_BYTES: usize = 8;

            fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
                Writer::new(out, offset).params(self.params);
            }

            fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
                Self::from_le_bytes_at(bytes, offset)
            }
        }

        $crate::quant::image::leaf_from_image!([$($(const $P: usize),+)?] $Layer$(<$($P),+>)?);
    };
}
pub(crate) use shared_params_image;

shared_params_image!(QMaxPool2D<P, PW>);
shared_params_image!(QAvgPool2D<P, PW>);

impl QGlobalAvgPool2D {
    /// The layer whose [int8 image](super::image) (input, then output scale and zero point)
    /// starts at byte `offset` of `bytes`, built in the compiler when used in a `const`.
    ///
    /// # Errors
    /// [`Int8ImageError`] for a scale that is not positive and finite or a zero point outside
    /// the int8 range.
    pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        let mut r = Reader::new(bytes, offset);
        let input = const_try!(r.params());
        let output = const_try!(r.params());
        Ok(Self::new(input, output))
    }
}

super::image::leaf_from_image!([] QGlobalAvgPool2D);

impl Int8Bytes for QGlobalAvgPool2D {
    const IMAGE_BYTES: usize = 16;

    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
        let mut w = Writer::new(out, offset);
        w.params(self.input);
        w.params(self.output);
    }

    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
        Self::from_le_bytes_at(bytes, offset)
    }
}

impl<const H: usize, const W: usize, const C: usize, const P: usize, const PW: usize, const HO: usize, const WO: usize>
    QLayer<QImage<H, W, C>> for QMaxPool2D<P, PW>
where
    MaxPool2D<P, PW>: Layer<Image<H, W, C>, Out = Image<HO, WO, C>>,
{
    type Out = QImage<HO, WO, C>;
    const PARAM_BYTES: usize = 0;

    #[inline]
    fn forward(&self, x: &QImage<H, W, C>) -> QImage<HO, WO, C> {
        let mut out = QImage::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    fn forward_into(&self, _: Seal, x: &QImage<H, W, C>, out: &mut QImage<HO, WO, C>) {
        let x = x.as_array();
        for (oy, out_row) in out.as_mut_array().iter_mut().enumerate() {
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                *out_pixel = [i8::MIN; C];
                for row in x.iter().skip(oy * P).take(P) {
                    for pixel in row.iter().skip(ox * PW).take(PW) {
                        for (m, &v) in out_pixel.iter_mut().zip(pixel) {
                            *m = (*m).max(v);
                        }
                    }
                }
            }
        }
    }

    fn input_params(&self) -> QuantParams {
        self.params
    }

    fn output_params(&self) -> QuantParams {
        self.params
    }
}

impl<const H: usize, const W: usize, const C: usize, const P: usize, const PW: usize, const HO: usize, const WO: usize>
    QLayer<QImage<H, W, C>> for QAvgPool2D<P, PW>
where
    AvgPool2D<P, PW>: Layer<Image<H, W, C>, Out = Image<HO, WO, C>>,
{
    type Out = QImage<HO, WO, C>;
    const PARAM_BYTES: usize = 0;

    #[inline]
    fn forward(&self, x: &QImage<H, W, C>) -> QImage<HO, WO, C> {
        let mut out = QImage::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    fn forward_into(&self, _: Seal, x: &QImage<H, W, C>, out: &mut QImage<HO, WO, C>) {
        let x = x.as_array();
        let count = (P * PW) as i32;
        for (oy, out_row) in out.as_mut_array().iter_mut().enumerate() {
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                let mut sum = [0i32; C];
                for row in x.iter().skip(oy * P).take(P) {
                    for pixel in row.iter().skip(ox * PW).take(PW) {
                        for (s, &v) in sum.iter_mut().zip(pixel) {
                            *s += i32::from(v);
                        }
                    }
                }
                for (o, &s) in out_pixel.iter_mut().zip(&sum) {
                    *o = rounded_mean(s, count);
                }
            }
        }
    }

    fn input_params(&self) -> QuantParams {
        self.params
    }

    fn output_params(&self) -> QuantParams {
        self.params
    }
}

/// TFLite's average: `(sum + n/2) / n` for a positive sum, `(sum − n/2) / n` otherwise, with
/// C's truncating division (ties away from zero), clamped to int8.
#[inline(always)]
fn rounded_mean(sum: i32, n: i32) -> i8 {
    if n <= 0 {
        return 0;
    }
    let mean = if sum > 0 { (sum + n / 2) / n } else { (sum - n / 2) / n };
    mean.clamp(-128, 127) as i8
}

impl<const H: usize, const W: usize, const C: usize> QLayer<QImage<H, W, C>> for QGlobalAvgPool2D
where
    GlobalAvgPool2D: Layer<Image<H, W, C>, Out = Vector<C>>,
{
    type Out = QVector<C>;
    const PARAM_BYTES: usize = 8;

    #[inline]
    fn forward(&self, x: &QImage<H, W, C>) -> QVector<C> {
        let mut out = QVector::default();
        self.forward_into(Seal, x, &mut out);
        out
    }

    fn forward_into(&self, _: Seal, x: &QImage<H, W, C>, out: &mut QVector<C>) {
        let mut sum = [0i32; C];
        for pixel in x.as_array().as_flattened() {
            for (s, &v) in sum.iter_mut().zip(pixel) {
                *s = s.wrapping_add(i32::from(v));
            }
        }
        let n = (H * W) as i64;
        let out = out.as_mut_array();
        if n == 0 {
            // An empty image (which the float layer's shape rule refuses): zeros.
            out.fill(0);
            return;
        }
        if self.input == self.output {
            // reference_ops::Mean: the raw sum divided with truncation.
            for (o, &s) in out.iter_mut().zip(&sum) {
                *o = (i64::from(s) / n) as i8;
            }
        } else {
            // reference_ops::QuantizedMeanOrSum: 1/n folded into the multiplier.
            let k = (63 - (n as u64).leading_zeros() as i32).min(32).min(31 + self.requant.shift);
            let multiplier = ((i64::from(self.requant.multiplier) << k.max(0)) / n) as i32;
            let m = Requant { multiplier, shift: self.requant.shift - k };
            for (o, &s) in out.iter_mut().zip(&sum) {
                let shifted = (i64::from(s) - i64::from(self.input.zero_point) * n) as i32;
                *o = (m.apply(shifted).wrapping_add(self.output.zero_point)).clamp(-128, 127) as i8;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_rounds_ties_away_from_zero_with_truncating_division() {
        let rows = [(6, 4, 2), (5, 4, 1), (-6, 4, -2), (-5, 4, -1), (2, 4, 1), (-2, 4, -1), (1, 4, 0), (-1, 4, 0)];
        for (sum, n, want) in rows {
            assert_eq!(rounded_mean(sum, n), want, "{sum}/{n}");
        }
    }

    #[test]
    fn max_pool_takes_each_window_maximum() {
        let p = QuantParams { scale: 0.1, zero_point: 3 };
        let x = QImage::<2, 4, 1>::new([[[1], [5], [-2], [0]], [[3], [-4], [-8], [-6]]]);
        let y: QImage<1, 2, 1> = QMaxPool2D::<2> { params: p }.forward(&x);
        assert_eq!(y.as_array(), &[[[5], [0]]]);
        let y: QImage<1, 2, 1> = QAvgPool2D::<2> { params: p }.forward(&x);
        // (1 + 5 + 3 − 4)/4 = 1.25 → 1; (−2 + 0 − 8 − 6)/4 = −4.
        assert_eq!(y.as_array(), &[[[1], [-4]]]);
    }

    #[test]
    fn global_average_with_equal_quantization_truncates() {
        let p = QuantParams { scale: 0.1, zero_point: 0 };
        let x = QImage::<1, 2, 2>::new([[[1, -1], [2, -2]]]);
        let y: QVector<2> = QGlobalAvgPool2D::new(p, p).forward(&x);
        // 3/2 = 1 and −3/2 = −1 with C's truncation.
        assert_eq!(y.as_array(), &[1, -1]);
    }

    #[test]
    fn global_average_with_rescaling_folds_the_count_into_the_multiplier() {
        // s_in/s_out = 0.5 (multiplier 2³⁰, shift 0); n = 4, k = 2: multiplier 2³⁰·2²/4 = 2³⁰
        // with shift −2, i.e. 0.5/4 = 1/8 of the zero-point-free sum.
        let input = QuantParams { scale: 0.1, zero_point: -10 };
        let output = QuantParams { scale: 0.2, zero_point: 5 };
        let x = QImage::<2, 2, 1>::new([[[-10], [-2]], [[6], [14]]]);
        let y: QVector<1> = QGlobalAvgPool2D::new(input, output).forward(&x);
        // sum − 4·(−10) = 8 + 40 = 48; 48/8 = 6; + 5 = 11 (mean real 1.2 = 6 steps of 0.2).
        assert_eq!(y.as_array(), &[11]);
    }
}
