//! Each convolution, pooling and flatten variant against Keras (tests/fixtures/keras_layers
//! .safetensors, from scripts/keras_layer_fixtures.py): output values and the gradients of
//! `Σ y·r` for a fixed random `r`. This pins down what finite differences cannot: where
//! `Same` padding puts its odd row and column, which inputs a strided or pooled layer skips,
//! and the kernel layout.

mod common;

use common::{Fixture, assert_close};
use typed_nn::prelude::*;

type X = Image<7, 6, 2>;

/// Forward both samples, then backward with `dy = r`; compare everything the fixture has.
fn check<L>(fx: &Fixture, case: &str, layer: &L)
where
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

/// A conv layer with the fixture's weights.
fn conv<L: Params<f32> + Default>(fx: &Fixture, case: &str) -> L {
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

#[test]
fn pooling_and_flatten_match_keras() {
    let fx = Fixture::load("keras_layers.safetensors");
    check(&fx, "maxpool2", &MaxPool2D::<2>);
    check(&fx, "avgpool2", &AvgPool2D::<2>);
    check(&fx, "gap", &GlobalAvgPool2D);
    check(&fx, "flatten", &Flatten);
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
