//! The int8 DS-CNN (keyword spotting: a rectangular stem, four depthwise-separable blocks, a
//! rectangular average pool), `Int8<DsCnn>` from `tests/fixtures/tflite/ds_cnn.tflite`, baked
//! into flash: integer arithmetic only. It runs the fixture's 64 int8 inputs and checks every
//! output byte against TensorFlow Lite Micro's (`ds_cnn.tflm.bin`).

#![no_std]
#![no_main]

use typed_nn::quant::{Int8, QImage, QLayer};
use typed_nn_firmware::keras_models;
use typed_nn_firmware::models::DsCnn;
use typed_nn_firmware::run::{Firmware, run_fixture};
use typed_nn_firmware::table::HOST_DS_CNN_INT8_CORRECT;

/// The fixture's int8 inputs (490 bytes each) and TFLite Micro's outputs (12 bytes each).
#[unsafe(link_section = ".testset")] // test data: an ordinary read-only section in FLASH
static INPUTS: [u8; 64 * 490] = *include_bytes!("../../../tests/fixtures/tflite/ds_cnn.input.bin");
#[unsafe(link_section = ".testset")]
static TFLM: [u8; 64 * 12] = *include_bytes!("../../../tests/fixtures/tflite/ds_cnn.tflm.bin");

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "ds_cnn_int8",
        param_bytes: Some(<Int8<DsCnn> as QLayer<QImage<49, 10, 1>>>::PARAM_BYTES),
        activation_bytes: Some(<Int8<DsCnn> as QLayer<QImage<49, 10, 1>>>::ACTIVATION_BYTES),
        host_correct: Some(HOST_DS_CNN_INT8_CORRECT),
        integer_only: true,
    };
    run_fixture(&firmware, &INPUTS, &TFLM, |x: &[u8; 490]| *keras_models::ds_cnn_int8(x).as_array())
}
