"""Prints the benchmark tables of BENCHMARKS.md from criterion's results in target/criterion.

    cargo bench -p typed-nn-benches --all-features && python3 scripts/bench_table.py

For each workload: the median time of typed-nn and of its floor (the hand-written loop or the
bare GEMM calls, measured in the same run), the floor/typed-nn throughput ratio, and the
fraction of one core's FMA peak that typed-nn's floating-point work reaches. The peaks come
from benches/peak.rs (AVX2 and AVX-512 FMA loops) in the same run.
"""
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
PEAK_ROUNDS, PEAK_CHAINS = 4096, 12  # as in benches/peak.rs

# (group, floor benchmark, samples per iteration, flops per sample of the model's products)
WORKLOADS = [
    ("seed1_forward_1_sample", "hand_written_loop", 1, 2 * (784 * 64 + 64 * 10)),
    ("seed1_forward_batch_128", "bare_gemms", 128, 2 * (784 * 64 + 64 * 10)),
    ("seed1_train_step_batch_128", "bare_gemms", 128, 2 * (784 * 64 + 64 * 10) + 2 * (784 * 64 + 2 * 64 * 10)),
    ("seed2_forward_batch_32", "im2col_gemm_floor", 32, 2 * (676 * 9 * 32 + 5408 * 10)),
    ("seed2_train_step_batch_32", "bare_gemms", 32, 2 * (676 * 9 * 32 + 5408 * 10) + 2 * (676 * 9 * 32 + 2 * 5408 * 10)),
    ("seed2_forward_1_sample", "hand_written_direct_loop", 1, 2 * (676 * 9 * 32 + 5408 * 10)),
    ("seed3_forward_1_sample", "hand_written_loop", 1, 2 * (100 * 128 + 128 * 10)),
]


def median_ns(group, bench):
    path = os.path.join(ROOT, group, bench, "new", "estimates.json")
    with open(path) as fh:
        return json.load(fh)["median"]["point_estimate"]


def fmt(ns):
    return f"{ns / 1e3:.2f} µs" if ns < 1e6 else f"{ns / 1e6:.3f} ms"


def peak_gflops(bench, lanes):
    return PEAK_ROUNDS * PEAK_CHAINS * lanes * 2 / median_ns("fma_peak_one_core", bench)


avx2, avx512 = peak_gflops("avx2_flops", 8), peak_gflops("avx512_flops", 16)
print(f"One-core FMA peak (benches/peak.rs): AVX2 {avx2:.0f} GFLOP/s, AVX-512 {avx512:.0f} GFLOP/s.\n")
print("| workload | floor | floor median | typed-nn median | throughput vs floor | typed-nn samples/s | GFLOP/s | % of AVX2 / AVX-512 peak |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for group, floor, samples, flops in WORKLOADS:
    t, f = median_ns(group, "typed_nn"), median_ns(group, floor)
    gflops = flops * samples / t
    print(
        f"| {group} | {floor} | {fmt(f)} | {fmt(t)} | {f / t:.2f}× | {samples / t * 1e9:,.0f} | {gflops:.0f} "
        f"| {100 * gflops / avx2:.0f}% / {100 * gflops / avx512:.0f}% |"
    )

print()
print("| workload | one thread | two threads | speed-up |")
print("|---|---:|---:|---:|")
one = median_ns("seed1_fit_epoch_batch_128_threads", "one_thread")
two = median_ns("seed1_fit_epoch_batch_128_threads", "two_threads")
print(f"| seed1_fit_epoch_batch_128 (`fit` vs `fit_threaded`) | {fmt(one)} | {fmt(two)} | {one / two:.2f}× |")
