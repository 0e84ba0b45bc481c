"""Writes tests/fixtures/keras_layers.safetensors: single Conv2D / pooling / Flatten layers
applied by Keras itself (JAX backend, float32) to one small input, with gradients, so the Rust
tests can check padding, stride and pooling rules layer by layer against numbers that did not
come from typed-nn.

Run from the repository root (same environment as keras_fixtures.py, whose
`save_deterministic` it reuses):

    KERAS_BACKEND=jax .venv/bin/python scripts/keras_layer_fixtures.py

The output is deterministic: the same versions give byte-identical files.

Input (stored once as `x`): shape (2, 7, 6, 2) = (batch, height, width, channels),
`np.random.default_rng(7).uniform(-1, 1, ...)`, cast to float32.

Cases, numbered i = 0, 1, ... in CASES order (the `seed` in the `cases` metadata):
`keras.utils.set_random_seed(i)` before building case i's layer (Glorot-uniform kernel), then its
bias is overwritten with `np.random.default_rng(50 + i).uniform(-0.5, 0.5, bias.shape)`.

Tensors (all float32):
    x                       the input, (2, 7, 6, 2)
    {case}.kernel, .bias    conv cases only; Keras layout, kernel (kh, kw, in, out), bias (out,)
    {case}.y                layer(x)
    {case}.r                `np.random.default_rng(90 + i).uniform(-1, 1, y.shape)`
    {case}.grad_x           d sum(y * r) / d x          (jax.grad over layer.stateless_call)
    {case}.grad_kernel/_bias d sum(y * r) / d weight    conv cases only
`.r` and `.grad_x` are stored for every conv case and for maxpool2, avgpool2, gap and flatten.

Metadata (strings): keras_version, jax_version, cases (JSON list: name, seed, layer class, the
layer config that matters - filters, kernel_size, strides, padding, activation or pool_size - and
the output shape).

Checks (asserted before writing): every y against a NumPy float64 nested-loop re-implementation
(cross-correlation with Keras' "same" padding rule of reference/keras.md: output ceil(H/s), total
padding max((ceil(H/s)-1)*s + k - H, 0), top/left total//2, the extra row/column bottom/right;
max/average pooling windows; global average; C-order flatten), and every stored gradient against
the NumPy float64 adjoint of the same loops.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax
import jax.numpy as jnp
import keras
import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixtures import save_deterministic  # noqa: E402

X_SHAPE = (2, 7, 6, 2)
TOL = 1e-5

# (name, kind, kwargs, expected output shape, store r / grad_x)
CASES = [
    ("conv_k3_s1_valid", "Conv2D",
     dict(filters=3, kernel_size=(3, 3), strides=1, padding="valid"), (2, 5, 4, 3), True),
    ("conv_k3_s2_valid", "Conv2D",
     dict(filters=3, kernel_size=(3, 3), strides=2, padding="valid"), (2, 3, 2, 3), True),
    ("conv_k3_s1_same", "Conv2D",
     dict(filters=3, kernel_size=(3, 3), strides=1, padding="same"), (2, 7, 6, 3), True),
    ("conv_k2_s1_same", "Conv2D",
     dict(filters=3, kernel_size=(2, 2), strides=1, padding="same"), (2, 7, 6, 3), True),
    ("conv_k3_s2_same", "Conv2D",
     dict(filters=3, kernel_size=(3, 3), strides=2, padding="same"), (2, 4, 3, 3), True),
    ("conv_k4_s3_same", "Conv2D",
     dict(filters=3, kernel_size=(4, 4), strides=3, padding="same"), (2, 3, 2, 3), True),
    ("conv_k3_s1_valid_tanh", "Conv2D",
     dict(filters=3, kernel_size=(3, 3), activation="tanh"), (2, 5, 4, 3), True),
    ("maxpool2", "MaxPooling2D", dict(pool_size=(2, 2)), (2, 3, 3, 2), True),
    ("maxpool3", "MaxPooling2D", dict(pool_size=(3, 3)), (2, 2, 2, 2), False),
    ("avgpool2", "AveragePooling2D", dict(pool_size=(2, 2)), (2, 3, 3, 2), True),
    ("gap", "GlobalAveragePooling2D", dict(), (2, 2), True),
    ("flatten", "Flatten", dict(), (2, 84), True),
]


# ---------------------------------------------------------------------------------------------
# NumPy float64 references (nested loops on purpose: no shared code with Keras/JAX).

def pads(n, k, s, padding):
    """(output size, pad before, pad after) along one spatial dim, Keras/TF rule."""
    if padding == "valid":
        return (n - k) // s + 1, 0, 0
    out = -(-n // s)  # ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def ref_conv(x, kernel, bias, strides, padding, activation):
    """Returns (y, z, geometry); z is the pre-activation."""
    n, h, w, cin = x.shape
    kh, kw, _, cout = kernel.shape
    oh, top, _ = pads(h, kh, strides, padding)
    ow, left, _ = pads(w, kw, strides, padding)
    z = np.zeros((n, oh, ow, cout))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(cout):
                    acc = bias[o]
                    for dy in range(kh):
                        for dx in range(kw):
                            yy, xx = i * strides - top + dy, j * strides - left + dx
                            if 0 <= yy < h and 0 <= xx < w:
                                for c in range(cin):
                                    acc += x[b, yy, xx, c] * kernel[dy, dx, c, o]
                    z[b, i, j, o] = acc
    y = np.tanh(z) if activation == "tanh" else z
    return y, z, (top, left)


def ref_conv_grads(x, kernel, z, strides, top, left, activation, r):
    """Adjoint of ref_conv for loss sum(y * r): (grad_x, grad_kernel, grad_bias)."""
    n, h, w, cin = x.shape
    kh, kw, _, cout = kernel.shape
    dz = r * (1 - np.tanh(z) ** 2) if activation == "tanh" else r
    gx, gk = np.zeros_like(x), np.zeros_like(kernel)
    for b in range(n):
        for i in range(z.shape[1]):
            for j in range(z.shape[2]):
                for o in range(cout):
                    for dy in range(kh):
                        for dx in range(kw):
                            yy, xx = i * strides - top + dy, j * strides - left + dx
                            if 0 <= yy < h and 0 <= xx < w:
                                for c in range(cin):
                                    gx[b, yy, xx, c] += dz[b, i, j, o] * kernel[dy, dx, c, o]
                                    gk[dy, dx, c, o] += dz[b, i, j, o] * x[b, yy, xx, c]
    return gx, gk, dz.sum(axis=(0, 1, 2))


def ref_pool(x, p, op, r=None):
    """Valid pooling, stride = pool size. Returns (y, grad_x of sum(y * r) or None)."""
    n, h, w, ch = x.shape
    oh, ow = (h - p) // p + 1, (w - p) // p + 1
    y = np.zeros((n, oh, ow, ch))
    gx = np.zeros_like(x)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for c in range(ch):
                    win = [(i * p + dy, j * p + dx) for dy in range(p) for dx in range(p)]
                    vals = [x[b, yy, xx, c] for yy, xx in win]
                    if op == "max":
                        m = max(vals)
                        assert vals.count(m) == 1, "tie in a max window"
                        y[b, i, j, c] = m
                        yy, xx = win[vals.index(m)]
                        if r is not None:
                            gx[b, yy, xx, c] += r[b, i, j, c]
                    else:
                        y[b, i, j, c] = sum(vals) / len(vals)
                        if r is not None:
                            for yy, xx in win:
                                gx[b, yy, xx, c] += r[b, i, j, c] / len(vals)
    return y, (gx if r is not None else None)


def ref_gap(x, r):
    n, h, w, ch = x.shape
    y = np.zeros((n, ch))
    gx = np.zeros_like(x)
    for b in range(n):
        for c in range(ch):
            y[b, c] = sum(x[b, i, j, c] for i in range(h) for j in range(w)) / (h * w)
            for i in range(h):
                for j in range(w):
                    gx[b, i, j, c] = r[b, c] / (h * w)
    return y, gx


def ref_flatten(x, r):
    n, h, w, ch = x.shape
    y = np.zeros((n, h * w * ch))
    gx = np.zeros_like(x)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                for c in range(ch):
                    y[b, (i * w + j) * ch + c] = x[b, i, j, c]
                    gx[b, i, j, c] = r[b, (i * w + j) * ch + c]
    return y, gx


# ---------------------------------------------------------------------------------------------

def to_np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def check(name, keras_value, ref_value, errs):
    assert keras_value.shape == ref_value.shape, (name, keras_value.shape, ref_value.shape)
    err = float(np.max(np.abs(keras_value.astype(np.float64) - ref_value)))
    assert err < TOL, (name, err)
    errs[name] = err


def run_case(i, name, kind, kwargs, out_shape, with_grad, x, tensors, errs):
    keras.utils.set_random_seed(i)
    layer = getattr(keras.layers, kind)(**kwargs)
    layer.build(x.shape)
    if kind == "Conv2D":
        layer.bias.assign(
            np.random.default_rng(50 + i).uniform(-0.5, 0.5, layer.bias.shape).astype(np.float32))
        names = [v.name for v in layer.trainable_variables]
        assert names == ["kernel", "bias"], names
    else:
        assert not layer.trainable_variables
    assert not layer.non_trainable_variables

    weights = [v.value for v in layer.trainable_variables]
    y = to_np(layer(x))
    y_stateless, _ = layer.stateless_call(weights, [], x)
    np.testing.assert_array_equal(y, np.asarray(y_stateless))
    assert y.shape == out_shape and y.dtype == np.float32, (name, y.shape, y.dtype)
    tensors[f"{name}.y"] = y

    config = layer.get_config()
    entry = {"name": name, "seed": i, "layer": kind, "output_shape": list(y.shape)}
    if kind == "Conv2D":
        keys = ["filters", "kernel_size", "strides", "padding", "activation"]
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        keys = ["pool_size", "strides", "padding"]
    else:
        keys = []
    entry.update({k: (list(config[k]) if isinstance(config[k], tuple) else config[k])
                  for k in keys})

    r = None
    if with_grad:
        r = np.random.default_rng(90 + i).uniform(-1, 1, y.shape).astype(np.float32)
        tensors[f"{name}.r"] = r

        def loss_fn(trainable, x):
            out, _ = layer.stateless_call(trainable, [], x)
            return jnp.sum(out * r)

        g_w, g_x = jax.grad(loss_fn, argnums=(0, 1))(weights, jnp.asarray(x))
        tensors[f"{name}.grad_x"] = np.asarray(g_x)

    x64 = x.astype(np.float64)
    r64 = r.astype(np.float64) if r is not None else None
    if kind == "Conv2D":
        kernel, bias = (to_np(w) for w in weights)
        tensors[f"{name}.kernel"], tensors[f"{name}.bias"] = kernel, bias
        y_ref, z, (top, left) = ref_conv(x64, kernel.astype(np.float64), bias.astype(np.float64),
                                         config["strides"][0], config["padding"],
                                         config["activation"])
        entry["pad_top_left"] = [top, left]
        check(f"{name}.y", y, y_ref, errs)
        gx, gk, gb = ref_conv_grads(x64, kernel.astype(np.float64), z, config["strides"][0],
                                    top, left, config["activation"], r64)
        tensors[f"{name}.grad_kernel"] = np.asarray(g_w[0])
        tensors[f"{name}.grad_bias"] = np.asarray(g_w[1])
        check(f"{name}.grad_kernel", tensors[f"{name}.grad_kernel"], gk, errs)
        check(f"{name}.grad_bias", tensors[f"{name}.grad_bias"], gb, errs)
        check(f"{name}.grad_x", tensors[f"{name}.grad_x"], gx, errs)
    else:
        if kind == "MaxPooling2D":
            y_ref, gx = ref_pool(x64, config["pool_size"][0], "max", r64)
        elif kind == "AveragePooling2D":
            y_ref, gx = ref_pool(x64, config["pool_size"][0], "avg", r64)
        elif kind == "GlobalAveragePooling2D":
            y_ref, gx = ref_gap(x64, r64)
        else:
            y_ref, gx = ref_flatten(x64, r64)
        check(f"{name}.y", y, y_ref, errs)
        if with_grad:
            check(f"{name}.grad_x", tensors[f"{name}.grad_x"], gx, errs)
    return entry


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures",
                                                      "keras_layers.safetensors"),
                        help="output file (default: tests/fixtures/keras_layers.safetensors)")
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    assert keras.config.image_data_format() == "channels_last"

    x = np.random.default_rng(7).uniform(-1, 1, X_SHAPE).astype(np.float32)
    tensors = {"x": x}
    errs = {}
    entries = [run_case(i, *case, x, tensors, errs) for i, case in enumerate(CASES)]

    for name, t in tensors.items():
        assert t.dtype == np.float32, (name, t.dtype)
        tensors[name] = np.array(t, order="C")

    metadata = {
        "keras_version": keras.__version__,
        "jax_version": jax.__version__,
        "cases": json.dumps(entries, sort_keys=True),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_deterministic(tensors, args.out, metadata)

    for e in entries:
        print(json.dumps(e, sort_keys=True))
    print("max |keras - numpy float64| per checked tensor:")
    for name, err in errs.items():
        print(f"  {name:34s} {err:.2e}")
    print(f"\n{os.path.relpath(args.out)}: {os.path.getsize(args.out)} bytes")
    for name, t in load_file(args.out).items():
        print(f"  {name:34s} {str(t.dtype):8s} {t.shape}")


if __name__ == "__main__":
    main()
