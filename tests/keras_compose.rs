//! BatchNormalization, Dropout, activation layers and residual blocks against Keras
//! (tests/fixtures/keras_compose*.safetensors, from scripts/keras_compose_fixtures.py): weights
//! exported by the shipped helper load by name into the typed models (sequential and
//! functional numbering), inference outputs match, a training-mode step matches Keras' loss,
//! outputs, gradients through the batch statistics and moving-average update, and `summary()`
//! prints Keras' table.

mod common;

use common::{Fixture, assert_close};
use typed_nn::params::{ParamSpec, ParamWalk, update_state};
use typed_nn::prelude::*;

/// `Input(5) → BatchNormalization → Dropout(0.5) → Dense(3)`.
type BnSeq = (BatchNormalization<5>, Dropout<500>, Dense<5, 3>);

/// `Input(6) → Dense(5) → BN → Activation(relu) → Dense(4) → BN → ReLU(6) → Dropout(0.3) →
/// Dense(3, softmax)`.
type Mlp = (
    Dense<6, 5>,
    BatchNormalization<5>,
    ActivationLayer<Relu>,
    Dense<5, 4>,
    BatchNormalization<4>,
    ActivationLayer<Relu6>,
    Dropout<300>,
    Dense<4, 3, Softmax>,
);

type Stem = (Conv2D<2, 4, 3, Identity, 1, Same>, BatchNormalization<4>, ActivationLayer<Relu>);
type Branch = (
    Conv2D<4, 8, 3, Identity, 2, Same>,
    BatchNormalization<8>,
    ActivationLayer<Relu>,
    Conv2D<8, 8, 3, Identity, 1, Same>,
    BatchNormalization<8>,
);
/// The fixture's functional model: a projection block and an identity block, as ResNet-8.
type ResNet = (
    Stem,
    Residual<Branch, Conv2D<4, 8, 1, Identity, 2, Same>>,
    ActivationLayer<Relu>,
    Residual<(Conv2D<8, 8, 3, Identity, 1, Same>, BatchNormalization<8>)>,
    ActivationLayer<Relu>,
    GlobalAvgPool2D,
    Dense<8, 3, Softmax>,
);

fn weights(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/keras_compose_{name}.safetensors", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap()
}

fn outputs<M: Layer<X>, X: Tensor<Elem = f32>>(model: &M, xs: &[X]) -> Vec<f32> {
    xs.iter().flat_map(|x| model.forward(x).as_slice().to_vec()).collect()
}

#[test]
fn keras_weights_load_by_name_and_reproduce_keras_inference() {
    let fx = Fixture::load("keras_compose.safetensors");
    let bn_seq = BnSeq::load_safetensors(&weights("bn_seq")).unwrap();
    assert_close("bn_seq.y", &outputs(&bn_seq, &fx.samples::<Vector<5>>("bn_seq.x")), &fx.f32s("bn_seq.y"), 1e-5, 1e-5);
    let mlp = Mlp::load_safetensors(&weights("mlp")).unwrap();
    assert_close("mlp.y", &outputs(&mlp, &fx.samples::<Vector<6>>("mlp.x")), &fx.f32s("mlp.y"), 1e-5, 1e-5);
    let resnet = ResNet::load_safetensors(&weights("resnet")).unwrap();
    let xs = fx.samples::<Image<6, 5, 2>>("resnet.x");
    assert_close("resnet.y", &outputs(&resnet, &xs), &fx.f32s("resnet.y"), 1e-5, 1e-5);
    // The batched inference path agrees.
    let mut ys = vec![Vector::<3>::default(); xs.len()];
    resnet.forward_batch(&xs, &mut ys).unwrap();
    let flat: Vec<f32> = ys.iter().flat_map(|y| y.as_slice().to_vec()).collect();
    assert_close("resnet.y (batched)", &flat, &fx.f32s("resnet.y"), 1e-5, 1e-5);
}

#[test]
fn saving_writes_the_tensor_names_keras_exports() {
    fn names(bytes: &[u8]) -> Vec<String> {
        let mut names: Vec<String> =
            safetensors::SafeTensors::deserialize(bytes).unwrap().names().into_iter().map(str::to_string).collect();
        names.sort();
        names
    }
    for (file, saved) in [
        ("bn_seq", BnSeq::load_safetensors(&weights("bn_seq")).unwrap().save_safetensors().unwrap()),
        ("mlp", Mlp::load_safetensors(&weights("mlp")).unwrap().save_safetensors().unwrap()),
        ("resnet", ResNet::load_safetensors(&weights("resnet")).unwrap().save_safetensors().unwrap()),
    ] {
        assert_eq!(names(&saved), names(&weights(file)), "{file}");
    }
}

#[test]
fn residual_blocks_are_numbered_as_keras_numbers_the_functional_model() {
    let fx = Fixture::load("keras_compose.safetensors");
    // Keras' `model.layers` (without the InputLayer), class by class.
    let layers: serde_json::Value = serde_json::from_str(&fx.meta("resnet.layers")).unwrap();
    let keras: Vec<String> = layers.as_array().unwrap().iter().map(|l| l[2].as_str().unwrap().to_string()).collect();
    // typed-nn's summary rows, in order: the class in parentheses on each row.
    let table = ResNet::default().summary_table::<Image<6, 5, 2>>().to_string();
    let ours: Vec<String> = table
        .split('(')
        .skip(1)
        .filter_map(|part| part.split(')').next())
        .filter(|class| class.chars().next().is_some_and(char::is_uppercase))
        .filter(|class| !class.starts_with("None"))
        .map(str::to_string)
        .collect();
    assert_eq!(ours, keras);
    assert!(table.starts_with("Model: \"functional\""), "{table}");
    // And the tensor names carry the same numbers: the projection is layer 7, the block's last
    // BatchNormalization layer 8.
    let mut specs: Vec<ParamSpec> = Vec::new();
    <ResNet as Params<f32>>::describe_params(&mut ParamWalk::default(), &mut |s| specs.push(*s));
    let named: Vec<String> = specs.iter().map(|s| format!("{}.{}", s.layer, s.name)).collect();
    assert!(named.contains(&"7.kernel".to_string()) && named.contains(&"8.gamma".to_string()), "{named:?}");
    assert_eq!(fx.shape("resnet.grad.7.kernel"), [1, 1, 4, 8]);
}

#[test]
fn summary_of_a_batch_norm_model_is_keras_table_with_non_trainable_params() {
    let fx = Fixture::load("keras_compose.safetensors");
    let ours = BnSeq::default().summary_table::<Vector<5>>().to_string();
    assert_eq!(ours.trim_end(), fx.meta("bn_seq.summary").trim_end());
}

/// One training-mode step of the resnet through the batched path: the batch statistics, the
/// gradient through them, and the moving averages, all as Keras computes them.
#[test]
fn a_training_step_matches_keras_batch_statistics_gradients_and_moving_averages() {
    let fx = Fixture::load("keras_compose.safetensors");
    let mut model = ResNet::load_safetensors(&weights("resnet")).unwrap();
    let xs = fx.samples::<Image<6, 5, 2>>("resnet.x");
    let labels = fx.indices("resnet.labels");
    let mut grad = ResNet::default();
    let mut workspace = Workspace::new();
    let loss = value_and_grad_batch(
        &model,
        &xs,
        &labels,
        &SparseCategoricalCrossentropy::default(),
        &mut grad,
        &mut workspace,
    )
    .unwrap();
    assert!((loss - fx.scalar("resnet.loss")).abs() < 1e-5, "{loss}");
    let ys: Vec<f32> = workspace.outputs().iter().flat_map(|y| y.as_slice().to_vec()).collect();
    assert_close("resnet.y_train", &ys, &fx.f32s("resnet.y_train"), 1e-5, 1e-5);

    let mut specs: Vec<ParamSpec> = Vec::new();
    <ResNet as Params<f32>>::describe_params(&mut ParamWalk::default(), &mut |s| specs.push(*s));
    assert_eq!(specs.len(), grad.params().count());
    for (spec, g) in specs.iter().zip(grad.params()) {
        let name = format!("resnet.grad.{}.{}", spec.layer, spec.name);
        assert_close(&name, g, &fx.f32s(&name), 2e-5, 1e-3);
    }

    update_state(&mut model, &grad);
    let mut state_specs: Vec<ParamSpec> = Vec::new();
    <ResNet as Params<f32>>::describe_state(&mut ParamWalk::default(), &mut |s| state_specs.push(*s));
    assert_eq!(state_specs.len(), 2 * 4, "four BatchNormalization layers");
    for (spec, s) in state_specs.iter().zip(model.state()) {
        let name = format!("resnet.after.{}.{}", spec.layer, spec.name);
        assert_close(&name, s, &fx.f32s(&name), 1e-6, 1e-5);
    }
}
