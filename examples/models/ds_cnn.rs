//! DS-CNN, MLPerf Tiny's keyword-spotting model (49 frames × 10 MFCC features, 12 classes), as a
//! type.
//!
//! Keras (functional API), the definition `scripts/keras_mlperf_tiny_fixtures.py` builds:
//!
//! ```text
//! x = Conv2D(64, (10, 4), strides=(2, 2), padding="same")(inputs)     # (25, 5, 64)
//! x = BatchNormalization()(x); x = Activation("relu")(x); x = Dropout(0.2)(x)
//! 4 × [x = DepthwiseConv2D((3, 3), padding="same")(x); BatchNormalization; Activation("relu")
//!      x = Conv2D(64, (1, 1), padding="same")(x); BatchNormalization; Activation("relu")]
//! x = Dropout(0.4)(x); x = AveragePooling2D((25, 5))(x); x = Flatten()(x)
//! outputs = Dense(12, activation="softmax")(x)
//! ```
//!
//! The first convolution's kernel (10 × 4) and the pooling window (25 × 5) are rectangular, and
//! its "same" padding is uneven (4 rows above, 5 below), as Keras pads; the compiler computes
//! every shape. Each depthwise-separable block is one alias, so the model is a tuple of 12.
//!
//! Shared by `examples/14_ds_cnn.rs`, `tests/mlperf_tiny.rs` and `nostd-check` (through
//! `#[path]`).

use typed_nn::prelude::*;

/// `DepthwiseConv2D((3, 3), padding="same") → BN → ReLU → Conv2D(64, (1, 1)) → BN → ReLU`.
pub type DsBlock = (
    DepthwiseConv2D<64, 3, Identity, 1, Same>,
    BatchNormalization<64>,
    ActivationLayer<Relu>,
    Conv2D<64, 64, 1, Identity, 1, Same>,
    BatchNormalization<64>,
    ActivationLayer<Relu>,
);

/// DS-CNN: `Image<49, 10, 1>` in, twelve keyword probabilities out. 24,908 parameters, as Keras
/// counts them (23,756 trainable, 1,152 moving statistics).
pub type DsCnn = (
    Conv2DRect<1, 64, 10, 4, Identity, 2, 2, Same>,
    BatchNormalization<64>,
    ActivationLayer<Relu>,
    Dropout<200>,
    DsBlock,
    DsBlock,
    DsBlock,
    DsBlock,
    Dropout<400>,
    AvgPool2D<25, 5>,
    Flatten,
    Dense<64, 12, Softmax>,
);

/// DS-CNN with every `BatchNormalization` folded into the convolution before it.
pub type DsCnnFolded = typed_nn::fold::Folded<DsCnn>;

/// DS-CNN for inference: folded, then each `ActivationLayer<Relu>` fused into the convolution
/// before it and both `Dropout`s removed — nine convolutions, the pool, `Flatten` and the
/// `Dense`, as TensorFlow's converter leaves it (the same bits as [`DsCnnFolded`]). See
/// [`typed_nn::fuse`].
pub type DsCnnInference = typed_nn::fuse::Fused<DsCnnFolded>;
