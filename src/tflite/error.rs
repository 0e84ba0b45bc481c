//! [`TfliteError`]: why a `.tflite` file does not load into an int8 model type.

use core::fmt;

/// A tensor shape as the file or the type has it (up to 6 dimensions are kept).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dims {
    len: u8,
    dims: [i32; 6],
}

impl Dims {
    /// The shape with these dimensions (the first 6 are kept).
    pub fn new(dims: impl IntoIterator<Item = i32>) -> Self {
        let mut d = Self { len: 0, dims: [0; 6] };
        for v in dims {
            if let Some(slot) = d.dims.get_mut(usize::from(d.len)) {
                *slot = v;
                d.len += 1;
            }
        }
        d
    }

    /// The dimensions.
    pub fn as_slice(&self) -> &[i32] {
        self.dims.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.as_slice().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// A TFLite builtin operator code, printed with its schema name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpKind(pub i32);

impl OpKind {
    /// `ADD`.
    pub const ADD: Self = Self(0);
    /// `AVERAGE_POOL_2D`.
    pub const AVERAGE_POOL_2D: Self = Self(1);
    /// `CONV_2D`.
    pub const CONV_2D: Self = Self(3);
    /// `DEPTHWISE_CONV_2D`.
    pub const DEPTHWISE_CONV_2D: Self = Self(4);
    /// `FULLY_CONNECTED`.
    pub const FULLY_CONNECTED: Self = Self(9);
    /// `MAX_POOL_2D`.
    pub const MAX_POOL_2D: Self = Self(17);
    /// `RESHAPE`.
    pub const RESHAPE: Self = Self(22);
    /// `SOFTMAX`.
    pub const SOFTMAX: Self = Self(25);
    /// `MEAN`.
    pub const MEAN: Self = Self(40);

    /// The schema's name of the operator (`"CONV_2D"`), or `None` for codes typed-nn does not
    /// know by name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "ADD",
            1 => "AVERAGE_POOL_2D",
            2 => "CONCATENATION",
            3 => "CONV_2D",
            4 => "DEPTHWISE_CONV_2D",
            6 => "DEQUANTIZE",
            9 => "FULLY_CONNECTED",
            14 => "LOGISTIC",
            17 => "MAX_POOL_2D",
            18 => "MUL",
            19 => "RELU",
            21 => "RELU6",
            22 => "RESHAPE",
            25 => "SOFTMAX",
            28 => "TANH",
            34 => "PAD",
            39 => "TRANSPOSE",
            40 => "MEAN",
            41 => "SUB",
            114 => "QUANTIZE",
            _ => return None,
        })
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "builtin operator {}", self.0),
        }
    }
}

/// What is wrong with a tensor's quantization.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum QuantProblem {
    /// One scale for the whole tensor where the type needs one per output channel.
    PerTensorWherePerChannelExpected {
        /// Output channels of the layer.
        channels: usize,
    },
    /// Several scales where the type needs one for the whole tensor.
    PerChannelWherePerTensorExpected {
        /// Scales found.
        scales: usize,
    },
    /// A number of scales that is neither 1 nor the channel count.
    ScaleCount {
        /// Scales expected.
        expected: usize,
        /// Scales found.
        found: usize,
    },
    /// A scale that is zero, negative or not finite.
    Scale(f32),
    /// A zero point outside int8, or a nonzero weight zero point (weights are symmetric).
    ZeroPoint(i64),
    /// Per-channel scales along another dimension than the output channels.
    QuantizedDimension(i32),
    /// Input and output of a layer that does not rescale (pooling, reshape) differ.
    Mismatch,
    /// The softmax output is not TFLite's fixed `scale = 1/256, zero_point = −128`, or its
    /// input scale is too small for TFLite's softmax (`β·s_in·2²⁶ ≤ 1`).
    Softmax,
}

/// Why a `.tflite` file does not load into an int8 model type: one variant per cause, each with
/// the facts (operator index and kind, tensor role, both shapes).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TfliteError {
    /// Not a TFLite flatbuffer (no `TFL3` identifier, or too short).
    NotTflite,
    /// The flatbuffer failed verification: an offset, vector or string points outside the
    /// file, or nesting is too deep (a truncated or corrupted file).
    Malformed(alloc::boxed::Box<flatbuffers::InvalidFlatbuffer>),
    /// A required part of the model is missing (`what` names it).
    Missing {
        /// The missing part: `"subgraphs"`, `"operators"`, `"tensor 7"`, ...
        what: &'static str,
    },
    /// The model takes or produces another tensor type than int8 (a float model, say).
    NotInt8 {
        /// `"model input"`, `"model output"`, or the role of an operator's tensor.
        tensor: &'static str,
        /// TFLite `TensorType` code found (FLOAT32 = 0, INT8 = 9, ...).
        found: i8,
    },
    /// The file has fewer operators than the type's layers need.
    MissingOperator {
        /// Index of the operator that would be next.
        index: usize,
        /// The operator the type expects there.
        expected: OpKind,
    },
    /// The file has operators left after the type's last layer.
    ExtraOperator {
        /// Index of the first extra operator.
        index: usize,
        /// Its kind.
        found: OpKind,
    },
    /// An operator of another kind than the layer at that position (including operators
    /// typed-nn does not support, such as `DEPTHWISE_CONV_2D` or `QUANTIZE`).
    WrongOperator {
        /// Operator index.
        index: usize,
        /// The operator the type expects.
        expected: OpKind,
        /// The operator in the file.
        found: OpKind,
    },
    /// An option (stride, padding, fused activation, filter size, ...) differs from the type.
    Option {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// The option's schema name.
        option: &'static str,
        /// The value the type implies.
        expected: i64,
        /// The value in the file.
        found: i64,
    },
    /// A tensor's shape differs from the type's.
    Shape {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// `"input"`, `"weights"`, `"bias"` or `"output"`.
        tensor: &'static str,
        /// The shape the type implies (with TFLite's batch dimension of 1).
        expected: Dims,
        /// The shape in the file.
        found: Dims,
    },
    /// A tensor of an operator has another element type than expected.
    TensorType {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// The tensor's role.
        tensor: &'static str,
        /// TFLite `TensorType` code expected.
        expected: i8,
        /// Code found.
        found: i8,
    },
    /// A tensor's quantization is unusable or does not fit the layer.
    Quantization {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// The tensor's role.
        tensor: &'static str,
        /// What is wrong.
        problem: QuantProblem,
    },
    /// The operator does not read the tensor the previous one wrote (the file is not the
    /// sequential model the type describes).
    Wiring {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// The tensor index the type's chain expects as input.
        expected: i32,
        /// The tensor index the operator reads.
        found: i32,
    },
    /// A constant tensor (weights, bias, axes) has no data or data of the wrong length.
    Data {
        /// Operator index.
        index: usize,
        /// Operator kind.
        op: OpKind,
        /// The tensor's role.
        tensor: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
}

impl fmt::Display for QuantProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::PerTensorWherePerChannelExpected { channels } => {
                write!(f, "one scale for the whole tensor, expected one per output channel ({channels})")
            }
            Self::PerChannelWherePerTensorExpected { scales } => {
                write!(f, "{scales} scales, expected one for the whole tensor")
            }
            Self::ScaleCount { expected, found } => write!(f, "{found} scales, expected {expected}"),
            Self::Scale(s) => write!(f, "scale {s} is not positive and finite"),
            Self::ZeroPoint(z) => write!(f, "zero point {z} is not allowed here"),
            Self::QuantizedDimension(d) => write!(f, "per-channel along dimension {d}, expected 0"),
            Self::Mismatch => f.write_str("input and output quantization differ"),
            Self::Softmax => f.write_str("not TFLite's int8 softmax quantization (output 1/256, −128)"),
        }
    }
}

impl fmt::Display for TfliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotTflite => f.write_str("not a TFLite model: no `TFL3` flatbuffer identifier"),
            Self::Malformed(e) => write!(f, "malformed TFLite flatbuffer (truncated or corrupted): {e}"),
            Self::Missing { what } => write!(f, "the model has no {what}"),
            Self::NotInt8 { tensor, found } => {
                write!(f, "the {tensor} has tensor type {found}, not int8 (9); convert with int8 input and output")
            }
            Self::MissingOperator { index, expected } => {
                write!(f, "operator {index}: the model ends, but the type expects {expected}")
            }
            Self::ExtraOperator { index, found } => {
                write!(f, "operator {index} ({found}) comes after the type's last layer")
            }
            Self::WrongOperator { index, expected, found } => {
                write!(f, "operator {index} is {found}, but the type expects {expected} there")
            }
            Self::Option { index, op, option, expected, found } => {
                write!(f, "operator {index} ({op}): {option} is {found}, the type expects {expected}")
            }
            Self::Shape { index, op, tensor, expected, found } => {
                write!(f, "operator {index} ({op}): {tensor} has shape {found}, the type expects {expected}")
            }
            Self::TensorType { index, op, tensor, expected, found } => {
                write!(f, "operator {index} ({op}): {tensor} has tensor type {found}, expected {expected}")
            }
            Self::Quantization { index, op, tensor, problem } => {
                write!(f, "operator {index} ({op}): {tensor}: {problem}")
            }
            Self::Wiring { index, op, expected, found } => write!(
                f,
                "operator {index} ({op}) reads tensor {found}, but the previous layer wrote tensor {expected}; the file is not this sequential model"
            ),
            Self::Data { index, op, tensor, expected, found } => {
                write!(f, "operator {index} ({op}): {tensor} has {found} bytes of data, expected {expected}")
            }
        }
    }
}

impl core::error::Error for TfliteError {}
