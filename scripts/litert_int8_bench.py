"""Times LiteRT (and TensorFlow Lite for Microcontrollers) on typed-nn's int8 fixture models, one
sample at a time on one thread, for the int8 table of BENCHMARKS.md. Not run by CI.

    /work/venv-tf/bin/python scripts/litert_int8_bench.py [--json target/litert_int8.json]
        [--models ds_cnn] [--interpreters litert_xnnpack] [--calls 20 --batches 301]

For each of tests/fixtures/tflite/{mlp784,digits_mlp,digits_cnn,digits_cnn2,ds_cnn,resnet8}.tflite (or
the ones named with `--models`) and each
interpreter it sets the first fixture input once, then calls `invoke()` in batches of calls and
keeps the fastest batch's time per call (the minimum is the least disturbed by other processes
on a shared machine):

- LiteRT with XNNPACK: `ai_edge_litert.interpreter.Interpreter(num_threads=1)`, whose default
  delegate is XNNPACK (its int8 kernels);
- LiteRT's reference kernels: the same with `experimental_op_resolver_type=BUILTIN_REF`;
- LiteRT's built-in kernels without XNNPACK: `BUILTIN_WITHOUT_DEFAULT_DELEGATES` (ruy and the
  optimized ops), for context;
- TFLite Micro's Python interpreter (`tflite_micro`), the reference kernels embedded users run.

Every call crosses from Python into C++ and back. That cost is measured on a model whose only
operator is a 1-element int8 ReLU, per interpreter, and printed as `floor`; the `− floor`
columns subtract it, which is the fair comparison with typed-nn's in-process Rust calls.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "tflite"
MODELS = ["mlp784", "digits_mlp", "digits_cnn", "digits_cnn2", "ds_cnn", "resnet8"]


def floor_model() -> bytes:
    """A fully int8 model whose only operator is ReLU on one value: the cost of a call."""
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((1,), batch_size=1), keras.layers.ReLU()])

    def data():
        for v in np.linspace(-1, 1, 16, dtype=np.float32):
            yield [np.array([[v]], dtype=np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def per_call(invoke, calls: int, batches: int) -> float:
    """Seconds per call of the fastest batch."""
    for _ in range(calls):  # warm up
        invoke()
    best = float("inf")
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(calls):
            invoke()
        best = min(best, (time.perf_counter() - t) / calls)
    return best


# Calls per batch and batches for LiteRT (`--calls`, `--batches`): short batches (e.g. 20 calls,
# 301 batches, as `benches/paired.rs` times DS-CNN) are less often hit by another process on a
# loaded machine than 2000-call ones, so their minimum is the fairer one to put next to typed-nn's.
LITERT_CALLS, LITERT_BATCHES = 2000, 30


def litert(model: bytes, x: np.ndarray, resolver) -> float:
    kwargs = {"model_content": model, "num_threads": 1}
    if resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver
    it = Interpreter(**kwargs)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    return per_call(it.invoke, LITERT_CALLS, LITERT_BATCHES)


def micro(model: bytes, x: np.ndarray) -> float:
    it = tflm.Interpreter.from_bytes(model)
    it.set_input(x, 0)
    return per_call(it.invoke, 300, 20)


def input_of(name: str, model: bytes) -> np.ndarray:
    details = Interpreter(model_content=model).get_input_details()[0]
    shape, size = details["shape"], int(np.prod(details["shape"]))
    if name is None:
        return np.zeros(shape, dtype=np.int8)
    raw = np.frombuffer((FIXTURES / f"{name}.input.bin").read_bytes(), dtype=np.int8)
    return raw[:size].reshape(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS, help="only these fixtures")
    parser.add_argument(
        "--interpreters",
        nargs="+",
        default=["litert_xnnpack", "litert_reference", "litert_builtin_no_xnnpack", "tflite_micro"],
        help="only these interpreters (e.g. litert_xnnpack, for a quick run next to typed-nn's)",
    )
    parser.add_argument("--calls", type=int, default=2000, help="LiteRT calls per timed batch")
    parser.add_argument("--batches", type=int, default=30, help="LiteRT timed batches (the fastest counts)")
    args = parser.parse_args()
    global LITERT_CALLS, LITERT_BATCHES
    LITERT_CALLS, LITERT_BATCHES = args.calls, args.batches

    kinds = {
        "litert_xnnpack": lambda m, x: litert(m, x, None),
        "litert_reference": lambda m, x: litert(m, x, OpResolverType.BUILTIN_REF),
        "litert_builtin_no_xnnpack": lambda m, x: litert(m, x, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
        "tflite_micro": micro,
    }
    kinds = {kind: run for kind, run in kinds.items() if kind in args.interpreters}
    floor = floor_model()
    floors = {kind: run(floor, input_of(None, floor)) for kind, run in kinds.items()}
    results = {"floor_us": {k: v * 1e6 for k, v in floors.items()}, "models": {}}
    print("| model | interpreter | µs per call | − floor (µs) |")
    print("|---|---|---:|---:|")
    for kind in kinds:
        print(f"| (floor: 1-element ReLU) | {kind} | {floors[kind] * 1e6:.2f} | |")
    for name in args.models:
        model = (FIXTURES / f"{name}.tflite").read_bytes()
        x = input_of(name, model)
        results["models"][name] = {}
        for kind, run in kinds.items():
            t = run(model, x)
            results["models"][name][kind] = {"us": t * 1e6, "minus_floor_us": (t - floors[kind]) * 1e6}
            print(f"| {name} | {kind} | {t * 1e6:.2f} | {(t - floors[kind]) * 1e6:.2f} |")
            sys.stdout.flush()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
