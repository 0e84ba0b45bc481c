// A 3×5 kernel on an image 8 rows high but only 4 columns wide, with `Valid` padding.
use typed_nn::prelude::*;

fn main() {
    let conv: Conv2DRect<1, 8, 3, 5, Relu> = Conv2D::default();
    let narrow: Image<8, 4, 1> = Image::default();
    let _y = conv.forward(&narrow);
}
