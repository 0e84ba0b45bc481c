"""Writes tests/fixtures/keras_schedule_clip_l2.safetensors: Keras 3's learning-rate schedules,
gradient clipping and L2 kernel regularisation, step by step, so the Rust tests compare typed-nn
with numbers that did not come from typed-nn.

Run from the repository root:

    KERAS_BACKEND=jax /work/venv-keras/bin/python scripts/keras_schedule_clip_l2_fixtures.py

Deterministic: the same versions give byte-identical files.

1. Schedules. `sched.{name}` (float32, shape (41,)) is `schedule(step)` for step = 0..=40, as
   Keras evaluates it (the optimizer passes its `iterations`, 0 on the first update):
       exp            ExponentialDecay(0.1, decay_steps=7, decay_rate=0.5)
       exp_staircase  ExponentialDecay(0.1, decay_steps=7, decay_rate=0.5, staircase=True)
       cosine         CosineDecay(0.1, decay_steps=20, alpha=0.1)          (clamped after 20)
       cosine_warmup  CosineDecay(0.0, decay_steps=20, alpha=0.0, warmup_target=0.2,
                                  warmup_steps=5)                            (clamped after 25)
       piecewise      PiecewiseConstantDecay(boundaries=[5, 12], values=[0.1, 0.05, 0.01])
   The constructor arguments are in the metadata `schedules` (JSON).

2. Training runs. Two small models, built after `keras.utils.set_random_seed(0)` with random
   biases (and BatchNormalization gamma/beta) so every tensor matters:
       mlp  Input(4) -> Dense(6, relu) -> Dense(3, softmax)
       cnn  Input(5, 5, 1) -> Conv2D(2, 3, relu) -> BatchNormalization() -> Flatten()
            -> Dense(3, softmax)
   Data: `{m}.x` (24 samples, U(-1, 1) from default_rng(10 + model number)) and `{m}.labels`
   (int64, default_rng(20 + model number) in 0..3). Loss SparseCategoricalCrossentropy().
   Each run starts from the initial weights `{m}.init.{k}.{w}` (k = index in model.layers,
   w = kernel, bias, gamma, beta, moving_mean, moving_variance) and calls
   `model.train_on_batch` on the batches x[0:8], x[8:16], x[16:24], twice over (6 steps, the
   same as `fit(batch_size=8, epochs=2, shuffle=False)`). After step s (1..=6) it stores
   `{run}.step{s}.{k}.{w}` (every weight) and `{run}.loss{s}` (the loss train_on_batch
   reports: the batch's mean cross-entropy plus the regularisation terms, both with the
   weights before the step). Runs (the optimizers in metadata `runs`, JSON):
       sgd_exp            mlp, SGD(ExponentialDecay(0.5, 2, 0.5, staircase=True))
       adam_cosine        mlp, Adam(CosineDecay(0.0, 4, alpha=0.1, warmup_target=0.05,
                                                warmup_steps=2))
       momentum_piecewise mlp, SGD(PiecewiseConstantDecay([1, 3], [0.3, 0.1, 0.03]),
                               momentum=0.9)
       clipnorm           mlp, SGD(0.5, clipnorm=0.18)
       clipvalue          mlp, SGD(0.5, clipvalue=0.02)
       global_clipnorm    mlp, SGD(0.5, global_clipnorm=0.05)
       l2                 cnn with kernel_regularizer=l2(0.01) on the Conv2D and the Dense,
                          SGD(0.2)
       l2_adam_all        cnn with l2(0.01) kernels, Adam(ExponentialDecay(0.05, 3, 0.5),
                          global_clipnorm=0.5)

Checks (asserted before writing): every schedule against a NumPy float64 re-implementation of
the formulas (1e-6 relative); the clipping runs really clip (a run's first step differs from
the same step without clipping, and for clipnorm some tensor is clipped and some is not); every
`loss{s}` of the l2 runs against the data loss plus 0.01 * sum(kernel^2) from the weights before
the step, in NumPy float64; the l2 run's gamma and beta move exactly as without the regulariser
on their first step (the regulariser touches kernels only). The file is reloaded and listed.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.optimizers import schedules  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixtures import save_deterministic  # noqa: E402

OUT = "tests/fixtures/keras_schedule_clip_l2.safetensors"
STEPS = 40
BATCH = 8
SAMPLES = 24
L2 = 0.01

SCHEDULES = {
    "exp": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    "exp_staircase": ("ExponentialDecay",
                      dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=20, alpha=0.1)),
    "cosine_warmup": ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=20, alpha=0.0,
                                          warmup_target=0.2, warmup_steps=5)),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[5, 12], values=[0.1, 0.05, 0.01])),
}


def reference_schedule(kind, a, step):
    """NumPy float64 re-implementation of Keras' formulas (learning_rate_schedule.py)."""
    if kind == "ExponentialDecay":
        p = step / a["decay_steps"]
        if a.get("staircase"):
            p = np.floor(p)
        return a["initial_learning_rate"] * a["decay_rate"] ** p
    if kind == "CosineDecay":
        def decay(s, d, lr0):
            s = min(s, d)
            return lr0 * ((1 - a["alpha"]) * 0.5 * (1 + np.cos(np.pi * s / d)) + a["alpha"])
        if a.get("warmup_target") is None:
            return decay(step, a["decay_steps"], a["initial_learning_rate"])
        w = a["warmup_steps"]
        s = min(step, a["decay_steps"] + w)
        if s < w:
            return (a["warmup_target"] - a["initial_learning_rate"]) * s / w + a["initial_learning_rate"]
        return decay(s - w, a["decay_steps"], a["warmup_target"])
    b, v = a["boundaries"], a["values"]
    for i, bound in enumerate(b):
        if step <= bound:
            return v[i]
    return v[-1]


def schedule_tensors(tensors):
    for name, (kind, args) in SCHEDULES.items():
        s = getattr(schedules, kind)(**args)
        values = np.array([float(s(step)) for step in range(STEPS + 1)], dtype=np.float32)
        ref = np.array([reference_schedule(kind, args, step) for step in range(STEPS + 1)])
        np.testing.assert_allclose(values, ref, rtol=1e-6, atol=1e-9, err_msg=name)
        tensors[f"sched.{name}"] = values


def build(kind, l2):
    keras.utils.set_random_seed(0)
    reg = keras.regularizers.L2(l2) if l2 else None
    if kind == "mlp":
        model = keras.Sequential([
            keras.Input((4,)),
            layers.Dense(6, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ])
    else:
        model = keras.Sequential([
            keras.Input((5, 5, 1)),
            layers.Conv2D(2, 3, activation="relu", kernel_regularizer=reg),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax", kernel_regularizer=reg),
        ])
    return model


def weight_names(model):
    names = []
    for k, layer in enumerate(model.layers):
        for w in layer.weights:
            names.append(f"{k}.{w.name}")
    return names


def initial_weights(kind, number):
    model = build(kind, None)
    rng = np.random.default_rng(100 + number)
    weights = []
    for name, w in zip(weight_names(model), model.get_weights()):
        if name.endswith((".bias", ".beta")):
            w = rng.uniform(-0.3, 0.3, w.shape).astype(np.float32)
        elif name.endswith(".gamma"):
            w = rng.uniform(0.7, 1.3, w.shape).astype(np.float32)
        weights.append(w)
    return weights


def data(kind, number):
    shape = (SAMPLES, 4) if kind == "mlp" else (SAMPLES, 5, 5, 1)
    x = np.random.default_rng(10 + number).uniform(-1, 1, shape).astype(np.float32)
    y = np.random.default_rng(20 + number).integers(0, 3, SAMPLES).astype(np.int64)
    return x, y


def run(kind, optimizer, l2, init, x, y):
    """Six train_on_batch steps; returns ([weights after each step], [reported loss per step],
    [weights before each step])."""
    model = build(kind, l2)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy())
    model.set_weights(init)
    after, losses, before = [], [], []
    for step in range(6):
        b = step % 3
        before.append(model.get_weights())
        loss = model.train_on_batch(x[b * BATCH:(b + 1) * BATCH], y[b * BATCH:(b + 1) * BATCH])
        losses.append(np.float32(loss))
        after.append(model.get_weights())
    return after, losses, before


def np_loss(kind, weights, names, xb, yb):
    """Mean sparse cross-entropy in float64, training mode (BatchNormalization with the batch's
    biased moments)."""
    w = dict(zip(names, [np.asarray(v, dtype=np.float64) for v in weights]))
    h = xb.astype(np.float64)
    if kind == "mlp":
        h = np.maximum(h @ w["0.kernel"] + w["0.bias"], 0)
        z = h @ w["1.kernel"] + w["1.bias"]
    else:
        k = w["0.kernel"]
        out = np.zeros((h.shape[0], 3, 3, 2))
        for i in range(3):
            for j in range(3):
                patch = h[:, i:i + 3, j:j + 3, :]
                out[:, i, j, :] = np.einsum("nabc,abcf->nf", patch, k)
        h = np.maximum(out + w["0.bias"], 0)
        mean, var = h.mean(axis=(0, 1, 2)), h.var(axis=(0, 1, 2))
        h = (h - mean) / np.sqrt(var + 1e-3) * w["1.gamma"] + w["1.beta"]
        z = h.reshape(h.shape[0], -1) @ w["3.kernel"] + w["3.bias"]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(yb)), yb].mean()


def runs():
    S = schedules
    return {
        "sgd_exp": ("mlp", lambda: keras.optimizers.SGD(S.ExponentialDecay(0.5, 2, 0.5, staircase=True)),
                    "SGD(ExponentialDecay(0.5, 2, 0.5, staircase=True))", None),
        "adam_cosine": ("mlp", lambda: keras.optimizers.Adam(
            S.CosineDecay(0.0, 4, alpha=0.1, warmup_target=0.05, warmup_steps=2)),
            "Adam(CosineDecay(0.0, 4, alpha=0.1, warmup_target=0.05, warmup_steps=2))", None),
        "momentum_piecewise": ("mlp", lambda: keras.optimizers.SGD(
            S.PiecewiseConstantDecay([1, 3], [0.3, 0.1, 0.03]), momentum=0.9),
            "SGD(PiecewiseConstantDecay([1, 3], [0.3, 0.1, 0.03]), momentum=0.9)", None),
        "clipnorm": ("mlp", lambda: keras.optimizers.SGD(0.5, clipnorm=0.18),
                     "SGD(0.5, clipnorm=0.18)", None),
        "clipvalue": ("mlp", lambda: keras.optimizers.SGD(0.5, clipvalue=0.02),
                      "SGD(0.5, clipvalue=0.02)", None),
        "global_clipnorm": ("mlp", lambda: keras.optimizers.SGD(0.5, global_clipnorm=0.05),
                            "SGD(0.5, global_clipnorm=0.05)", None),
        "l2": ("cnn", lambda: keras.optimizers.SGD(0.2), "SGD(0.2), l2(0.01) on both kernels", L2),
        "l2_adam_all": ("cnn", lambda: keras.optimizers.Adam(S.ExponentialDecay(0.05, 3, 0.5),
                                                             global_clipnorm=0.5),
                        "Adam(ExponentialDecay(0.05, 3, 0.5), global_clipnorm=0.5), l2(0.01) on both kernels",
                        L2),
    }


def main():
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    tensors = {}
    schedule_tensors(tensors)
    models = {}
    for number, kind in enumerate(("mlp", "cnn")):
        init = initial_weights(kind, number)
        x, y = data(kind, number)
        names = weight_names(build(kind, None))
        models[kind] = (init, x, y, names)
        tensors[f"{kind}.x"] = x
        tensors[f"{kind}.labels"] = y
        for name, w in zip(names, init):
            tensors[f"{kind}.init.{name}"] = w

    described = {}
    for run_name, (kind, make, text, l2) in runs().items():
        init, x, y, names = models[kind]
        after, losses, before = run(kind, make(), l2, init, x, y)
        described[run_name] = {"model": kind, "optimizer": text}
        for s in range(6):
            for name, w in zip(names, after[s]):
                tensors[f"{run_name}.step{s + 1}.{name}"] = w
            tensors[f"{run_name}.loss{s + 1}"] = np.array(losses[s], dtype=np.float32)
        if l2:
            for s in range(6):
                b = s % 3
                data_loss = np_loss(kind, before[s], names, x[b * BATCH:(b + 1) * BATCH],
                                    y[b * BATCH:(b + 1) * BATCH])
                w = dict(zip(names, before[s]))
                reg = l2 * sum(np.sum(np.asarray(w[n], np.float64) ** 2) for n in names if n.endswith("kernel"))
                assert abs(losses[s] - (data_loss + reg)) < 1e-5 * (1 + data_loss), (run_name, s, losses[s],
                                                                                      data_loss, reg)
        print(f"{run_name}: losses {[float(v) for v in losses]}")

    # The clipping runs clip: their first step differs from plain SGD(0.5)'s.
    init, x, y, names = models["mlp"]
    plain, _, _ = run("mlp", keras.optimizers.SGD(0.5), None, init, x, y)
    for run_name in ("clipnorm", "clipvalue", "global_clipnorm"):
        gap = max(np.abs(tensors[f"{run_name}.step1.{n}"] - p).max() for n, p in zip(names, plain[0]))
        assert gap > 1e-3, (run_name, gap)
    # clipnorm: some tensor is clipped (its step is shorter than plain SGD's) and some is not.
    clipped = [not np.allclose(tensors[f"clipnorm.step1.{n}"], p, atol=1e-7) for n, p in zip(names, plain[0])]
    assert any(clipped) and not all(clipped), clipped
    # l2 touches kernels only: without the regulariser, gamma and beta take the same first step.
    init, x, y, names = models["cnn"]
    no_reg, _, _ = run("cnn", keras.optimizers.SGD(0.2), None, init, x, y)
    for n, p in zip(names, no_reg[0]):
        same = np.array_equal(tensors[f"l2.step1.{n}"], p)
        assert same == (not n.endswith("kernel")), (n, same)

    metadata = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "schedules": json.dumps({k: [c, a] for k, (c, a) in SCHEDULES.items()}, sort_keys=True),
        "runs": json.dumps(described, sort_keys=True),
        "batch_size": str(BATCH),
        "l2": str(L2),
    }
    save_deterministic(tensors, OUT, metadata)
    back = load_file(OUT)
    for k, v in tensors.items():
        assert np.array_equal(back[k], v), k
    print(f"wrote {OUT}: {len(back)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
