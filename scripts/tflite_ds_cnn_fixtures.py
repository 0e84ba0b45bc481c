"""int8 TFLite fixture for DS-CNN (the keyword-spotting network of the tinyML issue): a Keras
model trained briefly on synthetic MFCC-shaped data, converted to a fully int8 .tflite file by
TensorFlow's converter, and run by TensorFlow Lite for Microcontrollers and by LiteRT's reference
kernels, so typed-nn's int8 depthwise, rectangular and pooling kernels are compared with both
interpreters' own outputs (tests/tflite_int8.rs). Python is never needed by `cargo test` or CI.

Run from the repository root with the TensorFlow virtualenv (tensorflow-cpu 2.21,
ai-edge-litert 2.3.0, tflite-micro):

    /work/venv-tf/bin/python scripts/tflite_ds_cnn_fixtures.py

Model (the issue-14 definition; Dropout vanishes at inference, the converter folds each
BatchNormalization into the convolution before it and fuses the ReLU into its output range):
    Input(49, 10, 1) -> Conv2D(64, (10, 4), strides 2, same) + BN + ReLU + Dropout(0.2)
    -> 4 x [DepthwiseConv2D(3, same) + BN + ReLU, Conv2D(64, 1) + BN + ReLU]
    -> Dropout(0.4) -> AveragePooling2D((25, 5)) -> Flatten -> Dense(12, softmax)

Data: 12 classes, each a fixed random smooth (49, 10) template; a sample is its class template
plus Gaussian noise (seed 0). The model trains for 12 epochs (Adam 0.003, batch 32) on 960 such
samples, (BatchNormalization momentum 0.9, so
the moving statistics settle within the short run), so its BatchNormalization statistics and weights are those of a trained network, not of
an initialiser; the 240 training samples used as the representative dataset cover its ranges.

Conversion: tf.lite.TFLiteConverter.from_keras_model, optimizations=[DEFAULT], the representative
dataset, supported_ops=[TFLITE_BUILTINS_INT8], inference_input_type = inference_output_type = int8.

Writes tests/fixtures/tflite/ds_cnn.{tflite,input.bin,tflm.bin,litert_ref.bin,labels.bin} in the
layout scripts/tflite_int8_fixtures.py documents (64 test samples), and adds a "ds_cnn" entry to
summary.json.
"""

import json
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from tflite_int8_fixtures import OUT, convert, run_litert_ref, run_tflm  # noqa: E402

SEED = 0
CLASSES = 12


def synthetic(rng: np.random.Generator, n: int, templates: np.ndarray):
    labels = rng.integers(0, CLASSES, size=n)
    x = templates[labels] + 0.6 * rng.standard_normal((n, 49, 10)).astype(np.float32)
    return x[..., None].astype(np.float32), labels.astype(np.int64)


def build() -> keras.Model:
    L = keras.layers
    layers = [
        keras.Input((49, 10, 1), batch_size=1),
        L.Conv2D(64, (10, 4), strides=(2, 2), padding="same"),
        L.BatchNormalization(momentum=0.9),
        L.Activation("relu"),
        L.Dropout(0.2),
    ]
    for _ in range(4):
        layers += [
            L.DepthwiseConv2D((3, 3), padding="same"),
            L.BatchNormalization(momentum=0.9),
            L.Activation("relu"),
            L.Conv2D(64, (1, 1)),
            L.BatchNormalization(momentum=0.9),
            L.Activation("relu"),
        ]
    layers += [L.Dropout(0.4), L.AveragePooling2D((25, 5)), L.Flatten(), L.Dense(CLASSES, activation="softmax")]
    return keras.Sequential(layers)


def main() -> None:
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    raw = rng.standard_normal((CLASSES, 49 + 4, 10 + 2)).astype(np.float32)
    # A 5x3 box blur: smooth, MFCC-like templates.
    templates = np.stack(
        [sum(t[i : i + 49, j : j + 10] for i in range(5) for j in range(3)) / 15.0 * 2.0 for t in raw]
    )
    x_train, y_train = synthetic(rng, 960, templates)
    x_test, y_test = synthetic(rng, 64, templates)

    model = build()
    model.compile(
        optimizer=keras.optimizers.Adam(0.003),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    hist = model.fit(x_train, y_train, batch_size=32, epochs=12, verbose=0, shuffle=True)
    print("training accuracy per epoch", [round(a, 3) for a in hist.history["accuracy"]])
    f32_acc = float(np.mean(np.argmax(model.predict(x_test, batch_size=1, verbose=0), axis=1) == y_test))

    tflite = convert(model, x_train[:240])
    (OUT / "ds_cnn.tflite").write_bytes(tflite)
    probe = Interpreter(model_content=tflite)
    q = probe.get_input_details()[0]["quantization_parameters"]
    scale, zero = float(q["scales"][0]), int(q["zero_points"][0])
    xq = np.clip(np.round(x_test / scale) + zero, -128, 127).astype(np.int8)
    (OUT / "ds_cnn.input.bin").write_bytes(xq.tobytes())
    (OUT / "ds_cnn.labels.bin").write_bytes(y_test.astype(np.uint8).tobytes())
    y_tflm = run_tflm(tflite, xq)
    y_ref = run_litert_ref(tflite, xq)
    (OUT / "ds_cnn.tflm.bin").write_bytes(y_tflm.tobytes())
    (OUT / "ds_cnn.litert_ref.bin").write_bytes(y_ref.tobytes())

    diff = np.abs(y_tflm.astype(np.int32) - y_ref.astype(np.int32))
    entry = {
        "samples": int(len(xq)),
        "keras_f32_accuracy": f32_acc,
        "tflm_int8_accuracy": float(np.mean(np.argmax(y_tflm, axis=1) == y_test)),
        "litert_ref_int8_accuracy": float(np.mean(np.argmax(y_ref, axis=1) == y_test)),
        "tflm_vs_litert_ref_outputs_differing": int(np.count_nonzero(diff)),
        "tflm_vs_litert_ref_max_step": int(diff.max()),
        "input_scale": scale,
        "input_zero_point": zero,
        "tflite_bytes": len(tflite),
        "params": int(model.count_params()),
    }
    summary_path = OUT / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["models"]["ds_cnn"] = entry
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print("ds_cnn", entry)


if __name__ == "__main__":
    main()
