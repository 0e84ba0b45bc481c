//! The int8 byte image: an int8 model as little-endian bytes whose length is a constant of its
//! type, decoded by the compiler into a `static` with
//! [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes).
//!
//! *See the guide's [int8 chapter](crate::guide::ch08_int8) for the firmware pattern.* A
//! `.tflite` file is read with the `flatbuffers` runtime, which needs `alloc`, and checking it
//! against the type is work a microcontroller should not repeat at every boot. So firmware
//! checks the file on the build machine: its `build.rs` loads the `.tflite` into the model's
//! int8 type with the verifying loader ([`FromTflite`](crate::tflite::FromTflite)) and writes
//! [`Int8Bytes::to_le_bytes`]; the firmware bakes those bytes in with
//! [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes). A file that does not match
//! the type fails the build script; an image of the wrong length, or with an invalid scale or
//! zero point, does not compile.
//!
//! # Layout
//! Each layer in model order, no header, no padding; every value little-endian:
//!
//! | int8 layer | bytes |
//! |---|---|
//! | [`QDense<IN, OUT, A>`](super::QDense) | input scale (`f32`) and zero point (`i32`), output scale and zero point, softmax `β` (`f32`), `OUT` weight scales (`f32`), `OUT` biases (`i32`), the kernel (`OUT·IN` × `i8`, TFLite's `(out, in)` order): `20 + 8·OUT + IN·OUT` |
//! | [`QConv2D<CI, CO, K, .., KW, SW>`](super::QConv2D) | input and output scale and zero point, `CO` weight scales, `CO` biases, the kernel (`OHWI`): `16 + 8·CO + K·KW·CI·CO` |
//! | [`QDepthwiseConv2D<C, K, .., M, KW, SW>`](super::QDepthwiseConv2D) | input and output scale and zero point, `C·M` weight scales, `C·M` biases, the kernel (TFLite's `[1, K, KW, C·M]`): `16 + 8·C·M + K·KW·C·M` |
//! | [`QMaxPool2D`](super::QMaxPool2D), [`QAvgPool2D`](super::QAvgPool2D), [`QFlatten`](super::QFlatten) | the shared scale and zero point: 8 |
//! | [`QGlobalAvgPool2D`](super::QGlobalAvgPool2D) | input and output scale and zero point: 16 |
//! | [`QSkip`](super::QSkip) | the block input's scale and zero point: 8 |
//! | [`QResidual<F, S, A>`](super::QResidual) | `F`'s image, `S`'s, then the `ADD`'s input 1 (the shortcut's output), input 2 (the branch's) and output scale and zero point: `F + S + 24` |
//! | a tuple | its layers' images in order (tuples nest) |
//!
//! The image holds what the `.tflite` file holds, nothing derived: the requantization
//! multipliers and shifts, the clamp bounds and the softmax constants are computed by the same
//! `const fn` constructors the loader uses, in the compiler. So a baked model *equals* the
//! loaded one, field for field, and the image is smaller than [`PARAM_BYTES`](super::QLayer::PARAM_BYTES),
//! which counts those precomputed values too.
//!
//! # Examples
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::quant::{Int8, Int8Bytes, QLayer, QVector};
//! use typed_nn::tflite::FromTflite;
//!
//! type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
//! // On the build machine (build.rs): check the file against the type, write the image.
//! let file = include_bytes!("../../tests/fixtures/tflite/digits_mlp.tflite");
//! let loaded: Int8<Mlp> = Int8::<Mlp>::from_tflite::<QVector<64>>(file)?;
//! let image: Vec<u8> = loaded.to_le_bytes();
//! assert_eq!(image.len(), <Int8<Mlp> as Int8Bytes>::IMAGE_BYTES);
//! assert_eq!(image.len(), (20 + 8 * 32 + 64 * 32) + (20 + 8 * 10 + 32 * 10));
//! // In the firmware the image is a `static`, decoded at compile time (see the macro); at run
//! // time the same decoder checks it.
//! let back = Int8::<Mlp>::from_le_bytes(&image)?;
//! assert_eq!(back, loaded);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

use super::tensor::QuantParams;

/// Why an int8 byte image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Int8ImageError {
    /// The image (or output buffer) does not have exactly the model's
    /// [`IMAGE_BYTES`](Int8Bytes::IMAGE_BYTES).
    WrongLength {
        /// `IMAGE_BYTES` of the model type.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// The scale at byte `offset` is zero, negative, infinite or NaN.
    Scale {
        /// Byte offset of the scale in the image.
        offset: usize,
    },
    /// The zero point at byte `offset` is outside `−128..=127`.
    ZeroPoint {
        /// Byte offset of the zero point in the image.
        offset: usize,
    },
    /// The softmax's `β` (at byte `offset`) times its input scale is too small for TFLite's
    /// fixed-point softmax (`β·s ≤ 2⁻²⁶`), or not finite.
    Softmax {
        /// Byte offset of `β` in the image.
        offset: usize,
    },
}

impl Int8ImageError {
    /// A fixed sentence for the error, usable in a `const` context (where
    /// [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes) reports it as a compile error).
    pub const fn message(&self) -> &'static str {
        match self {
            Self::WrongLength { .. } => "the int8 image's length is not the model's IMAGE_BYTES",
            Self::Scale { .. } => "a scale in the int8 image is not positive and finite",
            Self::ZeroPoint { .. } => "a zero point in the int8 image is outside -128..=127",
            Self::Softmax { .. } => "the softmax's beta times its input scale is too small for TFLite's int8 softmax",
        }
    }
}

impl fmt::Display for Int8ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { expected, found } => write!(
                f,
                "the int8 image has {found} bytes but this model type has {expected}; was it written for another model?"
            ),
            Self::Scale { offset } | Self::ZeroPoint { offset } | Self::Softmax { offset } => {
                write!(f, "{} (byte {offset})", self.message())
            }
        }
    }
}

impl core::error::Error for Int8ImageError {}

/// Writes and reads the [int8 byte image](self); implemented by every int8 layer and by tuples
/// of them.
pub trait Int8Bytes: Sized {
    /// Bytes of the image, a constant of the type (see the [layout](self#layout)).
    const IMAGE_BYTES: usize;

    /// Writes this layer's image into `out` from byte `offset` on; `out` must hold
    /// `offset + IMAGE_BYTES` bytes (bytes past its end are dropped). Used by tuples; call
    /// [`write_le_bytes`](Int8Bytes::write_le_bytes).
    fn write_le_bytes_at(&self, out: &mut [u8], offset: usize);

    /// Decodes this layer from byte `offset` of `bytes` (zeros past its end). Used by tuples;
    /// call [`from_le_bytes`](Int8Bytes::from_le_bytes).
    ///
    /// # Errors
    /// [`Int8ImageError::Scale`], [`ZeroPoint`](Int8ImageError::ZeroPoint) or
    /// [`Softmax`](Int8ImageError::Softmax) for invalid quantization.
    fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError>;

    /// Writes the image into `out`, which must be exactly `IMAGE_BYTES` long.
    ///
    /// # Errors
    /// [`Int8ImageError::WrongLength`] if `out` has another length (nothing is written).
    fn write_le_bytes(&self, out: &mut [u8]) -> Result<(), Int8ImageError> {
        if out.len() != Self::IMAGE_BYTES {
            return Err(Int8ImageError::WrongLength { expected: Self::IMAGE_BYTES, found: out.len() });
        }
        self.write_le_bytes_at(out, 0);
        Ok(())
    }

    /// The image as a new vector (feature `alloc`).
    #[cfg(feature = "alloc")]
    fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = alloc::vec![0u8; Self::IMAGE_BYTES];
        self.write_le_bytes_at(&mut out, 0);
        out
    }

    /// The model an image holds, checked: its length, every scale positive and finite, every
    /// zero point an int8, and each softmax preparable.
    ///
    /// # Errors
    /// An [`Int8ImageError`] naming the first problem.
    fn from_le_bytes(bytes: &[u8]) -> Result<Self, Int8ImageError> {
        if bytes.len() != Self::IMAGE_BYTES {
            return Err(Int8ImageError::WrongLength { expected: Self::IMAGE_BYTES, found: bytes.len() });
        }
        Self::read_le_bytes_at(bytes, 0)
    }
}

/// Builds an int8 model from its [byte image](self) at compile time, for a `static` in flash.
///
/// The first argument is the *float* model's type, as for
/// [`model_from_le_bytes!`](crate::model_from_le_bytes): its layers spelled out as a tuple, or
/// any type naming the model (an alias, `Folded<M>`), nested as deep as it is (tuples in tuples,
/// [`Residual`](crate::layer::Residual) blocks with an `ActivationLayer` fused into their
/// `ADD`); the value has type [`Int8`](super::Int8) of it. The second is a `&'static [u8]`, in firmware
/// `include_bytes!` of the image its `build.rs` wrote. Everything happens in the compiler:
/// the length check, the checks of every scale and zero point, the decoding, and the
/// precomputation of the requantization constants. The program contains the finished layers
/// and no decoding code, and no `unsafe` is involved.
///
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::quant::{Int8, QLayer, QVector};
///
/// type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
/// // In firmware: include_bytes!(concat!(env!("OUT_DIR"), "/digits_mlp.int8")).
/// const IMAGE: &[u8] = include_bytes!("../../tests/fixtures/tflite/digits_mlp.int8");
/// static MODEL: Int8<Mlp> =
///     typed_nn::int8_model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), IMAGE);
///
/// let y: QVector<10> = MODEL.forward(&QVector::new([-128; 64]));
/// assert!(y.argmax() < 10);
/// ```
///
/// An image of the wrong length does not compile; the error shows both lengths,
/// `Int8ImageLength<found, expected>` (`tests/ui/int8_image_length_must_match.rs`):
///
/// ```compile_fail
/// use typed_nn::prelude::*;
/// use typed_nn::quant::Int8;
/// type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
/// const SHORT: &[u8] = &[0; 2000];
/// static MODEL: Int8<Mlp> = typed_nn::int8_model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), SHORT);
/// ```
///
/// Neither does an image of the right length with a zero scale (an all-zero image, here):
///
/// ```compile_fail
/// use typed_nn::prelude::*;
/// use typed_nn::quant::Int8;
/// type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
/// const ZEROS: &[u8] = &[0; 2744];
/// static MODEL: Int8<Mlp> = typed_nn::int8_model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), ZEROS);
/// ```
#[macro_export]
macro_rules! int8_model_from_le_bytes {
    // The layers spelled out: `(A)` is the 1-tuple `(A,)` here.
    (($($layer:ty),+ $(,)?), $bytes:expr $(,)?) => {
        $crate::int8_model_from_le_bytes!(@decode ($($layer,)+), $bytes)
    };
    (@decode $model:ty, $bytes:expr) => {{
        // Item names are not hygienic in `macro_rules!`: these must not shadow the caller's.
        const __TYPED_NN_INT8_IMAGE: &[u8] = $bytes;
        struct __TypedNnInt8Image;
        impl $crate::io::bytes::ImageAt for __TypedNnInt8Image {
            // The length is checked before anything is decoded: every layer's constant reads
            // this one, so a wrong length stops the build here, with both lengths in the type.
            const IMAGE: &'static [u8] = {
                $crate::quant::image::Int8ImageLength::<
                    { __TYPED_NN_INT8_IMAGE.len() },
                    { <$crate::quant::Int8<$model> as $crate::quant::Int8Bytes>::IMAGE_BYTES },
                >::MATCHES;
                __TYPED_NN_INT8_IMAGE
            };
            const OFFSET: usize = 0;
        }
        <$crate::quant::Int8<$model> as $crate::io::bytes::FromImage<
            __TypedNnInt8Image,
            $crate::quant::image::Int8Records,
        >>::DECODED
    }};
    ($model:ty, $bytes:expr $(,)?) => {
        $crate::int8_model_from_le_bytes!(@decode $model, $bytes)
    };
}

/// The kind of image [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes) decodes:
/// the int8 layers' records of the [layout](self#layout). The decoding mechanism is the f32
/// one, [`FromImage<S, Int8Records>`](crate::io::bytes::FromImage): a `const fn` cannot call a
/// trait method, but a trait's associated `const` can use the associated consts of generic
/// types, so the image and the offset travel in the type `S` and each layer's `DECODED` calls
/// its own `const fn from_le_bytes_at(IMAGE, OFFSET)`; a tuple's or a residual block's is built
/// from its parts'. An invalid scale or zero point stops the build with
/// [`Int8ImageError::message`].
#[doc(hidden)]
pub struct Int8Records;

/// `ConstLoad` and `FromImage` of [`Int8Records`] for a layer type with a
/// `const fn from_le_bytes_at`: `impl<generics> for Type`.
macro_rules! leaf_from_image {
    ([$($g:tt)*] $L:ty) => {
        impl<$($g)*> $crate::io::bytes::ConstLoad<$crate::quant::image::Int8Records> for $L {
            const BYTES: usize = <Self as $crate::quant::image::Int8Bytes>::IMAGE_BYTES;
        }
        impl<S: $crate::io::bytes::ImageAt, $($g)*>
            $crate::io::bytes::FromImage<S, $crate::quant::image::Int8Records> for $L
        {
            const DECODED: Self = match Self::from_le_bytes_at(S::IMAGE, S::OFFSET) {
                Ok(layer) => layer,
                Err(e) => $crate::quant::image::refuse(e),
            };
        }
    };
}
pub(crate) use leaf_from_image;

/// The length check of [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes): the two
/// numbers are in the type, so the compile error shows them, `Int8ImageLength<2000, 2744>`
/// (found, expected).
#[doc(hidden)]
pub struct Int8ImageLength<const FOUND: usize, const EXPECTED: usize>;

impl<const FOUND: usize, const EXPECTED: usize> Int8ImageLength<FOUND, EXPECTED> {
    /// `()` if the lengths agree; otherwise evaluating it stops the build.
    pub const MATCHES: () = assert!(
        FOUND == EXPECTED,
        "int8_model_from_le_bytes!: the int8 image's length is not the model's IMAGE_BYTES; see `Int8ImageLength<FOUND, EXPECTED>` below"
    );
}

/// Stops compile-time evaluation with the error's message; only ever evaluated by the compiler
/// (inside the `const` of [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes)), so
/// no panic path reaches a program.
#[doc(hidden)]
#[allow(clippy::panic)] // a compile error, never a run-time panic: see above
pub const fn refuse(e: Int8ImageError) -> ! {
    panic!("{}", e.message())
}

/// A cursor over an image in a `const` context: reads little-endian values (zeros past the
/// end, which the length checks make unreachable) and checks quantization as it goes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// `?` for `const fn`s, which cannot use the `Try` trait.
macro_rules! const_try {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(e),
        }
    };
}
pub(crate) use const_try;

impl<'a> Reader<'a> {
    pub(crate) const fn new(bytes: &'a [u8], at: usize) -> Self {
        Self { bytes, at }
    }

    /// Where the next value starts.
    pub(crate) const fn offset(&self) -> usize {
        self.at
    }

    #[allow(clippy::indexing_slicing)] // `j < len` is checked on the same line; `get` is not const
    const fn byte(&mut self) -> u8 {
        let j = self.at;
        self.at = self.at.saturating_add(1);
        if j < self.bytes.len() { self.bytes[j] } else { 0 }
    }

    const fn u32(&mut self) -> u32 {
        let b = crate::io::bytes::le_bytes_at(self.bytes, self.at);
        self.at = self.at.saturating_add(4);
        u32::from_le_bytes(b)
    }

    /// The next `i32`.
    pub(crate) const fn i32(&mut self) -> i32 {
        self.u32() as i32
    }

    /// The next `f32` (any bits).
    pub(crate) const fn f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }

    /// The next `f32`, which must be a positive, finite scale.
    pub(crate) const fn scale(&mut self) -> Result<f32, Int8ImageError> {
        let offset = self.at;
        let s = self.f32();
        if s.is_nan() || s <= 0.0 || s.is_infinite() { Err(Int8ImageError::Scale { offset }) } else { Ok(s) }
    }

    /// A scale and a zero point in `−128..=127`.
    pub(crate) const fn params(&mut self) -> Result<QuantParams, Int8ImageError> {
        let scale = const_try!(self.scale());
        let offset = self.at;
        let zero_point = self.i32();
        if zero_point < -128 || zero_point > 127 {
            return Err(Int8ImageError::ZeroPoint { offset });
        }
        Ok(QuantParams { scale, zero_point })
    }

    /// Fills `dst` with scales, each checked.
    #[allow(clippy::indexing_slicing)] // `i < dst.len()`, the loop bound; `get` is not const
    pub(crate) const fn scales(&mut self, dst: &mut [f32]) -> Result<(), Int8ImageError> {
        let mut i = 0;
        while i < dst.len() {
            dst[i] = const_try!(self.scale());
            i += 1;
        }
        Ok(())
    }

    /// Fills `dst` with `i32`s.
    #[allow(clippy::indexing_slicing)] // `i < dst.len()`, the loop bound; `get` is not const
    pub(crate) const fn i32s(&mut self, dst: &mut [i32]) {
        let mut i = 0;
        while i < dst.len() {
            dst[i] = self.i32();
            i += 1;
        }
    }

    /// Fills `dst` with `i8`s.
    #[allow(clippy::indexing_slicing)] // `i < dst.len()`, the loop bound; `get` is not const
    pub(crate) const fn i8s(&mut self, dst: &mut [i8]) {
        let mut i = 0;
        while i < dst.len() {
            dst[i] = self.byte() as i8;
            i += 1;
        }
    }
}

/// A cursor that writes an image (bytes past the end of `out` are dropped).
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut [u8], at: usize) -> Self {
        Self { out, at }
    }

    fn bytes(&mut self, b: &[u8]) {
        for &v in b {
            if let Some(d) = self.out.get_mut(self.at) {
                *d = v;
            }
            self.at = self.at.saturating_add(1);
        }
    }

    /// An `i32`.
    pub(crate) fn i32(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    /// An `f32`.
    pub(crate) fn f32(&mut self, v: f32) {
        self.bytes(&v.to_le_bytes());
    }

    /// A scale and a zero point.
    pub(crate) fn params(&mut self, p: QuantParams) {
        self.f32(p.scale);
        self.i32(p.zero_point);
    }

    /// `f32`s.
    pub(crate) fn f32s(&mut self, v: &[f32]) {
        v.iter().for_each(|&x| self.f32(x));
    }

    /// `i32`s.
    pub(crate) fn i32s(&mut self, v: &[i32]) {
        v.iter().for_each(|&x| self.i32(x));
    }

    /// `i8`s.
    pub(crate) fn i8s(&mut self, v: &[i8]) {
        v.iter().for_each(|&x| self.bytes(&x.to_le_bytes()));
    }
}

/// `Int8Bytes` for one tuple arity: the layers' images one after the other.
macro_rules! image_tuple {
    ($($L:ident $i:tt),+) => {
        impl<$($L: Int8Bytes),+> Int8Bytes for ($($L,)+) {
            const IMAGE_BYTES: usize = 0 $(+ $L::IMAGE_BYTES)+;

            #[allow(unused_assignments)] // the offset after the last layer
            fn write_le_bytes_at(&self, out: &mut [u8], offset: usize) {
                let mut offset = offset;
                $(
                    self.$i.write_le_bytes_at(out, offset);
                    offset = offset.saturating_add($L::IMAGE_BYTES);
                )+
            }

            #[allow(unused_assignments)] // the offset after the last layer
            fn read_le_bytes_at(bytes: &[u8], offset: usize) -> Result<Self, Int8ImageError> {
                let mut offset = offset;
                Ok(($(
                    {
                        let layer = $L::read_le_bytes_at(bytes, offset)?;
                        offset = offset.saturating_add($L::IMAGE_BYTES);
                        layer
                    },
                )+))
            }
        }
    };
}

image_tuple!(L0 0);
image_tuple!(L0 0, L1 1);
image_tuple!(L0 0, L1 1, L2 2);
image_tuple!(L0 0, L1 1, L2 2, L3 3);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10);
image_tuple!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10, L11 11);
