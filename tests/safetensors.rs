//! Loading Keras- and PyTorch-written safetensors files into typed models: same outputs as the
//! framework, and every mismatch a typed error naming the tensor and both shapes.

mod common;

use common::{Fixture, assert_close};
use safetensors::tensor::{Dtype, TensorView, serialize};
use typed_nn::io::safetensors::MAX_HEADER_BYTES;
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
    fn check<M: Layer<X, Out = Vector<10>> + Params<f32> + NewBoxed + Zeros, X: Tensor<Elem = f32>>(name: &str) {
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
fn check_torch<M: Layer<X, Out = Vector<10>> + Params<f32> + NewBoxed, X: Tensor<Elem = f32>>(name: &str, tol: f32) {
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

// ---------------------------------------------------------------- hostile and careless files

/// A safetensors file written by hand: the 8-byte header length, the header, then the data.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The header entry of an F32 tensor.
fn entry(name: &str, shape: &[usize], from: usize, to: usize) -> String {
    format!(r#""{name}":{{"dtype":"F32","shape":{shape:?},"data_offsets":[{from},{to}]}}"#)
}

#[test]
fn a_tensor_listed_twice_is_named_not_reported_as_a_bad_offset() {
    let data = f32s(11, 0.25);
    let k0 = entry("0.kernel", &[3, 2], 0, 24);
    let (k1, b1) = (entry("1.kernel", &[2, 1], 32, 40), entry("1.bias", &[1], 40, 44));
    let twice = DuplicateTensor("0.bias");
    // Two different entries for one name (the parser keeps the last, then finds a gap).
    let header = format!("{{{k0},{},{},{k1},{b1}}}", entry("0.bias", &[2], 24, 32), entry("0.bias", &[2], 32, 40));
    assert_eq!(Small::load_safetensors(&raw(&header, &data)), twice.err());
    // Two identical entries: the parser accepts them silently; a file that says one thing twice
    // is still refused.
    let b0 = entry("0.bias", &[2], 24, 32);
    let header = format!("{{{k0},{b0},{b0},{k1},{b1}}}");
    assert_eq!(Small::load_safetensors(&raw(&header, &data)), twice.err());
    // Spelled differently, the same JSON key.
    let escaped = entry(r"0.b\u0069as", &[2], 24, 32);
    let header = format!("{{{k0},{b0},{k1},{b1},{escaped}}}");
    assert_eq!(Small::load_safetensors_with(&raw(&header, &data), LoadOptions { ignore_extra: true }), twice.err());
    assert_eq!(twice.err::<()>().unwrap_err().to_string(), "the file lists tensor `0.bias` twice; keep one");
    // The same file without the duplicate loads.
    let header = format!("{{{k0},{b0},{k1},{b1}}}");
    assert!(Small::load_safetensors(&raw(&header, &data)).is_ok());
}

/// `Err(LoadError::DuplicateTensor { name })`, as a value to compare results with.
struct DuplicateTensor(&'static str);
impl DuplicateTensor {
    fn err<T>(&self) -> Result<T, LoadError> {
        Err(LoadError::DuplicateTensor { name: self.0.into() })
    }
}

#[test]
fn a_header_over_one_mebibyte_is_refused_before_it_is_parsed() {
    use std::time::Instant;
    // 200 000 tensors: a 12 MB header, which took 1.7 s to parse and reject.
    let mut header = String::from("{");
    for i in 0..200_000 {
        header.push_str(&entry(&format!("{i}.kernel"), &[1], 4 * i, 4 * i + 4));
        header.push(',');
    }
    header.pop();
    header.push('}');
    let huge = raw(&header, &f32s(200_000, 0.0));
    let start = Instant::now();
    let result = Small::load_safetensors_with(&huge, LoadOptions { ignore_extra: true });
    let elapsed = start.elapsed();
    assert_eq!(result, Err(LoadError::HeaderTooLarge { bytes: header.len() as u64 }));
    assert!(elapsed.as_millis() < 50, "rejected in {elapsed:?}");
    // Only the length is read: eight bytes that claim a larger header are enough.
    let claim = (MAX_HEADER_BYTES + 1).to_le_bytes();
    assert_eq!(Small::load_safetensors(&claim), Err(LoadError::HeaderTooLarge { bytes: MAX_HEADER_BYTES + 1 }));
    assert_eq!(Small::load_safetensors(&u64::MAX.to_le_bytes()), Err(LoadError::HeaderTooLarge { bytes: u64::MAX }));

    // A header of exactly the limit (padded with spaces, as the format allows) still loads.
    let [k0, b0, k1, b1] = small_file().try_into().unwrap();
    let good = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0),
        ("0.bias", Dtype::F32, vec![2], b0),
        ("1.kernel", Dtype::F32, vec![2, 1], k1),
        ("1.bias", Dtype::F32, vec![1], b1),
    ]);
    let len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let padded = |to: u64| {
        let mut h = String::from_utf8(good[8..8 + len].to_vec()).unwrap();
        h.push_str(&" ".repeat(to as usize - len));
        raw(&h, &good[8 + len..])
    };
    assert!(Small::load_safetensors(&padded(MAX_HEADER_BYTES)).is_ok());
    assert_eq!(
        Small::load_safetensors(&padded(MAX_HEADER_BYTES + 1)),
        Err(LoadError::HeaderTooLarge { bytes: MAX_HEADER_BYTES + 1 })
    );
}

#[test]
fn f64_weights_round_to_the_nearest_f32_and_values_beyond_f32_max_are_refused() {
    let [_, b0, k1, b1] = small_file().try_into().unwrap();
    let with_kernel = |values: [f64; 6]| {
        let kernel: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        file(&[
            ("0.kernel", Dtype::F64, vec![3, 2], kernel),
            ("0.bias", Dtype::F32, vec![2], b0.clone()),
            ("1.kernel", Dtype::F32, vec![2, 1], k1.clone()),
            ("1.bias", Dtype::F32, vec![1], b1.clone()),
        ])
    };
    // Below f32's range: to the nearest subnormal, or to a zero of the same sign (as NumPy's
    // astype(np.float32)); 1e-40 is 71362.4 times the smallest subnormal 2⁻¹⁴⁹.
    let tiny = with_kernel([1e-50, -1e-50, 1e-40, 5e-324, 1.175_494_350_822_287_5e-38, 1e38]);
    let m = Small::load_safetensors(&tiny).unwrap();
    let bits: Vec<u32> = m.0.kernel.as_flattened().iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, [0x0000_0000, 0x8000_0000, 71_362, 0x0000_0000, 0x0080_0000, 1e38f32.to_bits()]);
    // Beyond f32::MAX: a typed error naming the tensor and the index, not "NaN or infinite".
    let big = with_kernel([0.5, 0.5, 0.5, 1e39, 0.5, 0.5]);
    let err = Small::load_safetensors(&big).unwrap_err();
    assert_eq!(err, LoadError::OutOfRange { name: "0.kernel".into(), index: 3, dtype: "F32" });
    assert_eq!(err.to_string(), "tensor `0.kernel` has a value at index 3 beyond the range of the model's F32");
    let inf = with_kernel([0.5, f64::NEG_INFINITY, 0.5, 0.5, 0.5, 0.5]);
    assert_eq!(Small::load_safetensors(&inf), Err(LoadError::NonFinite { name: "0.kernel".into(), index: 1 }));
    // An f64 model keeps every value.
    type Small64 = (Dense<3, 2, Relu, f64>, Dense<2, 1, Identity, f64>);
    let m = Small64::load_safetensors(&big).unwrap();
    assert_eq!(m.0.kernel.as_flattened()[3], 1e39);
}

#[test]
fn every_single_bit_flip_of_a_file_gives_a_model_or_a_typed_error() {
    // The header checks (length, duplicate names) read untrusted bytes before the parser does;
    // none of them may panic. (The fuzz targets do this at scale; this is the deterministic
    // floor that `cargo test` runs.)
    let [k0, b0, _, _] = small_file().try_into().unwrap();
    let good = file(&[
        ("0.kernel", Dtype::F32, vec![3, 2], k0),
        ("0.bias", Dtype::F32, vec![2], b0),
        ("1.kernel", Dtype::F64, vec![2, 1], vec![0; 16]),
        ("1.bias", Dtype::F16, vec![1], vec![0; 2]),
    ]);
    assert!(Small::load_safetensors(&good).is_ok());
    let mut loaded = 0;
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[i] ^= 1 << bit;
            let lenient = Small::load_safetensors_with(&bad, LoadOptions { ignore_extra: true });
            loaded += usize::from(lenient.is_ok());
            let _ = Small::load_safetensors(&bad);
        }
    }
    assert!(loaded > 0, "some flips only change a weight");
}
