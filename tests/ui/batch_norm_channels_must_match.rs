// A BatchNormalization sized for 16 channels after a convolution with 8 filters.
use typed_nn::prelude::*;

type Model = (Conv2D<1, 8, 3>, BatchNormalization<16>, ActivationLayer<Relu>);

fn main() {
    let model: Model = Default::default();
    let _y = model.forward(&Image::<28, 28, 1>::default());
}
