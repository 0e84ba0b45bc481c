//! The only place with `unsafe` code: GEMM calls into `matrixmultiply` and views of tensor
//! slices as flat scalar slices.
//!
//! Everything here is crate-private. Each `unsafe` block carries a `// SAFETY:` proof; the rest
//! of the crate is compiled with `#![deny(unsafe_code)]`. `scripts/miri.sh` runs this module's
//! unit tests under Miri (what that covers: `docs/miri.md`).
#![allow(unsafe_code)]

#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
pub(crate) mod cast;
pub(crate) mod exp;
#[cfg(feature = "alloc")]
pub(crate) mod gemm;
#[cfg(feature = "alloc")]
pub(crate) mod heap;
pub(crate) mod int8;
pub(crate) mod simd;
#[cfg(feature = "tflite")]
pub(crate) mod tflite_schema;

pub use cast::FlatLayout;

/// Per-float-type kernels; a sealed supertrait of [`crate::Scalar`].
///
/// Public only because `Scalar` names it; it cannot be implemented outside this crate since
/// its module is private.
pub trait Kernels: Sized + Copy + 'static {
    /// `eˣ`, inline and branch-free so that loops calling it vectorise (see [`exp`]); with
    /// `FMA`, written with fused multiply-adds for code compiled with the `fma` target feature
    /// (without `std` there is no such code and `FMA` changes nothing).
    #[doc(hidden)]
    fn fast_exp_with<const FMA: bool>(self) -> Self;

    /// [`fast_exp_with`](Kernels::fast_exp_with) without fused multiply-adds.
    #[doc(hidden)]
    #[inline(always)]
    fn fast_exp(self) -> Self {
        self.fast_exp_with::<false>()
    }

    /// `c ← alpha·a·b + beta·c` through `matrixmultiply` (see [`gemm::gemm`] for the checks).
    ///
    /// # Safety
    /// The caller guarantees that every index `i·rs + j·cs` of each matrix is inside its
    /// slice and that `c`'s elements do not overlap; [`gemm::gemm`] is the only caller.
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // mirrors the BLAS signature
    unsafe fn gemm_unchecked(
        d: gemm::Dims,
        alpha: Self,
        a: gemm::Strided<'_, Self>,
        b: gemm::Strided<'_, Self>,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

impl Kernels for f32 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f32_with::<FMA>(self)
    }

    #[cfg(feature = "alloc")]
    #[inline]
    unsafe fn gemm_unchecked(
        d: gemm::Dims,
        alpha: Self,
        a: gemm::Strided<'_, Self>,
        b: gemm::Strided<'_, Self>,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded verbatim; the caller's contract is matrixmultiply's contract.
        unsafe {
            matrixmultiply::sgemm(d.m, d.k, d.n, alpha, a.ptr(), a.rs, a.cs, b.ptr(), b.rs, b.cs, beta, c, rsc, csc)
        }
    }
}

impl Kernels for f64 {
    #[inline(always)]
    fn fast_exp_with<const FMA: bool>(self) -> Self {
        exp::exp_f64_with::<FMA>(self)
    }

    #[cfg(feature = "alloc")]
    #[inline]
    unsafe fn gemm_unchecked(
        d: gemm::Dims,
        alpha: Self,
        a: gemm::Strided<'_, Self>,
        b: gemm::Strided<'_, Self>,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded verbatim; the caller's contract is matrixmultiply's contract.
        unsafe {
            matrixmultiply::dgemm(d.m, d.k, d.n, alpha, a.ptr(), a.rs, a.cs, b.ptr(), b.rs, b.cs, beta, c, rsc, csc)
        }
    }
}
