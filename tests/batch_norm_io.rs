//! Saving and loading models with BatchNormalization: the moving statistics travel with the
//! weights (byte image, `model_from_le_bytes!`, safetensors with Keras' names), and a bad file
//! — wrong count or shape, a NaN or a negative variance — is a typed error that leaves the
//! model as it was, never a model that outputs NaN.

use safetensors::tensor::{Dtype, TensorView, serialize};
use typed_nn::layer::BatchNormalization;
use typed_nn::prelude::*;

type Net = (Dense<2, 3>, BatchNormalization<3>, ActivationLayer<Relu>, Dense<3, 1>);

/// A model whose every value differs, moving variances positive.
fn net() -> Net {
    let mut model = Net::init(&mut SeedRng::seed(3));
    model.1 = BatchNormalization::new([1.5, 0.5, 2.0], [0.1, -0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, 0.9]);
    model
}

fn file(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, s, _), b)| (n.to_string(), TensorView::new(Dtype::F32, s.clone(), b).unwrap()))
        .collect();
    serialize(views, None).unwrap()
}

/// The Keras-convention file of `net()`, tensor by tensor.
fn tensors() -> Vec<(&'static str, Vec<usize>, Vec<f32>)> {
    let m = net();
    vec![
        ("0.kernel", vec![2, 3], m.0.kernel.as_flattened().to_vec()),
        ("0.bias", vec![3], m.0.bias.to_vec()),
        ("1.gamma", vec![3], m.1.gamma.to_vec()),
        ("1.beta", vec![3], m.1.beta.to_vec()),
        ("1.moving_mean", vec![3], m.1.moving_mean.to_vec()),
        ("1.moving_variance", vec![3], m.1.moving_variance.to_vec()),
        ("3.kernel", vec![3, 1], m.3.kernel.as_flattened().to_vec()),
        ("3.bias", vec![1], m.3.bias.to_vec()),
    ]
}

fn with(name: &str, shape: Vec<usize>, values: Vec<f32>) -> Vec<u8> {
    let changed: Vec<_> = tensors()
        .into_iter()
        .map(|(n, s, v)| if n == name { (n, shape.clone(), values.clone()) } else { (n, s, v) })
        .collect();
    file(&changed)
}

#[test]
fn the_byte_image_holds_each_layer_in_keras_get_weights_order() {
    let model = net();
    let bytes = model.to_le_bytes().unwrap();
    // 4·(2·3 + 3) + 4·(4·3) + 4·(3 + 1): the moving statistics are part of the image.
    assert_eq!(bytes.len(), <Net as Params<f32>>::PARAM_BYTES);
    assert_eq!(<Net as Params<f32>>::PARAM_BYTES, 4 * (9 + 12 + 4));
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    let expected: Vec<f32> = tensors().into_iter().flat_map(|(_, _, v)| v).collect();
    assert_eq!(values, expected);
    assert_eq!(Net::from_le_bytes(&bytes).unwrap(), model);
    // The const decoder reads the same layout.
    assert_eq!(BatchNormalization::<3>::from_le_bytes_at(&bytes, 4 * 9), model.1);
}

/// `model_from_le_bytes!` bakes a model with BatchNormalization at compile time.
#[test]
fn a_model_with_batch_normalization_is_baked_in_at_compile_time() {
    const IMAGE: &[u8] = &{
        // γ = 2, β = 1, moving mean 0, moving variance 1 − ε for channel 0, the rest 0.
        let mut image = [0u8; 4 * (9 + 12 + 4)];
        let values: [(usize, f32); 4] = [(0, 1.0), (9, 2.0), (12, 1.0), (18, 1.0 - 1e-3)];
        let mut i = 0;
        while i < values.len() {
            let (at, v) = values[i];
            let b = v.to_le_bytes();
            let mut j = 0;
            while j < 4 {
                image[4 * at + j] = b[j];
                j += 1;
            }
            i += 1;
        }
        image
    };
    static MODEL: Net =
        typed_nn::model_from_le_bytes!((Dense<2, 3>, BatchNormalization<3>, ActivationLayer<Relu>, Dense<3, 1>), IMAGE);
    assert_eq!(MODEL.1.gamma, [2.0, 0.0, 0.0]);
    assert_eq!(MODEL.1.moving_variance, [1.0 - 1e-3, 0.0, 0.0]);
    // x₀ = 3 → Dense (kernel[0][0] = 1) → 3 → BN: 2·3/√1 + 1 = 7 → ReLU.
    let h = MODEL.1.forward(&MODEL.0.forward(&Vector::from([3.0, 0.0])));
    assert!((h[0] - 7.0).abs() < 1e-5, "{h:?}");
}

#[test]
fn a_negative_or_non_finite_moving_variance_in_a_byte_image_is_refused() {
    let good = net().to_le_bytes().unwrap();
    let mut negative = good.clone();
    // Value 19 is the second moving variance (9 Dense values, then γ, β, mean: 9 more).
    negative[4 * 19..4 * 20].copy_from_slice(&(-0.25f32).to_le_bytes());
    let mut model = Net::default();
    assert_eq!(model.read_le_bytes(&negative), Err(BytesError::NegativeVariance { index: 19 }));
    assert_eq!(model, Net::default(), "unchanged");
    let mut nan = good.clone();
    nan[4 * 18..4 * 19].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(Net::from_le_bytes(&nan), Err(BytesError::NonFinite { index: 18 }));
    // A negative *mean* is fine.
    let mut mean = good;
    mean[4 * 15..4 * 16].copy_from_slice(&(-3.0f32).to_le_bytes());
    assert_eq!(Net::from_le_bytes(&mean).unwrap().1.moving_mean[0], -3.0);
}

#[test]
fn safetensors_files_carry_the_moving_statistics_under_keras_names() {
    let bytes = file(&tensors());
    let model = Net::load_safetensors(&bytes).unwrap();
    assert_eq!(model, net());
    // Saved back, the same tensors.
    let saved = model.save_safetensors().unwrap();
    let st = safetensors::SafeTensors::deserialize(&saved).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(
        names,
        ["0.bias", "0.kernel", "1.beta", "1.gamma", "1.moving_mean", "1.moving_variance", "3.bias", "3.kernel"]
    );
    assert_eq!(Net::load_safetensors(&saved).unwrap(), model);
}

#[test]
fn a_bad_batch_normalization_tensor_is_a_clear_error_and_the_model_is_unchanged() {
    let before = net();
    let check = |bytes: Vec<u8>, expected: LoadError| {
        let mut model = before.clone();
        assert_eq!(model.read_safetensors(&bytes, LoadOptions::default()), Err(expected.clone()));
        assert_eq!(model, before, "{expected}");
    };
    check(
        with("1.gamma", vec![4], vec![1.0; 4]),
        LoadError::WrongShape { name: "1.gamma".into(), expected: vec![3], found: vec![4], layout: "a vector" },
    );
    let mut no_variance = tensors();
    no_variance.retain(|(n, _, _)| *n != "1.moving_variance");
    check(file(&no_variance), LoadError::MissingTensor { name: "1.moving_variance".into(), expected: vec![3] });
    check(
        with("1.moving_variance", vec![3], vec![1.0, f32::INFINITY, 1.0]),
        LoadError::NonFinite { name: "1.moving_variance".into(), index: 1 },
    );
    check(
        with("1.moving_variance", vec![3], vec![1.0, 1.0, -1e-6]),
        LoadError::NegativeVariance { name: "1.moving_variance".into(), index: 2 },
    );
    // The message says what is wrong.
    let err = Net::load_safetensors(&with("1.moving_variance", vec![3], vec![1.0, 1.0, -1e-6])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `1.moving_variance` has a negative variance at index 2; a variance is at least 0"
    );
    // A file for a model without the normalisation: its tensors are missing, named.
    type Plain = (Dense<2, 3>, ActivationLayer<Relu>, Dense<3, 1>);
    let plain = Plain::init(&mut SeedRng::seed(1)).save_safetensors().unwrap();
    assert!(matches!(Net::load_safetensors(&plain), Err(LoadError::MissingTensor { name, .. }) if name == "1.gamma"));
}

/// Loading never gives a model that outputs NaN: every value of every variance decoded from a
/// file is finite and at least 0, so `√(variance + ε)` is at least `√ε`.
#[test]
fn a_loaded_model_never_outputs_nan_even_with_zero_variances() {
    let zero = with("1.moving_variance", vec![3], vec![0.0; 3]);
    let model = Net::load_safetensors(&zero).unwrap();
    let y = model.forward(&Vector::from([1e3, -1e3]));
    assert!(y[0].is_finite());
}
