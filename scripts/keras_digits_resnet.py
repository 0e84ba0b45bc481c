"""Keras reference for typed-nn's "train something real" check (issue 14): a small residual CNN
with BatchNormalization, built from ResNet-8's two kinds of stack, trained on the bundled
digits with exactly the recipe and split typed-nn uses (`cargo run --release --example
resnet_digits -- --seeds 10`), 10 seeds.

Run from the repository root:

    KERAS_BACKEND=jax /work/venv-keras/bin/python scripts/keras_digits_resnet.py

Setup (identical for every run):
    X = images.bin / 16 as float32, shape (n, 8, 8, 1); y = labels.bin;
    split = train.txt (1437) / test.txt (360)
    Adam(learning_rate=0.01), SparseCategoricalCrossentropy(), batch_size=32, epochs=30,
    shuffle=True, verbose=0; keras.utils.set_random_seed(s) for s in 0..9 before building.
    model (functional):
        x = Conv2D(8, 3, padding="same")(inputs); x = BatchNormalization()(x); x = Activation("relu")(x)
        y = Conv2D(8, 3, padding="same")(x) -> BN -> Activation("relu") -> Conv2D(8, 3, padding="same") -> BN
        x = Activation("relu")(Add()([x, y]))
        y = Conv2D(16, 3, strides=2, padding="same")(x) -> BN -> Activation("relu")
            -> Conv2D(16, 3, padding="same") -> BN
        x = Activation("relu")(Add()([Conv2D(16, 1, strides=2, padding="same")(x), y]))
        outputs = Dense(10, activation="softmax")(GlobalAveragePooling2D()(x))
Test accuracy = argmax of model.predict(X_test) (inference mode: moving statistics) == y_test.

Writes data/digits/keras_resnet_baseline.json (per-seed accuracies, mean, population std, min,
max) and prints a summary.

With `--trajectory`, writes instead the fixture of tests/resnet_digits.rs: the model built with
seed 0, its weights exported by scripts/export_weights.py before training
(tests/fixtures/keras_digits_resnet_initial.safetensors), and the mean training loss of its first
epoch with shuffle=False (45 Adam steps over the training digits in file order), in that file's
metadata (`epoch_1_loss`). Later epochs are not compared: Adam's first steps move each weight by
about lr·sign(g), so rounding-level differences in near-zero gradients grow into different,
equally good, trajectories.
"""
import json
import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_digits_baseline import DATA, load  # noqa: E402

SEEDS = list(range(10))
EPOCHS = 30
BATCH = 32
LR = 0.01


def build():
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters, strides in ((8, 1), (16, 2)):
        y = layers.Conv2D(filters, 3, strides=strides, padding="same")(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        y = layers.BatchNormalization()(y)
        if strides != 1:
            x = layers.Conv2D(filters, 1, strides=strides, padding="same")(x)
        x = layers.Add()([x, y])
        x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def run(seed, data):
    x_tr, y_tr, x_te, y_te = data
    x_tr, x_te = x_tr.reshape(-1, 8, 8, 1), x_te.reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(seed)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss=keras.losses.SparseCategoricalCrossentropy())
    t0 = time.perf_counter()
    hist = model.fit(x_tr, y_tr, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0)
    fit_s = time.perf_counter() - t0
    acc = float(np.mean(np.argmax(model.predict(x_te, batch_size=BATCH, verbose=0), axis=1) == y_te))
    return {"seed": seed, "test_accuracy": acc, "test_correct": int(round(acc * len(y_te))),
            "final_train_loss": float(hist.history["loss"][-1]), "fit_seconds": fit_s,
            "params": int(model.count_params())}


def trajectory(data):
    from export_weights import keras_to_safetensors

    fixtures = DATA.parent.parent / "tests" / "fixtures"
    x_tr, y_tr, _, _ = data
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR), loss=keras.losses.SparseCategoricalCrossentropy())
    path = str(fixtures / "keras_digits_resnet_initial.safetensors")
    initial = {v.path: np.asarray(v.value).copy() for v in model.weights}
    hist = model.fit(x_tr.reshape(-1, 8, 8, 1), y_tr, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    for v in model.weights:  # back to the initial weights for the export
        v.assign(initial[v.path])
    loss = float(hist.history["loss"][0])
    keras_to_safetensors(model, path, metadata={"epoch_1_loss": repr(loss), "keras_version": keras.__version__})
    print("epoch 1 loss", loss)


def main():
    data = load()
    if "--trajectory" in sys.argv:
        trajectory(data)
        return
    runs = []
    for s in SEEDS:
        r = run(s, data)
        print(f"seed {s}: test acc {r['test_accuracy']:.4f} ({r['test_correct']}/360), "
              f"loss {r['final_train_loss']:.4f}, fit {r['fit_seconds']:.1f}s", flush=True)
        runs.append(r)
    accs = [r["test_accuracy"] for r in runs]
    out = {
        "description": "Keras baseline of the residual digits CNN (scripts/keras_digits_resnet.py)",
        "setup": {"optimizer": f"Adam(learning_rate={LR})", "loss": "SparseCategoricalCrossentropy()",
                  "batch_size": BATCH, "epochs": EPOCHS, "shuffle": True, "seeds": SEEDS,
                  "split": "train.txt (1437) / test.txt (360)", "x": "images.bin / 16, float32"},
        "versions": {"keras": keras.__version__, "jax": jax.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "params": runs[0]["params"],
        "test_accuracy_mean": float(np.mean(accs)),
        "test_accuracy_std": float(np.std(accs)),
        "test_accuracy_min": float(np.min(accs)),
        "test_accuracy_max": float(np.max(accs)),
        "runs": runs,
    }
    (DATA / "keras_resnet_baseline.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"params {out['params']}; test accuracy {out['test_accuracy_mean']:.4f} ± {out['test_accuracy_std']:.4f} "
          f"(min {out['test_accuracy_min']:.4f}, max {out['test_accuracy_max']:.4f}) over {len(SEEDS)} seeds")


if __name__ == "__main__":
    main()
