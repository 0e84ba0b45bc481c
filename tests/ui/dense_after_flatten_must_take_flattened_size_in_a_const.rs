// `check_model!` evaluates the build-time rules in a `const` item: `cargo check` reports this
// one without a build, with a note on this line.
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5400, 10, Softmax>);

typed_nn::check_model!(Cnn, Image<28, 28, 1>);

fn main() {}
