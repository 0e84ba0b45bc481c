//! The `f32` digits CNN that `cnn_int8` was converted from:
//! `(Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>)` with the Keras
//! weights of `tests/fixtures/tflite/digits_cnn.safetensors`, baked into flash. The same model
//! as `cnn_int8`, before quantization: the README compares the two.

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn_firmware::keras_models;
use typed_nn_firmware::models::DigitsCnnRelu;
use typed_nn_firmware::run::{Firmware, run};
use typed_nn_firmware::table::HOST_CNN_RELU_CORRECT;

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "cnn_relu",
        param_bytes: Some(<DigitsCnnRelu as Params<f32>>::PARAM_BYTES),
        activation_bytes: Some(<DigitsCnnRelu as Layer<Image<8, 8, 1>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_CNN_RELU_CORRECT),
        integer_only: false,
    };
    run(&firmware, |pixels| keras_models::cnn_relu(pixels).argmax())
}
