//! The raw little-endian byte image of a model's parameters.
//!
//! # Layout
//! The parameter tensors in [`Params`] order — for each layer of the model, in order, its
//! kernel then its bias, each flattened in Keras' layout (`Dense`: `(in, out)`; `Conv2D`:
//! `(kh, kw, in, out)`), or Keras' `get_weights()` order for other layers
//! (`BatchNormalization`: `gamma`, `beta`, then the non-trainable `moving_mean` and
//! `moving_variance`) — every value as `size_of::<T>()` little-endian bytes. No header, no
//! padding: the length is exactly [`Params::PARAM_BYTES`], known at compile time, which is
//! how a wrong file is caught. `(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)` is 203 560
//! bytes; the digits MLP 9 640.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
//! let bytes: Vec<u8> = model.to_le_bytes()?;
//! assert_eq!(bytes.len(), <Mlp as Params<f32>>::PARAM_BYTES);
//! let back = Mlp::from_le_bytes(&bytes)?;
//! assert_eq!(back, model);
//! assert_eq!(Mlp::from_le_bytes(&bytes[1..]), Err(BytesError::WrongLength { expected: 9640, found: 9639 }));
//! # Ok::<(), BytesError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use crate::params::{ParamCountError, check_count};
use crate::seal::Seal;
use crate::{Params, Scalar, Zeros};

/// Why a byte image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytesError {
    /// The image (or output buffer) does not have exactly the model's parameter bytes.
    WrongLength {
        /// `PARAM_BYTES` of the model type.
        expected: usize,
        /// Length given.
        found: usize,
    },
    /// A parameter decodes to NaN or infinity: the file is corrupt or from a diverged run.
    NonFinite {
        /// Index of the parameter (not the byte).
        index: usize,
    },
    /// A value that must not be negative is: a `BatchNormalization` moving variance (its
    /// square root would be NaN).
    NegativeVariance {
        /// Index of the value (not the byte).
        index: usize,
    },
    /// A custom layer's `PARAMS` disagrees with its `params()`, so the image's layout is
    /// undefined (see [`check_count`]).
    ParamCount(ParamCountError),
}

impl From<ParamCountError> for BytesError {
    fn from(e: ParamCountError) -> Self {
        Self::ParamCount(e)
    }
}

impl fmt::Display for BytesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongLength { expected, found } => write!(
                f,
                "the parameter image has {found} bytes but this model type has {expected}; was it saved from another model?"
            ),
            Self::NonFinite { index } => write!(f, "parameter {index} is NaN or infinite; the image is corrupt"),
            Self::NegativeVariance { index } => {
                write!(f, "parameter {index} is a moving variance below zero; the image is corrupt")
            }
            Self::ParamCount(e) => write!(f, "cannot use a byte image: {e}"),
        }
    }
}

impl core::error::Error for BytesError {}

/// Writes and reads the [byte image](self) of any model; implemented for every `Params<T>`.
pub trait ParamBytes<T: Scalar>: Params<T> {
    /// Writes the image into `out`, which must be exactly `PARAM_BYTES` long.
    ///
    /// # Errors
    /// [`BytesError::WrongLength`] if `out` has another length, [`BytesError::ParamCount`] if
    /// a custom layer's `PARAMS` is wrong; nothing is written then.
    fn write_le_bytes(&self, out: &mut [u8]) -> Result<(), BytesError> {
        check_count(self)?;
        if out.len() != Self::PARAM_BYTES {
            return Err(BytesError::WrongLength { expected: Self::PARAM_BYTES, found: out.len() });
        }
        let mut chunks = out.chunks_exact_mut(T::BYTES);
        self.visit_tensors(Seal, &mut |tensor| {
            for (v, dst) in tensor.iter().zip(chunks.by_ref()) {
                v.write_le(dst);
            }
        });
        Ok(())
    }

    /// The image as a new vector (feature `alloc`).
    ///
    /// # Errors
    /// [`BytesError::ParamCount`] if a custom layer's `PARAMS` is wrong (never for the
    /// built-in layers).
    #[cfg(feature = "alloc")]
    fn to_le_bytes(&self) -> Result<Vec<u8>, BytesError> {
        let mut out = alloc::vec![0u8; Self::PARAM_BYTES];
        self.write_le_bytes(&mut out)?;
        Ok(out)
    }

    /// Replaces the parameters (and state) with those in `bytes`.
    ///
    /// # Errors
    /// [`BytesError::WrongLength`], [`BytesError::NonFinite`],
    /// [`BytesError::NegativeVariance`] or [`BytesError::ParamCount`]; the model is unchanged
    /// then.
    fn read_le_bytes(&mut self, bytes: &[u8]) -> Result<(), BytesError> {
        check_count(self)?;
        if bytes.len() != Self::PARAM_BYTES {
            return Err(BytesError::WrongLength { expected: Self::PARAM_BYTES, found: bytes.len() });
        }
        if let Some(index) = bytes.chunks_exact(T::BYTES).position(|b| !T::read_le(b).is_finite()) {
            return Err(BytesError::NonFinite { index });
        }
        // Runs of values that must not be negative (variances), checked before anything is
        // written.
        let (mut start, mut negative) = (0usize, None);
        Self::image_runs(Seal, &mut |len, non_negative| {
            if non_negative && negative.is_none() {
                let mut run = bytes.chunks_exact(T::BYTES).skip(start).take(len);
                negative = run.position(|b| T::read_le(b) < T::zero()).map(|i| start + i);
            }
            start += len;
        });
        if let Some(index) = negative {
            return Err(BytesError::NegativeVariance { index });
        }
        let mut chunks = bytes.chunks_exact(T::BYTES);
        self.visit_tensors_mut(Seal, &mut |tensor| {
            for (v, src) in tensor.iter_mut().zip(chunks.by_ref()) {
                *v = T::read_le(src);
            }
        });
        Ok(())
    }

    /// A model from an image.
    ///
    /// The model starts as its [`Zeros`] value and every parameter is read from the image, so
    /// `Box::<Big>::from_le_bytes(..)` allocates the model zeroed on the heap and decodes into
    /// it: no model-sized value passes through the stack.
    ///
    /// # Errors
    /// As [`read_le_bytes`](ParamBytes::read_le_bytes).
    ///
    /// # Allocation
    /// For a boxed model, the box (zeroed); otherwise none (the model is returned by value).
    fn from_le_bytes(bytes: &[u8]) -> Result<Self, BytesError>
    where
        Self: Zeros,
    {
        let mut model = Self::zeros();
        model.read_le_bytes(bytes)?;
        Ok(model)
    }
}

impl<T: Scalar, M: Params<T>> ParamBytes<T> for M {}

/// Builds a model from its [byte image](self) at compile time, for a `static` in flash:
///
/// ```
/// use typed_nn::prelude::*;
/// type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
/// // Any &'static [u8]: in firmware, `include_bytes!("mlp.weights")`.
/// const BYTES: &[u8] = &[0; 9640];
/// static MODEL: Mlp = typed_nn::model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), BYTES);
/// let y: Vector<10> = MODEL.forward(&Vector::from([0.0; 64]));
/// assert!((y[0] - 0.1).abs() < 1e-6);
/// ```
///
/// The first argument is the model's type: its layers spelled out as a tuple, as above, or any
/// type naming a model, such as an alias. Models nest: tuples in tuples,
/// [`Residual`](crate::layer::Residual) blocks, [`BatchNormalization`](crate::layer::BatchNormalization),
/// [`DepthwiseConv2D`](crate::layer::DepthwiseConv2D), layers without a bias (`NoBias`), every
/// built-in layer in `f32` or `f64`:
///
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::{ActivationLayer, BatchNormalization, NoBias, Residual};
/// type Block = Residual<(Conv2D<2, 2, 3, Identity, 1, Same, f32, NoBias>, BatchNormalization<2>)>;
/// type Net = ((Conv2D<1, 2, 3, Relu, 1, Same>, Block), ActivationLayer<Relu>, Flatten, Dense<32, 2, Softmax>);
/// const BYTES: &[u8] = &[0; (20 + 36 + 8 + 66) * 4];
/// static NET: Net = typed_nn::model_from_le_bytes!(Net, BYTES);
/// let y: Vector<2> = NET.forward(&Image::<4, 4, 1>::default());
/// # let _ = y;
/// ```
///
/// The second argument is a `&'static [u8]`. A wrong length is a compile error naming both
/// sizes; the decoding runs in the compiler, so the program contains the decoded floats and no
/// decoding code, and no `unsafe` is involved.
///
/// ```compile_fail
/// use typed_nn::prelude::*;
/// type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
/// const SHORT: &[u8] = &[0; 9636];
/// static MODEL: Mlp = typed_nn::model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), SHORT);
/// ```
///
/// Every built-in layer has the `const fn from_le_bytes_at(bytes, offset)` this macro calls; a
/// parameterless layer reads nothing. A nested model is decoded on stable Rust through a trait's
/// associated `const` (`FromImage<S>`, where the type `S` carries the image and the offset),
/// since a `const fn` cannot call trait methods: each layer's constant calls its own
/// `from_le_bytes_at`, and a tuple's or a residual block's is built from its parts'.
#[macro_export]
macro_rules! model_from_le_bytes {
    // The layers spelled out: `(A)` is the 1-tuple `(A,)` here, as it always was.
    (($($layer:ty),+ $(,)?), $bytes:expr $(,)?) => {
        $crate::model_from_le_bytes!(@decode ($($layer,)+), $bytes)
    };
    (@decode $model:ty, $bytes:expr) => {{
        // Item names are not hygienic in `macro_rules!`: these must not shadow the caller's.
        const __TYPED_NN_IMAGE: &[u8] = $bytes;
        const _: () = $crate::io::bytes::ImageLength::<
            { __TYPED_NN_IMAGE.len() },
            { <$model as $crate::io::bytes::ConstLoad>::BYTES },
        >::MATCHES;
        struct __TypedNnImage;
        impl $crate::io::bytes::ImageAt for __TypedNnImage {
            const IMAGE: &'static [u8] = __TYPED_NN_IMAGE;
            const OFFSET: usize = 0;
        }
        <$model as $crate::io::bytes::FromImage<__TypedNnImage>>::DECODED
    }};
    ($model:ty, $bytes:expr $(,)?) => {
        $crate::model_from_le_bytes!(@decode $model, $bytes)
    };
}

/// What an image's bytes hold, as a type, so that one decoding mechanism ([`ImageAt`],
/// [`After`], [`FromImage`] and its tuple impls) serves both compile-time decoders, and a
/// model's layers all come from one kind of image. This one: [`model_from_le_bytes!`]'s,
/// little-endian floats (`f32` or `f64`, as each layer's type says). The other:
/// [`Int8Records`](crate::quant::image::Int8Records), the int8 image's records.
#[doc(hidden)]
pub struct Floats;

/// The bytes a layer (or a tuple of layers) takes in an image of kind `E` ([`Floats`] unless
/// named), for the offsets of what follows it; implemented by every built-in layer.
#[doc(hidden)]
pub trait ConstLoad<E = Floats> {
    /// Bytes of parameters.
    const BYTES: usize;
}

/// A byte image and a position in it, as a type: what [`FromImage`] decodes from. The macros
/// define one type per image (offset 0); [`After`] moves past a layer.
///
/// This is how a nested model is decoded on stable Rust: a `const fn` cannot call a trait
/// method, but a trait's associated `const` can use other associated consts of generic types,
/// so the image and the offset travel in a type parameter and each layer's [`FromImage::DECODED`]
/// calls its own `const fn from_le_bytes_at(IMAGE, OFFSET)`.
#[doc(hidden)]
pub trait ImageAt {
    /// The whole image.
    const IMAGE: &'static [u8];
    /// The byte where the next layer's parameters start.
    const OFFSET: usize;
}

/// The position in `S`'s image (of kind `E`) just past the parameters of `L` (a layer or a
/// tuple of them, as a list of what came before).
#[doc(hidden)]
pub struct After<S, L, E = Floats>(PhantomData<fn() -> (S, L)>, PhantomData<fn() -> E>);

impl<S: ImageAt, L: ConstLoad<E>, E> ImageAt for After<S, L, E> {
    const IMAGE: &'static [u8] = S::IMAGE;
    const OFFSET: usize = S::OFFSET + L::BYTES;
}

/// A layer or model decoded at compile time from the image (of kind `E`) at `S`, for
/// [`model_from_le_bytes!`] (every built-in layer, [`Residual`](crate::layer::Residual)) and
/// [`int8_model_from_le_bytes!`](crate::int8_model_from_le_bytes) (every int8 layer,
/// [`QResidual`](crate::quant::QResidual)), and tuples of 1 to 12 of them, nested as deep as the
/// model is.
#[doc(hidden)]
pub trait FromImage<S: ImageAt, E = Floats>: ConstLoad<E> + Sized {
    /// The value, decoded by the compiler.
    const DECODED: Self;
}

/// The prefix before a tuple's first element: no bytes.
impl<E> ConstLoad<E> for () {
    const BYTES: usize = 0;
}

/// `FromImage` and `ConstLoad` for one tuple arity, for both kinds of image: element `k` is
/// decoded at the position after elements `0..k` (listed in brackets).
macro_rules! tuple_from_image {
    ($(($L:ident, [$($P:ident)*]))+) => {
        impl<E, $($L: ConstLoad<E>),+> ConstLoad<E> for ($($L,)+) {
            const BYTES: usize = 0 $(+ $L::BYTES)+;
        }
        impl<E, S: ImageAt, $($L: FromImage<After<S, ($($P,)*), E>, E>),+> FromImage<S, E> for ($($L,)+) {
            const DECODED: Self = ($(<$L as FromImage<After<S, ($($P,)*), E>, E>>::DECODED,)+);
        }
    };
}

/// `tuple_from_image!` for every arity up to the number of names given: each step adds the next
/// name, paired with the names before it.
macro_rules! tuples_from_image {
    ([$($done:tt)*] [$($before:ident)*] $next:ident $($rest:ident)*) => {
        tuple_from_image!($($done)* ($next, [$($before)*]));
        tuples_from_image!([$($done)* ($next, [$($before)*])] [$($before)* $next] $($rest)*);
    };
    ([$($done:tt)*] [$($before:ident)*]) => {};
}
tuples_from_image!([] [] L0 L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11);

/// The length check of [`model_from_le_bytes!`]: the two numbers are in the type, so the
/// compile error shows them, `ImageLength<9636, 9640>` (found, expected).
#[doc(hidden)]
pub struct ImageLength<const FOUND: usize, const EXPECTED: usize>;

impl<const FOUND: usize, const EXPECTED: usize> ImageLength<FOUND, EXPECTED> {
    /// `()` if the lengths agree; otherwise evaluating it stops the build.
    pub const MATCHES: () = assert!(
        FOUND == EXPECTED,
        "model_from_le_bytes!: the byte image's length is not the model's parameter bytes; see `ImageLength<FOUND, EXPECTED>` below"
    );
}

/// The `N` bytes from byte `at` on, in a `const` context; zeros past the end (the macros'
/// length checks make that unreachable), so it can never panic. Every compile-time decoder
/// reads through it: the floats here and the int8 image's records.
#[allow(clippy::indexing_slicing)] // `j < bytes.len()` and `i < N` are checked first; `get` is not const
pub(crate) const fn le_bytes_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    let mut i = 0;
    while i < N {
        let j = at.saturating_add(i);
        if j < bytes.len() {
            b[i] = bytes[j];
        }
        i += 1;
    }
    b
}

/// Reads the little-endian `f32` at byte `at`, in a `const` context; 0.0 past the end (the
/// macro's length check makes that unreachable), so it can never panic.
#[doc(hidden)]
pub const fn f32_at(bytes: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(le_bytes_at(bytes, at))
}

/// Reads the little-endian `f64` at byte `at`, in a `const` context; 0.0 past the end.
#[doc(hidden)]
pub const fn f64_at(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(le_bytes_at(bytes, at))
}

/// Fills `dst` with consecutive little-endian values starting at byte `at`, in a `const`
/// context, and returns the byte after the last one read; a `$read` helper per float type
/// because a `const fn` cannot call the trait methods that would make it generic.
macro_rules! const_fill {
    ($name:ident, $T:ty, $read:ident) => {
        #[doc = concat!("Fills `dst` with consecutive little-endian `", stringify!($T), "`s from byte `at` (0.0 past the end), in a `const` context; returns the next byte offset.")]
        #[doc(hidden)]
        #[allow(clippy::indexing_slicing)] // `i` is bounded by `dst.len()` on the line before; `get` is not const
        pub const fn $name(dst: &mut [$T], bytes: &[u8], mut at: usize) -> usize {
            let mut i = 0;
            while i < dst.len() {
                dst[i] = $read(bytes, at);
                at = at.saturating_add(core::mem::size_of::<$T>());
                i += 1;
            }
            at
        }
    };
}
const_fill!(fill_f32, f32, f32_at);
const_fill!(fill_f64, f64, f64_at);

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use crate::init::SeedRng;
    use crate::prelude::*;

    /// The `const` decoders read the same layout as `from_le_bytes`: every weight lands in its
    /// own slot (a random model, so a swapped index or a wrong stride shows), for both floats.
    #[test]
    fn const_decoding_matches_the_runtime_decoder() {
        let conv: Conv2D<2, 3, 3, Relu> = Conv2D::init(&mut SeedRng::seed(7));
        let dense: Dense<5, 4, Tanh, f64> = Dense::init(&mut SeedRng::seed(8));
        let (cb, db) = (conv.to_le_bytes().unwrap(), dense.to_le_bytes().unwrap());
        assert_eq!(Conv2D::<2, 3, 3, Relu>::from_le_bytes_at(&cb, 0), conv);
        assert_eq!(Dense::<5, 4, Tanh, f64>::from_le_bytes_at(&db, 0), dense);
        // At an offset, and past the end reads zeros rather than panicking.
        let shifted: std::vec::Vec<u8> = [0u8; 3].iter().chain(&cb).copied().collect();
        assert_eq!(Conv2D::<2, 3, 3, Relu>::from_le_bytes_at(&shifted, 3), conv);
        let short = Conv2D::<2, 3, 3, Relu>::from_le_bytes_at(&cb[..8], 0);
        assert_eq!(short.kernel[0][0][0][..2], conv.kernel[0][0][0][..2]);
        assert_eq!(short.bias, [0.0; 3]);
    }

    /// An image of `N / size` consecutive values 1, 2, 3, ... (little-endian `f32` or `f64`):
    /// every parameter distinct, finite and positive (a valid variance).
    const fn counting<const N: usize>(f64s: bool) -> [u8; N] {
        let mut image = [0u8; N];
        let size = if f64s { 8 } else { 4 };
        let mut i = 0;
        while i < N / size {
            let v = (i + 1) as f64;
            let mut b = 0;
            while b < size {
                image[i * size + b] = if f64s { v.to_le_bytes()[b] } else { (v as f32).to_le_bytes()[b] };
                b += 1;
            }
            i += 1;
        }
        image
    }

    use crate::layer::{ActivationLayer, BatchNormalization, DepthwiseConv2D, Dropout, NoBias, Residual};

    /// Every spelling `model_from_le_bytes!` decodes by composition: nested tuples, a residual
    /// block with the identity shortcut and one with a projection, BatchNormalization,
    /// DepthwiseConv2D and the `NoBias` layers between parameterless ones.
    type Projection = Residual<
        (Conv2D<2, 4, 3, Identity, 2, Same, f32, NoBias>, BatchNormalization<4>),
        Conv2D<2, 4, 1, Identity, 2, Same>,
    >;
    type Nested = (
        (Conv2D<1, 2, 3, Relu, 1, Same>, Dropout<100>),
        Residual<(
            DepthwiseConv2D<2, 3, Relu, 1, Same>,
            (DepthwiseConv2D<2, 3, Identity, 1, Same, f32, NoBias>, BatchNormalization<2>),
        )>,
        Projection,
        ActivationLayer<Relu>,
        MaxPool2D<2>,
        Flatten,
        Dense<16, 3, Relu, f32, NoBias>,
        Dense<3, 2, Softmax>,
    );
    const NESTED_BYTES: usize = <Nested as Params<f32>>::PARAM_BYTES;
    const NESTED_IMAGE: [u8; NESTED_BYTES] = counting::<NESTED_BYTES>(false);
    static NESTED: Nested = crate::model_from_le_bytes!(Nested, &NESTED_IMAGE);

    /// The compiler's decoding of a nested model equals the runtime decoder's (`visit_tensors`,
    /// independent code), value for value: a parameter read from another offset, or a branch
    /// and a shortcut swapped, would differ, since every value in the image is distinct.
    #[test]
    fn nested_models_decode_at_compile_time_as_at_run_time() {
        let at_run_time = Nested::from_le_bytes(&NESTED_IMAGE).unwrap();
        assert_eq!(NESTED, at_run_time);
        // Spot checks against the layout itself: the first conv's first weight is value 1, the
        // last Dense's last bias the last value.
        assert_eq!(NESTED.0.0.kernel[0][0][0][0], 1.0);
        assert_eq!(NESTED.7.bias[1], (NESTED_BYTES / 4) as f32);
        // The projection's shortcut follows its branch (20 + 20 + 18 + 8 values before the block:
        // conv, depthwise with bias, without, BN; 72 kernel values and 16 BN values in its branch).
        assert_eq!(NESTED.2.shortcut.kernel[0][0][0][0], (20 + 20 + 18 + 8 + 72 + 16 + 1) as f32);
        // The same image spelled as a tuple of layers.
        static SPELLED: Nested = crate::model_from_le_bytes!(
            (
                (Conv2D<1, 2, 3, Relu, 1, Same>, Dropout<100>),
                Residual<(
                    DepthwiseConv2D<2, 3, Relu, 1, Same>,
                    (DepthwiseConv2D<2, 3, Identity, 1, Same, f32, NoBias>, BatchNormalization<2>),
                )>,
                Projection,
                ActivationLayer<Relu>,
                MaxPool2D<2>,
                Flatten,
                Dense<16, 3, Relu, f32, NoBias>,
                Dense<3, 2, Softmax>,
            ),
            &NESTED_IMAGE
        );
        assert_eq!(SPELLED, at_run_time);
    }

    /// `f64` layers too, and a model that is one layer (not a tuple).
    #[test]
    fn f64_models_and_single_layers_decode_at_compile_time() {
        type Small = (Dense<2, 3, Tanh, f64>, BatchNormalization<3, f64>);
        const IMAGE: [u8; 21 * 8] = counting::<{ 21 * 8 }>(true);
        static SMALL: Small = crate::model_from_le_bytes!(Small, &IMAGE);
        assert_eq!(SMALL, Small::from_le_bytes(&IMAGE).unwrap());
        assert_eq!(SMALL.1.moving_variance[2], 21.0);
        const TWELVE: [u8; 96] = counting::<96>(true);
        static ONE: BatchNormalization<3, f64> = crate::model_from_le_bytes!(BatchNormalization<3, f64>, &TWELVE);
        assert_eq!(ONE.gamma, [1.0, 2.0, 3.0]);
        assert_eq!(ONE.moving_variance, [10.0, 11.0, 12.0]);
    }
}
