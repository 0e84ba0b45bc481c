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
//! **Rules a build checks.** Four rules compare sizes that stable Rust cannot compare in a
//! type: the `Dense` after a `Flatten` ([`DenseAfterFlatten`]) and the sizes of a `Dense`, a
//! `Conv2D` or a `DepthwiseConv2D` that are not part of any shape arithmetic ([`DenseSizes`],
//! [`ConvSizes`], [`DepthwiseSizes`]). They are
//! `const` assertions, evaluated when the program is built; every way of using a model
//! evaluates them, and [`check_model!`](crate::check_model) makes `cargo check` see them.
#![doc = ""]
#![doc = include_str!("../../docs/guide/shape-rules.md")]
//!

use core::ops::{Add, Div, Mul, Sub};

use typenum::{Bit, Const, Diff, Prod, Quot, Sum, U1, UInt, Unsigned};

pub use super::bridge::MAX_SIZE;
use super::bridge::{Lookup, Split, ToConst, ToTypenum};
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
/// only a build can check (the `Dense` after a `Flatten`; a `Dense`'s sizes and the channel
/// counts of a `Conv2D` or `DepthwiseConv2D` of at least 1) are still checked by every entry point (`forward`,
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

/// Hands `P` on when both numbers of the pair are non-zero: one bound for the two sides of a
/// kernel, stride or window (a nested projection, one side's rule inside the other's, makes
/// rustc report a failure twice).
#[doc(hidden)]
pub trait PassBothNonZero<P> {
    /// `P`.
    type Then;
}

impl<U: Unsigned, B: Bit, V: Unsigned, C: Bit, P> PassBothNonZero<P> for (UInt<U, B>, UInt<V, C>) {
    type Then = P;
}

/// The impl of a rule "both sizes of a pair are at least 1" (a kernel's, the strides', a
/// pooling window's): `Then` is `Self` when both are non-zero numbers. The rule trait itself,
/// with its message, is written out below; only this impl is the same for the three.
macro_rules! both_at_least_one {
    ($Rule:ident) => {
        #[diagnostic::do_not_recommend]
        impl<const A: usize, const B: usize, P> $Rule<A, B> for P
        where
            Const<A>: ToTypenum,
            Const<B>: ToTypenum,
            (Tn<A>, Tn<B>): PassBothNonZero<P>,
        {
            type Then = <(Tn<A>, Tn<B>) as PassBothNonZero<P>>::Then;
        }
    };
}

/// A kernel is at least 1×1 in both directions (a 0×0 kernel would turn an 8×8 image into
/// 9×9). `Conv2D` and `DepthwiseConv2D` share the rule.
#[diagnostic::on_unimplemented(
    message = "a convolution kernel must be at least 1×1, but this one is {KH}×{KW}",
    label = "a kernel with a side of 0",
    note = "every size in a model must be at least 1: `Conv2D<CI, CO, K>` and `DepthwiseConv2D<C, K>` have a K×K kernel, `Conv2DRect<CI, CO, KH, KW>` and `DepthwiseConv2DRect<C, KH, KW>` a KH×KW one"
)]
pub trait KernelAtLeastOne<const KH: usize, const KW: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

both_at_least_one!(KernelAtLeastOne);

/// A convolution's strides are at least 1 in both directions.
#[diagnostic::on_unimplemented(
    message = "a convolution's strides must be at least 1, but they are ({SH}, {SW})",
    label = "a stride of 0",
    note = "every size in a model must be at least 1: the stride is the `S` in `Conv2D<CI, CO, K, A, S>` and `DepthwiseConv2D<C, K, A, S>` (1 by default); `Conv2DRect<CI, CO, KH, KW, A, SH, SW>` has two"
)]
pub trait StrideAtLeastOne<const SH: usize, const SW: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

both_at_least_one!(StrideAtLeastOne);

/// A pooling window is at least 1×1.
#[diagnostic::on_unimplemented(
    message = "a pooling window must be at least 1×1, but this one is {PH}×{PW}",
    label = "a pooling window with a side of 0",
    note = "every size in a model must be at least 1: `MaxPool2D<P>` and `AvgPool2D<P>` pool P×P windows, `MaxPool2D<PH, PW>` and `AvgPool2D<PH, PW>` PH×PW ones"
)]
pub trait PoolAtLeastOne<const PH: usize, const PW: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

both_at_least_one!(PoolAtLeastOne);

/// A `DepthwiseConv2D`'s depth multiplier is at least 1.
#[diagnostic::on_unimplemented(
    message = "a `DepthwiseConv2D`'s depth multiplier must be at least 1, but `DepthwiseConv2D<{C}, {KH}, ..>` has {M}",
    label = "a depth multiplier of 0",
    note = "every size in a model must be at least 1: the depth multiplier is the `M` in `DepthwiseConv2D<C, K, A, S, P, T, B, M>` (1 by default), and the layer outputs C·M channels"
)]
pub trait MultiplierAtLeastOne<const C: usize, const KH: usize, const M: usize> {
    /// `Self`, when the rule holds.
    type Then;
}

#[diagnostic::do_not_recommend]
impl<const C: usize, const KH: usize, const M: usize, P> MultiplierAtLeastOne<C, KH, M> for P
where
    Const<M>: ToTypenum,
    Tn<M>: PassNonZero<P>,
{
    type Then = <Tn<M> as PassNonZero<P>>::Then;
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

/// Every size of a `Conv2D` is at least 1: input channels, filters, both kernel sides and both
/// strides. Checked when the program is built: the channel counts have no limit; the kernel and
/// stride are also rules [`cargo check`](KernelAtLeastOne) sees as soon as the layer is given an
/// input, this catches them without one (`PARAMS`).
pub struct ConvSizes<
    const CI: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
>;

impl<const CI: usize, const CO: usize, const KH: usize, const KW: usize, const SH: usize, const SW: usize>
    ConvSizes<CI, CO, KH, KW, SH, SW>
{
    const MESSAGE: Message = {
        let m = Message::new().text("`Conv2D<").num(CI).text(", ").num(CO).text(", ").num(KH).text(", ..>` has ");
        let m = if CI == 0 {
            m.num(CI).text(" input channels")
        } else if CO == 0 {
            m.num(CO).text(" filters")
        } else if KH == 0 || KW == 0 {
            m.text("a ").num(KH).text("×").num(KW).text(" kernel")
        } else {
            m.text("strides (").num(SH).text(", ").num(SW).text(")")
        };
        m.text(": every size in a model must be at least 1")
    };

    /// `()` if all six sizes are at least 1; otherwise evaluating it stops the build.
    pub const AT_LEAST_ONE: () = if CI == 0 || CO == 0 || KH == 0 || KW == 0 || SH == 0 || SW == 0 {
        // A compile error: const evaluation never reaches run time.
        #[allow(clippy::panic)]
        {
            panic!("{}", Self::MESSAGE.as_str())
        }
    };
}

/// Every size of a `DepthwiseConv2D` is at least 1: channels, depth multiplier, both kernel
/// sides and both strides. Checked when the program is built (the channel count has no limit);
/// all but the channel count are also rules `cargo check` sees once the layer has an input.
pub struct DepthwiseSizes<
    const C: usize,
    const M: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
>;

impl<const C: usize, const M: usize, const KH: usize, const KW: usize, const SH: usize, const SW: usize>
    DepthwiseSizes<C, M, KH, KW, SH, SW>
{
    const MESSAGE: Message = {
        let m = Message::new().text("`DepthwiseConv2D<").num(C).text(", ").num(KH).text(", ..>` has ");
        let m = if C == 0 {
            m.num(C).text(" channels")
        } else if M == 0 {
            m.text("a depth multiplier of ").num(M)
        } else if KH == 0 || KW == 0 {
            m.text("a ").num(KH).text("×").num(KW).text(" kernel")
        } else {
            m.text("strides (").num(SH).text(", ").num(SW).text(")")
        };
        m.text(": every size in a model must be at least 1")
    };

    /// `()` if all six sizes are at least 1; otherwise evaluating it stops the build.
    pub const AT_LEAST_ONE: () = if C == 0 || M == 0 || KH == 0 || KW == 0 || SH == 0 || SW == 0 {
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

/// The rows of a convolution's output: an image `H` rows high, a `KH × KW` kernel and a
/// vertical stride `SH` under this padding give [`Side`](KernelFitsHeight::Side) rows.
///
/// `Valid` (Keras' default) needs the kernel to fit: `out = ⌊(H − KH)/SH⌋ + 1`, an error when
/// `KH > H`. `Same` pads: `out = ⌈H/SH⌉`. (The typenum arithmetic is written out in each
/// rule's impls rather than shared through a helper trait: a failure inside a helper would be
/// reported under the helper's name, not the rule's.)
#[diagnostic::on_unimplemented(
    message = "a {KH}×{KW} kernel does not fit an image of height {H} with `{Self}` padding",
    label = "the kernel is taller than the image",
    note = "with `Valid` padding the kernel must fit inside the image: use a smaller kernel, a bigger image, or `Same` padding"
)]
pub trait KernelFitsHeight<const H: usize, const KH: usize, const KW: usize, const SH: usize> {
    /// The output height, `Const<N>`.
    type Side;
    /// `Self`, when the rule holds: the width is checked next.
    type Then;
}

/// `⌊(H − KH)/SH⌋ + 1`; `H − KH` does not exist in typenum when `KH > H`, so that is a type
/// error.
#[diagnostic::do_not_recommend]
impl<const H: usize, const KH: usize, const KW: usize, const SH: usize> KernelFitsHeight<H, KH, KW, SH> for Valid
where
    Const<H>: ToTypenum,
    Const<KH>: ToTypenum,
    Const<SH>: ToTypenum,
    Tn<H>: Sub<Tn<KH>>,
    Diff<Tn<H>, Tn<KH>>: Div<Tn<SH>>,
    Quot<Diff<Tn<H>, Tn<KH>>, Tn<SH>>: Add<U1>,
    Sum<Quot<Diff<Tn<H>, Tn<KH>>, Tn<SH>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<H>, Tn<KH>>, Tn<SH>>, U1> as ToConst>::Const;
    type Then = Valid;
}

/// `⌈H/SH⌉ = ⌊(H + SH − 1)/SH⌋`.
#[diagnostic::do_not_recommend]
impl<const H: usize, const KH: usize, const KW: usize, const SH: usize> KernelFitsHeight<H, KH, KW, SH> for Same
where
    Const<H>: ToTypenum,
    Const<SH>: ToTypenum,
    Tn<H>: Add<Tn<SH>>,
    Sum<Tn<H>, Tn<SH>>: Sub<U1>,
    Diff<Sum<Tn<H>, Tn<SH>>, U1>: Div<Tn<SH>>,
    Quot<Diff<Sum<Tn<H>, Tn<SH>>, U1>, Tn<SH>>: ToConst,
{
    type Side = <Quot<Diff<Sum<Tn<H>, Tn<SH>>, U1>, Tn<SH>> as ToConst>::Const;
    type Then = Same;
}

/// The columns of a convolution's output: an image `W` columns wide, a `KH × KW` kernel and
/// a horizontal stride `SW` under this padding give [`Side`](KernelFitsWidth::Side) columns:
/// `⌊(W − KW)/SW⌋ + 1` with `Valid` padding (an error when `KW > W`), `⌈W/SW⌉` with `Same`.
#[diagnostic::on_unimplemented(
    message = "a {KH}×{KW} kernel does not fit an image of width {W} with `{Self}` padding",
    label = "the kernel is wider than the image",
    note = "with `Valid` padding the kernel must fit inside the image: use a smaller kernel, a bigger image, or `Same` padding"
)]
pub trait KernelFitsWidth<const W: usize, const KH: usize, const KW: usize, const SW: usize> {
    /// The output width, `Const<N>`.
    type Side;
}

/// `⌊(W − KW)/SW⌋ + 1`.
#[diagnostic::do_not_recommend]
impl<const W: usize, const KH: usize, const KW: usize, const SW: usize> KernelFitsWidth<W, KH, KW, SW> for Valid
where
    Const<W>: ToTypenum,
    Const<KW>: ToTypenum,
    Const<SW>: ToTypenum,
    Tn<W>: Sub<Tn<KW>>,
    Diff<Tn<W>, Tn<KW>>: Div<Tn<SW>>,
    Quot<Diff<Tn<W>, Tn<KW>>, Tn<SW>>: Add<U1>,
    Sum<Quot<Diff<Tn<W>, Tn<KW>>, Tn<SW>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<W>, Tn<KW>>, Tn<SW>>, U1> as ToConst>::Const;
}

/// `⌈W/SW⌉`.
#[diagnostic::do_not_recommend]
impl<const W: usize, const KH: usize, const KW: usize, const SW: usize> KernelFitsWidth<W, KH, KW, SW> for Same
where
    Const<W>: ToTypenum,
    Const<SW>: ToTypenum,
    Tn<W>: Add<Tn<SW>>,
    Sum<Tn<W>, Tn<SW>>: Sub<U1>,
    Diff<Sum<Tn<W>, Tn<SW>>, U1>: Div<Tn<SW>>,
    Quot<Diff<Sum<Tn<W>, Tn<SW>>, U1>, Tn<SW>>: ToConst,
{
    type Side = <Quot<Diff<Sum<Tn<W>, Tn<SW>>, U1>, Tn<SW>> as ToConst>::Const;
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

/// What a `Conv2D` with a `KH × KW` kernel and strides `(SH, SW)` accepts: an
/// `Image<H, W, CI>` whose sides fit the kernel ([`KernelFitsHeight`], [`KernelFitsWidth`]),
/// with every size of the layer at least 1 and every side at most [`MAX_SIZE`]; it produces
/// `Image<HO, WO, CO>`.
#[diagnostic::on_unimplemented(
    message = "`Conv2D<{CI}, {CO}, {KH}, ..>` takes an image, but it is given `{Self}`",
    label = "expected an `Image<_, _, {CI}>`",
    note = "a Conv2D works on images (`Image<H, W, C>`): it can follow the model's input, a Conv2D or a pooling layer, not a `Dense`; a boxed image is passed as `&*boxed`"
)]
pub trait ConvInput<
    const CI: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P,
    T: Scalar,
>: Tensor<Elem = T>
{
    /// `Image<HO, WO, CO, T>`.
    type Out: Tensor<Elem = T>;
    /// Input height and width.
    const HW: (usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
    /// The build-time rule [`ConvSizes`].
    #[doc(hidden)]
    const CHECK: () = ConvSizes::<CI, CO, KH, KW, SH, SW>::AT_LEAST_ONE;
}

/// The rules in order (see the module docs): sizes within [`MAX_SIZE`], kernel and strides at
/// least 1, then the kernel fits the height, then the width; the channel count is independent
/// of them.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CI: usize,
    const CO: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
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
    P7,
    P8,
    P9,
> ConvInput<CI, CO, KH, KW, SH, SW, P, T> for Image<H, W, C, T>
where
    T: Scalar,
    Self: ConvChannels<CI, CO, KH>,
    P: AtMostMaxSize<KH, Then = P1>,
    P1: AtMostMaxSize<KW, Then = P2>,
    P2: AtMostMaxSize<SH, Then = P3>,
    P3: AtMostMaxSize<SW, Then = P4>,
    P4: AtMostMaxSize<H, Then = P5>,
    P5: AtMostMaxSize<W, Then = P6>,
    P6: KernelAtLeastOne<KH, KW, Then = P7>,
    P7: StrideAtLeastOne<SH, SW, Then = P8>,
    P8: KernelFitsHeight<H, KH, KW, SH, Side = Const<HO>, Then = P9>,
    P9: KernelFitsWidth<W, KH, KW, SW, Side = Const<WO>>,
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
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P,
    T,
> ConvInput<CI, CO, KH, KW, SH, SW, P, T> for Flat<H, W, C, T>
where
    T: Scalar,
    Self: ConvAfterFlatten<CI, CO, KH>,
{
    type Out = Self;
    const HW: (usize, usize) = (0, 0);
    const OUT_HW: (usize, usize) = (0, 0);
}

// ---------------------------------------------------------------- depthwise convolution

/// A `DepthwiseConv2D<C, ..>` takes images with `C` channels.
#[diagnostic::on_unimplemented(
    message = "`DepthwiseConv2D<{C}, {K}, ..>` takes images with {C} channel(s), but it is given `{Self}`",
    label = "expected an `Image<_, _, {C}>`",
    note = "a DepthwiseConv2D's first parameter is its channel count: it must equal the channels of the previous layer's output (it filters each channel on its own and outputs C·M channels for a depth multiplier M)"
)]
pub trait DepthwiseChannels<const C: usize, const K: usize> {}

impl<const H: usize, const W: usize, const C: usize, const K: usize, T> DepthwiseChannels<C, K> for Image<H, W, C, T> {}

/// A `DepthwiseConv2D` with `C` channels and depth multiplier `M` has `C·M` output channels,
/// computed at compile time, up to [`MAX_SIZE`] (the bridge's table; MobileNets' depthwise
/// layers have at most 1024 channels).
#[diagnostic::on_unimplemented(
    message = "a `DepthwiseConv2D` with {C} channels and depth multiplier {M} has {C}·{M} output channels, more than typed-nn computes (4096)",
    label = "more than 4096 output channels",
    note = "a DepthwiseConv2D's output channel count C·M is computed at compile time, up to 4096 (`typed_nn::shape::rules::MAX_SIZE`)"
)]
pub trait DepthwiseOutChannels<const C: usize, const M: usize> {
    /// `Const<C·M>`.
    type Channels;
    /// `Self`, when the rule holds.
    type Then;
}

/// The typenum product, looked up in the bridge's table. The lookup is spelled out (`Split`,
/// then `Lookup`, which is what `ToConst` does) so that a product above 4096 fails on a bound of
/// this impl, which rustc then reports under this rule's name.
#[diagnostic::do_not_recommend]
impl<const C: usize, const M: usize, P> DepthwiseOutChannels<C, M> for P
where
    Const<C>: ToTypenum,
    Const<M>: ToTypenum,
    Tn<C>: Mul<Tn<M>>,
    Prod<Tn<C>, Tn<M>>: Split,
    Bucket<Prod<Tn<C>, Tn<M>>>: Lookup<High<Prod<Tn<C>, Tn<M>>>>,
{
    type Channels = <Bucket<Prod<Tn<C>, Tn<M>>> as Lookup<High<Prod<Tn<C>, Tn<M>>>>>::Const;
    type Then = P;
}

/// A typenum number's bucket in the bridge's table.
type Bucket<N> = <N as Split>::Bucket;
/// A typenum number's key within its bucket.
type High<N> = <N as Split>::High;

/// What a `DepthwiseConv2D` with `C` channels, depth multiplier `M`, a `KH × KW` kernel and
/// strides `(SH, SW)` accepts: an `Image<H, W, C>` whose sides fit the kernel (the same rules
/// as a `Conv2D`'s), with every size at least 1; it produces `Image<HO, WO, C·M>`.
#[diagnostic::on_unimplemented(
    message = "`DepthwiseConv2D<{C}, {KH}, ..>` takes an image, but it is given `{Self}`",
    label = "expected an `Image<_, _, {C}>`",
    note = "a DepthwiseConv2D works on images (`Image<H, W, C>`): it can follow the model's input, a convolution or a pooling layer, not a `Dense`; a boxed image is passed as `&*boxed`"
)]
pub trait DepthwiseInput<
    const C: usize,
    const M: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P,
    T: Scalar,
>: Tensor<Elem = T>
{
    /// `Image<HO, WO, C·M, T>`.
    type Out: Tensor<Elem = T>;
    /// Input height and width.
    const HW: (usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
    /// The build-time rule [`DepthwiseSizes`].
    #[doc(hidden)]
    const CHECK: () = DepthwiseSizes::<C, M, KH, KW, SH, SW>::AT_LEAST_ONE;
}

/// The rules in order: sizes within [`MAX_SIZE`], kernel, strides and multiplier at least 1,
/// the output channel count, then the kernel fits the height and the width; the channel count
/// is independent of them.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CI: usize,
    const M: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const HO: usize,
    const WO: usize,
    const CM: usize,
    P,
    T,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    P8,
    P9,
    P10,
    P11,
> DepthwiseInput<CI, M, KH, KW, SH, SW, P, T> for Image<H, W, C, T>
where
    T: Scalar,
    Self: DepthwiseChannels<CI, KH>,
    P: AtMostMaxSize<KH, Then = P1>,
    P1: AtMostMaxSize<KW, Then = P2>,
    P2: AtMostMaxSize<SH, Then = P3>,
    P3: AtMostMaxSize<SW, Then = P4>,
    P4: AtMostMaxSize<H, Then = P5>,
    P5: AtMostMaxSize<W, Then = P6>,
    P6: KernelAtLeastOne<KH, KW, Then = P7>,
    P7: StrideAtLeastOne<SH, SW, Then = P8>,
    P8: MultiplierAtLeastOne<CI, KH, M, Then = P9>,
    P9: DepthwiseOutChannels<CI, M, Channels = Const<CM>, Then = P10>,
    P10: KernelFitsHeight<H, KH, KW, SH, Side = Const<HO>, Then = P11>,
    P11: KernelFitsWidth<W, KH, KW, SW, Side = Const<WO>>,
{
    type Out = Image<HO, WO, CM, T>;
    const HW: (usize, usize) = (H, W);
    const OUT_HW: (usize, usize) = (HO, WO);
}

/// A `DepthwiseConv2D` after a `Flatten`: never holds, so that rustc names the mistake.
#[diagnostic::on_unimplemented(
    message = "`DepthwiseConv2D<{C}, {K}, ..>` cannot follow a `Flatten`: it takes an image, but it is given `{Self}`",
    label = "a flattened image",
    note = "a DepthwiseConv2D works on images: move the `Flatten` after the last convolution or pooling layer"
)]
pub trait DepthwiseAfterFlatten<const C: usize, const K: usize> {}

/// Never applies (nothing implements [`DepthwiseAfterFlatten`]).
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CI: usize,
    const M: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    P,
    T,
> DepthwiseInput<CI, M, KH, KW, SH, SW, P, T> for Flat<H, W, C, T>
where
    T: Scalar,
    Self: DepthwiseAfterFlatten<CI, KH>,
{
    type Out = Self;
    const HW: (usize, usize) = (0, 0);
    const OUT_HW: (usize, usize) = (0, 0);
}

// ---------------------------------------------------------------- pooling

/// The rows of a pooling layer's output: a `PH × PW` window (stride = window, no padding) on an
/// image `H` rows high gives `⌊(H − PH)/PH⌋ + 1` rows (Keras: 26 → 13, 5 → 2); an error when
/// `PH > H`.
#[diagnostic::on_unimplemented(
    message = "a {PH}×{PW} pooling window does not fit an image of height {H}",
    label = "the pooling window is taller than the image",
    note = "pooling with strides equal to the window and no padding needs a window no larger than the image; use a smaller window"
)]
pub trait PoolFitsHeight<const H: usize, const PH: usize, const PW: usize> {
    /// The output height, `Const<N>`.
    type Side;
    /// `Self`, when the rule holds: the width is checked next.
    type Then;
}

/// The same arithmetic as [`KernelFitsHeight`] for `Valid` with `KH = SH = PH`, spelled out so
/// that a failure reports this rule, not the convolution's.
#[diagnostic::do_not_recommend]
impl<const H: usize, const PH: usize, const PW: usize> PoolFitsHeight<H, PH, PW> for Valid
where
    Const<H>: ToTypenum,
    Const<PH>: ToTypenum,
    Const<PH>: ToTypenum,
    Tn<H>: Sub<Tn<PH>>,
    Diff<Tn<H>, Tn<PH>>: Div<Tn<PH>>,
    Quot<Diff<Tn<H>, Tn<PH>>, Tn<PH>>: Add<U1>,
    Sum<Quot<Diff<Tn<H>, Tn<PH>>, Tn<PH>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<H>, Tn<PH>>, Tn<PH>>, U1> as ToConst>::Const;
    type Then = Valid;
}

/// The columns of a pooling layer's output: `⌊(W − PW)/PW⌋ + 1`; an error when `PW > W`.
#[diagnostic::on_unimplemented(
    message = "a {PH}×{PW} pooling window does not fit an image of width {W}",
    label = "the pooling window is wider than the image",
    note = "pooling with strides equal to the window and no padding needs a window no larger than the image; use a smaller window"
)]
pub trait PoolFitsWidth<const W: usize, const PH: usize, const PW: usize> {
    /// The output width, `Const<N>`.
    type Side;
}

/// [`PoolFitsHeight`]'s arithmetic on the width.
#[diagnostic::do_not_recommend]
impl<const W: usize, const PH: usize, const PW: usize> PoolFitsWidth<W, PH, PW> for Valid
where
    Const<W>: ToTypenum,
    Const<PW>: ToTypenum,
    Const<PW>: ToTypenum,
    Tn<W>: Sub<Tn<PW>>,
    Diff<Tn<W>, Tn<PW>>: Div<Tn<PW>>,
    Quot<Diff<Tn<W>, Tn<PW>>, Tn<PW>>: Add<U1>,
    Sum<Quot<Diff<Tn<W>, Tn<PW>>, Tn<PW>>, U1>: ToConst,
{
    type Side = <Sum<Quot<Diff<Tn<W>, Tn<PW>>, Tn<PW>>, U1> as ToConst>::Const;
}

/// What a `MaxPool2D<PH, PW>` or `AvgPool2D<PH, PW>` accepts: any `Image<H, W, C>` with
/// `1 ≤ PH ≤ H ≤ MAX_SIZE` and `1 ≤ PW ≤ W ≤ MAX_SIZE`; it produces `Image<⌊H/PH⌋, ⌊W/PW⌋, C>`.
#[diagnostic::on_unimplemented(
    message = "a {PH}×{PW} pooling layer takes an `Image`, but it is given `{Self}`",
    label = "expected an `Image<H, W, C>`",
    note = "pooling works on images; it cannot follow a `Flatten` or a `Dense`; a boxed image is passed as `&*boxed`"
)]
pub trait PoolInput<const PH: usize, const PW: usize>: Tensor {
    /// `Image<HO, WO, C, T>`.
    type Out: Tensor<Elem = Self::Elem>;
    /// Input height, width and channels.
    const HWC: (usize, usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
}

/// The rules in order: sizes within [`MAX_SIZE`], a window of at least 1×1, then it fits the
/// height, then the width.
impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const PH: usize,
    const PW: usize,
    const HO: usize,
    const WO: usize,
    T: Scalar,
    G1,
    G2,
    G3,
    G4,
    G5,
    G6,
> PoolInput<PH, PW> for Image<H, W, C, T>
where
    Valid: AtMostMaxSize<PH, Then = G1>,
    G1: AtMostMaxSize<PW, Then = G2>,
    G2: AtMostMaxSize<H, Then = G3>,
    G3: AtMostMaxSize<W, Then = G4>,
    G4: PoolAtLeastOne<PH, PW, Then = G5>,
    G5: PoolFitsHeight<H, PH, PW, Side = Const<HO>, Then = G6>,
    G6: PoolFitsWidth<W, PH, PW, Side = Const<WO>>,
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

    /// Each case twice: as the height (kernel `k × 1`) and as the width (kernel `1 × k`), which
    /// must agree.
    macro_rules! sides {
        ($pad:ty: $(($h:literal, $k:literal, $s:literal)),* $(,)?) => {
            [$({
                let height = <<$pad as KernelFitsHeight<$h, $k, 1, $s>>::Side as Value>::N;
                let width = <<$pad as KernelFitsWidth<$h, 1, $k, $s>>::Side as Value>::N;
                assert_eq!(height, width, "H = {}, K = {}, S = {}", $h, $k, $s);
                (height, $h, $k, $s)
            }),*]
        };
    }

    /// Boundaries of the bridge: the buckets of 64, typenum's own table (1024), HD and 4K
    /// sides, and the limit.
    #[test]
    fn valid_convolution_sides_are_floor_h_minus_k_over_s_plus_one() {
        let table = sides!(Valid:
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
        let table = sides!(Same:
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
            ($(($h:literal, $p:literal)),*) => {
                [$({
                    let height = <<Valid as PoolFitsHeight<$h, $p, 1>>::Side as Value>::N;
                    assert_eq!(height, <<Valid as PoolFitsWidth<$h, 1, $p>>::Side as Value>::N);
                    (height, $h, $p)
                }),*]
            };
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
        same_type::<<Image<1080, 1920, 1> as ConvInput<1, 4, 3, 3, 1, 1, Valid, f32>>::Out, Image<1078, 1918, 4>>();
        same_type::<<Image<1078, 1918, 4> as PoolInput<2, 2>>::Out, Image<539, 959, 4>>();
        same_type::<<Image<2160, 3840, 3> as ConvInput<3, 8, 3, 3, 2, 2, Same, f32>>::Out, Image<1080, 1920, 8>>();
    }

    /// Each axis has its own kernel side and stride: DS-CNN's first convolution, (49, 10, 1)
    /// with a 10×4 kernel and strides (2, 2), same → (25, 5, 64); a valid 3×1 kernel with
    /// strides (1, 2) on 7×6 → 5×3; and non-square pooling, DS-CNN's (25, 5) average pool → 1×1.
    #[test]
    fn rectangular_kernels_strides_and_windows_compute_each_side_on_its_own() {
        same_type::<<Image<49, 10, 1> as ConvInput<1, 64, 10, 4, 2, 2, Same, f32>>::Out, Image<25, 5, 64>>();
        same_type::<<Image<7, 6, 2> as ConvInput<2, 3, 3, 1, 1, 2, Valid, f32>>::Out, Image<5, 3, 3>>();
        same_type::<<Image<25, 5, 64> as PoolInput<25, 5>>::Out, Image<1, 1, 64>>();
        same_type::<<Image<7, 6, 2> as PoolInput<3, 2>>::Out, Image<2, 3, 2>>();
    }

    /// The output channels are `C·M`, computed up to 4096 (`C` itself for `M = 1`; a larger
    /// product is the compile error of tests/ui/depthwise_output_channels_must_be_at_most_4096).
    #[test]
    fn depthwise_outputs_have_c_times_m_channels() {
        same_type::<<Image<25, 5, 64> as DepthwiseInput<64, 1, 3, 3, 1, 1, Same, f32>>::Out, Image<25, 5, 64>>();
        same_type::<<Image<7, 6, 3> as DepthwiseInput<3, 2, 3, 2, 2, 1, Same, f32>>::Out, Image<4, 6, 6>>();
        same_type::<<Image<4, 4, 4096> as DepthwiseInput<4096, 1, 3, 3, 1, 1, Valid, f32>>::Out, Image<2, 2, 4096>>();
        same_type::<<Image<4, 4, 64> as DepthwiseInput<64, 64, 1, 1, 1, 1, Valid, f32>>::Out, Image<4, 4, 4096>>();
    }
}
