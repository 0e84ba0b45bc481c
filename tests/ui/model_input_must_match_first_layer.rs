// The input vector has 780 values; the model's first layer takes 784.
use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

fn main() {
    let model: Mlp = Default::default();
    let _y = model.forward(&Vector::from([0.5f32; 780]));
}
