// A residual branch that halves the image and doubles its channels, with the identity
// shortcut: `x + F(x)` adds a 32×32×16 image to a 16×16×32 one.
use typed_nn::prelude::*;

type Block = Residual<(Conv2D<16, 32, 3, Identity, 2, Same>, BatchNormalization<32>)>;

fn main() {
    let block: Block = Default::default();
    let _y = block.forward(&Image::<32, 32, 16>::default());
}
