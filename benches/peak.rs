//! The machine's floating-point peak on one core, the denominator of "% of FMA peak" in
//! `BENCHMARKS.md`: 12 independent chains of `f32` fused multiply-adds (enough to hide the FMA
//! latency), 8 lanes wide (AVX2) and 16 lanes wide (AVX-512). Criterion's throughput line reads
//! directly in FLOP/s (each FMA counts as two). Run: `cargo bench -p typed-nn-benches --bench peak`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROUNDS: usize = 4096;
const CHAINS: usize = 12;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_avx2(seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(1e-4));
    let mut acc = [_mm256_set1_ps(seed); CHAINS];
    for _ in 0..ROUNDS {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut out = [0.0f32; 8];
    // SAFETY: `out` holds exactly 8 f32, the width of one unaligned 256-bit store.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), acc.iter().fold(_mm256_setzero_ps(), |s, &v| _mm256_add_ps(s, v))) };
    out.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_avx512(seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(1e-4));
    let mut acc = [_mm512_set1_ps(seed); CHAINS];
    for _ in 0..ROUNDS {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    _mm512_reduce_add_ps(acc.iter().fold(_mm512_setzero_ps(), |s, &v| _mm512_add_ps(s, v)))
}

fn peak(c: &mut Criterion) {
    let mut g = c.benchmark_group("fma_peak_one_core");
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            g.throughput(Throughput::Elements((ROUNDS * CHAINS * 8 * 2) as u64));
            // SAFETY: the CPU supports AVX2 and FMA (checked above).
            g.bench_function("avx2_flops", |b| b.iter(|| unsafe { fma_avx2(black_box(1.0)) }));
        }
        if is_x86_feature_detected!("avx512f") {
            g.throughput(Throughput::Elements((ROUNDS * CHAINS * 16 * 2) as u64));
            // SAFETY: the CPU supports AVX-512F (checked above).
            g.bench_function("avx512_flops", |b| b.iter(|| unsafe { fma_avx512(black_box(1.0)) }));
        }
    }
    g.finish();
}

criterion_group!(benches, peak);
criterion_main!(benches);
