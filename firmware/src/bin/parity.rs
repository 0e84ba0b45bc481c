//! Every model's outputs here against a reference, value by value: the `f32` models' 3600
//! probabilities against the build machine's (`build.rs` computed them with typed-nn's `std`
//! build), and the int8 models' 3600 output bytes against TensorFlow Lite for Microcontrollers'
//! on the same int8 inputs (`tests/fixtures/tflite/digits_*.{input,tflm}.bin`, written by
//! `scripts/tflite_int8_fixtures.py`), which must be equal: int8 arithmetic is exact, so there
//! is no tolerance.
//!
//! The firmware runs the portable kernels: each multiply and each add rounded on its own, in
//! the same order as on any other target. A host whose kernels fuse multiply-adds (x86-64 with
//! AVX2+FMA or AVX-512, typed-nn's run-time dispatch) rounds once per multiply-add instead, so
//! its probabilities may differ by a few units in the last place; a host without FMA must give
//! the same bits. Either way, every image must get the host's class.
//!
//! It also prints a checksum of the bits of every output (FNV-1a), to compare targets: CI checks
//! that the Cortex-M4F (hardware floats) and the Cortex-M0+ build (software floats) print the
//! same. (An x86-64 build of typed-nn without `std`, whose kernels do not fuse
//! either, gave the same two checksums when this was written.)

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn::quant::{QLayer, QVector};
use typed_nn_firmware::console::{Console, exit};
use typed_nn_firmware::keras_models::{self, CNN_INT8, MLP_INT8};
use typed_nn_firmware::table::{HOST_FMA, TARGET, TEST_IMAGES};
use typed_nn_firmware::{models, test_set};

/// The host's probabilities, 10 little-endian `f32` per test image.
#[unsafe(link_section = ".testset")] // test data: an ordinary read-only section in FLASH
static HOST_MLP: [u8; 360 * 40] = *include_bytes!(concat!(env!("OUT_DIR"), "/host_mlp.bin"));
#[unsafe(link_section = ".testset")]
static HOST_CNN: [u8; 360 * 40] = *include_bytes!(concat!(env!("OUT_DIR"), "/host_cnn.bin"));
#[unsafe(link_section = ".testset")]
static HOST_CNN_RELU: [u8; 360 * 40] = *include_bytes!(concat!(env!("OUT_DIR"), "/host_cnn_relu.bin"));

/// TFLite Micro's int8 inputs (the test digits, 64 steps each) and its int8 outputs (10 steps
/// each) for the int8 models.
#[unsafe(link_section = ".testset")]
static MLP_TFLM_IN: [u8; 360 * 64] = *include_bytes!("../../../tests/fixtures/tflite/digits_mlp.input.bin");
#[unsafe(link_section = ".testset")]
static MLP_TFLM_OUT: [u8; 360 * 10] = *include_bytes!("../../../tests/fixtures/tflite/digits_mlp.tflm.bin");
#[unsafe(link_section = ".testset")]
static CNN_TFLM_IN: [u8; 360 * 64] = *include_bytes!("../../../tests/fixtures/tflite/digits_cnn.input.bin");
#[unsafe(link_section = ".testset")]
static CNN_TFLM_OUT: [u8; 360 * 10] = *include_bytes!("../../../tests/fixtures/tflite/digits_cnn.tflm.bin");

/// The largest difference allowed between a probability here and on a host that fuses
/// multiply-adds. Measured: 3.6e-7 (`mlp`), 2.8e-7 (`cnn`) and 5.4e-7 (`cnn_relu`); a
/// probability's ulp near 1 is 6e-8.
const FMA_BOUND: f32 = 1e-6;

/// FNV-1a, 64-bit.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut out = Console::open();
    out.text("typed-nn firmware `parity` on ").text(TARGET).text(": outputs against the host's, which ");
    out.text(if HOST_FMA { "fused multiply-adds\n" } else { "did not fuse multiply-adds (so: the same bits)\n" });
    let bound = if HOST_FMA { FMA_BOUND } else { 0.0 };
    let mlp = compare(&mut out, "mlp", models::mlp, &HOST_MLP, bound);
    let cnn = compare(&mut out, "cnn", models::cnn, &HOST_CNN, bound);
    let cnn_relu = compare(&mut out, "cnn_relu", keras_models::cnn_relu, &HOST_CNN_RELU, bound);
    out.text("typed-nn firmware `parity`: int8 outputs against TensorFlow Lite Micro's, which must be equal\n");
    let mlp_int8 =
        compare_int8(&mut out, "mlp_int8", |x| MLP_INT8.forward(&QVector::new(*x)), &MLP_TFLM_IN, &MLP_TFLM_OUT);
    let cnn_int8 =
        compare_int8(&mut out, "cnn_int8", |x| CNN_INT8.forward(&models::int8_image(*x)), &CNN_TFLM_IN, &CNN_TFLM_OUT);
    let ok = mlp && cnn && cnn_relu && mlp_int8 && cnn_int8;
    out.text(if ok { "ok\n" } else { "FAILED\n" });
    exit(ok)
}

/// Runs `model` on each of TFLite Micro's int8 inputs (64 bytes each) and compares its output
/// bytes with TFLite Micro's (10 each); prints how many are equal. Every one must be.
fn compare_int8(
    out: &mut Console,
    name: &str,
    model: impl Fn(&[i8; 64]) -> QVector<10>,
    inputs: &[u8],
    tflm: &[u8],
) -> bool {
    let (mut equal, mut values, mut exact, mut images) = (0u64, 0u64, 0u32, 0u32);
    let mut checksum = FNV_OFFSET;
    for (x, want) in inputs.as_chunks::<64>().0.iter().zip(tflm.as_chunks::<10>().0) {
        let y = model(&x.map(|b| b as i8));
        let mut same = true;
        for (&a, &b) in y.as_array().iter().zip(want) {
            let a = a as u8;
            same &= a == b;
            equal += u64::from(a == b);
            checksum = (checksum ^ u64::from(a)).wrapping_mul(FNV_PRIME);
            values += 1;
        }
        exact += u32::from(same);
        images += 1;
    }
    let ok = exact == images && images as usize == TEST_IMAGES;
    out.text(name).text(": bit-exact with TFLite Micro on ").num(exact.into()).text("/").num(images.into());
    out.text(" images (").num(equal).text("/").num(values).text(" output bytes equal)").verdict(ok);
    out.text(name).text(": checksum of the output bits ").hex(checksum, 16);
    out.text("\n");
    ok
}

/// Compares `model`'s outputs on every test image with `host`'s; prints the largest difference,
/// how many values are bit-identical and how many images get the host's class.
fn compare(out: &mut Console, name: &str, model: fn(&[u8; 64]) -> Vector<10>, host: &[u8], bound: f32) -> bool {
    let (mut largest, mut identical, mut values, mut same_class, mut images) = (0.0f32, 0u64, 0u64, 0u32, 0u32);
    let mut within = true;
    let mut checksum = FNV_OFFSET;
    for ((pixels, _), host) in test_set::samples().zip(host.as_chunks::<40>().0) {
        let y: Vector<10> = model(pixels);
        let h: Vector<10> = Vector::new(core::array::from_fn(|i| {
            let at = host.as_chunks::<4>().0.get(i).copied().unwrap_or([0xFF; 4]); // NaN if short
            f32::from_le_bytes(at)
        }));
        for (&a, &b) in y.iter().zip(h.iter()) {
            let d = (a - b).abs();
            within &= d <= bound; // false for NaN
            largest = if d > largest { d } else { largest };
            identical += u64::from(a.to_bits() == b.to_bits());
            for byte in a.to_bits().to_le_bytes() {
                checksum = (checksum ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
            }
            values += 1;
        }
        same_class += u32::from(y.argmax() == h.argmax());
        images += 1;
    }
    let ok = within && same_class == images && images as usize == TEST_IMAGES;
    out.text(name).text(": same class for ").num(same_class.into()).text("/").num(images.into());
    out.text(" images; ")
        .num(identical)
        .text("/")
        .num(values)
        .text(" probabilities bit-identical, largest difference ");
    out.fraction(largest).text(" (allowed ").fraction(bound).text(")").verdict(ok);
    out.text(name).text(": checksum of the output bits ").hex(checksum, 16);
    out.text("\n");
    ok
}
