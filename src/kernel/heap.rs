//! Building big models directly on the heap, without a stack temporary.

use alloc::alloc::{alloc_zeroed, handle_alloc_error};
use alloc::boxed::Box;
use core::alloc::Layout;

/// Marker: the all-zero bit pattern is a valid value of `Self` (for our layers: all weights
/// `0.0`).
///
/// # Safety
/// Implement only for types made of floats, arrays of them, `PhantomData` and zero-sized unit
/// structs, and tuples of such types.
pub unsafe trait Zeroable: Sized {}

/// A `Box<M>` whose bytes are all zero, allocated directly (never built on the stack).
pub fn boxed_zeroed<M: Zeroable>() -> Box<M> {
    let layout = Layout::new::<M>();
    if layout.size() == 0 {
        // SAFETY: for a zero-sized type `Box` never allocates, any aligned non-null pointer is
        // valid, and `Zeroable` guarantees the (empty) zero pattern is a valid `M`.
        return unsafe { Box::from_raw(core::ptr::NonNull::<M>::dangling().as_ptr()) };
    }
    // SAFETY: `layout` has non-zero size (checked above).
    let ptr = unsafe { alloc_zeroed(layout) }.cast::<M>();
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `ptr` was allocated by the global allocator with `M`'s layout, as `Box` requires;
    // its bytes are zero, which `Zeroable` guarantees is a valid `M`; ownership passes to the
    // box exactly once.
    unsafe { Box::from_raw(ptr) }
}

// SAFETY: `Dense` is two arrays of `T` (f32/f64: zero bits are 0.0) and a `PhantomData`.
unsafe impl<const IN: usize, const OUT: usize, A, T: crate::Scalar> Zeroable for crate::Dense<IN, OUT, A, T> {}

// SAFETY: `Conv2D` is two arrays of `T` (zero bits are 0.0) and a `PhantomData`.
unsafe impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, T: crate::Scalar> Zeroable
    for crate::Conv2D<CI, CO, K, A, S, P, T>
{
}
// SAFETY: zero-sized unit structs.
unsafe impl Zeroable for crate::Flatten {}
// SAFETY: zero-sized unit struct.
unsafe impl<const P: usize> Zeroable for crate::MaxPool2D<P> {}
// SAFETY: zero-sized unit struct.
unsafe impl<const P: usize> Zeroable for crate::AvgPool2D<P> {}
// SAFETY: zero-sized unit struct.
unsafe impl Zeroable for crate::GlobalAvgPool2D {}

macro_rules! zeroable_tuples {
    ($($L:ident),+) => {
        // SAFETY: a tuple of `Zeroable` fields; zeroed padding bytes are fine.
        unsafe impl<$($L: Zeroable),+> Zeroable for ($($L,)+) {}
    };
}
zeroable_tuples!(A);
zeroable_tuples!(A, B);
zeroable_tuples!(A, B, C);
zeroable_tuples!(A, B, C, D);
zeroable_tuples!(A, B, C, D, E);
zeroable_tuples!(A, B, C, D, E, F);
zeroable_tuples!(A, B, C, D, E, F, G);
zeroable_tuples!(A, B, C, D, E, F, G, H);
zeroable_tuples!(A, B, C, D, E, F, G, H, I);
zeroable_tuples!(A, B, C, D, E, F, G, H, I, J);
zeroable_tuples!(A, B, C, D, E, F, G, H, I, J, K);
zeroable_tuples!(A, B, C, D, E, F, G, H, I, J, K, L);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Sigmoid};
    use crate::{Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, Params, Valid};

    // These run under Miri too (scripts/miri.sh): allocation, zeroed bytes, layout on free.

    #[test]
    fn boxed_zeroed_layers_and_models_are_all_zero_weights() {
        let dense: Box<Dense<3, 2, Relu>> = boxed_zeroed();
        assert_eq!(*dense, Dense::default());
        let conv: Box<Conv2D<2, 3, 3, Sigmoid, 1, Valid, f64>> = boxed_zeroed();
        assert!(Params::<f64>::params(&*conv).all(|p| p.iter().all(|&w| w == 0.0)));
        type Model = (Dense<4, 3, Relu, f64>, Flatten, Dense<3, 1, Sigmoid, f64>);
        let model: Box<Model> = boxed_zeroed();
        assert_eq!(Params::<f64>::params(&*model).map(<[f64]>::len).sum::<usize>(), 4 * 3 + 3 + 3 + 1);
        assert!(Params::<f64>::params(&*model).all(|p| p.iter().all(|&w| w == 0.0)));
    }

    #[test]
    fn boxed_zeroed_zero_sized_layers_do_not_allocate() {
        let flatten: Box<Flatten> = boxed_zeroed();
        let pools: Box<(MaxPool2D<2>, GlobalAvgPool2D)> = boxed_zeroed();
        assert_eq!((*flatten, *pools), (Flatten, (MaxPool2D, GlobalAvgPool2D)));
    }
}
