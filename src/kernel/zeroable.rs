//! `bytemuck::Zeroable` for the built-in layers: the promise that all-zero bytes are a valid
//! layer (every weight 0.0). [`crate::Zeros`] (a model's zero value, with or without a heap) and
//! the heap constructors of `heap.rs` rely on it.

use bytemuck::Zeroable;

// SAFETY: `Dense` is two arrays of `T` (f32/f64: zero bits are 0.0) and a `PhantomData`.
unsafe impl<const IN: usize, const OUT: usize, A, T: crate::Scalar> Zeroable for crate::Dense<IN, OUT, A, T> {}

// SAFETY: `Conv2D` is two arrays of `T` (zero bits are 0.0) and a `PhantomData`.
unsafe impl<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P, T: crate::Scalar> Zeroable
    for crate::Conv2D<CI, CO, K, A, S, P, T>
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
unsafe impl<const P: usize> Zeroable for crate::MaxPool2D<P> {}
// SAFETY: zero-sized unit struct.
unsafe impl<const P: usize> Zeroable for crate::AvgPool2D<P> {}
// SAFETY: zero-sized unit struct.
unsafe impl Zeroable for crate::GlobalAvgPool2D {}
