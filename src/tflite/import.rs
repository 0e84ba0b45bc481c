//! The walk over a file's operators ([`Operators`]) and each int8 layer's import
//! ([`TfliteImport`]): what it expects in the file, checked field by field.

use flatbuffers::{Follow, ForwardsUOffset, Vector};

use super::error::{Dims, OpKind, QuantProblem, TfliteError};
use crate::kernel::tflite_schema::{Model, Operator, OperatorCode, SubGraph, Tensor};
use crate::layer::{AvgPool2D, Bias, Conv2D, Dense, DepthwiseConv2D, Flatten, GlobalAvgPool2D, Layer, MaxPool2D};
use crate::quant::{
    ConvActivation, Int8Tensor, QActivation, QAvgPool2D, QConv2D, QDense, QDepthwiseConv2D, QFlatten, QGlobalAvgPool2D,
    QImage, QLayer, QMaxPool2D, QPadding, QResidual, QSkip, QuantParams, SoftmaxParams,
};
use crate::shape::{Flat, Image, Vector as FVector};

/// TFLite `TensorType` codes typed-nn reads.
const INT8: i8 = 9;
const INT32: i8 = 2;
/// TFLite `Padding` code for `VALID`.
const VALID: i64 = 1;

/// An int8 layer (or model) that can be read from the operators of a `.tflite` file, taking
/// input `X`. Implemented by every int8 layer and by tuples of them; use it through
/// [`FromTflite::from_tflite`](super::FromTflite::from_tflite).
pub trait TfliteImport<X: Int8Tensor>: QLayer<X> + Sized {
    /// Reads this layer from the next operator(s), checking kind, options, tensor types,
    /// shapes and quantization against the type.
    ///
    /// # Errors
    /// A [`TfliteError`] naming the operator and what differs.
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError>;
}

/// The element at `i`, or `None` past the end (`flatbuffers::Vector::get` would panic).
fn at<'a, T: Follow<'a> + 'a>(v: &Vector<'a, T>, i: usize) -> Option<T::Inner> {
    (i < v.len()).then(|| v.get(i))
}

/// A cursor over the operators of a verified model's first subgraph, with the tensor the
/// previous layer wrote. Opaque: layers use it in [`TfliteImport::import`].
pub struct Operators<'a> {
    codes: Vector<'a, ForwardsUOffset<OperatorCode<'a>>>,
    buffers: Option<Vector<'a, ForwardsUOffset<crate::kernel::tflite_schema::Buffer<'a>>>>,
    tensors: Vector<'a, ForwardsUOffset<Tensor<'a>>>,
    ops: Vector<'a, ForwardsUOffset<Operator<'a>>>,
    graph: SubGraph<'a>,
    next: usize,
    current: i32,
    /// The shape of the current tensor when a `Flatten` had no `RESHAPE` of its own: the
    /// converter leaves it out before a `FULLY_CONNECTED`, which flattens its input itself.
    unflattened: Option<[usize; 4]>,
}

/// One operator being read: its index and kind, for the errors.
pub(crate) struct Op<'a> {
    index: usize,
    kind: OpKind,
    op: Operator<'a>,
}

impl<'a> Operators<'a> {
    pub(crate) fn new(model: Model<'a>) -> Result<Self, TfliteError> {
        let codes = model.operator_codes().ok_or(TfliteError::Missing { what: "operator codes" })?;
        let subgraphs = model.subgraphs().ok_or(TfliteError::Missing { what: "subgraphs" })?;
        let graph = at(&subgraphs, 0).ok_or(TfliteError::Missing { what: "subgraphs" })?;
        let tensors = graph.tensors().ok_or(TfliteError::Missing { what: "tensors" })?;
        let ops = graph.operators().ok_or(TfliteError::Missing { what: "operators" })?;
        let inputs = graph.inputs().ok_or(TfliteError::Missing { what: "model input" })?;
        let current = if inputs.len() == 1 {
            inputs.get(0)
        } else {
            return Err(TfliteError::Missing { what: "single model input" });
        };
        Ok(Self { codes, buffers: model.buffers(), tensors, ops, graph, next: 0, current, unflattened: None })
    }

    fn tensor_at(&self, index: i32) -> Result<Tensor<'a>, TfliteError> {
        usize::try_from(index).ok().and_then(|i| at(&self.tensors, i)).ok_or(TfliteError::Missing { what: "tensor" })
    }

    /// Checks the model's input tensor is int8 (its shape is checked by the first layer).
    pub(crate) fn check_model_input(&self) -> Result<(), TfliteError> {
        let t = self.tensor_at(self.current)?;
        let found = t.tensor_type().unwrap_or(0);
        if found != INT8 {
            return Err(TfliteError::NotInt8 { tensor: "model input", found });
        }
        Ok(())
    }

    /// Checks that every operator was read and the last one wrote the model's output.
    pub(crate) fn finish(&self) -> Result<(), TfliteError> {
        if let Some(op) = at(&self.ops, self.next) {
            return Err(TfliteError::ExtraOperator { index: self.next, found: self.kind_of(&op) });
        }
        let outputs = self.graph.outputs().ok_or(TfliteError::Missing { what: "model output" })?;
        if outputs.len() != 1 || outputs.get(0) != self.current {
            return Err(TfliteError::Missing { what: "single model output written by the last operator" });
        }
        let t = self.tensor_at(self.current)?;
        let found = t.tensor_type().unwrap_or(0);
        if found != INT8 {
            return Err(TfliteError::NotInt8 { tensor: "model output", found });
        }
        Ok(())
    }

    fn kind_of(&self, op: &Operator<'a>) -> OpKind {
        let code = at(&self.codes, op.opcode_index().unwrap_or(0) as usize);
        // The real code is the larger of the deprecated byte and the int32 field (schema ≥ 2.3).
        OpKind(
            code.map_or(-1, |c| i32::from(c.deprecated_builtin_code().unwrap_or(0)).max(c.builtin_code().unwrap_or(0))),
        )
    }

    /// The next operator, which must be `expected` and read the tensor the previous one wrote.
    pub(crate) fn next(&mut self, expected: OpKind) -> Result<Op<'a>, TfliteError> {
        let index = self.next;
        let op = at(&self.ops, index).ok_or(TfliteError::MissingOperator { index, expected })?;
        let kind = self.kind_of(&op);
        if kind != expected {
            return Err(TfliteError::WrongOperator { index, expected, found: kind });
        }
        let input = op.inputs().and_then(|v| at(&v, 0)).ok_or(TfliteError::Missing { what: "operator input" })?;
        if input != self.current {
            return Err(TfliteError::Wiring { index, op: kind, expected: self.current, found: input });
        }
        self.next += 1;
        Ok(Op { index, kind, op })
    }

    /// Input `slot` of `op` (`None` for an absent optional input, index −1).
    fn input(&self, op: &Op<'a>, slot: usize) -> Result<Option<Tensor<'a>>, TfliteError> {
        match op.op.inputs().and_then(|v| at(&v, slot)) {
            None | Some(-1) => Ok(None),
            Some(i) => self.tensor_at(i).map(Some),
        }
    }

    /// Input `slot` of `op`, required.
    fn required_input(&self, op: &Op<'a>, slot: usize) -> Result<Tensor<'a>, TfliteError> {
        self.input(op, slot)?.ok_or(TfliteError::Missing { what: "operator input" })
    }

    /// The output of `op`, which becomes the tensor the next layer must read.
    fn output(&mut self, op: &Op<'a>) -> Result<Tensor<'a>, TfliteError> {
        let index = op.op.outputs().and_then(|v| at(&v, 0)).ok_or(TfliteError::Missing { what: "operator output" })?;
        self.current = index;
        self.tensor_at(index)
    }

    fn option(op: &Op<'a>, option: &'static str, expected: i64, found: i64) -> Result<(), TfliteError> {
        if expected == found {
            Ok(())
        } else {
            Err(TfliteError::Option { index: op.index, op: op.kind, option, expected, found })
        }
    }

    fn tensor_type(op: &Op<'a>, tensor: &'static str, t: &Tensor<'a>, expected: i8) -> Result<(), TfliteError> {
        let found = t.tensor_type().unwrap_or(0);
        if found == expected {
            Ok(())
        } else {
            Err(TfliteError::TensorType { index: op.index, op: op.kind, tensor, expected, found })
        }
    }

    fn shape(op: &Op<'a>, tensor: &'static str, t: &Tensor<'a>, expected: &[usize]) -> Result<(), TfliteError> {
        let found = t.shape();
        let same = found.is_some_and(|f| {
            f.len() == expected.len() && f.iter().zip(expected).all(|(a, &b)| i64::from(a) == b as i64)
        });
        if same {
            return Ok(());
        }
        Err(TfliteError::Shape {
            index: op.index,
            op: op.kind,
            tensor,
            expected: Dims::new(expected.iter().map(|&d| i32::try_from(d).unwrap_or(i32::MAX))),
            found: Dims::new(found.iter().flat_map(|f| f.iter())),
        })
    }

    fn quant_error(op: &Op<'a>, tensor: &'static str, problem: QuantProblem) -> TfliteError {
        TfliteError::Quantization { index: op.index, op: op.kind, tensor, problem }
    }

    /// An int8 activation tensor's per-tensor scale and zero point.
    fn per_tensor(op: &Op<'a>, tensor: &'static str, t: &Tensor<'a>) -> Result<QuantParams, TfliteError> {
        Self::tensor_type(op, tensor, t, INT8)?;
        let q = t.quantization();
        let scales = q.and_then(|q| q.scale());
        let zeros = q.and_then(|q| q.zero_point());
        let (Some(scales), Some(zeros)) = (scales, zeros) else {
            return Err(Self::quant_error(op, tensor, QuantProblem::ScaleCount { expected: 1, found: 0 }));
        };
        if scales.len() != 1 || zeros.len() != 1 {
            return Err(Self::quant_error(
                op,
                tensor,
                QuantProblem::PerChannelWherePerTensorExpected { scales: scales.len() },
            ));
        }
        let scale = scales.get(0);
        if scale.is_nan() || scale <= 0.0 || scale.is_infinite() {
            return Err(Self::quant_error(op, tensor, QuantProblem::Scale(scale)));
        }
        let zero = zeros.get(0);
        if !(-128..=127).contains(&zero) {
            return Err(Self::quant_error(op, tensor, QuantProblem::ZeroPoint(zero)));
        }
        Ok(QuantParams { scale, zero_point: zero as i32 })
    }

    /// An int8 weight tensor's per-output-channel scales (dimension 0, zero points 0).
    fn per_channel<const N: usize>(op: &Op<'a>, t: &Tensor<'a>) -> Result<[f32; N], TfliteError> {
        let mut out = [0f32; N];
        Self::per_channel_into(op, t, 0, &mut out)?;
        Ok(out)
    }

    /// An int8 weight tensor's per-output-channel scales along dimension `dim` (zero points 0),
    /// one per element of `out`.
    fn per_channel_into(op: &Op<'a>, t: &Tensor<'a>, dim: i32, out: &mut [f32]) -> Result<(), TfliteError> {
        let tensor = "weights";
        let n = out.len();
        Self::tensor_type(op, tensor, t, INT8)?;
        let q = t.quantization();
        let (Some(scales), Some(zeros)) = (q.and_then(|q| q.scale()), q.and_then(|q| q.zero_point())) else {
            return Err(Self::quant_error(op, tensor, QuantProblem::ScaleCount { expected: n, found: 0 }));
        };
        if scales.len() != n {
            let problem = if scales.len() == 1 {
                QuantProblem::PerTensorWherePerChannelExpected { channels: n }
            } else {
                QuantProblem::ScaleCount { expected: n, found: scales.len() }
            };
            return Err(Self::quant_error(op, tensor, problem));
        }
        let found_dim = q.and_then(|q| q.quantized_dimension()).unwrap_or(0);
        if found_dim != dim && n > 1 {
            return Err(Self::quant_error(op, tensor, QuantProblem::QuantizedDimension(found_dim)));
        }
        if let Some(z) = zeros.iter().find(|&z| z != 0) {
            return Err(Self::quant_error(op, tensor, QuantProblem::ZeroPoint(z)));
        }
        for (o, s) in out.iter_mut().zip(scales.iter()) {
            if s.is_nan() || s <= 0.0 || s.is_infinite() {
                return Err(Self::quant_error(op, tensor, QuantProblem::Scale(s)));
            }
            *o = s;
        }
        Ok(())
    }

    /// The constant data of `t`: exactly `len` bytes.
    fn data(&self, op: &Op<'a>, tensor: &'static str, t: &Tensor<'a>, len: usize) -> Result<&'a [u8], TfliteError> {
        let bytes = t
            .buffer()
            .and_then(|b| self.buffers.as_ref().and_then(|v| at(v, b as usize)))
            .and_then(|b| b.data())
            .map_or(&[][..], |d| d.bytes());
        if bytes.len() == len {
            Ok(bytes)
        } else {
            Err(TfliteError::Data { index: op.index, op: op.kind, tensor, expected: len, found: bytes.len() })
        }
    }

    /// An int32 bias of `N` values, or zeros if the operator has none.
    fn bias<const N: usize>(&self, op: &Op<'a>, slot: usize) -> Result<[i32; N], TfliteError> {
        let mut bias = [0i32; N];
        self.bias_into(op, slot, &mut bias)?;
        Ok(bias)
    }

    /// An int32 bias of `out.len()` values into `out`, left zero if the operator has none.
    fn bias_into(&self, op: &Op<'a>, slot: usize, out: &mut [i32]) -> Result<(), TfliteError> {
        let n = out.len();
        if let Some(t) = self.input(op, slot)? {
            Self::tensor_type(op, "bias", &t, INT32)?;
            Self::shape(op, "bias", &t, &[n])?;
            let data = self.data(op, "bias", &t, 4 * n)?;
            for (b, chunk) in out.iter_mut().zip(data.chunks_exact(4)) {
                let mut le = [0u8; 4];
                le.copy_from_slice(chunk);
                *b = i32::from_le_bytes(le);
            }
        }
        Ok(())
    }

    /// The layer's input tensor (slot 0): int8, shape `[1, ..shape]`, per-tensor quantization.
    /// After a `Flatten` without a `RESHAPE`, the input keeps the image's shape.
    fn activation_input(&mut self, op: &Op<'a>, shape: &[usize]) -> Result<QuantParams, TfliteError> {
        let t = self.required_input(op, 0)?;
        Self::tensor_type(op, "input", &t, INT8)?;
        match self.unflattened.take() {
            Some(image) => Self::shape(op, "input", &t, &image)?,
            None => Self::shape(op, "input", &t, shape)?,
        }
        Self::per_tensor(op, "input", &t)
    }

    /// The layer's output tensor: int8, shape `shape`, per-tensor quantization.
    fn activation_output(&mut self, op: &Op<'a>, shape: &[usize]) -> Result<QuantParams, TfliteError> {
        let t = self.output(op)?;
        Self::tensor_type(op, "output", &t, INT8)?;
        Self::shape(op, "output", &t, shape)?;
        Self::per_tensor(op, "output", &t)
    }
}

/// Copies int8 weight bytes into a flat array view.
fn fill_i8(dst: &mut [i8], src: &[u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as i8;
    }
}

impl<X, const IN: usize, const OUT: usize, A> TfliteImport<X> for QDense<IN, OUT, A>
where
    X: Int8Tensor,
    A: QActivation,
    Dense<IN, OUT, A>: Layer<X::Float, Out = FVector<OUT>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let op = ops.next(OpKind::FULLY_CONNECTED)?;
        let options = op.op.fully_connected_options();
        let fused = options.and_then(|o| o.fused_activation_function()).unwrap_or(0);
        Operators::option(&op, "fused_activation_function", i64::from(A::FUSED.code()), i64::from(fused))?;
        let format = options.and_then(|o| o.weights_format()).unwrap_or(0);
        Operators::option(&op, "weights_format", 0, i64::from(format))?;

        let input = ops.activation_input(&op, &[1, IN])?;
        let w = ops.required_input(&op, 1)?;
        Operators::shape(&op, "weights", &w, &[OUT, IN])?;
        let scales = Operators::per_channel::<OUT>(&op, &w)?;
        let mut kernel = [[0i8; IN]; OUT];
        fill_i8(kernel.as_flattened_mut(), ops.data(&op, "weights", &w, IN * OUT)?);
        let bias = ops.bias::<OUT>(&op, 2)?;
        let output = ops.activation_output(&op, &[1, OUT])?;

        let mut beta = 1.0;
        if A::SOFTMAX {
            let sm = ops.next(OpKind::SOFTMAX)?;
            beta = sm.op.softmax_options().and_then(|o| o.beta()).unwrap_or(0.0);
            let out = ops.activation_output(&sm, &[1, OUT])?;
            if out != (QuantParams { scale: 1.0 / 256.0, zero_point: -128 })
                || SoftmaxParams::new(beta, output.scale).is_none()
            {
                return Err(Operators::quant_error(&sm, "output", QuantProblem::Softmax));
            }
        }
        Ok(Self::new(kernel, bias, scales, input, output, beta))
    }
}

impl<
    const H: usize,
    const W: usize,
    const CI: usize,
    const CO: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const KW: usize,
    const SW: usize,
    const HO: usize,
    const WO: usize,
> TfliteImport<QImage<H, W, CI>> for QConv2D<CI, CO, K, A, S, P, KW, SW>
where
    Conv2D<CI, CO, K, A, S, P, f32, Bias, KW, SW>: Layer<Image<H, W, CI>, Out = Image<HO, WO, CO>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let op = ops.next(OpKind::CONV_2D)?;
        let o = op.op.conv2d_options().ok_or(TfliteError::Missing { what: "Conv2DOptions" })?;
        Operators::option(&op, "padding", i64::from(P::TFLITE), i64::from(o.padding().unwrap_or(0)))?;
        Operators::option(&op, "stride_w", SW as i64, i64::from(o.stride_w().unwrap_or(0)))?;
        Operators::option(&op, "stride_h", S as i64, i64::from(o.stride_h().unwrap_or(0)))?;
        Operators::option(&op, "dilation_w_factor", 1, i64::from(o.dilation_w_factor().unwrap_or(1)))?;
        Operators::option(&op, "dilation_h_factor", 1, i64::from(o.dilation_h_factor().unwrap_or(1)))?;
        let fused = o.fused_activation_function().unwrap_or(0);
        Operators::option(&op, "fused_activation_function", i64::from(A::FUSED.code()), i64::from(fused))?;

        let input = ops.activation_input(&op, &[1, H, W, CI])?;
        let w = ops.required_input(&op, 1)?;
        Operators::shape(&op, "weights", &w, &[CO, K, KW, CI])?;
        let scales = Operators::per_channel::<CO>(&op, &w)?;
        let mut kernel = [[[[0i8; CI]; KW]; K]; CO];
        let flat = kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        fill_i8(flat, ops.data(&op, "weights", &w, CO * K * KW * CI)?);
        let bias = ops.bias::<CO>(&op, 2)?;
        let output = ops.activation_output(&op, &[1, HO, WO, CO])?;
        Ok(Self::new(kernel, bias, scales, input, output))
    }
}

impl<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    A: ConvActivation,
    const S: usize,
    P: QPadding,
    const M: usize,
    const KW: usize,
    const SW: usize,
    const HO: usize,
    const WO: usize,
    const CM: usize,
> TfliteImport<QImage<H, W, C>> for QDepthwiseConv2D<C, K, A, S, P, M, KW, SW>
where
    DepthwiseConv2D<C, K, A, S, P, f32, Bias, M, KW, SW>: Layer<Image<H, W, C>, Out = Image<HO, WO, CM>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let op = ops.next(OpKind::DEPTHWISE_CONV_2D)?;
        let o = op.op.depthwise_conv2d_options().ok_or(TfliteError::Missing { what: "DepthwiseConv2DOptions" })?;
        Operators::option(&op, "padding", i64::from(P::TFLITE), i64::from(o.padding().unwrap_or(0)))?;
        Operators::option(&op, "stride_w", SW as i64, i64::from(o.stride_w().unwrap_or(0)))?;
        Operators::option(&op, "stride_h", S as i64, i64::from(o.stride_h().unwrap_or(0)))?;
        Operators::option(&op, "depth_multiplier", M as i64, i64::from(o.depth_multiplier().unwrap_or(0)))?;
        Operators::option(&op, "dilation_w_factor", 1, i64::from(o.dilation_w_factor().unwrap_or(1)))?;
        Operators::option(&op, "dilation_h_factor", 1, i64::from(o.dilation_h_factor().unwrap_or(1)))?;
        let fused = o.fused_activation_function().unwrap_or(0);
        Operators::option(&op, "fused_activation_function", i64::from(A::FUSED.code()), i64::from(fused))?;

        let input = ops.activation_input(&op, &[1, H, W, C])?;
        let w = ops.required_input(&op, 1)?;
        Operators::shape(&op, "weights", &w, &[1, K, KW, C * M])?;
        let mut scales = [[0f32; M]; C];
        Operators::per_channel_into(&op, &w, 3, scales.as_flattened_mut())?;
        let mut kernel = [[[[0i8; M]; C]; KW]; K];
        let flat = kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut();
        fill_i8(flat, ops.data(&op, "weights", &w, K * KW * C * M)?);
        let mut bias = [[0i32; M]; C];
        ops.bias_into(&op, 2, bias.as_flattened_mut())?;
        let output = ops.activation_output(&op, &[1, HO, WO, CM])?;
        Ok(Self::new(kernel, bias, scales, input, output))
    }
}

/// Reads a `MAX_POOL_2D` or `AVERAGE_POOL_2D` of a `P × PW` window, strides `(P, PW)`, `VALID`,
/// and returns the quantization its input and output share.
fn import_pool<const P: usize, const PW: usize>(
    ops: &mut Operators<'_>,
    kind: OpKind,
    input_shape: &[usize],
    output_shape: &[usize],
) -> Result<QuantParams, TfliteError> {
    let op = ops.next(kind)?;
    let o = op.op.pool2d_options().ok_or(TfliteError::Missing { what: "Pool2DOptions" })?;
    Operators::option(&op, "padding", VALID, i64::from(o.padding().unwrap_or(0)))?;
    Operators::option(&op, "stride_w", PW as i64, i64::from(o.stride_w().unwrap_or(0)))?;
    Operators::option(&op, "stride_h", P as i64, i64::from(o.stride_h().unwrap_or(0)))?;
    Operators::option(&op, "filter_width", PW as i64, i64::from(o.filter_width().unwrap_or(0)))?;
    Operators::option(&op, "filter_height", P as i64, i64::from(o.filter_height().unwrap_or(0)))?;
    Operators::option(&op, "fused_activation_function", 0, i64::from(o.fused_activation_function().unwrap_or(0)))?;
    let input = ops.activation_input(&op, input_shape)?;
    let output = ops.activation_output(&op, output_shape)?;
    if input != output {
        return Err(Operators::quant_error(&op, "output", QuantProblem::Mismatch));
    }
    Ok(input)
}

impl<const H: usize, const W: usize, const C: usize, const P: usize, const PW: usize, const HO: usize, const WO: usize>
    TfliteImport<QImage<H, W, C>> for QMaxPool2D<P, PW>
where
    MaxPool2D<P, PW>: Layer<Image<H, W, C>, Out = Image<HO, WO, C>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let params = import_pool::<P, PW>(ops, OpKind::MAX_POOL_2D, &[1, H, W, C], &[1, HO, WO, C])?;
        Ok(Self { params })
    }
}

impl<const H: usize, const W: usize, const C: usize, const P: usize, const PW: usize, const HO: usize, const WO: usize>
    TfliteImport<QImage<H, W, C>> for QAvgPool2D<P, PW>
where
    AvgPool2D<P, PW>: Layer<Image<H, W, C>, Out = Image<HO, WO, C>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let params = import_pool::<P, PW>(ops, OpKind::AVERAGE_POOL_2D, &[1, H, W, C], &[1, HO, WO, C])?;
        Ok(Self { params })
    }
}

impl<const H: usize, const W: usize, const C: usize> TfliteImport<QImage<H, W, C>> for QGlobalAvgPool2D
where
    GlobalAvgPool2D: Layer<Image<H, W, C>, Out = FVector<C>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let op = ops.next(OpKind::MEAN)?;
        let keep_dims = op.op.reducer_options().and_then(|o| o.keep_dims()).unwrap_or(false);
        Operators::option(&op, "keep_dims", 0, i64::from(keep_dims))?;
        let input = ops.activation_input(&op, &[1, H, W, C])?;
        let axes = ops.required_input(&op, 1)?;
        Operators::tensor_type(&op, "axes", &axes, INT32)?;
        let data = ops.data(&op, "axes", &axes, 8)?;
        let axis = |i: usize| {
            let mut le = [0u8; 4];
            data.get(4 * i..4 * i + 4).map_or(-1, |b| {
                le.copy_from_slice(b);
                i64::from(i32::from_le_bytes(le))
            })
        };
        let (a, b) = (axis(0), axis(1));
        if !matches!((a, b), (1, 2) | (2, 1)) {
            return Err(TfliteError::Option {
                index: op.index,
                op: op.kind,
                option: "axes",
                expected: 12,
                found: a * 10 + b,
            });
        }
        let output = ops.activation_output(&op, &[1, C])?;
        Ok(Self::new(input, output))
    }
}

impl<'a> Operators<'a> {
    /// A `Flatten` the converter left out: the next operator is a `FULLY_CONNECTED` that reads
    /// the image tensor (shape `image`) directly. Returns that tensor's quantization, checked
    /// as the `FULLY_CONNECTED`'s input (errors name it), and leaves the operator unread.
    fn elided_reshape(&mut self, image: [usize; 4]) -> Result<QuantParams, TfliteError> {
        let index = self.next;
        let op = at(&self.ops, index).ok_or(TfliteError::MissingOperator { index, expected: OpKind::RESHAPE })?;
        let kind = self.kind_of(&op);
        if kind != OpKind::FULLY_CONNECTED {
            return Err(TfliteError::WrongOperator { index, expected: OpKind::RESHAPE, found: kind });
        }
        let op = Op { index, kind, op };
        let t = self.tensor_at(self.current)?;
        Self::shape(&op, "input", &t, &image)?;
        let params = Self::per_tensor(&op, "input", &t)?;
        self.unflattened = Some(image);
        Ok(params)
    }

    /// The kind of the next operator, if there is one.
    fn peek(&self) -> Option<OpKind> {
        at(&self.ops, self.next).map(|op| self.kind_of(&op))
    }
}

/// A `RESHAPE` to `[1, H·W·C]`; or none, when the next operator is a `FULLY_CONNECTED` (the
/// converter drops a reshape whose only reader flattens anyway, as DS-CNN's after its pool).
impl<const H: usize, const W: usize, const C: usize> TfliteImport<QImage<H, W, C>> for QFlatten
where
    Flatten: Layer<Image<H, W, C>, Out = Flat<H, W, C>>,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        if ops.peek() == Some(OpKind::FULLY_CONNECTED) {
            return Ok(Self { params: ops.elided_reshape([1, H, W, C])? });
        }
        let op = ops.next(OpKind::RESHAPE)?;
        let input = ops.activation_input(&op, &[1, H, W, C])?;
        let output = ops.activation_output(&op, &[1, H * W * C])?;
        if input != output {
            return Err(Operators::quant_error(&op, "output", QuantProblem::Mismatch));
        }
        Ok(Self { params: input })
    }
}

impl<'a> Operators<'a> {
    /// The quantization of the tensor the previous layer wrote (checked there).
    fn current_params(&self) -> Result<QuantParams, TfliteError> {
        let t = self.tensor_at(self.current)?;
        let q = t.quantization();
        let scale = q.and_then(|q| q.scale()).and_then(|s| at(&s, 0));
        let zero = q.and_then(|q| q.zero_point()).and_then(|z| at(&z, 0));
        match (scale, zero) {
            (Some(scale), Some(zero)) if scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero) => {
                Ok(QuantParams { scale, zero_point: zero as i32 })
            }
            _ => Err(TfliteError::Missing { what: "quantization of the residual block's input" }),
        }
    }

    /// The next operator, which must be `expected`; its inputs are checked by the caller.
    fn next_any_input(&mut self, expected: OpKind) -> Result<Op<'a>, TfliteError> {
        let index = self.next;
        let op = at(&self.ops, index).ok_or(TfliteError::MissingOperator { index, expected })?;
        let kind = self.kind_of(&op);
        if kind != expected {
            return Err(TfliteError::WrongOperator { index, expected, found: kind });
        }
        self.next += 1;
        Ok(Op { index, kind, op })
    }
}

/// The identity shortcut: no operator; the `ADD` reads the block's input.
impl<X: Int8Tensor> TfliteImport<X> for QSkip {
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        Ok(Self { params: ops.current_params()? })
    }
}

/// The branch's operators (reading the block's input), the shortcut's (reading it too), then
/// an `ADD` of the two outputs, in either order, with the fused activation `A`; both inputs
/// and the output have the block's output shape.
impl<X, F, S, A, Y> TfliteImport<X> for QResidual<F, S, A>
where
    X: Int8Tensor,
    F: TfliteImport<X> + QLayer<X, Out = Y>,
    S: TfliteImport<X> + QLayer<X, Out = Y>,
    Y: Int8Tensor,
    A: ConvActivation,
{
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        let block_input = ops.current;
        let branch = F::import(ops)?;
        let branch_out = ops.current;
        ops.current = block_input;
        let shortcut = S::import(ops)?;
        let shortcut_out = ops.current;

        let op = ops.next_any_input(OpKind::ADD)?;
        let o = op.op.add_options().ok_or(TfliteError::Missing { what: "AddOptions" })?;
        let fused = o.fused_activation_function().unwrap_or(0);
        Operators::option(&op, "fused_activation_function", i64::from(A::FUSED.code()), i64::from(fused))?;
        let inputs = op.op.inputs();
        let (a, b) = (inputs.and_then(|v| at(&v, 0)), inputs.and_then(|v| at(&v, 1)));
        let (Some(a), Some(b)) = (a, b) else {
            return Err(TfliteError::Missing { what: "operator input" });
        };
        if inputs.map_or(0, |v| v.len()) != 2 {
            return Err(TfliteError::Missing { what: "two ADD inputs" });
        }
        // The converter lists the shortcut first (`Add()([x, y])`); the sum is symmetric.
        let expected_second = if a == shortcut_out { branch_out } else { shortcut_out };
        if a != shortcut_out && a != branch_out {
            return Err(TfliteError::Wiring { index: op.index, op: op.kind, expected: shortcut_out, found: a });
        }
        if b != expected_second {
            return Err(TfliteError::Wiring { index: op.index, op: op.kind, expected: expected_second, found: b });
        }
        let mut shape = [1usize; 4];
        let dims = <Y::Float as crate::Tensor>::SHAPE;
        let len = dims.len().min(3) + 1;
        for (d, &n) in shape.iter_mut().skip(1).zip(dims) {
            *d = n;
        }
        let shape = shape.get(..len).unwrap_or(&[]);
        let first = ops.required_input(&op, 0)?;
        let second = ops.required_input(&op, 1)?;
        Operators::shape(&op, "input 1", &first, shape)?;
        Operators::shape(&op, "input 2", &second, shape)?;
        let p1 = Operators::per_tensor(&op, "input 1", &first)?;
        let p2 = Operators::per_tensor(&op, "input 2", &second)?;
        let (shortcut_params, branch_params) = if a == shortcut_out { (p1, p2) } else { (p2, p1) };
        let output = ops.activation_output(&op, shape)?;
        Ok(QResidual::new(branch, shortcut, shortcut_params, branch_params, output))
    }
}

impl<X: Int8Tensor, L: TfliteImport<X>> TfliteImport<X> for (L,) {
    fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
        Ok((L::import(ops)?,))
    }
}

/// `TfliteImport` for one tuple arity ≥ 2, with the same entries as the `QLayer` tuples.
macro_rules! import_tuple {
    (first = ($L0:ident, $Y0:ident); middle = [$(($In:ident, $L:ident, $Y:ident)),*]; last = ($InZ:ident, $Z:ident, $YZ:ident);) => {
        impl<X: Int8Tensor, $L0, $Y0, $($L, $Y,)* $Z, $YZ> TfliteImport<X> for ($L0, $($L,)* $Z,)
        where
            $L0: TfliteImport<X> + QLayer<X, Out = $Y0>,
            $Y0: Int8Tensor,
            $($L: TfliteImport<$In> + QLayer<$In, Out = $Y>, $Y: Int8Tensor,)*
            $Z: TfliteImport<$InZ> + QLayer<$InZ, Out = $YZ>,
            $YZ: Int8Tensor,
        {
            fn import(ops: &mut Operators<'_>) -> Result<Self, TfliteError> {
                Ok(($L0::import(ops)?, $($L::import(ops)?,)* $Z::import(ops)?,))
            }
        }
    };
}

import_tuple! { first = (L0, Y0); middle = []; last = (Y0, L1, Y1); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1)]; last = (Y1, L2, Y2); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2)]; last = (Y2, L3, Y3); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3)]; last = (Y3, L4, Y4); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4)]; last = (Y4, L5, Y5); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5)]; last = (Y5, L6, Y6); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5), (Y5, L6, Y6)]; last = (Y6, L7, Y7); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5), (Y5, L6, Y6), (Y6, L7, Y7)]; last = (Y7, L8, Y8); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5), (Y5, L6, Y6), (Y6, L7, Y7), (Y7, L8, Y8)]; last = (Y8, L9, Y9); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5), (Y5, L6, Y6), (Y6, L7, Y7), (Y7, L8, Y8), (Y8, L9, Y9)]; last = (Y9, L10, Y10); }
import_tuple! { first = (L0, Y0); middle = [(Y0, L1, Y1), (Y1, L2, Y2), (Y2, L3, Y3), (Y3, L4, Y4), (Y4, L5, Y5), (Y5, L6, Y6), (Y6, L7, Y7), (Y7, L8, Y8), (Y8, L9, Y9), (Y9, L10, Y10)]; last = (Y10, L11, Y11); }
