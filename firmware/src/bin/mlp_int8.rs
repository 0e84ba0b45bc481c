//! The int8 digits MLP, `Int8<(Dense<64, 32, Relu>, Dense<32, 10, Softmax>)>`, from
//! `tests/fixtures/tflite/digits_mlp.tflite`, baked into flash: integer arithmetic only.

#![no_std]
#![no_main]

use typed_nn::quant::{Int8, QLayer, QVector};
use typed_nn_firmware::keras_models;
use typed_nn_firmware::models::DigitsMlp;
use typed_nn_firmware::run::{Firmware, run};
use typed_nn_firmware::table::HOST_MLP_INT8_CORRECT;

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "mlp_int8",
        param_bytes: Some(<Int8<DigitsMlp> as QLayer<QVector<64>>>::PARAM_BYTES),
        activation_bytes: Some(<Int8<DigitsMlp> as QLayer<QVector<64>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_MLP_INT8_CORRECT),
        integer_only: true,
    };
    run(&firmware, |pixels| keras_models::mlp_int8(pixels).argmax())
}
