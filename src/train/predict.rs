//! [`predict`]: a model's outputs for a slice of inputs, batch by batch (feature `alloc`).

use alloc::vec;
use alloc::vec::Vec;

use super::TrainError;
use crate::batch::ForwardBatch;
use crate::{Layer, Tensor};

/// The model's output for every input, in order, computed `batch_size` inputs at a time
/// through the batched forward pass (one GEMM per `Dense` per batch).
///
/// **Keras equivalent:** `model.predict(xs, batch_size=32)`;
/// [`Trainer::predict`](super::Trainer::predict) uses the trainer's batch size.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::train::predict;
/// type Mlp = (Dense<4, 8, Relu>, Dense<8, 3, Softmax>);
/// let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
/// let xs: Vec<Vector<4>> = (0..10).map(|i| Vector::from([i as f32 / 10.0; 4])).collect();
/// let ys: Vec<Vector<3>> = predict(&model, &xs, 4)?;
/// assert_eq!(ys.len(), 10);
/// assert!((ys[7].iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// # Ok::<(), TrainError>(())
/// ```
///
/// # Errors
/// [`TrainError::ZeroBatchSize`] if `batch_size` is 0.
///
/// # Allocation
/// The result (`xs.len()` outputs) and one scratch buffer for the intermediate activations
/// of a single batch, reused for every batch: its size follows `batch_size`, not `xs.len()`.
pub fn predict<M, X>(model: &M, xs: &[X], batch_size: usize) -> Result<Vec<M::Out>, TrainError>
where
    X: Tensor,
    M: Layer<X> + ForwardBatch<X>,
{
    if batch_size == 0 {
        return Err(TrainError::ZeroBatchSize);
    }
    let mut ys = vec![M::Out::default(); xs.len()];
    let mut scratch = Vec::new();
    for (x, y) in xs.chunks(batch_size).zip(ys.chunks_mut(batch_size)) {
        // The chunks have equal lengths, so the only error (a length mismatch) cannot occur.
        if model.forward_batch_with(x, y, &mut scratch).is_err() {
            return Err(TrainError::ZeroBatchSize);
        }
    }
    Ok(ys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::init::SeedRng;
    use crate::{Dense, Params, Vector};

    #[test]
    fn predict_equals_the_forward_pass_of_each_sample_for_any_batch_size() {
        type Net = (Dense<3, 5, Relu>, Dense<5, 2, Softmax>);
        let model: Net = Params::init(&mut SeedRng::seed(4));
        let xs: Vec<Vector<3>> =
            (0..11).map(|i| Vector::from([i as f32 * 0.3 - 1.0, 0.5, -(i as f32) * 0.1])).collect();
        for batch_size in [1, 3, 4, 11, 64] {
            let ys = predict(&model, &xs, batch_size).unwrap_or_default();
            assert_eq!(ys.len(), xs.len());
            for (x, y) in xs.iter().zip(&ys) {
                let single = model.forward(x);
                assert!(
                    single.iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-6),
                    "batch {batch_size}: {single:?} vs {y:?}"
                );
            }
        }
        assert_eq!(predict(&model, &xs, 0), Err(TrainError::ZeroBatchSize));
    }
}
