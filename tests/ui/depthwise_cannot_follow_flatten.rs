// A DepthwiseConv2D after a Flatten: it is given a flattened image.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 4, 3, Relu>, Flatten, DepthwiseConv2D<4, 3>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let img: Image<28, 28, 1> = Image::default();
    let _y = model.forward(&img);
}
