// An int8 residual block whose branch halves the image and doubles its channels, with the
// identity shortcut: the int8 ADD would sum a 32×32×16 image and a 16×16×32 one.
use typed_nn::layer::Residual;
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QLayer};

type Block = Int8<Residual<Conv2D<16, 32, 3, Identity, 2, Same>>>;

fn main() {
    let block: Block = Default::default();
    let _y = <Block as QLayer<QImage<32, 32, 16>>>::forward(&block, &QImage::default());
}
