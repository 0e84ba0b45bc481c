// `SmallRng` was renamed `SeedRng`; the old name still compiles, with a deprecation warning
// (an error here, to show the message).
#![deny(deprecated)]
use typed_nn::prelude::*;

fn main() {
    let _model: Dense<4, 2> = Dense::init(&mut SmallRng::seed(1));
}
