// A Dense directly after a pooling layer: it receives an image, not a vector.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Dense<5408, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let img: Image<28, 28, 1> = Image::default();
    let _y = model.forward(&img);
}
