//! Padding modes, [`Valid`] and [`Same`]: how a convolution treats the image's border, and
//! therefore what output side it computes. A shape concept, so it lives with the shape rules
//! that use it ([`KernelFits`](super::rules::KernelFits)); `Conv2D` takes it as a parameter.

/// No padding: the kernel only visits positions where it fits, so each side shrinks to
/// `⌊(H − K)/S⌋ + 1`. Keras' default (`padding="valid"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Valid;

/// Zero padding so that each side becomes `⌈H/S⌉`. The total padding
/// `max((out − 1)·S + K − H, 0)` is split with the smaller half before (top/left) and any odd
/// row or column after (bottom/right), exactly as Keras (and TF/XLA `"SAME"`) do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Same;

/// A padding mode: [`Valid`] or [`Same`].
pub trait Padding: Copy + Default + 'static + sealed::Sealed {
    /// Keras' spelling, `"valid"` or `"same"`.
    const NAME: &'static str;
    /// Zero rows (or columns) added before the image on an axis of `side`, for `out` outputs.
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize;
}

impl Padding for Valid {
    const NAME: &'static str = "valid";
    fn before(_side: usize, _out: usize, _k: usize, _s: usize) -> usize {
        0
    }
}

impl Padding for Same {
    const NAME: &'static str = "same";
    fn before(side: usize, out: usize, k: usize, s: usize) -> usize {
        (out.saturating_sub(1).saturating_mul(s).saturating_add(k)).saturating_sub(side) / 2
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Valid {}
    impl Sealed for super::Same {}
}
