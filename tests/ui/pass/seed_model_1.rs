// Seed model 1 exactly as the product page writes it.
use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

fn main() {
    let model: Mlp = Default::default();
    let mut rng = SeedRng::seed(0);
    let model2: Mlp = Mlp::init(&mut rng);
    let y: Vector<10> = model.forward(&Vector::from([0.5f32; 784]));
    let p3: f32 = y[3];
    let all: &[f32] = y.as_slice();
    assert_eq!(p3, all[3]);
    let _ = model2.forward(&Vector::from([0.5f32; 784]));
    let _big: Dense<5408, 10, Softmax> = Default::default();
}
