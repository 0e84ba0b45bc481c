// A 5×5 kernel on a 4×4 image with `Valid` padding (Keras' default).
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2D<1, 8, 5, Relu> = Conv2D::default();
    let small: Image<4, 4, 1> = Image::default();
    let _y = conv.forward(&small);
}
