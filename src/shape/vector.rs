//! [`Vector<N>`]: a 1-D tensor of `N` scalars.

use core::ops::{Index, IndexMut};

use super::Tensor;
use crate::Scalar;

/// A 1-D tensor of `N` scalars, the input and output of a `Dense` layer.
///
/// `N` is part of the type, so a `Vector<32>` can never reach a layer that takes 64 inputs:
/// that is a compile error, not a runtime check.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let v: Vector<3> = Vector::from([0.5f32, -1.0, 2.0]);
/// assert_eq!(v[1], -1.0);
/// assert_eq!(v.as_slice(), &[0.5, -1.0, 2.0]);
/// assert_eq!(v.argmax(), 2);
/// assert_eq!(Vector::<3>::default(), Vector::from([0.0; 3]));
/// ```
///
/// # Allocation
/// None: the `N` values live inline (`N · size_of::<T>()` bytes).
///
/// Generic parameters:
/// - `N`: number of elements;
/// - `T`: the scalar type, `f32` by default (`f64` for gradient checks).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub struct Vector<const N: usize, T = f32>([T; N]);

impl<const N: usize, T> Vector<N, T> {
    /// Wraps an array; usable in `const` and `static` items.
    #[inline(always)]
    pub const fn new(values: [T; N]) -> Self {
        Self(values)
    }

    /// The elements as an array.
    #[inline(always)]
    pub const fn as_array(&self) -> &[T; N] {
        &self.0
    }

    /// The elements as a mutable array.
    #[inline(always)]
    pub const fn as_mut_array(&mut self) -> &mut [T; N] {
        &mut self.0
    }

    /// Unwraps the array.
    #[inline(always)]
    pub fn into_array(self) -> [T; N] {
        self.0
    }

    /// The elements as a slice.
    #[inline(always)]
    pub const fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The number of elements, `N`.
    #[allow(clippy::len_without_is_empty)]
    #[inline(always)]
    pub const fn len(&self) -> usize {
        N
    }

    /// An iterator over the elements.
    #[inline]
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// The element at `i`, or `None` if `i >= N`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.0.get(i)
    }
}

impl<const N: usize, T: Scalar> Vector<N, T> {
    /// The index of the largest element (the first one on ties; NaNs are never chosen unless
    /// all elements are NaN, then 0). For a classifier's output this is the predicted class.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// assert_eq!(Vector::from([0.1f32, 0.7, 0.2]).argmax(), 1);
    /// ```
    pub fn argmax(&self) -> usize {
        let mut best = 0;
        let mut best_value = T::neg_infinity();
        for (i, &x) in self.0.iter().enumerate() {
            if x > best_value {
                best = i;
                best_value = x;
            }
        }
        best
    }

    /// A vector whose element `i` is `f(i)`.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// let v: Vector<3> = Vector::from_fn(|i| i as f32);
    /// assert_eq!(v.as_slice(), &[0.0, 1.0, 2.0]);
    /// ```
    pub fn from_fn(f: impl FnMut(usize) -> T) -> Self {
        Self(core::array::from_fn(f))
    }
}

impl<const N: usize, T: Copy + Default> Default for Vector<N, T> {
    /// All zeros (for floats, `T::default()` is `0.0`).
    #[inline]
    fn default() -> Self {
        Self([T::default(); N])
    }
}

impl<const N: usize, T> From<[T; N]> for Vector<N, T> {
    #[inline(always)]
    fn from(values: [T; N]) -> Self {
        Self(values)
    }
}

impl<const N: usize, T> From<Vector<N, T>> for [T; N] {
    #[inline(always)]
    fn from(v: Vector<N, T>) -> Self {
        v.0
    }
}

impl<const N: usize, T> Index<usize> for Vector<N, T> {
    type Output = T;

    /// # Panics
    /// If `i >= N`, like array indexing; use [`Vector::get`] for a checked read.
    #[inline(always)]
    #[allow(clippy::indexing_slicing)] // panicking on a bad index is `Index`'s contract
    fn index(&self, i: usize) -> &T {
        &self.0[i]
    }
}

impl<const N: usize, T> IndexMut<usize> for Vector<N, T> {
    /// # Panics
    /// If `i >= N`, like array indexing.
    #[inline(always)]
    #[allow(clippy::indexing_slicing)] // panicking on a bad index is `IndexMut`'s contract
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.0[i]
    }
}

impl<const N: usize, T> AsRef<[T]> for Vector<N, T> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, const N: usize, T> IntoIterator for &'a Vector<N, T> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<const N: usize, T: Scalar> Tensor for Vector<N, T> {
    type Elem = T;
    const LEN: usize = N;
    const SHAPE: &'static [usize] = &[N];

    #[inline(always)]
    fn as_slice(&self) -> &[T] {
        &self.0
    }

    #[inline(always)]
    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.0
    }
}
