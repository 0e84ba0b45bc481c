// A 5×3 depthwise kernel on an image 4 rows high, with `Valid` padding.
use typed_nn::prelude::*;

fn main() {
    let dw: DepthwiseConv2DRect<4, 5, 3> = DepthwiseConv2D::default();
    let flat_image: Image<4, 8, 4> = Image::default();
    let _y = dw.forward(&flat_image);
}
