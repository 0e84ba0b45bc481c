//! Views of a slice of tensors as one flat slice of scalars (and back), for the batched path.
//!
//! `&[Vector<784>]` is, in memory, `n·784` floats in a row; the GEMM wants exactly that. The
//! casts are sound because [`FlatLayout`] is implemented only here, for our own
//! `#[repr(transparent)]` array wrappers.

use core::mem::{align_of, size_of};

use crate::shape::{Flat, Image, Vector};
use crate::{Scalar, Tensor};

/// Marker: `Self` is a `#[repr(transparent)]` wrapper over nested arrays of its scalar, so its
/// bytes are exactly `Tensor::LEN` scalars with no padding, and every bit pattern is valid.
///
/// # Safety
/// Implement only for types with that layout (checked again at compile time by `flat`).
pub unsafe trait FlatLayout {}

// SAFETY: `Vector` is `#[repr(transparent)]` over `[T; N]`.
unsafe impl<const N: usize, T: Scalar> FlatLayout for Vector<N, T> {}
// SAFETY: `Image` is `#[repr(transparent)]` over `[[[T; C]; W]; H]` (arrays have no padding).
unsafe impl<const H: usize, const W: usize, const C: usize, T: Scalar> FlatLayout for Image<H, W, C, T> {}
// SAFETY: `Flat` is `#[repr(transparent)]` over `Image<H, W, C, T>`, covered above.
unsafe impl<const H: usize, const W: usize, const C: usize, T: Scalar> FlatLayout for Flat<H, W, C, T> {}

/// Compile-time re-check of the layout promise, evaluated once per tensor type.
struct LayoutCheck<X>(core::marker::PhantomData<X>);
impl<X: Tensor> LayoutCheck<X> {
    const OK: () = assert!(
        size_of::<X>() == X::LEN * size_of::<X::Elem>() && align_of::<X>() == align_of::<X::Elem>(),
        "a FlatLayout tensor must be exactly LEN scalars"
    );
}

/// An array seen as the [`Vector`] that wraps it, without a copy.
#[cfg(feature = "generic-array")]
#[inline(always)]
pub fn vector_ref<const N: usize, T>(a: &[T; N]) -> &Vector<N, T> {
    // SAFETY: `Vector<N, T>` is `#[repr(transparent)]` over `[T; N]`, so both have the same
    // layout and validity; the lifetime and shared-ness are those of `a`.
    unsafe { &*core::ptr::from_ref(a).cast::<Vector<N, T>>() }
}

/// A mutable array seen as the [`Vector`] that wraps it, without a copy.
#[cfg(feature = "generic-array")]
#[inline(always)]
pub fn vector_mut<const N: usize, T>(a: &mut [T; N]) -> &mut Vector<N, T> {
    // SAFETY: as in `vector_ref`; the exclusive borrow of `a` moves into the result.
    unsafe { &mut *core::ptr::from_mut(a).cast::<Vector<N, T>>() }
}

/// `&[X]` as `&[X::Elem]` of length `xs.len() · X::LEN`.
#[inline]
pub fn flat<X: Tensor>(xs: &[X]) -> &[X::Elem] {
    let () = LayoutCheck::<X>::OK;
    // SAFETY: `X: FlatLayout` (a supertrait of `Tensor`) means `X` is exactly `X::LEN` values
    // of `X::Elem` with the same alignment (re-checked by `LayoutCheck`), so `xs.len()` tensors
    // are `xs.len() · LEN` initialised scalars at the same address; the byte size is that of
    // `xs`, hence ≤ isize::MAX; the lifetime and shared-ness are those of `xs`.
    unsafe { core::slice::from_raw_parts(xs.as_ptr().cast::<X::Elem>(), xs.len() * X::LEN) }
}

/// `&mut [X]` as `&mut [X::Elem]` of length `xs.len() · X::LEN`.
#[inline]
pub fn flat_mut<X: Tensor>(xs: &mut [X]) -> &mut [X::Elem] {
    let () = LayoutCheck::<X>::OK;
    // SAFETY: as in `flat`; additionally every bit pattern of a float is a valid float, so
    // writes through the scalar view cannot create an invalid `X`, and the exclusive borrow of
    // `xs` is moved into the returned slice.
    unsafe { core::slice::from_raw_parts_mut(xs.as_mut_ptr().cast::<X::Elem>(), xs.len() * X::LEN) }
}

/// A flat slice of `n · X::LEN` scalars as `n` tensors, without a copy; `None` if its length
/// is not a whole number of tensors (or `X` holds no values).
#[inline]
pub fn samples<X: Tensor>(flat: &[X::Elem]) -> Option<&[X]> {
    let () = LayoutCheck::<X>::OK;
    if X::LEN == 0 || flat.len() % X::LEN != 0 {
        return None;
    }
    // SAFETY: `X` is exactly `X::LEN` scalars with the scalar's alignment (`FlatLayout`,
    // re-checked by `LayoutCheck`), and every bit pattern of those scalars is a valid `X`; the
    // slice holds `len / LEN` whole tensors (checked above) at an address aligned for the
    // scalar, hence for `X`; the byte size is that of `flat`; the lifetime and shared-ness are
    // those of `flat`.
    Some(unsafe { core::slice::from_raw_parts(flat.as_ptr().cast::<X>(), flat.len() / X::LEN) })
}

/// [`samples`] for a mutable slice.
#[inline]
pub fn samples_mut<X: Tensor>(flat: &mut [X::Elem]) -> Option<&mut [X]> {
    let () = LayoutCheck::<X>::OK;
    if X::LEN == 0 || flat.len() % X::LEN != 0 {
        return None;
    }
    // SAFETY: as in `samples`; writes through an `X` write scalars, and the exclusive borrow of
    // `flat` moves into the result.
    Some(unsafe { core::slice::from_raw_parts_mut(flat.as_mut_ptr().cast::<X>(), flat.len() / X::LEN) })
}

/// `s` as a slice of `B`, when `B` is `A` (the same scalar type reached through two type
/// parameters the compiler cannot equate, e.g. a layer's input and the next layer's); `None`
/// otherwise.
#[inline(always)]
pub fn same_scalar<A: 'static, B: 'static>(s: &[A]) -> Option<&[B]> {
    if core::any::TypeId::of::<A>() != core::any::TypeId::of::<B>() {
        return None;
    }
    // SAFETY: `A` and `B` are the same type (equal `TypeId`s), so the pointer, length and
    // lifetime describe the same valid `[B]`.
    Some(unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<B>(), s.len()) })
}

/// Mutable twin of [`same_scalar`].
#[inline(always)]
pub fn same_scalar_mut<A: 'static, B: 'static>(s: &mut [A]) -> Option<&mut [B]> {
    if core::any::TypeId::of::<A>() != core::any::TypeId::of::<B>() {
        return None;
    }
    // SAFETY: as in `same_scalar`; the exclusive borrow of `s` moves into the result.
    Some(unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<B>(), s.len()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_scalar_retypes_only_the_same_type() {
        let mut v = [1.0f32, 2.0, 3.0];
        assert_eq!(same_scalar::<f32, f32>(&v), Some(&[1.0f32, 2.0, 3.0][..]));
        assert!(same_scalar::<f32, f64>(&v).is_none());
        if let Some(m) = same_scalar_mut::<f32, f32>(&mut v) {
            m[0] = 5.0;
        }
        assert_eq!(v[0], 5.0);
        assert!(same_scalar_mut::<f32, u32>(&mut v).is_none());
    }

    // These run under Miri too (scripts/miri.sh): the views must stay inside their borrow.

    #[test]
    fn flat_views_are_the_values_in_order_and_write_through() {
        let mut xs = [Vector::<3>::from([1.0, 2.0, 3.0]), Vector::from([4.0, 5.0, 6.0])];
        assert_eq!(flat(&xs), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        flat_mut(&mut xs)[4] = -5.0;
        assert_eq!(xs[1], Vector::from([4.0, -5.0, 6.0]));
        // Images flatten row by row, then column, then channel.
        let imgs = [Image::<1, 2, 2, f64>::from([[[1.0, 2.0], [3.0, 4.0]]]), Image::from([[[5.0, 6.0], [7.0, 8.0]]])];
        assert_eq!(flat(&imgs), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let mut flats = [Flat::<1, 1, 2>::default(); 3];
        flat_mut(&mut flats).iter_mut().zip(0..).for_each(|(v, i)| *v = i as f32);
        assert_eq!(flat(&flats), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn flat_scalars_seen_as_samples_are_the_same_memory_and_write_through() {
        let mut data = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let xs: &[Vector<3>] = samples(&data).unwrap();
        assert_eq!(xs, &[Vector::from([1.0, 2.0, 3.0]), Vector::from([4.0, 5.0, 6.0])]);
        assert_eq!(xs.as_ptr().cast::<f32>(), data.as_ptr());
        samples_mut::<Vector<2>>(&mut data).unwrap()[2] = Vector::from([-5.0, -6.0]);
        assert_eq!(data, [1.0, 2.0, 3.0, 4.0, -5.0, -6.0]);
        assert!(samples::<Vector<4>>(&data).is_none(), "6 values are not whole samples of 4");
        assert!(samples::<Vector<0>>(&data).is_none());
        assert_eq!(samples::<Image<1, 2, 3>>(&data).map(<[_]>::len), Some(1));
        assert_eq!(samples::<Vector<3>>(&[]).map(<[_]>::len), Some(0));
    }

    #[test]
    fn flat_views_of_nothing_are_empty() {
        let none: [Vector<4>; 0] = [];
        assert!(flat(&none).is_empty());
        // A zero-length tensor is a zero-sized type: its slice pointer is dangling but aligned.
        let mut empty = [Vector::<0, f64>::default(); 5];
        assert!(flat(&empty).is_empty() && flat_mut(&mut empty).is_empty());
    }

    #[cfg(feature = "generic-array")]
    #[test]
    fn vector_views_of_an_array_are_the_same_memory_and_write_through() {
        let mut a = [1.0f32, 2.0, 3.0];
        let v: &Vector<3> = vector_ref(&a);
        assert_eq!((v.as_slice(), v.as_slice().as_ptr()), (&[1.0, 2.0, 3.0][..], a.as_ptr()));
        vector_mut(&mut a)[1] = -2.0;
        assert_eq!(a, [1.0, -2.0, 3.0]);
        let mut none: [f64; 0] = [];
        assert!(vector_mut(&mut none).as_slice().is_empty());
    }
}
