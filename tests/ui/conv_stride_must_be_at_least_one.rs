// A stride of 0 (the fifth parameter of Conv2D).
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2D<1, 8, 3, Relu, 0> = Conv2D::default();
    let img: Image<8, 8, 1> = Image::default();
    let _y = conv.forward(&img);
}
