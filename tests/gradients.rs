//! Every gradient the library computes, checked against central finite differences in f64
//! with proptest (`|analytic − numeric| ≤ 1e-5 + 1e-3·|numeric|`, `ε = 1e-6`), and every
//! family of checks shown to fail when the gradient is wrong.

use proptest::prelude::*;
use typed_nn::activation::Fusion;
use typed_nn::gradcheck::{
    GradCheck, GradMismatch, Wrt, arb_layer, arb_vector, check_activation, check_layer, check_loss, check_model_loss,
};
use typed_nn::prelude::*;

const CASES: u32 = 24;

fn fail(m: GradMismatch) -> TestCaseError {
    TestCaseError::fail(m.to_string())
}

/// Moves `x` at least `margin` away from each kink (a point where the derivative jumps), so
/// that a central difference never straddles one.
fn away_from(x: f64, kinks: &[f64], margin: f64) -> f64 {
    kinks.iter().fold(x, |x, &k| if (x - k).abs() < margin { k + margin.copysign(x - k) } else { x })
}

// ---------------------------------------------------------------- activations

/// Each element-wise built-in, with the points where its derivative jumps.
fn check_all_activations(points: &[f64]) -> Result<(), TestCaseError> {
    macro_rules! each {
        ($(($A:ident, [$($k:expr),*])),*) => {$(
            let xs: Vec<f64> = points.iter().map(|&x| away_from(x, &[$($k),*], 1e-3)).collect();
            check_activation::<$A>(&xs, &GradCheck::default()).map_err(fail)?;
        )*};
    }
    each!(
        (Identity, []),
        (Relu, [0.0]),
        (Relu6, [0.0, 6.0]),
        (LeakyRelu, [0.0]),
        (Elu, [0.0]),
        (Selu, [0.0]),
        (Gelu, []),
        (Sigmoid, []),
        (HardSigmoid, [-3.0, 3.0]),
        (Tanh, []),
        (Softplus, []),
        (Softsign, [0.0]),
        (Swish, []),
        (HardSwish, [-3.0, 3.0]),
        (Mish, []),
        (Exponential, [])
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_builtin_activation_derivative_matches_finite_differences(points in proptest::collection::vec(-8.0f64..8.0, 16)) {
        check_all_activations(&points)?;
    }

    #[test]
    fn softmax_and_log_softmax_jacobian_vector_products_match_finite_differences(
        z in arb_vector::<6, f64>(-5.0, 5.0), r in arb_vector::<6, f64>(-1.0, 1.0),
    ) {
        fn check<A: Activation>(z: &[f64; 6], r: &[f64; 6]) -> Result<(), TestCaseError> {
            let f = |z: &[f64; 6]| { let mut y = *z; A::apply(&mut y); y.iter().zip(r).map(|(a, b)| a * b).sum::<f64>() };
            let mut y = *z;
            A::apply(&mut y);
            let mut dz = [0.0; 6];
            A::backprop(z, &y, r, &mut dz);
            for i in 0..6 {
                let (mut p, mut m) = (*z, *z);
                p[i] += 1e-6;
                m[i] -= 1e-6;
                let numeric = (f(&p) - f(&m)) / 2e-6;
                prop_assert!((dz[i] - numeric).abs() <= 1e-5 + 1e-3 * numeric.abs(), "{}: dz[{i}] {} vs {numeric}", A::NAME, dz[i]);
            }
            Ok(())
        }
        check::<Softmax>(z.as_array(), r.as_array())?;
        check::<LogSoftmax>(z.as_array(), r.as_array())?;
    }
}

// ---------------------------------------------------------------- Dense, every activation

/// Checks `Dense<5, 4, A>`, skipping draws whose pre-activations sit within 1e-4 of a kink.
fn check_dense<A: Activation + std::fmt::Debug>(
    layer: &Dense<5, 4, A, f64>,
    x: &Vector<5, f64>,
    kinks: &[f64],
) -> Result<(), TestCaseError> {
    let (_, cache) = layer.forward_train(x);
    prop_assume!(cache.z.iter().all(|z| kinks.iter().all(|k| (z - k).abs() > 1e-4)));
    check_layer(layer, x, &GradCheck::default()).map_err(fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn dense_gradients_match_finite_differences_for_every_activation(
        seed in any::<u64>(), x in arb_vector::<5, f64>(-2.0, 2.0),
    ) {
        macro_rules! each {
            ($(($A:ident, [$($k:expr),*])),*) => {$({
                let layer: Dense<5, 4, $A, f64> = Dense::init(&mut SeedRng::seed(seed));
                // Non-zero biases, so that their gradient is exercised with a shifted input.
                let mut layer = layer;
                layer.bias = [0.3, -0.2, 0.1, -0.4];
                check_dense(&layer, &x, &[$($k),*])?;
            })*};
        }
        each!(
            (Identity, []), (Relu, [0.0]), (Relu6, [0.0, 6.0]), (LeakyRelu, [0.0]), (Elu, [0.0]), (Selu, [0.0]),
            (Gelu, []), (Sigmoid, []), (HardSigmoid, [-3.0, 3.0]), (Tanh, []), (Softplus, []), (Softsign, [0.0]),
            (Swish, []), (HardSwish, [-3.0, 3.0]), (Mish, []), (Exponential, []), (Softmax, []), (LogSoftmax, [])
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// `use_bias = false`: the kernel's gradient and the input's, with no bias tensor at all
    /// (the layer has one parameter tensor, so a stray bias gradient has nowhere to go).
    #[test]
    fn dense_without_bias_gradients_match_finite_differences(
        seed in any::<u64>(), x in arb_vector::<5, f64>(-2.0, 2.0),
    ) {
        let tanh: Dense<5, 4, Tanh, f64, NoBias> = Dense::init(&mut SeedRng::seed(seed));
        prop_assert_eq!(tanh.params().count(), 1);
        check_layer(&tanh, &x, &GradCheck::default()).map_err(fail)?;
        let softmax: Dense<5, 4, Softmax, f64, NoBias> = Dense::init(&mut SeedRng::seed(seed));
        check_layer(&softmax, &x, &GradCheck::default()).map_err(fail)?;
    }
}

// ---------------------------------------------------------------- losses

prop_compose! {
    /// A probability vector with every entry at least 0.01 (away from the 1e-7 clip).
    fn arb_probabilities()(raw in arb_vector::<5, f64>(0.05, 1.0)) -> Vector<5, f64> {
        let sum: f64 = raw.iter().sum();
        Vector::from_fn(|i| raw[i] / sum)
    }
}

prop_compose! {
    /// A one-hot target.
    fn arb_one_hot()(class in 0usize..5) -> (Vector<5, f64>, usize) {
        (Vector::from_fn(|i| if i == class { 1.0 } else { 0.0 }), class)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_loss_gradient_matches_finite_differences(
        p in arb_probabilities(), logits in arb_vector::<5, f64>(-6.0, 6.0),
        (onehot, class) in arb_one_hot(), soft in arb_vector::<5, f64>(0.0, 1.0),
        y in arb_vector::<5, f64>(-3.0, 3.0), bin in arb_vector::<5, f64>(0.02, 0.98),
    ) {
        let cfg = GradCheck::default();
        check_loss(&MeanSquaredError, &y, &soft, &cfg).map_err(fail)?;
        check_loss(&CategoricalCrossentropy::default(), &p, &onehot, &cfg).map_err(fail)?;
        // Off the simplex too: the loss normalises p first, and that term must be right.
        check_loss(&CategoricalCrossentropy::default(), &bin, &soft, &cfg).map_err(fail)?;
        let smooth = CategoricalCrossentropy { label_smoothing: 0.1, ..Default::default() };
        check_loss(&smooth, &p, &onehot, &cfg).map_err(fail)?;
        check_loss(&CategoricalCrossentropy::from_logits(), &logits, &onehot, &cfg).map_err(fail)?;
        check_loss(&SparseCategoricalCrossentropy::default(), &p, &class, &cfg).map_err(fail)?;
        check_loss(&SparseCategoricalCrossentropy::from_logits(), &logits, &class, &cfg).map_err(fail)?;
        check_loss(&BinaryCrossentropy::default(), &bin, &soft, &cfg).map_err(fail)?;
        check_loss(&BinaryCrossentropy { label_smoothing: 0.2, ..Default::default() }, &bin, &soft, &cfg).map_err(fail)?;
        check_loss(&BinaryCrossentropy::from_logits(), &logits, &soft, &cfg).map_err(fail)?;
    }

    #[test]
    fn fused_softmax_and_sigmoid_cross_entropy_gradients_match_finite_differences(
        seed in any::<u64>(), x in arb_vector::<3, f64>(-2.0, 2.0), (onehot, class) in arb_one_hot(),
        soft in arb_vector::<5, f64>(0.0, 1.0),
    ) {
        let cfg = GradCheck::default();
        let softmax: Dense<3, 5, Softmax, f64> = Dense::init(&mut SeedRng::seed(seed));
        check_model_loss(&softmax, &x, &onehot, &CategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        check_model_loss(&softmax, &x, &class, &SparseCategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        // Soft targets that do not sum to 1 (here Σt is anywhere in [0, 5]): the fused gradient
        // is p·Σt − t, and a p − t that is right only for one-hot targets must fail.
        prop_assume!((soft.iter().sum::<f64>() - 1.0).abs() > 0.05, "Σt ≈ 1 cannot tell p·Σt − t from p − t");
        check_model_loss(&softmax, &x, &soft, &CategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        let smooth = CategoricalCrossentropy { label_smoothing: 0.2, ..Default::default() };
        check_model_loss(&softmax, &x, &soft, &smooth, &cfg).map_err(fail)?;
        let sigmoid: Dense<3, 5, Sigmoid, f64> = Dense::init(&mut SeedRng::seed(seed));
        check_model_loss(&sigmoid, &x, &soft, &BinaryCrossentropy::default(), &cfg).map_err(fail)?;
    }
}

#[test]
fn cross_entropy_from_logits_is_stable_at_logits_of_ten_thousand() {
    let z: Vector<3, f64> = Vector::from([1e4, -1e4, 0.0]);
    let t = Vector::from([0.0, 1.0, 0.0]);
    let mut dz = Vector::default();
    let loss = CategoricalCrossentropy::from_logits().gradient(&z, &t, 1.0, &mut dz);
    assert_eq!(loss, 2e4);
    assert_eq!(dz.as_slice(), &[1.0, -1.0, 0.0]);
    let mut dz32 = Vector::<3>::default();
    let loss32 = CategoricalCrossentropy::from_logits().gradient(
        &Vector::from([1e4f32, -1e4, 0.0]),
        &Vector::from([0.0, 1.0, 0.0]),
        1.0,
        &mut dz32,
    );
    assert_eq!((loss32, dz32.into_array()), (2e4, [1.0, -1.0, 0.0]));
}

// ---------------------------------------------------------------- cross-entropy at extreme logits

/// The reference: `−Σ t·log_softmax(z)` and `softmax(z)·Σt − t`, in f64 from the f32 logits. The
/// widening is exact and so is every `zⱼ − max` below (f32 values are 24-bit, f64 has 53), so
/// the only rounding is f64's, far below what an f32 result can resolve.
fn xent_f64(z: [f32; 3], t: [f64; 3]) -> (f64, [f64; 3]) {
    let z = z.map(f64::from);
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    let log_p = z.map(|v| (v - max) - log_sum);
    let loss = (0..3).filter(|&k| t[k] != 0.0).map(|k| -t[k] * log_p[k]).sum();
    let t_sum: f64 = t.iter().sum();
    (loss, std::array::from_fn(|k| log_p[k].exp() * t_sum - t[k]))
}

/// An f32 loss against the f64 reference: within `1e-6·max(1, |reference|)`, and `+∞` where the
/// reference is beyond `f32::MAX` by more than that (within it, either).
fn assert_loss(what: &str, got: f32, reference: f64) {
    let tolerance = 1e-6 * reference.abs().max(1.0);
    let close = (f64::from(got) - reference).abs() <= tolerance;
    if reference - tolerance > f64::from(f32::MAX) {
        assert_eq!(got, f32::INFINITY, "{what}: the exact loss {reference:e} overflows f32");
    } else if reference + tolerance > f64::from(f32::MAX) {
        assert!(got == f32::INFINITY || close, "{what}: loss {got:e}, f64 reference {reference:e}");
    } else {
        assert!(close, "{what}: loss {got:e}, f64 reference {reference:e}");
    }
}

fn assert_grad(what: &str, got: &[f32], reference: &[f64; 3]) {
    for (g, r) in got.iter().zip(reference) {
        assert!((f64::from(*g) - r).abs() <= 1e-6, "{what}: gradient {got:?}, f64 reference {reference:?}");
    }
}

/// Logits `[c, c − 1, c − 2]` (which f32 rounds to `[c, c, c]` beyond 2²⁴), `[c, −c, 0]` and
/// `[−c, 0, c]` at c = ±1e4, ±1e7, ±1e30, ±f32::MAX.
fn extreme_logits() -> Vec<[f32; 3]> {
    let mut v = Vec::new();
    for c in [1e4f32, 1e7, 1e30, f32::MAX] {
        for c in [c, -c] {
            v.extend([[c, c - 1.0, c - 2.0], [c, -c, 0.0], [-c, 0.0, c]]);
        }
    }
    v
}

#[test]
fn cross_entropy_from_logits_matches_f64_at_every_magnitude_up_to_f32_max() {
    // One-hot, soft, and label smoothing 0.1 of class 2, each as the f32 values the loss sees.
    let targets: [[f64; 3]; 5] =
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.0, 0.7], [0.1 / 3.0, 0.1 / 3.0, 0.9 + 0.1 / 3.0]]
            .map(|t| t.map(|v| f64::from(v as f32)));
    for z in extreme_logits() {
        for t in targets {
            let (reference, dz_ref) = xent_f64(z, t);
            let what = format!("CategoricalCrossentropy::from_logits() at z = {z:?}, t = {t:?}");
            let t32 = Vector::from(t.map(|v| v as f32));
            let mut dz = Vector::<3>::default();
            let loss = CategoricalCrossentropy::from_logits().gradient(&Vector::from(z), &t32, 1.0, &mut dz);
            assert_loss(&what, loss, reference);
            assert_loss(&what, CategoricalCrossentropy::from_logits().loss(&Vector::from(z), &t32), reference);
            assert_grad(&what, dz.as_slice(), &dz_ref);
        }
        // Label smoothing 0.1 gives the last target above; sparse labels the first three.
        let smooth = CategoricalCrossentropy { label_smoothing: 0.1, ..CategoricalCrossentropy::from_logits() };
        let mut dz = Vector::<3>::default();
        let loss = smooth.gradient(&Vector::from(z), &Vector::from([0.0, 0.0, 1.0]), 1.0, &mut dz);
        let (reference, dz_ref) = xent_f64(z, targets[4]);
        assert_loss(&format!("label smoothing at {z:?}"), loss, reference);
        assert_grad(&format!("label smoothing at {z:?}"), dz.as_slice(), &dz_ref);
        for (class, &t) in targets.iter().take(3).enumerate() {
            let (reference, dz_ref) = xent_f64(z, t);
            let what = format!("SparseCategoricalCrossentropy::from_logits() at z = {z:?}, class {class}");
            let mut dz = Vector::<3>::default();
            let loss = SparseCategoricalCrossentropy::from_logits().gradient(&Vector::from(z), &class, 1.0, &mut dz);
            assert_loss(&what, loss, reference);
            assert_grad(&what, dz.as_slice(), &dz_ref);
        }
    }
}

#[test]
fn fused_softmax_cross_entropy_is_keras_clipped_value_with_the_exact_gradient_at_extreme_logits() {
    // Dense<3, 3, Softmax> with an identity kernel: the logits are the input, exactly.
    let model: Dense<3, 3, Softmax> = Dense::new([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [0.0; 3]);
    for z in extreme_logits() {
        for class in 0..3 {
            let t: [f64; 3] = std::array::from_fn(|k| if k == class { 1.0 } else { 0.0 });
            let (_, dz_ref) = xent_f64(z, t);
            // Keras' value on this path: −log clip(p, 1e-7, 1 − 1e-7), p from the f64 softmax.
            let p = dz_ref[class] + 1.0;
            let reference = -p.clamp(1e-7, 1.0 - 1e-7).ln();
            let mut grad = Dense::default();
            let what = format!("softmax + sparse cross-entropy at z = {z:?}, class {class}");
            let loss =
                value_and_grad(&model, &Vector::from(z), &class, &SparseCategoricalCrossentropy::default(), &mut grad)
                    .unwrap();
            assert_loss(&what, loss, reference);
            assert_grad(&what, &grad.bias, &dz_ref);
        }
    }
}

#[test]
fn cross_entropy_from_logits_in_f64_keeps_the_log_sum_at_1e15_and_f64_max() {
    // ln(1 + e⁻¹ + e⁻²), the loss of class 0 for logits [c, c − 1, c − 2] at any c.
    let exact = (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
    let loss = CategoricalCrossentropy::from_logits();
    for c in [1e15, -1e15] {
        let got = loss.loss(&Vector::from([c, c - 1.0, c - 2.0]), &Vector::from([1.0, 0.0, 0.0]));
        assert!((got - exact).abs() <= 1e-15, "at c = {c:e}: {got} vs {exact}");
    }
    let z = Vector::from([f64::MAX, -f64::MAX, 0.0]);
    assert_eq!(loss.loss(&z, &Vector::from([1.0, 0.0, 0.0])), 0.0);
    assert_eq!(loss.loss(&z, &Vector::from([0.0, 1.0, 0.0])), f64::INFINITY, "the exact loss is 2·f64::MAX");
    let mut dz = Vector::default();
    loss.gradient(&z, &Vector::from([0.0, 0.0, 1.0]), 1.0, &mut dz);
    assert_eq!(dz.into_array(), [1.0, 0.0, -1.0]);
}

#[test]
fn a_nan_prediction_gives_a_nan_loss_not_the_clipped_value() {
    // Keras' clip `q.max(1e-7).min(1 − 1e-7)` would turn NaN into 1e-7, and the loss into a
    // finite 16.118 that hides a diverged model.
    let p = Vector::from([f32::NAN, 0.5, 0.5]);
    let onehot = Vector::from([0.0, 1.0, 0.0]);
    let mut d = Vector::<3>::default();
    let nan = |what: &str, v: f32| assert!(v.is_nan(), "{what}: {v}");
    nan("categorical", CategoricalCrossentropy::default().loss(&p, &onehot));
    nan("categorical, gradient", CategoricalCrossentropy::default().gradient(&p, &onehot, 1.0, &mut d));
    nan("sparse", SparseCategoricalCrossentropy::default().loss(&p, &1));
    nan("categorical from logits", CategoricalCrossentropy::from_logits().loss(&p, &onehot));
    nan("sparse from logits", SparseCategoricalCrossentropy::from_logits().loss(&p, &1));
    nan("binary", BinaryCrossentropy::default().loss(&p, &onehot));
    nan("binary from logits", BinaryCrossentropy::from_logits().loss(&p, &onehot));
    // A NaN logit in a class whose target is 0 still poisons the log-sum.
    nan("a NaN logit of another class", CategoricalCrossentropy::from_logits().loss(&p, &Vector::from([0.0; 3])));
    // The fused paths (after a softmax, after a sigmoid).
    let fused = CategoricalCrossentropy::default().gradient_logits(&p, &onehot, Fusion::Softmax, 1.0, &mut d);
    nan("fused softmax", fused.unwrap());
    let fused = BinaryCrossentropy::default().gradient_logits(&p, &onehot, Fusion::Sigmoid, 1.0, &mut d);
    nan("fused sigmoid", fused.unwrap());
    // And end to end: a model whose weights went NaN.
    let mut model: Dense<3, 3, Softmax> = Dense::init(&mut SeedRng::seed(3));
    model.kernel[1][2] = f32::NAN;
    let mut grad = Dense::default();
    let x = Vector::from([0.5, -1.0, 0.25]);
    nan(
        "value_and_grad",
        value_and_grad(&model, &x, &2, &SparseCategoricalCrossentropy::default(), &mut grad).unwrap(),
    );
}

#[test]
fn cross_entropy_targets_outside_zero_one_are_refused_everywhere() {
    type Mlp = (Dense<4, 3, Relu>, Dense<3, 2, Softmax>);
    let model: Mlp = Mlp::init(&mut SeedRng::seed(5));
    let mut grad = Mlp::default();
    let x = Vector::<4>::from([0.1, 0.2, 0.3, 0.4]);
    let cce = CategoricalCrossentropy::default();
    let bce = BinaryCrossentropy::default();
    let refused = InvalidTargetAt(0);
    for bad in [[1.5f32, 0.0], [-0.1, 1.0], [f32::NAN, 1.0], [f32::INFINITY, 0.0]] {
        let t = Vector::from(bad);
        assert!(!Loss::<Vector<2>>::valid_target(&cce, &t) && !Loss::<Vector<2>>::valid_target(&bce, &t), "{bad:?}");
        assert_eq!(value_and_grad(&model, &x, &t, &cce, &mut grad), refused.err(), "{bad:?}");
        assert_eq!(value_and_grad(&model, &x, &t, &bce, &mut grad), refused.err(), "{bad:?}");
        let ts = [Vector::from([0.0, 1.0]), t];
        assert_eq!(value_and_grad_mean(&model, &[x, x], &ts, &cce, &mut grad), InvalidTargetAt(1).err());
        assert_eq!(
            value_and_grad_batch(&model, &[x, x], &ts, &bce, &mut grad, &mut Workspace::new()),
            InvalidTargetAt(1).err()
        );
        let mut trainer = Trainer::new(Sgd::new(0.1), cce).epochs(1).verbose(false);
        let mut trained = model.clone();
        assert!(matches!(trainer.fit(&mut trained, &[x, x], &ts), Err(TrainError::InvalidLabel { index: 1 })));
    }
    assert!(grad.params().all(|p| p.iter().all(|&g| g == 0.0)), "nothing accumulated on error");
    // Soft targets that do not sum to 1 are fine, as in Keras.
    let soft = Vector::from([0.3f32, 0.3]);
    assert!(value_and_grad(&model, &x, &soft, &cce, &mut grad).unwrap().is_finite());
}

/// `Err(BatchError::InvalidTarget { index })`, as a value to compare results with.
struct InvalidTargetAt(usize);
impl InvalidTargetAt {
    fn err<T>(&self) -> Result<T, BatchError> {
        Err(BatchError::InvalidTarget { index: self.0 })
    }
}

#[test]
fn value_and_grad_refuses_a_class_label_out_of_range_and_leaves_grad_alone() {
    type Mlp = (Dense<4, 3, Relu>, Dense<3, 2, Softmax>);
    let model: Mlp = Mlp::init(&mut SeedRng::seed(6));
    let x = Vector::<4>::from([0.1, 0.2, 0.3, 0.4]);
    for loss in [SparseCategoricalCrossentropy::default(), SparseCategoricalCrossentropy::from_logits()] {
        let mut grad = Mlp::default();
        assert_eq!(value_and_grad(&model, &x, &2, &loss, &mut grad), InvalidTargetAt(0).err());
        assert_eq!(value_and_grad(&model, &x, &usize::MAX, &loss, &mut grad), InvalidTargetAt(0).err());
        assert!(grad.params().all(|p| p.iter().all(|&g| g == 0.0)), "nothing accumulated");
        assert!(value_and_grad(&model, &x, &1, &loss, &mut grad).unwrap() > 0.0);
    }
}

// ---------------------------------------------------------------- seed models end to end

type Seed1 = (Dense<784, 64, Relu, f64>, Dense<64, 10, Softmax, f64>);

#[derive(Clone, Copy, Debug, Default)]
struct UserSwish;
impl Activation for UserSwish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}
type Seed3 = (Dense<100, 128, UserSwish, f64>, Dense<128, 10, Softmax, f64>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn seed_model_1_gradients_match_finite_differences_end_to_end(
        model in arb_layer::<Box<Seed1>>(0.1), x in arb_vector::<784, f64>(0.0, 1.0), (onehot, class) in arb_one_hot_10(),
    ) {
        let (_, cache) = model.forward_train(&x);
        prop_assume!(cache.0.0.z.iter().all(|z| z.abs() > 1e-4), "a hidden ReLU sits on its kink");
        prop_assume!(model.forward(&x)[class] > 1e-6, "the target probability is clipped at 1e-7");
        let cfg = GradCheck::default();
        check_model_loss(&model, &x, &onehot, &CategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        check_model_loss(&model, &x, &class, &SparseCategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        check_model_loss(&model, &x, &onehot, &MeanSquaredError, &cfg).map_err(fail)?;
        check_layer(&model, &x, &cfg).map_err(fail)?;
    }

    #[test]
    fn seed_model_3_gradients_match_finite_differences_end_to_end(
        model in arb_layer::<Box<Seed3>>(0.2), x in arb_vector::<100, f64>(-1.0, 1.0), (onehot, class) in arb_one_hot_10(),
    ) {
        prop_assume!(model.forward(&x)[class] > 1e-6, "the target probability is clipped at 1e-7");
        let cfg = GradCheck::default();
        check_model_loss(&model, &x, &onehot, &CategoricalCrossentropy::default(), &cfg).map_err(fail)?;
        check_layer(&model, &x, &cfg).map_err(fail)?;
    }
}

prop_compose! {
    fn arb_one_hot_10()(class in 0usize..10) -> (Vector<10, f64>, usize) {
        (Vector::from_fn(|i| if i == class { 1.0 } else { 0.0 }), class)
    }
}

// ---------------------------------------------------------------- batched = per sample

#[test]
fn batched_backward_equals_the_per_sample_path() {
    type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
    let model: Mlp = Mlp::init(&mut SeedRng::seed(21));
    let mut rng = SeedRng::seed(22);
    let xs: Vec<Vector<784>> =
        (0..33).map(|_| Vector::from_fn(|_| typed_nn::init::uniform01(&mut rng) as f32)).collect();
    let labels: Vec<usize> = (0..33).map(|i| (i * 7) % 10).collect();
    for loss in [SparseCategoricalCrossentropy::default(), SparseCategoricalCrossentropy::from_logits()] {
        let mut per_sample = Mlp::default();
        let l1 = value_and_grad_mean(&model, &xs, &labels, &loss, &mut per_sample).unwrap();
        let mut batched = Mlp::default();
        let mut ws = Workspace::new();
        let l2 = value_and_grad_batch(&model, &xs, &labels, &loss, &mut batched, &mut ws).unwrap();
        assert!((l1 - l2).abs() < 1e-5, "loss {l1} vs {l2}");
        for (a, b) in per_sample.params().zip(batched.params()) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-5, "{x} vs {y}");
            }
        }
    }
}

#[test]
fn batch_gradient_rejects_bad_batches_with_typed_errors() {
    type Mlp = (Dense<4, 3, Relu>, Dense<3, 2, Softmax>);
    let model = Mlp::default();
    let mut grad = Mlp::default();
    let xs = vec![Vector::<4>::default(); 3];
    let loss = SparseCategoricalCrossentropy::default();
    assert_eq!(
        value_and_grad_mean(&model, &xs, &[0, 1], &loss, &mut grad),
        Err(BatchError::TargetCountMismatch { inputs: 3, targets: 2 })
    );
    assert_eq!(
        value_and_grad_mean(&model, &xs, &[0, 1, 2], &loss, &mut grad),
        Err(BatchError::InvalidTarget { index: 2 })
    );
    let no_inputs: &[Vector<4>] = &[];
    assert_eq!(value_and_grad_mean(&model, no_inputs, &[], &loss, &mut grad), Err(BatchError::Empty));
    let mut ws = Workspace::new();
    assert_eq!(
        value_and_grad_batch(&model, &xs, &[0, 1, 7], &loss, &mut grad, &mut ws),
        Err(BatchError::InvalidTarget { index: 2 })
    );
    let nan_target = vec![Vector::from([f32::NAN, 0.0]); 3];
    assert_eq!(
        value_and_grad_mean(&model, &xs, &nan_target, &MeanSquaredError, &mut grad),
        Err(BatchError::InvalidTarget { index: 0 })
    );
    assert!(grad.params().all(|p| p.iter().all(|&g| g == 0.0)), "nothing accumulated on error");
}

// ---------------------------------------------------------------- the checks can fail

/// `Swish` with a derivative that is 2% off.
#[derive(Clone, Copy, Debug, Default)]
struct WrongSwish;
impl Activation for WrongSwish {
    fn f<T: Float>(x: T) -> T {
        Swish::f(x)
    }
    fn df<T: Float>(x: T) -> T {
        Swish::df(x) * T::from(1.02).unwrap()
    }
}

#[test]
fn the_activation_check_rejects_a_wrong_derivative() {
    let err = check_activation::<WrongSwish>(&[-2.0, 0.5, 3.0], &GradCheck::default()).unwrap_err();
    assert_eq!(err.wrt, Wrt::Activation);
    assert!(err.to_string().contains("analytic"), "{err}");
    // And through a layer, the input and kernel gradients both go wrong.
    let layer: Dense<3, 2, WrongSwish, f64> = Dense::init(&mut SeedRng::seed(4));
    assert!(check_layer(&layer, &Vector::from([0.5, -1.0, 2.0]), &GradCheck::default()).is_err());
}

/// A Dense whose backward adds a small error to one parameter gradient: the layer check must
/// name the tensor and index.
#[derive(Clone, Debug, Default)]
struct Off<const P: usize>(Dense<3, 2, Tanh, f64>);
impl<const P: usize> Params<f64> for Off<P> {
    const PARAMS: usize = 8;
    fn params(&self) -> impl Iterator<Item = &[f64]> {
        self.0.params()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        self.0.params_mut()
    }
}
impl<const P: usize> Layer<Vector<3, f64>> for Off<P> {
    type Out = Vector<2, f64>;
    fn forward(&self, x: &Vector<3, f64>) -> Vector<2, f64> {
        self.0.forward(x)
    }
}
impl<const P: usize> Backward<Vector<3, f64>> for Off<P> {
    type Cache = typed_nn::layer::DenseCache<2, f64>;
    fn forward_train(&self, x: &Vector<3, f64>) -> (Vector<2, f64>, Self::Cache) {
        self.0.forward_train(x)
    }
    fn backward(
        &self,
        x: &Vector<3, f64>,
        c: &Self::Cache,
        dy: &Vector<2, f64>,
        g: &mut Self,
        dx: Option<&mut Vector<3, f64>>,
    ) {
        self.0.backward(x, c, dy, &mut g.0, dx);
        match P {
            0 => g.0.kernel[1][0] += 0.01,
            _ => g.0.bias[1] += 0.01,
        }
    }
}

#[test]
fn the_layer_check_rejects_a_wrong_parameter_gradient_and_names_it() {
    let x = Vector::from([0.5, -1.0, 2.0]);
    let kernel_off = Off::<0>(Dense::init(&mut SeedRng::seed(9)));
    let err = check_layer(&kernel_off, &x, &GradCheck::default()).unwrap_err();
    assert_eq!((err.wrt, err.index), (Wrt::Param(0), 2), "kernel[1][0] is flat index 1·2 + 0: {err}");
    let bias_off = Off::<1>(Dense::init(&mut SeedRng::seed(9)));
    let err = check_layer(&bias_off, &x, &GradCheck::default()).unwrap_err();
    assert_eq!((err.wrt, err.index), (Wrt::Param(1), 1), "{err}");
    // Inside a model too.
    let model = (bias_off, Dense::<2, 2, Softmax, f64>::init(&mut SeedRng::seed(1)));
    let err = check_model_loss(&model, &x, &1usize, &SparseCategoricalCrossentropy::default(), &GradCheck::default())
        .unwrap_err();
    assert_eq!(err.wrt, Wrt::Param(1), "{err}");
}

/// MSE whose gradient is 1% too large, and one that claims a softmax fusion it gets wrong.
struct ScaledMse(f64);
impl Loss<Vector<5, f64>> for ScaledMse {
    type Target = Vector<5, f64>;
    fn loss(&self, y: &Vector<5, f64>, t: &Vector<5, f64>) -> f64 {
        MeanSquaredError.loss(y, t)
    }
    fn gradient(&self, y: &Vector<5, f64>, t: &Vector<5, f64>, scale: f64, dy: &mut Vector<5, f64>) -> f64 {
        MeanSquaredError.gradient(y, t, scale * self.0, dy)
    }
    fn valid_target(&self, _: &Vector<5, f64>) -> bool {
        true
    }
}

struct WrongFusion;
impl Loss<Vector<5, f64>> for WrongFusion {
    type Target = Vector<5, f64>;
    fn loss(&self, y: &Vector<5, f64>, t: &Vector<5, f64>) -> f64 {
        CategoricalCrossentropy::default().loss(y, t)
    }
    fn gradient(&self, y: &Vector<5, f64>, t: &Vector<5, f64>, scale: f64, dy: &mut Vector<5, f64>) -> f64 {
        CategoricalCrossentropy::default().gradient(y, t, scale, dy)
    }
    fn gradient_logits(
        &self,
        y: &Vector<5, f64>,
        t: &Vector<5, f64>,
        f: Fusion,
        s: f64,
        dz: &mut Vector<5, f64>,
    ) -> Option<f64> {
        // (y − p) instead of (p − y): a sign error.
        let v = CategoricalCrossentropy::default().gradient_logits(y, t, f, s, dz)?;
        for d in dz.as_mut_slice() {
            *d = -*d;
        }
        Some(v)
    }
    fn valid_target(&self, _: &Vector<5, f64>) -> bool {
        true
    }
}

#[test]
fn the_loss_checks_reject_a_wrong_gradient_and_a_wrong_fusion() {
    let y = Vector::from([0.1, 0.5, -0.3, 0.9, 0.0]);
    let t = Vector::from([0.0, 1.0, 0.0, 0.0, 0.0]);
    assert!(check_loss(&ScaledMse(1.0), &y, &t, &GradCheck::default()).is_ok());
    assert!(check_loss(&ScaledMse(1.01), &y, &t, &GradCheck::default()).is_err());
    let model: Dense<3, 5, Softmax, f64> = Dense::init(&mut SeedRng::seed(2));
    let x = Vector::from([0.2, -0.4, 1.0]);
    assert!(check_model_loss(&model, &x, &t, &CategoricalCrossentropy::default(), &GradCheck::default()).is_ok());
    assert!(check_model_loss(&model, &x, &t, &WrongFusion, &GradCheck::default()).is_err());
}
