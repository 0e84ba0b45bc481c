"""int8 TFLite fixture for ResNet-8 (MLPerf Tiny's image classifier, the tinyML issue's model):
the Keras functional model with the weights and random BatchNormalization statistics of
tests/fixtures/keras_resnet8.safetensors (written by scripts/keras_mlperf_tiny_fixtures.py),
converted to a fully int8 .tflite file by TensorFlow's converter and run by TensorFlow Lite for
Microcontrollers and by LiteRT's reference kernels, so typed-nn's int8 residual ADD, fused
activations and projection shortcuts are compared with both interpreters' own outputs
(tests/tflite_resnet8.rs). Python is never needed by `cargo test` or CI.

Run from the repository root with the TensorFlow virtualenv (tensorflow-cpu 2.21,
ai-edge-litert 2.3.0, tflite-micro):

    /work/venv-tf/bin/python scripts/tflite_resnet8_fixtures.py

Model (examples/models/resnet8.rs; the converter folds every BatchNormalization into the
convolution before it, fuses each ReLU into the convolution or ADD before it):
    x = Conv2D(16, 3, same)(in) + BN + ReLU
    for f, s in (16, 1), (32, 2), (64, 2):
        y = Conv2D(f, 3, strides s, same)(x) + BN + ReLU; y = Conv2D(f, 3, same)(y) + BN
        if s != 1: x = Conv2D(f, 1, strides s, same)(x)
        x = ReLU(Add()([x, y]))
    AveragePooling2D(8) -> Flatten -> Dense(10, softmax)

Data (seed 15): blocky random colour images in [0, 1] on the grid k/255 (see `images`), 64 for
the representative dataset, 8 test samples.

Writes tests/fixtures/tflite/resnet8.{tflite,input.bin,tflm.bin,litert_ref.bin,adds.bin} in the
layout scripts/tflite_int8_fixtures.py documents (10 bytes per output, 3072 per input;
adds.bin: the outputs of the three ADD operators, 32x32x16 + 16x16x32 + 8x8x64 bytes
for the first two test samples, from LiteRT's reference kernels), and adds a
"resnet8" entry to summary.json.
"""

import json
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

from tflite_int8_fixtures import OUT, convert, run_litert_ref, run_tflm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "tests" / "fixtures" / "keras_resnet8.safetensors"
SEED = 15


def build() -> keras.Model:
    L = keras.layers
    inputs = keras.Input((32, 32, 3), batch_size=1)
    x = L.Conv2D(16, 3, padding="same")(inputs)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    for filters, strides in ((16, 1), (32, 2), (64, 2)):
        y = L.Conv2D(filters, 3, strides=strides, padding="same")(x)
        y = L.BatchNormalization()(y)
        y = L.Activation("relu")(y)
        y = L.Conv2D(filters, 3, padding="same")(y)
        y = L.BatchNormalization()(y)
        if strides != 1:
            x = L.Conv2D(filters, 1, strides=strides, padding="same")(x)
        x = L.Add()([x, y])
        x = L.Activation("relu")(x)
    x = L.AveragePooling2D(pool_size=8)(x)
    x = L.Flatten()(x)
    outputs = L.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def images(rng: np.random.Generator, n: int) -> np.ndarray:
    """Blocky colour images in [0, 1] on the grid k/255: a random 4x4x3 pattern blown up to
    32x32 (8x8 blocks) plus a little noise, so images differ as photos do (uniform noise would
    average out in the network and give every image the same output). On the k/255 grid so
    that they store exactly as bytes."""
    coarse = rng.uniform(0.0, 1.0, (n, 4, 4, 3))
    fine = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2) + 0.1 * rng.standard_normal((n, 32, 32, 3))
    return (np.round(np.clip(fine, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def main() -> None:
    model = build()
    tensors = load_file(str(WEIGHTS))
    # typed-nn's names: {k} is the layer's position in model.layers without the InputLayer.
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for k, layer in enumerate(layers):
        for v in layer.weights:
            name = v.name.split("/")[-1]
            v.assign(tensors[f"{k}.{name}"])
    assert model.count_params() == 78666

    rng = np.random.default_rng(SEED)
    calib = images(rng, 64)
    x_test = images(rng, 8)

    tflite = convert(model, calib)
    (OUT / "resnet8.tflite").write_bytes(tflite)
    probe = Interpreter(model_content=tflite)
    q = probe.get_input_details()[0]["quantization_parameters"]
    scale, zero = float(q["scales"][0]), int(q["zero_points"][0])
    xq = np.clip(np.round(x_test / scale) + zero, -128, 127).astype(np.int8)
    (OUT / "resnet8.input.bin").write_bytes(xq.tobytes())
    y_tflm = run_tflm(tflite, xq)
    y_ref = run_litert_ref(tflite, xq)
    (OUT / "resnet8.tflm.bin").write_bytes(y_tflm.tobytes())
    (OUT / "resnet8.litert_ref.bin").write_bytes(y_ref.tobytes())

    # The three ADD outputs (the residual blocks' outputs after the fused ReLU) of the first two
    # samples, from LiteRT's reference kernels with every tensor kept: a check inside the model.
    adds = []
    keep = Interpreter(
        model_content=tflite,
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
        num_threads=1,
    )
    keep.allocate_tensors()
    add_outputs = [d["outputs"][0] for d in keep._get_ops_details() if d["op_name"] == "ADD"]
    for x in xq[:2]:
        keep.set_tensor(keep.get_input_details()[0]["index"], x[None])
        keep.invoke()
        adds += [keep.get_tensor(int(t)).reshape(-1).astype(np.int8) for t in add_outputs]
    (OUT / "resnet8.adds.bin").write_bytes(np.concatenate(adds).tobytes())

    ops = [(d["op_name"], d["inputs"].tolist(), d["outputs"].tolist()) for d in probe._get_ops_details()]
    for op in ops:
        print(op)
    diff = np.abs(y_tflm.astype(np.int32) - y_ref.astype(np.int32))
    f32 = model.predict(x_test, batch_size=1, verbose=0)
    entry = {
        "samples": int(len(xq)),
        "keras_f32_argmax": np.argmax(f32, axis=1).tolist(),
        "tflm_int8_argmax": np.argmax(y_tflm, axis=1).tolist(),
        "tflm_vs_litert_ref_outputs_differing": int(np.count_nonzero(diff)),
        "tflm_vs_litert_ref_max_step": int(diff.max()),
        "input_scale": scale,
        "input_zero_point": zero,
        "tflite_bytes": len(tflite),
        "operators": [op[0] for op in ops],
    }
    summary_path = OUT / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["models"]["resnet8"] = entry
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print("resnet8", {k: v for k, v in entry.items() if k != "operators"})


if __name__ == "__main__":
    main()
