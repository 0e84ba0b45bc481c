//! The [`Layer`] trait and the built-in layers.
//!
//! A layer maps one tensor type to another. The input type is a parameter of the trait, so the
//! compiler knows, for every layer in a model, exactly what goes in and what comes out; a
//! model (a tuple of layers, see [`crate::model`]) is accepted only when each layer takes what
//! the previous one produces.

pub mod dense;

pub use dense::Dense;

use crate::summary::SummaryRow;
use crate::{Params, Tensor};

/// A layer that maps an input tensor `In` to an output tensor [`Out`](Layer::Out).
///
/// Implemented by every built-in layer and by tuples of layers (sequential models). The
/// forward pass takes `&self` and returns a value: no heap, no hidden state, no panics.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let layer: Dense<2, 1> = Dense::new([[2.0], [3.0]], [1.0]);
/// let y: Vector<1> = layer.forward(&Vector::from([1.0, 1.0]));
/// assert_eq!(y[0], 6.0);
/// ```
///
/// # Implementing it for your own layer
/// Implement [`forward`](Layer::forward) and, since every layer is also visited for its
/// parameters, [`Params`] (one empty `impl` if it has none). The batched methods have
/// defaults that loop over samples.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{In}` as its input",
    label = "this layer does not accept `{In}`",
    note = "each layer of a model must take exactly what the previous layer produces"
)]
pub trait Layer<In: Tensor>: Params<In::Elem> {
    /// The tensor this layer produces from an `In`.
    type Out: Tensor<Elem = In::Elem>;

    /// The class name `summary()` shows, as Keras spells it (`"Dense"`, `"MaxPooling2D"`).
    const NAME: &'static str = "Layer";

    /// Computes the layer's output for one sample.
    ///
    /// # Panics
    /// Never, for the built-in layers.
    fn forward(&self, x: &In) -> Self::Out;

    /// Scratch space (in scalars) that [`forward_batch_flat`](Layer::forward_batch_flat) needs
    /// for a batch of `n` samples; 0 unless the layer keeps intermediate results.
    fn batch_scratch_len(n: usize) -> usize {
        let _ = n;
        0
    }

    /// Batched forward on flat buffers: `xs` holds `n` inputs back to back (`n · In::LEN`
    /// scalars), `ys` receives `n` outputs, and `scratch` has at least
    /// [`batch_scratch_len(n)`](Layer::batch_scratch_len) scalars. Callers normally use
    /// [`ForwardBatch::forward_batch`](crate::ForwardBatch::forward_batch) instead.
    ///
    /// The default runs [`forward`](Layer::forward) per sample; `Dense` overrides it with one
    /// GEMM for the whole batch (feature `alloc`). Samples that do not fit the buffers are
    /// skipped, never read or written out of bounds.
    fn forward_batch_flat(&self, n: usize, xs: &[In::Elem], ys: &mut [In::Elem], scratch: &mut [In::Elem]) {
        let _ = scratch;
        for (x, y) in rows(xs, In::LEN, n).zip(rows_mut(ys, Self::Out::LEN, n)) {
            if let Some(x) = In::from_slice(x) {
                y.copy_from_slice(self.forward(&x).as_slice());
            }
        }
    }

    /// Reports one [`SummaryRow`] per layer (a tuple reports each of its layers).
    fn summary_rows(visit: &mut impl FnMut(SummaryRow)) {
        visit(SummaryRow { class: Self::NAME, output_shape: <Self::Out as Tensor>::SHAPE, params: Self::PARAMS });
    }
}

/// The first `n` rows of `len` scalars in `data` (fewer if `data` is short). Works for
/// `len == 0`, unlike `chunks_exact`.
pub(crate) fn rows<T>(data: &[T], len: usize, n: usize) -> impl Iterator<Item = &[T]> {
    (0..n).map_while(move |i| {
        let start = i.checked_mul(len)?;
        data.get(start..start.checked_add(len)?)
    })
}

/// Mutable twin of [`rows`].
pub(crate) fn rows_mut<T>(data: &mut [T], len: usize, n: usize) -> impl Iterator<Item = &mut [T]> {
    let mut rest = data;
    (0..n).map_while(move |_| {
        let (row, tail) = core::mem::take(&mut rest).split_at_mut_checked(len)?;
        rest = tail;
        Some(row)
    })
}
