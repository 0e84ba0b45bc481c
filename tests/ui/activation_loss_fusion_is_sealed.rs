// A user-written activation cannot claim a loss fusion: the cross-entropy would then
// differentiate the logits as if the activation were softmax, and the gradients would be wrong.
// The tag is set by the library only (`Seal` lives in a private module).
use typed_nn::activation::Fusion;
use typed_nn::prelude::*;

#[derive(Clone, Copy, Debug, Default)]
struct MySoftmax;

impl Activation for MySoftmax {
    fn f<T: Float>(x: T) -> T {
        x
    }
    fn df<T: Float>(_x: T) -> T {
        T::one()
    }
    fn fusion(_: typed_nn::seal::Seal) -> Fusion {
        Fusion::Softmax
    }
}

fn main() {}
