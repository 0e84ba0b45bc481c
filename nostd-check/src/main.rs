//! The embedded promise, checked by the linker.
//!
//! A `#![no_std]`, `#![no_main]` program for the host that runs seed model 1 and the trained
//! digits model (baked into the binary with `model_from_le_bytes!`) with typed-nn's default
//! features off. It proves three things by *linking at all*:
//!
//! - **no std**: nothing here or in typed-nn links `std` (it would need `#[panic_handler]`
//!   and `eh_personality` conflicts, and `std` symbols are absent);
//! - **no heap**: there is no `#[global_allocator]`, so any allocation would fail to link
//!   (`__rust_alloc` undefined);
//! - **no panic**: the `#[panic_handler]` calls an undefined external symbol, so if any panic
//!   path survives optimisation in the inference code, the link fails naming
//!   `typed_nn_nostd_check_found_a_panic_path`.
//!
//! Built with the `nostd` profile (release, LTO, `panic = "abort"`, one codegen unit):
//! `cargo build --profile nostd -p nostd-check && target/nostd/nostd-check`.
//! libc is linked only for the process entry (`main`) and `write`.

#![no_std]
#![no_main]

use core::panic::PanicInfo;

use typed_nn::prelude::*;

#[link(name = "c")]
unsafe extern "C" {
    /// Deliberately undefined: referenced only from the panic handler, so the program links
    /// exactly when the optimiser removed every panic path.
    fn typed_nn_nostd_check_found_a_panic_path() -> !;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    // SAFETY: never linked into a working binary; see the module docs.
    unsafe { typed_nn_nostd_check_found_a_panic_path() }
}

/// Seed model 1, Keras `Dense(64, relu, input 784) → Dense(10, softmax)`.
type Seed1 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
/// The digits classifier trained by `examples/05_digits.rs` (seed 0: test accuracy 0.9750).
type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);

/// Seed model 1 with constant weights, in flash.
static SEED1: Seed1 = (Dense::new([[0.001; 64]; 784], [0.0; 64]), Dense::new([[0.01; 10]; 64], [0.0; 10]));

/// The trained digits model, decoded at compile time from its byte image.
static DIGITS: DigitsMlp = typed_nn::model_from_le_bytes!(
    (Dense<64, 32, Relu>, Dense<32, 10, Softmax>),
    include_bytes!("../../data/digits/mlp.weights")
);

const IMAGES: &[u8] = include_bytes!("../../data/digits/images.bin");
const LABELS: &[u8] = include_bytes!("../../data/digits/labels.bin");
const TEST: &[u8] = include_bytes!("../../data/digits/test.txt");

/// Writes bytes to standard output.
fn out(bytes: &[u8]) {
    // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes for the duration of the call.
    let _ = unsafe { write(1, bytes.as_ptr(), bytes.len()) };
}

/// Writes a decimal number (core::fmt is avoided: its float code keeps panic paths).
fn out_number(mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out(digits.get(i..).unwrap_or_default());
}

/// The test split's indices, parsed from `test.txt` (one per line, `#` comments).
fn test_indices(mut visit: impl FnMut(usize)) {
    for line in TEST.split(|&b| b == b'\n') {
        if line.first() == Some(&b'#') || line.is_empty() {
            continue;
        }
        let mut n = 0usize;
        for &b in line {
            n = n * 10 + usize::from(b.wrapping_sub(b'0'));
        }
        visit(n);
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    // Seed model 1: constant weights give equal logits, so a uniform distribution.
    let y: Vector<10> = SEED1.forward(&Vector::new([0.5; 784]));
    let uniform = y.iter().all(|&p| (p - 0.1).abs() < 1e-6);
    out(b"seed model 1: ");
    out(if uniform { b"uniform output as expected\n" } else { b"WRONG output\n" });

    // The digits model on the 360 test images.
    let (mut correct, mut total) = (0usize, 0usize);
    test_indices(|i| {
        let (Some(pixels), Some(&label)) = (IMAGES.get(i * 64..i * 64 + 64), LABELS.get(i)) else { return };
        let x: Vector<64> = Vector::from_fn(|k| f32::from(pixels.get(k).copied().unwrap_or(0)) / 16.0);
        let y: Vector<10> = DIGITS.forward(&x);
        correct += usize::from(y.argmax() == usize::from(label));
        total += 1;
    });
    out(b"digits model: ");
    out_number(correct);
    out(b"/");
    out_number(total);
    out(b" test images classified correctly\n");
    out(b"parameters: seed 1 ");
    out_number(<Seed1 as Params<f32>>::PARAM_BYTES);
    out(b" bytes, digits ");
    out_number(<DigitsMlp as Params<f32>>::PARAM_BYTES);
    out(b" bytes; activations per forward: seed 1 ");
    out_number(<Seed1 as Layer<Vector<784>>>::ACTIVATION_BYTES);
    out(b" bytes, digits ");
    out_number(<DigitsMlp as Layer<Vector<64>>>::ACTIVATION_BYTES);
    out(b" bytes\n");

    // The trained model scores 351/360 (examples/05_digits.rs, seed 0).
    if uniform && correct == 351 && total == 360 { 0 } else { 1 }
}
