"""Writes the fixtures of typed-nn's composition layers (BatchNormalization, Dropout, stand-alone
activation layers, residual blocks) and of BatchNorm folding: numbers computed by Keras itself
(JAX backend, float32), so that the Rust tests compare with values that did not come from
typed-nn.

Run from the repository root (same environment as keras_fixtures.py):

    KERAS_BACKEND=jax /work/venv-keras/bin/python scripts/keras_compose_fixtures.py

Deterministic: the same versions give byte-identical files. Three models, every
BatchNormalization with random gamma, beta, moving mean and moving variance (so that a folding
or a statistics mistake shows), every bias random:

  bn_seq  Sequential: Input(5) -> BatchNormalization -> Dropout(0.5) -> Dense(3)
          (the BN(5) model of reference/keras.md: Total 38 / Trainable 28 / Non-trainable 10)
  mlp     Sequential: Input(6) -> Dense(5) -> BatchNormalization -> Activation("relu")
          -> Dense(4) -> BatchNormalization -> ReLU(max_value=6) -> Dropout(0.3)
          -> Dense(3, softmax)
  resnet  functional: Input(6, 5, 2) -> Conv2D(4, 3, same) -> BN -> Activation(relu)
          -> [y = Conv2D(8, 3, strides 2, same) -> BN -> Activation(relu) -> Conv2D(8, 3, same)
              -> BN; x = Conv2D(8, 1, strides 2, same)(x); x = add([x, y])] -> Activation(relu)
          -> [y = Conv2D(8, 3, same) -> BN; x = add([x, y])] -> Activation(relu)
          -> GlobalAveragePooling2D -> Dense(3, softmax)
          (ResNet-8's two kinds of block, small)

Files:
  tests/fixtures/keras_compose_{bn_seq,mlp,resnet}.safetensors
      each model's weights exactly as scripts/export_weights.py's keras_to_safetensors writes
      them (`{k}.kernel`, `{k}.gamma`, ...; k = position in model.layers without the
      InputLayer).
  tests/fixtures/keras_compose.safetensors (all float32 but `{m}.labels`, int64):
      {m}.x                 inputs, U(-1, 1) from np.random.default_rng(300 + model number)
      {m}.y                 model(x), inference mode (moving statistics; Dropout the identity)
      resnet.labels         classes (2, 0, 1, 2)
      resnet.y_train        model(x, training=True): batch statistics
      resnet.loss           SparseCategoricalCrossentropy of y_train, batch mean
      resnet.grad.{k}.{w}   its gradient (jax.grad over stateless_call, training=True) with
                            respect to every trainable weight
      resnet.after.{k}.moving_mean / .moving_variance
                            the moving statistics after that training call
    metadata: keras_version, jax_version, bn_seq.summary (Keras' summary() text, 80 columns),
      resnet.layers (JSON list of [k, name, class] in model.layers order without the input).

Checks (asserted before writing): the mlp's y against a NumPy float64 re-implementation of the
layers (BN with the moving statistics, eps 1e-3; ReLU6; softmax); the first BatchNormalization
of the resnet: its training-mode moving statistics against NumPy's biased moments of the first
convolution's output (from a Keras sub-model), `moving*0.99 + batch*0.01`.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax
import keras
import numpy as np
from keras import layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_weights import keras_layers, keras_to_safetensors  # noqa: E402
from keras_fixtures import save_deterministic  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def randomize(model, seed):
    """Random BN statistics and scales, random biases; kernels stay Glorot (seeded)."""
    rng = np.random.default_rng(seed)
    for layer in keras_layers(model):
        for v in layer.weights:
            shape = tuple(v.shape)
            if v.name == "gamma":
                v.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
            elif v.name in ("beta", "bias"):
                v.assign(rng.uniform(-0.5, 0.5, shape).astype(np.float32))
            elif v.name == "moving_mean":
                v.assign(rng.uniform(-0.5, 0.5, shape).astype(np.float32))
            elif v.name == "moving_variance":
                v.assign(rng.uniform(0.3, 2.0, shape).astype(np.float32))


def to_np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def bn_seq():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5,)), layers.BatchNormalization(), layers.Dropout(0.5),
                              layers.Dense(3)])
    randomize(model, 11)
    return model


def mlp():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([
        keras.Input((6,)),
        layers.Dense(5),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Dense(4),
        layers.BatchNormalization(),
        layers.ReLU(max_value=6.0),
        layers.Dropout(0.3),
        layers.Dense(3, activation="softmax"),
    ])
    randomize(model, 12)
    return model


def resnet():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 5, 2))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    y = layers.Conv2D(8, 3, strides=2, padding="same")(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(8, 3, padding="same")(y)
    y = layers.BatchNormalization()(y)
    x = layers.Conv2D(8, 1, strides=2, padding="same")(x)
    x = layers.add([x, y])
    x = layers.Activation("relu")(x)
    y = layers.Conv2D(8, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    x = layers.add([x, y])
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    randomize(model, 13)
    return model


def numpy_mlp(model, x):
    """Float64 forward of the mlp, layer by layer, from its weights."""
    ls = keras_layers(model)
    w = lambda i, name: to_np(next(v for v in ls[i].weights if v.name == name).value).astype(np.float64)
    h = x.astype(np.float64)

    def bn(h, i):
        return (h - w(i, "moving_mean")) / np.sqrt(w(i, "moving_variance") + 1e-3) * w(i, "gamma") + w(i, "beta")

    h = h @ w(0, "kernel") + w(0, "bias")
    h = np.maximum(bn(h, 1), 0)
    h = h @ w(3, "kernel") + w(3, "bias")
    h = np.clip(bn(h, 4), 0, 6)
    z = h @ w(7, "kernel") + w(7, "bias")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    tensors, metadata = {}, {"keras_version": keras.__version__, "jax_version": jax.__version__}
    models = {"bn_seq": (bn_seq(), (5,)), "mlp": (mlp(), (6,)), "resnet": (resnet(), (6, 5, 2))}
    for number, (name, (model, shape)) in enumerate(models.items()):
        x = np.random.default_rng(300 + number).uniform(-1, 1, (4,) + shape).astype(np.float32)
        tensors[f"{name}.x"] = x
        tensors[f"{name}.y"] = to_np(model(x, training=False))
        keras_to_safetensors(model, os.path.join(OUT, f"keras_compose_{name}.safetensors"))

    # The mlp against NumPy.
    mlp_model = models["mlp"][0]
    err = np.abs(numpy_mlp(mlp_model, tensors["mlp.x"]) - tensors["mlp.y"]).max()
    assert err < 1e-6, err

    # Keras' own summary of the BN(5) model.
    lines = []
    models["bn_seq"][0].summary(print_fn=lambda s, **kw: lines.append(s))
    metadata["bn_seq.summary"] = "\n".join(lines)
    assert "Total params: 38 (152.00 B)" in metadata["bn_seq.summary"]
    assert "Non-trainable params: 10 (40.00 B)" in metadata["bn_seq.summary"]

    # The resnet in training mode: batch statistics, loss, gradients, moving statistics.
    model = models["resnet"][0]
    x = tensors["resnet.x"]
    labels = np.asarray([2, 0, 1, 2], dtype=np.int64)
    tensors["resnet.labels"] = labels
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    def loss(trainable):
        y, updated = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(labels, y), (y, updated)

    (value, (y_train, updated)), grads = jax.value_and_grad(loss, has_aux=True)(trainable)
    tensors["resnet.y_train"] = to_np(y_train)
    tensors["resnet.loss"] = np.asarray(to_np(value), dtype=np.float32)
    names = {}
    ls = keras_layers(model)
    for k, layer in enumerate(ls):
        for v in layer.weights:
            names[id(v)] = f"{k}.{v.name}"
    for v, g in zip(model.trainable_variables, grads):
        tensors[f"resnet.grad.{names[id(v)]}"] = to_np(g)
    for v, new in zip(model.non_trainable_variables, updated):
        tensors[f"resnet.after.{names[id(v)]}"] = to_np(new)
    metadata["resnet.layers"] = json.dumps([[k, l.name, type(l).__name__] for k, l in enumerate(ls)])

    # The first BN's update against NumPy's moments of the first convolution's output.
    conv0 = keras.Model(model.inputs[0], ls[0].output)
    z = to_np(conv0(x)).astype(np.float64)
    mean, var = z.mean(axis=(0, 1, 2)), z.var(axis=(0, 1, 2))
    old_mean = to_np(next(v for v in ls[1].weights if v.name == "moving_mean").value)
    old_var = to_np(next(v for v in ls[1].weights if v.name == "moving_variance").value)
    assert np.abs(tensors["resnet.after.1.moving_mean"] - (old_mean * 0.99 + mean * 0.01)).max() < 1e-6
    assert np.abs(tensors["resnet.after.1.moving_variance"] - (old_var * 0.99 + var * 0.01)).max() < 1e-6

    save_deterministic(tensors, os.path.join(OUT, "keras_compose.safetensors"), metadata)
    print(metadata["bn_seq.summary"])
    print(metadata["resnet.layers"])
    print("loss", float(tensors["resnet.loss"]))


if __name__ == "__main__":
    main()
