//! Zero-copy conversions between [`Vector<N, T>`] and `generic_array::GenericArray<T, U<N>>`
//! (feature `generic-array`), for data that comes from crates built on generic-array.
//!
//! typed-nn stores tensors in plain arrays with const-generic sizes, so that users read
//! `Vector<784>` rather than `GenericArray<f32, UInt<UInt<..>>>` (the guide's chapter 2 says
//! why). The two layouts are the same `N` values in a row, so these conversions move or
//! reborrow, never copy element by element:
//!
//! ```
//! use generic_array::{GenericArray, typenum::U3};
//! use typed_nn::prelude::*;
//!
//! // A sample from a crate that speaks generic-array...
//! let sample: GenericArray<f32, U3> = GenericArray::from([0.5, -1.0, 2.0]);
//! // ...borrowed as the model's input, without a copy,
//! let x: &Vector<3> = (&sample).into();
//! assert!(core::ptr::eq(x.as_slice().as_ptr(), sample.as_ptr()));
//! let layer: Dense<3, 1> = Dense::new([[1.0], [1.0], [1.0]], [0.0]);
//! let y: Vector<1> = layer.forward(x);
//! // ...and the output handed back by value.
//! let out: GenericArray<f32, _> = y.into();
//! assert_eq!(out.as_slice(), &[1.5]);
//! ```
//!
//! The sizes are those for which `typenum::U<N>` exists (0 to 1024, powers of two, `2ᵏ − 1`,
//! powers of ten): generic-array's own const-generic conversions have the same limit.

use generic_array::{ConstArrayLength, GenericArray, IntoArrayLength};
use typenum::Const;

use super::Vector;
use crate::kernel::cast::{vector_mut, vector_ref};

impl<T, const N: usize> From<Vector<N, T>> for GenericArray<T, ConstArrayLength<N>>
where
    Const<N>: IntoArrayLength,
{
    /// Moves the values; no copy beyond the move itself.
    fn from(v: Vector<N, T>) -> Self {
        GenericArray::from(v.into_array())
    }
}

impl<T, const N: usize> From<GenericArray<T, ConstArrayLength<N>>> for Vector<N, T>
where
    Const<N>: IntoArrayLength,
{
    /// Moves the values; no copy beyond the move itself.
    fn from(a: GenericArray<T, ConstArrayLength<N>>) -> Self {
        Vector::new(a.into())
    }
}

impl<'a, T, const N: usize> From<&'a Vector<N, T>> for &'a GenericArray<T, ConstArrayLength<N>>
where
    Const<N>: IntoArrayLength,
{
    /// The same memory, seen as a `GenericArray`.
    fn from(v: &'a Vector<N, T>) -> Self {
        v.as_array().into()
    }
}

impl<'a, T, const N: usize> From<&'a mut Vector<N, T>> for &'a mut GenericArray<T, ConstArrayLength<N>>
where
    Const<N>: IntoArrayLength,
{
    /// The same memory, seen as a `GenericArray`.
    fn from(v: &'a mut Vector<N, T>) -> Self {
        v.as_mut_array().into()
    }
}

impl<'a, T, const N: usize> From<&'a GenericArray<T, ConstArrayLength<N>>> for &'a Vector<N, T>
where
    Const<N>: IntoArrayLength,
{
    /// The same memory, seen as a `Vector`.
    fn from(a: &'a GenericArray<T, ConstArrayLength<N>>) -> Self {
        vector_ref(a.as_ref())
    }
}

impl<'a, T, const N: usize> From<&'a mut GenericArray<T, ConstArrayLength<N>>> for &'a mut Vector<N, T>
where
    Const<N>: IntoArrayLength,
{
    /// The same memory, seen as a `Vector`.
    fn from(a: &'a mut GenericArray<T, ConstArrayLength<N>>) -> Self {
        vector_mut(a.as_mut())
    }
}

#[cfg(test)]
mod tests {
    use generic_array::GenericArray;
    use generic_array::typenum::{U4, U1024};

    use crate::shape::Vector;

    #[test]
    fn values_survive_both_directions_by_value() {
        let v: Vector<4> = Vector::from([1.0, -2.0, 3.5, 0.25]);
        let a: GenericArray<f32, U4> = v.into();
        assert_eq!(a.as_slice(), &[1.0, -2.0, 3.5, 0.25]);
        let back: Vector<4> = a.into();
        assert_eq!(back, v);
    }

    #[test]
    fn references_are_the_same_memory() {
        let mut a: GenericArray<f64, U1024> = GenericArray::from([0.5; 1024]);
        let address = a.as_ptr();
        let v: &mut Vector<1024, f64> = (&mut a).into();
        assert!(core::ptr::eq(v.as_slice().as_ptr(), address));
        v[1023] = 7.0;
        assert_eq!(a[1023], 7.0);
        let v: Vector<1024, f64> = a.into();
        let g: &GenericArray<f64, U1024> = (&v).into();
        assert!(core::ptr::eq(g.as_ptr(), v.as_slice().as_ptr()));
        assert_eq!((g[0], g[1023]), (0.5, 7.0));
    }
}
