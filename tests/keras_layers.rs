//! Each convolution, depthwise convolution, pooling, flatten and dense variant against Keras
//! (tests/fixtures/keras_layers.safetensors, from scripts/keras_layer_fixtures.py): output
//! values and the gradients of `Σ y·r` for a fixed random `r`. This pins down what finite
//! differences cannot: where `Same` padding puts its odd row and column (on each axis of a
//! rectangular kernel), which inputs a strided or pooled layer skips, the kernel layouts, and
//! that a `NoBias` layer has exactly Keras' `use_bias=False` parameters. A small
//! depthwise-separable Sequential (tests/fixtures/keras_separable.safetensors) is loaded from
//! the export helper's file and printed as Keras' `summary()`.

mod common;

use common::{Fixture, assert_close};
use typed_nn::prelude::*;

type X = Image<7, 6, 2>;

/// Forward both samples, then backward with `dy = r`; compare everything the fixture has.
fn check<L>(fx: &Fixture, case: &str, layer: &L)
where
    L: Backward<X> + Params<f32> + Default,
{
    check_on::<X, L>(fx, case, layer)
}

/// [`check`] with the input read as `X` (a `Dense` reads the flattened `x`).
fn check_on<X, L>(fx: &Fixture, case: &str, layer: &L)
where
    X: Tensor<Elem = f32> + Default,
    L: Backward<X> + Params<f32> + Default,
{
    let xs: Vec<X> = fx.samples("x");
    let r: Vec<L::Out> = fx.samples(&format!("{case}.r"));
    let mut ys = Vec::new();
    let mut dxs = Vec::new();
    let mut grad = L::default();
    for (x, r) in xs.iter().zip(&r) {
        let (y, cache) = layer.forward_train(x);
        assert_eq!(y, layer.forward(x), "{case}: forward_train and forward agree");
        ys.extend_from_slice(y.as_slice());
        let mut dx = X::default();
        layer.backward(x, &cache, r, &mut grad, Some(&mut dx));
        dxs.extend_from_slice(dx.as_slice());
    }
    assert_close(&format!("{case}.y"), &ys, &fx.f32s(&format!("{case}.y")), 1e-5, 1e-5);
    assert_close(&format!("{case}.grad_x"), &dxs, &fx.f32s(&format!("{case}.grad_x")), 1e-5, 1e-4);
    let names = ["grad_kernel", "grad_bias"];
    for (g, name) in grad.params().zip(names) {
        assert_close(&format!("{case}.{name}"), g, &fx.f32s(&format!("{case}.{name}")), 1e-4, 1e-4);
    }
}

/// A conv layer with the fixture's weights. Its parameter count must be the fixture's: Keras
/// stores no `bias` for `use_bias=False`, so a `NoBias` layer counts the kernel alone.
fn conv<L: Params<f32> + Default>(fx: &Fixture, case: &str) -> L {
    let has_bias = !fx.shape(&format!("{case}.bias")).is_empty();
    let keras_count =
        fx.f32s(&format!("{case}.kernel")).len() + if has_bias { fx.f32s(&format!("{case}.bias")).len() } else { 0 };
    assert_eq!(L::PARAMS, keras_count, "{case}: PARAMS");
    let mut layer = L::default();
    for (dst, part) in layer.params_mut().zip(["kernel", "bias"]) {
        dst.copy_from_slice(&fx.f32s(&format!("{case}.{part}")));
    }
    layer
}

#[test]
fn convolutions_match_keras_for_every_stride_and_padding() {
    let fx = Fixture::load("keras_layers.safetensors");
    macro_rules! case {
        ($name:literal, $L:ty) => {
            check::<$L>(&fx, $name, &conv::<$L>(&fx, $name))
        };
    }
    case!("conv_k3_s1_valid", Conv2D<2, 3, 3>);
    case!("conv_k3_s2_valid", Conv2D<2, 3, 3, Identity, 2>);
    case!("conv_k3_s1_same", Conv2D<2, 3, 3, Identity, 1, Same>);
    case!("conv_k2_s1_same", Conv2D<2, 3, 2, Identity, 1, Same>);
    case!("conv_k3_s2_same", Conv2D<2, 3, 3, Identity, 2, Same>);
    case!("conv_k4_s3_same", Conv2D<2, 3, 4, Identity, 3, Same>);
    case!("conv_k3_s1_valid_tanh", Conv2D<2, 3, 3, Tanh>);
}

/// Keras' `Conv2D(3, (kh, kw), strides=(sh, sw), ...)`, each spelled both ways: the trailing
/// parameters of `Conv2D` and the `Conv2DRect` alias.
#[test]
fn rectangular_convolutions_match_keras_on_each_axis() {
    let fx = Fixture::load("keras_layers.safetensors");
    macro_rules! case {
        ($name:literal, $L:ty, $R:ty) => {{
            check::<$L>(&fx, $name, &conv::<$L>(&fx, $name));
            check::<$R>(&fx, $name, &conv::<$R>(&fx, $name));
        }};
    }
    case!(
        "conv_k3x2_s2x1_same",
        Conv2D<2, 3, 3, Identity, 2, Same, f32, Bias, 2, 1>,
        Conv2DRect<2, 3, 3, 2, Identity, 2, 1, Same>
    );
    case!(
        "conv_k2x4_s1x3_valid",
        Conv2D<2, 3, 2, Identity, 1, Valid, f32, Bias, 4, 3>,
        Conv2DRect<2, 3, 2, 4, Identity, 1, 3>
    );
    // DS-CNN's first-layer rule: a 10×4 kernel, strides 2, same on 7×6: 9 rows of padding
    // (4 above, 5 below), 1 column (0 left, 1 right).
    case!(
        "conv_k10x4_s2_same",
        Conv2D<2, 3, 10, Identity, 2, Same, f32, Bias, 4>,
        Conv2DRect<2, 3, 10, 4, Identity, 2, 2, Same>
    );
    case!(
        "conv_k4x3_s3x2_same_nobias_tanh",
        Conv2D<2, 3, 4, Tanh, 3, Same, f32, NoBias, 3, 2>,
        Conv2DRect<2, 3, 4, 3, Tanh, 3, 2, Same, f32, NoBias>
    );
}

#[test]
fn depthwise_convolutions_match_keras_with_multiplier_stride_and_padding() {
    let fx = Fixture::load("keras_layers.safetensors");
    macro_rules! case {
        ($name:literal, $L:ty) => {
            check::<$L>(&fx, $name, &conv::<$L>(&fx, $name))
        };
    }
    case!("dw_k3_s1_same", DepthwiseConv2D<2, 3, Identity, 1, Same>);
    case!("dw_k3x2_s2x1_same_m2", DepthwiseConv2D<2, 3, Identity, 2, Same, f32, Bias, 2, 2, 1>);
    case!("dw_k3x2_s2x1_same_m2", DepthwiseConv2DRect<2, 3, 2, Identity, 2, 1, Same, f32, Bias, 2>);
    case!("dw_k2_s1_valid_m3_nobias_tanh", DepthwiseConv2D<2, 2, Tanh, 1, Valid, f32, NoBias, 3>);
    case!("dw_k3_s2_valid", DepthwiseConv2D<2, 3, Identity, 2>);
}

#[test]
fn dense_without_bias_matches_keras() {
    let fx = Fixture::load("keras_layers.safetensors");
    type L = Dense<84, 5, Sigmoid, f32, NoBias>;
    check_on::<Vector<84>, L>(&fx, "dense_nobias", &conv::<L>(&fx, "dense_nobias"));
}

#[test]
fn pooling_and_flatten_match_keras() {
    let fx = Fixture::load("keras_layers.safetensors");
    check(&fx, "maxpool2", &MaxPool2D::<2>);
    check(&fx, "avgpool2", &AvgPool2D::<2>);
    check(&fx, "gap", &GlobalAvgPool2D);
    check(&fx, "flatten", &Flatten);
    // Rectangular windows, strides equal to the window: 7×6 by 2×3 → 3×2 (the last row
    // dropped), by 3×2 → 2×3, and one 7×6 window (DS-CNN's closing pool, on a small image).
    check(&fx, "maxpool2x3", &MaxPool2D::<2, 3>);
    check(&fx, "avgpool3x2", &AvgPool2D::<3, 2>);
    check(&fx, "avgpool7x6", &AvgPool2D::<7, 6>);
    // 7×6 with a 3×3 window: 2×2, the last row dropped.
    let xs: Vec<X> = fx.samples("x");
    let ys: Vec<f32> = xs.iter().flat_map(|x| MaxPool2D::<3>.forward(x).as_slice().to_vec()).collect();
    assert_close("maxpool3.y", &ys, &fx.f32s("maxpool3.y"), 1e-7, 0.0);
}

#[test]
fn batched_convolutions_match_keras_too() {
    let fx = Fixture::load("keras_layers.safetensors");
    let xs: Vec<X> = fx.samples("x");
    let layer: Conv2D<2, 3, 3, Identity, 2, Same> = conv(&fx, "conv_k3_s2_same");
    let mut ys = vec![Image::<4, 3, 3>::default(); 2];
    layer.forward_batch(&xs, &mut ys).unwrap();
    let flat: Vec<f32> = ys.iter().flat_map(|y| y.as_slice().to_vec()).collect();
    assert_close("conv_k3_s2_same.y (batched)", &flat, &fx.f32s("conv_k3_s2_same.y"), 1e-5, 1e-5);
}

#[test]
fn batched_depthwise_and_rectangular_layers_match_keras_too() {
    let fx = Fixture::load("keras_layers.safetensors");
    let xs: Vec<X> = fx.samples("x");
    fn batched<L: Layer<X> + ForwardBatch<X>>(layer: &L, xs: &[X]) -> Vec<f32> {
        let mut ys = vec![L::Out::default(); xs.len()];
        layer.forward_batch(xs, &mut ys).unwrap();
        ys.iter().flat_map(|y| y.as_slice().to_vec()).collect()
    }
    let dw: DepthwiseConv2D<2, 3, Identity, 2, Same, f32, Bias, 2, 2, 1> = conv(&fx, "dw_k3x2_s2x1_same_m2");
    assert_close("dw (batched)", &batched(&dw, &xs), &fx.f32s("dw_k3x2_s2x1_same_m2.y"), 1e-5, 1e-5);
    let c: Conv2DRect<2, 3, 10, 4, Identity, 2, 2, Same> = conv(&fx, "conv_k10x4_s2_same");
    assert_close("conv 10×4 (batched)", &batched(&c, &xs), &fx.f32s("conv_k10x4_s2_same.y"), 1e-5, 1e-5);
    let m = MaxPool2D::<2, 3>;
    assert_close("maxpool 2×3 (batched)", &batched(&m, &xs), &fx.f32s("maxpool2x3.y"), 1e-7, 0.0);
}

/// The Sequential of scripts/keras_layer_fixtures.py, written by the export helper.
type Separable = (
    Conv2DRect<2, 4, 3, 2, Relu, 2, 1, Same>,
    DepthwiseConv2D<4, 3, Tanh, 1, Same, f32, NoBias, 2>,
    Conv2D<8, 3, 1, Sigmoid, 1, Valid, f32, NoBias>,
    AvgPool2D<2, 3>,
    MaxPool2D<2, 1>,
    Flatten,
    Dense<6, 5, Softmax, f32, NoBias>,
);

#[test]
fn a_separable_keras_model_loads_by_keras_names_and_reproduces_its_outputs() {
    let fx = Fixture::load("keras_separable.safetensors");
    let bytes =
        std::fs::read(format!("{}/tests/fixtures/keras_separable.safetensors", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let model = Separable::load_safetensors_with(&bytes, LoadOptions { ignore_extra: true }).unwrap();
    // Without its extra tensors (input, output) the file is refused, so the names were used.
    assert!(Separable::load_safetensors(&bytes).is_err());
    let xs: Vec<Image<9, 6, 2>> = fx.samples("input");
    let ys: Vec<f32> = xs.iter().flat_map(|x| model.forward(x).as_slice().to_vec()).collect();
    assert_close("separable output", &ys, &fx.f32s("output"), 1e-6, 1e-5);
    // The file's tensors are exactly the model's parameters: no bias for the NoBias layers.
    assert_eq!(<Separable as Params<f32>>::PARAMS, 178);
}

#[test]
fn summary_of_a_separable_model_is_keras_table() {
    let fx = Fixture::load("keras_separable.safetensors");
    let ours = Separable::default().summary_table::<Image<9, 6, 2>>().to_string();
    assert_eq!(ours.trim_end(), fx.meta("summary").trim_end());
}
