//! BatchNorm folding: a trained model turned into the equivalent inference model, with each
//! `BatchNormalization` folded into the `Dense`, `Conv2D` or `DepthwiseConv2D` before it — a
//! function from one model *type* to another.
//!
//! At inference a `BatchNormalization` is an affine map per channel, `y = x·s + (β − μ·s)` with
//! `s = γ/√(σ² + ε)` (the moving statistics `μ`, `σ²`). After a layer that is itself affine in
//! its channels (a `Dense`, `Conv2D` or `DepthwiseConv2D` whose activation is [`Identity`]) the
//! two maps compose into one: `K' = K·s` (each output channel's kernel column scaled; for a
//! depthwise layer, output channel `c·M + m` is the filter `kernel[..][..][c][m]`) and
//! `b' = (b − μ)·s + β`. The folded model computes the same function with one layer less, so the
//! `BatchNormalization` disappears from its type:
//!
//! ```
//! use typed_nn::prelude::*;
//! type Trained = (Dense<6, 5>, BatchNormalization<5>, ActivationLayer<Relu>, Dense<5, 3, Softmax>);
//! let model: Trained = Trained::init(&mut SeedRng::seed(0));
//! let folded: (Dense<6, 5>, ActivationLayer<Relu>, Dense<5, 3, Softmax>) = model.fold_batch_norm();
//! let x = Vector::from([0.5, -1.0, 2.0, 0.0, 1.0, -0.5]);
//! let (a, b) = (model.forward(&x), folded.forward(&x));
//! assert!(a.iter().zip(b.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
//! ```
//!
//! # How the type changes
//! [`FoldBatchNorm::Folded`] is the folded type, computed by the compiler. Every layer says,
//! with [`FoldBatchNorm::Role`], whether a following normalisation can fold into it
//! ([`Absorbs`]: `Dense`, `Conv2D` and `DepthwiseConv2D` with the [`Identity`] activation,
//! with or without a bias), whether it is one
//! ([`Normalizes`]: `BatchNormalization`), or neither ([`Keeps`]). A tuple is walked as a list:
//! where an [`Absorbs`] layer is directly followed by a [`Normalizes`] one the pair becomes the
//! absorbing layer with new weights ([`Absorb`]); every other layer is folded on its own (a
//! residual block folds both branches, a nested tuple its layers) and kept. Stable Rust has no
//! specialisation, so "any other pair" is spelled out as the eight pairs of roles that are not
//! (`Absorbs`, `Normalizes`): each pair of roles is a different type, and the impls do not
//! overlap.
//!
//! A `BatchNormalization` that follows anything else (a layer with a non-linear activation, a
//! pooling layer, the model's input) is not affine-composable with it and stays in the folded
//! model, as do `Dropout` (the identity at inference) and activation layers; so does a pair
//! split across two tuples, `((Conv2D, ..), (BatchNormalization, ..))`: keep a layer and its
//! normalisation in one tuple.
//!
//! A layer without a bias ([`NoBias`](crate::NoBias), Keras' `use_bias=False`, as in MobileNet) folds as if
//! its bias were zero, `b' = β − μ·s`, so its folded form *gains* a bias: the folded type has
//! [`Bias`] where the trained one had `NoBias` (rectangular kernels and strides are kept):
//!
//! ```
//! use typed_nn::prelude::*;
//! type Block = (
//!     DepthwiseConv2D<4, 3, Identity, 2, Same, f32, NoBias, 2>,
//!     BatchNormalization<8>,
//!     ActivationLayer<Relu6>,
//!     Conv2DRect<8, 6, 1, 3, Identity, 1, 1, Same, f32, NoBias>,
//!     BatchNormalization<6>,
//! );
//! let folded: (
//!     DepthwiseConv2D<4, 3, Identity, 2, Same, f32, Bias, 2>,
//!     ActivationLayer<Relu6>,
//!     Conv2DRect<8, 6, 1, 3, Identity, 1, 1, Same, f32, Bias>,
//! ) = Block::init(&mut SeedRng::seed(2)).fold_batch_norm();
//! // Kernels, γ and β before; kernels and the new biases after.
//! assert_eq!(<Block as Params<f32>>::PARAMS, 3 * 3 * 4 * 2 + 2 * 8 + 8 * 6 * 3 + 2 * 6);
//! assert_eq!(<typed_nn::fold::Folded<Block> as Params<f32>>::PARAMS, 3 * 3 * 4 * 2 + 8 + 8 * 6 * 3 + 6);
//! # let _ = folded;
//! ```
//!
//! Your own layer takes part with a three-line impl: `type Role = Keeps;`, `type Folded = Self;`
//! and `fold_batch_norm` returning a clone. A `Dense`, `Conv2D` or `DepthwiseConv2D` with your
//! own activation needs to know whether that activation is the identity, and reads it from the
//! activation's [`FuseRole`], the one role trait an activation has for folding and
//! [fusion](crate::fuse) alike: `impl FuseRole for MyActivation { type Role = Alone; }` (only
//! the identity [`TakesActivation`], and a normalisation after a non-linear activation does
//! not fold):
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::fuse::{Alone, FuseRole};
//! #[derive(Clone, Copy, Debug, Default)]
//! struct Square;
//! impl Activation for Square {
//!     fn f<T: Float>(x: T) -> T { x * x }
//!     fn df<T: Float>(x: T) -> T { x + x }
//! }
//! impl FuseRole for Square {
//!     type Role = Alone;
//! }
//! type Trained = (Dense<3, 4, Square>, BatchNormalization<4>, Dense<4, 2>, BatchNormalization<2>);
//! // After `Square` the normalisation stays; after the identity `Dense` it folds.
//! let folded: (Dense<3, 4, Square>, BatchNormalization<4>, Dense<4, 2>) =
//!     Trained::init(&mut SeedRng::seed(0)).fold_batch_norm();
//! # let _ = folded;
//! ```
//!
//! # Exactness
//! `s` is computed in `f64` and each new weight rounded once, so the folded model's outputs
//! equal the unfolded model's up to the rounding of the reordered arithmetic (measured against
//! Keras' own outputs for models with random statistics in `tests/fold.rs`: within 1e-5).

use crate::Scalar;
use crate::activation::Identity;
use crate::fuse::{Alone, FuseRole, TakesActivation};
use crate::layer::{
    ActivationLayer, AvgPool2D, BatchNormalization, Bias, BiasMode, Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten,
    GlobalAvgPool2D, MaxPool2D, Residual, Skip,
};

/// A layer or model that can be turned into its inference form with every foldable
/// `BatchNormalization` folded into the layer before it (see the [module docs](self)).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::fold::Folded;
/// type Block = (Conv2D<1, 4, 3, Identity, 1, Same>, BatchNormalization<4>, ActivationLayer<Relu>);
/// // The type the compiler computes: the normalisation is gone.
/// let folded: Folded<Block> = Block::init(&mut SeedRng::seed(1)).fold_batch_norm();
/// let _: (Conv2D<1, 4, 3, Identity, 1, Same>, ActivationLayer<Relu>) = folded;
/// ```
///
/// # Allocation
/// None; the folded model is returned by value (box big models: `Box::new` of the result, or
/// fold the parts of a model one by one).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be folded: typed-nn does not know how it takes part in BatchNorm folding",
    label = "no `FoldBatchNorm` impl",
    note = "a layer of your own implements `typed_nn::fold::FoldBatchNorm` with `type Role = Keeps; type Folded = Self;` and a `fold_batch_norm` that returns a clone"
)]
pub trait FoldBatchNorm {
    /// The folded model's type.
    type Folded;
    /// [`Absorbs`], [`Normalizes`] or [`Keeps`]: how the layer pairs with its neighbour.
    type Role;

    /// The folded model: the same outputs, without the foldable normalisations.
    fn fold_batch_norm(&self) -> Self::Folded;
}

/// The type `fold_batch_norm` returns for a model `M`.
pub type Folded<M> = <M as FoldBatchNorm>::Folded;

/// The role of a `Dense`, `Conv2D` or `DepthwiseConv2D` (with the [`Identity`] activation)
/// before a normalisation: it can absorb one ([`Absorb`]).
#[derive(Clone, Copy, Debug)]
pub enum Absorbs {}

/// The role of a `BatchNormalization`.
#[derive(Clone, Copy, Debug)]
pub enum Normalizes {}

/// The role of every other layer: folded on its own, and kept.
#[derive(Clone, Copy, Debug)]
pub enum Keeps {}

/// A layer that a normalisation `N` right after it folds into, giving [`Absorbed`](Absorb::Absorbed).
pub trait Absorb<N> {
    /// The layer with the normalisation folded in.
    type Absorbed;

    /// `self` followed by `norm`, as one layer.
    fn absorb(&self, norm: &N) -> Self::Absorbed;
}

/// The folding role of a `Dense`, `Conv2D` or `DepthwiseConv2D`, read from its activation's
/// [`FuseRole`]: an activation that [`TakesActivation`] (the identity) makes the layer
/// [`Absorbs`], one that stands [`Alone`] (every other) makes it [`Keeps`]. An activation has
/// one role trait, [`FuseRole`], for folding and fusion alike.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "an activation's `FuseRole` is `TakesActivation` (the identity) or `Alone` (every other activation), not `{Self}`",
    label = "not an activation's role",
    note = "implement `typed_nn::fuse::FuseRole` for your activation with `type Role = typed_nn::fuse::Alone;`"
)]
pub trait ActivationFoldRole {
    /// [`Absorbs`] or [`Keeps`].
    type Role;
}

impl ActivationFoldRole for TakesActivation {
    type Role = Absorbs;
}

impl ActivationFoldRole for Alone {
    type Role = Keeps;
}

/// A layer's folding role, given its activation `A`.
type RoleOf<A> = <<A as FuseRole>::Role as ActivationFoldRole>::Role;

/// `s = γ/√(σ² + ε)` and `b' = (b − μ)·s + β` per channel, in `f64`; a layer without a bias
/// (`bias = None`) counts as `b = 0`.
fn scale_and_bias<const C: usize, T: Scalar>(
    norm: &BatchNormalization<C, T>,
    bias: Option<&[T; C]>,
) -> ([f64; C], [T; C]) {
    let eps = BatchNormalization::<C, T>::EPSILON;
    let zeros = [T::zero(); C];
    let bias = bias.unwrap_or(&zeros);
    let mut scale = [0.0f64; C];
    let mut new_bias = [T::zero(); C];
    let parts = norm.gamma.iter().zip(&norm.beta).zip(norm.moving_mean.iter().zip(&norm.moving_variance));
    for (((s, nb), ((&g, &beta), (&m, &v))), &b) in scale.iter_mut().zip(new_bias.iter_mut()).zip(parts).zip(bias) {
        *s = g.to_f64_lossless() / num_traits::Float::sqrt(v.to_f64_lossless() + eps);
        *nb = T::lit((b.to_f64_lossless() - m.to_f64_lossless()) * *s + beta.to_f64_lossless());
    }
    (scale, new_bias)
}

/// Each output channel's weights scaled: `w = w·s` for the rows of a kernel whose last axis
/// is the output channel.
fn scale_columns<'a, T: Scalar + 'a, const C: usize>(rows: impl Iterator<Item = &'a mut [T; C]>, scale: &[f64; C]) {
    for row in rows {
        for (w, &s) in row.iter_mut().zip(scale) {
            *w = T::lit(w.to_f64_lossless() * s);
        }
    }
}

/// `K'[i][j] = K[i][j]·s_j`, `b' = (b − μ)·s + β`; with or without a bias before, the folded
/// layer has one.
impl<const IN: usize, const OUT: usize, T: Scalar, B: BiasMode> Absorb<BatchNormalization<OUT, T>>
    for Dense<IN, OUT, Identity, T, B>
{
    type Absorbed = Dense<IN, OUT, Identity, T, Bias>;

    fn absorb(&self, norm: &BatchNormalization<OUT, T>) -> Self::Absorbed {
        let (scale, bias) = scale_and_bias(norm, B::get(&self.bias));
        let mut kernel = self.kernel;
        scale_columns(kernel.iter_mut(), &scale);
        Dense::new(kernel, bias)
    }
}

/// `K'[ky][kx][c][o] = K[ky][kx][c][o]·s_o`, `b' = (b − μ)·s + β`; any kernel and stride
/// shape, with or without a bias before (the folded layer has one).
impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> Absorb<BatchNormalization<CO, T>> for Conv2D<CI, CO, K, Identity, S, P, T, B, KW, SW>
{
    type Absorbed = Conv2D<CI, CO, K, Identity, S, P, T, Bias, KW, SW>;

    fn absorb(&self, norm: &BatchNormalization<CO, T>) -> Self::Absorbed {
        let (scale, bias) = scale_and_bias(norm, B::get(&self.bias));
        let mut kernel = self.kernel;
        scale_columns(kernel.as_flattened_mut().as_flattened_mut().iter_mut(), &scale);
        Conv2D::new(kernel, bias)
    }
}

/// The normalisation after a depthwise layer has `C·M` channels; stable Rust cannot write
/// `BatchNormalization<{ C * M }>` in an impl, so the impl takes any `N` and this checks it.
struct DepthwiseNorm<const C: usize, const M: usize, const N: usize>;

impl<const C: usize, const M: usize, const N: usize> DepthwiseNorm<C, M, N> {
    /// `()` if `N == C·M`; otherwise evaluating it stops the build.
    const CHANNELS_MATCH: () = if N != C * M {
        // A compile error: const evaluation never reaches run time.
        #[allow(clippy::panic)]
        {
            panic!("a BatchNormalization folded into a DepthwiseConv2D must have its C·M output channels")
        }
    };
}

/// `K'[ky][kx][c][m] = K[ky][kx][c][m]·s_{c·M+m}`, `b' = (b − μ)·s + β` (the bias held as
/// `[[T; M]; C]`, output channel `c·M + m`); any kernel, stride and multiplier, with or without
/// a bias before (the folded layer has one).
impl<
    const C: usize,
    const K: usize,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
    const N: usize,
> Absorb<BatchNormalization<N, T>> for DepthwiseConv2D<C, K, Identity, S, P, T, B, M, KW, SW>
{
    type Absorbed = DepthwiseConv2D<C, K, Identity, S, P, T, Bias, M, KW, SW>;

    fn absorb(&self, norm: &BatchNormalization<N, T>) -> Self::Absorbed {
        let () = DepthwiseNorm::<C, M, N>::CHANNELS_MATCH;
        let mut old = [T::zero(); N];
        if let Some(bias) = B::get(&self.bias) {
            old.iter_mut().zip(bias.as_flattened()).for_each(|(o, &b)| *o = b);
        }
        let (scale, new) = scale_and_bias(norm, Some(&old));
        let mut kernel = self.kernel;
        for tap in kernel.as_flattened_mut() {
            for (w, &s) in tap.as_flattened_mut().iter_mut().zip(&scale) {
                *w = T::lit(w.to_f64_lossless() * s);
            }
        }
        let mut bias = [[T::zero(); M]; C];
        bias.as_flattened_mut().iter_mut().zip(&new).for_each(|(b, &n)| *b = n);
        DepthwiseConv2D::new(kernel, bias)
    }
}

impl<const IN: usize, const OUT: usize, A: FuseRole<Role: ActivationFoldRole>, T: Scalar, B: BiasMode> FoldBatchNorm
    for Dense<IN, OUT, A, T, B>
{
    type Folded = Self;
    type Role = RoleOf<A>;

    fn fold_batch_norm(&self) -> Self {
        Dense::new(self.kernel, B::copy(&self.bias))
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: FuseRole<Role: ActivationFoldRole>,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> FoldBatchNorm for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    type Folded = Self;
    type Role = RoleOf<A>;

    fn fold_batch_norm(&self) -> Self {
        Conv2D::new(self.kernel, B::copy(&self.bias))
    }
}

impl<
    const C: usize,
    const K: usize,
    A: FuseRole<Role: ActivationFoldRole>,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> FoldBatchNorm for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    type Folded = Self;
    type Role = RoleOf<A>;

    fn fold_batch_norm(&self) -> Self {
        DepthwiseConv2D::new(self.kernel, B::copy(&self.bias))
    }
}

/// A normalisation with nothing to fold into stays.
impl<const C: usize, T: Scalar> FoldBatchNorm for BatchNormalization<C, T> {
    type Folded = Self;
    type Role = Normalizes;

    fn fold_batch_norm(&self) -> Self {
        self.clone()
    }
}

/// Layers without weights to fold into, kept as they are.
macro_rules! keeps_layer {
    ($([$($g:tt)*] $L:ty),* $(,)?) => {$(
        impl<$($g)*> FoldBatchNorm for $L {
            type Folded = Self;
            type Role = Keeps;

            fn fold_batch_norm(&self) -> Self {
                self.clone()
            }
        }
    )*};
}
keeps_layer!(
    [] Flatten,
    [] GlobalAvgPool2D,
    [] Skip,
    [const P: usize, const PW: usize] MaxPool2D<P, PW>,
    [const P: usize, const PW: usize] AvgPool2D<P, PW>,
    [const PERMILLE: usize] Dropout<PERMILLE>,
    [A: Clone] ActivationLayer<A>,
);

/// A residual block folds each branch.
impl<F: FoldBatchNorm, S: FoldBatchNorm> FoldBatchNorm for Residual<F, S> {
    type Folded = Residual<F::Folded, S::Folded>;
    type Role = Keeps;

    fn fold_batch_norm(&self) -> Self::Folded {
        Residual::new(self.branch.fold_batch_norm(), self.shortcut.fold_batch_norm())
    }
}

/// A list of references to layers, `(&A, (&B, (&C, ())))`, folded front to back: the
/// tuple's layers as the folding walks them.
#[doc(hidden)]
pub trait FoldList {
    /// The folded layers, as a list of values `(A', (B', ()))`.
    type Out;
    /// Folds the list.
    fn fold_list(self) -> Self::Out;
}

impl FoldList for () {
    type Out = ();
    fn fold_list(self) {}
}

/// The last layer: folded on its own.
impl<A: FoldBatchNorm> FoldList for (&A, ()) {
    type Out = (A::Folded, ());
    fn fold_list(self) -> Self::Out {
        (self.0.fold_batch_norm(), ())
    }
}

/// Two layers or more: the pair of their roles decides.
impl<'a, A: FoldBatchNorm, B: FoldBatchNorm, R> FoldList for (&'a A, (&'a B, R))
where
    (A::Role, B::Role): FoldPair<'a, A, B, R>,
{
    type Out = <(A::Role, B::Role) as FoldPair<'a, A, B, R>>::Out;
    fn fold_list(self) -> Self::Out {
        <(A::Role, B::Role)>::fold_pair(self.0, self.1)
    }
}

/// What the first two layers of a list become, chosen by their roles (`Self`).
#[doc(hidden)]
pub trait FoldPair<'a, A, B, R> {
    /// The folded list.
    type Out;
    /// Folds `a` and the rest of the list.
    fn fold_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out;
}

/// A layer that absorbs the normalisation after it: the pair becomes one layer.
impl<'a, A, B: 'a, R> FoldPair<'a, A, B, R> for (Absorbs, Normalizes)
where
    A: Absorb<B>,
    R: FoldList,
{
    type Out = (A::Absorbed, R::Out);
    fn fold_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out {
        (a.absorb(rest.0), rest.1.fold_list())
    }
}

/// Every other pair of roles: the first layer on its own, then the rest.
macro_rules! fold_apart {
    ($(($RA:ty, $RB:ty)),*) => {$(
        impl<'a, A: FoldBatchNorm, B: 'a, R> FoldPair<'a, A, B, R> for ($RA, $RB)
        where
            (&'a B, R): FoldList,
        {
            type Out = (A::Folded, <(&'a B, R) as FoldList>::Out);
            fn fold_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out {
                (a.fold_batch_norm(), rest.fold_list())
            }
        }
    )*};
}
fold_apart!(
    (Absorbs, Absorbs),
    (Absorbs, Keeps),
    (Normalizes, Absorbs),
    (Normalizes, Normalizes),
    (Normalizes, Keeps),
    (Keeps, Absorbs),
    (Keeps, Normalizes),
    (Keeps, Keeps)
);

/// A list of values `(A, (B, ()))` as the tuple `(A, B)`.
#[doc(hidden)]
pub trait IntoTuple {
    /// The tuple.
    type Tuple;
    /// The list as a tuple.
    fn into_tuple(self) -> Self::Tuple;
}

/// The list type `(A, (B, ..()))` of some types, and its pattern.
macro_rules! list {
    () => { () };
    ($head:tt $(, $tail:tt)*) => { ($head, list!($($tail),*)) };
}

/// The list of references `(&'a L0, (&'a L1, ..()))` for a tuple's layers.
macro_rules! ref_list {
    ($a:lifetime;) => { () };
    ($a:lifetime; $head:ident $(, $tail:ident)*) => { (&$a $head, ref_list!($a; $($tail),*)) };
}

/// The list of references to `self`'s fields.
macro_rules! field_list {
    ($s:ident;) => { () };
    ($s:ident; $head:tt $(, $tail:tt)*) => { (&$s.$head, field_list!($s; $($tail),*)) };
}

/// `IntoTuple` for lists of one to twelve elements, and `FoldBatchNorm` for the tuples.
macro_rules! tuple_fold {
    ($($L:ident $l:ident $i:tt),+) => {
        impl<$($L),+> IntoTuple for list!($($L),+) {
            type Tuple = ($($L,)+);
            fn into_tuple(self) -> Self::Tuple {
                let list!($($l),+) = self;
                ($($l,)+)
            }
        }

        /// A tuple folds its layers front to back (see the [module docs](self)).
        impl<$($L,)+ Out: IntoTuple> FoldBatchNorm for ($($L,)+)
        where
            for<'a> ref_list!('a; $($L),+): FoldList<Out = Out>,
        {
            type Folded = Out::Tuple;
            type Role = Keeps;

            fn fold_batch_norm(&self) -> Self::Folded {
                field_list!(self; $($i),+).fold_list().into_tuple()
            }
        }
    };
}
tuple_fold!(L0 l0 0);
tuple_fold!(L0 l0 0, L1 l1 1);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6, L7 l7 7);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6, L7 l7 7, L8 l8 8);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6, L7 l7 7, L8 l8 8, L9 l9 9);
tuple_fold!(L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6, L7 l7 7, L8 l8 8, L9 l9 9, L10 l10 10);
tuple_fold!(
    L0 l0 0, L1 l1 1, L2 l2 2, L3 l3 3, L4 l4 4, L5 l5 5, L6 l6 6, L7 l7 7, L8 l8 8, L9 l9 9, L10 l10 10, L11 l11 11
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Relu;
    use crate::init::SeedRng;
    use crate::{Layer, Params, Vector};

    #[test]
    fn a_dense_absorbs_the_normalisation_after_it() {
        let dense: Dense<2, 2, Identity, f64> = Dense::new([[1.0, 2.0], [-1.0, 0.5]], [0.1, -0.2]);
        let norm: BatchNormalization<2, f64> =
            BatchNormalization::new([2.0, 0.5], [0.3, -0.1], [0.4, -0.6], [3.0, 0.25]);
        let folded = dense.absorb(&norm);
        let x = Vector::from([0.7, -1.3]);
        let (a, b) = (norm.forward(&dense.forward(&x)), folded.forward(&x));
        for (a, b) in a.iter().zip(b.iter()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn only_an_identity_layer_right_before_absorbs() {
        type M = (
            Dense<3, 4, Relu, f64>,
            BatchNormalization<4, f64>,
            Dense<4, 4, Identity, f64>,
            BatchNormalization<4, f64>,
            BatchNormalization<4, f64>,
        );
        let model: M = M::init(&mut SeedRng::seed(3));
        // After a ReLU the normalisation stays; the identity Dense absorbs the first of the two
        // that follow it, and the second stays.
        type Expected = (
            Dense<3, 4, Relu, f64>,
            BatchNormalization<4, f64>,
            Dense<4, 4, Identity, f64>,
            BatchNormalization<4, f64>,
        );
        let folded: Expected = model.fold_batch_norm();
        assert_eq!(<M as Params<f64>>::PARAMS - <Folded<M> as Params<f64>>::PARAMS, 8);
        let _ = folded;
    }
}
