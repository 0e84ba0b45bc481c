//! [`QFlatten`]: an int8 image as one vector (TFLite `RESHAPE`).

use super::image::{Int8Bytes, Int8ImageError, Reader, Writer, const_try};
use super::layer::QLayer;
use super::pool::shared_params_image;
use super::tensor::{Int8Tensor, QFlat, QImage, QuantParams};
use crate::layer::{Flatten, Layer};
use crate::seal::Seal;
use crate::shape::{Flat, Image};

/// The int8 form of [`Flatten`]: the same bytes seen as an `H·W·C` vector, in
/// Keras' (channels-last) order. Input and output share one quantization.
///
/// **TFLite equivalent:** `RESHAPE` to `[1, H·W·C]`. Exact.
///
/// # Allocation
/// None; 8 bytes (the shared quantization).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QFlatten {
    /// Quantization of the input and the output (TFLite requires them equal).
    pub params: QuantParams,
}

shared_params_image!(QFlatten);

impl<const H: usize, const W: usize, const C: usize> QLayer<QImage<H, W, C>> for QFlatten
where
    Flatten: Layer<Image<H, W, C>, Out = Flat<H, W, C>>,
{
    type Out = QFlat<H, W, C>;
    const PARAM_BYTES: usize = 0;

    #[inline]
    fn forward(&self, x: &QImage<H, W, C>) -> QFlat<H, W, C> {
        QFlat::from(*x)
    }

    /// One copy of the bytes, into `out`.
    #[inline]
    fn forward_into(&self, _: Seal, x: &QImage<H, W, C>, out: &mut QFlat<H, W, C>) {
        out.as_mut_slice().copy_from_slice(x.as_slice());
    }

    fn input_params(&self) -> QuantParams {
        self.params
    }

    fn output_params(&self) -> QuantParams {
        self.params
    }
}

impl<const H: usize, const W: usize, const C: usize> QFlat<H, W, C> {
    /// The values as a slice (`H·W·C` of them).
    pub fn values(&self) -> &[i8] {
        self.as_slice()
    }
}
