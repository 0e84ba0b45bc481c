//! The int8 digits CNN, `Int8<(Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10,
//! Softmax>)>` on 8×8×1 images, from `tests/fixtures/tflite/digits_cnn.tflite`, baked into
//! flash: integer arithmetic only.

#![no_std]
#![no_main]

use typed_nn::quant::{Int8, QImage, QLayer};
use typed_nn_firmware::keras_models;
use typed_nn_firmware::models::DigitsCnnRelu;
use typed_nn_firmware::run::{Firmware, run};
use typed_nn_firmware::table::HOST_CNN_INT8_CORRECT;

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "cnn_int8",
        param_bytes: Some(<Int8<DigitsCnnRelu> as QLayer<QImage<8, 8, 1>>>::PARAM_BYTES),
        activation_bytes: Some(<Int8<DigitsCnnRelu> as QLayer<QImage<8, 8, 1>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_CNN_INT8_CORRECT),
        integer_only: true,
    };
    run(&firmware, |pixels| keras_models::cnn_int8(pixels).argmax())
}
