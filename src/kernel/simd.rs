//! CPU-specific code paths: run-time dispatch to AVX2+FMA or AVX-512 code.
//!
//! The kernels themselves are portable loops over fixed-size arrays, written so the compiler
//! vectorises them; each lives with its layer (`layer/dense.rs`, `layer/conv.rs`, ...) or
//! activation (`activation.rs`) as a [`Vectorized`] value. On x86-64 with `std`, [`dispatch`]
//! compiles such a kernel a second time inside a `#[target_feature]` function — 8- or 16-wide
//! vectors and fused multiply-adds — and calls that copy when the CPU reports the features at
//! run time. Without `std` (no run-time detection) only the portable path exists, compiled for
//! whatever target the user builds; `-C target-cpu=...` makes it use that target's vector
//! units.
//!
//! Both paths compute the same sums in the same order; the AVX paths fuse each multiply-add
//! (one rounding instead of two), so results agree to a few ulps (tested with each kernel, to
//! 1e-5).

use crate::Scalar;

/// Whether the AVX-512 path may run on this CPU.
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub fn has_avx512() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// Whether the AVX2+FMA path may run on this CPU (cached by `std`'s detection macro).
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub fn has_avx2_fma() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// `acc += x·w`, element by element. Written as 8-lane blocks of straight-line code: short
/// loops of constant length (a conv's `CO = 32`) are fully unrolled before the loop vectoriser
/// runs, and the SLP vectoriser only reliably re-forms vectors from blocks like these.
#[inline(always)]
pub fn axpy<T: Scalar, const FMA: bool>(acc: &mut [T], x: T, w: &[T]) {
    const LANES: usize = 8;
    let mut a_blocks = acc.chunks_exact_mut(LANES);
    let mut w_blocks = w.chunks_exact(LANES);
    for (a, w) in (&mut a_blocks).zip(&mut w_blocks) {
        let mut v = [T::zero(); LANES];
        v.copy_from_slice(a);
        let mut k = [T::zero(); LANES];
        k.copy_from_slice(w);
        for (v, &k) in v.iter_mut().zip(&k) {
            *v = if FMA { x.mul_add(k, *v) } else { *v + x * k };
        }
        a.copy_from_slice(&v);
    }
    for (a, &w) in a_blocks.into_remainder().iter_mut().zip(w_blocks.remainder()) {
        *a = if FMA { x.mul_add(w, *a) } else { *a + x * w };
    }
}

/// A computation that can be compiled for several vector units: [`dispatch`] calls `run` with
/// `FMA = true` inside an AVX-512 or AVX2 function when the CPU has one (implementations mark
/// `run` `#[inline(always)]`, so its body is compiled with those features), and with
/// `FMA = false` otherwise. A trait rather than a closure because stable Rust cannot force a
/// closure to inline.
pub trait Vectorized {
    /// What the computation returns.
    type Output;
    /// The computation; `FMA` says whether fused multiply-adds are available.
    fn run<const FMA: bool>(self) -> Self::Output;
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx2,fma")]
fn run_avx512<K: Vectorized>(k: K) -> K::Output {
    k.run::<true>()
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<K: Vectorized>(k: K) -> K::Output {
    k.run::<true>()
}

/// Runs `k` with AVX2 and FMA if the CPU has them, never with 512-bit vectors: for kernels
/// that do not gain from AVX-512 here (the single-sample `Dense`, whose rows are short).
#[inline]
pub fn dispatch_avx2<K: Vectorized>(k: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if has_avx2_fma() {
        // SAFETY: `run_avx2` only requires `avx2` and `fma`, checked just now.
        return unsafe { run_avx2(k) };
    }
    // The portable path never fuses: without an FMA instruction `mul_add` is a library call (on
    // every target without `std`, libm's software `fmaf`). Forced here for the digits MLP, it
    // took 569 747 instructions per image on a Cortex-M4F instead of 7 932, and 2.8× the count
    // on a Cortex-M0+ (firmware/, QEMU -icount). The Cortex-M4F compiles the dense row loop to
    // VMLA, which rounds the product and the sum separately: the same bits as any other target.
    k.run::<false>()
}

/// Runs `k` on the widest vector unit the CPU has (see [`Vectorized`]).
#[inline]
pub fn dispatch<K: Vectorized>(k: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if has_avx512() {
            // SAFETY: `run_avx512` only requires `avx512f`, `avx2` and `fma`, checked just now.
            return unsafe { run_avx512(k) };
        }
        if has_avx2_fma() {
            // SAFETY: `run_avx2` only requires `avx2` and `fma`, checked just now.
            return unsafe { run_avx2(k) };
        }
    }
    k.run::<false>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `acc += x·w` over a length that is not a multiple of the 8-lane blocks.
    struct Axpy<'a> {
        acc: &'a mut [f64],
        w: &'a [f64],
    }

    impl Vectorized for Axpy<'_> {
        type Output = ();
        #[inline(always)]
        fn run<const FMA: bool>(self) {
            axpy::<f64, FMA>(self.acc, 0.5, self.w);
        }
    }

    #[test]
    fn axpy_adds_x_times_w_on_every_path() {
        let w: std::vec::Vec<f64> = (0..19).map(|i| i as f64).collect();
        let (mut fast, mut portable) = (std::vec![1.0; 19], std::vec![1.0; 19]);
        dispatch(Axpy { acc: &mut fast, w: &w });
        Axpy { acc: &mut portable, w: &w }.run::<false>();
        let expected: std::vec::Vec<f64> = (0..19).map(|i| 1.0 + 0.5 * i as f64).collect();
        assert_eq!(fast, expected);
        assert_eq!(portable, expected);
        std::println!("AVX-512: {}, AVX2+FMA: {}", has_avx512(), has_avx2_fma());
    }
}
