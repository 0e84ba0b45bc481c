// A Conv2D that takes images with no channels. Reported when the program is built.
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2D<0, 4, 3> = Conv2D::default();
    let _y = conv.forward(&Image::<8, 8, 0>::default());
}
