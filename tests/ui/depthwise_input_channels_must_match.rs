// A DepthwiseConv2D for 8 channels after a Conv2D with 16 filters.
use typed_nn::prelude::*;

type Block = (Conv2D<1, 16, 3, Relu, 1, Same>, DepthwiseConv2D<8, 3, Relu, 1, Same>);

fn main() {
    let model: Block = Block::default();
    let img: Image<10, 10, 1> = Image::default();
    let _y = model.forward(&img);
}
