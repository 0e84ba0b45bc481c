//! `PEAK_ACTIVATION_BYTES`: the activation bytes a single-sample forward pass keeps alive at
//! once, against sums worked out by hand from each layer's output shape (in the comments), and
//! next to `ACTIVATION_BYTES`, which adds up every output.

#[allow(dead_code)] // the block aliases are for reading
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;

use typed_nn::layer::{Residual, Skip};
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, QImage, QLayer};

/// Peak and sum of `M` on `X`.
fn memory<M: Layer<X>, X: Tensor>() -> (usize, usize) {
    (M::PEAK_ACTIVATION_BYTES, M::ACTIVATION_BYTES)
}

/// A layer alone: its output.
#[test]
fn a_layer_holds_its_output() {
    assert_eq!(memory::<Dense<4, 8, Relu>, Vector<4>>(), (32, 32));
    assert_eq!(memory::<Dense<4, 8, Relu, f64>, Vector<4, f64>>(), (64, 64));
}

/// The digits CNN: outputs 6×6×4 (576 bytes), 3×3×4 (144), 144, 10 (40). The pool runs while
/// the conv's output lives: 576 + 144.
#[test]
fn a_flat_tuple_peaks_at_its_largest_neighbouring_pair() {
    type Cnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);
    assert_eq!(memory::<Cnn, Image<8, 8, 1>>(), (720, 904));
    // Outputs 32, 64 and 8 bytes: 32 + 64.
    assert_eq!(memory::<(Dense<4, 8>, Dense<8, 16>, Dense<16, 2>), Vector<4>>(), (96, 104));
}

/// The inner tuple peaks at 64 + 8 = 72 while the outer one holds its input, 32: 104, more
/// than the flat tuple's 96.
#[test]
fn a_nested_tuple_adds_its_callers_live_input() {
    assert_eq!(memory::<(Dense<4, 8>, (Dense<8, 16>, Dense<16, 2>)), Vector<4>>(), (104, 104));
}

/// The branch's peak, or its output plus the shortcut's: the identity shortcut copies the input.
#[test]
fn a_residual_block_holds_the_branch_output_while_the_shortcut_runs() {
    // Branch: 16 bytes; then 16 + the copy's 16.
    assert_eq!(memory::<Residual<Dense<4, 4>, Skip>, Vector<4>>().0, 32);
    // Branch: 32 + 32 = 64; then 32 + the projection's 32 = 64.
    assert_eq!(memory::<Residual<(Dense<4, 8>, Dense<8, 8>), Dense<4, 8>>, Vector<4>>().0, 64);
    // Branch: 32 + 64 = 96; then its 64-byte output + the projection's 64 = 128.
    assert_eq!(memory::<Residual<(Dense<4, 8>, Dense<8, 16>), Dense<4, 16>>, Vector<4>>().0, 128);
}

/// DS-CNN folded: every image is 25×5×64 `f32` (32 000 bytes); inside a block (its own tuple)
/// two of them live while the block's input does: 96 000, against 640 560 in all.
#[test]
fn ds_cnn_folded() {
    assert_eq!(memory::<ds_cnn::DsCnnFolded, Image<49, 10, 1>>(), (96_000, 640_560));
}

/// DS-CNN in int8, a flat tuple of fused layers: two 25×5×64 int8 images, 16 000 bytes.
#[test]
fn ds_cnn_int8() {
    type DsCnn = (
        Conv2DRect<1, 64, 10, 4, Relu, 2, 2, Same>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        DepthwiseConv2D<64, 3, Relu, 1, Same>,
        Conv2D<64, 64, 1, Relu>,
        AvgPool2D<25, 5>,
        Flatten,
        Dense<64, 12, Softmax>,
    );
    type Q = Int8<DsCnn>;
    assert_eq!(<Q as QLayer<QImage<49, 10, 1>>>::PEAK_ACTIVATION_BYTES, 16_000);
    assert_eq!(<Q as QLayer<QImage<49, 10, 1>>>::ACTIVATION_BYTES, 72_152);
}

/// ResNet-8 folded: the first stack's block runs on the stem's 32×32×16 output (65 536 bytes)
/// and peaks at two more such images inside its branch: 196 608, against 754 216 in all.
#[test]
fn resnet8_folded() {
    assert_eq!(memory::<resnet8::ResNet8Folded, Image<32, 32, 3>>(), (196_608, 754_216));
}

/// ResNet-8 in int8, its ReLUs fused: the first stack's block runs on the stem's 32×32×16 int8
/// output (16 384 bytes) and holds two more such images at its worst (inside its branch: the
/// first convolution's output and the second's; then the branch's output, which the `ADD`
/// overwrites with the sum, and the shortcut's copy of the input): 49 152, a quarter of the f32
/// model's 196 608. The sum of every output is 114 836.
#[test]
fn resnet8_int8() {
    type Q = Int8<resnet8::ResNet8Folded>;
    assert_eq!(<Q as QLayer<QImage<32, 32, 3>>>::PEAK_ACTIVATION_BYTES, 49_152);
    assert_eq!(<Q as QLayer<QImage<32, 32, 3>>>::ACTIVATION_BYTES, 114_836);
}
