// A 64-wide layer wired into a layer that takes 32 inputs.
use typed_nn::prelude::*;

type Broken = (Dense<784, 64, Relu>, Dense<32, 10, Softmax>);

fn main() {
    let model: Broken = Default::default();
    let _y = model.forward(&Vector::from([0.5f32; 784]));
}
