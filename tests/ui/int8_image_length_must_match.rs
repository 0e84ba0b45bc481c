// An int8 byte image 744 bytes short of the digits MLP's 2744, baked into a static.
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QLayer, QVector};

type Mlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

const SHORT: &[u8] = &[0; 2000];
static MODEL: Int8<Mlp> = typed_nn::int8_model_from_le_bytes!((Dense<64, 32, Relu>, Dense<32, 10, Softmax>), SHORT);

fn main() {
    let _y = MODEL.forward(&QVector::new([0; 64]));
}
