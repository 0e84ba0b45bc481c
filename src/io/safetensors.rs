//! Keras and PyTorch weights in `safetensors` files, checked against the model's type
//! (feature `std`).
//!
//! # Tensor names and layouts
//! A tensor is named `{k}.{param}`, where `k` is the layer's index in the model, counting
//! parameterless layers (pooling, `Flatten`) — Keras' `model.layers` numbering. Two conventions
//! load, tensor by tensor:
//!
//! | framework | kernel | `Dense` kernel | `Conv2D` kernel | `DepthwiseConv2D` kernel | bias |
//! |---|---|---|---|---|---|
//! | Keras | `{k}.kernel` | `(in, out)` | `(kh, kw, in, out)` | `(kh, kw, in, mult)` | `{k}.bias` |
//! | PyTorch | `{k}.weight` | `(out, in)` (`nn.Linear`) | `(out, in, kh, kw)` (`nn.Conv2d`) | `(in·mult, 1, kh, kw)` (`nn.Conv2d` with `groups=in`) | `{k}.bias` |
//!
//! A layer without a bias (`NoBias`, Keras' `use_bias=False`) has no `{k}.bias` tensor, as in
//! Keras' own files; a `DepthwiseConv2D`'s bias has `in·mult` values, output channel
//! `c·mult + m` being filter `m` of input channel `c` (Keras' and PyTorch's order).
//!
//! PyTorch counts activations as modules of an `nn.Sequential`; `scripts/export_weights.py`
//! renumbers them so that only layers count. PyTorch also flattens images channel-first
//! (`c·H·W + i·W + j`) where Keras and typed-nn flatten channel-last (`(i·W + j)·C + c`), so
//! the input columns of a PyTorch `Linear` that follows a `Flatten` of a `C`-channel image are
//! permuted on load: `kernel[(p·C + c)][o] = weight[o][c·HW + p]` with `p = i·W + j` and
//! `HW = in/C` (only `C` is needed, and the model's type says what it is).
//!
//! A `BatchNormalization` layer's tensors are `{k}.gamma`, `{k}.beta` (trainable) and
//! `{k}.moving_mean`, `{k}.moving_variance` (its state), each of shape `(C,)`, as Keras names
//! them; they have no PyTorch twin (PyTorch's `BatchNorm` uses another epsilon, `1e-5`). A
//! negative moving variance is refused ([`LoadError::NegativeVariance`]). In a model with
//! residual blocks, `k` follows Keras' numbering of a functional model (see
//! [`Residual`](crate::layer::Residual)).
//!
//! Float tensors (`F32`, `F64`, `F16`, `BF16`) are converted to the model's float type; any
//! other dtype is refused. Saving writes the Keras convention.
//!
//! # Conversions and limits
//! - Widening (`F16`, `BF16`, `F32` into any model; anything into an `f64` model) is exact.
//! - `F64` into an `f32` model rounds to the nearest `f32`, as NumPy's `astype(np.float32)` and
//!   PyTorch's `.float()` do: a value below `f32`'s smallest normal number (1.2·10⁻³⁸) becomes
//!   the nearest subnormal, one below half its smallest subnormal (7·10⁻⁴⁶) becomes ±0 — an
//!   absolute change of at most 7·10⁻⁴⁶. A finite value beyond `±f32::MAX` is refused
//!   ([`LoadError::OutOfRange`]), as are NaN and infinities ([`LoadError::NonFinite`]).
//! - A file that lists a tensor name twice is refused ([`LoadError::DuplicateTensor`]).
//! - A header (the JSON list of tensors) longer than [`MAX_HEADER_BYTES`] (1 MiB, about ten
//!   thousand tensors) is refused before it is parsed ([`LoadError::HeaderTooLarge`]), so a
//!   hostile file costs no parsing time; the `safetensors` crate's own limit is 100 MB.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
//! let bytes: Vec<u8> = model.save_safetensors()?;
//! let back: Mlp = Mlp::load_safetensors(&bytes)?;
//! assert_eq!(back, model);
//! // A file for another model is refused, naming the tensor and both shapes.
//! type Other = (Dense<64, 16, Relu>, Dense<16, 10, Softmax>);
//! let err = Other::load_safetensors(&bytes).unwrap_err();
//! assert_eq!(err.to_string(), "tensor `0.kernel` has shape [64, 32], but the model expects [64, 16] (Keras layout (in, out))");
//! # Ok::<(), typed_nn::io::LoadError>(())
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::params::{Flattened, ParamShape, ParamSpec, ParamWalk};
use crate::{Params, Scalar};

/// Why a safetensors file could not be loaded (or a model saved).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a valid safetensors file (truncated, bad header, overlapping data).
    Corrupt {
        /// What the safetensors parser reported.
        reason: String,
    },
    /// The model needs a tensor the file does not have.
    MissingTensor {
        /// Its name (`3.kernel`, or with PyTorch's `3.weight` as an alternative).
        name: String,
        /// Its shape, from the model's type, in Keras layout.
        expected: Vec<usize>,
    },
    /// The file has a tensor the model does not use (pass
    /// [`LoadOptions::ignore_extra`] to allow that).
    UnexpectedTensor {
        /// Its name.
        name: String,
    },
    /// Both `{k}.kernel` and `{k}.weight` are present.
    AmbiguousTensor {
        /// The layer's `{k}.kernel` name.
        name: String,
    },
    /// A tensor's shape differs from what the model's type requires.
    WrongShape {
        /// Its name.
        name: String,
        /// The shape the model needs, in the file's convention.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
        /// Which layout `expected` is in, e.g. `"Keras layout (in, out)"`.
        layout: &'static str,
    },
    /// A tensor's dtype is not a float type.
    UnsupportedDtype {
        /// Its name.
        name: String,
        /// The dtype found.
        dtype: String,
    },
    /// A `moving_variance` (of a `BatchNormalization`) has a negative value: its square root
    /// would make the model output NaN.
    NegativeVariance {
        /// The tensor's name.
        name: String,
        /// Index of the value in the tensor.
        index: usize,
    },
    /// A value is NaN or infinite.
    NonFinite {
        /// The tensor's name.
        name: String,
        /// Index of the value in the tensor.
        index: usize,
    },
    /// A finite value is too large for the model's float type (an `F64` value beyond
    /// `±f32::MAX`, loaded into an `f32` model).
    OutOfRange {
        /// The tensor's name.
        name: String,
        /// Index of the value in the tensor.
        index: usize,
        /// The model's float type (`"F32"`).
        dtype: &'static str,
    },
    /// The file lists a tensor name twice (the `safetensors` parser would keep one of them
    /// and then report a wrong offset).
    DuplicateTensor {
        /// The name.
        name: String,
    },
    /// The file's header is longer than [`MAX_HEADER_BYTES`].
    HeaderTooLarge {
        /// The header's length, from the file's first 8 bytes.
        bytes: u64,
    },
    /// A PyTorch `Linear` follows a `Flatten` whose input channel count the model does not
    /// reveal (the model starts with `Flatten`); its columns cannot be reordered safely.
    UnknownFlattenChannels {
        /// The `Linear`'s layer index.
        layer: usize,
    },
    /// The model has a layer whose parameters (or state) it does not describe (a custom layer
    /// without [`Params::describe_params`] or [`Params::describe_state`]), so it cannot be
    /// matched to names.
    UndescribedParams {
        /// Parameters (or state values) described.
        described: usize,
        /// Parameters (or state values) the model has.
        params: usize,
    },
    /// A custom layer's `PARAMS` disagrees with its `params()` (see
    /// [`check_count`](crate::params::check_count)).
    ParamCount(crate::params::ParamCountError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Corrupt { reason } => write!(f, "not a valid safetensors file: {reason}"),
            Self::MissingTensor { name, expected } => {
                write!(
                    f,
                    "the file has no tensor `{name}` (the model needs one of shape {expected:?}); check the layer numbering"
                )
            }
            Self::UnexpectedTensor { name } => write!(
                f,
                "the file has a tensor `{name}` that the model does not use; check the layer order, or load with `ignore_extra`"
            ),
            Self::AmbiguousTensor { name } => {
                write!(f, "the file has both `{name}` (Keras) and its PyTorch twin `.weight`; keep one")
            }
            Self::WrongShape { name, expected, found, layout } => {
                write!(f, "tensor `{name}` has shape {found:?}, but the model expects {expected:?} ({layout})")
            }
            Self::UnsupportedDtype { name, dtype } => {
                write!(f, "tensor `{name}` has dtype {dtype}; only F32, F64, F16 and BF16 weights can be loaded")
            }
            Self::NonFinite { name, index } => {
                write!(f, "tensor `{name}` has a NaN or infinite value at index {index}")
            }
            Self::NegativeVariance { name, index } => {
                write!(f, "tensor `{name}` has a negative variance at index {index}; a variance is at least 0")
            }
            Self::OutOfRange { name, index, dtype } => {
                write!(f, "tensor `{name}` has a value at index {index} beyond the range of the model's {dtype}")
            }
            Self::DuplicateTensor { name } => {
                write!(f, "the file lists tensor `{name}` twice; keep one")
            }
            Self::HeaderTooLarge { bytes } => write!(
                f,
                "the file's header is {bytes} bytes, more than the {MAX_HEADER_BYTES} bytes (about ten thousand tensors) that typed-nn reads; is it a safetensors file for this model?"
            ),
            Self::UnknownFlattenChannels { layer } => write!(
                f,
                "layer {layer} is a PyTorch Linear after a Flatten whose channel count the model does not show; save it in the Keras convention instead"
            ),
            Self::UndescribedParams { described, params } => write!(
                f,
                "the model has {params} parameters but describes only {described} (a custom layer without `describe_params`?)"
            ),
            Self::ParamCount(e) => write!(f, "cannot match the model to a file: {e}"),
        }
    }
}

impl core::error::Error for LoadError {}

/// The longest header (the JSON list of tensors after the file's first 8 bytes) a file may
/// have: 1 MiB, about ten thousand tensors, where a typed-nn model has two per layer. A longer
/// one is refused with [`LoadError::HeaderTooLarge`] before it is read, so a hostile file is
/// rejected in constant time.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Options for [`Safetensors::load_safetensors_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Ignore tensors the model does not use (an optimizer's state, inputs saved alongside)
    /// instead of refusing the file.
    pub ignore_extra: bool,
}

/// Load and save any model as safetensors; implemented for every model (a trait in the
/// prelude).
pub trait Safetensors<T: Scalar>: Params<T> {
    /// A model from a Keras- or PyTorch-convention file (see the [module docs](self)).
    ///
    /// For a model of many kilobytes, load a `Box<M>` (`Box::<Cnn>::load_safetensors(..)`):
    /// the model is then built on the heap.
    ///
    /// # Errors
    /// A [`LoadError`] naming the tensor and both shapes; a file with extra tensors is refused
    /// (see [`load_safetensors_with`](Safetensors::load_safetensors_with)).
    fn load_safetensors(bytes: &[u8]) -> Result<Self, LoadError>
    where
        Self: Sized + Default,
    {
        Self::load_safetensors_with(bytes, LoadOptions::default())
    }

    /// Like [`load_safetensors`](Safetensors::load_safetensors), with options.
    ///
    /// # Errors
    /// A [`LoadError`].
    fn load_safetensors_with(bytes: &[u8], options: LoadOptions) -> Result<Self, LoadError>
    where
        Self: Sized + Default,
    {
        let mut model = Self::default();
        model.read_safetensors(bytes, options)?;
        Ok(model)
    }

    /// Replaces this model's parameters with a file's; on error the model is unchanged.
    ///
    /// # Errors
    /// A [`LoadError`].
    fn read_safetensors(&mut self, bytes: &[u8], options: LoadOptions) -> Result<(), LoadError> {
        crate::params::check_count(self).map_err(LoadError::ParamCount)?;
        let file = parse(bytes)?;
        let (specs, state_specs) = specs::<T, Self>()?;
        // Decode every tensor first, so that a bad one leaves the model untouched.
        let mut used = BTreeSet::new();
        let mut decode_all = |specs: &[ParamSpec]| -> Result<Vec<Vec<T>>, LoadError> {
            let mut decoded = Vec::with_capacity(specs.len());
            for spec in specs {
                let (name, values) = decode::<T>(&file, spec)?;
                used.insert(name);
                decoded.push(values);
            }
            Ok(decoded)
        };
        let decoded = decode_all(&specs)?;
        let decoded_state = decode_all(&state_specs)?;
        if !options.ignore_extra
            && let Some(name) = file.names().into_iter().find(|n| !used.contains(*n))
        {
            return Err(LoadError::UnexpectedTensor { name: name.to_string() });
        }
        for (dst, src) in self.params_mut().zip(&decoded) {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        for (dst, src) in self.state_mut().zip(&decoded_state) {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        Ok(())
    }

    /// The model's parameters as a safetensors file in the Keras convention.
    ///
    /// # Errors
    /// [`LoadError::UndescribedParams`] for a model with undescribed custom layers,
    /// [`LoadError::ParamCount`] for one whose `PARAMS` is wrong.
    fn save_safetensors(&self) -> Result<Vec<u8>, LoadError> {
        crate::params::check_count(self).map_err(LoadError::ParamCount)?;
        let (mut specs, state_specs) = specs::<T, Self>()?;
        specs.extend(state_specs);
        let data: Vec<Vec<u8>> = self
            .params()
            .chain(self.state())
            .map(|p| {
                let mut bytes = vec![0u8; p.len() * T::BYTES];
                for (chunk, v) in bytes.chunks_exact_mut(T::BYTES).zip(p) {
                    v.write_le(chunk);
                }
                bytes
            })
            .collect();
        let dtype = if T::BYTES == 8 { Dtype::F64 } else { Dtype::F32 };
        let mut views = Vec::with_capacity(specs.len());
        for (spec, bytes) in specs.iter().zip(&data) {
            let view = TensorView::new(dtype, keras_shape(spec.shape), bytes)
                .map_err(|e| LoadError::Corrupt { reason: e.to_string() })?;
            views.push((format!("{}.{}", spec.layer, spec.name), view));
        }
        safetensors::tensor::serialize(views, None).map_err(|e| LoadError::Corrupt { reason: e.to_string() })
    }
}

impl<T: Scalar, M: Params<T>> Safetensors<T> for M {}

/// The file's tensors, after the checks the `safetensors` parser does not make: the header's
/// length against [`MAX_HEADER_BYTES`], and names listed twice.
fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, LoadError> {
    if let Some(&len) = bytes.as_chunks::<8>().0.first() {
        let len = u64::from_le_bytes(len);
        if len > MAX_HEADER_BYTES {
            return Err(LoadError::HeaderTooLarge { bytes: len });
        }
        // The length is at most 1 MiB here, so it fits a usize; a header cut short is left to
        // the parser to report.
        let header = usize::try_from(len).ok().and_then(|len| bytes.get(8..8usize.saturating_add(len)));
        if let Some(name) = header.and_then(duplicate_key) {
            return Err(LoadError::DuplicateTensor { name });
        }
    }
    SafeTensors::deserialize(bytes).map_err(|e| LoadError::Corrupt { reason: e.to_string() })
}

/// The first key of a JSON object that appears twice in it, if `header` is a JSON object
/// (anything else is left to the `safetensors` parser to refuse).
fn duplicate_key(header: &[u8]) -> Option<String> {
    struct FirstDuplicate;
    impl<'de> Visitor<'de> for FirstDuplicate {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
            // Read to the end (serde_json refuses a map left half-read), keep the first repeat.
            let (mut seen, mut first) = (BTreeSet::new(), None);
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.contains(&key) {
                    seen.insert(key);
                } else if first.is_none() {
                    first = Some(key);
                }
            }
            Ok(first)
        }
    }
    serde_json::Deserializer::from_slice(header).deserialize_map(FirstDuplicate).ok().flatten()
}

/// The model's parameter tensors and state tensors, checked to cover all its values.
fn specs<T: Scalar, M: Params<T> + ?Sized>() -> Result<(Vec<ParamSpec>, Vec<ParamSpec>), LoadError> {
    let (mut specs, mut state) = (Vec::new(), Vec::new());
    M::describe_params(&mut ParamWalk::default(), &mut |s| specs.push(*s));
    M::describe_state(&mut ParamWalk::default(), &mut |s| state.push(*s));
    for (specs, count) in [(&specs, M::PARAMS), (&state, M::STATE)] {
        let described: usize = specs.iter().map(|s| s.shape.len()).sum();
        if described != count {
            return Err(LoadError::UndescribedParams { described, params: count });
        }
    }
    Ok((specs, state))
}

fn keras_shape(shape: ParamShape) -> Vec<usize> {
    match shape {
        ParamShape::DenseKernel { inputs, outputs, .. } => vec![inputs, outputs],
        ParamShape::ConvKernel { kh, kw, inputs, outputs } => vec![kh, kw, inputs, outputs],
        ParamShape::DepthwiseKernel { kh, kw, channels, multiplier } => vec![kh, kw, channels, multiplier],
        ParamShape::Vector(n) => vec![n],
    }
}

fn torch_shape(shape: ParamShape) -> Vec<usize> {
    match shape {
        ParamShape::DenseKernel { inputs, outputs, .. } => vec![outputs, inputs],
        ParamShape::ConvKernel { kh, kw, inputs, outputs } => vec![outputs, inputs, kh, kw],
        // `nn.Conv2d(C, C·M, (kh, kw), groups=C)`: one input channel per filter.
        ParamShape::DepthwiseKernel { kh, kw, channels, multiplier } => vec![channels * multiplier, 1, kh, kw],
        ParamShape::Vector(n) => vec![n],
    }
}

/// Finds, checks and converts one tensor into the model's flat Keras layout.
fn decode<T: Scalar>(file: &SafeTensors<'_>, spec: &ParamSpec) -> Result<(String, Vec<T>), LoadError> {
    let keras_name = format!("{}.{}", spec.layer, spec.name);
    let torch_name = (spec.name == "kernel").then(|| format!("{}.weight", spec.layer));
    let keras = file.tensor(&keras_name).ok();
    let torch = torch_name.as_deref().and_then(|n| file.tensor(n).ok());
    let (name, view, is_torch) = match (keras, torch) {
        (Some(_), Some(_)) => return Err(LoadError::AmbiguousTensor { name: keras_name }),
        (Some(v), None) => (keras_name, v, false),
        (None, Some(v)) => (torch_name.unwrap_or_default(), v, true),
        (None, None) => {
            let name = match torch_name {
                Some(t) => format!("{keras_name}` or `{t}"),
                None => keras_name,
            };
            return Err(LoadError::MissingTensor { name, expected: keras_shape(spec.shape) });
        }
    };
    let (expected, layout) = if is_torch {
        let layout = match spec.shape {
            ParamShape::DenseKernel { .. } => "PyTorch layout (out, in)",
            ParamShape::DepthwiseKernel { .. } => "PyTorch layout (in·multiplier, 1, kh, kw) of a grouped Conv2d",
            _ => "PyTorch layout (out, in, kh, kw)",
        };
        (torch_shape(spec.shape), layout)
    } else {
        let layout = match spec.shape {
            ParamShape::DenseKernel { .. } => "Keras layout (in, out)",
            ParamShape::ConvKernel { .. } => "Keras layout (kh, kw, in, out)",
            ParamShape::DepthwiseKernel { .. } => "Keras layout (kh, kw, in, multiplier)",
            ParamShape::Vector(_) => "a vector",
        };
        (keras_shape(spec.shape), layout)
    };
    if view.shape() != expected.as_slice() {
        return Err(LoadError::WrongShape { name, expected, found: view.shape().to_vec(), layout });
    }
    // Each value read as an f64 (exact for all four dtypes), then rounded to T (see the module
    // docs); a value that is not finite in T is refused, naming why.
    let dtype = view.dtype();
    let width = match dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
        Dtype::F16 | Dtype::BF16 => 2,
        other => return Err(LoadError::UnsupportedDtype { name, dtype: format!("{other:?}") }),
    };
    let read = |b: &[u8]| -> f64 {
        let half = || u16::from_le_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]);
        match dtype {
            Dtype::F64 => f64::read_le(b),
            Dtype::F16 => f64::from(f16_to_f32(half())),
            Dtype::BF16 => f64::from(bf16_to_f32(half())),
            _ => f64::from(f32::read_le(b)),
        }
    };
    let values: Vec<T> = view.data().chunks_exact(width).map(|b| T::lit(read(b))).collect();
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        let finite_in_file = view.data().chunks_exact(width).nth(index).is_some_and(|b| read(b).is_finite());
        return Err(if finite_in_file {
            LoadError::OutOfRange { name, index, dtype: T::DTYPE }
        } else {
            LoadError::NonFinite { name, index }
        });
    }
    if spec.name == "moving_variance"
        && let Some(index) = values.iter().position(|v| *v < T::zero())
    {
        return Err(LoadError::NegativeVariance { name, index });
    }
    let values = if is_torch { from_torch(spec, &values)? } else { values };
    Ok((name, values))
}

/// Reorders a PyTorch-layout tensor into Keras layout.
fn from_torch<T: Scalar>(spec: &ParamSpec, w: &[T]) -> Result<Vec<T>, LoadError> {
    let at = |i: usize| w.get(i).copied().unwrap_or_else(T::zero);
    Ok(match spec.shape {
        ParamShape::DenseKernel { inputs, outputs, flattened } => {
            // kernel[r][o] = weight[o][q(r)], with q the PyTorch column of Keras row r: after a
            // Flatten of C channels, Keras row r = p·C + c is PyTorch column c·HW + p.
            let channels = match flattened {
                Flattened::No => 1,
                Flattened::Channels(c) => c.max(1),
                Flattened::UnknownChannels => return Err(LoadError::UnknownFlattenChannels { layer: spec.layer }),
            };
            let hw = inputs / channels;
            let column = |r: usize| (r % channels) * hw + r / channels;
            let mut k = Vec::with_capacity(inputs * outputs);
            for r in 0..inputs {
                let q = column(r);
                for o in 0..outputs {
                    k.push(at(o * inputs + q));
                }
            }
            k
        }
        ParamShape::ConvKernel { kh, kw, inputs, outputs } => {
            // kernel[ky][kx][c][o] = weight[o][c][ky][kx]
            let mut out = Vec::with_capacity(spec.shape.len());
            for ky in 0..kh {
                for kx in 0..kw {
                    for c in 0..inputs {
                        for o in 0..outputs {
                            out.push(at(((o * inputs + c) * kh + ky) * kw + kx));
                        }
                    }
                }
            }
            out
        }
        ParamShape::DepthwiseKernel { kh, kw, channels, multiplier } => {
            // kernel[ky][kx][c][m] = weight[c·M + m][0][ky][kx]
            let mut out = Vec::with_capacity(spec.shape.len());
            for ky in 0..kh {
                for kx in 0..kw {
                    for c in 0..channels {
                        for m in 0..multiplier {
                            out.push(at(((c * multiplier + m) * kh + ky) * kw + kx));
                        }
                    }
                }
            }
            out
        }
        ParamShape::Vector(_) => w.to_vec(),
    })
}

/// IEEE 754 half precision to single.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise the mantissa.
            let shift = man.leading_zeros() - 21;
            sign | ((127 - 15 + 1 - shift) << 23) | ((man << shift) & 0x3ff) << 13
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// bfloat16 to single: the top 16 bits of an `f32`.
fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_converts_exactly() {
        // Reference bit patterns from IEEE 754 binary16.
        for (bits, value) in [
            (0x0000u16, 0.0f32),
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x3555, 0.333_251_95),
            (0x7bff, 65504.0),
            (0x0001, 5.960_464_5e-8),
            (0x0400, 6.103_515_6e-5),
            (0x03ff, 6.097_555e-5),
            (0x7c00, f32::INFINITY),
        ] {
            assert_eq!(f16_to_f32(bits), value, "{bits:#06x}");
        }
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc0a0), -5.0);
    }
}
