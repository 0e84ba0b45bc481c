// A Dense with no outputs: even its parameter count does not build.
use typed_nn::prelude::*;

fn main() {
    let params = <Dense<4, 0> as Params<f32>>::PARAMS;
    assert_eq!(params, 0);
}
