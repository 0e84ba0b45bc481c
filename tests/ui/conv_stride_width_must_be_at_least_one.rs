// Strides (2, 0): the horizontal stride (the seventh parameter of Conv2DRect) is 0.
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2DRect<1, 8, 3, 3, Relu, 2, 0> = Conv2D::default();
    let img: Image<8, 8, 1> = Image::default();
    let _y = conv.forward(&img);
}
