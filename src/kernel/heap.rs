//! Building big models directly on the heap, without a stack temporary.
//!
//! A model may be allocated zeroed when the all-zero bit pattern is a valid value of it. For a
//! layer that promise is `bytemuck::Zeroable` (implemented below for the built-in layers, and
//! derived by users for theirs); for a tuple of layers it follows from its fields', which
//! bytemuck itself only states for tuples of up to 8 elements, so [`ZeroableFields`] states it
//! for every model arity (1 to 12).

use alloc::alloc::{alloc_zeroed, handle_alloc_error};
use alloc::boxed::Box;
use core::alloc::Layout;

use bytemuck::Zeroable;

/// A `Box<M>` whose bytes are all zero, allocated directly (never built on the stack).
///
/// # Safety
/// The all-zero bit pattern must be a valid `M`.
unsafe fn boxed_zeroed_unchecked<M>() -> Box<M> {
    let layout = Layout::new::<M>();
    if layout.size() == 0 {
        // SAFETY: for a zero-sized type `Box` never allocates, any aligned non-null pointer is
        // valid, and the caller guarantees that the (empty) zero pattern is a valid `M`.
        return unsafe { Box::from_raw(core::ptr::NonNull::<M>::dangling().as_ptr()) };
    }
    // SAFETY: `layout` has non-zero size (checked above).
    let ptr = unsafe { alloc_zeroed(layout) }.cast::<M>();
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `ptr` was allocated by the global allocator with `M`'s layout, as `Box` requires;
    // its bytes are zero, which the caller guarantees is a valid `M`; ownership passes to the
    // box exactly once.
    unsafe { Box::from_raw(ptr) }
}

/// A zeroed `Box<M>` for a layer whose zero bit pattern is valid (`M: Zeroable`).
pub(crate) fn zeroed_box<M: Zeroable>() -> Box<M> {
    // SAFETY: `Zeroable`'s contract is exactly that the all-zero bit pattern is a valid `M`.
    unsafe { boxed_zeroed_unchecked() }
}

/// A zeroed `Box<M>` for a tuple whose every element is `Zeroable`.
pub(crate) fn zeroed_tuple_box<M: ZeroableFields>() -> Box<M> {
    // SAFETY: `ZeroableFields` is implemented only for tuples of `Zeroable` elements, whose
    // all-zero pattern is valid (see its impls).
    unsafe { boxed_zeroed_unchecked() }
}

/// Marker: `Self` is a tuple whose every element is `bytemuck::Zeroable`.
///
/// # Safety
/// Implemented only by the macro below, for tuples of `Zeroable` elements.
pub(crate) unsafe trait ZeroableFields {}

macro_rules! zeroable_fields {
    ($($L:ident),+) => {
        // SAFETY: a tuple's bytes are its elements' bytes plus padding. Zero bytes are a valid
        // value of each element (`Zeroable`), and padding bytes may hold anything.
        unsafe impl<$($L: Zeroable),+> ZeroableFields for ($($L,)+) {}
    };
}
zeroable_fields!(A);
zeroable_fields!(A, B);
zeroable_fields!(A, B, C);
zeroable_fields!(A, B, C, D);
zeroable_fields!(A, B, C, D, E);
zeroable_fields!(A, B, C, D, E, F);
zeroable_fields!(A, B, C, D, E, F, G);
zeroable_fields!(A, B, C, D, E, F, G, H);
zeroable_fields!(A, B, C, D, E, F, G, H, I);
zeroable_fields!(A, B, C, D, E, F, G, H, I, J);
zeroable_fields!(A, B, C, D, E, F, G, H, I, J, K);
zeroable_fields!(A, B, C, D, E, F, G, H, I, J, K, L);

// SAFETY: `Dense` is an array of `T` (f32/f64: zero bits are 0.0), its bias storage and a
// `PhantomData`. `BiasMode` is sealed with two implementations: its storage is an array of `T`
// (`Bias`) or the zero-sized `NoBias`; both are valid as zero bits.
unsafe impl<const IN: usize, const OUT: usize, A, T: crate::Scalar, B: crate::layer::BiasMode> Zeroable
    for crate::Dense<IN, OUT, A, T, B>
{
}

// SAFETY: `Conv2D` is an array of `T` (zero bits are 0.0), its bias storage (an array of `T`
// or the zero-sized `NoBias`, the only two `BiasMode`s: sealed) and a `PhantomData`.
unsafe impl<
    const CI: usize,
    const CO: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: crate::Scalar,
    B: crate::layer::BiasMode,
    const KW: usize,
    const SW: usize,
> Zeroable for crate::Conv2D<CI, CO, K, A, S, P, T, B, KW, SW>
{
}

// SAFETY: as `Conv2D`: an array of `T`, an array of `T` or `NoBias` (sealed), a `PhantomData`.
unsafe impl<
    const C: usize,
    const K: usize,
    A,
    const S: usize,
    P,
    T: crate::Scalar,
    B: crate::layer::BiasMode,
    const M: usize,
    const KW: usize,
    const SW: usize,
> Zeroable for crate::DepthwiseConv2D<C, K, A, S, P, T, B, M, KW, SW>
{
}
// SAFETY: `BatchNormalization` is four arrays of `T` (f32/f64: zero bits are 0.0).
unsafe impl<const C: usize, T: crate::Scalar> Zeroable for crate::BatchNormalization<C, T> {}
// SAFETY: `Dropout` is two `u64`s, for which zero bits are 0.
unsafe impl<const PERMILLE: usize> Zeroable for crate::Dropout<PERMILLE> {}
// SAFETY: a `PhantomData`, zero-sized.
unsafe impl<A> Zeroable for crate::ActivationLayer<A> {}
// SAFETY: zero-sized unit struct.
unsafe impl Zeroable for crate::Skip {}
// SAFETY: `Residual` is its two fields (plus padding, which may hold anything), and zero bytes
// are a valid value of each (`Zeroable`).
unsafe impl<F: Zeroable, S: Zeroable> Zeroable for crate::Residual<F, S> {}
// SAFETY: zero-sized unit structs.
unsafe impl Zeroable for crate::Flatten {}
// SAFETY: zero-sized unit struct.
unsafe impl<const P: usize, const PW: usize> Zeroable for crate::MaxPool2D<P, PW> {}
// SAFETY: zero-sized unit struct.
unsafe impl<const P: usize, const PW: usize> Zeroable for crate::AvgPool2D<P, PW> {}
// SAFETY: zero-sized unit struct.
unsafe impl Zeroable for crate::GlobalAvgPool2D {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Sigmoid};
    use crate::{Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, Params, Valid};

    // These run under Miri too (scripts/miri.sh): allocation, zeroed bytes, layout on free.

    #[test]
    fn boxed_zeroed_layers_and_models_are_all_zero_weights() {
        let dense: Box<Dense<3, 2, Relu>> = zeroed_box();
        assert_eq!(*dense, Dense::default());
        let conv: Box<Conv2D<2, 3, 3, Sigmoid, 1, Valid, f64>> = zeroed_box();
        assert!(Params::<f64>::params(&*conv).all(|p| p.iter().all(|&w| w == 0.0)));
        type Model = (Dense<4, 3, Relu, f64>, Flatten, Dense<3, 1, Sigmoid, f64>);
        let model: Box<Model> = zeroed_tuple_box();
        assert_eq!(Params::<f64>::params(&*model).map(<[f64]>::len).sum::<usize>(), 4 * 3 + 3 + 3 + 1);
        assert!(Params::<f64>::params(&*model).all(|p| p.iter().all(|&w| w == 0.0)));
    }

    #[test]
    fn boxed_zeroed_zero_sized_layers_do_not_allocate() {
        let flatten: Box<Flatten> = zeroed_box();
        let pools: Box<(MaxPool2D<2>, GlobalAvgPool2D)> = zeroed_tuple_box();
        assert_eq!((*flatten, *pools), (Flatten, (MaxPool2D, GlobalAvgPool2D)));
    }
}
