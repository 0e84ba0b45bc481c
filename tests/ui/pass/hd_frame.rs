// Image sides up to 4096: a conv + pool model on a 1920×1080 frame. Compile-only (the frame
// is 8 MB; `tests/image_sides.rs` runs one): the output type is spelled out.
use typed_nn::prelude::*;

type Hd = (Conv2D<1, 1, 3, Relu>, MaxPool2D<2>);

#[allow(dead_code)]
fn detect(model: &Hd, frame: &Image<1080, 1920, 1>) -> Image<539, 959, 1> {
    model.forward(frame)
}

#[allow(dead_code)]
fn uhd(model: &(Conv2D<3, 8, 3, Relu, 2, Same>, AvgPool2D<4>), frame: &Image<2160, 3840, 3>) -> Image<270, 480, 8> {
    model.forward(frame)
}

fn main() {}
