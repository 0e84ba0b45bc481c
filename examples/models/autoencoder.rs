//! MLPerf Tiny's anomaly-detection model, a fully connected autoencoder on 640 features (log-mel
//! spectrogram frames of machine sounds), as a type.
//!
//! Keras, the definition `scripts/keras_mlperf_tiny_fixtures.py` builds:
//!
//! ```text
//! Sequential([Input((640,)),
//!     4 × [Dense(128), BatchNormalization(), Activation("relu")],
//!     Dense(8), BatchNormalization(), Activation("relu"),
//!     4 × [Dense(128), BatchNormalization(), Activation("relu")],
//!     Dense(640)])                                    # trained with the mean squared error
//! ```
//!
//! Twenty-eight layers: each `Dense → BN → ReLU` triple is one generic type alias, so the model
//! is a tuple of ten elements and reads like the Keras list.
//!
//! Shared by `examples/11_autoencoder.rs` and `tests/mlperf_tiny.rs` (through `#[path]`).

use typed_nn::prelude::*;

/// `Dense(OUT) → BatchNormalization → Activation("relu")`, from `IN` features.
pub type DenseBlock<const IN: usize, const OUT: usize> =
    (Dense<IN, OUT>, BatchNormalization<OUT>, ActivationLayer<Relu>);

/// The autoencoder: `Vector<640>` in, its reconstruction `Vector<640>` out, through an 8-wide
/// bottleneck. 269,992 parameters, as Keras counts them (267,928 trainable, 2,064 moving
/// statistics).
pub type Autoencoder = (
    DenseBlock<640, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 8>,
    DenseBlock<8, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    Dense<128, 640>,
);

/// The autoencoder with every `BatchNormalization` folded into the `Dense` before it: ten
/// `Dense` layers and nine activation layers.
pub type AutoencoderFolded = typed_nn::fold::Folded<Autoencoder>;
