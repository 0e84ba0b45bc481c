//! An own `f32` GEMM for the batched `Dense` layers: `C = init + A·B`, where `B` is a row-major
//! `k×n` matrix read **in place** (a `Dense` kernel in Keras layout, or a batch of output
//! gradients) and `A` any strided view (the batch of inputs, or its transpose).
//!
//! It also runs `Conv2D`'s 1×1 stride-1 convolutions (`layer/conv.rs`, `pointwise_gemm`), one
//! image at a time: the image's pixels are `A`'s rows, the kernel `(1, 1, CI, CO)` is `B`, the
//! bias is `init`. Its 6-row tiles run across the image's rows, which the direct convolution's
//! blocks do not: DS-CNN's 1×1 layer on its 25 × 5 × 64 map took 9.79–9.80 instead of
//! 9.92–9.94 µs on the AVX-512 path and 9.93–10.01 instead of 10.27–10.29 µs on the AVX2 path
//! (BENCHMARKS.md, "DS-CNN: the 1×1 convolution").
//!
//! Why not `matrixmultiply` for these: it packs both operands on every call (for the digits
//! MLP's first layer, 200 KB of weights and 400 KB of inputs per batch of 128) and writes `C`
//! with `beta`; here no operand is copied, `B`'s rows are already the micro-kernel's panels
//! (`n` contiguous floats), `A`'s values are broadcast straight from memory, and the bias is the
//! accumulators' initial value. Two micro-kernels, written with intrinsics because the
//! compiler's code for the same loops in portable Rust was 1.1–2.3× slower than
//! `matrixmultiply` (BENCHMARKS.md, issue 17 part 2):
//! - AVX-512F: 6 rows × 64 columns (24 `zmm` accumulators, four 16-wide loads of `B` and six
//!   broadcasts of `A` per step of `k`), with tiles of 1–5 rows and 32 or 16 columns at the
//!   edges (a convolution's `9 × 32` weight gradient is one 6×32 and one 3×32 tile);
//! - AVX2 + FMA: 6 rows × 16 columns (12 `ymm` accumulators), with 1–5 rows and 8 columns at
//!   the edges.
//!
//! Both sum each output in the order `init, a₀b₀, a₁b₁, …` with one fused multiply-add per
//! term, so the AVX-512 and AVX2 paths give the same bits. The path follows
//! [`float_simd`](super::simd::float_simd) (so `TYPED_NN_SIMD=avx2` selects the AVX2 kernel);
//! [`gemm_rows`] returns `false` (and the caller uses `matrixmultiply`) on the portable path,
//! without `std`, off x86-64, and when `n` is not a multiple of the vector width.

/// What the accumulators start from.
#[derive(Clone, Copy, Debug)]
pub enum Init<'a> {
    /// `C`'s own values: `C += A·B`.
    Accumulate,
    /// The same row (of at least `n` values, a bias) for every row of `C`: `C = 1·rowᵀ + A·B`.
    Row(&'a [f32]),
}

/// `C (m×n, row-major, contiguous) = init + A·B` with `A[i][p] = a[i·rsa + p·csa]` and
/// `B[p][j] = b[p·n + j]`, on this process's vector path. Returns whether it ran: `false`
/// (nothing written) when there is no AVX2/AVX-512 path, when `n` is not a multiple of the
/// vector width, when a size is zero, or when an operand is too short for the stated sizes.
#[allow(clippy::too_many_arguments)] // mirrors the BLAS signature
pub fn gemm_rows(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    init: Init<'_>,
    c: &mut [f32],
) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::simd::FloatSimd;
        let path = super::simd::float_simd();
        let width = match path {
            FloatSimd::Avx512 => 16,
            FloatSimd::Avx2Fma => 8,
            FloatSimd::Portable => return false,
        };
        if m == 0 || k == 0 || n == 0 || !n.is_multiple_of(width) || !fits(m, k, n, a.len(), rsa, csa, b.len(), c.len())
        {
            return false;
        }
        let bias = match init {
            Init::Accumulate => None,
            Init::Row(row) if row.len() >= n => Some(row.as_ptr()),
            Init::Row(_) => return false,
        };
        let op = Op { k, n, a: a.as_ptr(), rsa, csa, b: b.as_ptr(), bias, c: c.as_mut_ptr() };
        if path == FloatSimd::Avx512 {
            // SAFETY: the CPU has AVX-512F (and `TYPED_NN_SIMD` allows it): `float_simd` checked
            // at run time. `fits` proved every index `i·rsa + p·csa` (`i < m`, `p < k`) inside
            // `a`, `p·n + j` inside `b` and `i·n + j` inside `c`; `bias` has at least `n`
            // values; `c` is an exclusive borrow, so it overlaps neither `a`, `b` nor `bias`.
            unsafe { avx512::gemm(m, &op) };
        } else {
            // SAFETY: as above, with AVX2 and FMA checked by `float_simd`.
            unsafe { avx2::gemm(m, &op) };
        }
        true
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = (m, k, n, a, rsa, csa, b, init, c);
        false
    }
}

/// Whether `a` (m×k through `rsa`, `csa`), `b` (k×n row-major) and `c` (m×n row-major) are long
/// enough, with every product checked for overflow.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
fn fits(m: usize, k: usize, n: usize, a_len: usize, rsa: usize, csa: usize, b_len: usize, c_len: usize) -> bool {
    let a_last = (m - 1).checked_mul(rsa).and_then(|r| (k - 1).checked_mul(csa).and_then(|c| r.checked_add(c)));
    matches!(a_last, Some(last) if last < a_len)
        && matches!(k.checked_mul(n), Some(len) if len <= b_len)
        && matches!(m.checked_mul(n), Some(len) if len <= c_len)
}

/// One product's operands as raw pointers, valid for the sizes [`gemm_rows`] checked.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
struct Op {
    k: usize,
    n: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    bias: Option<*const f32>,
    c: *mut f32,
}

/// Generates one path's driver and micro-kernel: `$vec` is the register type, `$w` its lanes,
/// `$nv` the number of registers per row in the wide tile.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
macro_rules! path {
    ($name:ident, $feature:literal, $vec:ty, $w:literal, $nv:literal, $load:ident, $store:ident, $set1:ident, $fma:ident, $zero:ident) => {
        mod $name {
            use super::Op;
            use core::arch::x86_64::*;

            /// Rows per tile.
            const MR: usize = 6;

            /// Every tile of `C`: blocks of `MR` rows (the last one shorter), each across the
            /// columns in tiles of `$nv` vectors (the last ones narrower). The row block's `A`
            /// values (`MR·k` floats) stay in L1 while its column tiles read `B` from L2.
            ///
            /// # Safety
            /// The CPU has the module's features; `op` satisfies [`gemm_rows`](super::gemm_rows)'s
            /// checks for `m` rows (every index in bounds, `c` exclusive), and `op.n` is a
            /// multiple of the vector width.
            #[target_feature(enable = $feature)]
            pub unsafe fn gemm(m: usize, op: &Op) {
                let mut i = 0;
                while i < m {
                    let rows = (m - i).min(MR);
                    let mut j = 0;
                    while j < op.n {
                        // Whole vectors left in this row (n is a multiple of $w): the widest
                        // tile of $nv, 2 or 1 vectors that fits.
                        let left = (op.n - j) / $w;
                        let nv = if left >= $nv {
                            $nv
                        } else if left >= 2 {
                            2
                        } else {
                            1
                        };
                        // SAFETY: rows `i..i + rows` ≤ m and columns `j..j + nv·$w` ≤ n: the
                        // tile is inside the checked ranges; the features are the caller's.
                        unsafe {
                            if nv == $nv {
                                rows_tile::<$nv>(op, rows, i, j);
                            } else if nv == 2 {
                                rows_tile::<2>(op, rows, i, j);
                            } else {
                                rows_tile::<1>(op, rows, i, j);
                            }
                        }
                        j += nv * $w;
                    }
                    i += rows;
                }
            }

            /// [`tile`] for `rows` (1 to `MR`) rows, each count its own compiled copy, so the
            /// accumulators stay in registers.
            ///
            /// # Safety
            /// As [`tile`] for `R = rows`.
            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn rows_tile<const NV: usize>(op: &Op, rows: usize, i: usize, j: usize) {
                // SAFETY: the caller's contract, for the row count each arm compiles.
                unsafe {
                    match rows {
                        6 => tile::<6, NV>(op, i, j),
                        5 => tile::<5, NV>(op, i, j),
                        4 => tile::<4, NV>(op, i, j),
                        3 => tile::<3, NV>(op, i, j),
                        2 => tile::<2, NV>(op, i, j),
                        _ => tile::<1, NV>(op, i, j),
                    }
                }
            }

            /// `C[i..i+R][j..j+NV·$w] = init + A[i..i+R][..]·B[..][j..j+NV·$w]`, the `R·NV`
            /// sums in registers, one fused multiply-add per term in the order of `p`.
            ///
            /// # Safety
            /// As [`gemm`], and rows `i..i + R`, columns `j..j + NV·$w` are inside `C`.
            #[target_feature(enable = $feature)]
            #[inline]
            unsafe fn tile<const R: usize, const NV: usize>(op: &Op, i: usize, j: usize) {
                let mut acc = [[$zero(); NV]; R];
                // SAFETY: the init row has ≥ n values and `j + NV·$w ≤ n`; `C`'s rows `i..i+R`,
                // columns `j..j+NV·$w` are in bounds (caller), loads are unaligned.
                unsafe {
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        for (v, a) in acc_r.iter_mut().enumerate() {
                            *a = match op.bias {
                                Some(bias) => $load(bias.add(j + v * $w)),
                                None => $load(op.c.add((i + r) * op.n + j + v * $w)),
                            };
                        }
                    }
                }
                let a0 = op.a.wrapping_add(i * op.rsa);
                let b0 = op.b.wrapping_add(j);
                for p in 0..op.k {
                    let mut bv = [$zero(); NV];
                    // SAFETY: `p < k`, so `p·n + j + v·$w + $w ≤ k·n`: inside `b`.
                    unsafe {
                        for (v, x) in bv.iter_mut().enumerate() {
                            *x = $load(b0.add(p * op.n + v * $w));
                        }
                    }
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        // SAFETY: `(i + r)·rsa + p·csa` with `i + r < m`, `p < k`: checked
                        // inside `a` by `fits`.
                        let x = $set1(unsafe { *a0.add(r * op.rsa + p * op.csa) });
                        for (a, &y) in acc_r.iter_mut().zip(&bv) {
                            *a = $fma(x, y, *a);
                        }
                    }
                }
                // SAFETY: the same `C` indices as the initial loads; `c` is exclusive.
                unsafe {
                    for (r, acc_r) in acc.iter().enumerate() {
                        for (v, &a) in acc_r.iter().enumerate() {
                            $store(op.c.add((i + r) * op.n + j + v * $w), a);
                        }
                    }
                }
            }
        }
    };
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
path!(
    avx512,
    "avx512f",
    __m512,
    16,
    4,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_setzero_ps
);
#[cfg(all(feature = "std", target_arch = "x86_64"))]
path!(
    avx2,
    "avx2,fma",
    __m256,
    8,
    2,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_setzero_ps
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    /// The textbook triple loop in `f64`, as an independent reference.
    #[allow(clippy::too_many_arguments)]
    fn naive(m: usize, k: usize, n: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], c0: &[f32]) -> Vec<f64> {
        let mut c = Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k).map(|p| f64::from(a[i * rsa + p * csa]) * f64::from(b[p * n + j])).sum();
                c.push(f64::from(c0[i * n + j]) + s);
            }
        }
        c
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 37 + seed * 11) % 29) as f32 / 29.0 - 0.5).collect()
    }

    /// Every tile shape (6-row blocks and single rows; wide and narrow column tiles) against
    /// the triple loop, with `A` row-major and transposed, accumulating and from a bias row.
    #[test]
    fn gemm_rows_matches_the_triple_loop_on_every_edge() {
        for (m, k, n) in [
            (13, 37, 80),
            (6, 5, 64),
            (1, 1, 16),
            (7, 300, 48),
            (128, 784, 64),
            (20, 3, 8),
            (9, 50, 32),
            (11, 4, 112),
            (10, 7, 16),
        ] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let bias = values(n, 3);
            // A row-major (rsa = k), then the same A stored transposed (rsa = 1, csa = m).
            let at: Vec<f32> = (0..k * m).map(|q| a[(q % m) * k + q / m]).collect();
            for (a, rsa, csa) in [(&a, k, 1), (&at, 1, m)] {
                let c0 = values(m * n, 4);
                let mut c = c0.clone();
                let ran = gemm_rows(m, k, n, a, rsa, csa, &b, Init::Accumulate, &mut c);
                let bias_rows: Vec<f32> = (0..m * n).map(|q| bias[q % n]).collect();
                let mut cb = vec![f32::NAN; m * n];
                let ran_b = gemm_rows(m, k, n, a, rsa, csa, &b, Init::Row(&bias), &mut cb);
                assert_eq!(ran, ran_b);
                if !ran {
                    // No AVX2 on this CPU, or n not a multiple of 16 under AVX-512.
                    assert_eq!(c, c0);
                    continue;
                }
                for (expected, c) in
                    [(naive(m, k, n, a, rsa, csa, &b, &c0), &c), (naive(m, k, n, a, rsa, csa, &b, &bias_rows), &cb)]
                {
                    for (q, (&e, &got)) in expected.iter().zip(c.iter()).enumerate() {
                        assert!(
                            (e - f64::from(got)).abs() <= 1e-5 * (1.0 + k as f64).sqrt(),
                            "{m}×{k}×{n} at {q}: {got} vs {e}"
                        );
                    }
                }
            }
        }
        std::println!("path: {}", crate::kernel::simd::float_simd());
    }

    /// Both paths sum each output as `init`, then one fused multiply-add per term in the order
    /// of `p`: the order `Conv2D`'s 1×1 convolutions rely on (`layer/conv.rs`,
    /// `pointwise_gemm`) to give the direct convolution's bits. Checked bit for bit against
    /// that chain on each path the CPU has, whatever `TYPED_NN_SIMD` says: DS-CNN's 1×1 product
    /// (125 × 64 by 64 × 64), and narrow tiles and short row blocks.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn both_paths_sum_init_then_each_term_in_order() {
        use crate::init::{SeedRng, uniform01};
        let values = |seed: u64, len: usize| {
            let mut rng = SeedRng::seed(seed);
            (0..len).map(|_| (uniform01(&mut rng) * 2.0 - 1.0) as f32).collect::<Vec<f32>>()
        };
        let fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        let avx512 = std::is_x86_feature_detected!("avx512f");
        for (m, k, n) in [(125, 64, 64), (70, 32, 80), (12, 16, 48), (15, 5, 16), (1, 1, 16)] {
            let (a, b, bias) = (values(1, m * k), values(2, k * n), values(3, n));
            let expected: Vec<u32> = (0..m * n)
                .map(|q| (0..k).fold(bias[q % n], |acc, p| a[(q / n) * k + p].mul_add(b[p * n + q % n], acc)).to_bits())
                .collect();
            for wide in [true, false] {
                if !fma || (wide && !avx512) {
                    continue;
                }
                let mut c = vec![f32::NAN; m * n];
                let op = Op {
                    k,
                    n,
                    a: a.as_ptr(),
                    rsa: k,
                    csa: 1,
                    b: b.as_ptr(),
                    bias: Some(bias.as_ptr()),
                    c: c.as_mut_ptr(),
                };
                // SAFETY: the CPU has the path's features (checked above); `a` holds `m·k`
                // values read at `i·k + p`, `b` `k·n` at `p·n + j`, `bias` `n`, `c` `m·n`
                // (exclusive, written at `i·n + j`); `n` is a multiple of 16 (and so of 8).
                unsafe {
                    if wide {
                        avx512::gemm(m, &op);
                    } else {
                        avx2::gemm(m, &op);
                    }
                }
                let got: Vec<u32> = c.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, expected, "{m}×{k}×{n}, avx512: {wide}");
            }
        }
    }

    #[test]
    fn gemm_rows_refuses_short_operands_and_odd_widths() {
        let (a, b, bias) = (vec![1.0f32; 2 * 3], vec![1.0f32; 3 * 16], vec![0.5f32; 16]);
        let mut c = vec![0.0f32; 2 * 16];
        assert!(!gemm_rows(2, 3, 16, &a[..5], 3, 1, &b, Init::Accumulate, &mut c));
        assert!(!gemm_rows(2, 3, 16, &a, 3, 1, &b[..47], Init::Accumulate, &mut c));
        assert!(!gemm_rows(2, 3, 16, &a, 3, 1, &b, Init::Accumulate, &mut c[..31]));
        assert!(!gemm_rows(2, 3, 16, &a, 3, 1, &b, Init::Row(&bias[..15]), &mut c));
        assert!(!gemm_rows(2, 3, 15, &a, 3, 1, &b, Init::Accumulate, &mut c));
        assert!(!gemm_rows(2, 3, 16, &a, usize::MAX, 1, &b, Init::Accumulate, &mut c));
        assert!(c.iter().all(|&v| v == 0.0));
        if gemm_rows(2, 3, 16, &a, 3, 1, &b, Init::Row(&bias), &mut c) {
            assert!(c.iter().all(|&v| v == 3.5));
        }
    }
}
