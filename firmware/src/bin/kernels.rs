//! Instructions per int8 kernel step on this core, for work on the int8 kernels (not a model,
//! not in the README's table, not run by CI): the fixed-point high multiply, one
//! requantization, one 10-class softmax, the two layers of the int8 digits MLP and the
//! convolution of the int8 digits CNN.
//!
//! `cargo run --profile nostd --target thumbv6m-none-eabi --bin kernels` (or the default
//! target, the Cortex-M4F). Each step runs 1000 times on inputs the optimiser cannot see (a
//! `black_box` per call); the loop's own instructions (and building the layer inputs) are
//! measured separately and subtracted.

#![no_std]
#![no_main]

use core::hint::black_box;

use typed_nn::quant::requant::saturating_rounding_doubling_high_mul;
use typed_nn::quant::softmax::softmax_i8;
use typed_nn::quant::{QLayer, QVector, Requant, SoftmaxParams};
use typed_nn_firmware::console::{Console, exit};
use typed_nn_firmware::keras_models::{CNN_INT8, MLP_INT8};
use typed_nn_firmware::models;
use typed_nn_firmware::systick;

/// Calls per measurement.
const CALLS: u32 = 1000;

/// Instructions per call of `f`, over [`CALLS`] calls on pseudo-random arguments.
#[inline(never)]
fn per_call(f: impl Fn(i32) -> i32) -> u64 {
    let start = systick::now();
    let mut sum = 0i32;
    for i in 0..CALLS as i32 {
        sum = sum.wrapping_add(f(black_box(i.wrapping_mul(0x9E37_79B9_u32 as i32))));
    }
    black_box(sum);
    let ticks = systick::elapsed(start, systick::now());
    ticks * systick::INSTRUCTIONS_PER_TICK / u64::from(CALLS)
}

/// `N` int8 values that vary with `x` and element by element.
#[inline(always)]
fn input<const N: usize>(x: i32) -> [i8; N] {
    black_box(core::array::from_fn(|k| (x >> (k % 25)) as i8))
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut out = Console::open();
    out.text("typed-nn firmware `kernels` on ").text(typed_nn_firmware::table::TARGET);
    out.text(": instructions per call under the QEMU runner\n");
    systick::start();
    let empty = per_call(|x| x);
    let requant = black_box(Requant { multiplier: 1_518_500_250, shift: -7 });
    let srdhm = per_call(|x| saturating_rounding_doubling_high_mul(x >> 8, requant.multiplier));
    let apply = per_call(|x| requant.apply(x >> 8));
    let softmax_params = SoftmaxParams::new(MLP_INT8.1.beta, MLP_INT8.1.output.scale).unwrap_or_default();
    let softmax = per_call(|x| {
        let logits: [i8; 10] = input(x);
        let mut y = [0i8; 10];
        softmax_i8(&softmax_params, &logits, &mut y);
        i32::from(y[0])
    });
    let input10 = per_call(|x| i32::from(input::<10>(x)[3]));
    let input64 = per_call(|x| i32::from(input::<64>(x)[3]));
    let input32 = per_call(|x| i32::from(input::<32>(x)[3]));
    let hidden = per_call(|x| i32::from(MLP_INT8.0.forward(&QVector::new(input(x))).as_array()[0]));
    let logits = per_call(|x| i32::from(MLP_INT8.1.logits(&input(x)).as_array()[0]));
    let conv = per_call(|x| i32::from(CNN_INT8.0.forward(&models::int8_image(input(x))).as_array()[1][2][3]));
    let rows = [
        ("saturating_rounding_doubling_high_mul", srdhm.saturating_sub(empty)),
        ("Requant::apply (shift -7)", apply.saturating_sub(empty)),
        ("softmax_i8, 10 classes", softmax.saturating_sub(input10)),
        ("QDense<64, 32, Relu>::forward", hidden.saturating_sub(input64)),
        ("QDense<32, 10, Softmax>::logits (no softmax)", logits.saturating_sub(input32)),
        ("QConv2D<1, 4, 3, Relu>::forward, 8x8x1 image", conv.saturating_sub(input64)),
    ];
    for (name, instructions) in rows {
        out.text(name).text(": ").num(instructions).text("\n");
    }
    exit(true)
}
