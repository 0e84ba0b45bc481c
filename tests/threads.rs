//! Feature `threads`: the data-parallel step computes the one-thread step's loss and gradient
//! (up to float rounding) for any number of shards, including more shards than samples, and
//! threaded training follows the one-thread training run.
#![cfg(feature = "threads")]

use core::ops::ControlFlow;

use typed_nn::data::Digits;
use typed_nn::prelude::*;
use typed_nn::train::LambdaCallback;

type Cnn = (Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

fn max_diff(a: &Cnn, b: &Cnn) -> f32 {
    a.params().flatten().zip(b.params().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn the_threaded_step_matches_the_one_thread_step_for_any_shard_count() {
    let digits = Digits::bundled().unwrap();
    let (xs, labels) = digits.train_images();
    let model: Cnn = Cnn::init(&mut SeedRng::seed(3));
    let loss = SparseCategoricalCrossentropy::default();
    for n in [1usize, 2, 7, 32] {
        let (xs, labels) = (&xs[..n], &labels[..n]);
        let mut expected = Cnn::default();
        let l1 = value_and_grad_batch(&model, xs, labels, &loss, &mut expected, &mut Workspace::new()).unwrap();
        assert!(max_diff(&expected, &Cnn::default()) > 1e-4, "the gradient is not trivially zero");
        for threads in [1usize, 2, 3, 5] {
            let mut shards = ThreadedWorkspace::new(threads);
            // Twice: the second step reuses the grown buffers and must clear the shard gradients.
            for _ in 0..2 {
                let mut grad = Cnn::default();
                let l = value_and_grad_batch_threaded(&model, xs, labels, &loss, &mut grad, &mut shards).unwrap();
                assert!((l - l1).abs() < 1e-5, "n {n}, {threads} threads: loss {l} vs {l1}");
                assert!(max_diff(&grad, &expected) < 1e-5, "n {n}, {threads} threads");
                let outputs: Vec<_> = shards.outputs().cloned().collect();
                assert_eq!(outputs.len(), n);
                for (x, y) in xs.iter().zip(&outputs) {
                    let single = model.forward(x);
                    assert!(single.iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
                }
            }
        }
    }
}

#[test]
fn the_threaded_step_rejects_bad_batches_like_the_one_thread_step() {
    let model: Cnn = Cnn::default();
    let loss = SparseCategoricalCrossentropy::default();
    let mut grad = Cnn::default();
    let mut shards = ThreadedWorkspace::new(2);
    let x = [Image::<8, 8, 1>::default(); 3];
    let err = |xs: &[Image<8, 8, 1>], t: &[usize], grad: &mut Cnn, shards: &mut ThreadedWorkspace<Cnn, _>| {
        value_and_grad_batch_threaded(&model, xs, t, &loss, grad, shards).unwrap_err()
    };
    assert_eq!(err(&[], &[], &mut grad, &mut shards), BatchError::Empty);
    assert_eq!(err(&x, &[1, 2], &mut grad, &mut shards), BatchError::TargetCountMismatch { inputs: 3, targets: 2 });
    assert_eq!(err(&x, &[1, 10, 2], &mut grad, &mut shards), BatchError::InvalidTarget { index: 1 });
    assert_eq!(max_diff(&grad, &Cnn::default()), 0.0, "a refused batch leaves the gradient alone");
}

#[test]
fn threaded_training_follows_one_thread_training() {
    let digits = Digits::bundled().unwrap();
    let (xs, labels) = digits.train_images();
    let (test_x, test_y) = digits.test_images();
    let trainer = || Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(3).batch_size(32);
    let mut one: Cnn = Cnn::init(&mut SeedRng::seed(0));
    let mut two = one.clone();
    let a = trainer().fit_validated(&mut one, &xs, &labels, &test_x, &test_y).unwrap();
    let mut epochs = 0;
    let b = trainer()
        .fit_threaded(
            &mut two,
            &xs,
            &labels,
            Some((&test_x, &test_y)),
            2,
            LambdaCallback(|_: &EpochStats| {
                epochs += 1;
                ControlFlow::Continue(())
            }),
        )
        .unwrap();
    assert_eq!(epochs, 3);
    // Same shuffles, same steps; only the order of float additions differs.
    assert!((a.loss - b.loss).abs() < 1e-4, "{a:?} vs {b:?}");
    assert!((a.val_loss.unwrap() - b.val_loss.unwrap()).abs() < 1e-3, "{a:?} vs {b:?}");
    assert!(max_diff(&one, &two) < 1e-3, "weights drifted apart: {}", max_diff(&one, &two));
    assert!(a.val_accuracy.unwrap() > 0.5, "three epochs learn something: {a:?}");
}

/// Mean squared error that panics on a chosen target (a stand-in for a bug in a user's loss),
/// optionally only once it has been called `after` times.
#[derive(Clone)]
struct PanickingLoss {
    poison: f32,
    after: usize,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl PanickingLoss {
    fn on(poison: f32, after: usize) -> Self {
        Self { poison, after, calls: Default::default() }
    }
    fn check(&self, target: &Vector<2>) {
        let calls = self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if target[0] == self.poison && calls >= self.after {
            panic!("the loss refuses {}", self.poison);
        }
    }
}

impl Loss<Vector<2>> for PanickingLoss {
    type Target = Vector<2>;
    fn loss(&self, y: &Vector<2>, target: &Vector<2>) -> f32 {
        self.check(target);
        MeanSquaredError.loss(y, target)
    }
    fn gradient(&self, y: &Vector<2>, target: &Vector<2>, scale: f32, dy: &mut Vector<2>) -> f32 {
        self.check(target);
        MeanSquaredError.gradient(y, target, scale, dy)
    }
    fn valid_target(&self, target: &Vector<2>) -> bool {
        MeanSquaredError.valid_target(target)
    }
}

type Mlp = (Dense<3, 8, Relu>, Dense<8, 2, Sigmoid>);

/// Eight samples, in order (no shuffle, one batch per epoch): with 2 or 3 threads, sample 0
/// is in the calling thread's shard and sample 7 in a helper's. Sample `poisoned` has the
/// target `[9, 9]`, the others `[0, 1]` or `[1, 0]`.
fn poisoned_data(poisoned: usize) -> (Vec<Vector<3>>, Vec<Vector<2>>) {
    let xs = (0..8).map(|i| Vector::from_fn(|j| ((i * 3 + j) % 5) as f32 / 5.0)).collect();
    let ys = (0..8)
        .map(|i| {
            if i == poisoned { Vector::from([9.0, 9.0]) } else { Vector::from([(i % 2) as f32, ((i + 1) % 2) as f32]) }
        })
        .collect();
    (xs, ys)
}

/// Runs `fit_threaded` on `threads` threads on its own thread and returns its panic message and
/// the model; fails (instead of hanging the suite) if the call has not returned in a minute.
fn panicking_fit(poisoned: usize, after: usize, epochs: usize, threads: usize) -> (String, Mlp) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (xs, ys) = poisoned_data(poisoned);
        let mut model = Mlp::init(&mut SeedRng::seed(5));
        let mut trainer =
            Trainer::new(Sgd::new(0.5), PanickingLoss::on(9.0, after)).epochs(epochs).batch_size(8).shuffle(false);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            trainer.fit_threaded(&mut model, &xs, &ys, None, threads, ())
        }));
        let message = match outcome {
            Ok(result) => format!("returned {result:?}"),
            Err(payload) => payload.downcast_ref::<String>().cloned().unwrap_or_default(),
        };
        tx.send((message, model)).unwrap();
    });
    rx.recv_timeout(std::time::Duration::from_secs(60)).expect("fit_threaded returned (no thread left waiting)")
}

fn max_diff_mlp(a: &Mlp, b: &Mlp) -> f32 {
    a.params().flatten().zip(b.params().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn a_panic_in_a_helper_thread_reaches_the_caller_and_leaves_the_model_as_it_was() {
    for threads in [2, 3] {
        let (message, model) = panicking_fit(7, 0, 1, threads);
        assert_eq!(message, "the loss refuses 9", "{threads} threads");
        // The first step panicked: the model is the one passed in, not zeroed.
        assert_eq!(max_diff_mlp(&model, &Mlp::init(&mut SeedRng::seed(5))), 0.0, "{threads} threads");
    }
}

#[test]
fn a_panic_in_the_calling_threads_shard_reaches_the_caller_and_leaves_the_model_as_it_was() {
    for threads in [2, 3] {
        let (message, model) = panicking_fit(0, 0, 1, threads);
        assert_eq!(message, "the loss refuses 9", "{threads} threads");
        assert_eq!(max_diff_mlp(&model, &Mlp::init(&mut SeedRng::seed(5))), 0.0, "{threads} threads");
    }
}

#[test]
fn after_a_panic_the_model_is_the_one_of_the_last_completed_step() {
    // Eight loss calls per epoch: the panic comes in the first step of epoch 3, on whichever
    // thread meets the poisoned sample (here a helper's), after two completed steps.
    let (message, model) = panicking_fit(7, 16, 3, 2);
    assert_eq!(message, "the loss refuses 9");
    let (message, two_epochs) = panicking_fit(7, usize::MAX, 2, 2);
    assert!(message.starts_with("returned Ok"), "{message}");
    assert_ne!(max_diff_mlp(&two_epochs, &Mlp::init(&mut SeedRng::seed(5))), 0.0, "the two steps changed it");
    assert_eq!(max_diff_mlp(&model, &two_epochs), 0.0);
}
