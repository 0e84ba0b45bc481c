//! The user-defined swish of seed model 3, written with the public `typed_nn::math::sigmoid`,
//! proven with the public gradcheck helpers; the report a wrong derivative produces; the
//! same model as with the built-in `Swish`; and the one role impl (`FuseRole`) with which it
//! takes part in BatchNorm folding and activation fusion.

mod common;

use common::same_type;
use proptest::prelude::*;
use typed_nn::fold::Folded;
use typed_nn::fuse::{Alone, FuseRole, Fused};
use typed_nn::gradcheck::{GradCheck, Wrt, arb_layer, arb_vector, check_activation, check_layer};
use typed_nn::math::sigmoid;
use typed_nn::prelude::*;

#[derive(Clone, Copy, Debug, Default)]
struct Swish;
impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x * sigmoid(x)
    }
    fn df<T: Float>(x: T) -> T {
        let s = sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
}

/// The one role impl a user activation writes to take part in folding and fusion: it is not
/// the identity, so nothing folds or fuses into a layer using it.
impl FuseRole for Swish {
    type Role = Alone;
}

/// The product rule's second term forgotten.
#[derive(Clone, Copy, Debug, Default)]
struct BuggySwish;
impl Activation for BuggySwish {
    fn f<T: Float>(x: T) -> T {
        Swish::f(x)
    }
    fn df<T: Float>(x: T) -> T {
        T::one() / (T::one() + (-x).exp())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn user_swish_derivative_is_right(points in proptest::collection::vec(-10.0f64..10.0, 1..16)) {
        check_activation::<Swish>(&points, &GradCheck::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }

    #[test]
    fn dense_with_user_swish_backpropagates_correctly(
        layer in arb_layer::<Dense<8, 5, Swish, f64>>(1.0), x in arb_vector::<8, f64>(-3.0, 3.0),
    ) {
        check_layer(&layer, &x, &GradCheck::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}

#[test]
fn a_wrong_derivative_is_reported_with_point_analytic_and_numeric_values() {
    let err = check_activation::<BuggySwish>(&[-1.0, 2.0], &GradCheck::default()).unwrap_err();
    assert_eq!(err.wrt, Wrt::Activation);
    // "Worst" means furthest past its tolerance (atol + rtol·|numeric|). At x = −1 the true
    // derivative is small (0.072) and the forgotten term x·s·(1 − s) = −0.197 dwarfs it; at
    // x = 2 the error is similar but the derivative, hence the tolerance, is 15 times bigger.
    assert_eq!(err.index, 0);
    assert_eq!(err.at, -1.0);
    let s = 1.0 / (1.0 + 1.0f64.exp());
    assert!((err.analytic - s).abs() < 1e-12);
    assert!((err.numeric - s * (1.0 - (1.0 - s))).abs() < 1e-8);
    let text = err.to_string();
    assert!(text.starts_with("gradient check failed for the activation's derivative at index 0 (x = -1)"), "{text}");
}

/// The user's swish and the built-in one give the same model, one sample and batched (the
/// batched activation runs on the widest vector path): within 1e-6 of each other, and within
/// 1e-5 of the formula evaluated in `f64` with libm.
#[test]
fn user_swish_from_math_sigmoid_equals_the_builtin_swish() {
    type Mine = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);
    type Builtin = (Dense<100, 128, typed_nn::activation::Swish>, Dense<128, 10, Softmax>);
    let mine: Mine = Mine::init(&mut SeedRng::seed(3));
    let builtin: Builtin = Builtin::init(&mut SeedRng::seed(3));
    assert_eq!(mine.0.kernel, builtin.0.kernel);
    let xs: Vec<Vector<100>> = (0..8).map(|s| Vector::from_fn(|i| ((i * 3 + s) as f32 * 0.37).sin() * 2.0)).collect();
    let (mut a, mut b) = (vec![Vector::<10>::default(); 8], vec![Vector::<10>::default(); 8]);
    mine.forward_batch(&xs, &mut a).unwrap();
    builtin.forward_batch(&xs, &mut b).unwrap();
    for ((x, a), b) in xs.iter().zip(&a).zip(&b) {
        let (one_a, one_b) = (mine.forward(x), builtin.forward(x));
        // The hidden layer in f64 with libm: swish(x·K + b).
        let hidden = mine.0.forward(x);
        for j in 0..128 {
            let z: f64 =
                (0..100).map(|i| x[i] as f64 * mine.0.kernel[i][j] as f64).sum::<f64>() + mine.0.bias[j] as f64;
            let want = z / (1.0 + (-z).exp());
            assert!((hidden[j] as f64 - want).abs() < 1e-5, "hidden {j}: {} vs {want}", hidden[j]);
        }
        for k in 0..10 {
            for (p, q) in [(one_a[k], one_b[k]), (a[k], b[k]), (one_a[k], a[k])] {
                assert!((p - q).abs() < 1e-6, "output {k}: {p} vs {q}");
            }
        }
    }
}

/// One `FuseRole` impl, and the user's swish folds and fuses: a normalisation after a swish
/// `Dense` stays (it is not affine), one after an identity `Dense` folds into it; a swish
/// activation layer fuses into the identity `Dense` before it and stays after the swish one.
/// The deployed model computes the trained one's outputs (in `f64`, within 1e-12).
#[test]
fn one_role_impl_lets_a_user_activation_fold_and_fuse() {
    type Trained = (
        Dense<3, 4, Identity, f64>,
        BatchNormalization<4, f64>,
        ActivationLayer<Swish>,
        Dense<4, 4, Swish, f64>,
        BatchNormalization<4, f64>,
        Dense<4, 2, Identity, f64>,
        ActivationLayer<Swish>,
    );
    type FoldedByHand = (
        Dense<3, 4, Identity, f64>,
        ActivationLayer<Swish>,
        Dense<4, 4, Swish, f64>,
        BatchNormalization<4, f64>,
        Dense<4, 2, Identity, f64>,
        ActivationLayer<Swish>,
    );
    type DeployedByHand =
        (Dense<3, 4, Swish, f64>, Dense<4, 4, Swish, f64>, BatchNormalization<4, f64>, Dense<4, 2, Swish, f64>);
    assert!(same_type::<Folded<Trained>, FoldedByHand>());
    assert!(same_type::<Fused<FoldedByHand>, DeployedByHand>());

    let mut model: Trained = Trained::init(&mut SeedRng::seed(5));
    // Statistics far from the identity, so that a wrong fold would show.
    for (c, norm) in [&mut model.1, &mut model.4].into_iter().enumerate() {
        let c = c as f64;
        norm.gamma = [1.5, 0.5, -0.75, 2.0].map(|g| g + c);
        norm.beta = [0.25, -0.5, 0.125, 1.0];
        norm.moving_mean = [0.3, -0.2, 0.7, -1.1].map(|m| m * (c + 1.0));
        norm.moving_variance = [0.5, 2.0, 1.25, 0.8];
    }
    let deployed: DeployedByHand = model.fold_batch_norm().fuse_activations();
    for s in 0..6 {
        let x = Vector::from_fn(|i| ((i * 5 + s) as f64 * 0.71).sin() * 2.0);
        let (a, b) = (model.forward(&x), deployed.forward(&x));
        for k in 0..2 {
            assert!((a[k] - b[k]).abs() < 1e-12, "sample {s}, output {k}: {} vs {}", a[k], b[k]);
        }
    }
}
