//! One training step: how a batch of samples becomes a mean loss and a gradient, on one thread
//! ([`Batch`]) or on a team of threads (feature `threads`).

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::metrics::{MetricSums, MetricTarget};
#[cfg(not(feature = "alloc"))]
use crate::backprop::value_and_grad_scaled;
use crate::{Backward, Loss, Scalar, Tensor};

/// One-thread training: the model, and the buffers of a step: gathered samples for the
/// batched kernels (feature `alloc`), nothing otherwise.
pub(crate) struct Batch<'m, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    model: &'m mut M,
    /// The batch's inputs back to back, as scalars: gathering copies scalars, so no input is
    /// ever a stack temporary (a 224×224×3 image is 600 KB).
    #[cfg(feature = "alloc")]
    xs: Vec<X::Elem>,
    #[cfg(feature = "alloc")]
    targets: Vec<L::Target>,
    #[cfg(feature = "alloc")]
    workspace: crate::backprop::Workspace<M::Out>,
    #[cfg(not(feature = "alloc"))]
    unused: core::marker::PhantomData<Unused<X, L>>,
}

/// The type parameters a heap-free [`Batch`] does not store.
#[cfg(not(feature = "alloc"))]
type Unused<X, L> = fn() -> (X, L);

impl<'m, M: Backward<X>, X: Tensor, L: Loss<M::Out>> Batch<'m, M, X, L> {
    pub(crate) fn new(model: &'m mut M) -> Self {
        Self {
            model,
            #[cfg(feature = "alloc")]
            xs: Vec::new(),
            #[cfg(feature = "alloc")]
            targets: Vec::new(),
            #[cfg(feature = "alloc")]
            workspace: crate::backprop::Workspace::new(),
            #[cfg(not(feature = "alloc"))]
            unused: core::marker::PhantomData,
        }
    }
}

/// How the training loop turns a batch into a gradient: [`Batch`] on one thread,
/// `ThreadedBatch` on several (feature `threads`).
pub(crate) trait Step<M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    /// The model being trained, for the optimizer and for validation between steps.
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_;

    /// Adds the mean gradient of the model on the samples at `indices` into `grad`; returns
    /// their mean loss and the sums of their metrics (of the loss's [`Task`](super::Task)).
    fn step(
        &mut self,
        loss: &L,
        xs: &[X],
        targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, MetricSums);
}

/// Feature `threads`: the batch is cut into shards computed by a team of threads.
#[cfg(feature = "threads")]
impl<M, X, L> Step<M, X, L> for crate::threads::Team<'_, M, X, L>
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: MetricTarget<M::Out> + Clone + Send + Sync,
{
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_ {
        self.model_mut()
    }

    fn step(
        &mut self,
        // The team holds the loss, and the data it was made with (the same `xs` and `targets`
        // the loop passes here); each thread gathers its own samples by index.
        loss: &L,
        _xs: &[X],
        _targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, MetricSums) {
        let value = self.value_and_grad(indices, grad);
        let task = loss.task();
        let metrics = self.sum_metrics(|y, t| MetricSums::of(task, y, t));
        (value.to_f64_lossless(), metrics)
    }
}

impl<M: Backward<X>, X: Tensor, L: Loss<M::Out>> Step<M, X, L> for Batch<'_, M, X, L>
where
    L::Target: MetricTarget<M::Out> + Clone,
{
    fn model(&mut self) -> impl core::ops::DerefMut<Target = M> + '_ {
        &mut *self.model
    }

    fn step(
        &mut self,
        loss: &L,
        xs: &[X],
        targets: &[L::Target],
        indices: impl Iterator<Item = usize> + Clone,
        grad: &mut M,
    ) -> (f64, MetricSums) {
        let model: &M = self.model;
        let task = loss.task();
        #[cfg(feature = "alloc")]
        {
            self.xs.clear();
            self.targets.clear();
            for i in indices {
                if let (Some(x), Some(t)) = (xs.get(i), targets.get(i)) {
                    self.xs.extend_from_slice(crate::kernel::cast::flat(core::slice::from_ref(x)));
                    self.targets.push(t.clone());
                }
            }
            let n = self.targets.len();
            let value = crate::backprop::check_batch::<M::Out, L>(n, &self.targets, loss).map(|()| {
                let scale = <X::Elem as num_traits::One>::one() / X::Elem::lit(n as f64);
                let sum = crate::backprop::batch_loss_sum_flat::<M, X, L>(
                    model,
                    &self.xs,
                    &self.targets,
                    loss,
                    scale,
                    grad,
                    &mut self.workspace,
                );
                sum * scale
            });
            let mut metrics = MetricSums::default();
            for (y, t) in self.workspace.outputs().iter().zip(&self.targets) {
                metrics.add(MetricSums::of(task, y, t));
            }
            (value.map_or(f64::NAN, |v| v.to_f64_lossless()), metrics)
        }
        #[cfg(not(feature = "alloc"))]
        {
            let count = indices.clone().count();
            let scale = X::Elem::lit(1.0 / count.max(1) as f64);
            let (mut total, mut metrics) = (0.0f64, MetricSums::default());
            for i in indices {
                if let (Some(x), Some(t)) = (xs.get(i), targets.get(i)) {
                    total += value_and_grad_scaled(model, x, t, loss, scale, grad, None).to_f64_lossless();
                    metrics.add(MetricSums::of(task, &model.forward(x), t));
                }
            }
            (total / count.max(1) as f64, metrics)
        }
    }
}
