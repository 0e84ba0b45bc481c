//! [`HyperParameterError`]: a hyper-parameter that cannot be right, refused before training
//! starts, and the rules the built-in optimizers and losses check.

use core::fmt;

/// A hyper-parameter (of an optimizer or a loss) that cannot be right, such as a learning rate
/// that is not a finite number above 0 or a `beta_1` of 1 (Adam would divide by `1 − β₁ᵗ = 0`).
///
/// Returned by [`Optimizer::check_hyperparameters`](super::Optimizer::check_hyperparameters)
/// and [`Loss::check_hyperparameters`](crate::Loss::check_hyperparameters), which the
/// [`Trainer`](crate::train::Trainer) calls before the first step (as
/// [`TrainError::InvalidHyperParameter`](crate::train::TrainError::InvalidHyperParameter)).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::optim::HyperParameterError;
/// let mut adam: Adam<Dense<2, 1>> = Adam::new(0.01);
/// assert_eq!(adam.check_hyperparameters(), Ok(()));
/// adam.beta_1 = 1.0;
/// let err: HyperParameterError = adam.check_hyperparameters().unwrap_err();
/// assert_eq!((err.name, err.value), ("beta_1", 1.0));
/// assert_eq!(err.to_string(), "beta_1 is 1; it must be in [0, 1)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct HyperParameterError {
    /// The field, as Keras names the argument (`"learning_rate"`, `"beta_1"`, `"label_smoothing"`).
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// The values it may take, in words (`"a finite number > 0"`, `"in [0, 1)"`).
    pub expected: &'static str,
}

impl HyperParameterError {
    /// The error for hyper-parameter `name` at `value`, which must be `expected` (in words):
    /// for the [`check_hyperparameters`](super::Optimizer::check_hyperparameters) of an
    /// optimizer or loss of your own.
    pub const fn new(name: &'static str, value: f64, expected: &'static str) -> Self {
        Self { name, value, expected }
    }
}

impl fmt::Display for HyperParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}; it must be {}", self.name, self.value, self.expected)
    }
}

impl core::error::Error for HyperParameterError {}

/// `Ok` if `ok`, otherwise the error naming `name`, `value` and `expected`.
fn check(name: &'static str, value: f64, expected: &'static str, ok: bool) -> Result<(), HyperParameterError> {
    if ok { Ok(()) } else { Err(HyperParameterError { name, value, expected }) }
}

/// A learning rate or an ε: finite and above 0 (NaN fails every comparison).
pub(crate) fn positive(name: &'static str, value: f64) -> Result<(), HyperParameterError> {
    check(name, value, "a finite number > 0", value.is_finite() && value > 0.0)
}

/// A weight decay: finite and at least 0.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<(), HyperParameterError> {
    check(name, value, "a finite number >= 0", value.is_finite() && value >= 0.0)
}

/// A decay rate or a momentum, whose weight on the past must be below 1: in `[0, 1)`.
pub(crate) fn decay(name: &'static str, value: f64) -> Result<(), HyperParameterError> {
    check(name, value, "in [0, 1)", (0.0..1.0).contains(&value))
}

/// A fraction such as `label_smoothing`: in `[0, 1]`.
pub(crate) fn fraction(name: &'static str, value: f64) -> Result<(), HyperParameterError> {
    check(name, value, "in [0, 1]", (0.0..=1.0).contains(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rule(value)` accepts exactly the values marked `true`.
    fn table(rule: fn(&'static str, f64) -> Result<(), HyperParameterError>, rows: &[(f64, bool)]) {
        for &(value, ok) in rows {
            assert_eq!(rule("x", value).is_ok(), ok, "{value}");
        }
    }

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

    #[test]
    fn learning_rates_and_epsilons_are_finite_and_positive() {
        table(
            positive,
            &[(1e-7, true), (1e30, true), (0.0, false), (-0.0, false), (-1e-3, false), (NAN, false), (INF, false)],
        );
    }

    #[test]
    fn weight_decays_are_finite_and_not_negative() {
        table(non_negative, &[(0.0, true), (0.004, true), (-1e-9, false), (NAN, false), (INF, false)]);
    }

    #[test]
    fn decays_and_momenta_are_in_zero_one_excluding_one() {
        table(
            decay,
            &[(0.0, true), (0.999, true), (1.0, false), (-0.1, false), (1.5, false), (NAN, false), (-INF, false)],
        );
    }

    #[test]
    fn fractions_are_in_zero_one_including_both() {
        table(fraction, &[(0.0, true), (1.0, true), (0.1, true), (-1e-9, false), (1.0 + 1e-9, false), (NAN, false)]);
    }

    #[test]
    fn the_message_names_the_field_its_value_and_the_rule() {
        let err = positive("learning_rate", -0.5).unwrap_err();
        assert_eq!(std::format!("{err}"), "learning_rate is -0.5; it must be a finite number > 0");
    }
}
