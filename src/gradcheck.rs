//! Gradient checks for your own activations, layers, losses and models, in one call
//! (feature `proptest`).
//!
//! # How a gradient check works
//! A backward pass claims to compute `∂f/∂θ`. The check computes the same numbers a second,
//! independent way — the central difference `(f(θ + ε) − f(θ − ε)) / 2ε`, one coordinate at a
//! time, in `f64` — and demands `|analytic − numeric| ≤ atol + rtol·|numeric|` (PyTorch's
//! `gradcheck` rule; defaults `ε = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`). The central
//! difference is exact up to `ε²·f'''` truncation and `1e-16·|f|/ε` rounding, both far inside
//! the tolerance, unless a kink (ReLU at 0, a max-pool tie) lies within `ε`: keep test inputs
//! away from kinks.
//!
//! For a layer, `f` is a random weighting of its outputs, `f = Σₖ rₖ·yₖ` (so that softmax,
//! whose outputs always sum to 1, is still tested). Large tensors are sampled: at most
//! [`GradCheck::max_coords`] coordinates per tensor, plus [`GradCheck::projections`] random
//! directions over *all* coordinates at once (`⟨∇f, u⟩` against the difference along `u`, as
//! JAX's `check_grads` does), so a 50 000-weight layer costs a few hundred forward passes.
//!
//! A check cannot catch a mistake made identically in forward and backward (a transposed
//! kernel used consistently, say); comparing with Keras' own numbers does that (see
//! `tests/keras_parity.rs`).
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::gradcheck::{check_activation, check_layer, GradCheck};
//!
//! // An activation: df against the central difference of f at a few points.
//! check_activation::<Swish>(&[-3.0, -0.5, 0.2, 4.0], &GradCheck::default()).unwrap();
//!
//! // A layer (or a whole model): input and parameter gradients.
//! let layer: Dense<3, 2, Tanh, f64> = Dense::init(&mut SeedRng::seed(1));
//! let x = Vector::from([0.3, -0.2, 0.9]);
//! let report = check_layer(&layer, &x, &GradCheck::default()).unwrap();
//! assert_eq!(report.coordinates, 3 + 6 + 2 + 4); // input, kernel, bias, 4 random directions
//! ```
//!
//! With proptest, the `arb_*` strategies generate the inputs and layers:
//!
//! ```
//! use proptest::prelude::*;
//! use typed_nn::gradcheck::{arb_layer, arb_vector, check_layer, GradCheck};
//! use typed_nn::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(8), |(layer in arb_layer::<Dense<4, 3, Sigmoid, f64>>(1.0),
//!                                            x in arb_vector::<4, f64>(-2.0, 2.0))| {
//!     check_layer(&layer, &x, &GradCheck::default()).map_err(|r| TestCaseError::fail(r.to_string()))?;
//! });
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use proptest::prelude::*;

use crate::activation::Activation;
use crate::init::{SeedRng, uniform01};
use crate::shape::{Image, Vector};
use crate::{Backward, Loss, Params, Tensor};

/// Step size, tolerances and sampling of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// Central-difference step `ε`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numeric value).
    pub rtol: f64,
    /// At most this many coordinates of each tensor (input, each parameter tensor) are
    /// checked one by one; bigger tensors are sampled.
    pub max_coords: usize,
    /// Random directions over all coordinates at once.
    pub projections: usize,
    /// Seed for the output weighting, the sampled coordinates and the directions.
    pub seed: u64,
}

impl Default for GradCheck {
    /// `ε = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`, 32 coordinates per tensor, 4 projections.
    fn default() -> Self {
        Self { eps: 1e-6, atol: 1e-5, rtol: 1e-3, max_coords: 32, projections: 4, seed: 0x5EED }
    }
}

impl GradCheck {
    fn tolerance(&self, numeric: f64) -> f64 {
        self.atol + self.rtol * numeric.abs()
    }
}

/// Which gradient a [`GradMismatch`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrt {
    /// The derivative of an activation at a point.
    Activation,
    /// The input tensor (or the prediction, for a loss).
    Input,
    /// Parameter tensor number `.0`, in [`Params::params`] order (for `Dense`: 0 = kernel,
    /// 1 = bias; a tuple numbers its layers' tensors consecutively).
    Param(usize),
    /// A random direction over all coordinates.
    Direction,
}

impl fmt::Display for Wrt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wrt::Activation => f.write_str("the activation's derivative"),
            Wrt::Input => f.write_str("the input"),
            Wrt::Param(i) => write!(f, "parameter tensor {i}"),
            Wrt::Direction => f.write_str("a random direction"),
        }
    }
}

/// A failed gradient check: the worst coordinate found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradMismatch {
    /// Which gradient.
    pub wrt: Wrt,
    /// The coordinate (flat index in the tensor, the point's index for an activation, the
    /// direction's number for a projection).
    pub index: usize,
    /// Where it was evaluated, for an activation (the point `x`); NaN otherwise.
    pub at: f64,
    /// What the backward pass (or `df`) says.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
    /// The tolerance it had to meet, `atol + rtol·|numeric|`.
    pub tolerance: f64,
    /// How many coordinates and directions were checked.
    pub coordinates: usize,
}

impl fmt::Display for GradMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gradient check failed for {} at index {}", self.wrt, self.index)?;
        if !self.at.is_nan() {
            write!(f, " (x = {})", self.at)?;
        }
        write!(
            f,
            ": analytic {:.9e}, numeric {:.9e}, |difference| {:.3e} > tolerance {:.3e} (worst of {} checked)",
            self.analytic,
            self.numeric,
            (self.analytic - self.numeric).abs(),
            self.tolerance,
            self.coordinates
        )
    }
}

impl core::error::Error for GradMismatch {}

/// A passed gradient check: how much was checked and the largest error seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradReport {
    /// Coordinates and directions checked.
    pub coordinates: usize,
    /// The largest `|analytic − numeric|`.
    pub max_error: f64,
}

/// Collects comparisons and keeps the worst violation (by how far past its tolerance).
/// A failing coordinate is reported in preference to a failing direction: it says where.
struct Worst {
    cfg: GradCheck,
    checked: usize,
    max_error: f64,
    worst: Option<(f64, GradMismatch)>,
    worst_direction: Option<(f64, GradMismatch)>,
}

impl Worst {
    fn new(cfg: &GradCheck) -> Self {
        Self { cfg: *cfg, checked: 0, max_error: 0.0, worst: None, worst_direction: None }
    }

    fn compare(&mut self, wrt: Wrt, index: usize, at: f64, analytic: f64, numeric: f64) {
        self.checked += 1;
        let error = (analytic - numeric).abs();
        let tolerance = self.cfg.tolerance(numeric);
        if error.is_finite() {
            self.max_error = self.max_error.max(error);
        }
        if error <= tolerance {
            return;
        }
        // NaN on either side fails too (`NaN <= t` is false), and ranks as the worst.
        let excess = if error.is_nan() { f64::INFINITY } else { error / tolerance };
        let slot = if wrt == Wrt::Direction { &mut self.worst_direction } else { &mut self.worst };
        if slot.as_ref().is_none_or(|(e, _)| excess > *e) {
            let m = GradMismatch { wrt, index, at, analytic, numeric, tolerance, coordinates: 0 };
            *slot = Some((excess, m));
        }
    }

    fn finish(self) -> Result<GradReport, GradMismatch> {
        match self.worst.or(self.worst_direction) {
            Some((_, m)) => Err(GradMismatch { coordinates: self.checked, ..m }),
            None => Ok(GradReport { coordinates: self.checked, max_error: self.max_error }),
        }
    }
}

/// Checks an activation's `df` against central differences of its `f` at the given points
/// (in `f64`).
///
/// # Errors
/// The worst [`GradMismatch`] if any point fails (or gives NaN).
pub fn check_activation<A: Activation>(points: &[f64], cfg: &GradCheck) -> Result<GradReport, GradMismatch> {
    let mut worst = Worst::new(cfg);
    for (i, &x) in points.iter().enumerate() {
        let numeric = (A::f(x + cfg.eps) - A::f(x - cfg.eps)) / (2.0 * cfg.eps);
        worst.compare(Wrt::Activation, i, x, A::df(x), numeric);
    }
    worst.finish()
}

/// Up to `max` distinct indices below `len`: all of them if `len <= max`, else a random sample.
fn sample_indices(rng: &mut SeedRng, len: usize, max: usize) -> Vec<usize> {
    if len <= max {
        return (0..len).collect();
    }
    let mut all: Vec<usize> = (0..len).collect();
    // Partial Fisher-Yates: the first `max` entries become a uniform sample.
    for i in 0..max {
        let j = i + rng.below(len - i);
        all.swap(i, j);
    }
    all.truncate(max);
    all.sort_unstable();
    all
}

fn random_signs(rng: &mut SeedRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| 2.0 * uniform01(rng) - 1.0).collect()
}

/// Checks a layer's (or model's) backward pass: the gradient with respect to the input and to
/// every parameter tensor, for the scalar `f = Σₖ rₖ·yₖ` with fixed random `rₖ ∈ [−1, 1]`.
///
/// The layer must work in `f64` (make your layer generic over its float type, or write it for
/// `f64`).
///
/// # Errors
/// The worst [`GradMismatch`] found.
pub fn check_layer<L, X>(layer: &L, x: &X, cfg: &GradCheck) -> Result<GradReport, GradMismatch>
where
    X: Tensor<Elem = f64>,
    L: Backward<X> + Clone + Default,
{
    let mut rng = SeedRng::seed(cfg.seed);
    let r = random_signs(&mut rng, L::Out::LEN);
    let weigh = |y: &L::Out| -> f64 { y.as_slice().iter().zip(&r).map(|(a, b)| a * b).sum() };
    // f as a function of a layer and an input.
    let f = |layer: &L, x: &X| weigh(&layer.forward(x));

    // Analytic gradients.
    let (_, cache) = layer.forward_train(x);
    let dy = L::Out::from_slice(&r).unwrap_or_default();
    let mut grad: Box<L> = Box::default();
    grad.zero_params();
    let mut dx = X::default();
    layer.backward(x, &cache, &dy, &mut grad, Some(&mut dx));

    compare_all(cfg, &mut rng, layer, x, &grad, dx.as_slice(), f)
}

/// Checks the gradient of `loss(model(x), target)` with respect to the input and every
/// parameter, through the same path training uses (including the fused softmax/sigmoid +
/// cross-entropy gradient).
///
/// # Errors
/// The worst [`GradMismatch`] found.
pub fn check_model_loss<M, X, L>(
    model: &M,
    x: &X,
    target: &L::Target,
    loss: &L,
    cfg: &GradCheck,
) -> Result<GradReport, GradMismatch>
where
    X: Tensor<Elem = f64>,
    M: Backward<X> + Clone + Default,
    L: Loss<M::Out>,
{
    let mut rng = SeedRng::seed(cfg.seed);
    let f = |model: &M, x: &X| loss.loss(&model.forward(x), target);

    let mut grad: Box<M> = Box::default();
    grad.zero_params();
    let mut dx = X::default();
    // Unchecked on purpose: the check compares whatever the training path computes for this
    // target with the central difference, valid target or not.
    crate::backprop::value_and_grad_scaled(model, x, target, loss, 1.0, &mut grad, Some(&mut dx));
    compare_all(cfg, &mut rng, model, x, &grad, dx.as_slice(), f)
}

/// Checks a loss's gradient with respect to the prediction `y`.
///
/// # Errors
/// The worst [`GradMismatch`] found.
pub fn check_loss<L, Y>(loss: &L, y: &Y, target: &L::Target, cfg: &GradCheck) -> Result<GradReport, GradMismatch>
where
    Y: Tensor<Elem = f64>,
    L: Loss<Y>,
{
    let mut rng = SeedRng::seed(cfg.seed);
    let mut dy = Y::default();
    loss.gradient(y, target, 1.0, &mut dy);
    let mut worst = Worst::new(cfg);
    let f = |y: &Y| loss.loss(y, target);
    for i in sample_indices(&mut rng, Y::LEN, cfg.max_coords) {
        let moved = |delta: f64| {
            let mut t = y.clone();
            if let Some(v) = t.as_mut_slice().get_mut(i) {
                *v += delta;
            }
            f(&t)
        };
        let numeric = (moved(cfg.eps) - moved(-cfg.eps)) / (2.0 * cfg.eps);
        worst.compare(Wrt::Input, i, f64::NAN, dy.as_slice().get(i).copied().unwrap_or(f64::NAN), numeric);
    }
    worst.finish()
}

/// Compares input and parameter gradients coordinate by coordinate (sampled) and along random
/// directions.
///
/// Parameters are perturbed in one heap copy of the model and restored from the original, so
/// a model of any size is checked without copies on the stack.
fn compare_all<M, X>(
    cfg: &GradCheck,
    rng: &mut SeedRng,
    model: &M,
    x: &X,
    grad: &M,
    dx: &[f64],
    f: impl Fn(&M, &X) -> f64,
) -> Result<GradReport, GradMismatch>
where
    X: Tensor<Elem = f64>,
    M: Params<f64> + Clone,
{
    let mut worst = Worst::new(cfg);
    let eps = cfg.eps;
    let mut work: Box<M> = Box::new(model.clone());
    let restore = |work: &mut M| {
        for (w, m) in work.params_mut().zip(model.params()) {
            w.copy_from_slice(m);
        }
    };

    // Input coordinates.
    for i in sample_indices(rng, X::LEN, cfg.max_coords) {
        let moved = |delta: f64| {
            let mut t = x.clone();
            if let Some(v) = t.as_mut_slice().get_mut(i) {
                *v += delta;
            }
            f(model, &t)
        };
        let numeric = (moved(eps) - moved(-eps)) / (2.0 * eps);
        worst.compare(Wrt::Input, i, f64::NAN, dx.get(i).copied().unwrap_or(f64::NAN), numeric);
    }

    // Parameter coordinates, tensor by tensor.
    let grads: Vec<Vec<f64>> = grad.params().map(<[f64]>::to_vec).collect();
    for (p, g) in grads.iter().enumerate() {
        for i in sample_indices(rng, g.len(), cfg.max_coords) {
            let mut moved = |delta: f64| {
                if let Some(v) = work.params_mut().nth(p).and_then(|t| t.get_mut(i)) {
                    *v += delta;
                }
                let value = f(&work, x);
                restore(&mut work);
                value
            };
            let numeric = (moved(eps) - moved(-eps)) / (2.0 * eps);
            worst.compare(Wrt::Param(p), i, f64::NAN, g.get(i).copied().unwrap_or(f64::NAN), numeric);
        }
    }

    // Random directions over every coordinate: catches errors in coordinates not sampled.
    for k in 0..cfg.projections {
        let ux = random_signs(rng, X::LEN);
        let up: Vec<Vec<f64>> = grads.iter().map(|g| random_signs(rng, g.len())).collect();
        let analytic = dot(dx, &ux) + grads.iter().zip(&up).map(|(g, u)| dot(g, u)).sum::<f64>();
        let mut moved = |delta: f64| {
            let mut t = x.clone();
            for (v, u) in t.as_mut_slice().iter_mut().zip(&ux) {
                *v += delta * u;
            }
            for (tensor, u) in work.params_mut().zip(&up) {
                for (v, u) in tensor.iter_mut().zip(u) {
                    *v += delta * u;
                }
            }
            let value = f(&work, &t);
            restore(&mut work);
            value
        };
        let numeric = (moved(eps) - moved(-eps)) / (2.0 * eps);
        worst.compare(Wrt::Direction, k, f64::NAN, analytic, numeric);
    }
    worst.finish()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A strategy for vectors with elements uniform in `[lo, hi]`.
///
/// Elements are drawn independently (and shrink toward `lo`); no NaN or infinity is ever
/// produced, unlike `any::<f64>()`.
pub fn arb_vector<const N: usize, T: crate::Scalar>(lo: f64, hi: f64) -> impl Strategy<Value = Vector<N, T>> {
    proptest::collection::vec(lo..=hi, N).prop_map(|v| Vector::from_fn(|i| T::lit(v.get(i).copied().unwrap_or(0.0))))
}

/// A strategy for images with values uniform in `[lo, hi]`.
pub fn arb_image<const H: usize, const W: usize, const C: usize, T: crate::Scalar>(
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = Image<H, W, C, T>> {
    proptest::collection::vec(lo..=hi, H * W * C).prop_map(|v| {
        let mut img = Image::<H, W, C, T>::default();
        for (d, s) in img.as_mut_slice().iter_mut().zip(v) {
            *d = T::lit(s);
        }
        img
    })
}

/// A strategy for layers or whole models with every parameter uniform in `[−scale, scale]`.
///
/// The parameters come from a seeded generator (the strategy draws the seed), so even a
/// 50 000-parameter model costs one `u64` to generate and shrink.
///
/// proptest moves generated values around by value; for models bigger than a few kilobytes ask
/// for a `Box` (`arb_layer::<Box<Mlp>>(0.1)`): a boxed model is a model, and the checks take
/// it as it is.
pub fn arb_layer<M>(scale: f64) -> impl Strategy<Value = M>
where
    M: Params<f64> + Default + Clone + fmt::Debug,
{
    any::<u64>().prop_map(move |seed| {
        let mut rng = SeedRng::seed(seed);
        let mut m = M::default();
        for tensor in m.params_mut() {
            for v in tensor {
                *v = scale * (2.0 * uniform01(&mut rng) - 1.0);
            }
        }
        m
    })
}
