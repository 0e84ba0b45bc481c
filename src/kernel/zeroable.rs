//! `bytemuck::Zeroable` for the built-in layers: the promise that all-zero bytes are a valid
//! layer (every weight 0.0). [`crate::Zeros`] (a model's zero value, with or without a heap) and
//! the heap constructors of `heap.rs` rely on it.

use bytemuck::Zeroable;

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
