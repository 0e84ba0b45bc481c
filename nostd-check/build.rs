//! The build-machine half of the int8 embedded pattern (guide chapter 8).
//!
//! `nostd-check` runs int8 models from `.tflite` files without `std`, `alloc` or a panic path,
//! but the `.tflite` reader (the `flatbuffers` runtime) needs `alloc`. So the checked loading
//! happens here, with typed-nn's `std` build: each file is loaded into its int8 type from
//! `src/models.rs` (the same file the binary uses), which checks every operator, shape and
//! scale, and a mismatch fails the build naming the operator. Then this script writes, into
//! `OUT_DIR`:
//!
//! - `{stem}.int8`: the int8 byte image, which the binary bakes in with
//!   `int8_model_from_le_bytes!` (length and quantization checked by the compiler);
//! - `{stem}.host.bin`: the model's int8 outputs on the 360 test digits, computed here on the
//!   host, so the binary can check that it computes the same bytes.
//!
//! And for ResNet-8 and DS-CNN (`{m}` = `resnet8`, `ds_cnn`): the Keras weights of
//! `tests/fixtures/keras_{m}.safetensors`, loaded into the model's type from `examples/models/`
//! (names and shapes checked) and written as byte images, unfolded (`{m}.weights`) and with every
//! BatchNormalization folded (`{m}_folded.weights`), with the fixture's four inputs
//! (`{m}.x.bin`) and Keras' outputs for them (`{m}.keras.bin`), all little-endian `f32`.

use std::error::Error;
use std::path::Path;
use std::{env, fs};

use typed_nn::data::Digits;
use typed_nn::io::ParamBytes;
use typed_nn::prelude::*;
use typed_nn::quant::{Int8, Int8Bytes, Int8Tensor, QImage, QVector};
use typed_nn::tflite::{FromTflite, TfliteImport};

#[path = "src/models.rs"]
mod models;

/// The `.tflite` files (relative to the repository root) and the stem of what is written for
/// each into `OUT_DIR`; `src/main.rs` includes `{stem}.int8` and `{stem}.host.bin` (`.host.bin`: the outputs on the
/// test digits, or for DS-CNN and ResNet-8 on the fixture's inputs).
const MLP_FILE: (&str, &str) = ("tests/fixtures/tflite/digits_mlp.tflite", "digits_mlp");
const CNN_FILE: (&str, &str) = ("tests/fixtures/tflite/digits_cnn.tflite", "digits_cnn");
const DS_CNN_FILE: (&str, &str) = ("tests/fixtures/tflite/ds_cnn.tflite", "ds_cnn");
const RESNET8_FILE: (&str, &str) = ("tests/fixtures/tflite/resnet8.tflite", "resnet8");

/// Loads a model that does not take digits (DS-CNN: 49×10 features; ResNet-8: 32×32×3 images),
/// checked against its type, and writes its image and its outputs on the fixture's inputs.
fn bake_fixture<M, X>(root: &Path, out: &Path, (file, stem): (&str, &str)) -> Result<(), Box<dyn Error>>
where
    M: TfliteImport<X> + Int8Bytes,
    X: Int8Tensor,
{
    println!("cargo::rerun-if-changed=../{file}");
    println!("cargo::rerun-if-changed=../tests/fixtures/tflite/{stem}.input.bin");
    let bytes = fs::read(root.join(file))?;
    let model = Box::new(
        M::from_tflite::<X>(&bytes).map_err(|e| format!("{file} does not match its type in src/models.rs: {e}"))?,
    );
    fs::write(out.join(format!("{stem}.int8")), model.to_le_bytes())?;
    let inputs = fs::read(root.join(format!("tests/fixtures/tflite/{stem}.input.bin")))?;
    let mut outputs = Vec::new();
    for chunk in inputs.chunks_exact(X::LEN) {
        let x = X::from_slice(&chunk.iter().map(|&b| b as i8).collect::<Vec<_>>()).ok_or("input length")?;
        outputs.extend(model.forward(&x).as_slice().iter().map(|&v| v as u8));
    }
    fs::write(out.join(format!("{stem}.host.bin")), outputs)?;
    Ok(())
}

/// Loads `file` into `M` (checked against the type), writes its image and its outputs on the
/// test digits.
fn bake<M, X>(root: &Path, out: &Path, (file, stem): (&str, &str)) -> Result<(), Box<dyn Error>>
where
    M: TfliteImport<X> + Int8Bytes,
    X: Int8Tensor,
{
    println!("cargo::rerun-if-changed=../{file}");
    let bytes = fs::read(root.join(file))?;
    let model =
        M::from_tflite::<X>(&bytes).map_err(|e| format!("{file} does not match its type in src/models.rs: {e}"))?;
    fs::write(out.join(format!("{stem}.int8")), model.to_le_bytes())?;

    let digits = Digits::bundled()?;
    let (images, _labels) = digits.test_vectors();
    let mut outputs = Vec::new();
    for image in &images {
        let x = X::quantize(
            &<X::Float as Tensor>::from_slice(image.as_slice()).ok_or("a test digit does not have 64 pixels")?,
            model.input_params(),
        );
        outputs.extend(model.forward(&x).as_slice().iter().map(|&v| v as u8));
    }
    fs::write(out.join(format!("{stem}.host.bin")), outputs)?;
    Ok(())
}

/// Writes a Keras model's two byte images, the fixture inputs and Keras' outputs (see the
/// module docs).
fn keras_model<M>(root: &Path, out: &Path, name: &str) -> Result<(), Box<dyn Error>>
where
    M: Safetensors<f32> + Default + FoldBatchNorm,
    M: NewBoxed,
    Box<M>: Safetensors<f32>,
    M::Folded: ParamBytes<f32>,
{
    let weights = format!("tests/fixtures/keras_{name}.safetensors");
    const FIXTURE: &str = "tests/fixtures/keras_mlperf_tiny.safetensors";
    println!("cargo::rerun-if-changed=../{weights}");
    println!("cargo::rerun-if-changed=../{FIXTURE}");
    let model: Box<M> = Box::<M>::load_safetensors(&fs::read(root.join(&weights))?)
        .map_err(|e| format!("{weights} does not match its type in examples/models/{name}.rs: {e}"))?;
    fs::write(out.join(format!("{name}.weights")), (*model).to_le_bytes()?)?;
    let folded = Box::new(model.fold_batch_norm());
    fs::write(out.join(format!("{name}_folded.weights")), (*folded).to_le_bytes()?)?;
    let fixture = fs::read(root.join(FIXTURE))?;
    let tensors = safetensors::SafeTensors::deserialize(&fixture)?;
    for (tensor, file) in [("x", "x.bin"), ("y", "keras.bin")] {
        let view = tensors.tensor(&format!("{name}.{tensor}"))?;
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(format!("{FIXTURE}: {name}.{tensor} is not F32").into());
        }
        fs::write(out.join(format!("{name}.{file}")), view.data())?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = env::var("OUT_DIR")?;
    let out = Path::new(&out);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("nostd-check/ has no parent directory")?;
    println!("cargo::rerun-if-changed=src/models.rs");
    bake::<Int8<models::DigitsMlp>, QVector<64>>(root, out, MLP_FILE)?;
    bake::<Int8<models::DigitsCnn>, QImage<8, 8, 1>>(root, out, CNN_FILE)?;
    keras_model::<models::resnet8::ResNet8>(root, out, "resnet8")?;
    keras_model::<models::ds_cnn::DsCnn>(root, out, "ds_cnn")?;
    bake_fixture::<Int8<models::DsCnnTflite>, QImage<49, 10, 1>>(root, out, DS_CNN_FILE)?;
    bake_fixture::<Int8<models::resnet8::ResNet8Folded>, QImage<32, 32, 3>>(root, out, RESNET8_FILE)?;
    Ok(())
}
