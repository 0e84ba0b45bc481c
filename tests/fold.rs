//! BatchNorm folding: the folded model's type has no foldable `BatchNormalization` left (the
//! `let`s below spell it out), and its outputs equal the unfolded model's — against Keras'
//! own outputs for models with random normalisation statistics (so a wrong scale, shift or
//! channel shows), and against the unfolded model in f64 for random models.

mod common;

use common::{Fixture, assert_close, outputs};
use proptest::prelude::*;
use typed_nn::fold::Folded;
use typed_nn::params::ParamWalk;
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

// ------------------------------------------------ depthwise, rectangular and bias-free layers

/// MobileNetV1's pattern in miniature: no convolution or dense layer has a bias
/// (`use_bias=False`), the stem is rectangular and strided, the depthwise layer strided with a
/// depth multiplier of 2; each is followed by a normalisation.
type MobileLike = (
    Conv2DRect<3, 8, 3, 2, Identity, 2, 1, Same, f32, NoBias>,
    BatchNormalization<8>,
    ActivationLayer<Relu6>,
    DepthwiseConv2D<8, 3, Identity, 2, Same, f32, NoBias, 2>,
    BatchNormalization<16>,
    ActivationLayer<Relu6>,
    Conv2D<16, 6, 1, Identity, 1, Valid, f32, NoBias>,
    BatchNormalization<6>,
    ActivationLayer<Relu6>,
    GlobalAvgPool2D,
    Dense<6, 4, Identity, f32, NoBias>,
    BatchNormalization<4>,
);

/// What `MobileLike` folds into: every normalisation gone, every layer now with a bias.
type FoldedMobileLike = (
    Conv2DRect<3, 8, 3, 2, Identity, 2, 1, Same, f32, Bias>,
    ActivationLayer<Relu6>,
    DepthwiseConv2D<8, 3, Identity, 2, Same, f32, Bias, 2>,
    ActivationLayer<Relu6>,
    Conv2D<16, 6, 1, Identity, 1, Valid, f32, Bias>,
    ActivationLayer<Relu6>,
    GlobalAvgPool2D,
    Dense<6, 4, Identity, f32, Bias>,
);

/// DS-CNN's pattern in miniature: layers with biases, a rectangular strided stem, a
/// rectangular depthwise kernel, a rectangular closing pool.
type DsCnnLike = (
    Conv2DRect<1, 6, 5, 2, Identity, 2, 2, Same>,
    BatchNormalization<6>,
    ActivationLayer<Relu>,
    DepthwiseConv2DRect<6, 3, 1, Identity, 1, 1, Same>,
    BatchNormalization<6>,
    ActivationLayer<Relu>,
    Conv2D<6, 4, 1>,
    BatchNormalization<4>,
    ActivationLayer<Relu>,
    AvgPool2D<6, 3>,
    Flatten,
    Dense<4, 3, Softmax>,
);

type FoldedDsCnnLike = (
    Conv2DRect<1, 6, 5, 2, Identity, 2, 2, Same>,
    ActivationLayer<Relu>,
    DepthwiseConv2DRect<6, 3, 1, Identity, 1, 1, Same>,
    ActivationLayer<Relu>,
    Conv2D<6, 4, 1>,
    ActivationLayer<Relu>,
    AvgPool2D<6, 3>,
    Flatten,
    Dense<4, 3, Softmax>,
);

/// Glorot kernels (`init`), then every bias, γ, β and moving statistic random: biases, β and
/// moving means in [−0.5, 0.5], γ in [0.5, 1.5], moving variances in [0.05, 3], so a wrong
/// scale, shift or channel order changes the outputs.
fn randomize_statistics<M: Params<f32>>(model: &mut M, seed: u64) {
    let mut rng = SeedRng::seed(seed);
    let mut u = move || ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) as f32;
    let mut names = Vec::new();
    M::describe_params(&mut ParamWalk::default(), &mut |s| names.push(s.name));
    let mut tensors = 0;
    for (p, name) in model.params_mut().zip(&names) {
        match *name {
            "kernel" => {}
            "gamma" => p.iter_mut().for_each(|v| *v = 0.5 + u()),
            "bias" | "beta" => p.iter_mut().for_each(|v| *v = u() - 0.5),
            other => panic!("unexpected parameter {other}"),
        }
        tensors += 1;
    }
    assert_eq!(tensors, names.len());
    let mut states = Vec::new();
    M::describe_state(&mut ParamWalk::default(), &mut |s| states.push(s.name));
    for (s, name) in model.state_mut().zip(&states) {
        match *name {
            "moving_mean" => s.iter_mut().for_each(|v| *v = u() - 0.5),
            "moving_variance" => s.iter_mut().for_each(|v| *v = 0.05 + 2.95 * u()),
            other => panic!("unexpected state {other}"),
        }
    }
}

/// `max |a − b|` over the outputs of `model` and `folded` on `x`.
fn max_diff<M: Layer<X>, F: Layer<X, Out = M::Out>, X: Tensor<Elem = f32>>(model: &M, folded: &F, x: &X) -> f32 {
    let (a, b) = (model.forward(x), folded.forward(x));
    a.as_slice().iter().zip(b.as_slice()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Folding into bias-free and depthwise layers creates the bias and scales each output
    /// channel (`c·M + m` for a depthwise layer); the folded f32 model's outputs are the
    /// unfolded model's within 1e-5.
    #[test]
    fn folding_into_depthwise_and_bias_free_layers_keeps_the_outputs(
        seed in any::<u64>(),
        x in typed_nn::gradcheck::arb_image::<9, 7, 3, f32>(-1.0, 1.0),
        y in typed_nn::gradcheck::arb_image::<11, 6, 1, f32>(-1.0, 1.0),
    ) {
        let mut mobile: Box<MobileLike> = Box::new(MobileLike::init(&mut SeedRng::seed(seed)));
        randomize_statistics(&mut *mobile, seed ^ 1);
        let folded: FoldedMobileLike = mobile.fold_batch_norm();
        let d = max_diff(&*mobile, &folded, &x);
        prop_assert!(d <= 1e-5, "MobileLike: outputs differ by {d}");

        let mut ds: Box<DsCnnLike> = Box::new(DsCnnLike::init(&mut SeedRng::seed(seed)));
        randomize_statistics(&mut *ds, seed ^ 2);
        let folded: FoldedDsCnnLike = ds.fold_batch_norm();
        let d = max_diff(&*ds, &folded, &y);
        prop_assert!(d <= 1e-5, "DsCnnLike: outputs differ by {d}");
    }
}

/// One depthwise layer with a multiplier, by hand: output channel `c·M + m` takes
/// normalisation channel `c·M + m`'s scale and shift, so swapping the order (`m·C + c`) fails.
#[test]
fn a_depthwise_layer_absorbs_each_output_channel_in_keras_order() {
    use typed_nn::fold::Absorb;
    // 2 channels, multiplier 2, a 1×1 kernel: output channel c·2 + m is x[c]·k[c][m].
    let dw: DepthwiseConv2D<2, 1, Identity, 1, Valid, f64, NoBias, 2> =
        DepthwiseConv2D::new([[[[1.0, 2.0], [3.0, 4.0]]]], NoBias);
    let norm: BatchNormalization<4, f64> = BatchNormalization::new(
        [1.0, 2.0, 3.0, 4.0],
        [0.5, -0.5, 1.5, -1.5],
        [0.1, 0.2, 0.3, 0.4],
        [1.0, 2.0, 3.0, 4.0],
    );
    let folded: DepthwiseConv2D<2, 1, Identity, 1, Valid, f64, Bias, 2> = dw.absorb(&norm);
    let x: Image<1, 1, 2, f64> = [[[0.7, -1.1]]].into();
    let z = [0.7 * 1.0, 0.7 * 2.0, -1.1 * 3.0, -1.1 * 4.0];
    let y = folded.forward(&x);
    for (i, &z) in z.iter().enumerate() {
        let (g, b, m, v) =
            ([1.0, 2.0, 3.0, 4.0][i], [0.5, -0.5, 1.5, -1.5][i], [0.1, 0.2, 0.3, 0.4][i], (i + 1) as f64);
        let expected = (z - m) * g / (v + 1e-3f64).sqrt() + b;
        assert!((y.as_slice()[i] - expected).abs() < 1e-12, "channel {i}: {} vs {expected}", y.as_slice()[i]);
    }
}
