//! MLPerf Tiny's DS-CNN (keyword spotting: 49×10×1 MFCC features in, 12 classes out)
//! with the Keras weights of `tests/fixtures/keras_ds_cnn.safetensors`, every BatchNormalization
//! folded into the convolution before it, on fixture inputs: its outputs against the host's
//! ([`typed_nn_firmware::fixture`]).

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn_firmware::fixture;
use typed_nn_firmware::models::ds_cnn::DsCnnFolded;
use typed_nn_firmware::run::Firmware;
use typed_nn_firmware::table::DS_CNN_INPUTS;

/// The model, decoded by the compiler from the folded weight image `build.rs` wrote from the
/// Keras weights: in flash (`.rodata`), like the digits models.
static MODEL: DsCnnFolded =
    typed_nn::model_from_le_bytes!(DsCnnFolded, include_bytes!(concat!(env!("OUT_DIR"), "/ds_cnn_folded.weights")));

/// The fixture inputs, Image<49, 10, 1>, little-endian `f32`.
#[unsafe(link_section = ".testset")] // test data: an ordinary read-only section in FLASH
static INPUTS: [u8; DS_CNN_INPUTS * <Image<49, 10, 1> as Tensor>::LEN * 4] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/ds_cnn.x.bin"));

/// The host's 12 probabilities per input, little-endian `f32`.
#[unsafe(link_section = ".testset")]
static HOST: [u8; DS_CNN_INPUTS * 12 * 4] = *include_bytes!(concat!(env!("OUT_DIR"), "/host_ds_cnn.bin"));

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "ds_cnn",
        param_bytes: Some(<DsCnnFolded as Params<f32>>::PARAM_BYTES),
        activation_bytes: Some(<DsCnnFolded as Layer<Image<49, 10, 1>>>::ACTIVATION_BYTES),
        host_correct: None,
        integer_only: false,
    };
    fixture::run::<_, Image<49, 10, 1>, 12>(&firmware, &MODEL, &INPUTS, &HOST)
}
