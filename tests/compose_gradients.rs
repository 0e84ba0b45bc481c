//! The gradients of BatchNormalization, Dropout, the activation layer and residual blocks,
//! checked against central finite differences in f64 (`|analytic − numeric| ≤ 1e-5 +
//! 1e-3·|numeric|`, `ε = 1e-6`): the single-sample path (inference mode) with
//! `gradcheck::check_layer`, and the batched training path — batch statistics, dropout masks —
//! against finite differences of the *batch* loss that `value_and_grad_batch` returns.

use proptest::prelude::*;
use typed_nn::gradcheck::{GradCheck, arb_image, arb_layer, arb_vector, check_layer};
use typed_nn::prelude::*;

const CASES: u32 = 12;
const EPS: f64 = 1e-6;

fn fail(m: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(m.to_string())
}

/// Sets every moving mean to a value in [−0.5, 0.5] and every moving variance to one in
/// [0.5, 1.5], from `seed` (`arb_layer` leaves the state at zero).
fn random_state<M: Params<f64>>(model: &mut M, seed: u64) {
    let mut rng = SeedRng::seed(seed);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    for (i, tensor) in model.state_mut().enumerate() {
        for v in tensor {
            // State tensors alternate: moving mean, moving variance.
            *v = if i % 2 == 0 { u() - 0.5 } else { 0.5 + u() };
        }
    }
}

/// The batched training gradient (`value_and_grad_batch`: batch statistics, dropout masks) of
/// every parameter, against central differences of the batch loss it returns.
fn check_batch_gradient<M, X, L>(model: &M, xs: &[X], targets: &[L::Target], loss: &L) -> Result<(), TestCaseError>
where
    X: Tensor<Elem = f64>,
    M: Backward<X> + Clone + Default,
    L: Loss<M::Out>,
{
    let batch_loss = |m: &M| {
        let mut scratch = M::default();
        value_and_grad_batch(m, xs, targets, loss, &mut scratch, &mut Workspace::new()).unwrap()
    };
    let mut grad = M::default();
    value_and_grad_batch(model, xs, targets, loss, &mut grad, &mut Workspace::new()).unwrap();
    let analytic: Vec<f64> = grad.params().flatten().copied().collect();
    let mut work = model.clone();
    let count = analytic.len();
    prop_assert!(count > 0);
    for (i, &a) in analytic.iter().enumerate() {
        let mut moved = |delta: f64| {
            *work.params_mut().flatten().nth(i).unwrap() += delta;
            let value = batch_loss(&work);
            *work.params_mut().flatten().nth(i).unwrap() -= delta;
            value
        };
        let numeric = (moved(EPS) - moved(-EPS)) / (2.0 * EPS);
        prop_assert!(
            (a - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs(),
            "parameter {i} of {count}: analytic {a}, numeric {numeric}"
        );
    }
    Ok(())
}

/// Like [`check_batch_gradient`], but the analytic side is any gradient: lets a test show the
/// check fails when the gradient is not the batch loss's.
fn compare_with_batch_loss<M, X, L>(model: &M, xs: &[X], targets: &[L::Target], loss: &L, grad: &M) -> bool
where
    X: Tensor<Elem = f64>,
    M: Backward<X> + Clone + Default,
    L: Loss<M::Out>,
{
    let batch_loss =
        |m: &M| value_and_grad_batch(m, xs, targets, loss, &mut M::default(), &mut Workspace::new()).unwrap();
    let mut work = model.clone();
    grad.params().flatten().enumerate().all(|(i, &a)| {
        *work.params_mut().flatten().nth(i).unwrap() += EPS;
        let up = batch_loss(&work);
        *work.params_mut().flatten().nth(i).unwrap() -= 2.0 * EPS;
        let down = batch_loss(&work);
        *work.params_mut().flatten().nth(i).unwrap() += EPS;
        let numeric = (up - down) / (2.0 * EPS);
        (a - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs()
    })
}

fn vectors<const N: usize>(seed: u64, n: usize) -> Vec<Vector<N, f64>> {
    let mut rng = SeedRng::seed(seed);
    (0..n).map(|_| Vector::from_fn(|_| 4.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 2.0)).collect()
}

fn images<const H: usize, const W: usize, const C: usize>(seed: u64, n: usize) -> Vec<Image<H, W, C, f64>> {
    let mut rng = SeedRng::seed(seed);
    (0..n)
        .map(|_| {
            let mut img = Image::default();
            img.as_mut_slice()
                .iter_mut()
                .for_each(|v| *v = 2.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.0);
            img
        })
        .collect()
}

// ---------------------------------------------------------------- BatchNormalization

type BnMlp =
    (Dense<3, 4, Identity, f64>, BatchNormalization<4, f64>, ActivationLayer<Tanh>, Dense<4, 2, Identity, f64>);
type BnCnn = (
    Conv2D<2, 3, 2, Identity, 1, Valid, f64>,
    BatchNormalization<3, f64>,
    ActivationLayer<Tanh>,
    Flatten,
    Dense<12, 2, Identity, f64>,
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn batch_norm_inference_mode_gradients_match_finite_differences(
        mut bn in arb_layer::<BatchNormalization<4, f64>>(1.5), seed in any::<u64>(),
        x in arb_vector::<4, f64>(-2.0, 2.0), img in arb_image::<2, 3, 4, f64>(-2.0, 2.0),
    ) {
        random_state(&mut bn, seed);
        check_layer(&bn, &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&bn, &img, &GradCheck::default()).map_err(fail)?;
    }

    #[test]
    fn batch_norm_training_gradients_through_the_batch_statistics_match_finite_differences_of_the_batch_loss(
        mut mlp in arb_layer::<BnMlp>(1.0), mut cnn in arb_layer::<BnCnn>(1.0), seed in any::<u64>(),
    ) {
        random_state(&mut mlp, seed);
        random_state(&mut cnn, seed ^ 1);
        let xs = vectors::<3>(seed, 5);
        let targets = vectors::<2>(seed ^ 2, 5);
        check_batch_gradient(&mlp, &xs, &targets, &MeanSquaredError)?;
        let images = images::<3, 3, 2>(seed, 3);
        let targets = vectors::<2>(seed ^ 3, 3);
        check_batch_gradient(&cnn, &images, &targets, &MeanSquaredError)?;
    }
}

/// The batch check is not vacuous: the single-sample (inference-mode) gradient of a model with
/// BatchNormalization is not the gradient of the training-mode batch loss, and the check says
/// so; the batched gradient passes.
#[test]
fn the_batch_check_rejects_the_inference_mode_gradient_of_a_training_mode_loss() {
    let mut model: BnMlp = BnMlp::init(&mut SeedRng::seed(5));
    random_state(&mut model, 6);
    let xs = vectors::<3>(7, 5);
    let targets = vectors::<2>(8, 5);
    let mut per_sample = BnMlp::default();
    value_and_grad_mean(&model, &xs, &targets, &MeanSquaredError, &mut per_sample).unwrap();
    assert!(!compare_with_batch_loss(&model, &xs, &targets, &MeanSquaredError, &per_sample));
    let mut batched = BnMlp::default();
    value_and_grad_batch(&model, &xs, &targets, &MeanSquaredError, &mut batched, &mut Workspace::new()).unwrap();
    assert!(compare_with_batch_loss(&model, &xs, &targets, &MeanSquaredError, &batched));
}

// ---------------------------------------------------------------- Dropout

type DropMlp = (Dropout<300>, Dense<6, 3, Tanh, f64>, Dense<3, 2, Identity, f64>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// The masks depend on the values reaching the layer, so the layer comes first here (its
    /// input is data, not moved by a parameter's finite difference); the gradient flows
    /// through the masked values.
    #[test]
    fn dropout_training_gradients_match_finite_differences_of_the_batch_loss(
        model in arb_layer::<DropMlp>(1.0), seed in any::<u64>(),
    ) {
        let mut model = model;
        model.0 = Dropout::new(seed);
        let xs = vectors::<6>(seed, 4);
        let targets = vectors::<2>(seed ^ 9, 4);
        check_batch_gradient(&model, &xs, &targets, &MeanSquaredError)?;
    }

    #[test]
    fn dropout_inference_mode_is_the_identity_with_the_identity_gradient(x in arb_vector::<6, f64>(-2.0, 2.0)) {
        check_layer(&Dropout::<500>::new(3), &x, &GradCheck::default()).map_err(fail)?;
    }
}

/// Training with dropout is training on masked inputs: the batch loss differs from the
/// inference-mode loss (a batch of 4 with 6 values each at rate 0.3 keeps everything with
/// probability 0.7²⁴ ≈ 2e-4), and the layer's inference output is untouched.
#[test]
fn dropout_changes_the_training_loss_but_not_inference() {
    let mut model: DropMlp = DropMlp::init(&mut SeedRng::seed(1));
    model.0 = Dropout::new(42);
    let xs = vectors::<6>(2, 4);
    let targets = vectors::<2>(3, 4);
    let batched =
        value_and_grad_batch(&model, &xs, &targets, &MeanSquaredError, &mut DropMlp::default(), &mut Workspace::new())
            .unwrap();
    let inference = value_and_grad_mean(&model, &xs, &targets, &MeanSquaredError, &mut DropMlp::default()).unwrap();
    assert!((batched - inference).abs() > 1e-6, "{batched} vs {inference}");
    assert_eq!(model.0.forward(&xs[0]), xs[0]);
}

// ---------------------------------------------------------------- the activation layer

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn activation_layer_gradients_match_finite_differences(
        x in arb_vector::<5, f64>(-3.0, 3.0), img in arb_image::<2, 2, 3, f64>(-3.0, 3.0),
    ) {
        // Away from ReLU's kink at 0 and ReLU6's at 0 and 6.
        let x: Vector<5, f64> = Vector::from_fn(|i| if x[i].abs() < 1e-3 { 0.1 } else { x[i] });
        check_layer(&ActivationLayer::<Relu>::new(), &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&ActivationLayer::<Relu6>::new(), &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&ActivationLayer::<Swish>::new(), &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&ActivationLayer::<Tanh>::new(), &img, &GradCheck::default()).map_err(fail)?;
        // Softmax per pixel: the Jacobian-vector product along the channels.
        check_layer(&ActivationLayer::<Softmax>::new(), &img, &GradCheck::default()).map_err(fail)?;
    }

    /// A softmax layer last in the model fuses with the cross-entropy (the gradient enters at
    /// its input, `p − y`) on both paths.
    #[test]
    fn a_softmax_layer_last_fuses_with_cross_entropy_and_its_gradient_is_right(
        model in arb_layer::<(Dense<4, 5, Swish, f64>, Dense<5, 3, Identity, f64>, ActivationLayer<Softmax>)>(1.0),
        seed in any::<u64>(),
    ) {
        let xs = vectors::<4>(seed, 4);
        let labels = [0usize, 2, 1, 2];
        check_batch_gradient(&model, &xs, &labels, &SparseCategoricalCrossentropy::default())?;
        let mut one = <(Dense<4, 5, Swish, f64>, Dense<5, 3, Identity, f64>, ActivationLayer<Softmax>)>::default();
        let mut two = one.clone();
        let a = value_and_grad_mean(&model, &xs, &labels, &SparseCategoricalCrossentropy::default(), &mut one).unwrap();
        let b = value_and_grad_batch(&model, &xs, &labels, &SparseCategoricalCrossentropy::default(), &mut two, &mut Workspace::new()).unwrap();
        prop_assert!((a - b).abs() < 1e-12);
        for (g, h) in one.params().flatten().zip(two.params().flatten()) {
            prop_assert!((g - h).abs() < 1e-12);
        }
    }
}

// ---------------------------------------------------------------- residual blocks

type Plain = Residual<(Dense<4, 4, Tanh, f64>, Dense<4, 4, Identity, f64>)>;
type Projected = Residual<(Dense<4, 3, Tanh, f64>, Dense<3, 3, Identity, f64>), Dense<4, 3, Identity, f64>>;
type ConvBlock = Residual<(Conv2D<2, 2, 3, Tanh, 1, Same, f64>, BatchNormalization<2, f64>)>;
type ResMlp = (
    Dense<3, 4, Identity, f64>,
    Residual<(Dense<4, 4, Tanh, f64>, BatchNormalization<4, f64>), Dense<4, 4, Identity, f64>>,
    ActivationLayer<Tanh>,
    Dense<4, 2, Identity, f64>,
);
type ResCnn = (ConvBlock, ActivationLayer<Tanh>, Flatten, Dense<18, 2, Identity, f64>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn residual_gradients_flow_through_both_branches(
        plain in arb_layer::<Plain>(1.0), projected in arb_layer::<Projected>(1.0),
        mut conv in arb_layer::<ConvBlock>(1.0), seed in any::<u64>(),
        x in arb_vector::<4, f64>(-2.0, 2.0), img in arb_image::<3, 3, 2, f64>(-1.0, 1.0),
    ) {
        random_state(&mut conv, seed);
        check_layer(&plain, &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&projected, &x, &GradCheck::default()).map_err(fail)?;
        check_layer(&conv, &img, &GradCheck::default()).map_err(fail)?;
    }

    #[test]
    fn residual_training_gradients_match_finite_differences_of_the_batch_loss(
        mut mlp in arb_layer::<ResMlp>(1.0), mut cnn in arb_layer::<ResCnn>(1.0), seed in any::<u64>(),
    ) {
        random_state(&mut mlp, seed);
        random_state(&mut cnn, seed ^ 5);
        let xs = vectors::<3>(seed, 5);
        let targets = vectors::<2>(seed ^ 7, 5);
        check_batch_gradient(&mlp, &xs, &targets, &MeanSquaredError)?;
        let images = images::<3, 3, 2>(seed, 3);
        let targets = vectors::<2>(seed ^ 11, 3);
        check_batch_gradient(&cnn, &images, &targets, &MeanSquaredError)?;
    }

    /// Without batch normalisation or dropout the two paths compute one function: the batched
    /// gradient of a residual model equals the sample-by-sample one.
    #[test]
    fn residual_batched_and_per_sample_gradients_agree(model in arb_layer::<(Dense<3, 4, Tanh, f64>, Projected, Dense<3, 2, Identity, f64>)>(1.0), seed in any::<u64>()) {
        type M = (Dense<3, 4, Tanh, f64>, Projected, Dense<3, 2, Identity, f64>);
        let xs = vectors::<3>(seed, 6);
        let targets = vectors::<2>(seed ^ 1, 6);
        let (mut one, mut two) = (M::default(), M::default());
        let a = value_and_grad_mean(&model, &xs, &targets, &MeanSquaredError, &mut one).unwrap();
        let b = value_and_grad_batch(&model, &xs, &targets, &MeanSquaredError, &mut two, &mut Workspace::new()).unwrap();
        prop_assert!((a - b).abs() < 1e-12);
        for (g, h) in one.params().flatten().zip(two.params().flatten()) {
            prop_assert!((g - h).abs() < 1e-12, "{g} vs {h}");
        }
    }
}
