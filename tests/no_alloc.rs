//! A counting global allocator proves that single-sample inference and a single-sample
//! training step allocate nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use typed_nn::prelude::*;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// Whether this thread's allocations count: only the test's own, so that the harness's
    /// threads (which allocate now and then, more often on a loaded machine) cannot fail it.
    static COUNTED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTED.try_with(core::cell::Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f` (this test file holds a single test).
fn allocations_during(f: impl FnOnce()) -> usize {
    COUNTED.with(|c| c.set(true));
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTED.with(|c| c.set(false));
    after - before
}

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

#[test]
fn single_sample_inference_and_training_step_allocate_nothing() {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(1));
    let mut grad = Mlp::default();
    let x = Vector::from([0.5f32; 784]);
    let onehot = Vector::from([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);

    let n = allocations_during(|| {
        let y = model.forward(&x);
        assert!(y[0] > 0.0);
    });
    assert_eq!(n, 0, "forward allocated");

    let n = allocations_during(|| {
        let loss = value_and_grad(&model, &x, &onehot, &CategoricalCrossentropy::default(), &mut grad).unwrap();
        assert!(loss > 0.0);
        let loss = value_and_grad(&model, &x, &3, &SparseCategoricalCrossentropy::default(), &mut grad).unwrap();
        assert!(loss > 0.0);
        // Refusing a class that does not exist allocates nothing either.
        let refused = value_and_grad(&model, &x, &10, &SparseCategoricalCrossentropy::default(), &mut grad);
        assert_eq!(refused, Err(BatchError::InvalidTarget { index: 0 }));
    });
    assert_eq!(n, 0, "a training step (forward, loss, backward) allocated");

    // The counter works: a Vec does allocate.
    assert_eq!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))), 1);
}
