//! CPU-specific code paths for the single-sample kernels.
//!
//! The kernels themselves are portable loops over fixed-size arrays, written so the compiler
//! vectorises them (see `layer/dense.rs`). On x86-64 with `std`, each is also compiled a
//! second time inside a `#[target_feature(enable = "avx2,fma")]` function — 8-wide vectors and
//! fused multiply-adds — and called when the CPU reports both features at run time. Without
//! `std` (no run-time detection) only the portable path exists, compiled for whatever target
//! the user builds; `-C target-cpu=...` makes it use that target's vector units.
//!
//! Both paths compute the same sums in the same order; the AVX2 path fuses each multiply-add
//! (one rounding instead of two), so results agree to a few ulps (tested below to 1e-5).

use crate::Scalar;
use crate::activation::Activation;

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

/// `y = act(x·K + b)` for one sample: the loop over inputs outside, a multiply-add over a
/// kernel row (`OUT` values, kept in registers) inside. `fused` picks `mul_add`, which is one
/// instruction only where FMA is enabled.
#[inline(always)]
fn dense_generic<A: Activation, T: Scalar, const IN: usize, const OUT: usize, const FUSED: bool>(
    x: &[T],
    kernel: &[[T; OUT]; IN],
    bias: &[T; OUT],
    y: &mut [T; OUT],
    activate: bool,
) {
    let mut acc = *bias;
    for (&xi, row) in x.iter().zip(kernel) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = if FUSED { xi.mul_add(w, *a) } else { *a + xi * w };
        }
    }
    if activate {
        A::apply_with::<T, FUSED>(&mut acc);
    }
    *y = acc;
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn dense_avx2<A: Activation, T: Scalar, const IN: usize, const OUT: usize>(
    x: &[T],
    kernel: &[[T; OUT]; IN],
    bias: &[T; OUT],
    y: &mut [T; OUT],
    activate: bool,
) {
    dense_generic::<A, T, IN, OUT, true>(x, kernel, bias, y, activate);
}

/// The dense layer's single-sample kernel: `y = x·K + b`, then the activation if `activate`.
#[inline]
pub fn dense<A: Activation, T: Scalar, const IN: usize, const OUT: usize>(
    x: &[T],
    kernel: &[[T; OUT]; IN],
    bias: &[T; OUT],
    y: &mut [T; OUT],
    activate: bool,
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if has_avx2_fma() {
        // SAFETY: `dense_avx2` only requires the `avx2` and `fma` target features, and the CPU
        // was just checked to support both.
        unsafe { dense_avx2::<A, T, IN, OUT>(x, kernel, bias, y, activate) };
        return;
    }
    // The portable path never fuses: without an FMA instruction `mul_add` is a library call (on
    // every target without `std`, libm's software `fmaf`). Forced here for the digits MLP, it
    // took 569 747 instructions per image on a Cortex-M4F instead of 7 932, and 2.8× the count
    // on a Cortex-M0+ (firmware/, QEMU -icount). The Cortex-M4F compiles this loop to VMLA,
    // which rounds the product and the sum separately: the same bits as any other target.
    dense_generic::<A, T, IN, OUT, false>(x, kernel, bias, y, activate);
}

/// The portable path, for tests that compare both.
#[cfg(test)]
pub fn dense_portable<A: Activation, T: Scalar, const IN: usize, const OUT: usize>(
    x: &[T],
    kernel: &[[T; OUT]; IN],
    bias: &[T; OUT],
    y: &mut [T; OUT],
) {
    dense_generic::<A, T, IN, OUT, false>(x, kernel, bias, y, true);
}

/// The activation applied to each row of `len` values (a softmax normalises per row).
#[cfg(feature = "alloc")]
#[inline(always)]
fn rows_generic<A: Activation, T: Scalar, const FMA: bool>(v: &mut [T], len: usize) {
    let apply = A::apply_with::<T, FMA>;
    if A::ELEMENTWISE {
        apply(v);
    } else {
        for row in v.chunks_mut(len.max(1)) {
            apply(row);
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
fn rows_avx2<A: Activation, T: Scalar>(v: &mut [T], len: usize) {
    rows_generic::<A, T, true>(v, len);
}

/// The activations are the one place where 512-bit vectors pay off here: the `eˣ` polynomial
/// is pure arithmetic on data already in cache (2.5× the AVX2 throughput on seed model 2).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx2,fma")]
fn rows_avx512<A: Activation, T: Scalar>(v: &mut [T], len: usize) {
    rows_generic::<A, T, true>(v, len);
}

/// The activation over a batch of outputs, row by row (`len` values each), on the widest
/// vector unit available: one dispatch for the whole batch.
#[cfg(feature = "alloc")]
#[inline]
pub fn activate_rows<A: Activation, T: Scalar>(v: &mut [T], len: usize) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if has_avx512() {
            // SAFETY: `rows_avx512` only requires `avx512f`, `avx2` and `fma`, checked just now
            // (`avx512f` implies `avx2`).
            unsafe { rows_avx512::<A, T>(v, len) };
            return;
        }
        if has_avx2_fma() {
            // SAFETY: `rows_avx2` only requires `avx2` and `fma`, checked just now.
            unsafe { rows_avx2::<A, T>(v, len) };
            return;
        }
    }
    rows_generic::<A, T, false>(v, len);
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
    use crate::activation::{Relu, Sigmoid, Softmax, Swish};
    use crate::init::{SmallRng, uniform01};

    fn check<A: Activation>() {
        let mut rng = SmallRng::seed(9);
        let mut kernel = [[0.0f32; 64]; 100];
        kernel.as_flattened_mut().iter_mut().for_each(|w| *w = uniform01(&mut rng) as f32 - 0.5);
        let bias: [f32; 64] = core::array::from_fn(|i| i as f32 * 0.01);
        let x: [f32; 100] = core::array::from_fn(|i| ((i * 7) % 13) as f32 / 13.0);
        let (mut fast, mut portable) = ([0.0f32; 64], [0.0f32; 64]);
        dense::<A, f32, 100, 64>(&x, &kernel, &bias, &mut fast, true);
        dense_portable::<A, f32, 100, 64>(&x, &kernel, &bias, &mut portable);
        for (a, b) in fast.iter().zip(&portable) {
            assert!((a - b).abs() <= 1e-5, "{}: {a} vs {b}", A::NAME);
        }
    }

    #[test]
    fn the_dispatched_and_portable_dense_kernels_agree() {
        // On a CPU without AVX2+FMA both calls take the portable path and this is trivially
        // true; CI's machine has both (and `has_avx2_fma` is reported below).
        std::println!("AVX2+FMA path in use: {}", has_avx2_fma());
        check::<Relu>();
        check::<Sigmoid>();
        check::<Swish>();
        check::<Softmax>();
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn the_dispatched_and_portable_activations_agree() {
        let v: std::vec::Vec<f32> = (0..1000).map(|i| i as f32 * 0.02 - 10.0).collect();
        let (mut a, mut b) = (v.clone(), v);
        activate_rows::<Sigmoid, f32>(&mut a, 10);
        Sigmoid::apply_fast(&mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
        }
        // A softmax is normalised per row.
        let mut rows: std::vec::Vec<f32> = (0..20).map(|i| i as f32 * 0.1).collect();
        activate_rows::<Softmax, f32>(&mut rows, 10);
        for row in rows.chunks(10) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
