//! Whether a layer adds a bias: [`Bias`] (the default) or [`NoBias`] (Keras' `use_bias=False`).
//!
//! `Dense`, `Conv2D` and `DepthwiseConv2D` take the choice as a type parameter, so a layer
//! without a bias has no bias *storage* at all: its `bias` field is the zero-sized [`NoBias`],
//! its [`PARAMS`](crate::Params::PARAMS) and byte image leave the bias out, and its
//! safetensors file has no `{k}.bias` tensor, exactly as Keras counts and saves it. The
//! default, [`Bias`], keeps today's spelling: `Dense<4, 2>` has a bias.
//!
//! ```
//! use typed_nn::prelude::*;
//! // Keras: Conv2D(8, 3, strides=2, padding="same", use_bias=False) on 3 channels.
//! type Stem = Conv2D<3, 8, 3, Identity, 2, Same, f32, NoBias>;
//! assert_eq!(Stem::PARAMS, 3 * 3 * 3 * 8);
//! assert_eq!(<Conv2D<3, 8, 3>>::PARAMS, 3 * 3 * 3 * 8 + 8);
//! let stem: Stem = Conv2D::new([[[[0.5; 8]; 3]; 3]; 3], NoBias);
//! let y: Image<2, 2, 8> = stem.forward(&Image::<4, 4, 3>::default());
//! assert!(y.as_slice().iter().all(|&v| v == 0.0));
//! ```
//!
//! Batch normalization after a convolution makes its bias redundant, which is why MobileNet
//! leaves it out; folding the normalization back into the convolution
//! ([`fold_batch_norm`](crate::fold)) gives it one again: the folded layer's type has [`Bias`].

use core::fmt::Debug;
use core::hash::Hash;

/// The layer adds a bias, one per output channel: Keras' default (`use_bias=True`).
///
/// The layer's `bias` field is an array (`[T; OUT]` for a `Dense`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bias;

/// The layer adds no bias: Keras' `use_bias=False`. The layer's `bias` field is this
/// zero-sized value, so the layer stores, counts, saves and loads no bias at all.
///
/// **Keras equivalent:** `use_bias=False` on `Dense`, `Conv2D` or `DepthwiseConv2D`.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let layer: Dense<2, 1, Identity, f32, NoBias> = Dense::new([[2.0], [3.0]], NoBias);
/// assert_eq!(layer.forward(&Vector::from([1.0, 1.0]))[0], 5.0);
/// assert_eq!(<Dense<2, 1, Identity, f32, NoBias>>::PARAMS, 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NoBias;

/// [`Bias`] or [`NoBias`] (sealed): what a layer stores for its bias.
///
/// A layer's `bias` field has the type [`Store<V>`](BiasMode::Store), where `V` is the
/// array a bias would be (`[T; OUT]`): `V` itself for [`Bias`], [`NoBias`] for [`NoBias`].
pub trait BiasMode: Copy + Debug + Default + PartialEq + Eq + Hash + Send + Sync + 'static + sealed::Sealed {
    /// Whether the layer has a bias (Keras' `use_bias`).
    const USE_BIAS: bool;

    /// The bias storage for a bias array of type `V`.
    type Store<V>;

    /// Storage holding `values` ([`NoBias`] drops them).
    fn store<V>(values: V) -> Self::Store<V>;

    /// The bias values, if the layer has a bias.
    fn get<V>(store: &Self::Store<V>) -> Option<&V>;

    /// The bias values, mutable, if the layer has a bias.
    fn get_mut<V>(store: &mut Self::Store<V>) -> Option<&mut V>;

    /// A copy of the storage (a `Store<V>` is `Copy` whenever `V` is, but a generic
    /// associated type cannot say so).
    fn copy<V: Copy>(store: &Self::Store<V>) -> Self::Store<V>;
}

impl BiasMode for Bias {
    const USE_BIAS: bool = true;
    type Store<V> = V;

    #[inline(always)]
    fn store<V>(values: V) -> V {
        values
    }

    #[inline(always)]
    fn get<V>(store: &V) -> Option<&V> {
        Some(store)
    }

    #[inline(always)]
    fn get_mut<V>(store: &mut V) -> Option<&mut V> {
        Some(store)
    }

    #[inline(always)]
    fn copy<V: Copy>(store: &V) -> V {
        *store
    }
}

impl BiasMode for NoBias {
    const USE_BIAS: bool = false;
    type Store<V> = NoBias;

    #[inline(always)]
    fn store<V>(_values: V) -> NoBias {
        NoBias
    }

    #[inline(always)]
    fn get<V>(_store: &NoBias) -> Option<&V> {
        None
    }

    #[inline(always)]
    fn get_mut<V>(_store: &mut NoBias) -> Option<&mut V> {
        None
    }

    #[inline(always)]
    fn copy<V: Copy>(_store: &NoBias) -> NoBias {
        NoBias
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Bias {}
    impl Sealed for super::NoBias {}
}
