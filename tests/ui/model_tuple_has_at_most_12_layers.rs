// Thirteen layers in one tuple: models are tuples of 1 to 12 layers; nest tuples for more.
use typed_nn::prelude::*;

type Deep = (
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 8, Relu>,
    Dense<8, 2, Softmax>,
);

fn main() {
    let model: Deep = Default::default();
    let _y = model.forward(&Vector::from([0.5f32; 8]));
}
