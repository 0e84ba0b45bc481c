// A nested int8 model (a residual block with its ReLU fused into the ADD) named by its type
// alias, baked from an image one byte short.
use typed_nn::layer::{ActivationLayer, Residual};
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QLayer};

type Net = (
    Conv2D<1, 2, 3, Relu, 1, Same>,
    (Residual<(Conv2D<2, 2, 3, Relu, 1, Same>, Conv2D<2, 2, 3, Identity, 1, Same>)>, ActivationLayer<Relu>),
    Flatten,
    Dense<32, 2, Softmax>,
);

// The image is 326 bytes: Conv2D 16 + 8·2 + 9·2 = 50, the block 2·(16 + 16 + 36) + 8 + 24 = 168,
// Flatten 8, Dense 20 + 16 + 64 = 100. The error names both lengths, `Int8ImageLength<325, 326>`.
const SHORT: &[u8] = &[0; 325];
static MODEL: Int8<Net> = typed_nn::int8_model_from_le_bytes!(Net, SHORT);

fn main() {
    let _y = MODEL.forward(&QImage::<4, 4, 1>::default());
}
