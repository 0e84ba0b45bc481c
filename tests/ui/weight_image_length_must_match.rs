// A byte image four bytes short of the model's 9640 parameter bytes, baked into a static.
use typed_nn::prelude::*;

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

const SHORT: &[u8] = &[0; 9636];
static MODEL: Mlp = typed_nn::model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), SHORT);

fn main() {
    let _y = MODEL.forward(&Vector::from([0.0; 64]));
}
