//! The MLPerf Tiny models of `examples/models/` against Keras (tests/fixtures/keras_resnet8,
//! keras_autoencoder, keras_ds_cnn, keras_mobilenet_v1 and keras_mlperf_tiny.safetensors, from
//! scripts/keras_mlperf_tiny_fixtures.py): weights written by the shipped export helper from a
//! Keras functional (ResNet-8, DS-CNN) and sequential (autoencoder, MobileNetV1) model load by name into the typed
//! models, which reproduce Keras' inference outputs within 1e-5, unfolded and with every
//! BatchNormalization folded, with random moving statistics, gammas and betas; ResNet-8's
//! training-mode loss and gradients match; parameter counts and layer numbering are Keras';
//! and a wrong architecture is refused naming the Keras layer's tensor and both shapes.

mod common;

#[allow(dead_code)]
#[path = "../examples/models/resnet8.rs"]
mod resnet8;

#[allow(dead_code)]
#[path = "../examples/models/autoencoder.rs"]
mod autoencoder;

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;

#[allow(dead_code)]
#[path = "../examples/models/mobilenet_v1.rs"]
mod mobilenet_v1;

use autoencoder::{Autoencoder, AutoencoderFolded, DenseBlock};
use common::{
    Fixture, MLPERF_STACK, assert_close, batched, mlperf_fixture, mlperf_weights, outputs, same_type, with_stack,
};
use ds_cnn::{DsCnn, DsCnnFolded};
use mobilenet_v1::{MobileNetV1, MobileNetV1Folded};
use resnet8::{Branch, Conv3, IdentityStack, ProjectionStack, ResNet8, ResNet8Folded};
use typed_nn::params::{ParamSpec, ParamWalk};
use typed_nn::prelude::*;

/// Keras' `model.layers` (without the InputLayer) as `(name, class)`, from the fixture.
fn keras_layers(fx: &Fixture, model: &str) -> Vec<(String, String)> {
    let layers: serde_json::Value = serde_json::from_str(&fx.meta(&format!("{model}.layers"))).unwrap();
    layers.as_array().unwrap().iter().map(|l| (l[1].as_str().unwrap().into(), l[2].as_str().unwrap().into())).collect()
}

/// The classes typed-nn's `summary()` prints, row by row (the word in parentheses).
fn summary_classes(table: &str) -> Vec<String> {
    table
        .split('(')
        .skip(1)
        .filter_map(|part| part.split(')').next())
        .filter(|class| class.chars().next().is_some_and(char::is_uppercase))
        .filter(|class| !class.starts_with("None"))
        .map(str::to_string)
        .collect()
}

#[test]
fn resnet8_reproduces_keras_inference_unfolded_and_folded() {
    with_stack(MLPERF_STACK, || {
        let fx = mlperf_fixture();
        let model: Box<ResNet8> = Box::<ResNet8>::load_safetensors(&mlperf_weights("resnet8")).unwrap();
        let xs = fx.samples::<Image<32, 32, 3>>("resnet8.x");
        let keras = fx.f32s("resnet8.y");
        assert_close("resnet8.y", &outputs(&*model, &xs), &keras, 1e-5, 1e-5);

        let folded: Box<ResNet8Folded> = Box::new(model.fold_batch_norm());
        assert_close("resnet8.y (folded)", &outputs(&*folded, &xs), &keras, 1e-5, 1e-5);

        // The batched path (im2col + GEMM) agrees too, folded and not.
        for (what, ys) in [("batched", batched(&*model, &xs)), ("folded, batched", batched(&*folded, &xs))] {
            assert_close(&format!("resnet8.y ({what})"), &ys, &keras, 1e-5, 1e-5);
        }
    });
}

#[test]
fn folding_removes_every_batch_normalization_from_resnet8s_type() {
    // Spelled out by hand: the stem's convolution, the three stacks with their branches down
    // to Conv → ReLU → Conv, the head. If folding kept a normalisation this would not compile.
    type Expected = (
        Conv3<3, 16, 1>,
        ActivationLayer<Relu>,
        (Residual<(Conv3<16, 16, 1>, ActivationLayer<Relu>, Conv3<16, 16, 1>)>, ActivationLayer<Relu>),
        (
            Residual<(Conv3<16, 32, 2>, ActivationLayer<Relu>, Conv3<32, 32, 1>), Conv2D<16, 32, 1, Identity, 2, Same>>,
            ActivationLayer<Relu>,
        ),
        (
            Residual<(Conv3<32, 64, 2>, ActivationLayer<Relu>, Conv3<64, 64, 1>), Conv2D<32, 64, 1, Identity, 2, Same>>,
            ActivationLayer<Relu>,
        ),
        AvgPool2D<8>,
        Flatten,
        Dense<64, 10, Softmax>,
    );
    assert!(same_type::<ResNet8Folded, Expected>());
    // Folding drops the 7 normalisations' gammas and betas (2·240 values; 16 + 2·16 + 2·32 +
    // 2·64 channels) and their 480 moving statistics.
    assert_eq!(<ResNet8 as Params<f32>>::PARAMS - <ResNet8Folded as Params<f32>>::PARAMS, 480);
    assert_eq!(<ResNet8 as Params<f32>>::STATE, 480);
    assert_eq!(<ResNet8Folded as Params<f32>>::STATE, 0);
}

/// What folding the autoencoder gives, spelled out: every `BatchNormalization` gone.
type AutoencoderFoldedByHand = (
    (Dense<640, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    (Dense<128, 8>, ActivationLayer<Relu>),
    (Dense<8, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    (Dense<128, 128>, ActivationLayer<Relu>),
    Dense<128, 640>,
);

#[test]
fn autoencoder_reproduces_keras_inference_unfolded_and_folded() {
    with_stack(MLPERF_STACK, || {
        let fx = mlperf_fixture();
        let model: Box<Autoencoder> = Box::<Autoencoder>::load_safetensors(&mlperf_weights("autoencoder")).unwrap();
        let xs = fx.samples::<Vector<640>>("autoencoder.x");
        let keras = fx.f32s("autoencoder.y");
        assert_close("autoencoder.y", &outputs(&*model, &xs), &keras, 1e-5, 1e-5);

        let folded: Box<AutoencoderFolded> = Box::new(model.fold_batch_norm());
        assert!(same_type::<AutoencoderFolded, AutoencoderFoldedByHand>());
        assert_close("autoencoder.y (folded)", &outputs(&*folded, &xs), &keras, 1e-5, 1e-5);

        let mut ys = vec![Vector::<640>::default(); xs.len()];
        folded.forward_batch(&xs, &mut ys).unwrap();
        let flat: Vec<f32> = ys.iter().flat_map(|y| y.as_slice().to_vec()).collect();
        assert_close("autoencoder.y (folded, batched)", &flat, &keras, 1e-5, 1e-5);
    });
}

/// A model of `examples/models/` loaded from Keras' file reproduces Keras' outputs within 1e-5,
/// single-sample and batched, unfolded and folded.
fn reproduces_keras<M, F, X, const N: usize>(name: &str, fold: impl Fn(&M) -> Box<F>)
where
    M: ForwardBatch<X, Out = Vector<N>> + Params<f32>,
    M: NewBoxed,
    Box<M>: Safetensors<f32>,
    F: ForwardBatch<X, Out = Vector<N>>,
    X: Tensor<Elem = f32>,
{
    let fx = mlperf_fixture();
    let model: Box<M> = Box::<M>::load_safetensors(&mlperf_weights(name)).unwrap();
    let xs = fx.samples::<X>(&format!("{name}.x"));
    let keras = fx.f32s(&format!("{name}.y"));
    assert_close(&format!("{name}.y"), &outputs(&*model, &xs), &keras, 1e-5, 1e-5);
    assert_close(&format!("{name}.y (batched)"), &batched(&*model, &xs), &keras, 1e-5, 1e-5);
    let folded = fold(&model);
    assert_close(&format!("{name}.y (folded)"), &outputs(&*folded, &xs), &keras, 1e-5, 1e-5);
    assert_close(&format!("{name}.y (folded, batched)"), &batched(&*folded, &xs), &keras, 1e-5, 1e-5);
}

#[test]
fn ds_cnn_reproduces_keras_inference_unfolded_and_folded() {
    with_stack(MLPERF_STACK, || {
        reproduces_keras::<DsCnn, DsCnnFolded, Image<49, 10, 1>, 12>("ds_cnn", |m| Box::new(m.fold_batch_norm()));
    });
}

#[test]
fn mobilenet_v1_reproduces_keras_inference_unfolded_and_folded() {
    with_stack(MLPERF_STACK, || {
        reproduces_keras::<MobileNetV1, MobileNetV1Folded, Image<96, 96, 3>, 2>("mobilenet_v1", |m| {
            Box::new(m.fold_batch_norm())
        });
    });
}

#[test]
fn parameter_counts_are_keras_count_params() {
    let fx = mlperf_fixture();
    let count = |m: &str| fx.meta(&format!("{m}.params")).parse::<usize>().unwrap();
    assert_eq!(<ResNet8 as Params<f32>>::PARAMS + <ResNet8 as Params<f32>>::STATE, count("resnet8"));
    assert_eq!(<Autoencoder as Params<f32>>::PARAMS + <Autoencoder as Params<f32>>::STATE, count("autoencoder"));
    assert_eq!(<DsCnn as Params<f32>>::PARAMS + <DsCnn as Params<f32>>::STATE, count("ds_cnn"));
    assert_eq!(<MobileNetV1 as Params<f32>>::PARAMS + <MobileNetV1 as Params<f32>>::STATE, count("mobilenet_v1"));
}

#[test]
fn summary_rows_are_keras_layers_in_keras_order() {
    let fx = mlperf_fixture();
    for (model, table) in [
        ("resnet8", ResNet8::new_boxed().summary_table::<Image<32, 32, 3>>().to_string()),
        ("autoencoder", Autoencoder::new_boxed().summary_table::<Vector<640>>().to_string()),
        ("ds_cnn", DsCnn::new_boxed().summary_table::<Image<49, 10, 1>>().to_string()),
        ("mobilenet_v1", MobileNetV1::new_boxed().summary_table::<Image<96, 96, 3>>().to_string()),
    ] {
        // Keras' `ReLU(6.)` layer (MobileNet) is typed-nn's `ActivationLayer<Relu6>`, whose row
        // reads `Activation` as for Keras' `Activation("relu6")`.
        let keras: Vec<String> = keras_layers(&fx, model)
            .into_iter()
            .map(|(_, class)| if class == "ReLU" { "Activation".into() } else { class })
            .collect();
        let ours: Vec<String> = summary_classes(&table)
            .into_iter()
            .map(|c| if c == "AvgPool2D" { "AveragePooling2D".into() } else { c })
            .collect();
        assert_eq!(ours, keras, "{model}:\n{table}");
    }
}

/// One training-mode forward and backward of ResNet-8 through the batched path: batch
/// statistics in all seven normalisations, the loss, and the gradients Keras computes for the
/// first and last kernels, both projections and every gamma and beta.
#[test]
fn resnet8_training_mode_loss_and_gradients_match_keras() {
    with_stack(MLPERF_STACK, || {
        let fx = mlperf_fixture();
        let model: Box<ResNet8> = Box::<ResNet8>::load_safetensors(&mlperf_weights("resnet8")).unwrap();
        let xs = fx.samples::<Image<32, 32, 3>>("resnet8.x");
        let labels = fx.indices("resnet8.labels");
        let mut grad: Box<ResNet8> = ResNet8::new_boxed();
        let mut workspace = Workspace::new();
        let loss = value_and_grad_batch(
            &*model,
            &xs,
            &labels,
            &SparseCategoricalCrossentropy::default(),
            &mut *grad,
            &mut workspace,
        )
        .unwrap();
        assert!((loss - fx.scalar("resnet8.loss")).abs() < 1e-5, "{loss} vs {}", fx.scalar("resnet8.loss"));
        let ys: Vec<f32> = workspace.outputs().iter().flat_map(|y| y.as_slice().to_vec()).collect();
        assert_close("resnet8.y_train", &ys, &fx.f32s("resnet8.y_train"), 1e-5, 1e-5);

        let mut specs: Vec<ParamSpec> = Vec::new();
        <ResNet8 as Params<f32>>::describe_params(&mut ParamWalk::default(), &mut |s| specs.push(*s));
        let mut compared = 0;
        for (spec, g) in specs.iter().zip(grad.params()) {
            let name = format!("resnet8.grad.{}.{}", spec.layer, spec.name);
            if fx.shape(&name).is_empty() {
                continue; // not in the fixture
            }
            assert_close(&name, g, &fx.f32s(&name), 2e-5, 1e-3);
            compared += 1;
        }
        assert_eq!(compared, 18, "7 gammas, 7 betas, 4 kernels");
    });
}

#[test]
fn autoencoder_training_mode_loss_matches_keras() {
    with_stack(MLPERF_STACK, || {
        let fx = mlperf_fixture();
        let model: Box<Autoencoder> = Box::<Autoencoder>::load_safetensors(&mlperf_weights("autoencoder")).unwrap();
        let xs = fx.samples::<Vector<640>>("autoencoder.x");
        let mut grad: Box<Autoencoder> = Autoencoder::new_boxed();
        let mut workspace = Workspace::new();
        let loss = value_and_grad_batch(&*model, &xs, &xs, &MeanSquaredError, &mut *grad, &mut workspace).unwrap();
        let keras = fx.scalar("autoencoder.loss");
        assert!((loss - keras).abs() < 1e-5 * keras.max(1.0), "{loss} vs {keras}");
    });
}

/// ResNet-8 with a third stack of 48 filters instead of 64.
type ResNet8Narrow = (
    Conv3<3, 16, 1>,
    BatchNormalization<16>,
    ActivationLayer<Relu>,
    IdentityStack<16>,
    ProjectionStack<16, 32>,
    ProjectionStack<32, 48>,
    AvgPool2D<8>,
    Flatten,
    Dense<48, 10, Softmax>,
);

/// ResNet-8 whose second stack forgot its stride: `Branch<16, 32, 1>` with no projection
/// cannot even be written (the branches would disagree), so this one keeps the 1×1 shortcut
/// but with a 3×3 kernel.
type ResNet8WrongShortcut = (
    Conv3<3, 16, 1>,
    BatchNormalization<16>,
    ActivationLayer<Relu>,
    IdentityStack<16>,
    (Residual<Branch<16, 32, 2>, Conv3<16, 32, 2>>, ActivationLayer<Relu>),
    ProjectionStack<32, 64>,
    AvgPool2D<8>,
    Flatten,
    Dense<64, 10, Softmax>,
);

/// The autoencoder with a 16-wide bottleneck instead of 8.
type AutoencoderWide = (
    DenseBlock<640, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 16>,
    DenseBlock<16, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    DenseBlock<128, 128>,
    Dense<128, 640>,
);

/// The error names the tensor `{k}.{weight}`, whose `k` is the Keras layer's position in
/// `model.layers` (the fixture's list says which layer that is), and both shapes.
fn assert_wrong_shape(err: LoadError, tensor: &str, expected: &[usize], found: &[usize]) {
    match &err {
        LoadError::WrongShape { name, expected: e, found: f, .. } => {
            assert_eq!((name.as_str(), e.as_slice(), f.as_slice()), (tensor, expected, found), "{err}");
        }
        other => panic!("expected WrongShape for {tensor}, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&format!("`{tensor}`")) && text.contains(&format!("{found:?}")), "{text}");
}

#[test]
fn a_wrong_architecture_is_refused_naming_the_keras_layer_and_both_shapes() {
    with_stack(MLPERF_STACK, || {
        let fx = mlperf_fixture();
        let resnet = keras_layers(&fx, "resnet8");
        let autoencoder = keras_layers(&fx, "autoencoder");

        // Stack 3's first convolution is Keras' layer 18.
        assert_eq!(resnet[18].1, "Conv2D");
        let err = Box::<ResNet8Narrow>::load_safetensors(&mlperf_weights("resnet8")).unwrap_err();
        assert_wrong_shape(err, "18.kernel", &[3, 3, 32, 48], &[3, 3, 32, 64]);

        // Stack 2's projection shortcut is layer 14, after the branch's second convolution.
        assert_eq!(resnet[14], ("conv2d_5".to_string(), "Conv2D".to_string()));
        let err = Box::<ResNet8WrongShortcut>::load_safetensors(&mlperf_weights("resnet8")).unwrap_err();
        assert_wrong_shape(err, "14.kernel", &[3, 3, 16, 32], &[1, 1, 16, 32]);

        // The bottleneck Dense is layer 12.
        assert_eq!(autoencoder[12].1, "Dense");
        let err = Box::<AutoencoderWide>::load_safetensors(&mlperf_weights("autoencoder")).unwrap_err();
        assert_wrong_shape(err, "12.kernel", &[128, 16], &[128, 8]);

        // And a ResNet-8 file is not an autoencoder: the first tensor already disagrees.
        let err = Box::<Autoencoder>::load_safetensors(&mlperf_weights("resnet8")).unwrap_err();
        assert_wrong_shape(err, "0.kernel", &[640, 128], &[3, 3, 3, 16]);
    });
}

/// Every convolution of DS-CNN, depthwise and pointwise, feeds a BatchNormalization, so in
/// training mode its bias has no effect and a gradient of 0 but for rounding. Adam divides by the
/// gradient's own size, so a residue above its ε = 1e-7 would become a full-size random step of
/// the bias at every iteration (tests/resnet_digits.rs measures what that costs). With the batch's
/// sum accumulated in `f32`, the depthwise biases' residue on this batch of 32 was 1.7e-7 to
/// 8.0e-7; in `f64`, 3.7e-8 to 8.5e-8.
#[test]
fn ds_cnn_biases_before_batch_normalization_get_gradients_below_adams_epsilon() {
    with_stack(MLPERF_STACK, || {
        let model: Box<DsCnn> = Box::<DsCnn>::load_safetensors(&mlperf_weights("ds_cnn")).unwrap();
        let mut rng = SeedRng::seed(3);
        let xs: Vec<Image<49, 10, 1>> = (0..32)
            .map(|_| {
                let mut x = Image::default();
                x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);
                x
            })
            .collect();
        let labels: Vec<usize> = (0..32).map(|i| i % 12).collect();
        let mut grad: Box<DsCnn> = DsCnn::new_boxed();
        let mut workspace = Workspace::new();
        let loss = SparseCategoricalCrossentropy::default();
        value_and_grad_batch(&*model, &xs, &labels, &loss, &mut *grad, &mut workspace).unwrap();
        let mut specs: Vec<ParamSpec> = Vec::new();
        <DsCnn as Params<f32>>::describe_params(&mut ParamWalk::default(), &mut |s| specs.push(*s));
        let fx = mlperf_fixture();
        let layers = keras_layers(&fx, "ds_cnn");
        let mut checked = Vec::new();
        for (spec, g) in specs.iter().zip(grad.params()) {
            let worst = g.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
            if spec.name == "bias" && layers.get(spec.layer + 1).is_some_and(|l| l.1 == "BatchNormalization") {
                assert!(worst < 1e-7, "{}.bias ({}): gradient {worst:e}", spec.layer, layers[spec.layer].1);
                checked.push(layers[spec.layer].1.clone());
            } else if spec.name == "bias" {
                // The Dense's bias is not normalised: a real gradient.
                assert!(worst > 1e-3, "{}.bias: {worst:e}", spec.layer);
            }
        }
        assert_eq!(checked.iter().filter(|c| *c == "DepthwiseConv2D").count(), 4);
        assert_eq!(checked.iter().filter(|c| *c == "Conv2D").count(), 5);
    });
}
