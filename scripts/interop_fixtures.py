"""Writes the interop fixtures of tests/fixtures: weights exported by scripts/export_weights.py from
PyTorch and from Keras, with PyTorch's own outputs, so the Rust loader is tested against files
written by the real frameworks.

Run from the repository root (needs torch on top of scripts/requirements.txt's Keras stack):

    KERAS_BACKEND=jax .venv/bin/python scripts/interop_fixtures.py

Deterministic: the same versions give byte-identical files (PyTorch runs on one CPU thread).

Files written (all tensors float32 unless noted):

    torch_seed{1,2,3}.safetensors   torch_to_safetensors of the PyTorch model, plus
                                    `input` (4 inputs, typed-nn/Keras layout, NHWC for seed 2) and
                                    `output` (4, 10), the PyTorch model's output on them
    torch_seed1_f16.safetensors     seed 1 with the weights in float16 (input/output float32;
                                    output computed in float32 from the f16-rounded weights)
    torch_seed1_bf16.safetensors    the same with bfloat16
    keras_weights_seed2.safetensors keras_to_safetensors of the Keras seed-2 model of
                                    scripts/keras_fixtures.py: only 0.kernel, 0.bias, 3.kernel,
                                    3.bias, identical to those in keras_seed2.safetensors

PyTorch models (default PyTorch init after `torch.manual_seed(s)`, then every bias, in layer
order, overwritten with `np.random.default_rng(300 + s).uniform(-0.1, 0.1)`); typed-nn index k:

    seed 1: Linear(784, 64) [0], ReLU, Linear(64, 10) [1], Softmax(dim=1)
    seed 2: Conv2d(1, 32, 3) [0], Sigmoid, MaxPool2d(2) [1], Flatten [2], Linear(5408, 10) [3],
            Softmax(dim=1)
    seed 3: Linear(100, 128) [0], SiLU, Linear(128, 10) [1], Softmax(dim=1)

Inputs: `np.random.default_rng(400 + s).uniform(0, 1, (4, ...))` in float32, stored as typed-nn
takes them; PyTorch is fed `input.transpose(0, 3, 1, 2)` (NCHW) for seed 2.

The Flatten permutation (what the Rust loader must do for seed 2's `3.weight`)
------------------------------------------------------------------------------
PyTorch flattens a (C, H, W) feature map in CHW order, typed-nn/Keras flatten (H, W, C) in HWC
order. With C = 32 channels and H = W = 13 after the pool, the PyTorch Linear weight `Wt` of shape
(out, C*H*W) becomes the typed-nn/Keras Dense kernel `K` of shape (H*W*C, out) by

    K[(i*W + j)*C + c, o] = Wt[o, c*H*W + i*W + j]    for i < H, j < W, c < C, o < out

i.e. K = Wt.reshape(out, C, H, W).transpose(2, 3, 1, 0).reshape(H*W*C, out). (Every other
Linear is K = Wt.T, and a Conv2d weight (out, in, kh, kw) becomes the kernel
Wt.transpose(2, 3, 1, 0) of shape (kh, kw, in, out).)

Checks (asserted before the files count as written; every file is then reloaded and compared):
the numbering and names written by torch_to_safetensors; a NumPy float64 forward pass of every
PyTorch model (for seed 2 channels-last, with the weights converted to Keras layout by the
permutation above) against PyTorch's `output` within 1e-5, and the same weights without the
permutation must NOT match (so the check has teeth); the seed-2 PyTorch weights, converted, loaded
into the Keras seed-2 model, reproduce `output`; the f16/bf16 weights widened back to f32 are the
ones the stored output was computed with; keras_weights_seed2 equals keras_seed2's weights bit for
bit.
"""
import argparse
import copy
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from safetensors.torch import load_file as torch_load_file  # noqa: E402
from torch import nn  # noqa: E402

import keras_fixtures  # noqa: E402  (the Keras seed models: build_model)
from export_weights import keras_to_safetensors, torch_layer_indices, torch_to_safetensors  # noqa: E402

BATCH = 4
TOL = 1e-5
# seed -> (typed-nn input shape, description, PyTorch model factory, expected {name: shape})
MODELS = {
    1: ((784,), "Linear(784,64), ReLU, Linear(64,10), Softmax(dim=1)",
        lambda: nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1)),
        {"0.weight": (64, 784), "0.bias": (64,), "1.weight": (10, 64), "1.bias": (10,)}),
    2: ((28, 28, 1), "Conv2d(1,32,3), Sigmoid, MaxPool2d(2), Flatten, Linear(5408,10), Softmax(dim=1)",
        lambda: nn.Sequential(nn.Conv2d(1, 32, 3), nn.Sigmoid(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(5408, 10), nn.Softmax(dim=1)),
        {"0.weight": (32, 1, 3, 3), "0.bias": (32,), "3.weight": (10, 5408), "3.bias": (10,)}),
    3: ((100,), "Linear(100,128), SiLU, Linear(128,10), Softmax(dim=1)",
        lambda: nn.Sequential(nn.Linear(100, 128), nn.SiLU(), nn.Linear(128, 10), nn.Softmax(dim=1)),
        {"0.weight": (128, 100), "0.bias": (128,), "1.weight": (10, 128), "1.bias": (10,)}),
}
EXPECTED_INDICES = {1: [0, None, 1, None], 2: [0, None, 1, 2, 3, None], 3: [0, None, 1, None]}
C, H, W = 32, 13, 13  # seed 2's feature map at the Flatten


def build_torch_model(seed):
    """The seed's PyTorch model: default init after manual_seed(seed), biases from rng(300+seed)."""
    torch.manual_seed(seed)
    model = MODELS[seed][2]()
    rng = np.random.default_rng(300 + seed)
    with torch.no_grad():
        for module in model:
            if getattr(module, "bias", None) is not None:
                module.bias.copy_(torch.from_numpy(
                    rng.uniform(-0.1, 0.1, tuple(module.bias.shape)).astype(np.float32)))
    return model.eval()


def make_input(seed):
    return np.random.default_rng(400 + seed).uniform(0, 1, (BATCH,) + MODELS[seed][0]).astype(np.float32)


def torch_forward(model, x):
    """PyTorch's output on the typed-nn-layout input x (NHWC -> NCHW for 4-D inputs)."""
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy() if x.ndim == 4 else x)
    with torch.no_grad():
        return model(xt).numpy()


# ---- NumPy float64 reference, channels-last like typed-nn -------------------------------------

def flatten_permutation(c, h, w):
    """perm[(i*W + j)*C + ch] = ch*H*W + i*W + j: HWC flat index -> CHW flat index."""
    perm = np.empty(c * h * w, dtype=np.int64)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                perm[(i * w + j) * c + ch] = ch * h * w + i * w + j
    return perm


def linear_after_flatten_to_kernel(weight, c, h, w):
    """PyTorch Linear weight (out, C*H*W) after a Flatten of (C, H, W) -> Keras kernel (H*W*C, out)."""
    kernel = weight[:, flatten_permutation(c, h, w)].T
    same = weight.reshape(weight.shape[0], c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)
    assert np.array_equal(kernel, same)
    return kernel


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def conv2d_valid_nhwc(x, kernel, bias):
    """x (N, H, W, Cin), kernel (kh, kw, Cin, Cout), stride 1, valid."""
    kh, kw = kernel.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for a in range(kh):
        for b in range(kw):
            y += x[:, a:a + oh, b:b + ow, :] @ kernel[a, b]
    return y + bias


def numpy_forward(seed, weights, x, permute=True):
    """Float64 forward pass of the seed model from the saved PyTorch weights, typed-nn layout."""
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    x = x.astype(np.float64)
    if seed == 2:
        y = sigmoid(conv2d_valid_nhwc(x, w["0.weight"].transpose(2, 3, 1, 0), w["0.bias"]))
        n, h2, w2, c = y.shape
        y = y.reshape(n, h2 // 2, 2, w2 // 2, 2, c).max(axis=(2, 4))  # MaxPool 2x2
        assert y.shape[1:] == (H, W, C)
        y = y.reshape(n, -1)  # Flatten, HWC order
        kernel = (linear_after_flatten_to_kernel(w["3.weight"], C, H, W) if permute
                  else w["3.weight"].T)
        return softmax(y @ kernel + w["3.bias"])
    hidden = x @ w["0.weight"].T + w["0.bias"]
    hidden = np.maximum(hidden, 0) if seed == 1 else hidden * sigmoid(hidden)
    return softmax(hidden @ w["1.weight"].T + w["1.bias"])


# ---- fixtures ------------------------------------------------------------------------------------

def metadata_for(seed, model, weight_dtype):
    layers = {str(k): repr(m) for k, m in torch_layer_indices(model) if k is not None}
    return {
        "torch_version": torch.__version__,
        "model": MODELS[seed][1],
        "typed_nn_layers": json.dumps(layers, sort_keys=True),
        "weight_dtype": weight_dtype,
        "input_layout": "NHWC (typed-nn/Keras); PyTorch was fed input.transpose(0, 3, 1, 2)"
                        if seed == 2 else "(batch, features)",
        "init": f"torch.manual_seed({seed}) default init; biases default_rng({300 + seed})"
                f".uniform(-0.1, 0.1); input default_rng({400 + seed}).uniform(0, 1)",
    }


def check_file(path, expected, extra):
    """Reloads `path`: exactly the expected weight names/shapes/dtype plus `extra`, bit for bit."""
    loaded = torch_load_file(path)
    assert set(loaded) == set(expected) | set(extra), (path, sorted(loaded))
    for name, t in expected.items():
        assert loaded[name].dtype == t.dtype and torch.equal(loaded[name], t), (path, name)
    for name, a in extra.items():
        assert np.array_equal(loaded[name].numpy(), a) and loaded[name].dtype == torch.float32


def torch_fixture(seed, out):
    model = build_torch_model(seed)
    assert [k for k, _ in torch_layer_indices(model)] == EXPECTED_INDICES[seed]
    x = make_input(seed)
    y = torch_forward(model, x)
    path = os.path.join(out, f"torch_seed{seed}.safetensors")
    written = torch_to_safetensors(model, path, extra={"input": x, "output": y},
                                   metadata=metadata_for(seed, model, "float32"))
    weights = {n: t for n, t in written.items() if n not in ("input", "output")}
    assert {n: tuple(t.shape) for n, t in weights.items()} == MODELS[seed][3]
    assert all(t.dtype == torch.float32 for t in weights.values())
    check_file(path, weights, {"input": x, "output": y})

    np_weights = {n: t.numpy() for n, t in weights.items()}
    err = np.max(np.abs(numpy_forward(seed, np_weights, x) - y))
    assert err < TOL, (seed, err)
    lines = [f"torch_seed{seed}: numpy float64 (channels-last) vs PyTorch output: max |diff| {err:.2e}"]
    if seed == 2:
        # Without the Flatten permutation the output must be wrong, or the check proves nothing.
        wrong = np.max(np.abs(numpy_forward(seed, np_weights, x, permute=False) - y))
        assert wrong > 100 * TOL, wrong
        # The converted weights in the Keras seed-2 model give PyTorch's output too.
        kmodel, names = keras_fixtures.build_model(2)
        assert names == ["0.kernel", "0.bias", "3.kernel", "3.bias"]
        kmodel.set_weights([
            np_weights["0.weight"].transpose(2, 3, 1, 0), np_weights["0.bias"],
            linear_after_flatten_to_kernel(np_weights["3.weight"], C, H, W), np_weights["3.bias"]])
        kerr = np.max(np.abs(np.asarray(keras.ops.convert_to_numpy(kmodel(x))) - y))
        assert kerr < TOL, kerr
        lines += [f"  without the permutation: max |diff| {wrong:.2e} (must fail)",
                  f"  Keras seed-2 model with the converted weights vs PyTorch: max |diff| {kerr:.2e}"]
    return model, x, y, lines


def half_fixture(model, x, y32, dtype, out, suffix):
    """Seed 1 with weights in `dtype`; output from the rounded weights, in float32."""
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for p in rounded.parameters():
            p.copy_(p.to(dtype).float())
    y = torch_forward(rounded, x)
    path = os.path.join(out, f"torch_seed1_{suffix}.safetensors")
    written = torch_to_safetensors(rounded, path, dtype=dtype, extra={"input": x, "output": y},
                                   metadata=metadata_for(1, model, str(dtype).replace("torch.", "")))
    weights = {n: t for n, t in written.items() if n not in ("input", "output")}
    assert {n: tuple(t.shape) for n, t in weights.items()} == MODELS[1][3]
    assert all(t.dtype == dtype for t in weights.values())
    check_file(path, weights, {"input": x, "output": y})
    # Widening the stored weights to f32 gives exactly the weights the output was computed with.
    for (name, t), p in zip(weights.items(), rounded.parameters()):
        assert torch.equal(t.float(), p), name
    err = np.max(np.abs(numpy_forward(1, {n: t.float().numpy() for n, t in weights.items()}, x) - y))
    assert err < TOL, (suffix, err)
    shift = np.max(np.abs(y - y32))
    assert 0 < shift < 1e-2, (suffix, shift)  # the rounding is visible, and small
    return [f"torch_seed1_{suffix}: numpy vs PyTorch max |diff| {err:.2e}; "
            f"differs from the f32 output by max {shift:.2e}"]


def keras_fixture(out):
    model, _ = keras_fixtures.build_model(2)
    path = os.path.join(out, "keras_weights_seed2.safetensors")
    keras_to_safetensors(model, path)
    saved = load_file(path)
    reference = load_file(os.path.join(out, "keras_seed2.safetensors"))
    assert sorted(saved) == ["0.bias", "0.kernel", "3.bias", "3.kernel"], sorted(saved)
    for name, a in saved.items():
        assert a.dtype == np.float32 and np.array_equal(a, reference[name]), name
    return ["keras_weights_seed2: 4 tensors, bit-identical to keras_seed2.safetensors"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(HERE, "..", "tests", "fixtures"),
                        help="output directory (default: tests/fixtures; must hold keras_seed2)")
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    summary, paths = [], []
    for seed in sorted(MODELS):
        model, x, y, lines = torch_fixture(seed, args.out)
        summary += lines
        paths.append(f"torch_seed{seed}.safetensors")
        if seed == 1:
            for dtype, suffix in ((torch.float16, "f16"), (torch.bfloat16, "bf16")):
                summary += half_fixture(model, x, y, dtype, args.out, suffix)
                paths.append(f"torch_seed1_{suffix}.safetensors")
    summary += keras_fixture(args.out)
    paths.append("keras_weights_seed2.safetensors")

    print(f"torch {torch.__version__}, keras {keras.__version__}")
    print("\n".join(summary))
    for name in paths:
        path = os.path.join(args.out, name)
        print(f"\n{os.path.relpath(path)}: {os.path.getsize(path)} bytes")
        for tname, t in torch_load_file(path).items():
            print(f"  {tname:10s} {str(t.dtype).replace('torch.', ''):9s} {tuple(t.shape)}")


if __name__ == "__main__":
    main()
