"""Writes tests/fixtures/keras_digits_trajectory.safetensors: a short, fully deterministic Keras
training run (no shuffling) of the two data/digits models, so a Rust test can replay the same
5 epochs from the same initial weights and compare losses, final weights and test metrics.

Run from the repository root (after scripts/export_digits.py):

    KERAS_BACKEND=jax .venv/bin/python scripts/keras_digits_trajectory.py

The output is deterministic: the same versions give byte-identical files.

Data (the loader of scripts/keras_digits_baseline.py): X = images.bin / 16 as float32,
y = labels.bin, train = train.txt (1437 rows, in file order), test = test.txt (360 rows).

Models (channels-last, float32), each built right after `keras.utils.set_random_seed(0)`
(Glorot-uniform kernels, zero biases), compiled with `Adam(learning_rate=0.01)` and
`SparseCategoricalCrossentropy()`:
    mlp: Input(64) -> Dense(32, "relu") -> Dense(10, "softmax")                on X as (n, 64)
    cnn: Input(8,8,1) -> Conv2D(4, (3,3), "sigmoid") -> MaxPooling2D((2,2)) -> Flatten()
         -> Dense(10, "softmax")                                                on X as (n, 8, 8, 1)
Training: `model.fit(x_train, y_train, batch_size=32, epochs=5, shuffle=False, verbose=0)`.
Without shuffling every epoch visits the training rows in train.txt order in 45 batches:
44 of 32 rows and a last one of 1437 - 44 * 32 = 29 rows. One Adam step per batch (225 steps).

Epoch loss (what Keras 3 reports in `history.history["loss"]`): the loss tracker is a
`keras.metrics.Mean` reset at the start of each epoch; after every batch b it is updated with
the batch loss L_b (the batch-mean sparse cross-entropy, computed in the forward pass of that
training step, i.e. with the weights *before* step b's update) and sample_weight n_b = the batch
size. So

    epoch_loss = sum_b n_b * L_b / sum_b n_b     (float32 accumulators, sum_b n_b = 1437)

which is the mean per-sample loss over the epoch, measured while the weights change. It is not
the loss of the end-of-epoch weights on the training set. The script checks this definition
against its own replay of the training loop (see Checks).

Tensors (float32). `k` is the index in `model.layers`, parameterless layers counted
(cnn: conv 0, maxpool 1, flatten 2, dense 3; mlp: dense 0, dense 1):
    {m}.init.{k}.kernel, .bias   initial weights, Keras layout: Dense (in, out), Conv2D (kh, kw, in, out)
    {m}.epoch_loss               (5,) history.history["loss"]
    {m}.final.{k}.kernel, .bias  weights after the 5 epochs
    {m}.test_loss                () model.evaluate(x_test, y_test, batch_size=32): same Mean
                                 tracker, i.e. the mean per-sample sparse CE over the 360 test rows
                                 (11 batches of 32 and one of 8), with the final weights
    {m}.test_accuracy            () mean(argmax(model.predict(x_test)) == y_test)

Metadata (strings): keras_version, jax_version, numpy_version, setup (JSON of the setup above),
epoch_loss_definition.

Checks (asserted before writing): an independent replay of the 225 steps with
`model.stateless_call`, `jax.value_and_grad` and `optimizer.stateless_apply`, starting from the
stored initial weights, whose batch-size-weighted mean batch loss per epoch must match
`epoch_loss`, and whose final weights must match the `final.*` tensors; `test_loss` against a
NumPy float64 cross-entropy of `model.predict(x_test)`. Afterwards the file is reloaded and listed.
"""
import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

from keras_digits_baseline import build, load  # noqa: E402
from keras_fixtures import save_deterministic  # noqa: E402

SEED = 0
LR = 0.01
BATCH = 32
EPOCHS = 5
MODELS = ("mlp", "cnn")
EPS = 1e-7  # keras.config.epsilon(): the probability clip of the cross-entropy

SETUP = {
    "data": "X = images.bin / 16 (float32), y = labels.bin; train = train.txt rows in file "
            "order (1437), test = test.txt (360)",
    "seeding": "keras.utils.set_random_seed(0) before building each model",
    "mlp": 'Sequential([Input((64,)), Dense(32, "relu"), Dense(10, "softmax")]) on X (n, 64)',
    "cnn": 'Sequential([Input((8,8,1)), Conv2D(4, (3,3), activation="sigmoid"), '
           'MaxPooling2D((2,2)), Flatten(), Dense(10, "softmax")]) on X (n, 8, 8, 1)',
    "optimizer": "Adam(learning_rate=0.01)",
    "loss": "SparseCategoricalCrossentropy()",
    "fit": "model.fit(x_train, y_train, batch_size=32, epochs=5, shuffle=False, verbose=0)",
    "batches_per_epoch": "44 x 32 + 1 x 29",
    "batch_size": BATCH,
    "epochs": EPOCHS,
    "shuffle": False,
    "learning_rate": LR,
    "seed": SEED,
    "test_loss": "model.evaluate(x_test, y_test, batch_size=32, verbose=0)",
    "test_accuracy": "mean(argmax(model.predict(x_test, batch_size=32)) == y_test)",
}
EPOCH_LOSS_DEFINITION = (
    "history.history['loss'][e] = sum_b n_b * L_b / sum_b n_b over the 45 batches b of epoch e, "
    "L_b = batch-mean sparse CE computed in training step b before its weight update, "
    "n_b = batch size (32, last 29); float32 keras.metrics.Mean"
)


def to_numpy(v):
    return np.asarray(keras.ops.convert_to_numpy(v))


def weight_names(model):
    names = []
    for k, layer in enumerate(model.layers):
        for v in layer.trainable_variables:
            names.append(f"{k}.{v.name}")
    assert len(names) == len(model.trainable_variables)
    assert not model.non_trainable_variables
    return names


def compile_model(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR),
                  loss=keras.losses.SparseCategoricalCrossentropy())


def replay(kind, initial, x, y):
    """Independent re-run of fit: per-batch (loss, size) and the final weights."""
    keras.utils.set_random_seed(SEED)
    model = build(kind)
    compile_model(model)
    for v, w in zip(model.trainable_variables, initial):
        v.assign(w)
    loss_obj = keras.losses.SparseCategoricalCrossentropy()
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)

    def loss_fn(trainable, xb, yb):
        y_pred, _ = model.stateless_call(trainable, [], xb, training=True)
        return loss_obj(yb, y_pred)

    @jax.jit
    def step(trainable, opt_vars, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(trainable, xb, yb)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return trainable, opt_vars, loss

    trainable = [v.value for v in model.trainable_variables]
    opt_vars = [v.value for v in optimizer.variables]
    epoch_losses = []
    for _ in range(EPOCHS):
        total, count = np.float32(0), np.float32(0)
        for start in range(0, len(x), BATCH):
            xb, yb = x[start:start + BATCH], y[start:start + BATCH]
            trainable, opt_vars, loss = step(trainable, opt_vars, xb, yb)
            n = np.float32(len(xb))
            total = np.float32(total + np.float32(loss) * n)
            count = np.float32(count + n)
        epoch_losses.append(total / count)
    return np.asarray(epoch_losses, np.float32), [np.asarray(w) for w in trainable]


def fixtures_for(kind, data):
    x_tr, y_tr, x_te, y_te = data
    if kind == "cnn":
        x_tr = x_tr.reshape(-1, 8, 8, 1)
        x_te = x_te.reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(SEED)
    model = build(kind)
    compile_model(model)
    names = weight_names(model)
    initial = [to_numpy(v.value) for v in model.trainable_variables]

    hist = model.fit(x_tr, y_tr, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    epoch_loss = np.asarray(hist.history["loss"], dtype=np.float32)
    assert epoch_loss.shape == (EPOCHS,)
    final = [to_numpy(v.value) for v in model.trainable_variables]

    test_loss = np.asarray(
        model.evaluate(x_te, y_te, batch_size=BATCH, verbose=0, return_dict=True)["loss"],
        dtype=np.float32)
    pred = to_numpy(model.predict(x_te, batch_size=BATCH, verbose=0))
    test_accuracy = np.asarray(np.mean(np.argmax(pred, axis=1) == y_te), dtype=np.float32)

    # Check: the test loss is the mean per-sample CE of the final model on the test set.
    p = np.clip(pred.astype(np.float64), EPS, 1 - EPS)
    ref_test_loss = -np.mean(np.log(p[np.arange(len(y_te)), y_te]))
    np.testing.assert_allclose(test_loss, ref_test_loss, rtol=1e-5)

    # Check: the epoch-loss definition and the trajectory, by an independent replay.
    replay_loss, replay_final = replay(kind, initial, x_tr, y_tr)
    loss_err = float(np.max(np.abs(replay_loss - epoch_loss)))
    weight_err = max(float(np.max(np.abs(a - b))) for a, b in zip(replay_final, final))
    assert loss_err < 1e-5, (kind, replay_loss, epoch_loss)
    assert weight_err < 1e-4, (kind, weight_err)
    # For contrast: the end-of-epoch weights evaluated on the training set give another number.
    train_eval = float(model.evaluate(x_tr, y_tr, batch_size=BATCH, verbose=0,
                                      return_dict=True)["loss"])

    tensors = {}
    for name, w in zip(names, initial):
        tensors[f"{kind}.init.{name}"] = w
    tensors[f"{kind}.epoch_loss"] = epoch_loss
    for name, w in zip(names, final):
        tensors[f"{kind}.final.{name}"] = w
    tensors[f"{kind}.test_loss"] = test_loss
    tensors[f"{kind}.test_accuracy"] = test_accuracy

    summary = [
        f"{kind}: epoch loss {', '.join(f'{l:.7f}' for l in epoch_loss)}",
        f"  test loss {float(test_loss):.7f} (numpy {ref_test_loss:.7f}), test accuracy "
        f"{float(test_accuracy):.7f} ({int(round(float(test_accuracy) * len(y_te)))}/{len(y_te)})",
        f"  replay: max |epoch loss diff| {loss_err:.1e}, max |final weight diff| {weight_err:.1e}",
        f"  (final weights evaluated on the training set: {train_eval:.7f}, not the epoch loss)",
    ]
    return tensors, summary


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures",
                                                      "keras_digits_trajectory.safetensors"))
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"

    data = load()
    tensors, summary = {}, []
    for kind in MODELS:
        t, s = fixtures_for(kind, data)
        tensors.update(t)
        summary += s
    for name, t in tensors.items():
        assert t.dtype == np.float32, (name, t.dtype)
        tensors[name] = np.array(t, order="C")  # (ascontiguousarray would turn () into (1,))

    metadata = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "setup": json.dumps(SETUP, sort_keys=True),
        "epoch_loss_definition": EPOCH_LOSS_DEFINITION,
    }
    save_deterministic(tensors, args.out, metadata)
    print("\n".join(summary))
    print(f"\n{os.path.relpath(args.out)}: {os.path.getsize(args.out)} bytes")
    for name, t in load_file(args.out).items():
        print(f"  {name:28s} {str(t.dtype):8s} {t.shape}")


if __name__ == "__main__":
    main()
