// A 0×0 kernel: it would turn an 8×8 image into a 9×9 one.
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2D<3, 8, 0, Relu> = Conv2D::default();
    let img: Image<8, 8, 3> = Image::default();
    let _y = conv.forward(&img);
}
