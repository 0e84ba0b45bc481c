//! Shared helpers for the integration tests: reading the committed Keras fixtures.

#![allow(dead_code)] // each test binary uses a different subset

use safetensors::SafeTensors;
use typed_nn::prelude::*;

/// A fixture file: named f32 tensors (and int64 labels) written by scripts/keras_fixtures.py.
pub struct Fixture {
    bytes: Vec<u8>,
}

impl Fixture {
    /// Reads `tests/fixtures/{name}`.
    pub fn load(name: &str) -> Self {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        Self { bytes: std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}")) }
    }

    fn tensors(&self) -> SafeTensors<'_> {
        SafeTensors::deserialize(&self.bytes).expect("fixture is a valid safetensors file")
    }

    /// The f32 tensor `name`, flattened in C order.
    pub fn f32s(&self, name: &str) -> Vec<f32> {
        let st = self.tensors();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("fixture has no tensor {name}"));
        assert_eq!(t.dtype(), safetensors::Dtype::F32, "{name}");
        t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    /// The shape of tensor `name`.
    pub fn shape(&self, name: &str) -> Vec<usize> {
        self.tensors().tensor(name).map(|t| t.shape().to_vec()).unwrap_or_default()
    }

    /// The int64 tensor `name`, as indices.
    pub fn indices(&self, name: &str) -> Vec<usize> {
        let st = self.tensors();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("fixture has no tensor {name}"));
        t.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap()) as usize).collect()
    }

    /// A scalar stored as shape () or (1,).
    pub fn scalar(&self, name: &str) -> f32 {
        self.f32s(name)[0]
    }

    /// A metadata string.
    pub fn meta(&self, key: &str) -> String {
        let (_, meta) = SafeTensors::read_metadata(&self.bytes).unwrap();
        meta.metadata().as_ref().and_then(|m| m.get(key).cloned()).unwrap_or_default()
    }

    /// A model whose parameter tensors, in `Params` order, are the named fixture tensors
    /// (Keras layouts equal typed-nn's for Dense and Conv2D, so this is a straight copy).
    pub fn model<M: Params<f32> + NewBoxed>(&self, names: &[String]) -> Box<M> {
        let mut m: Box<M> = M::new_boxed();
        let mut count = 0;
        for (dst, name) in m.params_mut().zip(names) {
            let src = self.f32s(name);
            assert_eq!(dst.len(), src.len(), "tensor {name}");
            dst.copy_from_slice(&src);
            count += 1;
        }
        assert_eq!(count, names.len(), "the model has a parameter tensor per name");
        m
    }

    /// The batch `x` as typed samples.
    pub fn samples<X: Tensor<Elem = f32>>(&self, name: &str) -> Vec<X> {
        self.f32s(name).chunks_exact(X::LEN).map(|c| X::from_slice(c).unwrap()).collect()
    }
}

/// `{prefix}{k}.kernel`, `{prefix}{k}.bias` for each parameterised layer index `k`.
pub fn param_names(prefix: &str, layers: &[usize]) -> Vec<String> {
    layers.iter().flat_map(|k| [format!("{prefix}{k}.kernel"), format!("{prefix}{k}.bias")]).collect()
}

/// `|a − r| ≤ atol + rtol·|r|` element by element, with a message naming the worst element.
pub fn assert_close(what: &str, actual: &[f32], reference: &[f32], atol: f32, rtol: f32) {
    assert_eq!(actual.len(), reference.len(), "{what}: lengths differ");
    let mut worst: Option<(usize, f32)> = None;
    for (i, (&a, &r)) in actual.iter().zip(reference).enumerate() {
        let excess = (a - r).abs() / (atol + rtol * r.abs());
        // NaN (in either value) fails too.
        let fails = excess.is_nan() || excess > 1.0;
        if fails && worst.is_none_or(|(_, e)| excess > e || excess.is_nan()) {
            worst = Some((i, excess));
        }
    }
    if let Some((i, _)) = worst {
        panic!("{what}: element {i} is {} but the reference says {}", actual[i], reference[i]);
    }
}

/// Runs `f` on a thread with a `bytes`-sized stack: single-sample training of a full-size CNN
/// in `f64` keeps about a megabyte of activations on the stack in a debug build, more than a
/// test thread's default 2 MiB allows once proptest's own frames are added.
pub fn with_stack(bytes: usize, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(bytes).spawn(f).unwrap().join().unwrap();
}

/// Single-sample passes through the MLPerf Tiny models of `examples/models/` keep a few hundred
/// KB on the stack in a debug build; the test threads get room for that (`with_stack`).
pub const MLPERF_STACK: usize = 64 << 20;

/// The Keras weights of the MLPerf Tiny model `name` (`resnet8`, `ds_cnn`, `mobilenet_v1`,
/// `autoencoder`): `tests/fixtures/keras_{name}.safetensors`, written by the shipped export
/// helper (scripts/keras_mlperf_tiny_fixtures.py).
pub fn mlperf_weights(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/keras_{name}.safetensors", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The MLPerf Tiny models' inputs, Keras' outputs and layer lists:
/// `tests/fixtures/keras_mlperf_tiny.safetensors`.
pub fn mlperf_fixture() -> Fixture {
    Fixture::load("keras_mlperf_tiny.safetensors")
}

/// The single-sample outputs of `model` on each of `xs`, concatenated.
pub fn outputs<M: Layer<X>, X: Tensor<Elem = f32>>(model: &M, xs: &[X]) -> Vec<f32> {
    xs.iter().flat_map(|x| model.forward(x).as_slice().to_vec()).collect()
}

/// The outputs of `model` on `xs` as one batch (the batched kernels), concatenated.
pub fn batched<M: ForwardBatch<X, Out = Vector<N>>, X: Tensor<Elem = f32>, const N: usize>(
    model: &M,
    xs: &[X],
) -> Vec<f32> {
    let mut ys = vec![Vector::<N>::default(); xs.len()];
    model.forward_batch(xs, &mut ys).unwrap();
    ys.iter().flat_map(|y| y.as_slice().to_vec()).collect()
}

/// Whether `A` and `B` are one type: a computed model type against one spelled out by hand.
pub fn same_type<A: 'static, B: 'static>() -> bool {
    core::any::TypeId::of::<A>() == core::any::TypeId::of::<B>()
}
