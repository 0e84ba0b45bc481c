// An `f64` input into an `f32` model: the input uses the model's float type.
use typed_nn::prelude::*;

type Mlp = (Dense<4, 8, Relu>, Dense<8, 2, Softmax>);

fn main() {
    let model: Mlp = Default::default();
    let _y = model.forward(&Vector::from([0.5f64; 4]));
}
