//! Batched training on several threads (feature `threads`).
//!
//! Data-parallel: the batch is cut into one contiguous *shard* per thread, each shard runs
//! the ordinary batched forward and backward pass into its own gradient, and the shard
//! gradients are summed. Each sample's gradient is scaled by `1/n` of the *whole* batch, so the
//! result is the batch mean of [`value_and_grad_batch`](crate::backprop::value_and_grad_batch)
//! up to the order of the float additions.
//!
//! Two ways to run the shards, both on [rayon](https://docs.rs/rayon):
//!
//! - [`Trainer::fit_threaded`](crate::train::Trainer::fit_threaded) makes a rayon pool of
//!   `threads − 1` workers that lives for the whole run. Each step the calling thread hands one
//!   shard to each worker (a `rayon` scope on its stack), computes the first shard itself and
//!   waits for the others; the training loop and the optimizer stay on the calling thread.
//!   Idle workers yield, then sleep, so an idle or descheduled team costs the other processes
//!   on the machine nothing. Each step allocates one small rayon job per worker.
//! - [`value_and_grad_batch_threaded`] is one step on its own, for your own training loop. It
//!   runs the shards on rayon's global pool through `rayon::join`, which keeps its jobs on the
//!   stack, so once its buffers have grown it does not allocate. Run your loop inside the pool
//!   (`rayon::scope`) when steps follow each other closely: a worker that has gone to sleep
//!   costs 10–30 µs to wake on a virtual machine.
//!
//! What two threads buy depends on the machine: every step moves the weights to the helper and
//! its gradient back (400 KB for `(Dense<784, 64, Relu>, Dense<64, 10, Softmax>)`), and the
//! step waits for its slowest shard. On the 2-core virtual machine of `BENCHMARKS.md`, the
//! compute alone scales 1.95× when it has both cores; shared with other builds (load average
//! 9–10), an epoch of that MLP on two threads took 1.2–1.3× as long as on one (the earlier
//! hand-written, polling team: 3.1×), see `BENCHMARKS.md`.
//!
//! ```
//! use typed_nn::prelude::*;
//!
//! type Mlp = (Dense<8, 16, Relu>, Dense<16, 3, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let xs: Vec<Vector<8>> = (0..32).map(|i| Vector::from_fn(|j| ((i * j) % 7) as f32 / 7.0)).collect();
//! let labels: Vec<usize> = (0..32).map(|i| i % 3).collect();
//! let loss = SparseCategoricalCrossentropy::default();
//!
//! let (mut one, mut two) = (Mlp::default(), Mlp::default());
//! let l1 = value_and_grad_batch(&model, &xs, &labels, &loss, &mut one, &mut Workspace::new())?;
//! let mut shards = ThreadedWorkspace::new(2);
//! let l2 = value_and_grad_batch_threaded(&model, &xs, &labels, &loss, &mut two, &mut shards)?;
//! assert!((l1 - l2).abs() < 1e-6);
//! assert!(one.0.kernel.iter().flatten().zip(two.0.kernel.iter().flatten()).all(|(a, b)| (a - b).abs() < 1e-6));
//! # Ok::<(), typed_nn::BatchError>(())
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;

use num_traits::{One, Zero};

use crate::backprop::{Workspace, batch_loss_sum_flat, check_batch};
use crate::kernel::cast::flat;
use crate::loss::Loss;
use crate::{Backward, BatchError, Scalar, Tensor, Zeros};

/// One thread's part of a step: its buffers, its gradient and its loss sum.
struct Shard<M: Backward<X>, X: Tensor> {
    workspace: Workspace<M::Out>,
    grad: Box<M>,
    loss: X::Elem,
    len: usize,
}

impl<M: Backward<X> + Zeros, X: Tensor> Shard<M, X> {
    fn new() -> Self {
        Self { workspace: Workspace::new(), grad: Box::new(M::zeros()), loss: X::Elem::zero(), len: 0 }
    }
}

impl<M: Backward<X>, X: Tensor> Shard<M, X> {
    /// This shard's loss sum and gradient (into its own, cleared, `grad`) on the inputs `xs`
    /// (back to back, as scalars), which may be empty when there are more shards than samples.
    fn compute<L: Loss<M::Out>>(&mut self, model: &M, xs: &[X::Elem], targets: &[L::Target], loss: &L, scale: X::Elem) {
        self.grad.zero_params();
        let Self { workspace, grad, .. } = self;
        (self.len, self.loss) = Self::compute_into(workspace, grad, model, xs, targets, loss, scale);
    }

    /// The shard's length and loss sum, its gradient added into `grad`.
    fn compute_into<L: Loss<M::Out>>(
        workspace: &mut Workspace<M::Out>,
        grad: &mut M,
        model: &M,
        xs: &[X::Elem],
        targets: &[L::Target],
        loss: &L,
        scale: X::Elem,
    ) -> (usize, X::Elem) {
        let n = targets.len().min(xs.len() / X::LEN.max(1));
        let targets = targets.get(..n).unwrap_or(targets);
        if n == 0 {
            return (0, X::Elem::zero());
        }
        (n, batch_loss_sum_flat::<M, X, L>(model, xs, targets, loss, scale, grad, workspace))
    }

    /// Adds this shard's gradient into `grad`, and its state update (batch normalisation's
    /// moving statistics) weighted by its share `len/n` of the batch, so that the step's state
    /// update is the shards' size-weighted mean (see `layer::batch_norm`).
    fn add_grad_into(&self, grad: &mut M, n: usize) {
        if self.len > 0 {
            for (g, s) in grad.params_mut().zip(self.grad.params()) {
                for (g, &s) in g.iter_mut().zip(s) {
                    *g += s;
                }
            }
            crate::params::add_state(grad, &*self.grad, Self::share(self.len, n));
        }
    }

    /// `len/n` as a scalar.
    fn share(len: usize, n: usize) -> X::Elem {
        X::Elem::lit(len as f64 / n.max(1) as f64)
    }
}

/// Buffers for [`value_and_grad_batch_threaded`]: one [`Workspace`] and one gradient per
/// thread, kept between steps.
///
/// # Allocation
/// [`new`](ThreadedWorkspace::new) allocates one gradient (a model-sized value) per thread;
/// the buffers then grow on the first step and are reused after that.
pub struct ThreadedWorkspace<M: Backward<X>, X: Tensor> {
    shards: Vec<Shard<M, X>>,
}

impl<M: Backward<X> + Zeros, X: Tensor> ThreadedWorkspace<M, X> {
    /// Buffers for `threads` shards (at least one). Two shards on two cores is the point of
    /// the feature; more shards than cores only adds overhead.
    pub fn new(threads: usize) -> Self {
        let shards = (0..threads.max(1)).map(|_| Shard::new()).collect();
        Self { shards }
    }
}

impl<M: Backward<X>, X: Tensor> ThreadedWorkspace<M, X> {
    /// The number of shards a batch is cut into.
    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// The model outputs of the last batch, in order.
    pub fn outputs(&self) -> impl Iterator<Item = &M::Out> {
        self.shards.iter().flat_map(|s| s.workspace.outputs().iter().take(s.len))
    }
}

/// [`value_and_grad_batch`](crate::backprop::value_and_grad_batch) on
/// [`workspace.threads()`](ThreadedWorkspace::threads) threads: the mean loss over the batch,
/// and its gradient added into `grad`.
///
/// # Errors
/// As [`value_and_grad_batch`](crate::backprop::value_and_grad_batch): an empty batch, a
/// target count that differs from the input count, or an invalid target.
///
/// # Allocation
/// None once the workspace has grown to the batch size.
pub fn value_and_grad_batch_threaded<M, X, L>(
    model: &M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    grad: &mut M,
    workspace: &mut ThreadedWorkspace<M, X>,
) -> Result<X::Elem, BatchError>
where
    X: Tensor + Sync,
    M: Backward<X> + Sync + Send,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Sync,
{
    check_batch::<M::Out, L>(xs.len(), targets, loss)?;
    let n = xs.len();
    let scale = X::Elem::one() / X::Elem::lit(n as f64);
    let chunk = n.div_ceil(workspace.shards.len());
    run(model, xs, targets, loss, scale, chunk, &mut workspace.shards);
    let mut total = X::Elem::zero();
    for shard in &workspace.shards {
        total += shard.loss;
        shard.add_grad_into(grad, n);
    }
    Ok(total * scale)
}

/// Runs the shards, halving the list at each `rayon::join` so that `k` shards take
/// `log₂ k` levels of joins.
fn run<M, X, L>(
    model: &M,
    xs: &[X],
    targets: &[L::Target],
    loss: &L,
    scale: X::Elem,
    chunk: usize,
    shards: &mut [Shard<M, X>],
) where
    X: Tensor + Sync,
    M: Backward<X> + Sync + Send,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Sync,
{
    match shards {
        [] => {}
        [shard] => {
            let xs = xs.get(..chunk).unwrap_or(xs);
            shard.compute(model, flat(xs), targets.get(..xs.len()).unwrap_or(targets), loss, scale);
        }
        _ => {
            let (left, right) = shards.split_at_mut(shards.len() / 2);
            let split = (left.len() * chunk).min(xs.len());
            let (xs_l, xs_r) = xs.split_at(split);
            let (t_l, t_r) = targets.split_at(split.min(targets.len()));
            rayon::join(
                || run(model, xs_l, t_l, loss, scale, chunk, left),
                || run(model, xs_r, t_r, loss, scale, chunk, right),
            );
        }
    }
}

/// A team thread's shard, with the samples it gathers itself (gathering is a copy of the
/// whole batch, too slow to leave to one thread): the inputs back to back as scalars, so that
/// no input is ever a stack temporary.
struct TeamShard<M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    shard: Shard<M, X>,
    xs: Vec<X::Elem>,
    targets: Vec<L::Target>,
}

/// The training loop's side of a team of threads (see [`with_team`]): the calling thread
/// computes shard 0 and the workers of a rayon pool of its own the others, each step a rayon
/// scope on the caller's stack ([`rayon::ThreadPool::in_place_scope`], so that the training
/// loop itself stays on the calling thread and needs no `Send`). A panic in any shard reaches
/// the caller when the scope ends (rayon waits for the other shards first), before the
/// optimizer runs.
pub(crate) struct Team<'d, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    model: &'d mut M,
    xs: &'d [X],
    targets: &'d [L::Target],
    loss: L,
    indices: Vec<usize>,
    shards: Vec<TeamShard<M, X, L>>,
    /// `None` for one shard (or if the pool's threads could not be started: then the shards
    /// run one after the other on the calling thread).
    pool: Option<rayon::ThreadPool>,
}

impl<'d, M, X, L> Team<'d, M, X, L>
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Zeros + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Clone + Send + Sync,
{
    fn new(model: &'d mut M, xs: &'d [X], targets: &'d [L::Target], loss: L, threads: usize) -> Self {
        let threads = capped(threads);
        let shards =
            (0..threads).map(|_| TeamShard { shard: Shard::new(), xs: Vec::new(), targets: Vec::new() }).collect();
        let pool =
            (threads > 1).then(|| rayon::ThreadPoolBuilder::new().num_threads(threads - 1).build().ok()).flatten();
        Self { model, xs, targets, loss, indices: Vec::new(), shards, pool }
    }
}

impl<M, X, L> Team<'_, M, X, L>
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Clone + Send + Sync,
{
    /// The model, between steps.
    pub(crate) fn model_mut(&mut self) -> &mut M {
        self.model
    }

    /// One step on the samples at `indices`: the mean loss, and its gradient added into `grad`.
    pub(crate) fn value_and_grad(&mut self, indices: impl Iterator<Item = usize>, grad: &mut M) -> X::Elem {
        self.indices.clear();
        self.indices.extend(indices);
        let n = self.indices.len();
        let chunk = n.div_ceil(self.shards.len());
        let scale = X::Elem::one() / X::Elem::lit(n.max(1) as f64);
        let Self { model, xs, targets, loss, indices, shards, pool } = self;
        let (model, xs, targets, loss) = (&**model, *xs, *targets, &*loss);
        let mut parts = indices.chunks(chunk.max(1));
        let Some((first, rest)) = shards.split_first_mut() else { return X::Elem::zero() };
        let mine = parts.next().unwrap_or(&[]);
        match pool {
            Some(pool) => pool.in_place_scope(|scope| {
                for (shard, part) in rest.iter_mut().zip(parts.by_ref()) {
                    scope.spawn(move |_| shard.gather_and_compute(model, xs, targets, loss, part, scale, None));
                }
                first.gather_and_compute(model, xs, targets, loss, mine, scale, Some(grad));
            }),
            None => {
                first.gather_and_compute(model, xs, targets, loss, mine, scale, Some(grad));
                for (shard, part) in rest.iter_mut().zip(parts) {
                    shard.gather_and_compute(model, xs, targets, loss, part, scale, None);
                }
            }
        }
        // Shards past the batch's end (more shards than samples) got no part: empty them.
        let used = n.div_ceil(chunk.max(1));
        for shard in shards.iter_mut().skip(used.max(1)) {
            shard.shard.len = 0;
            shard.shard.loss = X::Elem::zero();
            shard.targets.clear();
        }
        let mut total = X::Elem::zero();
        for (i, shard) in shards.iter().enumerate() {
            total += shard.shard.loss;
            if i > 0 {
                shard.shard.add_grad_into(grad, n);
            } else {
                crate::params::scale_state(grad, Shard::<M, X>::share(shard.shard.len, n));
            }
        }
        total / X::Elem::lit(n.max(1) as f64)
    }

    /// The sum of `metrics` over the last batch's outputs and their targets.
    pub(crate) fn sum_metrics(
        &self,
        mut metrics: impl FnMut(&M::Out, &L::Target) -> crate::train::MetricSums,
    ) -> crate::train::MetricSums {
        let mut sum = crate::train::MetricSums::default();
        for shard in &self.shards {
            let outputs = shard.shard.workspace.outputs().iter().take(shard.shard.len);
            for (y, t) in outputs.zip(&shard.targets) {
                sum.add(metrics(y, t));
            }
        }
        sum
    }
}

impl<M: Backward<X>, X: Tensor, L: Loss<M::Out>> TeamShard<M, X, L>
where
    L::Target: Clone,
{
    /// Gathers the samples at `part` and computes this shard: into its own gradient, or
    /// straight into the step's `grad` (the calling thread's shard).
    #[allow(clippy::too_many_arguments)]
    fn gather_and_compute(
        &mut self,
        model: &M,
        xs: &[X],
        targets: &[L::Target],
        loss: &L,
        part: &[usize],
        scale: X::Elem,
        grad: Option<&mut M>,
    ) {
        let Self { shard, xs: gathered, targets: gathered_targets } = self;
        gathered.clear();
        gathered_targets.clear();
        for &j in part {
            if let (Some(x), Some(t)) = (xs.get(j), targets.get(j)) {
                gathered.extend_from_slice(flat(core::slice::from_ref(x)));
                gathered_targets.push(t.clone());
            }
        }
        match grad {
            Some(grad) => {
                (shard.len, shard.loss) =
                    Shard::compute_into(&mut shard.workspace, grad, model, gathered, gathered_targets, loss, scale);
            }
            None => shard.compute(model, gathered, gathered_targets, loss, scale),
        }
    }
}

/// Runs `body` with a team of `threads` threads ([`capped`]; the caller's and a rayon pool of
/// `threads − 1` workers) sharing `model`, borrowed in place (never moved, so a panic cannot
/// lose it), and the training data `xs`, `targets`. A panic on any thread reaches the caller;
/// the pool's workers end when the team is dropped.
pub(crate) fn with_team<M, X, L, R>(
    model: &mut M,
    xs: &[X],
    targets: &[L::Target],
    loss: L,
    threads: usize,
    body: impl FnOnce(&mut Team<'_, M, X, L>) -> R,
) -> R
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Zeros + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Clone + Send + Sync,
{
    body(&mut Team::new(model, xs, targets, loss, threads))
}

/// `threads` capped at the cores the process may use ([`std::thread::available_parallelism`],
/// 1 if unknown): a thread beyond that only waits for a core (64 threads of the earlier,
/// polling team on 2 cores made training about 100× slower).
pub(crate) fn capped(threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, core::num::NonZero::get);
    threads.clamp(1, cores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Softmax};
    use crate::loss::SparseCategoricalCrossentropy;
    use crate::{Dense, Vector};

    #[test]
    fn the_team_never_has_more_threads_than_cores() {
        let cores = std::thread::available_parallelism().map_or(1, core::num::NonZero::get);
        assert_eq!((capped(0), capped(1), capped(64), capped(usize::MAX)), (1, 1, cores.min(64), cores));
        type Mlp = (Dense<2, 2, Relu>, Dense<2, 2, Softmax>);
        let mut model = Mlp::default();
        let xs = [Vector::from([1.0, 0.0])];
        let shards = with_team(&mut model, &xs, &[0], SparseCategoricalCrossentropy::default(), 64, |team| {
            (team.shards.len(), team.pool.as_ref().map_or(0, rayon::ThreadPool::current_num_threads))
        });
        assert_eq!(shards, (cores.min(64), cores.min(64) - 1));
    }
}
