"""Times LiteRT (TensorFlow Lite) on MLPerf Tiny's ResNet-8 and DS-CNN in float32, one sample at a
time on one thread, for the MLPerf Tiny table of BENCHMARKS.md. Not run by CI.

    /work/venv-tf/bin/python scripts/litert_mlperf_tiny_bench.py [--json target/litert_mlperf_tiny.json]

Each model is the Keras model of scripts/keras_mlperf_tiny_fixtures.py, rebuilt here with the
TensorFlow backend and given the fixture's weights (tests/fixtures/keras_{resnet8,ds_cnn}.safetensors,
random BatchNormalization statistics), then converted with `tf.lite.TFLiteConverter` without
quantization (the converter folds the BatchNormalizations into the convolutions, as typed-nn's
`fold_batch_norm` does). Before timing, the script checks that Keras and every interpreter give
the fixture's outputs (tests/fixtures/keras_mlperf_tiny.safetensors, `{m}.y`) within 1e-4.

For each interpreter it sets the first fixture image once, then calls `invoke()` in batches and
keeps the fastest batch's time per call (`--calls 300 --batches 20` by default; `--calls 4
--batches 301` is the protocol of `benches/paired.rs`, whose fastest round of 4 calls is the
number that survives a loaded machine; `--kinds litert_xnnpack` times only XNNPACK):

- LiteRT with XNNPACK: `ai_edge_litert.interpreter.Interpreter(num_threads=1)`, whose default
  delegate is XNNPACK;
- LiteRT's reference kernels: `experimental_op_resolver_type=BUILTIN_REF`;
- LiteRT's built-in optimized kernels without XNNPACK: `BUILTIN_WITHOUT_DEFAULT_DELEGATES`.

The cost of crossing from Python into C++ and back is measured on a float model whose only
operator is a 1-element ReLU and subtracted in the `minus_floor` numbers.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "scripts"))
from export_weights import keras_layers  # noqa: E402


def resnet8():
    """The functional ResNet-8 of scripts/keras_mlperf_tiny_fixtures.py (batch size 1)."""
    layers = keras.layers
    inputs = keras.Input((32, 32, 3), batch_size=1)
    x = layers.Conv2D(16, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters, strides in ((16, 1), (32, 2), (64, 2)):
        y = layers.Conv2D(filters, 3, strides=strides, padding="same")(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        y = layers.BatchNormalization()(y)
        if strides != 1:
            x = layers.Conv2D(filters, 1, strides=strides, padding="same")(x)
        x = layers.Add()([x, y])
        x = layers.Activation("relu")(x)
    x = layers.AveragePooling2D(pool_size=8)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def ds_cnn():
    """The functional DS-CNN of scripts/keras_mlperf_tiny_fixtures.py (batch size 1)."""
    layers = keras.layers
    inputs = keras.Input((49, 10, 1), batch_size=1)
    x = layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.2)(x)
    for _ in range(4):
        x = layers.DepthwiseConv2D((3, 3), padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(64, (1, 1), padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=(25, 5))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(12, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def floor_model():
    model = keras.Sequential([keras.Input((1,), batch_size=1), keras.layers.ReLU()])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def per_call(invoke, calls, batches):
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


def interpreter(model, resolver):
    kwargs = {"model_content": model, "num_threads": 1}
    if resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver
    it = Interpreter(**kwargs)
    it.allocate_tensors()
    return it


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--calls", type=int, default=300, help="invoke() calls per batch (300)")
    parser.add_argument("--batches", type=int, default=20, help="batches timed, the fastest kept (20)")
    parser.add_argument("--kinds", default="litert_xnnpack,litert_reference,litert_builtin_no_xnnpack",
                        help="comma-separated interpreters to time (all three by default)")
    args = parser.parse_args()

    fixture = load_file(str(FIXTURES / "keras_mlperf_tiny.safetensors"))
    floor = floor_model()
    kinds = {
        "litert_xnnpack": None,
        "litert_reference": OpResolverType.BUILTIN_REF,
        "litert_builtin_no_xnnpack": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    }
    kinds = {k: v for k, v in kinds.items() if k in args.kinds.split(",")}
    results = {"tensorflow": tf.__version__, "models": {}}
    print("| model | interpreter | µs per call | − floor (µs) |")
    print("|---|---|---:|---:|")
    for name, build in (("resnet8", resnet8), ("ds_cnn", ds_cnn)):
        model = build()
        weights = load_file(str(FIXTURES / f"keras_{name}.safetensors"))
        for k, layer in enumerate(keras_layers(model)):
            for v in layer.weights:
                v.assign(weights.pop(f"{k}.{v.name}"))
        assert not weights, sorted(weights)
        xs, ys = fixture[f"{name}.x"], fixture[f"{name}.y"]
        keras_y = np.concatenate([model(x[None], training=False).numpy() for x in xs])
        assert np.abs(keras_y - ys).max() < 1e-5, np.abs(keras_y - ys).max()
        tflite = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        results["models"][name] = {"tflite_bytes": len(tflite)}
        for kind, resolver in kinds.items():
            it = interpreter(tflite, resolver)
            inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
            for x, y in zip(xs, ys):
                it.set_tensor(inp, x[None])
                it.invoke()
                err = np.abs(it.get_tensor(out)[0] - y).max()
                assert err < 1e-4, (name, kind, err)
            it.set_tensor(inp, xs[0][None])
            t = per_call(it.invoke, args.calls, args.batches)
            f = interpreter(floor, resolver)
            f.set_tensor(f.get_input_details()[0]["index"], np.zeros((1, 1), dtype=np.float32))
            t_floor = per_call(f.invoke, 2000, 20)
            results["models"][name][kind] = {"us": t * 1e6, "floor_us": t_floor * 1e6,
                                             "minus_floor_us": (t - t_floor) * 1e6}
            print(f"| {name} | {kind} | {t * 1e6:.1f} | {(t - t_floor) * 1e6:.1f} |", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
