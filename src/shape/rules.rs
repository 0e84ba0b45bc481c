//! The shape rules, one named trait each, so that breaking one gives an error that says which.
//!
//! A layer's `Layer` impl is written for *any* input `X` that satisfies its rule
//! (`impl<X: DenseInput<..>> Layer<X> for Dense<..>`), and the rule computes the output type.
//! That shape is deliberate: when a model is miswired, rustc then reports the rule that failed,
//! with the message below, instead of "method exists but its trait bounds were not satisfied".
//!
//! **Rules in order.** Some rules only make sense once others hold: a stride of 0 would also
//! make "the kernel fits" fail (typenum cannot divide by zero), and a side above [`MAX_SIZE`]
//! cannot even be turned into a typenum number. So the convolution and pooling rules are
//! chained: each one (a trait implemented by the padding type, with an associated `Then`)
//! hands the padding type on to the next only when it holds. When one fails, the next rule's
//! input is unknown, rustc cannot decide it, and it reports only the first broken rule.
//!
//! **Rules a build checks.** Three rules compare sizes that stable Rust cannot compare in a
//! type: the `Dense` after a `Flatten` ([`DenseAfterFlatten`]) and the sizes of a `Dense` or a
//! `Conv2D` that are not part of any shape arithmetic ([`DenseSizes`], [`ConvSizes`]). They are
//! `const` assertions, evaluated when the program is built; every way of using a model
//! evaluates them, and [`check_model!`](crate::check_model) makes `cargo check` see them.
#![doc = ""]
#![doc = include_str!("../../docs/guide/shape-rules.md")]
//!

use core::ops::{Add, Div, Sub};

use typenum::{Bit, Const, Diff, Quot, Sum, U1, UInt, Unsigned};

pub use super::bridge::MAX_SIZE;
use super::bridge::{ToConst, ToTypenum};
use super::message::Message;
use super::padding::{Same, Valid};
use crate::shape::{Flat, Image, Vector};
use crate::{Scalar, Tensor};

/// The typenum twin of a size (sizes 0..=[`MAX_SIZE`]).
type Tn<const N: usize> = <Const<N> as ToTypenum>::Output;

/// Evaluates every build-time rule of a model on an input type in a `const` item, so that
/// `cargo check` reports them too, with a note on this line.
///
/// `check_model!(Model, Input)` expands to `const _: () = ..;`. Without it, the rules that
/// only a build can check (the `Dense` after a `Flatten`; a `Dense`'s sizes and a `Conv2D`'s
/// channel counts of at least 1) are still checked by every entry point (`forward`,
/// `forward_batch`, `value_and_grad`, `summary`, ...), when the program is built; the table
/// in [`shape::rules`](crate::shape::rules) says which rule is reported when.
///
/// ```
/// use typed_nn::prelude::*;
/// type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);
/// typed_nn::check_model!(Cnn, Image<28, 28, 1>);
/// ```
///
/// ```compile_fail
/// use typed_nn::prelude::*;
/// type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5400, 10, Softmax>);
/// typed_nn::check_model!(Cnn, Image<28, 28, 1>); // 13·13·32 = 5408, not 5400
/// ```
#[macro_export]
macro_rules! check_model {
    ($model:ty, $input:ty $(,)?) => {
        const _: () = <$model as $crate::Layer<$input>>::CHECK;
    };
}

// ---------------------------------------------------------------- sizes and their limits

/// A size the shape arithmetic computes with (an image side, kernel, stride or pooling window)
/// is at most [`MAX_SIZE`]: `Then` is `Self` when `N ≤ 4096`, and unknown otherwise (so the
/// rules after this one are not reported).
#[diagnostic::on_unimplemented(
    message = "typed-nn computes image shapes for sizes up to 4096, and {N} is larger",
    label = "an image side, kernel, stride or pooling window above 4096",
    note = "image sides, kernels, strides and pooling windows must be at most 4096 (`typed_nn::shape::rules::MAX_SIZE`); vector lengths and channel counts have no limit"
)]
pub trait AtMostMaxSize<const N: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

#[diagnostic::do_not_recommend]
impl<const N: usize, P> AtMostMaxSize<N> for P
where
    Const<N>: ToTypenum,
    Tn<N>: Pass<P>,
{
    type Then = <Tn<N> as Pass<P>>::Then;
}

/// Hands `P` on for any number (`Pass`) or any non-zero number (`PassNonZero`); what fails to
/// be a number, or is zero, hands on nothing.
#[doc(hidden)]
pub trait Pass<P> {
    /// `P`.
    type Then;
}

impl<N: Unsigned, P> Pass<P> for N {
    type Then = P;
}

#[doc(hidden)]
pub trait PassNonZero<P> {
    /// `P`.
    type Then;
}

impl<U: Unsigned, B: Bit, P> PassNonZero<P> for UInt<U, B> {
    type Then = P;
}

/// A `Conv2D`'s kernel is at least 1×1 (a 0×0 kernel would turn an 8×8 image into 9×9).
#[diagnostic::on_unimplemented(
    message = "a `Conv2D` kernel must be at least 1×1, but `Conv2D<{CI}, {CO}, {K}, ..>` has a {K}×{K} kernel",
    label = "a 0×0 kernel",
    note = "every size in a model must be at least 1: `Conv2D<CI, CO, K>` has CI input channels, CO filters and a K×K kernel"
)]
pub trait KernelAtLeastOne<const CI: usize, const CO: usize, const K: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

#[diagnostic::do_not_recommend]
impl<const CI: usize, const CO: usize, const K: usize, P> KernelAtLeastOne<CI, CO, K> for P
where
    Const<K>: ToTypenum,
    Tn<K>: PassNonZero<P>,
{
    type Then = <Tn<K> as PassNonZero<P>>::Then;
}

/// A `Conv2D`'s stride is at least 1.
#[diagnostic::on_unimplemented(
    message = "a `Conv2D` stride must be at least 1, but `Conv2D<{CI}, {CO}, {K}, _, {S}>` has stride {S}",
    label = "a stride of 0",
    note = "every size in a model must be at least 1: the stride is the `S` in `Conv2D<CI, CO, K, A, S>` (1 by default)"
)]
pub trait StrideAtLeastOne<const CI: usize, const CO: usize, const K: usize, const S: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

#[diagnostic::do_not_recommend]
impl<const CI: usize, const CO: usize, const K: usize, const S: usize, P> StrideAtLeastOne<CI, CO, K, S> for P
where
    Const<S>: ToTypenum,
    Tn<S>: PassNonZero<P>,
{
    type Then = <Tn<S> as PassNonZero<P>>::Then;
}

/// A pooling window is at least 1×1.
#[diagnostic::on_unimplemented(
    message = "a pooling window must be at least 1×1, but this one is {P}×{P}",
    label = "a 0×0 pooling window",
    note = "every size in a model must be at least 1: `MaxPool2D<P>` and `AvgPool2D<P>` pool P×P windows"
)]
pub trait PoolAtLeastOne<const P: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

#[diagnostic::do_not_recommend]
impl<const P: usize, G> PoolAtLeastOne<P> for G
where
    Const<P>: ToTypenum,
    Tn<P>: PassNonZero<G>,
{
    type Then = <Tn<P> as PassNonZero<G>>::Then;
}

/// Every size of a `Dense<IN, OUT>` is at least 1. Checked when the program is built (`IN` and
/// `OUT` are not limited to [`MAX_SIZE`], so no table can turn them into typenum numbers).
pub struct DenseSizes<const IN: usize, const OUT: usize>;

impl<const IN: usize, const OUT: usize> DenseSizes<IN, OUT> {
    const MESSAGE: Message = Message::new()
        .text("`Dense<")
        .num(IN)
        .text(", ")
        .num(OUT)
        .text(", ..>` has ")
        .num(if IN == 0 { IN } else { OUT })
        .text(if IN == 0 { " inputs" } else { " outputs" })
        .text(": every size in a model must be at least 1");

    /// `()` if `IN ≥ 1` and `OUT ≥ 1`; otherwise evaluating it stops the build.
    pub const AT_LEAST_ONE: () = if IN == 0 || OUT == 0 {
        // A compile error: const evaluation never reaches run time.
        #[allow(clippy::panic)]
        {
            panic!("{}", Self::MESSAGE.as_str())
        }
    };
}

/// Every size of a `Conv2D<CI, CO, K, _, S>` is at least 1. Checked when the program is built:
/// the channel counts have no limit; `K` and `S` are also rules [`cargo check`](KernelAtLeastOne)
/// sees as soon as the layer is given an input, this catches them without one (`PARAMS`).
pub struct ConvSizes<const CI: usize, const CO: usize, const K: usize, const S: usize>;

impl<const CI: usize, const CO: usize, const K: usize, const S: usize> ConvSizes<CI, CO, K, S> {
    const WHAT: (&'static str, usize, &'static str) = if CI == 0 {
        ("", CI, " input channels")
    } else if CO == 0 {
        ("", CO, " filters")
    } else if K == 0 {
        ("a ", K, "×0 kernel")
    } else {
        ("", S, " as its stride")
    };
    const MESSAGE: Message = Message::new()
        .text("`Conv2D<")
        .num(CI)
        .text(", ")
        .num(CO)
        .text(", ")
        .num(K)
        .text(", _, ")
        .num(S)
        .text(">` has ")
        .text(Self::WHAT.0)
        .num(Self::WHAT.1)
        .text(Self::WHAT.2)
        .text(": every size in a model must be at least 1");

    /// `()` if all four sizes are at least 1; otherwise evaluating it stops the build.
    pub const AT_LEAST_ONE: () = if CI == 0 || CO == 0 || K == 0 || S == 0 {
        // A compile error: const evaluation never reaches run time.
        #[allow(clippy::panic)]
        {
            panic!("{}", Self::MESSAGE.as_str())
        }
    };
}

// ---------------------------------------------------------------- Dense

/// What a `Dense<IN, OUT, A, T>` accepts: a `Vector<IN>`, or the `Flat<H, W, C>` output of a
/// `Flatten` with `H·W·C == IN` (that equality is checked when the program is built).
#[diagnostic::on_unimplemented(
    message = "`Dense<{IN}, {OUT}, _>` takes `Vector<{IN}>`, but it is given `{Self}`",
    label = "expected `Vector<{IN}>`",
    note = "a layer must take exactly what the previous layer produces; an image needs a `Flatten` before a `Dense`; a boxed vector is passed as `&*boxed`"
)]
pub trait DenseInput<const IN: usize, const OUT: usize, A, T: Scalar>: Tensor<Elem = T> {
    /// Always `Vector<OUT, T>`; an associated type so the output is only known once the input
    /// is (see the module docs).
    type Out: Tensor<Elem = T>;

    /// The build-time rules ([`DenseSizes`], and [`DenseAfterFlatten`] for a `Flat`),
    /// evaluated by every `Dense` method.
    #[doc(hidden)]
    const CHECK: () = DenseSizes::<IN, OUT>::AT_LEAST_ONE;

    /// Wraps the computed output.
    #[doc(hidden)]
    fn wrap(y: Vector<OUT, T>) -> Self::Out;

    /// Reads an output (gradient) back as a vector.
    #[doc(hidden)]
    fn unwrap(y: &Self::Out) -> &Vector<OUT, T>;
}

#[diagnostic::do_not_recommend]
impl<const IN: usize, const OUT: usize, A, T: Scalar> DenseInput<IN, OUT, A, T> for Vector<IN, T> {
    type Out = Vector<OUT, T>;
    #[inline(always)]
    fn wrap(y: Vector<OUT, T>) -> Self::Out {
        y
    }
    #[inline(always)]
    fn unwrap(y: &Self::Out) -> &Vector<OUT, T> {
        y
    }
}

#[diagnostic::do_not_recommend]
impl<const IN: usize, const OUT: usize, const H: usize, const W: usize, const C: usize, A, T: Scalar>
    DenseInput<IN, OUT, A, T> for Flat<H, W, C, T>
{
    type Out = Vector<OUT, T>;
    const CHECK: () = {
        let () = DenseSizes::<IN, OUT>::AT_LEAST_ONE;
        DenseAfterFlatten::<IN, OUT, H, W, C>::INPUT_SIZE_MATCHES
    };
    #[inline(always)]
    fn wrap(y: Vector<OUT, T>) -> Self::Out {
        y
    }
    #[inline(always)]
    fn unwrap(y: &Self::Out) -> &Vector<OUT, T> {
        y
    }
}

/// The one wiring rule stable Rust cannot check in `cargo check`: a `Dense<IN, OUT>` after a
/// `Flatten` of an `H × W × C` image needs `IN == H·W·C`. The assertion runs when the program
/// is built (`cargo build`, `cargo test`, `cargo run`), or in `cargo check` through
/// [`check_model!`](crate::check_model); its message names the `Dense` and both sizes, and rustc's notes name the model
/// and the line that uses it.
pub struct DenseAfterFlatten<const IN: usize, const OUT: usize, const H: usize, const W: usize, const C: usize>;

impl<const IN: usize, const OUT: usize, const H: usize, const W: usize, const C: usize>
    DenseAfterFlatten<IN, OUT, H, W, C>
{
    const FLAT: usize = H.saturating_mul(W).saturating_mul(C);
    const MESSAGE: Message = Message::new()
        .text("`Dense<")
        .num(IN)
        .text(", ")
        .num(OUT)
        .text(", ..>` takes ")
        .num(IN)
        .text(" inputs, but the `Flatten` before it produces ")
        .num(H)
        .text("·")
        .num(W)
        .text("·")
        .num(C)
        .text(" = ")
        .num(Self::FLAT)
        .text(" values: write `Dense<")
        .num(Self::FLAT)
        .text(", ")
        .num(OUT)
        .text(", ..>`");

    /// `()` if `IN == H·W·C`; otherwise evaluating it stops the build.
    pub const INPUT_SIZE_MATCHES: () = if IN != Self::FLAT {
        // A compile error: const evaluation never reaches run time.
        #[allow(clippy::panic)]
        {
            panic!("{}", Self::MESSAGE.as_str())
        }
    };
}

// ---------------------------------------------------------------- convolution and pooling

/// One axis of a convolution: an image side `H`, a `K`-wide kernel and stride `S` under this
/// padding give an output side [`Side`](KernelFits::Side) (as `Const<N>`).
///
/// `Valid` (Keras' default) needs the kernel to fit: `out = ⌊(H − K)/S⌋ + 1`, an error when
/// `K > H`. `Same` pads: `out = ⌈H/S⌉`.
#[diagnostic::on_unimplemented(
    message = "a {K}×{K} kernel with stride {S} does not fit an image side of {H} with `{Self}` padding",
    label = "the kernel is larger than the image",
    note = "with `Valid` padding the kernel must fit inside the image: use a smaller kernel, a bigger image, or `Same` padding"
)]
pub trait KernelFits<const H: usize, const K: usize, const S: usize> {
    /// The output side, `Const<N>`.
    type Side;
}

/// `⌊(H − K)/S⌋ + 1`; `H − K` does not exist in typenum when `K > H`, so that is a type error.
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize, const S: usize> KernelFits<H, K, S> for Valid
where
    Const<H>: ToTypenum,
    Const<K>: ToTypenum,
    Const<S>: ToTypenum,
    Tn<H>: Sub<Tn<K>>,
    Diff<Tn<H>, Tn<K>>: Div<Tn<S>>,
    Quot<Diff<Tn<H>, Tn<K>>, Tn<S>>: Add<U1>,
    Sum<Quot<Diff<Tn<H>, Tn<K>>, Tn<S>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<H>, Tn<K>>, Tn<S>>, U1> as ToConst>::Const;
}

/// `⌈H/S⌉ = ⌊(H + S − 1)/S⌋`.
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize, const S: usize> KernelFits<H, K, S> for Same
where
    Const<H>: ToTypenum,
    Const<S>: ToTypenum,
    Tn<H>: Add<Tn<S>>,
    Sum<Tn<H>, Tn<S>>: Sub<U1>,
    Diff<Sum<Tn<H>, Tn<S>>, U1>: Div<Tn<S>>,
    Quot<Diff<Sum<Tn<H>, Tn<S>>, U1>, Tn<S>>: ToConst,
{
    type Side = <Quot<Diff<Sum<Tn<H>, Tn<S>>, U1>, Tn<S>> as ToConst>::Const;
}

/// A `Conv2D<CI, ..>` takes images with `CI` channels.
#[diagnostic::on_unimplemented(
    message = "`Conv2D<{CI}, {CO}, {K}, ..>` takes images with {CI} channel(s), but it is given `{Self}`",
    label = "expected an `Image<_, _, {CI}>`",
    note = "a Conv2D's first parameter is its input channel count: it must equal the channels of the previous layer's output (1 for grey, 3 for RGB, F after a Conv2D with F filters)"
)]
pub trait ConvChannels<const CI: usize, const CO: usize, const K: usize> {}

impl<const H: usize, const W: usize, const C: usize, const CO: usize, const K: usize, T> ConvChannels<C, CO, K>
    for Image<H, W, C, T>
{
}

/// What a `Conv2D<CI, CO, K, A, S, P, T>` accepts: an `Image<H, W, CI>` whose sides fit the
/// kernel ([`KernelFits`]), with every size of the layer at least 1 and every side at most
/// [`MAX_SIZE`]; it produces `Image<HO, WO, CO>`.
#[diagnostic::on_unimplemented(
    message = "`Conv2D<{CI}, {CO}, {K}, ..>` takes an image, but it is given `{Self}`",
    label = "expected an `Image<_, _, {CI}>`",
    note = "a Conv2D works on images (`Image<H, W, C>`): it can follow the model's input, a Conv2D or a pooling layer, not a `Dense`; a boxed image is passed as `&*boxed`"
)]
pub trait ConvInput<const CI: usize, const CO: usize, const K: usize, const S: usize, P, T: Scalar>:
    Tensor<Elem = T>
{
    /// `Image<HO, WO, CO, T>`.
    type Out: Tensor<Elem = T>;
    /// Input height and width.
    const HW: (usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
    /// The build-time rule [`ConvSizes`].
    #[doc(hidden)]
    const CHECK: () = ConvSizes::<CI, CO, K, S>::AT_LEAST_ONE;
}

/// The rules in order (see the module docs): sizes within [`MAX_SIZE`], kernel and stride at
/// least 1, then the kernel fits each side; the channel count is independent of them.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const HO: usize,
    const WO: usize,
    P,
    T,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
> ConvInput<CI, CO, K, S, P, T> for Image<H, W, C, T>
where
    T: Scalar,
    Self: ConvChannels<CI, CO, K>,
    P: AtMostMaxSize<K, Then = P1>,
    P1: AtMostMaxSize<S, Then = P2>,
    P2: AtMostMaxSize<H, Then = P3>,
    P3: AtMostMaxSize<W, Then = P4>,
    P4: KernelAtLeastOne<CI, CO, K, Then = P5>,
    P5: StrideAtLeastOne<CI, CO, K, S, Then = P6>,
    P6: KernelFits<H, K, S, Side = Const<HO>> + KernelFits<W, K, S, Side = Const<WO>>,
{
    type Out = Image<HO, WO, CO, T>;
    const HW: (usize, usize) = (H, W);
    const OUT_HW: (usize, usize) = (HO, WO);
}

/// A `Conv2D` after a `Flatten`: never holds, so that rustc names the mistake.
#[diagnostic::on_unimplemented(
    message = "`Conv2D<{CI}, {CO}, {K}, ..>` cannot follow a `Flatten`: it takes an image, but it is given `{Self}`",
    label = "a flattened image",
    note = "a Conv2D works on images: move the `Flatten` after the last convolution or pooling layer"
)]
pub trait ConvAfterFlatten<const CI: usize, const CO: usize, const K: usize> {}

/// Never applies (nothing implements [`ConvAfterFlatten`]): it makes rustc report that
/// trait's message rather than the channel count's.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CI: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    P,
    T,
> ConvInput<CI, CO, K, S, P, T> for Flat<H, W, C, T>
where
    T: Scalar,
    Self: ConvAfterFlatten<CI, CO, K>,
{
    type Out = Self;
    const HW: (usize, usize) = (0, 0);
    const OUT_HW: (usize, usize) = (0, 0);
}

/// A `P × P` pooling window (stride `P`, no padding) fits a side of `H`:
/// `out = ⌊(H − P)/P⌋ + 1` (Keras: 26 → 13, 5 → 2); an error when `P > H`.
#[diagnostic::on_unimplemented(
    message = "a {P}×{P} pooling window does not fit an image side of {H}",
    label = "the pooling window is larger than the image",
    note = "pooling with stride P and no padding needs P ≤ H; use a smaller window"
)]
pub trait PoolFits<const H: usize, const P: usize> {
    /// The output side, `Const<N>`.
    type Side;
}

/// The same arithmetic as [`KernelFits`] for `Valid` with `K = S = P`, spelled out so that a
/// failure reports this rule, not the convolution's.
#[diagnostic::do_not_recommend]
impl<const H: usize, const P: usize> PoolFits<H, P> for Valid
where
    Const<H>: ToTypenum,
    Const<P>: ToTypenum,
    Tn<H>: Sub<Tn<P>>,
    Diff<Tn<H>, Tn<P>>: Div<Tn<P>>,
    Quot<Diff<Tn<H>, Tn<P>>, Tn<P>>: Add<U1>,
    Sum<Quot<Diff<Tn<H>, Tn<P>>, Tn<P>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<H>, Tn<P>>, Tn<P>>, U1> as ToConst>::Const;
}

/// What a `MaxPool2D<P>` or `AvgPool2D<P>` accepts: any `Image<H, W, C>` with
/// `1 ≤ P ≤ H, W ≤ MAX_SIZE`; it produces `Image<⌊H/P⌋, ⌊W/P⌋, C>`.
#[diagnostic::on_unimplemented(
    message = "a {P}×{P} pooling layer takes an `Image`, but it is given `{Self}`",
    label = "expected an `Image<H, W, C>`",
    note = "pooling works on images; it cannot follow a `Flatten` or a `Dense`; a boxed image is passed as `&*boxed`"
)]
pub trait PoolInput<const P: usize>: Tensor {
    /// `Image<HO, WO, C, T>`.
    type Out: Tensor<Elem = Self::Elem>;
    /// Input height, width and channels.
    const HWC: (usize, usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
}

/// The rules in order: sizes within [`MAX_SIZE`], a window of at least 1, then it fits.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const P: usize,
    const HO: usize,
    const WO: usize,
    T: Scalar,
    G1,
    G2,
    G3,
    G4,
> PoolInput<P> for Image<H, W, C, T>
where
    Valid: AtMostMaxSize<P, Then = G1>,
    G1: AtMostMaxSize<H, Then = G2>,
    G2: AtMostMaxSize<W, Then = G3>,
    G3: PoolAtLeastOne<P, Then = G4>,
    G4: PoolFits<H, P, Side = Const<HO>> + PoolFits<W, P, Side = Const<WO>>,
{
    type Out = Image<HO, WO, C, T>;
    const HWC: (usize, usize, usize) = (H, W, C);
    const OUT_HW: (usize, usize) = (HO, WO);
}

/// What a `Flatten` or a `GlobalAvgPool2D` accepts: an `Image<H, W, C>`.
#[diagnostic::on_unimplemented(
    message = "this layer takes an `Image`, but it is given `{Self}`",
    label = "expected an `Image<H, W, C>`",
    note = "`Flatten` and `GlobalAvgPool2D` turn an image into a vector; the input is already not an image, or it is a boxed image, which is passed as `&*boxed`"
)]
pub trait ImageInput: Tensor {
    /// `Flat<H, W, C, T>`: the flattened image.
    type Flat: Tensor<Elem = Self::Elem>;
    /// `Vector<C, T>`: one value per channel.
    type Channels: Tensor<Elem = Self::Elem>;
    /// Height, width and channels.
    const HWC: (usize, usize, usize);
}

impl<const H: usize, const W: usize, const C: usize, T: Scalar> ImageInput for Image<H, W, C, T> {
    type Flat = Flat<H, W, C, T>;
    type Channels = Vector<C, T>;
    const HWC: (usize, usize, usize) = (H, W, C);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the number out of a computed `Const<N>`.
    trait Value {
        const N: usize;
    }
    impl<const N: usize> Value for Const<N> {
        const N: usize = N;
    }

    macro_rules! sides {
        ($rule:ident, $pad:ty: $(($h:literal, $k:literal, $s:literal)),* $(,)?) => {
            [$((<<$pad as $rule<$h, $k, $s>>::Side as Value>::N, $h, $k, $s)),*]
        };
    }

    /// Boundaries of the bridge: the buckets of 64, typenum's own table (1024), HD and 4K
    /// sides, and the limit.
    #[test]
    fn valid_convolution_sides_are_floor_h_minus_k_over_s_plus_one() {
        let table = sides!(KernelFits, Valid:
            (1, 1, 1), (28, 3, 1), (28, 5, 2), (63, 1, 1), (64, 1, 1), (65, 2, 1), (127, 1, 1), (128, 3, 2),
            (1024, 1, 1), (1025, 1, 1), (1025, 3, 1), (1080, 3, 1), (1920, 3, 1), (1920, 7, 2), (2046, 1, 1),
            (2047, 2, 1), (2048, 1, 1), (3840, 3, 3), (4095, 1, 1), (4096, 1, 1), (4096, 4096, 1), (4096, 1, 4096),
        );
        for (side, h, k, s) in table {
            assert_eq!(side, (h - k) / s + 1, "H = {h}, K = {k}, S = {s}");
        }
    }

    #[test]
    fn same_convolution_sides_are_ceil_h_over_s() {
        let table = sides!(KernelFits, Same:
            (1, 3, 1), (28, 3, 1), (28, 3, 3), (1025, 5, 1), (1080, 3, 2), (1920, 3, 7), (4095, 2, 2), (4096, 9, 1),
            (4096, 3, 4096),
        );
        for (side, h, _k, s) in table {
            let (h, s): (usize, usize) = (h, s);
            assert_eq!(side, h.div_ceil(s), "H = {h}, S = {s}");
        }
    }

    #[test]
    fn pooled_sides_drop_the_leftover_rows() {
        macro_rules! pooled {
            ($(($h:literal, $p:literal)),*) => { [$((<<Valid as PoolFits<$h, $p>>::Side as Value>::N, $h, $p)),*] };
        }
        for (side, h, p) in pooled![(26, 2), (5, 2), (1, 1), (1078, 2), (1918, 2), (2047, 2), (4096, 4096), (4096, 3)] {
            assert_eq!(side, h / p, "H = {h}, P = {p}");
        }
    }

    fn same_type<A, B: IsType<A>>() {}
    trait IsType<T> {}
    impl<T> IsType<T> for T {}

    #[test]
    fn conv_and_pool_outputs_are_plain_images_for_hd_frames() {
        same_type::<<Image<1080, 1920, 1> as ConvInput<1, 4, 3, 1, Valid, f32>>::Out, Image<1078, 1918, 4>>();
        same_type::<<Image<1078, 1918, 4> as PoolInput<2>>::Out, Image<539, 959, 4>>();
        same_type::<<Image<2160, 3840, 3> as ConvInput<3, 8, 3, 2, Same, f32>>::Out, Image<1080, 1920, 8>>();
    }
}
