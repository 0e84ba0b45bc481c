//! Training: epochs of shuffled mini-batches, Keras' `model.fit` and `model.evaluate`.
//!
//! ```
//! use typed_nn::prelude::*;
//! // Learn y = x₀ > x₁ from eight points.
//! let xs: Vec<Vector<2>> = (0..8).map(|i| Vector::from([(i % 4) as f32, (i / 2) as f32])).collect();
//! let labels: Vec<usize> = xs.iter().map(|x| usize::from(x[0] > x[1])).collect();
//! type Net = (Dense<2, 8, Relu>, Dense<8, 2, Softmax>);
//! let mut model: Net = Net::init(&mut SeedRng::seed(1));
//! let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default())
//!     .epochs(150)
//!     .batch_size(4);
//! let history = trainer.fit(&mut model, &xs, &labels)?;
//! assert!(history.accuracy > Some(0.99), "{history:?}");
//! # Ok::<(), typed_nn::train::TrainError>(())
//! ```
//!
//! With feature `alloc` each mini-batch goes through the batched kernels (one GEMM per `Dense`
//! and direction) with buffers reused across steps; without it, samples are processed one at a
//! time with no heap at all, for on-device fine-tuning. Both compute the same mean gradient.

mod adjust;
mod callbacks;
mod clock;
mod error;
mod history;
mod metrics;
mod order;
#[cfg(feature = "alloc")]
mod predict;
mod progress;
mod stats;
mod step;
mod trainer;
mod update;
mod validation;

#[cfg(feature = "std")]
pub use callbacks::ModelCheckpoint;
pub use callbacks::{Callback, Control, EarlyStopping, LambdaCallback, Mode, Monitor, ReduceLROnPlateau, TrainPlan};
pub use error::TrainError;
pub use history::History;
pub(crate) use metrics::MetricSums;
pub use metrics::{AsClass, MetricTarget, Task};
#[cfg(feature = "alloc")]
pub use predict::predict;
pub use stats::EpochStats;
pub use trainer::Trainer;
