//! The shape rules, one named trait each, so that breaking one gives an error that says which.
//!
//! A layer's `Layer` impl is written for *any* input `X` that satisfies its rule
//! (`impl<X: DenseInput<..>> Layer<X> for Dense<..>`), and the rule computes the output type.
//! That shape is deliberate: when a model is miswired, rustc then reports the rule that failed,
//! with the message below, instead of "method exists but its trait bounds were not satisfied".

use crate::shape::{Flat, Vector};
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
