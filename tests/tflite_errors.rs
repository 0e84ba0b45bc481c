//! Bad `.tflite` input gives a typed error naming the operator, never a panic. The bad files
//! are written by `scripts/tflite_error_fixtures.py`, each one change away from a good fixture.
#![cfg(feature = "tflite")]

use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QVector};
use typed_nn::tflite::{Dims, FromTflite, OpKind, QuantProblem, TfliteError};

type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load_mlp(bytes: &[u8]) -> Result<Int8<DigitsMlp>, TfliteError> {
    Int8::<DigitsMlp>::from_tflite::<QVector<64>>(bytes)
}

fn load_cnn(bytes: &[u8]) -> Result<Int8<DigitsCnn>, TfliteError> {
    Int8::<DigitsCnn>::from_tflite::<QImage<8, 8, 1>>(bytes)
}

#[test]
fn every_truncation_of_a_model_is_an_error() {
    let bytes = fixture("digits_mlp.tflite");
    for len in 0..bytes.len() {
        let err = load_mlp(&bytes[..len]).err().unwrap_or_else(|| panic!("{len} bytes loaded"));
        if len < 8 {
            assert_eq!(err, TfliteError::NotTflite, "{len} bytes");
        }
    }
    assert!(matches!(load_mlp(&bytes[..bytes.len() / 2]), Err(TfliteError::Malformed(_))));
    assert!(load_mlp(&bytes).is_ok());
}

#[test]
fn bytes_that_are_not_a_flatbuffer_are_refused() {
    assert_eq!(load_mlp(b"").unwrap_err(), TfliteError::NotTflite);
    assert_eq!(load_mlp(&fixture("README.md")).unwrap_err(), TfliteError::NotTflite);
    // The identifier alone does not make a flatbuffer: the root offset points nowhere.
    let mut fake = vec![0xffu8; 64];
    fake[4..8].copy_from_slice(b"TFL3");
    assert!(matches!(load_mlp(&fake), Err(TfliteError::Malformed(_))));
}

#[test]
fn corrupting_any_byte_never_panics() {
    // Every byte of the model set to 0xff in turn: an error or (for bytes in weights) a model.
    let bytes = fixture("digits_cnn.tflite");
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] = 0xff;
        let _ = load_cnn(&b);
        b[i] = 0x00;
        let _ = load_cnn(&b);
    }
}

#[test]
fn a_float_model_is_refused_at_its_input() {
    let err = load_mlp(&fixture("bad/float_mlp.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::NotInt8 { tensor: "model input", found: 0 });
    assert!(err.to_string().contains("not int8"), "{err}");
}

#[test]
fn an_unsupported_operator_is_named_with_its_index() {
    // Dense(32, sigmoid): FULLY_CONNECTED then LOGISTIC, which has no int8 layer in typed-nn.
    type Linear = (Dense<64, 32>, Dense<32, 10, Softmax>);
    let err = Int8::<Linear>::from_tflite::<QVector<64>>(&fixture("bad/sigmoid_mlp.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::WrongOperator { index: 1, expected: OpKind::FULLY_CONNECTED, found: OpKind(14) });
    assert_eq!(err.to_string(), "operator 1 is LOGISTIC, but the type expects FULLY_CONNECTED there");
    // The relu type sees the difference at operator 0 already: its fused activation.
    let err = load_mlp(&fixture("bad/sigmoid_mlp.tflite")).unwrap_err();
    assert!(
        matches!(err, TfliteError::Option { index: 0, option: "fused_activation_function", expected: 1, found: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn a_per_tensor_weight_scale_where_per_channel_is_expected_is_refused() {
    let err = load_mlp(&fixture("bad/per_tensor_weights.tflite")).unwrap_err();
    let problem = QuantProblem::PerTensorWherePerChannelExpected { channels: 32 };
    assert_eq!(err, TfliteError::Quantization { index: 0, op: OpKind::FULLY_CONNECTED, tensor: "weights", problem });
}

#[test]
fn per_channel_scales_on_an_activation_are_refused() {
    let err = load_mlp(&fixture("bad/per_channel_output.tflite")).unwrap_err();
    let problem = QuantProblem::PerChannelWherePerTensorExpected { scales: 2 };
    assert_eq!(err, TfliteError::Quantization { index: 0, op: OpKind::FULLY_CONNECTED, tensor: "output", problem });
}

#[test]
fn zero_and_negative_scales_are_refused() {
    let err = load_mlp(&fixture("bad/zero_scale.tflite")).unwrap_err();
    let problem = QuantProblem::Scale(0.0);
    assert_eq!(err, TfliteError::Quantization { index: 0, op: OpKind::FULLY_CONNECTED, tensor: "input", problem });
    let err = load_mlp(&fixture("bad/negative_scale.tflite")).unwrap_err();
    assert!(
        matches!(err, TfliteError::Quantization { index: 0, tensor: "weights", problem: QuantProblem::Scale(s), .. } if s < 0.0),
        "{err:?}"
    );
}

#[test]
fn a_stride_that_differs_from_the_type_names_the_option() {
    let err = load_cnn(&fixture("bad/conv_stride.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::Option { index: 0, op: OpKind::CONV_2D, option: "stride_w", expected: 1, found: 2 });
}

#[test]
fn another_architecture_names_the_operator_and_both_shapes() {
    // The CNN file read as a CNN with 8 filters.
    type Wider = (Conv2D<1, 8, 3, Relu>, MaxPool2D<2>, Flatten, Dense<72, 10, Softmax>);
    let err = Int8::<Wider>::from_tflite::<QImage<8, 8, 1>>(&fixture("digits_cnn.tflite")).unwrap_err();
    let expected = Dims::new([8, 3, 3, 1]);
    let found = Dims::new([4, 3, 3, 1]);
    assert_eq!(err, TfliteError::Shape { index: 0, op: OpKind::CONV_2D, tensor: "weights", expected, found });
    assert_eq!(err.to_string(), "operator 0 (CONV_2D): weights has shape [4, 3, 3, 1], the type expects [8, 3, 3, 1]");
    // An MLP file read as a CNN: the operator kind differs at index 0.
    let err = load_cnn(&fixture("digits_mlp.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::WrongOperator { index: 0, expected: OpKind::CONV_2D, found: OpKind::FULLY_CONNECTED });
    // A model with fewer layers than the file: the extra operator is named.
    type Short = (Dense<64, 32, Relu>,);
    let err = Int8::<Short>::from_tflite::<QVector<64>>(&fixture("digits_mlp.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::ExtraOperator { index: 1, found: OpKind::FULLY_CONNECTED });
    // A wrong input image size: the input shape of operator 0.
    let err = Int8::<DigitsCnn>::from_tflite::<QImage<9, 9, 1>>(&fixture("digits_cnn.tflite"));
    assert!(matches!(err, Err(TfliteError::Shape { index: 0, tensor: "input", .. })), "{err:?}");
}

/// DS-CNN as the converter writes it (tests/tflite_int8.rs), with a changeable stem, first
/// depthwise layer and pool: each wrong guess is named at its operator.
type DsCnnWith<Stem, Dw, Pool, const FLAT: usize> = (
    Stem,
    Dw,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    Pool,
    Flatten,
    Dense<FLAT, 12, Softmax>,
);
type Stem = Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>;
type Dw = DepthwiseConv2D<64, 3, Relu, 1, Same>;

#[test]
fn a_rectangular_kernel_read_the_wrong_way_round_names_both_weight_shapes() {
    type Turned = DsCnnWith<Conv2DRect<1, 64, 4, 10, Relu, 2, 2, Same>, Dw, AvgPool2D<25, 5>, 64>;
    let err = Int8::<Turned>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operator 0 (CONV_2D): weights has shape [64, 10, 4, 1], the type expects [64, 4, 10, 1]"
    );
    // The strides swapped: stride_w is the first option that differs.
    type Strided = DsCnnWith<Conv2DRect<1, 64, 10, 4, Relu, 2, 1, Same>, Dw, AvgPool2D<25, 10>, 64>;
    let err = Int8::<Strided>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::Option { index: 0, op: OpKind::CONV_2D, option: "stride_w", expected: 1, found: 2 });
}

#[test]
fn a_depthwise_layer_that_differs_names_the_operator_and_the_option() {
    // A depth multiplier of 2 where the file has 1 (the rest of the type need not be read).
    type Fixed = (Stem, DepthwiseConv2D<64, 3, Relu, 1, Same, f32, NoBias, 2>, Conv2D<128, 64, 1, Relu>);
    let err = Int8::<Fixed>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err,
        TfliteError::Option {
            index: 1,
            op: OpKind::DEPTHWISE_CONV_2D,
            option: "depth_multiplier",
            expected: 2,
            found: 1
        }
    );
    // VALID where the file pads (SAME = 0, VALID = 1).
    type Valid3 = (Stem, DepthwiseConv2D<64, 3, Relu>, Conv2D<64, 64, 1, Relu>);
    let err = Int8::<Valid3>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err,
        TfliteError::Option { index: 1, op: OpKind::DEPTHWISE_CONV_2D, option: "padding", expected: 1, found: 0 }
    );
    // A 5×5 kernel: both weight shapes, TFLite's [1, KH, KW, C·M].
    type Wide = (Stem, DepthwiseConv2D<64, 5, Relu, 1, Same>, Conv2D<64, 64, 1, Relu>);
    let err = Int8::<Wide>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operator 1 (DEPTHWISE_CONV_2D): weights has shape [1, 3, 3, 64], the type expects [1, 5, 5, 64]"
    );
}

#[test]
fn a_rectangular_pool_that_differs_names_the_filter_option() {
    type Rows = DsCnnWith<Stem, Dw, AvgPool2D<25, 1>, 320>;
    let err = Int8::<Rows>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err,
        TfliteError::Option { index: 9, op: OpKind::AVERAGE_POOL_2D, option: "stride_w", expected: 1, found: 5 }
    );
    // A max pool where the file averages.
    type Max = DsCnnWith<Stem, Dw, MaxPool2D<25, 5>, 64>;
    let err = Int8::<Max>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(
        err,
        TfliteError::WrongOperator { index: 9, expected: OpKind::MAX_POOL_2D, found: OpKind::AVERAGE_POOL_2D }
    );
}

#[test]
fn a_flatten_the_converter_left_out_reads_no_operator() {
    // The converter writes no RESHAPE between DS-CNN's pool and its dense layer: `Flatten`
    // then reads nothing, and the FULLY_CONNECTED it leaves is still there to be read. A type
    // that stops at the Flatten has that operator left over.
    type Headless = (
        Stem,
        Dw,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        AvgPool2D<25, 5>,
        Flatten,
    );
    let err = Int8::<Headless>::from_tflite::<QImage<49, 10, 1>>(&fixture("ds_cnn.tflite")).unwrap_err();
    assert_eq!(err, TfliteError::ExtraOperator { index: 10, found: OpKind::FULLY_CONNECTED });
}
