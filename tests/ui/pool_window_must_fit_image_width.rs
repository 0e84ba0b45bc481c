// A 2×5 pooling window on an image 6 rows high and 4 columns wide.
use typed_nn::prelude::*;

fn main() {
    let img: Image<6, 4, 3> = Image::default();
    let _y = MaxPool2D::<2, 5>.forward(&img);
}
