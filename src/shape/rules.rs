//! The shape rules, one named trait each, so that breaking one gives an error that says which.
//!
//! A layer's `Layer` impl is written for *any* input `X` that satisfies its rule
//! (`impl<X: DenseInput<..>> Layer<X> for Dense<..>`), and the rule computes the output type.
//! That shape is deliberate: when a model is miswired, rustc then reports the rule that failed,
//! with the message below, instead of "method exists but its trait bounds were not satisfied".
#![doc = ""]
#![doc = include_str!("../../docs/guide/shape-rules.md")]
//!

use core::ops::{Add, Div, Sub};

use typenum::{Const, Diff, Quot, Sum, ToUInt, U, U1};

use super::bridge::Side;
use super::padding::{Same, Valid};
use crate::shape::{Flat, Image, Vector};
use crate::{Scalar, Tensor};

/// What a `Dense<IN, OUT, A, T>` accepts: a `Vector<IN>`, or the `Flat<H, W, C>` output of a
/// `Flatten` with `H·W·C == IN` (that equality is checked when the program is built).
#[diagnostic::on_unimplemented(
    message = "`Dense<{IN}, {OUT}, _>` takes `Vector<{IN}>`, but it is given `{Self}`",
    label = "expected `Vector<{IN}>`",
    note = "a layer must take exactly what the previous layer produces; an image needs a `Flatten` before a `Dense`"
)]
pub trait DenseInput<const IN: usize, const OUT: usize, A, T: Scalar>: Tensor<Elem = T> {
    /// Always `Vector<OUT, T>`; an associated type so the output is only known once the input
    /// is (see the module docs).
    type Out: Tensor<Elem = T>;

    /// Evaluated by every `Dense` method: `()` for a `Vector`, a build-time size check for a
    /// `Flat`.
    #[doc(hidden)]
    const CHECK: () = ();

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
    const CHECK: () = DenseAfterFlatten::<IN, H, W, C>::INPUT_SIZE_MATCHES;
    #[inline(always)]
    fn wrap(y: Vector<OUT, T>) -> Self::Out {
        y
    }
    #[inline(always)]
    fn unwrap(y: &Self::Out) -> &Vector<OUT, T> {
        y
    }
}

/// The one rule stable Rust cannot check in `cargo check`: a `Dense<IN, ..>` after a
/// `Flatten` of an `H × W × C` image needs `IN == H·W·C`. The assertion runs when the program
/// is built (`cargo build`, `cargo test`, `cargo run`), and rustc names this type, with the
/// four numbers, in the error.
pub struct DenseAfterFlatten<const IN: usize, const H: usize, const W: usize, const C: usize>;

impl<const IN: usize, const H: usize, const W: usize, const C: usize> DenseAfterFlatten<IN, H, W, C> {
    /// `()` if `IN == H·W·C`; otherwise evaluating it stops the build.
    pub const INPUT_SIZE_MATCHES: () = assert!(
        IN == H * W * C,
        "the Dense after a Flatten must take H·W·C inputs: see `DenseAfterFlatten<IN, H, W, C>` below for the four numbers"
    );
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
    note = "with `Valid` padding the kernel must fit inside the image: use a smaller kernel, a bigger image, or `Same` padding (the stride must be at least 1)"
)]
pub trait KernelFits<const H: usize, const K: usize, const S: usize> {
    /// The output side, `Const<N>`.
    type Side;
}

/// `⌊(H − K)/S⌋ + 1`; `H − K` does not exist in typenum when `K > H`, so that is a type error.
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize, const S: usize> KernelFits<H, K, S> for Valid
where
    Const<H>: ToUInt,
    Const<K>: ToUInt,
    Const<S>: ToUInt,
    U<H>: Sub<U<K>>,
    Diff<U<H>, U<K>>: Div<U<S>>,
    Quot<Diff<U<H>, U<K>>, U<S>>: Add<U1>,
    Sum<Quot<Diff<U<H>, U<K>>, U<S>>, U1>: Side,
{
    type Side = <Sum<Quot<Diff<U<H>, U<K>>, U<S>>, U1> as Side>::Const;
}

/// `⌈H/S⌉ = ⌊(H + S − 1)/S⌋`.
#[diagnostic::do_not_recommend]
impl<const H: usize, const K: usize, const S: usize> KernelFits<H, K, S> for Same
where
    Const<H>: ToUInt,
    Const<S>: ToUInt,
    U<H>: Add<U<S>>,
    Sum<U<H>, U<S>>: Sub<U1>,
    Diff<Sum<U<H>, U<S>>, U1>: Div<U<S>>,
    Quot<Diff<Sum<U<H>, U<S>>, U1>, U<S>>: Side,
{
    type Side = <Quot<Diff<Sum<U<H>, U<S>>, U1>, U<S>> as Side>::Const;
}

/// What a `Conv2D<CI, CO, K, A, S, P, T>` accepts: an `Image<H, W, CI>` whose sides fit the
/// kernel ([`KernelFits`]); it produces `Image<HO, WO, CO>`.
#[diagnostic::on_unimplemented(
    message = "`Conv2D<{CI}, {CO}, {K}, ..>` takes images with {CI} channel(s), but it is given `{Self}`",
    label = "expected an `Image<_, _, {CI}>`",
    note = "a Conv2D's first parameter is its input channel count: it must equal the channels of the previous layer's output (1 for grey, 3 for RGB, F after a Conv2D with F filters)"
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
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const CO: usize,
    const K: usize,
    const S: usize,
    const HO: usize,
    const WO: usize,
    P,
    T,
> ConvInput<C, CO, K, S, P, T> for Image<H, W, C, T>
where
    T: Scalar,
    P: KernelFits<H, K, S, Side = Const<HO>> + KernelFits<W, K, S, Side = Const<WO>>,
{
    type Out = Image<HO, WO, CO, T>;
    const HW: (usize, usize) = (H, W);
    const OUT_HW: (usize, usize) = (HO, WO);
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
    Const<H>: ToUInt,
    Const<P>: ToUInt,
    U<H>: Sub<U<P>>,
    Diff<U<H>, U<P>>: Div<U<P>>,
    Quot<Diff<U<H>, U<P>>, U<P>>: Add<U1>,
    Sum<Quot<Diff<U<H>, U<P>>, U<P>>, U1>: Side,
{
    type Side = <Sum<Quot<Diff<U<H>, U<P>>, U<P>>, U1> as Side>::Const;
}

/// What a `MaxPool2D<P>` or `AvgPool2D<P>` accepts: any `Image<H, W, C>` with `P ≤ H, W`; it
/// produces `Image<⌊H/P⌋, ⌊W/P⌋, C>`.
#[diagnostic::on_unimplemented(
    message = "a {P}×{P} pooling layer takes an `Image`, but it is given `{Self}`",
    label = "expected an `Image<H, W, C>`",
    note = "pooling works on images; it cannot follow a `Flatten` or a `Dense`"
)]
pub trait PoolInput<const P: usize>: Tensor {
    /// `Image<HO, WO, C, T>`.
    type Out: Tensor<Elem = Self::Elem>;
    /// Input height, width and channels.
    const HWC: (usize, usize, usize);
    /// Output height and width.
    const OUT_HW: (usize, usize);
}

impl<const H: usize, const W: usize, const C: usize, const P: usize, const HO: usize, const WO: usize, T: Scalar>
    PoolInput<P> for Image<H, W, C, T>
where
    Valid: PoolFits<H, P, Side = Const<HO>> + PoolFits<W, P, Side = Const<WO>>,
{
    type Out = Image<HO, WO, C, T>;
    const HWC: (usize, usize, usize) = (H, W, C);
    const OUT_HW: (usize, usize) = (HO, WO);
}

/// What a `Flatten` or a `GlobalAvgPool2D` accepts: an `Image<H, W, C>`.
#[diagnostic::on_unimplemented(
    message = "this layer takes an `Image`, but it is given `{Self}`",
    label = "expected an `Image<H, W, C>`",
    note = "`Flatten` and `GlobalAvgPool2D` turn an image into a vector; the input is already not an image"
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
