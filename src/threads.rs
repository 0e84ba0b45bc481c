//! Batched training on several threads (feature `threads`).
//!
//! Data-parallel: the batch is cut into one contiguous *shard* per thread, each shard runs
//! the ordinary batched forward and backward pass into its own gradient, and the shard
//! gradients are summed. Each sample's gradient is scaled by `1/n` of the *whole* batch, so the
//! result is the batch mean of [`value_and_grad_batch`](crate::backprop::value_and_grad_batch)
//! up to the order of the float additions.
//!
//! Two ways to run the shards:
//!
//! - [`Trainer::fit_threaded`](crate::train::Trainer::fit_threaded) starts a *team* of helper threads
//!   that live for the whole run. Between steps they poll for about a millisecond, then park
//!   until the next step wakes them, so handing them a step costs well under a microsecond
//!   and an idle team uses no CPU.
//! - [`value_and_grad_batch_threaded`] is one step on its own, for your own training loop. It
//!   runs the shards on rayon's global pool through `rayon::join`, which keeps its jobs on the
//!   stack; rayon's idle workers go to sleep after a few microseconds, though, and waking them
//!   costs 10–30 µs per step on a virtual machine. Run your loop inside the pool
//!   (`rayon::scope`) when steps follow each other closely.
//!
//! What two threads buy depends on how far apart the cores are: every step moves the weights
//! to the helper and its gradient back (400 KB for `(Dense<784, 64, Relu>, Dense<64, 10,
//! Softmax>)`). On the 2-core virtual machine of `BENCHMARKS.md`, where a cross-core round trip
//! takes 385 ns, an epoch of that MLP in batches of 128 runs 1.2–1.5× as fast on two threads as on one, depending on the
//! run; the compute alone scales 1.95× there.
//!
//! After the first step (when the shard buffers grow) neither allocates.
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
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

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

/// What a team's threads share for one `fit_threaded` call.
struct Shared<'d, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    /// Read by every thread during a step, written by the optimizer between steps. The
    /// caller's model itself, borrowed: it is never moved, so a panic leaves it in place.
    model: RwLock<&'d mut M>,
    /// The training data; a step names its samples by index.
    xs: &'d [X],
    targets: &'d [L::Target],
    /// The current batch's sample indices, written by the main thread before each step.
    indices: RwLock<Vec<usize>>,
    /// Shard `i` belongs to thread `i`; the main thread is 0.
    shards: Vec<Mutex<TeamShard<M, X, L>>>,
    loss: L,
    /// Bumped by the main thread to start a step.
    generation: AtomicUsize,
    /// Shards finished, over the whole run.
    done: AtomicUsize,
    stop: AtomicBool,
    /// A helper panicked; the main thread stops waiting for it and panics too.
    failed: AtomicBool,
    /// The panic of the first helper that panicked, re-raised on the main thread so that the
    /// caller sees the original message.
    panic: Mutex<Option<Box<dyn core::any::Any + Send>>>,
    /// The main thread, parked while it waits for slow helpers; each helper wakes it when done.
    main: std::thread::Thread,
}

/// A team thread's shard, with the samples it gathers itself (gathering is a copy of the
/// whole batch, too slow to leave to one thread): the inputs back to back as scalars, so that
/// no input is ever a stack temporary.
struct TeamShard<M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    shard: Shard<M, X>,
    xs: Vec<X::Elem>,
    targets: Vec<L::Target>,
}

impl<M: Backward<X>, X: Tensor, L: Loss<M::Out>> Shared<'_, M, X, L>
where
    L::Target: Clone,
{
    /// Gathers and computes shard `i` of the current batch: into its own gradient, or, for the
    /// main thread's shard, straight into the step's `grad` (saving a pass over it).
    fn compute(&self, i: usize, grad: Option<&mut M>) {
        let model = self.model.read().unwrap_or_else(PoisonError::into_inner);
        let indices = self.indices.read().unwrap_or_else(PoisonError::into_inner);
        let n = indices.len();
        let chunk = n.div_ceil(self.shards.len());
        let lo = (i * chunk).min(n);
        let hi = (lo + chunk).min(n);
        let scale = X::Elem::one() / X::Elem::lit(n.max(1) as f64);
        let (Some(shard), Some(mine)) = (self.shards.get(i), indices.get(lo..hi)) else { return };
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let TeamShard { shard, xs, targets } = &mut *shard;
        xs.clear();
        targets.clear();
        for &j in mine {
            if let (Some(x), Some(t)) = (self.xs.get(j), self.targets.get(j)) {
                xs.extend_from_slice(flat(core::slice::from_ref(x)));
                targets.push(t.clone());
            }
        }
        match grad {
            Some(grad) => {
                (shard.len, shard.loss) =
                    Shard::compute_into(&mut shard.workspace, grad, &model, xs, targets, &self.loss, scale);
            }
            None => shard.compute(&model, xs, targets, &self.loss, scale),
        }
    }
}

/// Polls this many times (about a millisecond) waiting for work before parking: long enough to
/// bridge the gap between two steps (the optimizer), short enough not to burn a core through a
/// validation pass.
///
/// The poll is a plain atomic load, without `core::hint::spin_loop()`: on a virtual machine the
/// `pause` instruction it emits lets the hypervisor deschedule a spinning vCPU (pause-loop
/// exiting), which made steps 40% slower here.
const SPINS_BEFORE_PARKING: u32 = 1 << 20;

/// A helper thread: waits for a new generation, computes its shard, reports it done. A panic
/// in the shard (a user's loss or layer) is caught, kept for the main thread to re-raise, and
/// ends the helper; it still counts as done, so the main thread never waits for it.
fn helper<M: Backward<X>, X: Tensor, L: Loss<M::Out>>(shared: &Shared<'_, M, X, L>, i: usize)
where
    L::Target: Clone,
{
    let mut seen = 0;
    loop {
        let mut spins = 0u32;
        loop {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let generation = shared.generation.load(Ordering::Acquire);
            if generation != seen {
                seen = generation;
                break;
            }
            if spins < SPINS_BEFORE_PARKING {
                spins += 1;
            } else {
                // Idle: sleep until `unpark`, which follows every new generation and `stop`
                // (an `unpark` that comes first makes this return at once).
                std::thread::park();
            }
        }
        let computed = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| shared.compute(i, None)));
        if let Err(payload) = computed {
            let mut first = shared.panic.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert(payload);
            shared.failed.store(true, Ordering::Release);
        }
        shared.done.fetch_add(1, Ordering::Release);
        shared.main.unpark();
        if shared.failed.load(Ordering::Acquire) {
            return;
        }
    }
}

/// The training loop's side of a team of threads (see [`with_team`]).
pub(crate) struct Team<'s, 'd, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    shared: &'s Shared<'d, M, X, L>,
    helpers: Vec<std::thread::Thread>,
}

/// The model, write-locked between steps.
pub(crate) struct ModelGuard<'g, 'd, M>(std::sync::RwLockWriteGuard<'g, &'d mut M>);

impl<M> core::ops::Deref for ModelGuard<'_, '_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.0
    }
}

impl<M> core::ops::DerefMut for ModelGuard<'_, '_, M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.0
    }
}

impl<'d, M, X, L> Team<'_, 'd, M, X, L>
where
    X: Tensor,
    M: Backward<X>,
    L: Loss<M::Out>,
    L::Target: Clone,
{
    /// The model, between steps (the helpers are waiting and hold no lock).
    pub(crate) fn model_mut(&mut self) -> ModelGuard<'_, 'd, M> {
        ModelGuard(self.shared.model.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// One step on the samples at `indices` (of the data the team was made with): the mean
    /// loss, and its gradient added into `grad`.
    pub(crate) fn value_and_grad(&mut self, indices: impl Iterator<Item = usize>, grad: &mut M) -> X::Elem {
        let shared = self.shared;
        let n = {
            let mut batch = shared.indices.write().unwrap_or_else(PoisonError::into_inner);
            batch.clear();
            batch.extend(indices);
            batch.len()
        };
        // Every helper is idle, so `done` is stable until the generation changes.
        let target = shared.done.load(Ordering::Acquire) + self.helpers.len();
        shared.generation.fetch_add(1, Ordering::Release);
        for helper in &self.helpers {
            helper.unpark();
        }
        shared.compute(0, Some(grad));
        let mut spins = 0u32;
        while shared.done.load(Ordering::Acquire) < target {
            if spins < SPINS_BEFORE_PARKING {
                spins += 1;
            } else {
                // Woken by the helper that finishes (a spurious wake-up just loops).
                std::thread::park();
            }
        }
        if shared.failed.load(Ordering::Acquire) {
            // A helper's shard panicked: raise its panic here, before the optimizer touches
            // the model. `with_team` then stops the other helpers.
            let payload = shared.panic.lock().unwrap_or_else(PoisonError::into_inner).take();
            std::panic::resume_unwind(payload.unwrap_or_else(|| Box::new("a training thread panicked")));
        }
        let mut total = X::Elem::zero();
        for (i, shard) in shared.shards.iter().enumerate() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            total += shard.shard.loss;
            if i > 0 {
                shard.shard.add_grad_into(grad, n);
            } else {
                // The main shard wrote its state update straight into the (cleared) `grad`:
                // weight it by its share like the others'.
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
        for shard in &self.shared.shards {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let outputs = shard.shard.workspace.outputs().iter().take(shard.shard.len);
            for (y, t) in outputs.zip(&shard.targets) {
                sum.add(metrics(y, t));
            }
        }
        sum
    }
}

/// Runs `body` with a team of `threads` threads ([`capped`]; the caller's and `threads − 1`
/// helpers) sharing `model`, borrowed in place (never moved, so a panic cannot lose it), and
/// the training data `xs`, `targets`. A panic on any thread reaches the caller after every
/// helper has stopped.
pub(crate) fn with_team<M, X, L, R>(
    model: &mut M,
    xs: &[X],
    targets: &[L::Target],
    loss: L,
    threads: usize,
    body: impl FnOnce(&mut Team<'_, '_, M, X, L>) -> R,
) -> R
where
    X: Tensor + Send + Sync,
    M: Backward<X> + Zeros + Send + Sync,
    M::Out: Send,
    L: Loss<M::Out> + Sync,
    L::Target: Clone + Send + Sync,
{
    let shared = Shared {
        model: RwLock::new(model),
        xs,
        targets,
        indices: RwLock::new(Vec::new()),
        shards: (0..capped(threads))
            .map(|_| Mutex::new(TeamShard { shard: Shard::new(), xs: Vec::new(), targets: Vec::new() }))
            .collect(),
        loss,
        generation: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        failed: AtomicBool::new(false),
        panic: Mutex::new(None),
        main: std::thread::current(),
    };
    std::thread::scope(|scope| {
        let shared = &shared;
        let helpers = (1..shared.shards.len())
            .map(|i| scope.spawn(move || helper(shared, i)).thread().clone())
            .collect::<Vec<_>>();
        // Stops the helpers when `body` returns *or unwinds* (a panic in the main thread's
        // shard, or one re-raised from a helper's), so that the scope can join them and the
        // panic reaches the caller instead of waiting for helpers that never stop.
        let stop = StopOnDrop { shared, helpers };
        let mut team = Team { shared, helpers: stop.helpers.clone() };
        body(&mut team)
    })
}

/// Sets the team's `stop` flag and wakes every helper, on drop.
struct StopOnDrop<'s, 'd, M: Backward<X>, X: Tensor, L: Loss<M::Out>> {
    shared: &'s Shared<'d, M, X, L>,
    helpers: Vec<std::thread::Thread>,
}

impl<M: Backward<X>, X: Tensor, L: Loss<M::Out>> Drop for StopOnDrop<'_, '_, M, X, L> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for helper in &self.helpers {
            helper.unpark();
        }
    }
}

/// `threads` capped at the cores the process may use ([`std::thread::available_parallelism`],
/// 1 if unknown): a thread beyond that only waits for a core, and the team's hand-off, which
/// relies on its threads running at the same time, turns into waits for the scheduler (64
/// threads on 2 cores made training about 100× slower).
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
            (team.shared.shards.len(), team.helpers.len())
        });
        assert_eq!(shards, (cores.min(64), cores.min(64) - 1));
    }
}
