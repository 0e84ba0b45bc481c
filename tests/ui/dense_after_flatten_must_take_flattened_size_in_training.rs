// Training a miswired model does not build.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 2, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<300, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let mut grad: Box<Cnn> = Box::default();
    let loss = SparseCategoricalCrossentropy::default();
    let _ = typed_nn::backprop::value_and_grad(&model, &Image::<28, 28, 1>::default(), &3, &loss, &mut grad);
}
