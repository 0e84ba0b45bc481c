// An ActivationLayer after a pooling layer in a model quantized to int8: TFLite has no int8
// ReLU operator of its own here, the activation must be fused into a Conv2D, DepthwiseConv2D,
// Dense (Identity) or Residual right before it.
use typed_nn::layer::ActivationLayer;
use typed_nn::prelude::*;
use typed_nn::quant::Int8;

type Net = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, ActivationLayer<Relu>, Flatten, Dense<36, 10, Softmax>);

fn main() {
    let _model: Int8<Net> = Default::default();
}
