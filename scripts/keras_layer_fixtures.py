"""Writes tests/fixtures/keras_layers.safetensors: single Conv2D / DepthwiseConv2D / pooling /
Flatten / Dense layers applied by Keras itself (JAX backend, float32) to one small input, with
gradients, so the Rust tests can check padding, stride and pooling rules layer by layer against
numbers that did not come from typed-nn; and tests/fixtures/keras_separable.safetensors, a small
Sequential of the new layers exported with scripts/export_weights.py, with Keras' outputs.

Run from the repository root (same environment as keras_fixtures.py, whose
`save_deterministic` it reuses):

    KERAS_BACKEND=jax .venv/bin/python scripts/keras_layer_fixtures.py

The output is deterministic: the same versions give byte-identical files.

Input (stored once as `x`): shape (2, 7, 6, 2) = (batch, height, width, channels),
`np.random.default_rng(7).uniform(-1, 1, ...)`, cast to float32.

Cases, numbered i = 0, 1, ... in CASES order (the `seed` in the `cases` metadata):
`keras.utils.set_random_seed(i)` before building case i's layer (Glorot-uniform kernel), then its
bias (if it has one) is overwritten with `np.random.default_rng(50 + i).uniform(-0.5, 0.5, bias.shape)`.
Cases are only ever appended, so the tensors of earlier cases stay byte-identical.

Tensors (all float32):
    x                       the input, (2, 7, 6, 2)
    {case}.kernel, .bias    conv, depthwise and dense cases; Keras layout: Conv2D kernel
                            (kh, kw, in, out), DepthwiseConv2D kernel (kh, kw, in, mult), Dense
                            kernel (in, out); bias (out,) / (in*mult,), absent with use_bias=False
    {case}.y                layer(x) (dense cases: layer(x.reshape(2, 84)), the flattened x)
    {case}.r                `np.random.default_rng(90 + i).uniform(-1, 1, y.shape)`
    {case}.grad_x           d sum(y * r) / d x          (jax.grad over layer.stateless_call)
    {case}.grad_kernel/_bias d sum(y * r) / d weight    conv cases only
`.r` and `.grad_x` are stored for every case but maxpool3.

keras_separable.safetensors: `keras.utils.set_random_seed(100)`, then
    Sequential([Input((9, 6, 2)), Conv2D(4, (3, 2), strides=(2, 1), padding="same",
    activation="relu"), DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False,
    activation="tanh"), Conv2D(3, 1, use_bias=False, activation="sigmoid"),
    AveragePooling2D((2, 3)), MaxPooling2D((2, 1)), Flatten(), Dense(5, use_bias=False,
    activation="softmax")])
with the first conv's bias set to `default_rng(150).uniform(-0.5, 0.5)`, its weights written
by `keras_to_safetensors` (tensors `0.kernel`, `0.bias`, `1.kernel`, `2.kernel`, `6.kernel`), plus
`input` (4, 9, 6, 2) = `default_rng(151).uniform(-1, 1)` and `output` = model(input), (4, 5);
metadata `summary`, Keras' `model.summary()` text (built after `keras.backend.clear_session()`,
so the layer names are a fresh process's).

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
    # Issue 14: rectangular kernels, strides and windows; depthwise; use_bias=False.
    ("conv_k3x2_s2x1_same", "Conv2D",
     dict(filters=3, kernel_size=(3, 2), strides=(2, 1), padding="same"), (2, 4, 6, 3), True),
    ("conv_k2x4_s1x3_valid", "Conv2D",
     dict(filters=3, kernel_size=(2, 4), strides=(1, 3), padding="valid"), (2, 6, 1, 3), True),
    # DS-CNN's first-layer rule on a small image: 9 rows of total padding, 4 above, 5 below.
    ("conv_k10x4_s2_same", "Conv2D",
     dict(filters=3, kernel_size=(10, 4), strides=(2, 2), padding="same"), (2, 4, 3, 3), True),
    ("conv_k4x3_s3x2_same_nobias_tanh", "Conv2D",
     dict(filters=3, kernel_size=(4, 3), strides=(3, 2), padding="same", use_bias=False,
          activation="tanh"), (2, 3, 3, 3), True),
    ("dw_k3_s1_same", "DepthwiseConv2D",
     dict(kernel_size=(3, 3), padding="same"), (2, 7, 6, 2), True),
    ("dw_k3x2_s2x1_same_m2", "DepthwiseConv2D",
     dict(kernel_size=(3, 2), strides=(2, 1), padding="same", depth_multiplier=2),
     (2, 4, 6, 4), True),
    ("dw_k2_s1_valid_m3_nobias_tanh", "DepthwiseConv2D",
     dict(kernel_size=(2, 2), depth_multiplier=3, use_bias=False, activation="tanh"),
     (2, 6, 5, 6), True),
    ("dw_k3_s2_valid", "DepthwiseConv2D",
     dict(kernel_size=(3, 3), strides=(2, 2)), (2, 3, 2, 2), True),
    ("maxpool2x3", "MaxPooling2D", dict(pool_size=(2, 3)), (2, 3, 2, 2), True),
    ("avgpool3x2", "AveragePooling2D", dict(pool_size=(3, 2)), (2, 2, 3, 2), True),
    ("avgpool7x6", "AveragePooling2D", dict(pool_size=(7, 6)), (2, 1, 1, 2), True),
    ("dense_nobias", "Dense", dict(units=5, use_bias=False, activation="sigmoid"), (2, 5), True),
]
CONV_KINDS = ("Conv2D", "DepthwiseConv2D", "Dense")


# ---------------------------------------------------------------------------------------------
# NumPy float64 references (nested loops on purpose: no shared code with Keras/JAX).

def pairs(v):
    """A Keras int-or-tuple argument as a pair."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def activate(z, activation):
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    assert activation == "linear", activation
    return z


def dactivate(z, activation):
    if activation == "tanh":
        return 1 - np.tanh(z) ** 2
    if activation == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    return np.ones_like(z)


def pads(n, k, s, padding):
    """(output size, pad before, pad after) along one spatial dim, Keras/TF rule."""
    if padding == "valid":
        return (n - k) // s + 1, 0, 0
    out = -(-n // s)  # ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def ref_conv(x, kernel, bias, strides, padding, activation):
    """Returns (y, z, geometry); z is the pre-activation. `strides` is (sh, sw)."""
    n, h, w, cin = x.shape
    kh, kw, _, cout = kernel.shape
    (sh, sw) = strides
    oh, top, _ = pads(h, kh, sh, padding)
    ow, left, _ = pads(w, kw, sw, padding)
    z = np.zeros((n, oh, ow, cout))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(cout):
                    acc = bias[o]
                    for dy in range(kh):
                        for dx in range(kw):
                            yy, xx = i * sh - top + dy, j * sw - left + dx
                            if 0 <= yy < h and 0 <= xx < w:
                                for c in range(cin):
                                    acc += x[b, yy, xx, c] * kernel[dy, dx, c, o]
                    z[b, i, j, o] = acc
    return activate(z, activation), z, (top, left)


def ref_conv_grads(x, kernel, z, strides, top, left, activation, r):
    """Adjoint of ref_conv for loss sum(y * r): (grad_x, grad_kernel, grad_bias)."""
    n, h, w, cin = x.shape
    kh, kw, _, cout = kernel.shape
    (sh, sw) = strides
    dz = r * dactivate(z, activation)
    gx, gk = np.zeros_like(x), np.zeros_like(kernel)
    for b in range(n):
        for i in range(z.shape[1]):
            for j in range(z.shape[2]):
                for o in range(cout):
                    for dy in range(kh):
                        for dx in range(kw):
                            yy, xx = i * sh - top + dy, j * sw - left + dx
                            if 0 <= yy < h and 0 <= xx < w:
                                for c in range(cin):
                                    gx[b, yy, xx, c] += dz[b, i, j, o] * kernel[dy, dx, c, o]
                                    gk[dy, dx, c, o] += dz[b, i, j, o] * x[b, yy, xx, c]
    return gx, gk, dz.sum(axis=(0, 1, 2))


def ref_depthwise(x, kernel, bias, strides, padding, activation):
    """Depthwise convolution: output channel c*M + m is input channel c convolved with
    kernel[:, :, c, m]. Returns (y, z, geometry)."""
    n, h, w, cin = x.shape
    kh, kw, _, mult = kernel.shape
    (sh, sw) = strides
    oh, top, _ = pads(h, kh, sh, padding)
    ow, left, _ = pads(w, kw, sw, padding)
    z = np.zeros((n, oh, ow, cin * mult))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for c in range(cin):
                    for m in range(mult):
                        acc = bias[c * mult + m]
                        for dy in range(kh):
                            for dx in range(kw):
                                yy, xx = i * sh - top + dy, j * sw - left + dx
                                if 0 <= yy < h and 0 <= xx < w:
                                    acc += x[b, yy, xx, c] * kernel[dy, dx, c, m]
                        z[b, i, j, c * mult + m] = acc
    return activate(z, activation), z, (top, left)


def ref_depthwise_grads(x, kernel, z, strides, top, left, activation, r):
    """Adjoint of ref_depthwise for loss sum(y * r): (grad_x, grad_kernel, grad_bias)."""
    n, h, w, cin = x.shape
    kh, kw, _, mult = kernel.shape
    (sh, sw) = strides
    dz = r * dactivate(z, activation)
    gx, gk = np.zeros_like(x), np.zeros_like(kernel)
    for b in range(n):
        for i in range(z.shape[1]):
            for j in range(z.shape[2]):
                for c in range(cin):
                    for m in range(mult):
                        d = dz[b, i, j, c * mult + m]
                        for dy in range(kh):
                            for dx in range(kw):
                                yy, xx = i * sh - top + dy, j * sw - left + dx
                                if 0 <= yy < h and 0 <= xx < w:
                                    gx[b, yy, xx, c] += d * kernel[dy, dx, c, m]
                                    gk[dy, dx, c, m] += d * x[b, yy, xx, c]
    return gx, gk, dz.sum(axis=(0, 1, 2))


def ref_dense(x, kernel, activation, r):
    """y = act(x @ kernel) without a bias, and the adjoint for sum(y * r): (y, gx, gk)."""
    z = x @ kernel
    dz = r * dactivate(z, activation)
    return activate(z, activation), dz @ kernel.T, x.T @ dz


def ref_pool(x, pool, op, r=None):
    """Valid pooling, stride = pool size (ph, pw). Returns (y, grad_x of sum(y * r) or None)."""
    n, h, w, ch = x.shape
    (ph, pw) = pool
    oh, ow = (h - ph) // ph + 1, (w - pw) // pw + 1
    y = np.zeros((n, oh, ow, ch))
    gx = np.zeros_like(x)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for c in range(ch):
                    win = [(i * ph + dy, j * pw + dx) for dy in range(ph) for dx in range(pw)]
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
    if kind == "Dense":
        x = x.reshape(x.shape[0], -1)
    keras.utils.set_random_seed(i)
    layer = getattr(keras.layers, kind)(**kwargs)
    layer.build(x.shape)
    if kind in CONV_KINDS:
        use_bias = kwargs.get("use_bias", True)
        if use_bias:
            layer.bias.assign(
                np.random.default_rng(50 + i).uniform(-0.5, 0.5, layer.bias.shape).astype(np.float32))
        names = [v.name for v in layer.trainable_variables]
        assert names == (["kernel", "bias"] if use_bias else ["kernel"]), names
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
        keys = ["filters", "kernel_size", "strides", "padding", "activation", "use_bias"]
    elif kind == "DepthwiseConv2D":
        keys = ["depth_multiplier", "kernel_size", "strides", "padding", "activation", "use_bias"]
    elif kind == "Dense":
        keys = ["units", "activation", "use_bias"]
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
    if kind in ("Conv2D", "DepthwiseConv2D"):
        kernel = to_np(weights[0])
        use_bias = config["use_bias"]
        bias = to_np(weights[1]) if use_bias else None
        tensors[f"{name}.kernel"] = kernel
        if use_bias:
            tensors[f"{name}.bias"] = bias
        outs = kernel.shape[3] if kind == "Conv2D" else kernel.shape[2] * kernel.shape[3]
        bias64 = bias.astype(np.float64) if use_bias else np.zeros(outs)
        ref, ref_grads = ((ref_conv, ref_conv_grads) if kind == "Conv2D"
                          else (ref_depthwise, ref_depthwise_grads))
        strides = pairs(config["strides"])
        y_ref, z, (top, left) = ref(x64, kernel.astype(np.float64), bias64, strides,
                                    config["padding"], config["activation"])
        entry["pad_top_left"] = [top, left]
        check(f"{name}.y", y, y_ref, errs)
        gx, gk, gb = ref_grads(x64, kernel.astype(np.float64), z, strides, top, left,
                               config["activation"], r64)
        tensors[f"{name}.grad_kernel"] = np.asarray(g_w[0])
        check(f"{name}.grad_kernel", tensors[f"{name}.grad_kernel"], gk, errs)
        if use_bias:
            tensors[f"{name}.grad_bias"] = np.asarray(g_w[1])
            check(f"{name}.grad_bias", tensors[f"{name}.grad_bias"], gb, errs)
        check(f"{name}.grad_x", tensors[f"{name}.grad_x"], gx, errs)
    elif kind == "Dense":
        kernel = to_np(weights[0])
        tensors[f"{name}.kernel"] = kernel
        y_ref, gx, gk = ref_dense(x64, kernel.astype(np.float64), config["activation"], r64)
        check(f"{name}.y", y, y_ref, errs)
        tensors[f"{name}.grad_kernel"] = np.asarray(g_w[0])
        check(f"{name}.grad_kernel", tensors[f"{name}.grad_kernel"], gk, errs)
        check(f"{name}.grad_x", tensors[f"{name}.grad_x"], gx, errs)
    else:
        if kind == "MaxPooling2D":
            y_ref, gx = ref_pool(x64, pairs(config["pool_size"]), "max", r64)
        elif kind == "AveragePooling2D":
            y_ref, gx = ref_pool(x64, pairs(config["pool_size"]), "avg", r64)
        elif kind == "GlobalAveragePooling2D":
            y_ref, gx = ref_gap(x64, r64)
        else:
            y_ref, gx = ref_flatten(x64, r64)
        check(f"{name}.y", y, y_ref, errs)
        if with_grad:
            check(f"{name}.grad_x", tensors[f"{name}.grad_x"], gx, errs)
    return entry


def separable_model(out):
    """keras_separable.safetensors (see the module docs). Checks Keras' output against a NumPy
    float64 forward pass of the same layers from the exported tensors."""
    from export_weights import keras_tensors, keras_to_safetensors  # noqa: E402
    from safetensors.numpy import save_file

    # A fresh session, so the layers are named as in a fresh Python process (conv2d,
    # conv2d_1, ...), which is how typed-nn's summary() names them.
    keras.backend.clear_session()
    keras.utils.set_random_seed(100)
    L = keras.layers
    model = keras.Sequential([
        keras.Input((9, 6, 2)),
        L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu"),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False,
                          activation="tanh"),
        L.Conv2D(3, 1, use_bias=False, activation="sigmoid"),
        L.AveragePooling2D((2, 3)),
        L.MaxPooling2D((2, 1)),
        L.Flatten(),
        L.Dense(5, use_bias=False, activation="softmax"),
    ])
    conv = model.layers[0]
    conv.bias.assign(np.random.default_rng(150).uniform(-0.5, 0.5, conv.bias.shape)
                     .astype(np.float32))
    x = np.random.default_rng(151).uniform(-1, 1, (4, 9, 6, 2)).astype(np.float32)
    y = to_np(model(x))
    t = keras_tensors(model)
    assert sorted(t) == ["0.bias", "0.kernel", "1.kernel", "2.kernel", "6.kernel"], sorted(t)
    assert t["1.kernel"].shape == (3, 3, 4, 2), t["1.kernel"].shape

    # NumPy float64 forward pass from the exported tensors.
    f = {k: v.astype(np.float64) for k, v in t.items()}
    h, _, _ = ref_conv(x.astype(np.float64), f["0.kernel"], f["0.bias"], (2, 1), "same", "linear")
    h = np.maximum(h, 0)
    h, _, _ = ref_depthwise(h, f["1.kernel"], np.zeros(8), (1, 1), "same", "tanh")
    h, _, _ = ref_conv(h, f["2.kernel"], np.zeros(3), (1, 1), "valid", "sigmoid")
    h, _ = ref_pool(h, (2, 3), "avg")
    h, _ = ref_pool(h, (2, 1), "max")
    z = h.reshape(h.shape[0], -1) @ f["6.kernel"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    err = float(np.max(np.abs(y - e / e.sum(axis=1, keepdims=True))))
    assert err < TOL, err
    assert y.shape == (4, 5)

    lines = []
    model.summary(print_fn=lambda s, **kw: lines.append(s))
    summary = "\n".join(lines)
    assert "Total params: 178 (712.00 B)" in summary, summary

    keras_to_safetensors(model, out)
    tensors = dict(load_file(out))
    tensors["input"], tensors["output"] = x, y
    save_deterministic(tensors, out, {"keras_version": keras.__version__,
                                      "model": "see scripts/keras_layer_fixtures.py",
                                      "summary": summary})
    return err


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

    sep = os.path.join(os.path.dirname(os.path.abspath(args.out)), "keras_separable.safetensors")
    err = separable_model(sep)
    print(f"\n{os.path.relpath(sep)}: {os.path.getsize(sep)} bytes, "
          f"max |keras - numpy float64| of the output {err:.2e}")
    for name, t in load_file(sep).items():
        print(f"  {name:34s} {str(t.dtype):8s} {t.shape}")


if __name__ == "__main__":
    main()
