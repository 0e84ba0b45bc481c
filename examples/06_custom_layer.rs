//! # 06 — Your own layer, with its backward pass, proven by a gradient check
//!
//! A complete walkthrough: a per-channel scale layer, `y[i][j][c] = γ[c]·x[i][j][c]` (one
//! learned factor per channel, like the γ of a batch normalisation without the statistics).
//! Four steps: the type, the forward pass, the backward pass, and the proof.
//!
//! Builds on `examples/03_custom_activation.rs` (which proves an activation) and
//! `examples/05_digits.rs`; next: `examples/07_load_weights.rs`.
//!
//! Run: `cargo run --release --example custom_layer --features proptest` — prints the checks
//! passing for the correct layer and the report for a layer with a bug.

use typed_nn::gradcheck::{GradCheck, check_layer, check_model_loss};
use typed_nn::params::{ParamShape, ParamSpec, ParamWalk};
use typed_nn::prelude::*;

// ------------------------------------------------------------------ 1. the type
/// One learned factor per channel. `C` is part of the type, so the layer only accepts images
/// with `C` channels; `T` is the float type (f64 for the gradient check).
#[derive(Clone, Debug, PartialEq)]
pub struct Scale<const C: usize, T = f32> {
    /// The factors γ.
    pub gamma: [T; C],
}

impl<const C: usize, T: Scalar> Default for Scale<C, T> {
    /// Starts as the identity: γ = 1.
    fn default() -> Self {
        Self { gamma: [T::one(); C] }
    }
}

/// The parameters: one tensor of `C` values. Describing it (`describe_params`) lets the layer
/// be saved and loaded by name, as `{k}.bias`-shaped vector; it is optional.
impl<const C: usize, T: Scalar> Params<T> for Scale<C, T> {
    const PARAMS: usize = C;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        core::iter::once(&self.gamma[..])
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::once(&mut self.gamma[..])
    }

    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        visit(&ParamSpec { layer: walk.layer(), name: "gamma", shape: ParamShape::Vector(C) });
        walk.end_layer(walk.channels());
    }
}

// ------------------------------------------------------------------ 2. forward
/// It accepts any `Image<H, W, C>` (with its own `C`) and returns the same shape.
impl<const H: usize, const W: usize, const C: usize, T: Scalar> Layer<Image<H, W, C, T>> for Scale<C, T> {
    type Out = Image<H, W, C, T>;
    const NAME: &'static str = "Scale";

    fn forward(&self, x: &Image<H, W, C, T>) -> Image<H, W, C, T> {
        let mut y = *x;
        for pixel in y.as_mut_array().as_flattened_mut() {
            for (v, &g) in pixel.iter_mut().zip(&self.gamma) {
                *v *= g;
            }
        }
        y
    }
}

// ------------------------------------------------------------------ 3. backward
/// With `y = γ ⊙ x` per pixel, the chain rule gives, for the upstream gradient `dy`:
/// `∂L/∂γ[c] = Σ_pixels x[..][c]·dy[..][c]` and `∂L/∂x[..][c] = γ[c]·dy[..][c]`. The forward pass
/// needs to keep nothing: the backward pass gets the input `x` anyway.
impl<const H: usize, const W: usize, const C: usize, T: Scalar> Backward<Image<H, W, C, T>> for Scale<C, T> {
    type Cache = ();

    fn forward_train(&self, x: &Image<H, W, C, T>) -> (Image<H, W, C, T>, ()) {
        (self.forward(x), ())
    }

    fn backward(
        &self,
        x: &Image<H, W, C, T>,
        _cache: &(),
        dy: &Image<H, W, C, T>,
        grad: &mut Self,
        dx: Option<&mut Image<H, W, C, T>>,
    ) {
        let pixels = x.as_array().as_flattened().iter().zip(dy.as_array().as_flattened());
        for (xp, dyp) in pixels {
            for ((g, &xv), &d) in grad.gamma.iter_mut().zip(xp).zip(dyp) {
                *g += xv * d; // accumulate: the caller zeroes `grad` between steps
            }
        }
        if let Some(dx) = dx {
            let dxs = dx.as_mut_array().as_flattened_mut().iter_mut().zip(dy.as_array().as_flattened());
            for (dxp, dyp) in dxs {
                for ((out, &d), &g) in dxp.iter_mut().zip(dyp).zip(&self.gamma) {
                    *out = g * d; // overwrite: dx is this sample's input gradient
                }
            }
        }
    }
}

/// The same layer with a classic bug: the input gradient forgets γ (`dx = dy`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuggyScale<const C: usize>(Scale<C, f64>);

impl<const C: usize> Params<f64> for BuggyScale<C> {
    const PARAMS: usize = C;
    fn params(&self) -> impl Iterator<Item = &[f64]> {
        self.0.params()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        self.0.params_mut()
    }
}

impl<const H: usize, const W: usize, const C: usize> Layer<Image<H, W, C, f64>> for BuggyScale<C> {
    type Out = Image<H, W, C, f64>;
    fn forward(&self, x: &Image<H, W, C, f64>) -> Image<H, W, C, f64> {
        self.0.forward(x)
    }
}

impl<const H: usize, const W: usize, const C: usize> Backward<Image<H, W, C, f64>> for BuggyScale<C> {
    type Cache = ();
    fn forward_train(&self, x: &Image<H, W, C, f64>) -> (Image<H, W, C, f64>, ()) {
        (self.forward(x), ())
    }
    fn backward(
        &self,
        x: &Image<H, W, C, f64>,
        cache: &(),
        dy: &Image<H, W, C, f64>,
        grad: &mut Self,
        dx: Option<&mut Image<H, W, C, f64>>,
    ) {
        self.0.backward(x, cache, dy, &mut grad.0, None);
        if let Some(dx) = dx {
            *dx = *dy; // the bug: γ is missing
        }
    }
}

// ------------------------------------------------------------------ 4. the proof
fn main() {
    let cfg = GradCheck::default();
    let x: Image<4, 5, 3, f64> =
        Image::new(core::array::from_fn(|i| core::array::from_fn(|j| [0.1 * i as f64, -0.2 * j as f64, 0.3])));

    // The layer alone: gradients with respect to the input and to γ.
    let layer: Scale<3, f64> = Scale { gamma: [0.5, -1.5, 2.0] };
    let report = check_layer(&layer, &x, &cfg).expect("Scale's backward pass is right");
    println!("check_layer(Scale): ok — {} coordinates, max error {:.1e}", report.coordinates, report.max_error);

    // Inside a model, with a loss: the custom layer composes with the built-in ones.
    type Model = (Conv2D<3, 4, 3, Tanh, 1, Same, f64>, Scale<4, f64>, GlobalAvgPool2D, Dense<4, 2, Softmax, f64>);
    let mut model: Model = Model::init(&mut SeedRng::seed(3));
    model.1.gamma = [1.5, -0.5, 0.8, 2.0];
    let loss = SparseCategoricalCrossentropy::default();
    let report = check_model_loss(&model, &x, &1, &loss, &cfg).expect("the whole model's gradients are right");
    println!("check_model_loss(Conv2D → Scale → GAP → Dense): ok — {} coordinates", report.coordinates);
    model.summary_for::<Image<4, 5, 3, f64>>();

    // And the bug: the report names the gradient, the element, and both values.
    let buggy = BuggyScale(Scale { gamma: [0.5, -1.5, 2.0] });
    let err = check_layer(&buggy, &x, &cfg).expect_err("the missing γ is caught");
    println!("check_layer(BuggyScale):\n  {err}");
}
