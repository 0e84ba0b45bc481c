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

/// How a GEMM operand lies in its `Vec`: the matrix itself, row-major, or its transpose,
/// row-major (`Pᵀ` of a row-major `P`, read in place).
#[derive(Clone, Copy, Debug)]
pub enum Stored {
    /// An `r×c` matrix as `r` rows of `c`.
    RowMajor,
    /// An `r×c` matrix as the `c` rows of its transpose.
    Transposed,
}

/// `c = a·b` by `matrixmultiply::sgemm`, for an `m×k` matrix `a` and a `k×n` matrix `b`, each
/// stored as its [`Stored`] says; `c` is `m×n`, row-major, overwritten.
pub fn sgemm(m: usize, k: usize, n: usize, (a, sa): (&[f32], Stored), (b, sb): (&[f32], Stored), c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // Row and column strides of an `r×c` operand.
    let strides = |stored, r: usize, c: usize| match stored {
        Stored::RowMajor => (c as isize, 1),
        Stored::Transposed => (1, r as isize),
    };
    let ((rsa, csa), (rsb, csb)) = (strides(sa, m, k), strides(sb, k, n));
    // SAFETY: the assert above. sgemm reads `a` at `i·rsa + j·csa` for `i < m`, `j < k`: at
    // most `(m−1)·k + k−1` or `m−1 + (k−1)·m`, both `m·k − 1`; likewise `b` below `k·n` and `c`
    // below `m·n`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Seed model 2 (`Conv2D<1, 32, 3, Sigmoid>` → `MaxPool2D<2>` → `Flatten` → `Dense<5408, 10,
/// Softmax>` on 28×28 images) and the bare-GEMM floors of its batched forward pass and training
/// step, shared by `conv.rs`, `train_step.rs` and `paired.rs`.
pub mod cnn {
    use typed_nn::prelude::*;

    use super::Stored::{RowMajor, Transposed};
    use super::sgemm;

    pub type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

    /// `n` images with values uniform in [0, 1), and labels cycling through the 10 classes.
    pub fn images(n: usize) -> (Vec<Image<28, 28, 1>>, Vec<usize>) {
        let mut rng = SeedRng::seed(5);
        let xs = (0..n)
            .map(|_| {
                let mut img = Image::default();
                img.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
                img
            })
            .collect();
        (xs, (0..n).map(|i| i % 10).collect())
    }

    /// The buffers of the floors, prepared once.
    pub struct Floor {
        n: usize,
        patches: Vec<f32>,
        z: Vec<f32>,
        pooled: Vec<f32>,
        logits: Vec<f32>,
        kc: Vec<f32>,
        kd: Vec<f32>,
        dlogits: Vec<f32>,
        dpooled: Vec<f32>,
        dz: Vec<f32>,
        dkd: Vec<f32>,
        dkc: Vec<f32>,
    }

    impl Floor {
        pub fn new(model: &Cnn, n: usize) -> Self {
            let rows = n * 676;
            Self {
                n,
                patches: vec![0.5; rows * 9],
                z: vec![0.0; rows * 32],
                pooled: vec![0.5; n * 5408],
                logits: vec![0.0; n * 10],
                kc: model.0.kernel.as_flattened().as_flattened().as_flattened().to_vec(),
                kd: model.3.kernel.as_flattened().to_vec(),
                dlogits: vec![0.01; n * 10],
                dpooled: vec![0.0; n * 5408],
                dz: vec![0.01; rows * 32],
                dkd: vec![0.0; 5408 * 10],
                dkc: vec![0.0; 9 * 32],
            }
        }

        /// The forward floor: im2col of the batch (a plain copy loop), then the conv as
        /// `(n·676 × 9)·(9 × 32)` and the dense layer as `(n × 5408)·(5408 × 10)`; no
        /// activation, no pooling.
        pub fn forward(&mut self, xs: &[Image<28, 28, 1>]) {
            for (n, x) in xs.iter().enumerate() {
                let x = x.as_array();
                for oy in 0..26 {
                    for ox in 0..26 {
                        let row = &mut self.patches[((n * 26 + oy) * 26 + ox) * 9..][..9];
                        for ky in 0..3 {
                            for kx in 0..3 {
                                row[ky * 3 + kx] = x[oy + ky][ox + kx][0];
                            }
                        }
                    }
                }
            }
            let (n, rows) = (self.n, self.n * 676);
            sgemm(rows, 9, 32, (&self.patches, RowMajor), (&self.kc, RowMajor), &mut self.z);
            sgemm(n, 5408, 10, (&self.pooled, RowMajor), (&self.kd, RowMajor), &mut self.logits);
            std::hint::black_box((&self.z, &self.logits));
        }

        /// The training-step floor: the forward GEMMs (on ready-made patches), then dense
        /// `Xᵀ·dZ` and `dZ·Kᵀ`, and the conv's weight gradient `Pᵀ·dZ` (no input gradient for
        /// the first layer). No activation, pooling, loss, im2col or optimizer.
        pub fn train_step(&mut self) {
            let (n, rows) = (self.n, self.n * 676);
            sgemm(rows, 9, 32, (&self.patches, RowMajor), (&self.kc, RowMajor), &mut self.z);
            sgemm(n, 5408, 10, (&self.pooled, RowMajor), (&self.kd, RowMajor), &mut self.logits);
            // Xᵀ·dZ, dZ·Kᵀ and Pᵀ·dZ, the transposes read in place.
            sgemm(5408, n, 10, (&self.pooled, Transposed), (&self.dlogits, RowMajor), &mut self.dkd);
            sgemm(n, 10, 5408, (&self.dlogits, RowMajor), (&self.kd, Transposed), &mut self.dpooled);
            sgemm(9, rows, 32, (&self.patches, Transposed), (&self.dz, RowMajor), &mut self.dkc);
            std::hint::black_box((&self.z, &self.logits, &self.dkd, &self.dpooled, &self.dkc));
        }
    }
}

/// `DepthwiseConv2D<64, 3, Relu, 1, Same>` on a 25×5×64 image, written by hand: for each
/// output pixel and channel, the nine taps inside the image (zeros outside), plus the bias, then
/// the ReLU. The obvious loop over fixed-size arrays, compiled for the default target (SSE2).
pub fn depthwise_hand_written(
    kernel: &[[[[f32; 1]; 64]; 3]; 3],
    bias: &[[f32; 1]; 64],
    x: &[[[f32; 64]; 5]; 25],
    y: &mut [[[f32; 64]; 5]; 25],
) {
    for oy in 0..25 {
        for ox in 0..5 {
            let mut acc = [0.0f32; 64];
            for c in 0..64 {
                acc[c] = bias[c][0];
            }
            for ky in 0..3 {
                let iy = oy as isize + ky as isize - 1;
                if !(0..25).contains(&iy) {
                    continue;
                }
                for kx in 0..3 {
                    let ix = ox as isize + kx as isize - 1;
                    if !(0..5).contains(&ix) {
                        continue;
                    }
                    let px = &x[iy as usize][ix as usize];
                    for c in 0..64 {
                        acc[c] += px[c] * kernel[ky][kx][c][0];
                    }
                }
            }
            for c in 0..64 {
                y[oy][ox][c] = acc[c].max(0.0);
            }
        }
    }
}

/// The floor of `mlperf.rs` and `paired.rs`: MLPerf Tiny's ResNet-8 and DS-CNN convolutions as
/// bare im2col + `matrixmultiply` GEMM calls (no bias, activation, addition or pooling), and
/// DS-CNN's depthwise convolution as a plain direct loop.
pub mod mlperf_floor {
    /// One convolution of the floor: input `h`×`w` with `c` channels, `kh`×`kw` kernel, stride
    /// `sh`×`sw`, `f` filters, "same" padding as Keras computes it (the odd pixel at the
    /// bottom/right).
    pub struct Conv {
        h: usize,
        w: usize,
        c: usize,
        kh: usize,
        kw: usize,
        sh: usize,
        sw: usize,
        f: usize,
    }

    /// A square convolution of a square image.
    const fn sq(h: usize, c: usize, k: usize, s: usize, f: usize) -> Conv {
        Conv { h, w: h, c, kh: k, kw: k, sh: s, sw: s, f }
    }

    /// ResNet-8's convolutions in execution order.
    pub const CONVS: [Conv; 9] = [
        sq(32, 3, 3, 1, 16),
        sq(32, 16, 3, 1, 16),
        sq(32, 16, 3, 1, 16),
        sq(32, 16, 3, 2, 32),
        sq(16, 32, 3, 1, 32),
        sq(32, 16, 1, 2, 32),
        sq(16, 32, 3, 2, 64),
        sq(8, 64, 3, 1, 64),
        sq(16, 32, 1, 2, 64),
    ];

    /// DS-CNN's standard convolutions: the 10×4 stride-2 first one and the four 1×1 ones.
    pub const DS_CONVS: [Conv; 5] = [
        Conv { h: 49, w: 10, c: 1, kh: 10, kw: 4, sh: 2, sw: 2, f: 64 },
        sq_rect_pointwise(),
        sq_rect_pointwise(),
        sq_rect_pointwise(),
        sq_rect_pointwise(),
    ];

    /// DS-CNN's 1×1 convolution on the 25×5×64 feature map.
    const fn sq_rect_pointwise() -> Conv {
        Conv { h: 25, w: 5, c: 64, kh: 1, kw: 1, sh: 1, sw: 1, f: 64 }
    }

    /// DS-CNN's 3×3 "same" depthwise convolution on 25×5×64, as a direct loop.
    pub fn depthwise_3x3(x: &[f32], k: &[f32], y: &mut [f32]) {
        const H: usize = 25;
        const W: usize = 5;
        const C: usize = 64;
        for oy in 0..H {
            for ox in 0..W {
                let out = &mut y[(oy * W + ox) * C..][..C];
                out.fill(0.0);
                for ky in 0..3 {
                    for kx in 0..3 {
                        let (iy, ix) = ((oy + ky).wrapping_sub(1), (ox + kx).wrapping_sub(1));
                        if iy < H && ix < W {
                            let (xp, kp) = (&x[(iy * W + ix) * C..][..C], &k[(ky * 3 + kx) * C..][..C]);
                            for ((o, &xv), &kv) in out.iter_mut().zip(xp).zip(kp) {
                                *o += xv * kv;
                            }
                        }
                    }
                }
            }
        }
    }

    impl Conv {
        /// Output rows and columns.
        fn out(&self) -> (usize, usize) {
            (self.h.div_ceil(self.sh), self.w.div_ceil(self.sw))
        }

        /// Output pixels.
        fn pixels(&self) -> usize {
            self.out().0 * self.out().1
        }

        /// One im2col row: `kh·kw·c` values.
        fn patch(&self) -> usize {
            self.kh * self.kw * self.c
        }

        /// Padding above and left.
        fn pad(&self) -> (usize, usize) {
            let (oh, ow) = self.out();
            (
                ((oh - 1) * self.sh + self.kh).saturating_sub(self.h) / 2,
                ((ow - 1) * self.sw + self.kw).saturating_sub(self.w) / 2,
            )
        }

        /// im2col: one row of `kh·kw·c` values per output pixel, zeros outside the image.
        fn im2col(&self, x: &[f32], patches: &mut [f32]) {
            let ((oh, ow), (pt, pl), row_len) = (self.out(), self.pad(), self.patch());
            for oy in 0..oh {
                for ox in 0..ow {
                    let row = &mut patches[(oy * ow + ox) * row_len..][..row_len];
                    for ky in 0..self.kh {
                        for kx in 0..self.kw {
                            let dst = &mut row[(ky * self.kw + kx) * self.c..][..self.c];
                            let (iy, ix) = ((oy * self.sh + ky).wrapping_sub(pt), (ox * self.sw + kx).wrapping_sub(pl));
                            if iy < self.h && ix < self.w {
                                dst.copy_from_slice(&x[(iy * self.w + ix) * self.c..][..self.c]);
                            } else {
                                dst.fill(0.0);
                            }
                        }
                    }
                }
            }
        }

        /// The floor's buffers for this convolution: input, patches, output, kernel.
        pub fn buffers(&self) -> [Vec<f32>; 4] {
            [
                vec![0.5; self.h * self.w * self.c],
                vec![0.0; self.pixels() * self.patch()],
                vec![0.0; self.pixels() * self.f],
                vec![0.01; self.patch() * self.f],
            ]
        }

        /// im2col and GEMM, given the buffers of [`buffers`](Self::buffers).
        pub fn run(&self, [x, patches, y, k]: &mut [Vec<f32>; 4]) {
            self.im2col(x, patches);
            gemm(self.pixels(), self.patch(), self.f, patches, k, y);
        }
    }

    /// `c = a·b`, row-major, `a` is `m×k`, `b` is `k×n`.
    pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        super::sgemm(m, k, n, (a, super::Stored::RowMajor), (b, super::Stored::RowMajor), c);
    }
}
