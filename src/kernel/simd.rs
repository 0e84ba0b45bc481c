//! CPU-specific code paths: run-time dispatch to AVX2+FMA or AVX-512 code.
//!
//! Most kernels are portable loops over fixed-size arrays, written so the compiler vectorises
//! them (the exception: `Conv2D`'s and `DepthwiseConv2D`'s direct convolutions in `f32`,
//! explicit AVX-512/AVX2 vectors in `kernel/conv_direct.rs`, which follows [`float_simd`] too); each lives with its layer
//! (`layer/dense.rs`, `layer/conv.rs`, ...) or activation (`activation.rs`) as a
//! [`Vectorized`] value. On x86-64 with `std`, [`dispatch`] compiles such a kernel a second
//! time inside a `#[target_feature]` function — 8- or 16-wide vectors and fused multiply-adds
//! — and calls that copy when the CPU reports the features at run time. Without `std` (no
//! run-time detection) only the portable path exists, compiled for whatever target the user
//! builds; `-C target-cpu=...` makes it use that target's vector units.
//!
//! `TYPED_NN_SIMD=avx512|avx2|portable` caps the path ([`float_simd`]), so every path can be
//! measured on one machine; it also picks the batched `Dense`'s own micro-kernel
//! (`kernel::rowgemm`). `matrixmultiply`, behind the other batched products, chooses its own
//! micro-kernel and has no run-time switch: its `MMTEST_FEATURE` variable is read when *it is
//! compiled* (`MMTEST_FEATURE=avx2,fma cargo bench ...` builds it without its AVX-512 kernel).
//!
//! Both paths compute the same sums in the same order; the AVX paths fuse each multiply-add
//! (one rounding instead of two), so results agree to a few ulps (tested with each kernel, to
//! 1e-5).

use crate::Scalar;

/// The widest float kernel path this process may use: the `TYPED_NN_SIMD` environment
/// variable (`avx512`, `avx2` or `portable`, read once, with `std`) caps the CPU's own. The
/// same variable caps the int8 kernels (`kernel::int8::simd`), so one setting measures a whole
/// model on one path; a path the CPU lacks falls back to the next one down.
///
/// Reading the variable allocates a copy of its value, once per process and only when it is
/// set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FloatSimd {
    /// Portable Rust: no fused multiply-add, vectorised for the target the crate is built for
    /// (SSE2 on a default x86-64 build). The only path without `std`.
    Portable,
    /// 256-bit AVX2 with fused multiply-adds.
    Avx2Fma,
    /// 512-bit AVX-512F (the activations, pooling and convolution; the single-sample `Dense`
    /// row kernel stays on AVX2 either way, see `layer/dense.rs`).
    Avx512,
}

impl core::fmt::Display for FloatSimd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Portable => "portable",
            Self::Avx2Fma => "avx2",
            Self::Avx512 => "avx512",
        })
    }
}

/// The cap `TYPED_NN_SIMD` sets (`None`: unset or not one of the three names), for the float
/// and the int8 kernels alike.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn env_cap() -> Option<FloatSimd> {
    static CAP: std::sync::OnceLock<Option<FloatSimd>> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| match std::env::var_os("TYPED_NN_SIMD")?.to_str()? {
        "portable" => Some(FloatSimd::Portable),
        "avx2" => Some(FloatSimd::Avx2Fma),
        "avx512" => Some(FloatSimd::Avx512),
        _ => None,
    })
}

/// The float kernel path this process uses: the widest the CPU has (with `std` on x86-64;
/// otherwise [`FloatSimd::Portable`]), capped by `TYPED_NN_SIMD=avx512|avx2|portable`.
///
/// # Examples
/// ```
/// let path = typed_nn::float_simd();
/// println!("float kernels: {path}"); // "avx512", "avx2" or "portable"
/// ```
#[inline]
pub fn float_simd() -> FloatSimd {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        static LEVEL: std::sync::OnceLock<FloatSimd> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            let best = if avx2 && std::is_x86_feature_detected!("avx512f") {
                FloatSimd::Avx512
            } else if avx2 {
                FloatSimd::Avx2Fma
            } else {
                FloatSimd::Portable
            };
            best.min(env_cap().unwrap_or(FloatSimd::Avx512))
        })
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        FloatSimd::Portable
    }
}

/// Whether the AVX-512 path may run: the CPU has it and `TYPED_NN_SIMD` does not cap it.
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub fn has_avx512() -> bool {
    float_simd() == FloatSimd::Avx512
}

/// Whether the AVX2+FMA path may run: the CPU has it and `TYPED_NN_SIMD` is not `portable`.
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub fn has_avx2_fma() -> bool {
    float_simd() >= FloatSimd::Avx2Fma
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
