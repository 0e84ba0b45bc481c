// Dropout's rate is in thousandths: 1000 would drop every value (Keras refuses a rate of 1).
use typed_nn::prelude::*;

type Model = (Dense<4, 4, Relu>, Dropout<1000>, Dense<4, 2, Softmax>);

fn main() {
    let model: Model = Default::default();
    let _y = model.forward(&Vector::from([1.0; 4]));
}
