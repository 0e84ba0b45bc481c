// An image side above typed-nn's limit for computed shapes (4096).
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 1, 3, Relu>, MaxPool2D<2>);

fn main() {
    let model: Cnn = Default::default();
    let img: Box<Image<5000, 4000, 1>> = Box::default();
    let _y = model.forward(&*img);
}
