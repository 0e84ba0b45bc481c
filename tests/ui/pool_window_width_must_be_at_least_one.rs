// A 2×0 pooling window.
use typed_nn::prelude::*;

fn main() {
    let img: Image<8, 8, 2> = Image::default();
    let _y = AvgPool2D::<2, 0>.forward(&img);
}
