// A Conv2D with no filters (the second parameter). Reported when the program is built.
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2D<1, 0, 3> = Conv2D::default();
    let _y = conv.forward(&Image::<8, 8, 1>::default());
}
