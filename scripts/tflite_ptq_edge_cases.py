"""Edge cases of TensorFlow Lite's post-training quantization, for typed-nn's calibration tests.

tests/int8_calibrate.rs checks typed-nn's `quant::calibrate` against the scales, zero points and
int8 weights TensorFlow's converter writes. The trained digits models cover the common case; this
script covers the corners, by converting tiny hand-made Keras models (no training) with the 1437
training digits as the representative dataset and printing what the converter chose:

- activation ranges narrower than 1e-6 (a dead ReLU gives [0, 0]), which the converter widens;
- a range whose zero point lands on a half (-85.5), which shows how it rounds;
- all-zero and tiny weight channels, which it widens symmetrically;
- a ReLU6 whose outputs stay far below 6 (is the range the observed one, or [0, 6]?).

Run from the repository root with the TensorFlow virtualenv:

    /work/venv-tf/bin/python scripts/tflite_ptq_edge_cases.py

It writes nothing; the numbers it prints are the expected values in tests/int8_calibrate.rs
(measured with tensorflow-cpu 2.21.0).
"""

import importlib.util
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("fixtures", ROOT / "scripts" / "tflite_int8_fixtures.py")
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)


def convert(model: keras.Model, representative: np.ndarray) -> Interpreter:
    tflite = fixtures.convert(model, representative)
    # Without XNNPACK: it refuses some of these degenerate models; only the file is read here.
    return Interpreter(model_content=tflite, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


def activations(it: Interpreter) -> list:
    out = []
    for d in it.get_tensor_details():
        q = d["quantization_parameters"]
        if len(q["scales"]) == 1:
            out.append((d["name"][:48], float(q["scales"][0]), int(q["zero_points"][0])))
    return out


def dense_relu_model(activation: str, weights: np.ndarray) -> keras.Model:
    """Input(64) -> Dense(4, activation) with `weights` -> Dense(10, softmax)."""
    keras.utils.set_random_seed(1)
    L = keras.layers
    m = keras.Sequential([keras.Input((64,), batch_size=1), L.Dense(4, activation=activation), L.Dense(10, activation="softmax")])
    m.layers[0].set_weights([weights.astype(np.float32), np.zeros(4, np.float32)])
    return m


def main() -> None:
    x_train, _, _, _ = fixtures.load()

    print("== narrow activation ranges (the first Dense's output, after ReLU) ==")
    # Only pixel 10 feeds the layer; its values are 0..1, so the output range is [0, w].
    for w in [-1.0, 3e-9, 9e-7, 1.5e-6]:
        weights = np.zeros((64, 4))
        weights[10, :] = w
        it = convert(dense_relu_model("relu", weights), x_train)
        h = np.maximum(x_train @ weights, 0)
        print(f"range [{h.min():g}, {h.max():g}]:", activations(it)[1][1:])

    print("== a zero point on a half: range [-4e-7, 2e-6], no activation ==")
    weights = np.zeros((64, 4))
    weights[5, 0], weights[5, 1] = -4e-7, 2e-6
    it = convert(dense_relu_model(None, weights), x_train)
    h = x_train @ weights
    print(f"range [{h.min():g}, {h.max():g}]:", activations(it)[1][1:])

    print("== weight channels: all zero, 4e-7, 2e-6, -4e-7 ==")
    weights = np.zeros((64, 4))
    weights[5, :] = [0.0, 4e-7, 2e-6, -4e-7]
    it = convert(dense_relu_model(None, weights), x_train)
    for d in it.get_tensor_details():
        if list(d["shape"]) == [4, 64]:
            print("scales", d["quantization_parameters"]["scales"].tolist())
            print("int8 weights of input 5", it.get_tensor(d["index"])[:, 5].tolist())

    print("== ReLU6 with outputs far below 6 ==")
    keras.utils.set_random_seed(1)
    weights = np.random.default_rng(1).uniform(-0.01, 0.01, (64, 4))
    it = convert(dense_relu_model("relu6", weights), x_train)
    h = np.minimum(np.maximum(x_train @ weights, 0), 6)
    print(f"observed max {h.max():.6g}, max/255 = {h.max() / 255:.6g};", "scale, zero point:", activations(it)[1][1:])


if __name__ == "__main__":
    main()
