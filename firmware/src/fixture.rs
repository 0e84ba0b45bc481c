//! A firmware run on fixture inputs instead of the test digits: MLPerf Tiny's DS-CNN and
//! ResNet-8, whose inputs (MFCC features, CIFAR-10 images) are not digits.
//!
//! `build.rs` writes, for model `m`, the BatchNorm-folded weight image (`m_folded.weights`), a
//! few inputs of `tests/fixtures/keras_mlperf_tiny.safetensors` (`m.x.bin`) and the build
//! machine's outputs for them (`host_m.bin`, checked there against Keras' within 1e-5). The
//! binary bakes the weights into a `static` with `model_from_le_bytes!`, which decodes nested
//! models (residual blocks, tuples in tuples) at compile time, so the model is in flash and takes
//! no RAM. Then [`run`] classifies each input, measures as the digits runs do, and compares every
//! output with the host's.
//!
//! The firmware's kernels round each multiply and each add on their own; the x86-64 host's fuse
//! multiply-adds (AVX2+FMA or AVX-512), so the outputs are not the same bits there.
//! [`TOLERANCE`] is what the run accepts (see its docs for the measured difference).

use core::hint::black_box;

use typed_nn::prelude::*;

use crate::console::Console;
use crate::run::{Evaluation, Firmware, report};
use crate::{stack, systick, table};

/// How far an output probability may be from the host's: absolute. Measured on the M4F and
/// the M0+ against an AVX-512 host, the largest difference is a few 1e-8 (the runs print it); a
/// model with other weights or a wrong layer is off by orders of magnitude more (a probability
/// of 12 classes is ~0.08 on average).
pub const TOLERANCE: f32 = 1e-6;

/// Runs `model` on each input of `inputs` (little-endian `f32`, `X::LEN` each), measures,
/// compares every output with `host` (`N` little-endian `f32` per input) within [`TOLERANCE`]
/// and the class exactly, prints, checks the README's row, and exits with the verdict.
pub fn run<M, X, const N: usize>(firmware: &Firmware, model: &M, inputs: &[u8], host: &[u8]) -> !
where
    M: Layer<X, Out = Vector<N>>,
    X: Tensor<Elem = f32> + Default,
{
    let mut out = Console::open();
    out.text("typed-nn firmware `").text(firmware.name).text("` on ").text(table::TARGET).text("\n");
    systick::start();
    let sp = stack::paint();
    let (mut total, mut ticks) = (0u32, 0u64);
    let (mut same_class, mut within, mut identical, mut values) = (0u32, 0u32, 0u32, 0u32);
    let mut largest = 0.0f32;
    for (x, want) in inputs.chunks_exact(X::LEN * 4).zip(host.chunks_exact(N * 4)) {
        let start = systick::now();
        let y = forward_one(model, black_box(x));
        ticks += systick::elapsed(start, systick::now());
        let mut host_y = [0.0f32; N];
        read_f32s(&mut host_y, want);
        same_class += u32::from(y.argmax() == Vector::new(host_y).argmax());
        for (&a, &b) in y.iter().zip(&host_y) {
            let diff = (a - b).abs();
            largest = largest.max(diff);
            within += u32::from(diff <= TOLERANCE);
            identical += u32::from(a.to_bits() == b.to_bits());
            values += 1;
        }
        total += 1;
    }
    let e = Evaluation { correct: 0, total, stack: stack::used_below(sp), above: stack::used_above(sp), ticks };
    let ok = total > 0 && same_class == total && within == values;
    out.text("fixture inputs: ").num(total.into()).text(", the host's class for ").num(same_class.into());
    out.text("; probabilities within 1e-6 of the host's: ").num(within.into()).text("/").num(values.into());
    out.text(" (bit-identical: ").num(identical.into()).text(", largest difference ").fraction(largest);
    out.text(")").verdict(ok);
    report(&mut out, firmware, &e, ok)
}

/// One forward pass from the input's bytes, in its own frame so that [`stack`] measures all of
/// it: the input tensor, the forward pass and its output.
#[inline(never)]
fn forward_one<M, X, const N: usize>(model: &M, x: &[u8]) -> Vector<N>
where
    M: Layer<X, Out = Vector<N>>,
    X: Tensor<Elem = f32> + Default,
{
    let mut input = X::default();
    read_f32s(input.as_mut_slice(), x);
    model.forward(&input)
}

/// Little-endian `f32`s from `bytes` into `dst`.
fn read_f32s(dst: &mut [f32], bytes: &[u8]) {
    for (d, b) in dst.iter_mut().zip(bytes.as_chunks::<4>().0) {
        *d = f32::from_le_bytes(*b);
    }
}
