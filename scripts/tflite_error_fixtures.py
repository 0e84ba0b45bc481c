"""Bad .tflite files for the loader's error tests (tests/tflite_errors.rs): each differs from a
good int8 fixture in one way, so each test can name the one error it expects.

Run from the repository root, after scripts/tflite_int8_fixtures.py:

    /work/venv-tf/bin/python scripts/tflite_error_fixtures.py

Writes tests/fixtures/tflite/bad/:
    float_mlp.tflite          digits MLP converted without quantization (float32 input)
    sigmoid_mlp.tflite        Input(64) -> Dense(32, sigmoid) -> Dense(10, softmax), int8: the
                              sigmoid is a LOGISTIC operator, which typed-nn does not support
    per_tensor_weights.tflite digits_mlp with operator 0's weights given one scale (the first)
    per_channel_output.tflite digits_mlp with operator 0's output given two scales
    zero_scale.tflite         digits_mlp with the model input's scale set to 0.0
    negative_scale.tflite     digits_mlp with operator 0's third weight scale negated
    conv_stride.tflite        digits_cnn with the convolution's stride_w set to 2
Mutations go through the TFLite schema's Python object API (read, change one field, pack).
"""

import os
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import flatbuffers  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert import schema_py_generated as schema  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "tests" / "fixtures" / "tflite"
OUT = GOOD / "bad"


def mlp(hidden_activation: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    L = keras.layers
    return keras.Sequential(
        [keras.Input((64,), batch_size=1), L.Dense(32, activation=hidden_activation), L.Dense(10, activation="softmax")]
    )


def convert(model: keras.Model, int8: bool) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        rng = np.random.default_rng(0)
        data = rng.random((64, 64), dtype=np.float32)

        def dataset():
            for i in range(len(data)):
                yield [data[i : i + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def load(name: str):
    buf = (GOOD / name).read_bytes()
    return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))


def save(model, name: str) -> None:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    (OUT / name).write_bytes(bytes(builder.Output()))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "float_mlp.tflite").write_bytes(convert(mlp("relu"), int8=False))
    (OUT / "sigmoid_mlp.tflite").write_bytes(convert(mlp("sigmoid"), int8=True))

    m = load("digits_mlp.tflite")
    g = m.subgraphs[0]
    weights = g.tensors[g.operators[0].inputs[1]]
    weights.quantization.scale = weights.quantization.scale[:1]
    weights.quantization.zeroPoint = weights.quantization.zeroPoint[:1]
    save(m, "per_tensor_weights.tflite")

    m = load("digits_mlp.tflite")
    g = m.subgraphs[0]
    out = g.tensors[g.operators[0].outputs[0]]
    out.quantization.scale = np.array([out.quantization.scale[0]] * 2, dtype=np.float32)
    out.quantization.zeroPoint = np.array([out.quantization.zeroPoint[0]] * 2, dtype=np.int64)
    save(m, "per_channel_output.tflite")

    m = load("digits_mlp.tflite")
    g = m.subgraphs[0]
    g.tensors[g.inputs[0]].quantization.scale = np.array([0.0], dtype=np.float32)
    save(m, "zero_scale.tflite")

    m = load("digits_mlp.tflite")
    g = m.subgraphs[0]
    weights = g.tensors[g.operators[0].inputs[1]]
    scales = np.array(weights.quantization.scale, dtype=np.float32)
    scales[2] = -scales[2]
    weights.quantization.scale = scales
    save(m, "negative_scale.tflite")

    m = load("digits_cnn.tflite")
    m.subgraphs[0].operators[0].builtinOptions.strideW = 2
    save(m, "conv_stride.tflite")

    for f in sorted(OUT.iterdir()):
        print(f.name, f.stat().st_size)


if __name__ == "__main__":
    main()
