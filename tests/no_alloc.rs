//! A counting global allocator proves that single-sample inference and a single-sample
//! training step allocate nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use typed_nn::prelude::*;

struct Counting;

std::thread_local! {
    /// Allocations made by this thread. Per thread because the test harness's main thread
    /// allocates while the test runs (it prints and collects results), which made a global
    /// count fail now and then.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // A `const` thread-local without a destructor never allocates; `try_with` only fails
        // while the thread is being torn down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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

/// Allocations made by this thread while running `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
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

#[test]
fn forward_batch_reuses_its_scratch_on_the_next_call() {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(2));
    let xs = vec![Vector::from([0.25f32; 784]); 32];
    let mut ys = vec![Vector::<10>::default(); 32];
    type Mlp64 = (Dense<8, 16, Relu, f64>, Dense<16, 2, Softmax, f64>);
    let small: Mlp64 = Mlp64::init(&mut SeedRng::seed(3));
    let xs64 = vec![Vector::from([0.5f64; 8]); 4];
    let mut ys64 = vec![Vector::<2, f64>::default(); 4];
    // The first calls size this thread's buffers (one per float type).
    model.forward_batch(&xs, &mut ys).unwrap();
    small.forward_batch(&xs64, &mut ys64).unwrap();
    // matrixmultiply allocates its packing buffers in every GEMM call; beyond those, a warm
    // `forward_batch` allocates no more than `forward_batch_with` given a warm buffer.
    let mut own = Vec::new();
    model.forward_batch_with(&xs, &mut ys, &mut own).unwrap();
    let with_own_buffer = allocations_during(|| model.forward_batch_with(&xs, &mut ys, &mut own).unwrap());
    let n = allocations_during(|| model.forward_batch(&xs, &mut ys).unwrap());
    assert_eq!(n, with_own_buffer, "forward_batch allocated its scratch again");
    let n = allocations_during(|| {
        small.forward_batch(&xs64, &mut ys64).unwrap();
        model.forward_batch(&xs[..16], &mut ys[..16]).unwrap();
    });
    let with_own_buffers = allocations_during(|| {
        small.forward_batch_with(&xs64, &mut ys64, &mut Vec::with_capacity(1000)).unwrap();
        model.forward_batch_with(&xs[..16], &mut ys[..16], &mut own).unwrap();
    }) - 1; // the `with_capacity` above
    assert_eq!(n, with_own_buffers, "switching float types or batch sizes reallocated");
    for (a, b) in ys[0].iter().zip(model.forward(&xs[0]).iter()) {
        assert!((a - b).abs() < 1e-5, "and computes the model: {a} vs {b}");
    }
}
