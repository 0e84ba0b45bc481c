"""int8 TFLite fixtures: small Keras models trained on data/digits, converted to fully int8
.tflite files by TensorFlow's converter, and run by TensorFlow Lite for Microcontrollers and by
LiteRT's reference kernels, so typed-nn's int8 kernels are compared with both interpreters'
own outputs (tests/tflite_int8.rs). Python is never needed by `cargo test` or CI.

Run from the repository root with the TensorFlow virtualenv (tensorflow-cpu 2.21,
ai-edge-litert 2.3.0, tflite-micro, safetensors):

    /work/venv-tf/bin/python scripts/tflite_int8_fixtures.py

Models (all trained with Adam(0.01), sparse categorical cross-entropy, batch 32, 30 epochs, seed 0;
the input batch size is fixed to 1 so that Flatten converts to one RESHAPE with a constant shape):
    digits_mlp   Input(64) -> Dense(32, relu) -> Dense(10, softmax)
    mlp784       Input(784) -> Dense(64, relu) -> Dense(10, softmax), on the digits upscaled to
                 28x28 (each pixel repeated 3x3, then 2 pixels of zero border)
    digits_cnn   Input(8,8,1) -> Conv2D(4, 3, relu) -> MaxPooling2D(2) -> Flatten
                 -> Dense(10, softmax)
    digits_cnn2  Input(8,8,1) -> Conv2D(8, 3, same, relu6) -> AveragePooling2D(2)
                 -> Conv2D(16, 3, strides 2, same, relu) -> GlobalAveragePooling2D
                 -> Dense(10, softmax)

Conversion: tf.lite.TFLiteConverter.from_keras_model, optimizations=[DEFAULT], the 1437
training images as the representative dataset, supported_ops=[TFLITE_BUILTINS_INT8],
inference_input_type = inference_output_type = int8.

Writes tests/fixtures/tflite/:
    {name}.tflite            the converted model
    {name}.input.bin         int8 inputs, one sample after another (the test images quantized with
                             the model's input scale and zero point: clip(round(x / s) + z))
    {name}.tflm.bin          int8 outputs of TFLite Micro's Python interpreter (reference kernels)
    {name}.litert_ref.bin    int8 outputs of LiteRT with experimental_op_resolver_type=BUILTIN_REF
    {name}.labels.bin        u8 labels of the samples
    {name}.safetensors       the trained float weights, typed-nn's safetensors naming ({k}.kernel,
                             {k}.bias in Keras layout), for the post-training-quantization tests
                             (digits_mlp and digits_cnn only)
    summary.json             per model: Keras float32 test accuracy, the TFLM int8 accuracy on the
                             same samples, sample count, and the number of outputs where TFLM and
                             LiteRT's reference kernels differ (and by how much at most)
"""

import json
import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "digits"
OUT = ROOT / "tests" / "fixtures" / "tflite"
SEED = 0


def read_indices(path: Path) -> np.ndarray:
    lines = path.read_text(encoding="utf-8").splitlines()
    return np.array([int(l) for l in lines if l.strip() and not l.startswith("#")], dtype=np.int64)


def load():
    images = np.frombuffer((DATA / "images.bin").read_bytes(), dtype=np.uint8).reshape(-1, 64)
    labels = np.frombuffer((DATA / "labels.bin").read_bytes(), dtype=np.uint8)
    train, test = read_indices(DATA / "train.txt"), read_indices(DATA / "test.txt")
    x = images.astype(np.float32) / 16.0
    return x[train], labels[train], x[test], labels[test]


def upscale784(x: np.ndarray) -> np.ndarray:
    """8x8 -> 28x28: each pixel repeated 3x3 (24x24), then a 2-pixel zero border."""
    img = x.reshape(-1, 8, 8)
    big = np.kron(img, np.ones((3, 3), dtype=np.float32))
    return np.pad(big, ((0, 0), (2, 2), (2, 2))).reshape(-1, 784).astype(np.float32)


def build(name: str) -> keras.Model:
    L = keras.layers
    if name == "digits_mlp":
        return keras.Sequential(
            [keras.Input((64,), batch_size=1), L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")]
        )
    if name == "mlp784":
        return keras.Sequential(
            [keras.Input((784,), batch_size=1), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")]
        )
    if name == "digits_cnn":
        return keras.Sequential(
            [
                keras.Input((8, 8, 1), batch_size=1),
                L.Conv2D(4, (3, 3), activation="relu"),
                L.MaxPooling2D((2, 2)),
                L.Flatten(),
                L.Dense(10, activation="softmax"),
            ]
        )
    if name == "digits_cnn2":
        return keras.Sequential(
            [
                keras.Input((8, 8, 1), batch_size=1),
                L.Conv2D(8, (3, 3), padding="same", activation="relu6"),
                L.AveragePooling2D((2, 2)),
                L.Conv2D(16, (3, 3), strides=2, padding="same", activation="relu"),
                L.GlobalAveragePooling2D(),
                L.Dense(10, activation="softmax"),
            ]
        )
    raise ValueError(name)


def convert(model: keras.Model, representative: np.ndarray) -> bytes:
    def dataset():
        for i in range(len(representative)):
            yield [representative[i : i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def run_tflm(model: bytes, xq: np.ndarray) -> np.ndarray:
    interp = tflm.Interpreter.from_bytes(model)
    out = []
    for x in xq:
        interp.set_input(x[None], 0)
        interp.invoke()
        out.append(np.asarray(interp.get_output(0)).reshape(-1))
    return np.stack(out).astype(np.int8)


def run_litert_ref(model: bytes, xq: np.ndarray) -> np.ndarray:
    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF, num_threads=1)
    interp.allocate_tensors()
    inp, outp = interp.get_input_details()[0], interp.get_output_details()[0]
    out = []
    for x in xq:
        interp.set_tensor(inp["index"], x[None])
        interp.invoke()
        out.append(interp.get_tensor(outp["index"]).reshape(-1).copy())
    return np.stack(out).astype(np.int8)


def keras_weights(model: keras.Model) -> dict:
    tensors = {}
    for k, layer in enumerate(model.layers):
        w = layer.get_weights()
        if w:
            tensors[f"{k}.kernel"] = np.ascontiguousarray(w[0], dtype=np.float32)
            tensors[f"{k}.bias"] = np.ascontiguousarray(w[1], dtype=np.float32)
    return tensors


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = load()
    summary = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "models": {},
    }
    for name in ["digits_mlp", "mlp784", "digits_cnn", "digits_cnn2"]:
        keras.utils.set_random_seed(SEED)
        tf.config.experimental.enable_op_determinism()
        if name == "mlp784":
            xtr, xte, yte = upscale784(x_train), upscale784(x_test)[:100], y_test[:100]
        elif name.startswith("digits_cnn"):
            xtr, xte, yte = x_train.reshape(-1, 8, 8, 1), x_test.reshape(-1, 8, 8, 1), y_test
        else:
            xtr, xte, yte = x_train, x_test, y_test
        model = build(name)
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
        )
        model.fit(xtr, y_train.astype(np.int64), batch_size=32, epochs=30, verbose=0, shuffle=True)
        f32_acc = float(np.mean(np.argmax(model.predict(xte, batch_size=1, verbose=0), axis=1) == yte))

        tflite = convert(model, xtr)
        (OUT / f"{name}.tflite").write_bytes(tflite)

        probe = Interpreter(model_content=tflite)
        q = probe.get_input_details()[0]["quantization_parameters"]
        scale, zero = float(q["scales"][0]), int(q["zero_points"][0])
        xq = np.clip(np.round(xte / scale) + zero, -128, 127).astype(np.int8)
        (OUT / f"{name}.input.bin").write_bytes(xq.tobytes())
        (OUT / f"{name}.labels.bin").write_bytes(yte.astype(np.uint8).tobytes())

        y_tflm = run_tflm(tflite, xq)
        y_ref = run_litert_ref(tflite, xq)
        (OUT / f"{name}.tflm.bin").write_bytes(y_tflm.tobytes())
        (OUT / f"{name}.litert_ref.bin").write_bytes(y_ref.tobytes())
        if name in ("digits_mlp", "digits_cnn"):
            save_file(keras_weights(model), str(OUT / f"{name}.safetensors"), metadata={"model": name})

        diff = np.abs(y_tflm.astype(np.int32) - y_ref.astype(np.int32))
        summary["models"][name] = {
            "samples": int(len(xq)),
            "keras_f32_accuracy": f32_acc,
            "tflm_int8_accuracy": float(np.mean(np.argmax(y_tflm, axis=1) == yte)),
            "litert_ref_int8_accuracy": float(np.mean(np.argmax(y_ref, axis=1) == yte)),
            "tflm_vs_litert_ref_outputs_differing": int(np.count_nonzero(diff)),
            "tflm_vs_litert_ref_max_step": int(diff.max()),
            "input_scale": scale,
            "input_zero_point": zero,
            "tflite_bytes": len(tflite),
        }
        print(name, summary["models"][name])
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
