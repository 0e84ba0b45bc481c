// The batched forward pass of a miswired model does not build.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 2, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<300, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let xs = vec![Image::<28, 28, 1>::default(); 4];
    let mut ys = vec![Vector::<10>::default(); 4];
    model.forward_batch(&xs, &mut ys).unwrap();
}
