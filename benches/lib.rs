//! typed-nn's benchmarks: `dense.rs`, `conv.rs`, `train_step.rs`, `peak.rs`, `int8.rs`,
//! `activation.rs`, `paired.rs` and `mlperf.rs` in this directory, run with
//! `cargo bench -p typed-nn-benches`. `BENCHMARKS.md` at the repository root has the results and
//! how to read them.
//!
//! This library holds what several of them share: the seed models, their hand-written
//! loops, the user-defined swishes and the weight-streaming floor.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use typed_nn::prelude::*;

pub type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

/// The same math as `Mlp::forward`, written out by hand over plain arrays.
pub fn hand_written(model: &Mlp, x: &[f32; 784]) -> [f32; 10] {
    let (k1, b1, k2, b2) = (&model.0.kernel, &model.0.bias, &model.1.kernel, &model.1.bias);
    let mut h = *b1;
    for i in 0..784 {
        let xi = x[i];
        for j in 0..64 {
            h[j] += xi * k1[i][j];
        }
    }
    for v in &mut h {
        *v = v.max(0.0);
    }
    let mut z = *b2;
    for j in 0..64 {
        for k in 0..10 {
            z[k] += h[j] * k2[j][k];
        }
    }
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in &mut z {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in &mut z {
        *v /= sum;
    }
    z
}

/// The memory-bandwidth floor of a one-sample forward pass: every kernel weight of both layers
/// (784·64 + 64·10 `f32`, 199 KB) streamed once through fused multiply-adds into eight
/// independent accumulators, with nothing else (no bias, activation, or dependency between
/// rows). The weights stay in L2 between iterations (1 MiB here), as typed-nn's do, so this is
/// the L2→core bandwidth limit. Compiled for the path `typed_nn::float_simd()` reports, so
/// `TYPED_NN_SIMD=avx2` measures the AVX2 floor.
pub mod stream {
    /// The weights as one slice, and one input value per 128-weight block.
    pub struct Weights {
        pub w: Vec<f32>,
        pub x: Vec<f32>,
    }

    impl Weights {
        pub fn of(model: &super::Mlp) -> Self {
            let mut w = model.0.kernel.as_flattened().to_vec();
            w.extend_from_slice(model.1.kernel.as_flattened());
            // 50 816 weights: 397 blocks of 128, no remainder.
            assert_eq!(w.len() % 128, 0);
            let x = (0..w.len() / 128).map(|i| (i % 17) as f32 / 17.0).collect();
            Self { w, x }
        }

        /// `Σ` over blocks of `x[block] · w[block]`, reduced to one number.
        pub fn run(&self) -> f32 {
            #[cfg(target_arch = "x86_64")]
            match typed_nn::float_simd() {
                // SAFETY: the CPU has AVX-512F (float_simd reports it only then).
                typed_nn::FloatSimd::Avx512 => return unsafe { x86::avx512(&self.w, &self.x) },
                // SAFETY: the CPU has AVX2 and FMA (float_simd reports them only then).
                typed_nn::FloatSimd::Avx2Fma => return unsafe { x86::avx2(&self.w, &self.x) },
                _ => {}
            }
            let mut acc = [[0.0f32; 16]; 8];
            for (block, &x) in self.w.chunks_exact(128).zip(&self.x) {
                for (acc, w) in acc.iter_mut().zip(block.chunks_exact(16)) {
                    for (a, &w) in acc.iter_mut().zip(w) {
                        *a += x * w;
                    }
                }
            }
            acc.iter().flatten().sum()
        }
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx512f")]
        pub unsafe fn avx512(w: &[f32], x: &[f32]) -> f32 {
            let mut acc = [_mm512_setzero_ps(); 8];
            for (block, &x) in w.chunks_exact(128).zip(x) {
                let xv = _mm512_set1_ps(x);
                for (k, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `block` has 128 floats; this reads 16 from 16·k < 128.
                    *acc = _mm512_fmadd_ps(xv, unsafe { _mm512_loadu_ps(block.as_ptr().add(16 * k)) }, *acc);
                }
            }
            let mut sum = _mm512_setzero_ps();
            for a in acc {
                sum = _mm512_add_ps(sum, a);
            }
            _mm512_reduce_add_ps(sum)
        }

        #[target_feature(enable = "avx2,fma")]
        pub unsafe fn avx2(w: &[f32], x: &[f32]) -> f32 {
            let mut acc = [_mm256_setzero_ps(); 8];
            for (block, x) in w.chunks_exact(64).zip(x.iter().flat_map(|&x| [x, x])) {
                let xv = _mm256_set1_ps(x);
                for (k, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `block` has 64 floats; this reads 8 from 8·k < 64.
                    *acc = _mm256_fmadd_ps(xv, unsafe { _mm256_loadu_ps(block.as_ptr().add(8 * k)) }, *acc);
                }
            }
            let mut sum = _mm256_setzero_ps();
            for a in acc {
                sum = _mm256_add_ps(sum, a);
            }
            let mut lanes = [0.0f32; 8];
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
            lanes.iter().sum()
        }
    }
}

/// The user's swish, written the obvious way with the public vectorising sigmoid.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserSwish;
impl Activation for UserSwish {
    fn f<T: Float>(x: T) -> T {
        x * typed_nn::math::sigmoid(x)
    }
    fn df<T: Float>(x: T) -> T {
        let s = typed_nn::math::sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
}

/// The same swish with libm's scalar `exp`, as users wrote it before `typed_nn::math`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LibmSwish;
impl Activation for LibmSwish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

/// Seed model 3: `Dense<100, 128, Swish>` (a user-defined activation) → `Dense<128, 10, Softmax>`.
pub type M3 = (Dense<100, 128, UserSwish>, Dense<128, 10, Softmax>);
/// The same model with the built-in `Swish`, and with the libm swish.
pub type M3Builtin = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);
pub type M3Libm = (Dense<100, 128, LibmSwish>, Dense<128, 10, Softmax>);

/// The same math as `M3::forward`, by hand.
pub fn hand_written_m3(model: &M3, x: &[f32; 100]) -> [f32; 10] {
    let (k1, b1, k2, b2) = (&model.0.kernel, &model.0.bias, &model.1.kernel, &model.1.bias);
    let mut h = *b1;
    for i in 0..100 {
        for j in 0..128 {
            h[j] += x[i] * k1[i][j];
        }
    }
    for v in &mut h {
        *v /= 1.0 + (-*v).exp();
    }
    let mut z = *b2;
    for j in 0..128 {
        for k in 0..10 {
            z[k] += h[j] * k2[j][k];
        }
    }
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in &mut z {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.map(|v| v / sum)
}
