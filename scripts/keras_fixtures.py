"""Writes tests/fixtures/keras_seed{1,2,3}.safetensors: forward passes, losses, gradients and
optimizer steps of the three seed models, computed by Keras itself (JAX backend, float32), so
the Rust tests compare against numbers that did not come from typed-nn.

Run from the repository root:

    python -m venv .venv && .venv/bin/pip install -r scripts/requirements.txt
    KERAS_BACKEND=jax .venv/bin/python scripts/keras_fixtures.py

The output is deterministic: the same versions give byte-identical files.

Models (channels-last, float32):
    seed 1: Input(784) -> Dense(64, "relu") -> Dense(10, "softmax")
    seed 2: Input(28,28,1) -> Conv2D(32, (3,3), "sigmoid") -> MaxPooling2D((2,2)) -> Flatten()
            -> Dense(10, "softmax")
    seed 3: Input(100) -> Dense(128, swish) -> Dense(10, "softmax"), swish a Python callable

Initialisation: `keras.utils.set_random_seed(s)` before building (Glorot-uniform kernels), then
every bias, in layer order, is overwritten with draws from one generator per model,
`np.random.default_rng(100 + s).uniform(-0.1, 0.1, bias.shape)`, so the bias paths are tested.

Tensors in each file (float32 unless noted). `k` is the index in `model.layers`, counting
parameterless layers (seed 2: conv 0, maxpool 1, flatten 2, dense 3):
    {k}.kernel, {k}.bias       initial weights, Keras layout: Dense (in, out), Conv2D (kh, kw, in, out)
    x                          4 inputs, `np.random.default_rng(200 + s).uniform(0, 1, (4, ...))`
    labels                     one-hot targets (4, 10), classes 3, 7, 0, 9
    label_index                the same classes, int64, shape (4,)
    y                          model(x), shape (4, 10)
    loss                       CategoricalCrossentropy()(labels, y), shape () (batch mean)
    loss_sparse                SparseCategoricalCrossentropy()(label_index, y), shape ()
    loss_mse                   MeanSquaredError()(labels, y), shape ()
    grad.{k}.kernel/.bias      d loss / d weight (jax.grad over model.stateless_call)
    grad.x                     d loss / d x, shape of x
    grad_mse.{k}.kernel/.bias  d loss_mse / d weight
    {o}.step1.{k}.kernel/.bias weights after optimizer step 1, sampled (see below)
    {o}.step3.{k}.kernel/.bias weights after optimizer step 3, sampled

Optimizer runs: for each optimizer `o` in OPTIMIZERS, a fresh optimizer and fresh
`keras.Variable` copies of the initial weights take 3 `optimizer.apply` steps whose gradient at
step t = 1, 2, 3 is `c_t * G`, with `G` the `grad.*` tensors above and `c = (1.0, -0.5, 2.0)`.
The stored weights are flattened in C order and sampled at flat indices 0, 7, 14, ... (stride 7):
`w.reshape(-1)[::7]`, so a Rust test compares `flat[i * 7]` with `sample[i]`.

Metadata (all strings): keras_version, jax_version, model, classes ("3,7,0,9"),
opt_sample_stride ("7"), opt_grad_scale ("1.0,-0.5,2.0") and optimizers (JSON: name -> class
and effective hyperparameters).

Checks (asserted before writing): the loss against a NumPy cross-entropy, the sparse loss against
the categorical one, the last Dense bias gradient against mean(y - labels) (softmax + CE identity),
and every optimizer run against a NumPy float64 re-implementation of the update rules in
reference/keras.md section 4. Afterwards every file is reloaded and listed.
"""
import argparse
import json
import os
import struct

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax
import jax.numpy as jnp
import keras
import numpy as np
from safetensors.numpy import load_file, save_file

CLASSES = [3, 7, 0, 9]
BATCH = len(CLASSES)
NUM_CLASSES = 10
SAMPLE_STRIDE = 7
GRAD_SCALE = (1.0, -0.5, 2.0)
EPS = 1e-7  # keras.config.epsilon(): the probability clip of the cross-entropy losses

OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(learning_rate=0.01),
    "sgd_momentum": lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
    "sgd_nesterov": lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
    "adam": lambda: keras.optimizers.Adam(),
    "adamw": lambda: keras.optimizers.AdamW(),
    "rmsprop": lambda: keras.optimizers.RMSprop(),
    "rmsprop_momentum_centered": lambda: keras.optimizers.RMSprop(momentum=0.9, centered=True),
}
# Hyperparameters recorded in the metadata (read back from each optimizer's get_config()).
HYPERPARAMETERS = [
    "learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon", "amsgrad",
    "weight_decay", "rho", "centered",
]


def swish(x):
    """The user-defined activation of seed model 3 (a callable, not the string "swish")."""
    return x * keras.ops.sigmoid(x)


MODELS = {
    1: (
        (784,),
        "Input(784) -> Dense(64, relu) -> Dense(10, softmax)",
        lambda: [keras.layers.Dense(64, activation="relu"),
                 keras.layers.Dense(10, activation="softmax")],
    ),
    2: (
        (28, 28, 1),
        "Input(28,28,1) -> Conv2D(32, (3,3), sigmoid) -> MaxPooling2D((2,2)) -> Flatten()"
        " -> Dense(10, softmax)",
        lambda: [keras.layers.Conv2D(32, (3, 3), activation="sigmoid"),
                 keras.layers.MaxPooling2D((2, 2)),
                 keras.layers.Flatten(),
                 keras.layers.Dense(10, activation="softmax")],
    ),
    3: (
        (100,),
        "Input(100) -> Dense(128, swish = x*sigmoid(x), a user callable) -> Dense(10, softmax)",
        lambda: [keras.layers.Dense(128, activation=swish),
                 keras.layers.Dense(10, activation="softmax")],
    ),
}


def build_model(seed):
    """Builds the seed model, overwrites its biases, returns (model, [tensor name per variable])."""
    input_shape, _, make_layers = MODELS[seed]
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(input_shape)] + make_layers())
    names, variables = [], []
    for k, layer in enumerate(model.layers):
        for v in layer.trainable_variables:
            names.append(f"{k}.{v.name}")
            variables.append(v)
    assert [id(v) for v in variables] == [id(v) for v in model.trainable_variables]
    assert not model.non_trainable_variables
    rng = np.random.default_rng(100 + seed)
    for name, v in zip(names, variables):
        if name.endswith(".bias"):
            v.assign(rng.uniform(-0.1, 0.1, v.shape).astype(np.float32))
    return model, names


def gradients(model, loss_obj, x, labels):
    """jax.grad of loss_obj(labels, model(x)) w.r.t. (trainable weights, x)."""

    def loss_fn(trainable, x):
        y, _ = model.stateless_call(trainable, [], x)
        return loss_obj(labels, y)

    trainable = [v.value for v in model.trainable_variables]
    return jax.grad(loss_fn, argnums=(0, 1))(trainable, x)


def run_optimizer(make_optimizer, initial, grads):
    """3 steps with gradients c_t * G; returns (weights after step 1, after step 3, optimizer)."""
    optimizer = make_optimizer()
    variables = [keras.Variable(w, name=f"w{i}") for i, w in enumerate(initial)]
    after = []
    for c in GRAD_SCALE:
        optimizer.apply([jnp.asarray(c * g, dtype=jnp.float32) for g in grads], variables)
        after.append([np.asarray(keras.ops.convert_to_numpy(v.value)) for v in variables])
    return after[0], after[2], optimizer


def reference_optimizer(config, initial, grads):
    """NumPy float64 version of the update rules of reference/keras.md section 4."""
    lr = config["learning_rate"]
    cls = config["class"]
    step1, step3 = [], []
    for w0, g0 in zip(initial, grads):
        w = w0.astype(np.float64)
        g0 = g0.astype(np.float64)
        s1, s2 = np.zeros_like(w), np.zeros_like(w)  # velocity / first moment, second moment
        s3 = np.zeros_like(w)  # RMSprop mean gradient
        history = []
        for t, c in enumerate(GRAD_SCALE, start=1):
            g = c * g0
            if config.get("weight_decay"):
                w = w - w * config["weight_decay"] * lr
            if cls == "SGD":
                mu = config["momentum"]
                if mu == 0:
                    w = w - lr * g
                else:
                    s1 = mu * s1 - lr * g
                    w = w + (mu * s1 - lr * g if config["nesterov"] else s1)
            elif cls in ("Adam", "AdamW"):
                b1, b2 = config["beta_1"], config["beta_2"]
                s1 = s1 + (g - s1) * (1 - b1)
                s2 = s2 + (g * g - s2) * (1 - b2)
                alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
                w = w - alpha * s1 / (np.sqrt(s2) + config["epsilon"])
            elif cls == "RMSprop":
                rho = config["rho"]
                s2 = rho * s2 + (1 - rho) * g * g
                if config["centered"]:
                    s3 = rho * s3 + (1 - rho) * g
                    den = s2 - s3 * s3 + config["epsilon"]
                else:
                    den = s2 + config["epsilon"]
                inc = lr * g / np.sqrt(den)
                if config["momentum"] > 0:
                    s1 = config["momentum"] * s1 + inc
                    w = w - s1
                else:
                    w = w - inc
            else:
                raise ValueError(cls)
            history.append(w)
        step1.append(history[0])
        step3.append(history[2])
    return step1, step3


def optimizer_config(optimizer):
    config = optimizer.get_config()
    out = {"class": type(optimizer).__name__}
    for key in HYPERPARAMETERS:
        if config.get(key) is not None:
            value = config[key]
            # Shortest decimal that round-trips to the float32 Keras computes with (0.001, not
            # 0.0010000000474974513).
            out[key] = float(str(np.float32(value))) if isinstance(value, float) else value
    return out


def save_deterministic(tensors, path, metadata):
    """safetensors.numpy.save_file, then sort the metadata keys in the JSON header.

    save_file writes `__metadata__` from a Rust HashMap, so its key order (and hence the file
    bytes) changes from run to run. Same length, same tensors: only the header is rewritten.
    """
    save_file(tensors, path, metadata=metadata)
    with open(path, "r+b") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        assert len(text) <= n, "header grew"
        fh.seek(8)
        fh.write(text.ljust(n, b" "))


def fixtures_for(seed):
    """Returns (tensors, metadata, summary lines) for one seed model."""
    input_shape, description, _ = MODELS[seed]
    model, names = build_model(seed)
    tensors = {}
    initial = [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in model.trainable_variables]
    for name, w in zip(names, initial):
        tensors[name] = w

    x = np.random.default_rng(200 + seed).uniform(0, 1, (BATCH,) + input_shape).astype(np.float32)
    labels = np.eye(NUM_CLASSES, dtype=np.float32)[CLASSES]
    label_index = np.asarray(CLASSES, dtype=np.int64)
    y = np.asarray(keras.ops.convert_to_numpy(model(x)))
    y_stateless, _ = model.stateless_call([v.value for v in model.trainable_variables], [], x)
    np.testing.assert_array_equal(y, np.asarray(y_stateless))

    cce = keras.losses.CategoricalCrossentropy()
    loss = np.asarray(cce(labels, y), dtype=np.float32)
    loss_sparse = np.asarray(keras.losses.SparseCategoricalCrossentropy()(label_index, y),
                             dtype=np.float32)
    mse = keras.losses.MeanSquaredError()
    loss_mse = np.asarray(mse(labels, y), dtype=np.float32)
    tensors.update(x=x, labels=labels, label_index=label_index, y=y, loss=loss,
                   loss_sparse=loss_sparse, loss_mse=loss_mse)

    # Check: the loss is the batch mean of -sum(labels * log(clip(y))).
    y64 = y.astype(np.float64)
    assert np.all((y64 > EPS) & (y64 < 1 - EPS)), "no probability may be clipped"
    ref_loss = -np.mean(np.sum(labels * np.log(np.clip(y64, EPS, 1 - EPS)), axis=-1))
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6)
    np.testing.assert_allclose(loss_sparse, loss, rtol=1e-6)
    np.testing.assert_allclose(loss_mse, np.mean((labels - y64) ** 2), rtol=1e-6)

    grads, grad_x = gradients(model, cce, x, labels)
    grads = [np.asarray(g) for g in grads]
    for name, g in zip(names, grads):
        tensors[f"grad.{name}"] = g
    tensors["grad.x"] = np.asarray(grad_x)
    grads_mse, _ = gradients(model, mse, x, labels)
    for name, g in zip(names, grads_mse):
        tensors[f"grad_mse.{name}"] = np.asarray(g)

    # Check: softmax + cross-entropy gives d loss / d last bias = mean over batch of (y - labels).
    last_bias = f"grad.{names[-1]}"
    bias_err = np.max(np.abs(tensors[last_bias] - np.mean(y64 - labels, axis=0)))
    assert bias_err < 1e-6, (last_bias, bias_err)

    configs, opt_errs = {}, {}
    for o, make in OPTIMIZERS.items():
        step1, step3, optimizer = run_optimizer(make, initial, grads)
        configs[o] = optimizer_config(optimizer)
        ref1, ref3 = reference_optimizer(configs[o], initial, grads)
        opt_errs[o] = max(np.max(np.abs(a - b)) for a, b in zip(step1 + step3, ref1 + ref3))
        assert opt_errs[o] < 2e-7, (o, opt_errs[o])
        for name, w1, w3 in zip(names, step1, step3):
            tensors[f"{o}.step1.{name}"] = w1.reshape(-1)[::SAMPLE_STRIDE].copy()
            tensors[f"{o}.step3.{name}"] = w3.reshape(-1)[::SAMPLE_STRIDE].copy()

    for name, t in tensors.items():
        assert t.dtype == (np.int64 if name == "label_index" else np.float32), (name, t.dtype)
        tensors[name] = np.array(t, order="C")  # (ascontiguousarray would turn () into (1,))

    metadata = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "model": description,
        "classes": ",".join(str(c) for c in CLASSES),
        "opt_sample_stride": str(SAMPLE_STRIDE),
        "opt_grad_scale": ",".join(repr(c) for c in GRAD_SCALE),
        "optimizers": json.dumps(configs, sort_keys=True),
    }
    summary = [
        f"seed {seed}: {description}",
        f"  loss {float(loss):.7f} (numpy {ref_loss:.7f}), loss_sparse {float(loss_sparse):.7f},"
        f" loss_mse {float(loss_mse):.7f}",
        f"  |{last_bias} - mean(y - labels)| max {bias_err:.2e}",
        "  optimizer max |keras - numpy float64|: "
        + ", ".join(f"{o} {e:.1e}" for o, e in opt_errs.items()),
    ]
    return tensors, metadata, summary


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures"),
                        help="output directory (default: tests/fixtures)")
    parser.add_argument("--seeds", type=int, nargs="+", default=sorted(MODELS))
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

    os.makedirs(args.out, exist_ok=True)
    for seed in args.seeds:
        tensors, metadata, summary = fixtures_for(seed)
        path = os.path.join(args.out, f"keras_seed{seed}.safetensors")
        save_deterministic(tensors, path, metadata)
        print("\n".join(summary))

    for seed in args.seeds:
        path = os.path.join(args.out, f"keras_seed{seed}.safetensors")
        print(f"\n{os.path.relpath(path)}: {os.path.getsize(path)} bytes")
        for name, t in load_file(path).items():
            print(f"  {name:40s} {str(t.dtype):8s} {t.shape}")


if __name__ == "__main__":
    main()
