// A DepthwiseConv2D for images with no channels. Reported when the program is built.
use typed_nn::prelude::*;

fn main() {
    let dw: DepthwiseConv2D<0, 3> = DepthwiseConv2D::default();
    let _y = dw.forward(&Image::<8, 8, 0>::default());
}
