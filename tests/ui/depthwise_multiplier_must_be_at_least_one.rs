// A depth multiplier of 0 (the eighth parameter of DepthwiseConv2D).
use typed_nn::prelude::*;

fn main() {
    let dw: DepthwiseConv2D<4, 3, Relu, 1, Same, f32, Bias, 0> = DepthwiseConv2D::default();
    let img: Image<8, 8, 4> = Image::default();
    let _y = dw.forward(&img);
}
