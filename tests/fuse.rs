//! Activation fusion on the MLPerf Tiny models of `examples/models/` (weights from Keras,
//! tests/fixtures/keras_*.safetensors, random BatchNorm statistics): the fused type is the one
//! spelled out by hand, its parameters are the folded model's byte for byte, its outputs are the
//! folded model's bit for bit (single-sample and batched; every activation there is `Relu` or
//! `Relu6`, applied to the same pre-activations) and Keras' within 1e-5.

mod common;

#[allow(dead_code)]
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

#[allow(dead_code)]
#[path = "../examples/models/autoencoder.rs"]
mod autoencoder;

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;

#[allow(dead_code)]
#[path = "../examples/models/mobilenet_v1.rs"]
mod mobilenet_v1;

use autoencoder::{Autoencoder, AutoencoderFolded};
use common::{MLPERF_STACK, assert_close, batched, mlperf_fixture, mlperf_weights, outputs, same_type, with_stack};
use ds_cnn::{DsCnn, DsCnnFolded, DsCnnInference};
use mobilenet_v1::{MobileNetV1, MobileNetV1Folded, X5};
use resnet8::{Conv3, ResNet8, ResNet8Folded, ResNet8Inference};
use typed_nn::fuse::Fused;
use typed_nn::prelude::*;

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The Keras model `name` loaded, folded and fused: the fused model has the folded model's
/// parameter bytes, gives its outputs bit for bit (single-sample and batched), and Keras'
/// outputs within 1e-5.
fn fused_is_the_folded_model<M, F, X, const N: usize>(name: &str, fold: impl Fn(&M) -> Box<F>)
where
    M: NewBoxed + Params<f32>,
    Box<M>: Safetensors<f32>,
    F: ForwardBatch<X, Out = Vector<N>> + ParamBytes<f32> + FuseActivations,
    Fused<F>: ForwardBatch<X, Out = Vector<N>> + ParamBytes<f32>,
    X: Tensor<Elem = f32>,
{
    let fx = mlperf_fixture();
    let model: Box<M> = Box::<M>::load_safetensors(&mlperf_weights(name)).unwrap();
    let folded = fold(&model);
    let fused: Box<Fused<F>> = Box::new(folded.fuse_activations());
    assert_eq!(<Fused<F> as Params<f32>>::PARAMS, <F as Params<f32>>::PARAMS, "{name}");
    assert!(fused.to_le_bytes().unwrap() == folded.to_le_bytes().unwrap(), "{name}: parameter bytes differ");

    let xs = fx.samples::<X>(&format!("{name}.x"));
    let single = outputs(&*fused, &xs);
    assert_eq!(bits(&single), bits(&outputs(&*folded, &xs)), "{name}: single-sample");
    let many = batched(&*fused, &xs);
    assert_eq!(bits(&many), bits(&batched(&*folded, &xs)), "{name}: batched");

    let keras = fx.f32s(&format!("{name}.y"));
    assert_close(&format!("{name}.y (fused)"), &single, &keras, 1e-5, 1e-5);
    assert_close(&format!("{name}.y (fused, batched)"), &many, &keras, 1e-5, 1e-5);
}

#[test]
fn ds_cnn_fused_is_the_folded_model_bit_for_bit_and_keras_within_1e_5() {
    with_stack(MLPERF_STACK, || {
        fused_is_the_folded_model::<DsCnn, DsCnnFolded, Image<49, 10, 1>, 12>("ds_cnn", |m| {
            Box::new(m.fold_batch_norm())
        });
    });
}

#[test]
fn resnet8_fused_is_the_folded_model_bit_for_bit_and_keras_within_1e_5() {
    with_stack(MLPERF_STACK, || {
        fused_is_the_folded_model::<ResNet8, ResNet8Folded, Image<32, 32, 3>, 10>("resnet8", |m| {
            Box::new(m.fold_batch_norm())
        });
    });
}

#[test]
fn mobilenet_v1_fused_is_the_folded_model_bit_for_bit_and_keras_within_1e_5() {
    with_stack(MLPERF_STACK, || {
        fused_is_the_folded_model::<MobileNetV1, MobileNetV1Folded, Image<96, 96, 3>, 2>("mobilenet_v1", |m| {
            Box::new(m.fold_batch_norm())
        });
    });
}

#[test]
fn autoencoder_fused_is_the_folded_model_bit_for_bit_and_keras_within_1e_5() {
    with_stack(MLPERF_STACK, || {
        fused_is_the_folded_model::<Autoencoder, AutoencoderFolded, Vector<640>, 640>("autoencoder", |m| {
            Box::new(m.fold_batch_norm())
        });
    });
}

#[test]
fn ds_cnn_fused_is_nine_convolutions_with_relu_and_no_dropout() {
    // What TensorFlow's converter leaves (nostd-check's `DsCnnTflite`, with "same" 1×1 convs).
    type Block = (DepthwiseConv2D<64, 3, Relu, 1, Same>, Conv2D<64, 64, 1, Relu, 1, Same>);
    type Expected = (
        Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>,
        Block,
        Block,
        Block,
        Block,
        AvgPool2D<25, 5>,
        Flatten,
        Dense<64, 12, Softmax>,
    );
    assert!(same_type::<DsCnnInference, Expected>());
}

#[test]
fn resnet8_fused_keeps_the_relu_after_each_add() {
    type Relu3<const C: usize, const F: usize, const S: usize> = Conv2D<C, F, 3, Relu, S, Same>;
    type Expected = (
        Relu3<3, 16, 1>,
        (Residual<(Relu3<16, 16, 1>, Conv3<16, 16, 1>)>, ActivationLayer<Relu>),
        (Residual<(Relu3<16, 32, 2>, Conv3<32, 32, 1>), Conv2D<16, 32, 1, Identity, 2, Same>>, ActivationLayer<Relu>),
        (Residual<(Relu3<32, 64, 2>, Conv3<64, 64, 1>), Conv2D<32, 64, 1, Identity, 2, Same>>, ActivationLayer<Relu>),
        AvgPool2D<8>,
        Flatten,
        Dense<64, 10, Softmax>,
    );
    assert!(same_type::<ResNet8Inference, Expected>());
}

#[test]
fn mobilenet_v1_fused_blocks_are_two_convolutions_with_relu6() {
    type Block<const C: usize, const F: usize, const S: usize> =
        (DepthwiseConv2D<C, 3, Relu6, S, Same>, Conv2D<C, F, 1, Relu6, 1, Same>);
    type Expected = (
        (Conv2D<3, 8, 3, Relu6, 2, Same>,),
        Block<8, 16, 1>,
        Block<16, 32, 2>,
        Block<32, 32, 1>,
        Block<32, 64, 2>,
        Block<64, 64, 1>,
        Block<64, 128, 2>,
        X5<Block<128, 128, 1>>,
        Block<128, 256, 2>,
        Block<256, 256, 1>,
        GlobalAvgPool2D,
        Dense<256, 2, Softmax>,
    );
    assert!(same_type::<Fused<MobileNetV1Folded>, Expected>());
}

#[test]
fn autoencoder_fused_is_ten_dense_layers() {
    type Expected = (
        (Dense<640, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        (Dense<128, 8, Relu>,),
        (Dense<8, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        (Dense<128, 128, Relu>,),
        Dense<128, 640>,
    );
    assert!(same_type::<Fused<AutoencoderFolded>, Expected>());
}
