//! The int8 ResNet-8 (CIFAR-10: three residual stacks, two with a strided 1×1 projection
//! shortcut, each `ADD` with its ReLU fused), `Int8<ResNet8Folded>` from
//! `tests/fixtures/tflite/resnet8.tflite`, baked into flash: integer arithmetic only. It runs the
//! fixture's 8 int8 inputs and checks every output byte against TensorFlow Lite Micro's
//! (`resnet8.tflm.bin`).

#![no_std]
#![no_main]

use typed_nn::quant::{Int8, QImage, QLayer};
use typed_nn_firmware::keras_models;
use typed_nn_firmware::models::resnet8::ResNet8Folded;
use typed_nn_firmware::run::{Firmware, run_fixture};
use typed_nn_firmware::table::HOST_RESNET8_INT8_CORRECT;

/// The fixture's int8 inputs (3 072 bytes each) and TFLite Micro's outputs (10 bytes each).
#[unsafe(link_section = ".testset")] // test data: an ordinary read-only section in FLASH
static INPUTS: [u8; 8 * 3072] = *include_bytes!("../../../tests/fixtures/tflite/resnet8.input.bin");
#[unsafe(link_section = ".testset")]
static TFLM: [u8; 8 * 10] = *include_bytes!("../../../tests/fixtures/tflite/resnet8.tflm.bin");

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "resnet8_int8",
        param_bytes: Some(<Int8<ResNet8Folded> as QLayer<QImage<32, 32, 3>>>::PARAM_BYTES),
        activation_bytes: Some(<Int8<ResNet8Folded> as QLayer<QImage<32, 32, 3>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_RESNET8_INT8_CORRECT),
        integer_only: true,
    };
    run_fixture(&firmware, &INPUTS, &TFLM, |x: &[u8; 3072]| *keras_models::resnet8_int8(x).as_array())
}
