// Rectangular kernels, strides and pools, depthwise-separable blocks without biases: the
// layers of DS-CNN and MobileNetV1, with every shape computed by the compiler and every
// build-time rule checked (`check_model!`).
use typed_nn::prelude::*;

// DS-CNN's first layer and last pool: (49, 10, 1) -> (25, 5, 64) -> (1, 1, 64).
type DsCnnEnds = (
    Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>,
    DepthwiseConv2D<64, 3, Relu, 1, Same>,
    Conv2D<64, 64, 1, Relu>,
    AvgPool2D<25, 5>,
    Flatten,
    Dense<64, 12, Softmax>,
);
typed_nn::check_model!(DsCnnEnds, Image<49, 10, 1>);

// One MobileNetV1 block, generic over its sizes: no biases, as Keras' use_bias=False.
type DwBlock<const C: usize, const F: usize, const S: usize> = (
    DepthwiseConv2D<C, 3, Relu6, S, Same, f32, NoBias>,
    Conv2D<C, F, 1, Relu6, 1, Valid, f32, NoBias>,
);
type Stem = (Conv2D<3, 8, 3, Relu6, 2, Same, f32, NoBias>, DwBlock<8, 16, 1>, DwBlock<16, 32, 2>);
typed_nn::check_model!(Stem, Image<96, 96, 3>);

#[allow(dead_code)]
fn stem(model: &Stem, x: &Image<96, 96, 3>) -> Image<24, 24, 32> {
    model.forward(x)
}

fn main() {
    assert_eq!(<Stem as Params<f32>>::PARAMS, 3 * 3 * 3 * 8 + (9 * 8 + 8 * 16) + (9 * 16 + 16 * 32));
    let model: Box<DsCnnEnds> = DsCnnEnds::new_boxed();
    let y: Vector<12> = model.forward(&Image::<49, 10, 1>::default());
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}
