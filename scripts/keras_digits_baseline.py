"""Keras reference numbers for the data/digits set (written by scripts/export_digits.py): test
accuracy and training speed of two small models, 10 seeds each, so the Rust side has a baseline
trained on exactly the same bytes and split.

Run from the repository root (after scripts/export_digits.py):

    KERAS_BACKEND=jax .venv/bin/python scripts/keras_digits_baseline.py

Setup (identical for every run):
    X = images.bin / 16 as float32, y = labels.bin, split = train.txt / test.txt
    Adam(learning_rate=0.01), SparseCategoricalCrossentropy(), batch_size=32, epochs=30,
    shuffle=True, verbose=0; `keras.utils.set_random_seed(s)` for s in 0..9 before building.
    mlp: Input(64) -> Dense(32, "relu") -> Dense(10, "softmax")               on X as (n, 64)
    cnn: Input(8,8,1) -> Conv2D(4, (3,3), "sigmoid") -> MaxPooling2D((2,2)) -> Flatten()
         -> Dense(10, "softmax")                                               on X as (n, 8, 8, 1)
Test accuracy = argmax of model.predict(X_test) == y_test, over the 360 test images.

Timing: wall time of each epoch via a callback (epoch 1 includes JIT compilation, so the
median over epochs 2..30 is the steady-state figure), and total `model.fit` time.

Writes data/digits/keras_baseline.json and prints a summary.
"""

import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402

assert keras.backend.backend() == "jax", keras.backend.backend()

DATA = Path(__file__).resolve().parent.parent / "data" / "digits"
SEEDS = list(range(40))
EPOCHS = 30
BATCH = 32
LR = 0.01


def read_indices(path: Path) -> np.ndarray:
    lines = path.read_text(encoding="utf-8").splitlines()
    return np.array([int(l) for l in lines if l.strip() and not l.startswith("#")], dtype=np.int64)


def load():
    images = np.frombuffer((DATA / "images.bin").read_bytes(), dtype=np.uint8).reshape(-1, 64)
    labels = np.frombuffer((DATA / "labels.bin").read_bytes(), dtype=np.uint8)
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    train = read_indices(DATA / "train.txt")
    test = read_indices(DATA / "test.txt")
    assert len(train) == 1437 and len(test) == 360
    x = images.astype(np.float32) / 16.0
    y = labels.astype(np.int64)
    return x[train], y[train], x[test], y[test]


def build(kind: str) -> keras.Model:
    L = keras.layers
    if kind == "mlp":
        return keras.Sequential(
            [keras.Input((64,)), L.Dense(32, activation="relu"), L.Dense(10, activation="softmax")]
        )
    if kind == "cnn":
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                L.Conv2D(4, (3, 3), activation="sigmoid"),
                L.MaxPooling2D((2, 2)),
                L.Flatten(),
                L.Dense(10, activation="softmax"),
            ]
        )
    raise ValueError(kind)


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        # logs hold the epoch's loss as Python floats, which forces the device work to finish
        self.times.append(time.perf_counter() - self._t0)


def run(kind: str, seed: int, data) -> dict:
    x_tr, y_tr, x_te, y_te = data
    if kind == "cnn":
        x_tr = x_tr.reshape(-1, 8, 8, 1)
        x_te = x_te.reshape(-1, 8, 8, 1)
    keras.utils.set_random_seed(seed)
    model = build(kind)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LR),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    timer = EpochTimer()
    t0 = time.perf_counter()
    hist = model.fit(
        x_tr, y_tr, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0, callbacks=[timer]
    )
    fit_s = time.perf_counter() - t0
    pred = model.predict(x_te, batch_size=BATCH, verbose=0)
    acc = float(np.mean(np.argmax(pred, axis=1) == y_te))
    train_pred = model.predict(x_tr, batch_size=BATCH, verbose=0)
    train_acc = float(np.mean(np.argmax(train_pred, axis=1) == y_tr))
    return {
        "seed": seed,
        "test_accuracy": acc,
        "test_correct": int(round(acc * len(y_te))),
        "train_accuracy": train_acc,
        "final_train_loss": float(hist.history["loss"][-1]),
        "fit_seconds": fit_s,
        "epoch_seconds": timer.times,
        "params": int(model.count_params()),
    }


def summarise(kind: str, runs: list[dict], n_train: int) -> dict:
    accs = [r["test_accuracy"] for r in runs]
    steady = [t for r in runs for t in r["epoch_seconds"][1:]]
    first = [r["epoch_seconds"][0] for r in runs]
    fit = [r["fit_seconds"] for r in runs]
    med = statistics.median(steady)
    return {
        "model": kind,
        "params": runs[0]["params"],
        "test_accuracy_mean": float(np.mean(accs)),
        "test_accuracy_std": float(np.std(accs)),  # population std (ddof=0)
        "test_accuracy_std_ddof1": float(np.std(accs, ddof=1)),
        "test_accuracy_min": float(np.min(accs)),
        "test_accuracy_max": float(np.max(accs)),
        "train_accuracy_mean": float(np.mean([r["train_accuracy"] for r in runs])),
        "final_train_loss_mean": float(np.mean([r["final_train_loss"] for r in runs])),
        "epoch_seconds_median_excl_first": med,
        "epoch_seconds_mean_excl_first": float(np.mean(steady)),
        "samples_per_second_median_excl_first": n_train / med,
        "first_epoch_seconds_mean": float(np.mean(first)),
        "fit_seconds_mean": float(np.mean(fit)),
        "epoch_seconds_mean_incl_first": float(np.mean(fit)) / EPOCHS,
        "samples_per_second_incl_first": n_train * EPOCHS / float(np.mean(fit)),
        "runs": runs,
    }


def main() -> None:
    data = load()
    n_train = len(data[1])
    results = {}
    for kind in ("mlp", "cnn"):
        runs = []
        for s in SEEDS:
            r = run(kind, s, data)
            print(
                f"{kind} seed {s}: test acc {r['test_accuracy']:.4f} ({r['test_correct']}/360), "
                f"train acc {r['train_accuracy']:.4f}, fit {r['fit_seconds']:.2f}s",
                flush=True,
            )
            runs.append(r)
        results[kind] = summarise(kind, runs, n_train)

    out = {
        "description": "Keras baseline on data/digits (scripts/keras_digits_baseline.py)",
        "setup": {
            "x": "images.bin / 16, float32",
            "split": "train.txt (1437) / test.txt (360)",
            "optimizer": f"Adam(learning_rate={LR})",
            "loss": "SparseCategoricalCrossentropy()",
            "batch_size": BATCH,
            "epochs": EPOCHS,
            "shuffle": True,
            "seeds": SEEDS,
            "seeding": "keras.utils.set_random_seed(s) before building the model",
            "test_accuracy": "argmax(model.predict(x_test)) == y_test",
            "mlp": 'Sequential([Input((64,)), Dense(32, "relu"), Dense(10, "softmax")])',
            "cnn": 'Sequential([Input((8,8,1)), Conv2D(4, (3,3), activation="sigmoid"), '
            'MaxPooling2D((2,2)), Flatten(), Dense(10, "softmax")])',
            "timing": "per-epoch wall time via callback; epoch 1 includes JIT compilation",
        },
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "jax": jax.__version__,
            "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else None,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "jax_devices": [str(d) for d in jax.devices()],
        },
        "results": results,
    }
    (DATA / "keras_baseline.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")

    print()
    for kind, r in results.items():
        print(
            f"{kind} ({r['params']} params): test acc {r['test_accuracy_mean']:.4f} "
            f"± {r['test_accuracy_std']:.4f} (min {r['test_accuracy_min']:.4f}, "
            f"max {r['test_accuracy_max']:.4f}); epoch {1e3 * r['epoch_seconds_median_excl_first']:.1f} ms "
            f"median excl. first ({r['samples_per_second_median_excl_first']:.0f} samples/s), "
            f"first epoch {r['first_epoch_seconds_mean']:.2f} s, "
            f"fit {r['fit_seconds_mean']:.2f} s"
        )
    print(f"wrote {DATA / 'keras_baseline.json'}")


if __name__ == "__main__":
    main()
