// An RGB image (3 channels) fed to a Conv2D that expects 1 input channel.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let rgb: Image<28, 28, 3> = Image::default();
    let _y = model.forward(&rgb);
}
