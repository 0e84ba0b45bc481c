//! A counting global allocator proves that int8 inference and post-training calibration
//! allocate nothing, with `std` too.
//!
//! With `std`, the first int8 forward pass in a process picks the kernel path: it asks the CPU
//! and reads `TYPED_NN_SIMD`, which allocates a copy of the value only when the variable is set.
#![cfg(feature = "tflite")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use typed_nn::prelude::*;
use typed_nn::quant::{self, Int8, QImage, QLayer, QVector};
use typed_nn::tflite::FromTflite;

struct Counting;

std::thread_local! {
    /// Allocations made by this thread. Per thread because the test harness's main thread
    /// allocates while the test runs, which made a global count fail now and then.
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

type Mlp784 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn int8_inference_and_calibration_allocate_nothing() {
    let mlp = Int8::<Mlp784>::from_tflite::<QVector<784>>(&fixture("mlp784.tflite")).unwrap();
    let cnn = Int8::<DigitsCnn>::from_tflite::<QImage<8, 8, 1>>(&fixture("digits_cnn.tflite")).unwrap();
    let x = QVector::<784>::new([-100; 784]);
    let image = QImage::<8, 8, 1>::default();

    // The first forward pass picks the kernel path.
    let first = allocations_during(|| {
        let _ = std::hint::black_box(mlp.forward(&x));
    });
    if std::env::var_os("TYPED_NN_SIMD").is_none() {
        assert_eq!(first, 0, "the first int8 forward pass allocated");
    }
    let n = allocations_during(|| {
        let y: QVector<10> = mlp.forward(&x);
        assert!(y.argmax() < 10);
        let y: QVector<10> = cnn.forward(&image);
        assert!(y.argmax() < 10);
    });
    assert_eq!(n, 0, "int8 forward passes allocated");

    // Calibration of a float model on samples already in memory.
    let float: Box<DigitsCnn> = Box::new(DigitsCnn::init(&mut SeedRng::seed(3)));
    let samples: Vec<Image<8, 8, 1>> = (0..8).map(|i| Image::from([[[i as f32 / 8.0]; 8]; 8])).collect();
    let n = allocations_during(|| {
        let int8: Int8<DigitsCnn> = quant::calibrate(&*float, &samples).unwrap();
        assert!(int8.0.input.scale > 0.0);
    });
    assert_eq!(n, 0, "calibration allocated");

    // The counter works: a Vec does allocate.
    assert_eq!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))), 1);
}
