// 1024 channels with a depth multiplier of 8: 8192 output channels.
use typed_nn::prelude::*;

fn main() {
    let dw: Box<DepthwiseConv2D<1024, 1, Identity, 1, Valid, f32, Bias, 8>> = DepthwiseConv2D::new_boxed();
    let img: Box<Image<2, 2, 1024>> = Box::default();
    let _y = dw.forward(&*img);
}
