//! Activation fusion: a model's `ActivationLayer`s written into the `Dense`, `Conv2D` and
//! `DepthwiseConv2D` layers before them, and its `Dropout`s removed — a function from one model
//! *type* to another, as [`fold`](crate::fold) is.
//!
//! A model written layer for layer from Keras has its activations as layers of their own:
//! `Conv2D → BatchNormalization → Activation("relu")`, which folds to
//! `(Conv2D<.., Identity>, ActivationLayer<Relu>)`. Run as written, the activation is a second
//! pass over the convolution's whole output (for DS-CNN, a 32 KB image read and written nine
//! times). The same convolution with the activation in its type, `Conv2D<.., Relu>`, applies it
//! to each output row while the row is in cache, as XNNPACK fuses it. [`fuse_activations`]
//! returns that model, and [`Fused`] is its type, computed by the compiler:
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::fuse::Fused;
//! type Folded = (
//!     Conv2D<1, 4, 3, Identity, 1, Same>, ActivationLayer<Relu>, Dropout<200>,
//!     DepthwiseConv2D<4, 3, Identity, 1, Same>, ActivationLayer<Relu6>,
//!     MaxPool2D<2>, Flatten, Dense<16, 3>, ActivationLayer<Softmax>,
//! );
//! // Each activation layer is in the layer before it; the dropout is gone.
//! type Inference = (
//!     Conv2D<1, 4, 3, Relu, 1, Same>,
//!     DepthwiseConv2D<4, 3, Relu6, 1, Same>,
//!     MaxPool2D<2>, Flatten, Dense<16, 3, Softmax>,
//! );
//! let model: Folded = Folded::init(&mut SeedRng::seed(0));
//! let fused: Fused<Folded> = model.fuse_activations();
//! let _: &Inference = &fused; // the same type, spelled out
//! let x: Image<4, 4, 1> = Image::new(core::array::from_fn(|i| core::array::from_fn(|j| [(i * 4 + j) as f32 / 8.0 - 1.0])));
//! let (a, b) = (model.forward(&x), fused.forward(&x));
//! // The same bits up to the softmax, whose `exp` may round differently inside the Dense's
//! // SIMD kernel (see "Exactness" below).
//! assert!(a.iter().zip(b.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
//! ```
//!
//! # How the type changes
//! A tuple is walked as a list, as [`fold`](crate::fold) walks it, and each layer says with
//! [`FuseRole::Role`] how it pairs with the layer after it:
//!
//! - [`TakesActivation`]: a `Dense`, `Conv2D` or `DepthwiseConv2D` with the [`Identity`]
//!   activation, and a [`Residual`] block;
//! - [`IsActivation`]: an [`ActivationLayer`];
//! - [`Vanishes`]: a [`Dropout`], the identity at inference;
//! - [`Alone`]: every other layer.
//!
//! Where a `Dense`, `Conv2D` or `DepthwiseConv2D` with `Identity` is directly followed by
//! `ActivationLayer<A>`, the pair becomes the same layer with activation `A`: the same weights,
//! the same parameters ([`Params`](crate::Params) and the byte image are unchanged, as an
//! `ActivationLayer` has none). Every `Dropout` is removed from the type, also between a layer
//! and its activation (`(Conv2D<.., Identity>, Dropout<200>, ActivationLayer<Relu>)` is one
//! `Conv2D<.., Relu>`: inference does not drop). Every other layer is kept, a nested tuple and
//! the branch and shortcut of a [`Residual`] fused on their own. A [`Residual`]'s activation
//! layer is kept: `Residual` has no activation parameter in f32 (its int8 form has one, see
//! below). As for folding, a pair split across two tuples, `((.., Conv2D), (ActivationLayer,
//! ..))`, stays apart: keep a layer and its activation in one tuple.
//!
//! The shapes still check: an `ActivationLayer` maps a tensor to the same tensor type, so the
//! fused layer takes and gives what the pair did.
//!
//! # One set of roles for f32 and int8
//! The roles are those of the int8 type function too: [`Int8`](crate::quant::Int8) fuses the same
//! pairs into int8 layers ([`quant::fuse`](crate::quant::fuse)), and a `Residual` followed by an
//! activation layer into a `QResidual` with that activation (TFLite's `ADD` with a fused `RELU`).
//! A layer or activation of your own takes part in both with one impl of [`FuseRole`],
//! `type Role = Alone;`, plus, for a layer, [`FuseActivations`] with `type Fused = Self;`.
//! An activation's `FuseRole` is also the one BatchNorm [folding](crate::fold) reads (whether a
//! layer using it is affine, so that a normalisation after it folds): an activation of your own
//! has that one role impl, for folding, f32 fusion and int8 alike.
//!
//! # Exactness
//! A fused layer computes `A(z)` of the very `z` the unfused layer computed, with the kernel
//! that layer would have used, so for `Relu` and `Relu6` the outputs are the same bits,
//! single-sample and batched: `tests/fuse.rs` checks this for DS-CNN, ResNet-8, MobileNetV1 and
//! the autoencoder. The same holds for every activation without a vectorised `exp`. One that
//! has one (`Sigmoid`, `Softmax`, `Swish`, ...) may differ in the last bits: inside a layer's
//! AVX2 or AVX-512 kernel its `exp` is evaluated with fused multiply-adds, in an
//! `ActivationLayer` without.
//!
//! [`fuse_activations`]: FuseActivations::fuse_activations

use crate::Scalar;
use crate::activation::{
    Elu, Exponential, Gelu, HardSigmoid, HardSwish, Identity, LeakyRelu, LogSoftmax, Mish, Relu, Relu6, Selu, Sigmoid,
    Softmax, Softplus, Softsign, Swish, Tanh,
};
use crate::fold::IntoTuple;
use crate::layer::{
    ActivationLayer, AvgPool2D, BatchNormalization, BiasMode, Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten,
    GlobalAvgPool2D, MaxPool2D, Residual, Skip,
};

/// How a layer pairs with the layer after it when activations are fused, in f32
/// ([`FuseActivations`]) and in int8 ([`Int8`](crate::quant::Int8)): [`TakesActivation`],
/// [`IsActivation`], [`Vanishes`] or [`Alone`] (see the [module docs](self)); and the one role
/// trait of an activation, which BatchNorm folding reads too.
///
/// Implemented for every built-in layer and activation. An activation's role is that of a
/// `Dense`, `Conv2D` or `DepthwiseConv2D` using it: `Identity` [`TakesActivation`] (such a
/// layer takes the activation layer after it, and [absorbs](crate::fold::Absorbs) the
/// normalisation after it), every other built-in is [`Alone`] (the layer keeps both).
///
/// # Examples
/// An activation of your own implements this once and then takes part in
/// [`fold_batch_norm`](crate::fold::FoldBatchNorm::fold_batch_norm),
/// [`fuse_activations`](FuseActivations::fuse_activations) and [`Int8`](crate::quant::Int8):
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::fuse::{Alone, FuseRole, Fused};
/// #[derive(Clone, Copy, Debug, Default)]
/// struct Square;
/// impl Activation for Square {
///     fn f<T: Float>(x: T) -> T { x * x }
///     fn df<T: Float>(x: T) -> T { x + x }
/// }
/// impl FuseRole for Square {
///     type Role = Alone;
/// }
/// type Net = (Dense<4, 8, Square>, BatchNormalization<8>, ActivationLayer<Relu>, Dense<8, 2>, ActivationLayer<Softmax>);
/// let model: Net = Net::init(&mut SeedRng::seed(0));
/// // Nothing folds or fuses into the `Square` layer; the last `Dense` takes the softmax.
/// let deployed: Fused<typed_nn::fold::Folded<Net>> = model.fold_batch_norm().fuse_activations();
/// let _: &(Dense<4, 8, Square>, BatchNormalization<8>, ActivationLayer<Relu>, Dense<8, 2, Softmax>) = &deployed;
/// ```
#[diagnostic::on_unimplemented(
    message = "typed-nn does not know the role of `{Self}` in BatchNorm folding and activation fusion",
    label = "no `FuseRole` impl",
    note = "implement `typed_nn::fuse::FuseRole` for it, once for folding and fusion, with `type Role = typed_nn::fuse::Alone;` (a layer of your own also implements `typed_nn::fuse::FuseActivations` with `type Fused = Self;`)"
)]
pub trait FuseRole {
    /// [`TakesActivation`], [`IsActivation`], [`Vanishes`] or [`Alone`].
    type Role;
}

/// The role of a layer that can take the activation layer after it: a `Dense`, `Conv2D` or
/// `DepthwiseConv2D` with the [`Identity`] activation, and a [`Residual`] (in int8 only).
#[derive(Clone, Copy, Debug)]
pub enum TakesActivation {}

/// The role of an [`ActivationLayer`].
#[derive(Clone, Copy, Debug)]
pub enum IsActivation {}

/// The role of a layer that is the identity at inference, [`Dropout`]: removed by
/// [`FuseActivations`] (an int8 model has no such layer).
#[derive(Clone, Copy, Debug)]
pub enum Vanishes {}

/// The role of every other layer: kept on its own.
#[derive(Clone, Copy, Debug)]
pub enum Alone {}

impl FuseRole for Identity {
    type Role = TakesActivation;
}

macro_rules! alone_activation {
    ($($A:ident),*) => {$(
        impl FuseRole for $A {
            type Role = Alone;
        }
    )*};
}
alone_activation!(
    Relu,
    Relu6,
    LeakyRelu,
    Elu,
    Selu,
    Gelu,
    Sigmoid,
    HardSigmoid,
    Tanh,
    Softplus,
    Softsign,
    Swish,
    HardSwish,
    Mish,
    Exponential,
    Softmax,
    LogSoftmax
);

impl<const IN: usize, const OUT: usize, A: FuseRole, T, B: BiasMode> FuseRole for Dense<IN, OUT, A, T, B> {
    type Role = A::Role;
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: FuseRole,
    const S: usize,
    P,
    T,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> FuseRole for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    type Role = A::Role;
}

impl<
    const C: usize,
    const K: usize,
    A: FuseRole,
    const S: usize,
    P,
    T,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> FuseRole for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    type Role = A::Role;
}

impl<F, S> FuseRole for Residual<F, S> {
    type Role = TakesActivation;
}

impl<A> FuseRole for ActivationLayer<A> {
    type Role = IsActivation;
}

impl<const PERMILLE: usize> FuseRole for Dropout<PERMILLE> {
    type Role = Vanishes;
}

macro_rules! alone_layer {
    ($([$($g:tt)*] $L:ty),* $(,)?) => {$(
        impl<$($g)*> FuseRole for $L {
            type Role = Alone;
        }
    )*};
}
alone_layer!(
    [] Flatten,
    [] GlobalAvgPool2D,
    [] Skip,
    [const P: usize, const PW: usize] MaxPool2D<P, PW>,
    [const P: usize, const PW: usize] AvgPool2D<P, PW>,
    [const C: usize, T] BatchNormalization<C, T>,
);

/// A layer or model whose activation layers can be fused into the layers before them and whose
/// dropouts can be removed: [`fuse_activations`](FuseActivations::fuse_activations) (see the
/// [module docs](self)).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::fuse::Fused;
/// type Block = (Dense<6, 5>, Dropout<100>, ActivationLayer<Relu>, Dense<5, 3, Softmax>);
/// // The type the compiler computes: one layer per weighted layer.
/// let fused: Fused<Block> = Block::init(&mut SeedRng::seed(1)).fuse_activations();
/// let _: (Dense<6, 5, Relu>, Dense<5, 3, Softmax>) = fused;
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None; the fused model is returned by value. `Box::new` of the result still builds it on the
/// stack first (in a debug build always), so a model larger than the thread's stack is fused
/// part by part (a nested tuple's blocks one at a time), as for
/// [`fold_batch_norm`](crate::fold::FoldBatchNorm::fold_batch_norm).
#[diagnostic::on_unimplemented(
    message = "typed-nn does not know how to fuse the activations of `{Self}`",
    label = "no `FuseActivations` impl",
    note = "a layer of your own implements `typed_nn::fuse::FuseActivations` with `type Fused = Self;` and a `fuse_activations` that returns a clone, and `typed_nn::fuse::FuseRole` with `type Role = typed_nn::fuse::Alone;`"
)]
pub trait FuseActivations {
    /// The fused model's type.
    type Fused;

    /// The fused model: the same outputs, each activation layer inside the layer before it
    /// where it can be, and no dropout.
    fn fuse_activations(&self) -> Self::Fused;
}

/// The type `fuse_activations` returns for a model `M`.
pub type Fused<M> = <M as FuseActivations>::Fused;

/// A [`TakesActivation`] layer followed by `ActivationLayer<Act>` and then the list `R`: what
/// the pair and the rest become.
#[doc(hidden)]
pub trait TakeActivation<'a, Act, R> {
    /// The fused list.
    type Out;
    /// `self` with `act` fused in, then the rest fused.
    fn take_activation(&'a self, act: &'a ActivationLayer<Act>, rest: R) -> Self::Out;
}

/// `Dense<IN, OUT, Identity>` then `ActivationLayer<Act>`: `Dense<IN, OUT, Act>`, same weights.
impl<'a, const IN: usize, const OUT: usize, Act: 'a, T: Scalar, B: BiasMode, R: FuseList> TakeActivation<'a, Act, R>
    for Dense<IN, OUT, Identity, T, B>
{
    type Out = (Dense<IN, OUT, Act, T, B>, R::Out);
    fn take_activation(&'a self, _act: &'a ActivationLayer<Act>, rest: R) -> Self::Out {
        (Dense::new(self.kernel, B::copy(&self.bias)), rest.fuse_list())
    }
}

/// `Conv2D<.., Identity, ..>` then `ActivationLayer<Act>`: `Conv2D<.., Act, ..>`, same weights.
impl<
    'a,
    const CI: usize,
    const CO: usize,
    const K: usize,
    Act: 'a,
    const S: usize,
    P: 'a,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
    R: FuseList,
> TakeActivation<'a, Act, R> for Conv2D<CI, CO, K, Identity, S, P, T, B, KW, SW>
{
    type Out = (Conv2D<CI, CO, K, Act, S, P, T, B, KW, SW>, R::Out);
    fn take_activation(&'a self, _act: &'a ActivationLayer<Act>, rest: R) -> Self::Out {
        (Conv2D::new(self.kernel, B::copy(&self.bias)), rest.fuse_list())
    }
}

/// `DepthwiseConv2D<.., Identity, ..>` then `ActivationLayer<Act>`: `DepthwiseConv2D<.., Act,
/// ..>`, same weights.
impl<
    'a,
    const C: usize,
    const K: usize,
    Act: 'a,
    const S: usize,
    P: 'a,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
    R: FuseList,
> TakeActivation<'a, Act, R> for DepthwiseConv2D<C, K, Identity, S, P, T, B, M, KW, SW>
{
    type Out = (DepthwiseConv2D<C, K, Act, S, P, T, B, M, KW, SW>, R::Out);
    fn take_activation(&'a self, _act: &'a ActivationLayer<Act>, rest: R) -> Self::Out {
        (DepthwiseConv2D::new(self.kernel, B::copy(&self.bias)), rest.fuse_list())
    }
}

/// A residual block keeps its activation layer in f32 (it has no activation parameter); its
/// branches are fused.
impl<'a, F: FuseActivations, S: FuseActivations, Act: Clone + 'a, R: FuseList> TakeActivation<'a, Act, R>
    for Residual<F, S>
{
    type Out = (Residual<F::Fused, S::Fused>, (ActivationLayer<Act>, R::Out));
    fn take_activation(&'a self, act: &'a ActivationLayer<Act>, rest: R) -> Self::Out {
        (self.fuse_activations(), (act.clone(), rest.fuse_list()))
    }
}

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: BiasMode> FuseActivations for Dense<IN, OUT, A, T, B> {
    type Fused = Self;

    fn fuse_activations(&self) -> Self {
        Dense::new(self.kernel, B::copy(&self.bias))
    }
}

impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const KW: usize,
    const SW: usize,
> FuseActivations for Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
    type Fused = Self;

    fn fuse_activations(&self) -> Self {
        Conv2D::new(self.kernel, B::copy(&self.bias))
    }
}

impl<
    const C: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: Scalar,
    B: BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> FuseActivations for DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
    type Fused = Self;

    fn fuse_activations(&self) -> Self {
        DepthwiseConv2D::new(self.kernel, B::copy(&self.bias))
    }
}

/// A dropout on its own (say, a residual block's whole branch) is the identity at inference:
/// [`Skip`].
impl<const PERMILLE: usize> FuseActivations for Dropout<PERMILLE> {
    type Fused = Skip;

    fn fuse_activations(&self) -> Skip {
        Skip
    }
}

/// Layers with nothing to fuse, kept as they are.
macro_rules! keeps_layer {
    ($([$($g:tt)*] $L:ty),* $(,)?) => {$(
        impl<$($g)*> FuseActivations for $L {
            type Fused = Self;

            fn fuse_activations(&self) -> Self {
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
    [const C: usize, T: Scalar] BatchNormalization<C, T>,
    [A: Clone] ActivationLayer<A>,
);

/// A residual block fuses its branch and its shortcut.
impl<F: FuseActivations, S: FuseActivations> FuseActivations for Residual<F, S> {
    type Fused = Residual<F::Fused, S::Fused>;

    fn fuse_activations(&self) -> Self::Fused {
        Residual::new(self.branch.fuse_activations(), self.shortcut.fuse_activations())
    }
}

/// A list of references to layers, `(&A, (&B, (&C, ())))`, fused front to back: the tuple's
/// layers as the fusion walks them.
#[doc(hidden)]
pub trait FuseList {
    /// The fused layers, as a list of values `(A', (B', ()))`.
    type Out;
    /// Fuses the list.
    fn fuse_list(self) -> Self::Out;
}

impl FuseList for () {
    type Out = ();
    fn fuse_list(self) {}
}

/// The last layer: on its own, chosen by its role.
impl<'a, A: FuseRole> FuseList for (&'a A, ())
where
    A::Role: FuseLast<'a, A>,
{
    type Out = <A::Role as FuseLast<'a, A>>::Out;
    fn fuse_list(self) -> Self::Out {
        <A::Role>::fuse_last(self.0)
    }
}

/// What the last layer of a list becomes, chosen by its role (`Self`).
#[doc(hidden)]
pub trait FuseLast<'a, A> {
    /// The fused list.
    type Out;
    /// Fuses `a`.
    fn fuse_last(a: &'a A) -> Self::Out;
}

/// A last dropout is removed.
impl<'a, A> FuseLast<'a, A> for Vanishes {
    type Out = ();
    fn fuse_last(_: &'a A) {}
}

/// Every other last layer is fused on its own.
macro_rules! last_kept {
    ($($R:ty),*) => {$(
        impl<'a, A: FuseActivations> FuseLast<'a, A> for $R {
            type Out = (A::Fused, ());
            fn fuse_last(a: &'a A) -> Self::Out {
                (a.fuse_activations(), ())
            }
        }
    )*};
}
last_kept!(TakesActivation, IsActivation, Alone);

/// Two layers or more: the pair of their roles decides.
impl<'a, A: FuseRole, B: FuseRole, R> FuseList for (&'a A, (&'a B, R))
where
    (A::Role, B::Role): FusePair<'a, A, B, R>,
{
    type Out = <(A::Role, B::Role) as FusePair<'a, A, B, R>>::Out;
    fn fuse_list(self) -> Self::Out {
        <(A::Role, B::Role)>::fuse_pair(self.0, self.1)
    }
}

/// What the first two layers of a list become, chosen by their roles (`Self`).
#[doc(hidden)]
pub trait FusePair<'a, A, B, R> {
    /// The fused list.
    type Out;
    /// Fuses `a` and the rest of the list.
    fn fuse_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out;
}

/// A layer that takes the activation layer after it: the pair is one layer (a residual block:
/// its branches fused, the activation layer kept).
impl<'a, A, Act: 'a, R> FusePair<'a, A, ActivationLayer<Act>, R> for (TakesActivation, IsActivation)
where
    A: TakeActivation<'a, Act, R>,
{
    type Out = A::Out;
    fn fuse_pair(a: &'a A, rest: (&'a ActivationLayer<Act>, R)) -> Self::Out {
        a.take_activation(rest.0, rest.1)
    }
}

/// A dropout first: removed, and the rest fused.
macro_rules! drop_first {
    ($($RB:ty),*) => {$(
        impl<'a, A, B: 'a, R> FusePair<'a, A, B, R> for (Vanishes, $RB)
        where
            (&'a B, R): FuseList,
        {
            type Out = <(&'a B, R) as FuseList>::Out;
            fn fuse_pair(_: &'a A, rest: (&'a B, R)) -> Self::Out {
                rest.fuse_list()
            }
        }
    )*};
}
drop_first!(TakesActivation, IsActivation, Vanishes, Alone);

/// A dropout second: removed, so the first layer meets the one after the dropout (a
/// `Conv2D<.., Identity>` still takes an activation layer behind a dropout).
macro_rules! drop_second {
    ($($RA:ty),*) => {$(
        impl<'a, A: 'a, B, R> FusePair<'a, A, B, R> for ($RA, Vanishes)
        where
            (&'a A, R): FuseList,
        {
            type Out = <(&'a A, R) as FuseList>::Out;
            fn fuse_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out {
                (a, rest.1).fuse_list()
            }
        }
    )*};
}
drop_second!(TakesActivation, IsActivation, Alone);

/// Every other pair of roles: the first layer on its own, then the rest.
macro_rules! fuse_apart {
    ($(($RA:ty, $RB:ty)),*) => {$(
        impl<'a, A: FuseActivations, B: 'a, R> FusePair<'a, A, B, R> for ($RA, $RB)
        where
            (&'a B, R): FuseList,
        {
            type Out = (A::Fused, <(&'a B, R) as FuseList>::Out);
            fn fuse_pair(a: &'a A, rest: (&'a B, R)) -> Self::Out {
                (a.fuse_activations(), rest.fuse_list())
            }
        }
    )*};
}
fuse_apart!(
    (TakesActivation, TakesActivation),
    (TakesActivation, Alone),
    (IsActivation, TakesActivation),
    (IsActivation, IsActivation),
    (IsActivation, Alone),
    (Alone, TakesActivation),
    (Alone, IsActivation),
    (Alone, Alone)
);

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

/// `FuseActivations` and `FuseRole` for tuples of one to twelve layers.
macro_rules! tuple_fuse {
    ($($L:ident $i:tt),+) => {
        /// A tuple fuses its layers front to back (see the [module docs](self)).
        impl<$($L: FuseRole,)+ Out: IntoTuple> FuseActivations for ($($L,)+)
        where
            for<'a> ref_list!('a; $($L),+): FuseList<Out = Out>,
        {
            type Fused = Out::Tuple;

            fn fuse_activations(&self) -> Self::Fused {
                field_list!(self; $($i),+).fuse_list().into_tuple()
            }
        }

        /// A nested tuple stands alone: its layers pair among themselves.
        impl<$($L),+> FuseRole for ($($L,)+) {
            type Role = Alone;
        }
    };
}
tuple_fuse!(L0 0);
tuple_fuse!(L0 0, L1 1);
tuple_fuse!(L0 0, L1 1, L2 2);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10);
tuple_fuse!(L0 0, L1 1, L2 2, L3 3, L4 4, L5 5, L6 6, L7 7, L8 8, L9 9, L10 10, L11 11);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::SeedRng;
    use crate::{Layer, Params, Vector};

    fn same_type<A: 'static, B: 'static>() -> bool {
        core::any::TypeId::of::<A>() == core::any::TypeId::of::<B>()
    }

    #[test]
    fn a_dropout_between_a_layer_and_its_activation_does_not_stop_the_fusion() {
        type M = (Dense<3, 4, Identity, f64>, Dropout<300>, Dropout<100>, ActivationLayer<Relu>);
        assert!(same_type::<Fused<M>, (Dense<3, 4, Relu, f64>,)>());
    }

    #[test]
    fn only_an_identity_layer_takes_the_activation_after_it() {
        type M = (
            ActivationLayer<Tanh>,
            Dense<3, 4, Relu, f64>,
            ActivationLayer<Relu>,
            BatchNormalization<4, f64>,
            ActivationLayer<Relu>,
            Dense<4, 4, Identity, f64>,
            ActivationLayer<Sigmoid>,
            ActivationLayer<Relu>,
            Dropout<500>,
        );
        // Only the identity Dense takes one (the first after it); the rest stay, the dropout goes.
        type Expected = (
            ActivationLayer<Tanh>,
            Dense<3, 4, Relu, f64>,
            ActivationLayer<Relu>,
            BatchNormalization<4, f64>,
            ActivationLayer<Relu>,
            Dense<4, 4, Sigmoid, f64>,
            ActivationLayer<Relu>,
        );
        assert!(same_type::<Fused<M>, Expected>());
    }

    #[test]
    fn a_fused_dense_keeps_its_weights_and_computes_the_pair() {
        type M = (Dense<2, 3, Identity, f64>, ActivationLayer<Relu6>);
        let model: M = (Dense::new([[1.0, -2.0, 7.0], [0.5, 0.25, 1.0]], [0.25, 0.5, 0.75]), ActivationLayer::new());
        let (fused,): (Dense<2, 3, Relu6, f64>,) = model.fuse_activations();
        assert_eq!((fused.kernel, fused.bias), (model.0.kernel, model.0.bias));
        let x = Vector::from([2.0, -1.0]);
        // z = (1.75, -3.75, 13.75) by hand (exact in binary): relu6 gives (1.75, 0, 6).
        assert_eq!(fused.forward(&x), model.forward(&x));
        assert_eq!(fused.forward(&x).as_slice(), &[1.75, 0.0, 6.0]);
    }

    #[test]
    fn residual_branches_are_fused_and_its_activation_layer_kept() {
        type Branch = (Dense<4, 4, Identity, f64>, ActivationLayer<Relu>, Dense<4, 4, Identity, f64>);
        type M = (Residual<Branch>, ActivationLayer<Relu>, Dropout<100>);
        type Expected = (Residual<(Dense<4, 4, Relu, f64>, Dense<4, 4, Identity, f64>)>, ActivationLayer<Relu>);
        assert!(same_type::<Fused<M>, Expected>());
        let model: M = M::init(&mut SeedRng::seed(4));
        let x = Vector::from([0.3, -0.7, 1.1, 0.2]);
        assert_eq!(model.fuse_activations().forward(&x), model.forward(&x));
    }
}
