//! The digits MLP, `(Dense<64, 32, Relu>, Dense<32, 10, Softmax>)`, baked into flash.

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn_firmware::models::{self, DigitsMlp};
use typed_nn_firmware::run::{Firmware, run};
use typed_nn_firmware::table::HOST_MLP_CORRECT;

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "mlp",
        param_bytes: Some(<DigitsMlp as Params<f32>>::PARAM_BYTES),
        activation_bytes: Some(<DigitsMlp as Layer<Vector<64>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_MLP_CORRECT),
        integer_only: false,
    };
    run(&firmware, |pixels| models::mlp(pixels).argmax())
}
