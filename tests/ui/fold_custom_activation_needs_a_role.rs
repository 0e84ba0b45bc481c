// Folding the BatchNormalizations of a model with an activation of your own: typed-nn must know
// whether a layer using it is affine (only the identity is), and reads that from the
// activation's one role trait, `typed_nn::fuse::FuseRole` (`type Role = Alone;`), the same impl
// that activation fusion reads.
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

type Net = (Dense<4, 8, Square>, BatchNormalization<8>, Dense<8, 2, Softmax>);

fn main() {
    let model: Net = Net::init(&mut SeedRng::seed(0));
    let _folded: typed_nn::fold::Folded<Net> = model.fold_batch_norm();
}
