//! MobileNetV1 with width multiplier α = 0.25, MLPerf Tiny's visual-wake-words model (96 × 96 RGB,
//! person or not), as a type.
//!
//! Keras, the definition `scripts/keras_mlperf_tiny_fixtures.py` builds:
//!
//! ```text
//! Sequential([Input((96, 96, 3)),
//!     Conv2D(8, 3, strides=2, padding="same", use_bias=False), BatchNormalization(), ReLU(6.),
//!     13 × [DepthwiseConv2D(3, strides=s, padding="same", use_bias=False), BatchNormalization(),
//!           ReLU(6.), Conv2D(f, 1, use_bias=False), BatchNormalization(), ReLU(6.)]
//!         with (f, s) = (16,1), (32,2), (32,1), (64,2), (64,1), (128,2), (128,1)×5, (256,2), (256,1),
//!     GlobalAveragePooling2D(), Dense(2, activation="softmax")])
//! ```
//!
//! 83 layers: a generic alias per depthwise-separable block (its input channels, filters and
//! stride), and one for five identical blocks, keep the model a tuple of 12.
//!
//! Shared by `examples/15_mobilenet_v1.rs` and `tests/mlperf_tiny.rs` (through `#[path]`).

use typed_nn::prelude::*;

/// `Conv2D(8, 3, strides=2, padding="same", use_bias=False) → BN → ReLU(6.)`.
pub type Stem = (Conv2D<3, 8, 3, Identity, 2, Same, f32, NoBias>, BatchNormalization<8>, ActivationLayer<Relu6>);

/// A depthwise-separable block from `C` channels to `F` filters, the depthwise convolution with
/// stride `S`: `DepthwiseConv2D(3, strides=S) → BN → ReLU(6.) → Conv2D(F, 1) → BN → ReLU(6.)`,
/// no biases.
pub type DwBlock<const C: usize, const F: usize, const S: usize> = (
    DepthwiseConv2D<C, 3, Identity, S, Same, f32, NoBias>,
    BatchNormalization<C>,
    ActivationLayer<Relu6>,
    Conv2D<C, F, 1, Identity, 1, Same, f32, NoBias>,
    BatchNormalization<F>,
    ActivationLayer<Relu6>,
);

/// Five copies of a block.
pub type X5<B> = (B, B, B, B, B);

/// MobileNetV1 (α = 0.25): `Image<96, 96, 3>` in, two probabilities out. 219,058 parameters, as
/// Keras counts them (213,586 trainable, 5,472 moving statistics).
pub type MobileNetV1 = (
    Stem,
    DwBlock<8, 16, 1>,
    DwBlock<16, 32, 2>,
    DwBlock<32, 32, 1>,
    DwBlock<32, 64, 2>,
    DwBlock<64, 64, 1>,
    DwBlock<64, 128, 2>,
    X5<DwBlock<128, 128, 1>>,
    DwBlock<128, 256, 2>,
    DwBlock<256, 256, 1>,
    GlobalAvgPool2D,
    Dense<256, 2, Softmax>,
);

/// MobileNetV1 with every `BatchNormalization` folded into the convolution before it (each
/// gaining a bias).
pub type MobileNetV1Folded = typed_nn::fold::Folded<MobileNetV1>;
