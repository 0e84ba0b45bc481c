//! BatchNorm folding: the folded model's type has no foldable `BatchNormalization` left (the
//! `let`s below spell it out), and its outputs equal the unfolded model's — against Keras'
//! own outputs for models with random normalisation statistics (so a wrong scale, shift or
//! channel shows), and against the unfolded model in f64 for random models.

mod common;

use common::{Fixture, assert_close};
use proptest::prelude::*;
use typed_nn::fold::Folded;
use typed_nn::prelude::*;

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
    std::fs::read(format!("{}/tests/fixtures/keras_compose_{name}.safetensors", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn outputs<M: Layer<X>, X: Tensor<Elem = f32>>(model: &M, xs: &[X]) -> Vec<f32> {
    xs.iter().flat_map(|x| model.forward(x).as_slice().to_vec()).collect()
}

#[test]
fn a_folded_mlp_has_no_normalisation_and_keras_outputs() {
    let fx = Fixture::load("keras_compose.safetensors");
    let model = Mlp::load_safetensors(&weights("mlp")).unwrap();
    let folded: (
        Dense<6, 5>,
        ActivationLayer<Relu>,
        Dense<5, 4>,
        ActivationLayer<Relu6>,
        Dropout<300>,
        Dense<4, 3, Softmax>,
    ) = model.fold_batch_norm();
    let xs = fx.samples::<Vector<6>>("mlp.x");
    assert_close("folded mlp", &outputs(&folded, &xs), &fx.f32s("mlp.y"), 1e-5, 0.0);
    // The normalisations' 4·5 + 4·4 values are gone; the Dense layers keep their sizes.
    assert_eq!(<Mlp as Params<f32>>::PARAMS + <Mlp as Params<f32>>::STATE, 35 + 20 + 24 + 16 + 15);
    assert_eq!((<Folded<Mlp> as Params<f32>>::PARAMS, <Folded<Mlp> as Params<f32>>::STATE), (35 + 24 + 15, 0));
}

#[test]
fn a_folded_resnet_keeps_both_branches_and_keras_outputs() {
    let fx = Fixture::load("keras_compose.safetensors");
    let model = ResNet::load_safetensors(&weights("resnet")).unwrap();
    type FoldedBranch = (Conv2D<4, 8, 3, Identity, 2, Same>, ActivationLayer<Relu>, Conv2D<8, 8, 3, Identity, 1, Same>);
    type FoldedResNet = (
        (Conv2D<2, 4, 3, Identity, 1, Same>, ActivationLayer<Relu>),
        Residual<FoldedBranch, Conv2D<4, 8, 1, Identity, 2, Same>>,
        ActivationLayer<Relu>,
        Residual<(Conv2D<8, 8, 3, Identity, 1, Same>,)>,
        ActivationLayer<Relu>,
        GlobalAvgPool2D,
        Dense<8, 3, Softmax>,
    );
    let folded: FoldedResNet = model.fold_batch_norm();
    let xs = fx.samples::<Image<6, 5, 2>>("resnet.x");
    assert_close("folded resnet", &outputs(&folded, &xs), &fx.f32s("resnet.y"), 1e-5, 0.0);
    // The unfolded model agrees with Keras just as closely: folding changed nothing.
    assert_close("resnet", &outputs(&model, &xs), &fx.f32s("resnet.y"), 1e-5, 0.0);
}

/// A normalisation that cannot fold stays, and the model still computes the same function.
#[test]
fn a_normalisation_after_a_nonlinear_layer_stays() {
    type M =
        (Dense<3, 4, Tanh, f64>, BatchNormalization<4, f64>, Dense<4, 2, Identity, f64>, BatchNormalization<2, f64>);
    let mut model: M = M::init(&mut SeedRng::seed(1));
    model.1.moving_variance = [0.5, 1.5, 2.0, 0.7];
    model.3.moving_mean = [0.3, -0.2];
    let folded: (Dense<3, 4, Tanh, f64>, BatchNormalization<4, f64>, Dense<4, 2, Identity, f64>) =
        model.fold_batch_norm();
    let x = Vector::from([0.1, -0.7, 1.2]);
    let (a, b) = (model.forward(&x), folded.forward(&x));
    assert!(a.iter().zip(b.iter()).all(|(a, b)| (a - b).abs() < 1e-12), "{a:?} vs {b:?}");
}

type RandomCnn = (
    Conv2D<2, 3, 3, Identity, 2, Same, f64>,
    BatchNormalization<3, f64>,
    ActivationLayer<Tanh>,
    Residual<(Conv2D<3, 3, 1, Identity, 1, Valid, f64>, BatchNormalization<3, f64>), Skip>,
    Flatten,
    Dense<27, 4, Identity, f64>,
    BatchNormalization<4, f64>,
);

/// What `RandomCnn` folds into: the three normalisations after identity layers are gone.
type FoldedCnn = (
    Conv2D<2, 3, 3, Identity, 2, Same, f64>,
    ActivationLayer<Tanh>,
    Residual<(Conv2D<3, 3, 1, Identity, 1, Valid, f64>,), Skip>,
    Flatten,
    Dense<27, 4, Identity, f64>,
);

/// Every value of every normalisation random, moving variances in [0.05, 3].
fn randomize(model: &mut RandomCnn, seed: u64) {
    let mut rng = SeedRng::seed(seed);
    let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    for p in model.params_mut() {
        p.iter_mut().for_each(|v| *v = 2.0 * u() - 1.0);
    }
    for (i, s) in model.state_mut().enumerate() {
        s.iter_mut().for_each(|v| *v = if i % 2 == 0 { 2.0 * u() - 1.0 } else { 0.05 + 2.95 * u() });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn folded_models_compute_the_unfolded_function(seed in any::<u64>(), x in typed_nn::gradcheck::arb_image::<5, 5, 2, f64>(-1.0, 1.0)) {
        let mut model = RandomCnn::default();
        randomize(&mut model, seed);
        let folded = model.fold_batch_norm();
        let _: &FoldedCnn = &folded;
        let (a, b) = (model.forward(&x), folded.forward(&x));
        for (a, b) in a.iter().zip(b.iter()) {
            prop_assert!((a - b).abs() <= 1e-10 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}
