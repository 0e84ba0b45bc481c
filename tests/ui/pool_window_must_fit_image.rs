// A 4×4 pooling window on a 3×3 image.
use typed_nn::prelude::*;

fn main() {
    let img: Image<3, 3, 2> = Image::default();
    let _y = MaxPool2D::<4>.forward(&img);
}
