"""Export Keras or PyTorch weights to a safetensors file that typed-nn can load.

Copy this file next to your training code (its only dependencies are numpy and safetensors, plus
keras or torch for the matching function) and call one of:

    keras_to_safetensors(model, "weights.safetensors")   # a keras.Sequential or functional Model
    torch_to_safetensors(model, "weights.safetensors")   # a torch.nn.Sequential

Layer numbering
---------------
A model is a sequence of layers numbered k = 0, 1, 2, ... in the typed-nn sense: Dense/Linear,
Conv2D/Conv2d, pooling, Flatten, BatchNormalization, Dropout and Keras' stand-alone activation
layers (Activation, ReLU, ...; typed-nn's ActivationLayer) each take an index, parameterless
ones included, but an activation *function* does not, because in typed-nn an activation given
to a Dense/Conv2D is part of that layer (so PyTorch's activation modules take no index). Each
parameter is written as the tensor `{k}.{param}`. Example (the seed-2 model):

    typed-nn / Keras                         PyTorch                      k   tensors
    Conv2D(32, 3x3, sigmoid)                 nn.Conv2d(1, 32, 3)          0   0.kernel / 0.weight, 0.bias
                                             nn.Sigmoid()                 -   (no index)
    MaxPooling2D(2x2)                        nn.MaxPool2d(2)              1
    Flatten()                                nn.Flatten()                 2
    Dense(10, softmax)                       nn.Linear(5408, 10)          3   3.kernel / 3.weight, 3.bias
                                             nn.Softmax(dim=1)            -   (no index)

Keras functional models (keras.Model built from keras.Input, with Add layers for residual
blocks) are numbered by their position in `model.layers`, leaving out the InputLayer, which
is where typed-nn's `Residual` numbers its layers (its docs give the rule: by depth in the
graph, the shortcut's layer first on a tie, then the Add).

Layouts (written exactly as the framework holds them, float32 unless asked otherwise)
-------------------------------------------------------------------------------------
Keras convention, `{k}.kernel` and `{k}.bias`:
    Dense kernel   (in, out)
    Conv2D kernel  (kh, kw, in, out)
    BatchNormalization: `{k}.gamma`, `{k}.beta`, `{k}.moving_mean`, `{k}.moving_variance`,
                   each (channels,)
PyTorch convention, `{k}.weight` and `{k}.bias`:
    Linear weight  (out, in)
    Conv2d weight  (out, in, kh, kw)
Biases are (out,) in both. The loader tells the two conventions apart by the name (`kernel` or
`weight`) and transposes PyTorch tensors itself.

Flatten order: Keras and typed-nn are channels-last and flatten an (H, W, C) feature map in HWC
order; PyTorch is channels-first (NCHW) and flattens CHW. Nothing is pre-permuted here: a Linear
that follows a Flatten of a conv output is written exactly as PyTorch has it, and the typed-nn
loader reorders its input columns (see scripts/interop_fixtures.py for the formula and a check).

Only parameters are written, not hyper-parameters (strides, padding, activation choice): the
typed-nn model that loads the file declares its architecture in Rust, and the loader checks each
tensor's name and shape against it.

Run as a script (`python scripts/export_weights.py [OUT_DIR]`) for a small demo that exports the
seed-1 model from whichever of keras and torch is installed and lists the tensors written.
"""
import json
import struct

import numpy as np

__all__ = [
    "keras_to_safetensors",
    "torch_to_safetensors",
    "keras_layers",
    "keras_tensors",
    "torch_tensors",
    "torch_layer_indices",
]

# PyTorch modules that are layers in typed-nn terms: each gets the next index k.
TORCH_LAYER_TYPES = ("Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "AdaptiveAvgPool2d")
# PyTorch layer types whose parameters are written (Linear and Conv2d: `weight` and `bias`).
TORCH_PARAM_TYPES = ("Linear", "Conv2d")
# The weight names typed-nn's layers have (Keras' own names).
KERAS_WEIGHT_NAMES = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance")


def keras_layers(model):
    """Returns the layers of a keras.Sequential or functional keras.Model in typed-nn's
    numbering: `model.layers` without the InputLayer (a Sequential does not list it, a
    functional model does, first)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Sequential or keras.Model, got {type(model).__name__}")
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def keras_tensors(model):
    """Returns {`{k}.{weight}`: float32 numpy array} for a keras.Sequential or a functional
    keras.Model.

    k is the layer's index in `model.layers` without the InputLayer (see keras_layers); every
    layer counts, parameterless ones and stand-alone activation layers included, as in
    typed-nn. Weight names are Keras': `kernel` and `bias` (Dense kernel (in, out), Conv2D
    kernel (kh, kw, in, out), bias (out,)), and for BatchNormalization `gamma`, `beta`,
    `moving_mean`, `moving_variance` (each (channels,); the last two are non-trainable and
    written too). A weight of another name raises ValueError.
    """
    import keras

    tensors = {}
    for k, layer in enumerate(keras_layers(model)):
        for v in layer.weights:
            if v.name not in KERAS_WEIGHT_NAMES:
                raise ValueError(f"layer {k} ({type(layer).__name__}): unsupported weight {v.name!r}")
            w = np.asarray(keras.ops.convert_to_numpy(v.value), dtype=np.float32)
            tensors[f"{k}.{v.name}"] = np.ascontiguousarray(w)
    return tensors


def keras_to_safetensors(model, path, metadata=None):
    """Writes a Keras model's weights to `path` as `{k}.kernel`, `{k}.bias`, ..., float32.

    See keras_tensors for the numbering and layouts. Uses safetensors.numpy.save_file.
    `metadata` is an optional {str: str}. Returns the dict of tensors written.
    """
    from safetensors.numpy import save_file

    tensors = keras_tensors(model)
    save_file(tensors, path, metadata=metadata)
    _sort_metadata(path, metadata)
    return tensors


def torch_layer_indices(model):
    """Returns [(k or None, module)] for the modules of a torch.nn.Sequential, in order.

    k is the typed-nn layer index: every nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d,
    nn.Flatten and nn.AdaptiveAvgPool2d (output size 1 only: global average pooling) takes the
    next index; activation modules (nn.ReLU, nn.Sigmoid, nn.Softmax, nn.Tanh, nn.SiLU, nn.GELU,
    ...) and any other module without parameters get None. A module of another type that has
    parameters (BatchNorm, a nested Sequential, ...) raises ValueError.
    """
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"expected a torch.nn.Sequential, got {type(model).__name__}")
    layer_types = tuple(getattr(nn, name) for name in TORCH_LAYER_TYPES)
    out, k = [], 0
    for i, module in enumerate(model):
        kind = type(module).__name__
        if isinstance(module, layer_types):
            if isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size not in (1, (1, 1)):
                raise ValueError(f"module {i}: AdaptiveAvgPool2d({module.output_size}) has no "
                                 "typed-nn counterpart (only output size 1)")
            out.append((k, module))
            k += 1
        elif any(True for _ in module.parameters()):
            raise ValueError(f"module {i} ({kind}) has parameters but is not a layer typed-nn "
                             f"knows ({', '.join(TORCH_LAYER_TYPES)})")
        else:
            out.append((None, module))  # an activation (or other parameterless module)
    return out


def torch_tensors(model, dtype=None):
    """Returns {`{k}.weight` / `{k}.bias`: torch.Tensor} for a torch.nn.Sequential.

    k follows torch_layer_indices (activations get no index). Tensors are written exactly as
    PyTorch holds them: Linear weight (out, in), Conv2d weight (out, in, kh, kw), bias (out,),
    detached, contiguous, on the CPU, cast to `dtype` (default torch.float32). A layer built
    with bias=False contributes only its weight.
    """
    import torch
    from torch import nn

    dtype = torch.float32 if dtype is None else dtype
    param_types = tuple(getattr(nn, name) for name in TORCH_PARAM_TYPES)
    tensors = {}
    for k, module in torch_layer_indices(model):
        if k is None or not isinstance(module, param_types):
            continue
        for name, p in module.named_parameters(recurse=False):
            tensors[f"{k}.{name}"] = p.detach().to("cpu", dtype).contiguous()
    return tensors


def torch_to_safetensors(model, path, dtype=None, extra=None, metadata=None):
    """Writes a torch.nn.Sequential's parameters to `path` as `{k}.weight` / `{k}.bias`.

    See torch_layer_indices for the numbering and torch_tensors for the layouts: nothing is
    transposed or permuted, not even the Linear after a Flatten (the loader does that). `dtype`
    defaults to torch.float32 (torch.float16 and torch.bfloat16 are also readable by typed-nn,
    which widens them to f32). `extra` is an optional {name: tensor or numpy array} written to
    the same file unchanged (its names must not collide with the weights); `metadata` an
    optional {str: str}. Uses safetensors.torch.save_file. Returns the dict of tensors written.
    """
    import torch
    from safetensors.torch import save_file

    tensors = torch_tensors(model, dtype)
    for name, t in (extra or {}).items():
        if name in tensors:
            raise ValueError(f"extra tensor {name!r} collides with a weight")
        t = torch.from_numpy(np.ascontiguousarray(t)) if isinstance(t, np.ndarray) else t
        tensors[name] = t.detach().cpu().contiguous()
    save_file(tensors, path, metadata=metadata)
    _sort_metadata(path, metadata)
    return tensors


def _sort_metadata(path, metadata):
    """Sorts the `__metadata__` keys in the file's JSON header, so that the bytes are
    reproducible (save_file writes them from a hash map, in an order that changes between
    runs). Same header length, same tensors."""
    if not metadata:
        return
    with open(path, "r+b") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        assert len(text) <= n, "header grew"
        fh.seek(8)
        fh.write(text.ljust(n, b" "))


def _demo(out_dir):
    """Exports the seed-1 model (784 -> 64 relu -> 10 softmax) from each installed framework."""
    import importlib.util
    import os

    from safetensors.numpy import load_file

    os.makedirs(out_dir, exist_ok=True)
    written = []
    if importlib.util.find_spec("keras"):
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras

        model = keras.Sequential([keras.Input((784,)),
                                  keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        written.append(os.path.join(out_dir, "demo_keras.safetensors"))
        keras_to_safetensors(model, written[-1])
    if importlib.util.find_spec("torch"):
        from torch import nn

        model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))
        written.append(os.path.join(out_dir, "demo_torch.safetensors"))
        torch_to_safetensors(model, written[-1])
    for path in written:
        print(path)
        for name, t in load_file(path).items():
            print(f"  {name:10s} {str(t.dtype):8s} {t.shape}")


if __name__ == "__main__":
    import sys
    import tempfile

    _demo(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="export_weights_"))
