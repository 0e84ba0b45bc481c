"""Prints the int8 tables of BENCHMARKS.md from criterion's results (benches/int8.rs, run once
per kernel path) and, when present, LiteRT's timings (scripts/litert_int8_bench.py --json).
Every time is the fastest sample's time per call.

    cargo bench -p typed-nn-benches --bench int8
    TYPED_NN_SIMD=avx2 cargo bench -p typed-nn-benches --bench int8 -- typed_nn_int8
    TYPED_NN_SIMD=portable cargo bench -p typed-nn-benches --bench int8 -- typed_nn_int8
    /work/venv-tf/bin/python scripts/litert_int8_bench.py --json target/litert_int8.json
    python3 scripts/bench_table_int8.py
"""
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "target")
CRITERION = os.path.join(ROOT, "criterion")

MODELS = [
    ("mlp784", "784-64-10 MLP"),
    ("digits_mlp", "digits MLP 64-32-10"),
    ("digits_cnn", "digits CNN"),
    ("digits_cnn2", "digits CNN 2"),
    ("ds_cnn", "DS-CNN"),
]
PATHS = ["avx512-vnni", "avx2", "portable"]


def fastest_ns(group, bench):
    """The fastest of criterion's samples, per iteration: the least disturbed by other processes
    on a shared machine, and the same statistic scripts/litert_int8_bench.py reports."""
    path = os.path.join(CRITERION, group, bench, "new", "sample.json")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        sample = json.load(fh)
    return min(t / n for t, n in zip(sample["times"], sample["iters"]))


def fmt(ns):
    if ns is None:
        return "–"
    return f"{ns:.0f} ns" if ns < 1e4 else f"{ns / 1e3:.2f} µs"


def ratio(a, b):
    return "–" if a is None or b is None else f"{a / b:.2f}"


print("| model | f32 (typed-nn) | hand-written int8 loop | int8 AVX-512 VNNI | int8 AVX2 | int8 portable | int8/f32: VNNI, AVX2, portable |")
print("|---|---:|---:|---:|---:|---:|---|")
for name, label in MODELS:
    group = f"int8_{name}_1_sample"
    f32 = fastest_ns(group, "typed_nn_f32")
    hand = fastest_ns(group, "hand_written_int8_loop")
    paths = [fastest_ns(group, f"typed_nn_int8_{p}") for p in PATHS]
    ratios = ", ".join(ratio(p, f32) for p in paths)
    print(f"| {label} | {fmt(f32)} | {fmt(hand)} | " + " | ".join(fmt(p) for p in paths) + f" | {ratios} |")

# LiteRT's results: target/litert_int8.json, and any target/litert_*.json from runs with
# `--models` (later files add their models).
litert_files = sorted(f for f in os.listdir(ROOT) if f.startswith("litert_") and f.endswith(".json")) if os.path.isdir(ROOT) else []
if litert_files:
    litert = {"models": {}, "floor_us": {}}
    for f in litert_files:
        with open(os.path.join(ROOT, f)) as fh:
            part = json.load(fh)
        litert["models"].update(part["models"])
        litert["floor_us"] = litert["floor_us"] or part["floor_us"]
    print()
    print("| model | typed-nn int8 (VNNI / AVX2) | LiteRT XNNPACK | LiteRT reference | LiteRT built-in | TFLite Micro | XNNPACK / typed-nn (VNNI, AVX2) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, label in MODELS:
        group = f"int8_{name}_1_sample"
        ours = [fastest_ns(group, f"typed_nn_int8_{p}") for p in PATHS[:2]]
        m = litert["models"].get(name, {})
        cols = [m.get(k, {}).get("minus_floor_us") for k in ["litert_xnnpack", "litert_reference", "litert_builtin_no_xnnpack", "tflite_micro"]]
        xnn = None if cols[0] is None else cols[0] * 1e3
        print(
            f"| {label} | {fmt(ours[0])} / {fmt(ours[1])} | "
            + " | ".join(fmt(None if c is None else c * 1e3) for c in cols)
            + f" | {ratio(xnn, ours[0])}, {ratio(xnn, ours[1])} |"
        )
    floors = ", ".join(f"{k} {v:.2f} µs" for k, v in litert["floor_us"].items())
    print(f"\nLiteRT and TFLite Micro times are per call minus the cost of a call from Python ({floors}).")
