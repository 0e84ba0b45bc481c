// Fusing the activations of a model with an activation of your own: typed-nn must know whether a
// layer using it can take the activation layer after it (only the identity can), so the
// activation implements `typed_nn::fuse::FuseRole` (`type Role = Alone;`), its one role trait,
// which BatchNorm folding reads too.
use typed_nn::prelude::*;

#[derive(Clone, Copy, Debug, Default)]
struct Square;
impl Activation for Square {
    fn f<T: Float>(x: T) -> T {
        x * x
    }
    fn df<T: Float>(x: T) -> T {
        x + x
    }
}

type Net = (Dense<4, 8, Square>, ActivationLayer<Relu>, Dense<8, 2, Softmax>);

fn main() {
    let model: Net = Net::init(&mut SeedRng::seed(0));
    let _fused: typed_nn::fuse::Fused<Net> = model.fuse_activations();
}
