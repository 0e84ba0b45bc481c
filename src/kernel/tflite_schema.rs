//! Accessors for the parts of TFLite's flatbuffer schema (`schema.fbs`, file identifier `TFL3`)
//! that typed-nn reads, on top of the `flatbuffers` runtime and its verifier.
//!
//! Each table is declared once, by [`table!`], as a list of `name: vtable offset => type`
//! entries taken from the schema's published field numbers (field `n` lives at vtable offset
//! `4 + 2n`). The one list produces both the table's `Verifiable` implementation and its
//! accessors, so every field is read with exactly the type it was verified with: that is the
//! safety argument of the `unsafe` reads below. A buffer reaches these accessors only through
//! [`verified_model`], which runs `flatbuffers`' verifier over the whole file first.

use flatbuffers::{Follow, ForwardsUOffset, InvalidFlatbuffer, Table, Vector, Verifiable, Verifier, VerifierOptions};

/// Declares a table: a `Copy` wrapper around `flatbuffers::Table`, `Follow` and `Verifiable`
/// implementations, and one accessor per field, each returning `None` when the field is absent.
macro_rules! table {
    ($(#[$doc:meta])* $name:ident<$lt:lifetime> { $($(#[$fdoc:meta])* $field:ident: $voff:literal => $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name<$lt>(Table<$lt>);

        impl<$lt> Follow<$lt> for $name<$lt> {
            type Inner = Self;
            #[inline]
            unsafe fn follow(buf: &$lt [u8], loc: usize) -> Self {
                // SAFETY: `Follow::follow`'s contract: `loc` is the position of a table of this
                // type in `buf`, which `flatbuffers` established by verification (a root or a
                // field verified as this table) before following it.
                Self(unsafe { Table::new(buf, loc) })
            }
        }

        impl<$lt> Verifiable for $name<$lt> {
            #[inline]
            fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
                v.visit_table(pos)?
                    $(.visit_field::<$ty>(stringify!($field), $voff, false)?)*
                    .finish();
                Ok(())
            }
        }

        #[allow(dead_code)]
        impl<$lt> $name<$lt> {
            $(
                $(#[$fdoc])*
                #[inline]
                pub(crate) fn $field(&self) -> Option<<$ty as Follow<$lt>>::Inner> {
                    // SAFETY: this table was verified by `run_verifier` above, which checked
                    // field `$voff` as `$ty`, the very type read here.
                    unsafe { self.0.get::<$ty>($voff, None) }
                }
            )*
        }
    };
}

/// A vector of tables.
type Tables<'a, T> = ForwardsUOffset<Vector<'a, ForwardsUOffset<T>>>;
/// A vector of scalars.
type Scalars<'a, T> = ForwardsUOffset<Vector<'a, T>>;

table! {
    /// `table Model`: the root.
    Model<'a> {
        /// Field 0: schema version (3).
        version: 4 => u32,
        /// Field 1: `[OperatorCode]`.
        operator_codes: 6 => Tables<'a, OperatorCode<'a>>,
        /// Field 2: `[SubGraph]`; the first is the model.
        subgraphs: 8 => Tables<'a, SubGraph<'a>>,
        /// Field 4: `[Buffer]`; buffer 0 is the empty sentinel.
        buffers: 12 => Tables<'a, Buffer<'a>>,
    }
}

table! {
    /// `table OperatorCode`.
    OperatorCode<'a> {
        /// Field 0: `deprecated_builtin_code: byte` (codes below 127).
        deprecated_builtin_code: 4 => i8,
        /// Field 2: `version: int`.
        version: 8 => i32,
        /// Field 3: `builtin_code: BuiltinOperator` (int32).
        builtin_code: 10 => i32,
    }
}

table! {
    /// `table SubGraph`.
    SubGraph<'a> {
        /// Field 0: `[Tensor]`.
        tensors: 4 => Tables<'a, Tensor<'a>>,
        /// Field 1: input tensor indices.
        inputs: 6 => Scalars<'a, i32>,
        /// Field 2: output tensor indices.
        outputs: 8 => Scalars<'a, i32>,
        /// Field 3: `[Operator]` in execution order.
        operators: 10 => Tables<'a, Operator<'a>>,
    }
}

table! {
    /// `table Tensor`.
    Tensor<'a> {
        /// Field 0: `shape: [int]`.
        shape: 4 => Scalars<'a, i32>,
        /// Field 1: `type: TensorType` (byte: FLOAT32 = 0, INT32 = 2, INT8 = 9, ...).
        tensor_type: 6 => i8,
        /// Field 2: `buffer: uint`, an index into `Model.buffers` (0: no data).
        buffer: 8 => u32,
        /// Field 3: `name: string`.
        name: 10 => ForwardsUOffset<&'a str>,
        /// Field 4: `quantization: QuantizationParameters`.
        quantization: 12 => ForwardsUOffset<QuantizationParameters<'a>>,
    }
}

table! {
    /// `table QuantizationParameters`.
    QuantizationParameters<'a> {
        /// Field 2: `scale: [float]`.
        scale: 8 => Scalars<'a, f32>,
        /// Field 3: `zero_point: [long]`.
        zero_point: 10 => Scalars<'a, i64>,
        /// Field 6: `quantized_dimension: int` (fields 4 and 5 are the `details` union).
        quantized_dimension: 16 => i32,
    }
}

table! {
    /// `table Buffer`.
    Buffer<'a> {
        /// Field 0: `data: [ubyte]`.
        data: 4 => Scalars<'a, u8>,
        /// Field 1: `offset: ulong` (data outside the flatbuffer, for files over 2 GB).
        offset: 6 => u64,
        /// Field 2: `size: ulong`.
        size: 8 => u64,
    }
}

table! {
    /// `table Conv2DOptions` (union type 1).
    Conv2DOptions<'a> {
        /// Field 0: `padding: Padding` (SAME = 0, VALID = 1).
        padding: 4 => i8,
        /// Field 1: `stride_w: int`.
        stride_w: 6 => i32,
        /// Field 2: `stride_h: int`.
        stride_h: 8 => i32,
        /// Field 3: `fused_activation_function` (NONE = 0, RELU = 1, RELU6 = 3, ...).
        fused_activation_function: 10 => i8,
        /// Field 4: `dilation_w_factor: int = 1`.
        dilation_w_factor: 12 => i32,
        /// Field 5: `dilation_h_factor: int = 1`.
        dilation_h_factor: 14 => i32,
    }
}

table! {
    /// `table DepthwiseConv2DOptions` (union type 2).
    DepthwiseConv2DOptions<'a> {
        /// Field 0: `padding: Padding` (SAME = 0, VALID = 1).
        padding: 4 => i8,
        /// Field 1: `stride_w: int`.
        stride_w: 6 => i32,
        /// Field 2: `stride_h: int`.
        stride_h: 8 => i32,
        /// Field 3: `depth_multiplier: int`.
        depth_multiplier: 10 => i32,
        /// Field 4: `fused_activation_function`.
        fused_activation_function: 12 => i8,
        /// Field 5: `dilation_w_factor: int = 1`.
        dilation_w_factor: 14 => i32,
        /// Field 6: `dilation_h_factor: int = 1`.
        dilation_h_factor: 16 => i32,
    }
}

table! {
    /// `table Pool2DOptions` (union type 5).
    Pool2DOptions<'a> {
        /// Field 0: `padding`.
        padding: 4 => i8,
        /// Field 1: `stride_w`.
        stride_w: 6 => i32,
        /// Field 2: `stride_h`.
        stride_h: 8 => i32,
        /// Field 3: `filter_width`.
        filter_width: 10 => i32,
        /// Field 4: `filter_height`.
        filter_height: 12 => i32,
        /// Field 5: `fused_activation_function`.
        fused_activation_function: 14 => i8,
    }
}

table! {
    /// `table FullyConnectedOptions` (union type 8).
    FullyConnectedOptions<'a> {
        /// Field 0: `fused_activation_function`.
        fused_activation_function: 4 => i8,
        /// Field 1: `weights_format` (DEFAULT = 0).
        weights_format: 6 => i8,
        /// Field 2: `keep_num_dims: bool`.
        keep_num_dims: 8 => bool,
    }
}

table! {
    /// `table AddOptions` (union type 11).
    AddOptions<'a> {
        /// Field 0: `fused_activation_function`.
        fused_activation_function: 4 => i8,
        /// Field 1: `pot_scale_int16: bool = true` (int16 only).
        pot_scale_int16: 6 => bool,
    }
}

table! {
    /// `table SoftmaxOptions` (union type 9).
    SoftmaxOptions<'a> {
        /// Field 0: `beta: float`.
        beta: 4 => f32,
    }
}

table! {
    /// `table ReducerOptions` (union type 27).
    ReducerOptions<'a> {
        /// Field 0: `keep_dims: bool`.
        keep_dims: 4 => bool,
    }
}

/// `union BuiltinOptions` codes of the option tables typed-nn reads.
pub(crate) mod options {
    /// `Conv2DOptions`.
    pub(crate) const CONV_2D: u8 = 1;
    /// `DepthwiseConv2DOptions`.
    pub(crate) const DEPTHWISE_CONV_2D: u8 = 2;
    /// `Pool2DOptions`.
    pub(crate) const POOL_2D: u8 = 5;
    /// `FullyConnectedOptions`.
    pub(crate) const FULLY_CONNECTED: u8 = 8;
    /// `SoftmaxOptions`.
    pub(crate) const SOFTMAX: u8 = 9;
    /// `AddOptions`.
    pub(crate) const ADD: u8 = 11;
    /// `ReducerOptions`.
    pub(crate) const REDUCER: u8 = 27;
}

/// `table Operator`: declared by hand because of its `builtin_options` union (fields 3 and 4).
#[derive(Clone, Copy)]
pub(crate) struct Operator<'a>(Table<'a>);

impl<'a> Follow<'a> for Operator<'a> {
    type Inner = Self;
    #[inline]
    unsafe fn follow(buf: &'a [u8], loc: usize) -> Self {
        // SAFETY: as for the tables declared by `table!`: `loc` is a verified table position.
        Self(unsafe { Table::new(buf, loc) })
    }
}

/// Vtable offsets of `Operator`'s fields.
const OP_OPCODE_INDEX: u16 = 4; // field 0: uint
const OP_INPUTS: u16 = 6; // field 1: [int]
const OP_OUTPUTS: u16 = 8; // field 2: [int]
const OP_OPTIONS_TYPE: u16 = 10; // field 3: BuiltinOptions type (ubyte)
const OP_OPTIONS: u16 = 12; // field 4: BuiltinOptions value (table)

impl Verifiable for Operator<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u32>("opcode_index", OP_OPCODE_INDEX, false)?
            .visit_field::<Scalars<'_, i32>>("inputs", OP_INPUTS, false)?
            .visit_field::<Scalars<'_, i32>>("outputs", OP_OUTPUTS, false)?
            .visit_union::<u8, _>(
                "builtin_options_type",
                OP_OPTIONS_TYPE,
                "builtin_options",
                OP_OPTIONS,
                false,
                |key, v, pos| {
                    match key {
                        options::CONV_2D => {
                            v.verify_union_variant::<ForwardsUOffset<Conv2DOptions>>("Conv2DOptions", pos)
                        }
                        options::DEPTHWISE_CONV_2D => v
                            .verify_union_variant::<ForwardsUOffset<DepthwiseConv2DOptions>>(
                                "DepthwiseConv2DOptions",
                                pos,
                            ),
                        options::POOL_2D => {
                            v.verify_union_variant::<ForwardsUOffset<Pool2DOptions>>("Pool2DOptions", pos)
                        }
                        options::FULLY_CONNECTED => v.verify_union_variant::<ForwardsUOffset<FullyConnectedOptions>>(
                            "FullyConnectedOptions",
                            pos,
                        ),
                        options::SOFTMAX => {
                            v.verify_union_variant::<ForwardsUOffset<SoftmaxOptions>>("SoftmaxOptions", pos)
                        }
                        options::ADD => v.verify_union_variant::<ForwardsUOffset<AddOptions>>("AddOptions", pos),
                        options::REDUCER => {
                            v.verify_union_variant::<ForwardsUOffset<ReducerOptions>>("ReducerOptions", pos)
                        }
                        // Options typed-nn never reads: not followed, so not verified.
                        _ => Ok(()),
                    }
                },
            )?
            .finish();
        Ok(())
    }
}

impl<'a> Operator<'a> {
    /// Field 0: index into `Model.operator_codes`.
    pub(crate) fn opcode_index(&self) -> Option<u32> {
        // SAFETY: verified as `u32` by `run_verifier`.
        unsafe { self.0.get::<u32>(OP_OPCODE_INDEX, None) }
    }

    /// Field 1: input tensor indices (−1: optional input absent).
    pub(crate) fn inputs(&self) -> Option<Vector<'a, i32>> {
        // SAFETY: verified as a vector of `i32` by `run_verifier`.
        unsafe { self.0.get::<Scalars<'a, i32>>(OP_INPUTS, None) }
    }

    /// Field 2: output tensor indices.
    pub(crate) fn outputs(&self) -> Option<Vector<'a, i32>> {
        // SAFETY: verified as a vector of `i32` by `run_verifier`.
        unsafe { self.0.get::<Scalars<'a, i32>>(OP_OUTPUTS, None) }
    }

    /// Field 3: the `BuiltinOptions` union's type code (0: none).
    pub(crate) fn options_type(&self) -> u8 {
        // SAFETY: verified as `u8` (the union key) by `run_verifier`.
        unsafe { self.0.get::<u8>(OP_OPTIONS_TYPE, Some(0)) }.unwrap_or(0)
    }

    /// Field 4 as a table of type `T`, if the union holds the code `code` (verified as `T`).
    fn options_as<T: Follow<'a, Inner = T> + 'a>(&self, code: u8) -> Option<T> {
        if self.options_type() != code {
            return None;
        }
        // SAFETY: `run_verifier` verified field 4 as the table type matching the union key, and
        // the key is `code`, which the callers below pair with that same type.
        unsafe { self.0.get::<ForwardsUOffset<T>>(OP_OPTIONS, None) }
    }

    /// The options if they are `Conv2DOptions`.
    pub(crate) fn conv2d_options(&self) -> Option<Conv2DOptions<'a>> {
        self.options_as(options::CONV_2D)
    }

    /// The options if they are `DepthwiseConv2DOptions`.
    pub(crate) fn depthwise_conv2d_options(&self) -> Option<DepthwiseConv2DOptions<'a>> {
        self.options_as(options::DEPTHWISE_CONV_2D)
    }

    /// The options if they are `Pool2DOptions`.
    pub(crate) fn pool2d_options(&self) -> Option<Pool2DOptions<'a>> {
        self.options_as(options::POOL_2D)
    }

    /// The options if they are `FullyConnectedOptions`.
    pub(crate) fn fully_connected_options(&self) -> Option<FullyConnectedOptions<'a>> {
        self.options_as(options::FULLY_CONNECTED)
    }

    /// The options if they are `SoftmaxOptions`.
    pub(crate) fn softmax_options(&self) -> Option<SoftmaxOptions<'a>> {
        self.options_as(options::SOFTMAX)
    }

    /// The options if they are `AddOptions`.
    pub(crate) fn add_options(&self) -> Option<AddOptions<'a>> {
        self.options_as(options::ADD)
    }

    /// The options if they are `ReducerOptions`.
    pub(crate) fn reducer_options(&self) -> Option<ReducerOptions<'a>> {
        self.options_as(options::REDUCER)
    }
}

/// The model in `bytes`, after `flatbuffers`' verifier has checked every offset, vector and
/// string that the accessors above can reach (bounded depth and table count, so hostile input
/// cannot make it loop).
pub(crate) fn verified_model(bytes: &[u8]) -> Result<Model<'_>, InvalidFlatbuffer> {
    let opts = VerifierOptions { max_depth: 64, max_tables: 1_000_000, ..Default::default() };
    flatbuffers::root_with_opts::<Model>(&opts, bytes)
}
