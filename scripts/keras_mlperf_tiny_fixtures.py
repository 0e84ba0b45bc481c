"""Writes the fixtures of the MLPerf Tiny models typed-nn ships as examples (issue 14): the
models built in Keras exactly as the issue describes them, their weights exported with the
shipped helper (scripts/export_weights.py), and Keras' own outputs for them, so that the Rust
tests compare with numbers that did not come from typed-nn.

Run from the repository root:

    KERAS_BACKEND=jax /work/venv-keras/bin/python scripts/keras_mlperf_tiny_fixtures.py

Deterministic: the same versions give byte-identical files. Every BatchNormalization gets random
gamma U(0.5, 1.5), beta U(-0.5, 0.5), moving mean U(-0.5, 0.5) and moving variance U(0.3, 2),
and every bias U(-0.5, 0.5), so that a folding or statistics mistake shows; kernels keep their
seeded Glorot-uniform initialisation.

  resnet8      functional (keras.Model): Input(32, 32, 3) -> Conv2D(16, 3, same) -> BN
               -> Activation("relu"); three stacks of f = 16, 32, 64 filters:
               y = Conv2D(f, 3, strides s, same) -> BN -> Activation("relu") -> Conv2D(f, 3, same)
               -> BN; x = x (stack 1) or Conv2D(f, 1, strides 2, same)(x) (stacks 2, 3, s = 2);
               x = Add()([x, y]); x = Activation("relu")(x); then AveragePooling2D(8) -> Flatten
               -> Dense(10, softmax). 78,666 parameters (78,186 trainable).
  autoencoder  Sequential: Input(640) -> 4 x [Dense(128) -> BN -> Activation("relu")] -> Dense(8)
               -> BN -> Activation("relu") -> 4 x [Dense(128) -> BN -> Activation("relu")]
               -> Dense(640). 269,992 parameters (267,928 trainable).
  ds_cnn       functional: Input(49, 10, 1) -> Conv2D(64, (10, 4), strides (2, 2), same) -> BN
               -> Activation("relu") -> Dropout(0.2) -> 4 x [DepthwiseConv2D((3, 3), same) -> BN
               -> Activation("relu") -> Conv2D(64, (1, 1), same) -> BN -> Activation("relu")]
               -> Dropout(0.4) -> AveragePooling2D((25, 5)) -> Flatten -> Dense(12, softmax).
  mobilenet_v1 Sequential, alpha = 0.25: Input(96, 96, 3) -> Conv2D(8, 3, strides 2, same,
               use_bias=False) -> BN -> ReLU(6.); 13 x [DepthwiseConv2D(3, strides s, same,
               use_bias=False) -> BN -> ReLU(6.) -> Conv2D(f, 1, use_bias=False) -> BN -> ReLU(6.)]
               with (f, s) = (16,1), (32,2), (32,1), (64,2), (64,1), (128,2), (128,1) x 5,
               (256,2), (256,1); GlobalAveragePooling2D -> Dense(2, softmax).

Files:
  tests/fixtures/keras_{resnet8,autoencoder,ds_cnn,mobilenet_v1}.safetensors
      the weights, exactly as keras_to_safetensors writes them (`{k}.kernel`, `{k}.gamma`, ...;
      k = position in model.layers without the InputLayer).
  tests/fixtures/keras_mlperf_tiny.safetensors (float32 but `resnet8.labels`, int64):
      {m}.x            4 inputs (mobilenet_v1: 2), U(0, 1) (resnet8, mobilenet_v1) or U(-1, 1) (autoencoder,
                       ds_cnn), from
                       np.random.default_rng(400 + model number)
      {m}.y            model(x), inference mode (moving statistics)
      resnet8.labels   classes (3, 7, 0, 9)
      resnet8.y_train  model(x, training=True): batch statistics
      resnet8.loss     SparseCategoricalCrossentropy of y_train, batch mean
      resnet8.grad.{k}.{w}
                       its gradient (jax.grad over stateless_call, training=True) for the first
                       and last kernels, the projection shortcuts' kernels and every gamma/beta
      autoencoder.loss MeanSquaredError(x, model(x, training=True)), the batch mean
    metadata: keras_version, jax_version, {m}.layers (JSON list of [k, name, class] in
      model.layers order without the input), {m}.params (Keras' count_params()).

Checks (asserted before writing): the autoencoder's y against a NumPy float64 re-implementation
(Dense, BN with the moving statistics and eps 1e-3, ReLU); ResNet-8's parameter count 78,666.
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
from keras_compose_fixtures import randomize, to_np  # noqa: E402
from keras_fixtures import save_deterministic  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def resnet8():
    """MLPerf Tiny's ResNet-8 (image classification, CIFAR-10), functional API."""
    keras.utils.set_random_seed(8)
    inputs = keras.Input((32, 32, 3))
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
    model = keras.Model(inputs, outputs)
    randomize(model, 18)
    return model


def autoencoder():
    """MLPerf Tiny's fully connected autoencoder (anomaly detection)."""
    keras.utils.set_random_seed(9)
    stack = [keras.Input((640,))]
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        stack += [layers.Dense(units), layers.BatchNormalization(), layers.Activation("relu")]
    stack.append(layers.Dense(640))
    model = keras.Sequential(stack)
    randomize(model, 19)
    return model


def ds_cnn():
    """MLPerf Tiny's DS-CNN (keyword spotting), functional API."""
    keras.utils.set_random_seed(10)
    inputs = keras.Input((49, 10, 1))
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
    model = keras.Model(inputs, outputs)
    randomize(model, 20)
    return model


def mobilenet_v1():
    """MLPerf Tiny's MobileNetV1 (visual wake words), alpha = 0.25."""
    keras.utils.set_random_seed(11)
    stack = [keras.Input((96, 96, 3)), layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False),
             layers.BatchNormalization(), layers.ReLU(6.0)]
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + [(256, 2), (256, 1)]
    for filters, strides in blocks:
        stack += [layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False),
                  layers.BatchNormalization(), layers.ReLU(6.0),
                  layers.Conv2D(filters, 1, use_bias=False), layers.BatchNormalization(), layers.ReLU(6.0)]
    stack += [layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax")]
    model = keras.Sequential(stack)
    randomize(model, 21)
    return model


def numpy_autoencoder(model, x):
    """Float64 forward of the autoencoder, layer by layer, from its weights."""
    h = x.astype(np.float64)
    for layer in keras_layers(model):
        w = {v.name: to_np(v.value).astype(np.float64) for v in layer.weights}
        kind = type(layer).__name__
        if kind == "Dense":
            h = h @ w["kernel"] + w["bias"]
        elif kind == "BatchNormalization":
            h = (h - w["moving_mean"]) / np.sqrt(w["moving_variance"] + 1e-3) * w["gamma"] + w["beta"]
        elif kind == "Activation":
            h = np.maximum(h, 0)
        else:
            raise ValueError(kind)
    return h


def main():
    tensors, metadata = {}, {"keras_version": keras.__version__, "jax_version": jax.__version__}
    models = {"resnet8": (resnet8(), (32, 32, 3), (0, 1)), "autoencoder": (autoencoder(), (640,), (-1, 1)),
              "ds_cnn": (ds_cnn(), (49, 10, 1), (-1, 1)), "mobilenet_v1": (mobilenet_v1(), (96, 96, 3), (0, 1))}
    for number, (name, (model, shape, (lo, hi))) in enumerate(models.items()):
        count = 2 if name == "mobilenet_v1" else 4  # MobileNet's images are large: two are enough
        x = np.random.default_rng(400 + number).uniform(lo, hi, (count,) + shape).astype(np.float32)
        tensors[f"{name}.x"] = x
        tensors[f"{name}.y"] = to_np(model(x, training=False))
        keras_to_safetensors(model, os.path.join(OUT, f"keras_{name}.safetensors"))
        ls = keras_layers(model)
        metadata[f"{name}.layers"] = json.dumps([[k, l.name, type(l).__name__] for k, l in enumerate(ls)])
        metadata[f"{name}.params"] = str(model.count_params())

    assert models["resnet8"][0].count_params() == 78666, models["resnet8"][0].count_params()
    ae = models["autoencoder"][0]
    err = np.abs(numpy_autoencoder(ae, tensors["autoencoder.x"]) - tensors["autoencoder.y"]).max()
    assert err < 1e-4, err

    # ResNet-8 in training mode: batch statistics, the loss and gradients through them.
    model = models["resnet8"][0]
    x = tensors["resnet8.x"]
    labels = np.asarray([3, 7, 0, 9], dtype=np.int64)
    tensors["resnet8.labels"] = labels
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    def loss(trainable):
        y, _ = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(labels, y), y

    (value, y_train), grads = jax.value_and_grad(loss, has_aux=True)(trainable)
    tensors["resnet8.y_train"] = to_np(y_train)
    tensors["resnet8.loss"] = np.asarray(to_np(value), dtype=np.float32)
    names = {}
    ls = keras_layers(model)
    for k, layer in enumerate(ls):
        for v in layer.weights:
            names[id(v)] = (k, type(layer).__name__, v.name)
    first_conv, dense = 0, len(ls) - 1
    for v, g in zip(model.trainable_variables, grads):
        k, kind, w = names[id(v)]
        projection = kind == "Conv2D" and tuple(v.shape)[:2] == (1, 1)
        if w in ("gamma", "beta") or (w == "kernel" and (k in (first_conv, dense) or projection)):
            tensors[f"resnet8.grad.{k}.{w}"] = to_np(g)

    # The autoencoder's reconstruction loss in training mode.
    xa = tensors["autoencoder.x"]
    ya = ae(xa, training=True)
    tensors["autoencoder.loss"] = np.asarray(to_np(keras.losses.MeanSquaredError()(xa, ya)), dtype=np.float32)

    save_deterministic(tensors, os.path.join(OUT, "keras_mlperf_tiny.safetensors"), metadata)
    for name in models:
        print(name, metadata[f"{name}.params"], "params")
        print(metadata[f"{name}.layers"])
    print("resnet8 loss", float(tensors["resnet8.loss"]), "autoencoder loss", float(tensors["autoencoder.loss"]))
    print("grads", sorted(k for k in tensors if ".grad." in k))


if __name__ == "__main__":
    main()
