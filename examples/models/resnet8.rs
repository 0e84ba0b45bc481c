//! ResNet-8, MLPerf Tiny's image-classification model (CIFAR-10, 32×32×3), as a type.
//!
//! Keras (functional API), the definition `scripts/keras_mlperf_tiny_fixtures.py` builds:
//!
//! ```text
//! x = Conv2D(16, 3, padding="same")(inputs); x = BatchNormalization()(x); x = Activation("relu")(x)
//! for f, s in (16, 1), (32, 2), (64, 2):
//!     y = Conv2D(f, 3, strides=s, padding="same")(x); y = BatchNormalization()(y)
//!     y = Activation("relu")(y)
//!     y = Conv2D(f, 3, padding="same")(y); y = BatchNormalization()(y)
//!     if s != 1: x = Conv2D(f, 1, strides=s, padding="same")(x)
//!     x = Add()([x, y]); x = Activation("relu")(x)
//! x = AveragePooling2D(8)(x); x = Flatten()(x); outputs = Dense(10, activation="softmax")(x)
//! ```
//!
//! Each repeated piece is a generic type alias, so the model below reads line for line like the
//! Keras code, and no tuple comes near the 12-layer limit: a stack is one element of the
//! model's tuple, whatever it holds.
//!
//! Shared by `examples/12_resnet8.rs`, `tests/mlperf_tiny.rs` and `nostd-check` (through
//! `#[path]`), so that all three use this one definition.

use typed_nn::prelude::*;

/// `Conv2D(F, 3, strides=S, padding="same")` without an activation, as ResNet writes it (the
/// normalisation comes between the convolution and the ReLU).
pub type Conv3<const C: usize, const F: usize, const S: usize> = Conv2D<C, F, 3, Identity, S, Same>;

/// The branch of a residual stack: `Conv → BN → ReLU → Conv → BN`, the first convolution with
/// stride `S` (which halves the image when `S` is 2).
pub type Branch<const C: usize, const F: usize, const S: usize> =
    (Conv3<C, F, S>, BatchNormalization<F>, ActivationLayer<Relu>, Conv3<F, F, 1>, BatchNormalization<F>);

/// Stack 1: `relu(x + branch(x))`, the identity shortcut (the branch keeps the shape).
pub type IdentityStack<const F: usize> = (Residual<Branch<F, F, 1>>, ActivationLayer<Relu>);

/// Stacks 2 and 3: `relu(projection(x) + branch(x))`, where the branch halves the image and
/// goes from `C` to `F` channels, so the shortcut is `Conv2D(F, 1, strides=2, padding="same")`.
pub type ProjectionStack<const C: usize, const F: usize> =
    (Residual<Branch<C, F, 2>, Conv2D<C, F, 1, Identity, 2, Same>>, ActivationLayer<Relu>);

/// ResNet-8: `Image<32, 32, 3>` in, ten class probabilities out. 78,666 parameters, as Keras
/// counts them (78,186 trainable, 480 moving statistics).
pub type ResNet8 = (
    Conv3<3, 16, 1>,
    BatchNormalization<16>,
    ActivationLayer<Relu>,
    IdentityStack<16>,
    ProjectionStack<16, 32>,
    ProjectionStack<32, 64>,
    AvgPool2D<8>,
    Flatten,
    Dense<64, 10, Softmax>,
);

/// ResNet-8 with every `BatchNormalization` folded into the convolution before it: the type
/// [`FoldBatchNorm::fold_batch_norm`] returns, computed by the compiler.
pub type ResNet8Folded = typed_nn::fold::Folded<ResNet8>;

/// ResNet-8 for inference: folded, then each `ActivationLayer<Relu>` after a convolution fused
/// into it (`Conv3<.., Identity, ..>` becomes the same convolution with `Relu`, the same bits);
/// the ReLU after each residual block's `Add` stays a layer. See [`typed_nn::fuse`].
pub type ResNet8Inference = typed_nn::fuse::Fused<ResNet8Folded>;
