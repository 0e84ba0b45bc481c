// A `&Box<Image<..>>` where the model takes `&Image<..>`.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let img: Box<Image<28, 28, 1>> = Box::default();
    let _y = model.forward(&img);
}
