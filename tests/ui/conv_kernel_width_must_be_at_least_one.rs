// A 3×0 kernel (the fourth parameter of Conv2DRect is the kernel width).
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2DRect<1, 8, 3, 0, Relu> = Conv2D::default();
    let img: Image<8, 8, 1> = Image::default();
    let _y = conv.forward(&img);
}
