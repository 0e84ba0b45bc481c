//! The digits CNN, `(Conv2D<1, 4, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)`
//! on 8×8×1 images, baked into flash.

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn_firmware::models::{self, DigitsCnn};
use typed_nn_firmware::run::{Firmware, run};
use typed_nn_firmware::table::HOST_CNN_CORRECT;

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "cnn",
        param_bytes: Some(<DigitsCnn as Params<f32>>::PARAM_BYTES),
        activation_bytes: Some(<DigitsCnn as Layer<Image<8, 8, 1>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_CNN_CORRECT),
        integer_only: false,
    };
    run(&firmware, |pixels| models::cnn(pixels).argmax())
}
