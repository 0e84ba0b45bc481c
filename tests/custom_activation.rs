//! The user-defined swish of seed model 3, proven with the public gradcheck helpers, and the
//! report a wrong derivative produces.

use proptest::prelude::*;
use typed_nn::gradcheck::{GradCheck, Wrt, arb_layer, arb_vector, check_activation, check_layer};
use typed_nn::prelude::*;

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
