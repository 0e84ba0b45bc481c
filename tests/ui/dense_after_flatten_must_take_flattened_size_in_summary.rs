// The same miswired model as `dense_after_flatten_must_take_flattened_size`: its summary does
// not build either.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5400, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    model.summary_for::<Image<28, 28, 1>>();
}
