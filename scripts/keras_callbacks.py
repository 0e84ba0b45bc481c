"""Writes tests/fixtures/keras_callbacks.rs: what Keras 3's EarlyStopping and ReduceLROnPlateau
do on scripted sequences of a monitored value, so the Rust tests compare typed-nn's callbacks
with Keras' own code (keras 3.15.1), not with a reading of its docs.

Each case drives the Keras callback by hand, as `model.fit` does: `on_train_begin`, then for
each epoch the model's single weight is set to the epoch number (from 1) and `on_epoch_end` is
called with the scripted value, until the callback sets `stop_training`; then `on_train_end`.
Recorded: the epochs run, the weight the model ends with (which epoch's weights were restored),
and for ReduceLROnPlateau the learning rate after each epoch (Keras keeps it as float32).

    KERAS_BACKEND=jax /work/venv-keras/bin/python scripts/keras_callbacks.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras

SEQ_A = [1.0, 0.9, 0.95, 0.9, 0.89995, 0.85, 0.86, 0.87, 0.88, 0.84, 0.9, 0.91, 0.92, 0.93, 0.94]
SEQ_B = [0.5, 0.6, 0.7, 0.4, 0.45, 0.41, 0.39, 0.5, 0.6, 0.7, 0.8]
ACC = [0.5, 0.6, 0.6, 0.65, 0.64, 0.7, 0.7, 0.7, 0.69, 0.71, 0.71, 0.71]

# name, monitor, mode, values, EarlyStopping kwargs
EARLY = [
    ("patience0", "val_loss", "auto", SEQ_A, dict(patience=0)),
    ("patience2", "val_loss", "auto", SEQ_A, dict(patience=2)),
    ("patience2_restore", "val_loss", "auto", SEQ_A, dict(patience=2, restore_best_weights=True)),
    ("min_delta", "val_loss", "auto", SEQ_A, dict(patience=1, min_delta=0.02, restore_best_weights=True)),
    ("negative_min_delta", "val_loss", "auto", SEQ_A, dict(patience=1, min_delta=-0.02, restore_best_weights=True)),
    ("baseline", "val_loss", "auto", SEQ_B, dict(patience=2, baseline=0.42, restore_best_weights=True)),
    ("start_from_epoch", "val_loss", "auto", SEQ_B, dict(patience=1, start_from_epoch=3, restore_best_weights=True)),
    ("restore_without_stopping", "val_loss", "auto", SEQ_B[:6], dict(patience=10, restore_best_weights=True)),
    ("max_mode", "val_accuracy", "max", ACC, dict(patience=2, restore_best_weights=True)),
]

# name, monitor, mode, values, initial lr, ReduceLROnPlateau kwargs
PLATEAU = [
    ("defaults_patience2", "val_loss", "auto", SEQ_A, 0.01, dict(patience=2)),
    ("factor_half_cooldown", "val_loss", "auto", SEQ_A, 0.1, dict(factor=0.5, patience=1, cooldown=2)),
    ("min_lr", "val_loss", "auto", SEQ_A, 0.1, dict(factor=0.2, patience=1, min_lr=0.005)),
    ("big_min_delta", "val_loss", "auto", SEQ_B, 0.3, dict(factor=0.5, patience=2, min_delta=0.05)),
    ("max_mode", "val_accuracy", "max", ACC, 0.05, dict(factor=0.5, patience=1, min_delta=0.005)),
]


def model(lr):
    m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    m.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    m.optimizer.build(m.trainable_variables)
    return m


def run(cb, m, monitor, values):
    cb.set_model(m)
    m.stop_training = False
    cb.on_train_begin()
    epochs, rates = 0, []
    for epoch, v in enumerate(values):
        m.set_weights([np.array([[float(epoch + 1)]], dtype="float32")])
        cb.on_epoch_end(epoch, {monitor: v})
        epochs += 1
        rates.append(float(np.float32(m.optimizer.learning_rate)))
        if m.stop_training:
            break
    cb.on_train_end()
    return epochs, float(m.get_weights()[0][0, 0]), rates


def floats(xs):
    return "[" + ", ".join(repr(float(x)) for x in xs) + "]"


def main():
    out = [
        "// Written by scripts/keras_callbacks.py (keras " + keras.__version__ + "); do not edit.",
        "// (name, monitor, mode, values, patience, min_delta, baseline, restore, start_from_epoch, epochs run, final weight)",
        "#[rustfmt::skip]",
        "pub const EARLY_STOPPING: &[(&str, &str, &str, &[f64], usize, f64, Option<f64>, bool, usize, usize, f64)] = &[",
    ]
    for name, monitor, mode, values, kw in EARLY:
        cb = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, **kw)
        epochs, weight, _ = run(cb, model(0.1), monitor, values)
        baseline = kw.get("baseline")
        out.append(
            f'    ("{name}", "{monitor}", "{mode}", &{floats(values)}, {kw.get("patience", 0)}, '
            f'{float(kw.get("min_delta", 0.0))!r}, {"None" if baseline is None else f"Some({baseline!r})"}, '
            f'{str(kw.get("restore_best_weights", False)).lower()}, {kw.get("start_from_epoch", 0)}, {epochs}, {weight!r}),'
        )
    out.append("];")
    out.append("// (name, monitor, mode, values, initial lr, factor, patience, min_delta, cooldown, min_lr, lr after each epoch)")
    out.append("#[rustfmt::skip]")
    out.append("pub const REDUCE_LR_ON_PLATEAU: &[(&str, &str, &str, &[f64], f64, f64, usize, f64, usize, f64, &[f64])] = &[")
    for name, monitor, mode, values, lr, kw in PLATEAU:
        cb = keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode=mode, **kw)
        _, _, rates = run(cb, model(lr), monitor, values)
        full = dict(factor=0.1, patience=10, min_delta=1e-4, cooldown=0, min_lr=0.0)
        full.update(kw)
        out.append(
            f'    ("{name}", "{monitor}", "{mode}", &{floats(values)}, {lr!r}, {float(full["factor"])!r}, {full["patience"]}, '
            f'{float(full["min_delta"])!r}, {full["cooldown"]}, {float(full["min_lr"])!r}, &{floats(rates)}),'
        )
    out.append("];")
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_callbacks.rs")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
