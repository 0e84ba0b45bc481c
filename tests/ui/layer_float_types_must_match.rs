// An `f64` layer after an `f32` layer: every layer of a model uses the same float type.
use typed_nn::prelude::*;

type Mixed = (Dense<4, 8, Relu>, Dense<8, 2, Softmax, f64>);

fn main() {
    let model: Mixed = Default::default();
    let _y = model.forward(&Vector::from([0.5f32; 4]));
}
