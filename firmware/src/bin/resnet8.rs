//! MLPerf Tiny's ResNet-8 (CIFAR-10: 32×32×3 images in, 10 classes out)
//! with the Keras weights of `tests/fixtures/keras_resnet8.safetensors`, every BatchNormalization
//! folded into the convolution before it, on fixture inputs: its outputs against the host's
//! ([`typed_nn_firmware::fixture`]).

#![no_std]
#![no_main]

use typed_nn::prelude::*;
use typed_nn_firmware::fixture;
use typed_nn_firmware::models::resnet8::ResNet8Folded;
use typed_nn_firmware::run::Firmware;
use typed_nn_firmware::table::RESNET8_INPUTS;

/// The model, decoded by the compiler from the folded weight image `build.rs` wrote from the
/// Keras weights: in flash (`.rodata`), like the digits models.
static MODEL: ResNet8Folded =
    typed_nn::model_from_le_bytes!(ResNet8Folded, include_bytes!(concat!(env!("OUT_DIR"), "/resnet8_folded.weights")));

/// The fixture inputs, Image<32, 32, 3>, little-endian `f32`.
#[unsafe(link_section = ".testset")] // test data: an ordinary read-only section in FLASH
static INPUTS: [u8; RESNET8_INPUTS * <Image<32, 32, 3> as Tensor>::LEN * 4] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/resnet8.x.bin"));

/// The host's 10 probabilities per input, little-endian `f32`.
#[unsafe(link_section = ".testset")]
static HOST: [u8; RESNET8_INPUTS * 10 * 4] = *include_bytes!(concat!(env!("OUT_DIR"), "/host_resnet8.bin"));

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "resnet8",
        param_bytes: Some(<ResNet8Folded as Params<f32>>::PARAM_BYTES),
        activation_bytes: Some(<ResNet8Folded as Layer<Image<32, 32, 3>>>::ACTIVATION_BYTES),
        host_correct: None,
        integer_only: false,
    };
    fixture::run::<_, Image<32, 32, 3>, 10>(&firmware, &MODEL, &INPUTS, &HOST)
}
