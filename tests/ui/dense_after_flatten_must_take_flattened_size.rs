// 13·13·32 = 5408 values reach a Dense that takes 5400. Stable Rust cannot compare a product
// of const generics with a const generic in `cargo check`, so this one is reported when the
// program is built (`cargo build`, `cargo test`, `cargo run`).
use typed_nn::prelude::*;

type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5400, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let img: Image<28, 28, 1> = Image::default();
    let _y = model.forward(&img);
}
