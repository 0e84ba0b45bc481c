//! A checked, safe wrapper around `matrixmultiply`'s `sgemm`/`dgemm`.
//!
//! All matrices are described by a slice plus non-negative row and column strides, so a
//! transpose is free (swap the strides). The wrapper proves every index in bounds before the
//! single `unsafe` call, and refuses (returns `Err`) instead of panicking.

use crate::Scalar;

/// Sizes of one product: `c (m×n) ← a (m×k) · b (k×n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Rows of `a` and `c`.
    pub m: usize,
    /// Columns of `a`, rows of `b`.
    pub k: usize,
    /// Columns of `b` and `c`.
    pub n: usize,
}

/// A read-only strided matrix view.
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a, T> {
    data: &'a [T],
    /// Distance between rows, in elements.
    pub rs: isize,
    /// Distance between columns, in elements.
    pub cs: isize,
}

impl<'a, T> Strided<'a, T> {
    /// A row-major matrix with `cols` columns stored contiguously.
    pub fn row_major(data: &'a [T], cols: usize) -> Self {
        Self { data, rs: to_isize(cols), cs: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns (so `cols` rows here).
    pub fn transposed(data: &'a [T], cols: usize) -> Self {
        Self { data, rs: 1, cs: to_isize(cols) }
    }

    fn ptr(&self) -> *const T {
        self.data.as_ptr()
    }

    /// Whether every `i·rs + j·cs` for `i < rows`, `j < cols` indexes into the slice.
    fn covers(&self, rows: usize, cols: usize) -> bool {
        covers(self.data.len(), rows, cols, self.rs, self.cs)
    }
}

/// Saturates instead of wrapping; a saturated stride can never pass `covers`.
fn to_isize(x: usize) -> isize {
    isize::try_from(x).unwrap_or(isize::MAX)
}

fn covers(len: usize, rows: usize, cols: usize, rs: isize, cs: isize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let (Ok(rs), Ok(cs)) = (usize::try_from(rs), usize::try_from(cs)) else {
        return false;
    };
    let last = (rows - 1).checked_mul(rs).and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)));
    matches!(last, Some(last) if last < len)
}

/// The operands of a GEMM do not fit the stated sizes; a bug in the caller, reported instead of
/// a panic or an out-of-bounds access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmShapeError;

/// `c ← alpha·a·b + beta·c`, with `c` a contiguous row-major `m×n` matrix.
///
/// When `beta` is zero, `c` is write-only (its old contents, even NaN, are ignored).
///
/// # Errors
/// [`GemmShapeError`] if any operand is too short for the stated sizes and strides.
pub fn gemm<T: Scalar>(
    d: Dims,
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: T,
    c: &mut [T],
) -> Result<(), GemmShapeError> {
    let c_len = d.m.checked_mul(d.n).ok_or(GemmShapeError)?;
    if !a.covers(d.m, d.k) || !b.covers(d.k, d.n) || c.len() < c_len {
        return Err(GemmShapeError);
    }
    if c_len == 0 {
        return Ok(());
    }
    // SAFETY: `a` and `b` cover their m×k and k×n index ranges (checked above, with overflow
    // checks); `c` is an exclusive borrow of at least m·n elements addressed row-major with
    // rs = n, cs = 1, so every C index is in bounds and distinct, and C cannot alias A or B
    // (they are shared borrows). matrixmultiply reads A/B and reads/writes C only at those
    // indices.
    unsafe {
        gemm_unchecked(d, alpha, a, b, beta, c.as_mut_ptr(), to_isize(d.n), 1);
    }
    Ok(())
}

/// `c ← bias + a·b` (each row of `c` starts from `bias`) or, without a bias, `c ← c + a·b`, for
/// a row-major `k×n` matrix `b` (a `Dense` kernel or a batch of gradients) read in place.
///
/// `f32` products whose `n` is a multiple of the vector width run typed-nn's own micro-kernel
/// (`kernel::rowgemm`: no packing, the bias as the accumulators' start) on the AVX-512 and AVX2
/// paths; everything else is the bias copied into `c`, then [`gemm`] with `beta = 1`.
///
/// # Errors
/// [`GemmShapeError`] if any operand is too short for the stated sizes and strides.
pub fn gemm_rows<T: Scalar>(
    d: Dims,
    a: Strided<'_, T>,
    b: &[T],
    bias: Option<&[T]>,
    c: &mut [T],
) -> Result<(), GemmShapeError> {
    use super::rowgemm::{Init, gemm_rows as own};
    if let (Some(a32), Some(b32), Ok(rsa), Ok(csa)) =
        (as_f32(a.data), as_f32(b), usize::try_from(a.rs), usize::try_from(a.cs))
    {
        let init = match bias.map(as_f32) {
            None => Some(Init::Accumulate),
            Some(Some(row)) => Some(Init::Row(row)),
            Some(None) => None,
        };
        if let (Some(init), Some(c32)) = (init, as_f32_mut(c))
            && own(d.m, d.k, d.n, a32, rsa, csa, b32, init, c32)
        {
            return Ok(());
        }
    }
    if let Some(bias) = bias {
        let row = bias.get(..d.n).ok_or(GemmShapeError)?;
        let c_len = d.m.checked_mul(d.n).ok_or(GemmShapeError)?;
        for c_row in c.get_mut(..c_len).ok_or(GemmShapeError)?.chunks_exact_mut(d.n.max(1)) {
            c_row.copy_from_slice(row);
        }
    }
    gemm(d, T::one(), a, Strided::row_major(b, d.n), T::one(), c)
}

/// `s` as `&[f32]` when `T` is `f32`.
fn as_f32<T: Scalar>(s: &[T]) -> Option<&[f32]> {
    use core::any::TypeId;
    // SAFETY: `T` is `f32` (equal `TypeId`s), so the cast changes nothing: same length, layout
    // and lifetime.
    (TypeId::of::<T>() == TypeId::of::<f32>())
        .then(|| unsafe { core::slice::from_raw_parts(s.as_ptr().cast::<f32>(), s.len()) })
}

/// `s` as `&mut [f32]` when `T` is `f32`.
fn as_f32_mut<T: Scalar>(s: &mut [T]) -> Option<&mut [f32]> {
    use core::any::TypeId;
    if TypeId::of::<T>() != TypeId::of::<f32>() {
        return None;
    }
    // SAFETY: as in `as_f32`; the exclusive borrow of `s` moves into the result.
    Some(unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<f32>(), s.len()) })
}

/// `c ← alpha·a·b + beta·c` through `matrixmultiply`'s `sgemm` or `dgemm`, whichever `T` is
/// (the `TypeId` comparison is a constant after monomorphisation, so only one call remains).
///
/// # Safety
/// The caller guarantees that every index `i·rs + j·cs` of each matrix is inside its slice and
/// that `c`'s elements do not overlap each other or `a`/`b`; [`gemm`] is the only caller.
#[allow(clippy::too_many_arguments)] // mirrors the BLAS signature
#[inline]
unsafe fn gemm_unchecked<T: Scalar>(
    d: Dims,
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
) {
    use core::any::TypeId;
    // `as f32` is exact: when `T` is `f32`, widening to `f64` and back returns the same value.
    let (alpha, beta) = (alpha.to_f64_lossless(), beta.to_f64_lossless());
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        let (a_ptr, b_ptr) = (a.ptr().cast::<f32>(), b.ptr().cast::<f32>());
        // SAFETY: `T` is `f32` (equal `TypeId`s), so the pointer casts change nothing; the
        // bounds and aliasing contract is the caller's, which is matrixmultiply's.
        unsafe {
            matrixmultiply::sgemm(
                d.m,
                d.k,
                d.n,
                alpha as f32,
                a_ptr,
                a.rs,
                a.cs,
                b_ptr,
                b.rs,
                b.cs,
                beta as f32,
                c.cast::<f32>(),
                rsc,
                csc,
            );
        }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        let (a_ptr, b_ptr) = (a.ptr().cast::<f64>(), b.ptr().cast::<f64>());
        // SAFETY: as above, with `T` = `f64`.
        unsafe {
            matrixmultiply::dgemm(
                d.m,
                d.k,
                d.n,
                alpha,
                a_ptr,
                a.rs,
                a.cs,
                b_ptr,
                b.rs,
                b.cs,
                beta,
                c.cast::<f64>(),
                rsc,
                csc,
            );
        }
    }
    // `Scalar` is sealed to `f32` and `f64`: there is no third case.
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, as an independent reference.
    fn naive(m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> std::vec::Vec<f64> {
        let mut c = std::vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn gemm_matches_the_triple_loop_including_transposed_views() {
        let (m, k, n) = (3, 4, 5);
        let a: std::vec::Vec<f64> = (0..m * k).map(|i| i as f64 * 0.5 - 2.0).collect();
        let b: std::vec::Vec<f64> = (0..k * n).map(|i| 1.0 - i as f64 * 0.25).collect();
        let mut c = std::vec![0.0; m * n];
        gemm(Dims { m, k, n }, 1.0, Strided::row_major(&a, k), Strided::row_major(&b, n), 0.0, &mut c).unwrap();
        assert_eq!(c, naive(m, k, n, &a, &b));
        // bᵀ stored row-major as n×k, viewed transposed, is b again.
        let bt: std::vec::Vec<f64> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut c2 = std::vec![0.0; m * n];
        gemm(Dims { m, k, n }, 1.0, Strided::row_major(&a, k), Strided::transposed(&bt, k), 0.0, &mut c2).unwrap();
        assert_eq!(c2, c);
    }

    #[test]
    fn gemm_refuses_operands_that_are_too_short() {
        let a = [1.0f32; 5];
        let b = [1.0f32; 6];
        let mut c = [0.0f32; 4];
        let d = Dims { m: 2, k: 3, n: 2 };
        assert_eq!(
            gemm(d, 1.0, Strided::row_major(&a, 3), Strided::row_major(&b, 2), 0.0, &mut c),
            Err(GemmShapeError)
        );
        let a = [1.0f32; 6];
        let mut short_c = [0.0f32; 3];
        assert_eq!(
            gemm(d, 1.0, Strided::row_major(&a, 3), Strided::row_major(&b, 2), 0.0, &mut short_c),
            Err(GemmShapeError)
        );
        gemm(d, 1.0, Strided::row_major(&a, 3), Strided::row_major(&b, 2), 0.0, &mut c).unwrap();
        assert_eq!(c, [3.0; 4]);
    }
}
