//! Loading Keras- and PyTorch-written safetensors files into typed models: same outputs as the
//! framework, and every mismatch a typed error naming the tensor and both shapes.

mod common;

use common::{Fixture, assert_close};
use safetensors::tensor::{Dtype, TensorView, serialize};
use typed_nn::prelude::*;

type Seed1 = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
type Seed2 = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

/// A safetensors file with the given (name, dtype, shape, little-endian bytes) tensors.
fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> =
        tensors.iter().map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap())).collect();
    serialize(views, None).unwrap()
}

fn f32s(n: usize, v: f32) -> Vec<u8> {
    (0..n).flat_map(|_| v.to_le_bytes()).collect()
}

type Small = (Dense<3, 2, Relu>, Dense<2, 1>);

fn small_file() -> Vec<Vec<u8>> {
    vec![f32s(6, 0.5), f32s(2, 0.1), f32s(2, -1.0), f32s(1, 0.2)]
}

#[test]
fn keras_written_seed_models_reproduce_keras_outputs() {
    fn check<M: Layer<X, Out = Vector<10>> + Params<f32> + Default, X: Tensor<Elem = f32>>(name: &str) {
        let fx = Fixture::load(name);
        let bytes = std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        // The fixture also holds inputs, outputs and gradients: load with `ignore_extra`.
        let model: Box<M> = Box::<M>::load_safetensors_with(&bytes, LoadOptions { ignore_extra: true }).unwrap();
        let ys: Vec<f32> = fx.samples::<X>("x").iter().flat_map(|x| model.forward(x).into_array()).collect();
        assert_close(&format!("{name}: y"), &ys, &fx.f32s("y"), 1e-5, 0.0);
        // Without `ignore_extra` the extra tensors are refused.
        assert!(matches!(M::load_safetensors(&bytes), Err(LoadError::UnexpectedTensor { .. })));
    }
    check::<Seed1, Vector<784>>("keras_seed1.safetensors");
    common::with_stack(16 << 20, || check::<Seed2, Image<28, 28, 1>>("keras_seed2.safetensors"));
}

#[test]
fn saving_writes_the_keras_convention_and_round_trips() {
    let model: Seed1 = Seed1::init(&mut SeedRng::seed(4));
    let bytes = model.save_safetensors().unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort();
    assert_eq!(names, ["0.bias", "0.kernel", "1.bias", "1.kernel"]);
    assert_eq!(st.tensor("0.kernel").unwrap().shape(), [784, 64]);
    assert_eq!(st.tensor("0.kernel").unwrap().dtype(), Dtype::F32);
    assert_eq!(Seed1::load_safetensors(&bytes).unwrap(), model);
    // Conv layouts too, and f64 models save F64.
    type Cnn64 = (Conv2D<2, 3, 3, Tanh, 1, Same, f64>, MaxPool2D<2>, Flatten, Dense<12, 4, Softmax, f64>);
    let cnn: Cnn64 = Cnn64::init(&mut SeedRng::seed(5));
    let bytes = cnn.save_safetensors().unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("0.kernel").unwrap().shape(), [3, 3, 2, 3]);
    assert_eq!(st.tensor("3.kernel").unwrap().dtype(), Dtype::F64);
    assert_eq!(Cnn64::load_safetensors(&bytes).unwrap(), cnn);
}

#[test]
fn every_mismatch_is_a_typed_error_naming_the_tensor() {
    let [k0, b0, k1, b1] = small_file().try_into().unwrap();
    let good = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0.clone()),
        ("0.bias", Dtype::F32, vec![2], b0.clone()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
    ]);
    let model = Small::load_safetensors(&good).unwrap();
    assert_eq!(model.0.kernel, [[0.5; 2]; 3]);

    let missing =
        file(&[("0.kernel", Dtype::F32, vec![3, 2], k0.clone()), ("0.bias", Dtype::F32, vec![2], b0.clone())]);
    assert_eq!(
        Small::load_safetensors(&missing),
        Err(LoadError::MissingTensor { name: "1.kernel` or `1.weight".into(), expected: vec![2, 1] })
    );

    let extra = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0.clone()),
        ("0.bias", Dtype::F32, vec![2], b0.clone()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
        ("2.kernel", Dtype::F32, vec![1, 1], f32s(1, 0.0)),
    ]);
    assert_eq!(Small::load_safetensors(&extra), Err(LoadError::UnexpectedTensor { name: "2.kernel".into() }));
    assert!(Small::load_safetensors_with(&extra, LoadOptions { ignore_extra: true }).is_ok());

    let transposed = file(&[
        ("0.kernel", Dtype::F32, vec![2, 3], k0.clone()),
        ("0.bias", Dtype::F32, vec![2], b0.clone()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
    ]);
    let err = Small::load_safetensors(&transposed).unwrap_err();
    assert_eq!(
        err,
        LoadError::WrongShape {
            name: "0.kernel".into(),
            expected: vec![3, 2],
            found: vec![2, 3],
            layout: "Keras layout (in, out)"
        }
    );
    assert_eq!(
        err.to_string(),
        "tensor `0.kernel` has shape [2, 3], but the model expects [3, 2] (Keras layout (in, out))"
    );

    let ints = file(&[
        ("0.kernel", Dtype::I32, vec![3, 2], f32s(6, 0.0)),
        ("0.bias", Dtype::F32, vec![2], b0.clone()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
    ]);
    assert_eq!(
        Small::load_safetensors(&ints),
        Err(LoadError::UnsupportedDtype { name: "0.kernel".into(), dtype: "I32".into() })
    );

    let nan = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0.clone()),
        ("0.bias", Dtype::F32, vec![2], [0.0f32, f32::NAN].iter().flat_map(|v| v.to_le_bytes()).collect()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
    ]);
    assert_eq!(Small::load_safetensors(&nan), Err(LoadError::NonFinite { name: "0.bias".into(), index: 1 }));

    let both = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0.clone()),
        ("0.weight", Dtype::F32, vec![2, 3], k0.clone()),
        ("0.bias", Dtype::F32, vec![2], b0.clone()),
        ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
        ("1.bias", Dtype::F32, vec![1], b1.clone()),
    ]);
    assert_eq!(Small::load_safetensors(&both), Err(LoadError::AmbiguousTensor { name: "0.kernel".into() }));

    // Truncated and corrupted files.
    for cut in [0, 7, 8, 20, good.len() - 1] {
        assert!(matches!(Small::load_safetensors(&good[..cut]), Err(LoadError::Corrupt { .. })), "cut at {cut}");
    }
    let mut bad_header = good.clone();
    bad_header[8] = b'x'; // the header's opening brace: no longer JSON
    assert!(matches!(Small::load_safetensors(&bad_header), Err(LoadError::Corrupt { .. })));
    let mut renamed = good.clone();
    renamed[10] = b'7'; // the first tensor name's layer digit: now a valid file for another model
    assert!(matches!(Small::load_safetensors(&renamed), Err(LoadError::MissingTensor { .. })));

    // A failed load leaves the model as it was.
    let mut model = Small::init(&mut SeedRng::seed(1));
    let before = model.clone();
    assert!(model.read_safetensors(&nan, LoadOptions::default()).is_err());
    assert_eq!(model, before);
}

#[test]
fn half_precision_weights_are_converted() {
    let [_, b0, k1, b1] = small_file().try_into().unwrap();
    let half: Vec<u8> = (0..6).flat_map(|_| 0x3800u16.to_le_bytes()).collect(); // 0.5 in f16
    let bf: Vec<u8> = (0..2).flat_map(|_| 0x3dccu16.to_le_bytes()).collect(); // ≈0.0996 in bf16
    let f = file(&[
        ("0.kernel", Dtype::F16, vec![3, 2], half),
        ("0.bias", Dtype::BF16, vec![2], bf),
        ("1.kernel", Dtype::F32, vec![2, 1], k1),
        ("1.bias", Dtype::F64, vec![1], 0.2f64.to_le_bytes().to_vec()),
    ]);
    let _ = (b0, b1);
    let m = Small::load_safetensors(&f).unwrap();
    assert_eq!(m.0.kernel, [[0.5; 2]; 3]);
    assert_eq!(m.0.bias, [f32::from_bits(0x3dcc_0000); 2]);
    assert_eq!(m.1.bias, [0.2]);
}

#[derive(Clone, Copy, Debug, Default)]
struct Swish;
impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}
type Seed3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

/// Loads a PyTorch-written fixture (`{k}.weight`, PyTorch layouts, plus `input` and `output`
/// tensors) and compares the model's outputs with PyTorch's.
fn check_torch<M: Layer<X, Out = Vector<10>> + Params<f32> + Default, X: Tensor<Elem = f32>>(name: &str, tol: f32) {
    let fx = Fixture::load(name);
    let bytes = std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let model: Box<M> = Box::<M>::load_safetensors_with(&bytes, LoadOptions { ignore_extra: true }).unwrap();
    let ys: Vec<f32> = fx.samples::<X>("input").iter().flat_map(|x| model.forward(x).into_array()).collect();
    assert_close(&format!("{name}: output"), &ys, &fx.f32s("output"), tol, 0.0);
}

#[test]
fn pytorch_written_seed_models_reproduce_pytorch_outputs() {
    check_torch::<Seed1, Vector<784>>("torch_seed1.safetensors", 1e-5);
    check_torch::<Seed3, Vector<100>>("torch_seed3.safetensors", 1e-5);
    // Seed 2's Linear follows a Flatten of 32 channels: its columns are reordered CHW → HWC.
    common::with_stack(16 << 20, || check_torch::<Seed2, Image<28, 28, 1>>("torch_seed2.safetensors", 1e-5));
}

#[test]
fn pytorch_half_precision_files_load_exactly() {
    // The outputs were computed by PyTorch from the f16/bf16-rounded weights widened to f32.
    check_torch::<Seed1, Vector<784>>("torch_seed1_f16.safetensors", 1e-6);
    check_torch::<Seed1, Vector<784>>("torch_seed1_bf16.safetensors", 1e-6);
    // And the decoded weights are exactly the rounded values: compare with the f32 file.
    let read = |n: &str| std::fs::read(format!("{}/tests/fixtures/{n}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lenient = LoadOptions { ignore_extra: true };
    let full = Box::<Seed1>::load_safetensors_with(&read("torch_seed1.safetensors"), lenient).unwrap();
    let half = Box::<Seed1>::load_safetensors_with(&read("torch_seed1_f16.safetensors"), lenient).unwrap();
    for (a, b) in full.params().flatten().zip(half.params().flatten()) {
        // f16 keeps 11 significant bits: within half an ulp of 2⁻¹¹ relative (or the subnormal step).
        assert!((a - b).abs() <= a.abs() * 2f32.powi(-11) + 6e-8, "{a} vs {b}");
    }
}

#[test]
fn a_clean_keras_export_loads_without_options() {
    let fx = Fixture::load("keras_seed2.safetensors");
    let bytes = std::fs::read(format!("{}/tests/fixtures/keras_weights_seed2.safetensors", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    common::with_stack(16 << 20, move || {
        let model: Box<Seed2> = Box::<Seed2>::load_safetensors(&bytes).unwrap();
        let ys: Vec<f32> =
            fx.samples::<Image<28, 28, 1>>("x").iter().flat_map(|x| model.forward(x).into_array()).collect();
        assert_close("keras_weights_seed2: y", &ys, &fx.f32s("y"), 1e-5, 0.0);
    });
}
