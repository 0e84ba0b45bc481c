//! # 06 — Your own layer, with its backward pass, proven by a gradient check
//!
//! A complete walkthrough: a per-channel scale layer, `y[i][j][c] = γ[c]·x[i][j][c]` (one
//! learned factor per channel, like the γ of a batch normalisation without the statistics).
//! Five steps: the type, its parameters, the rule for its input, the forward pass, the
//! backward pass; then the proof.
//!
//! What you implement is exactly this: `Params`, `Layer::forward` and
//! `Backward::{forward_train, backward}`. Batched inference, batched training, the `Trainer`
//! and `summary()` then work with the layer as they do with the built-in ones.
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
///
/// `bytemuck::Zeroable` (derived: the compiler checks that every field may be all-zero bytes)
/// lets a model containing the layer be built directly on the heap with `new_boxed`.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
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

// ------------------------------------------------------------------ 2. the parameters
/// One tensor of `C` values. `PARAMS` must be the total length of what `params()` yields
/// (`typed_nn::params::check_count` checks it; `summary()` and the savers refuse a wrong one).
/// Describing the tensor (`describe_params`) lets the layer be saved and loaded by name; it is
/// optional.
impl<const C: usize, T: Scalar> Params<T> for Scale<C, T> {
    const PARAMS: usize = C;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        core::iter::once(&self.gamma[..])
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::once(&mut self.gamma[..])
    }

    /// Keras initialises such factors to 1 (`gamma_initializer="ones"`).
    fn init_params<R: Rng + ?Sized>(&mut self, _rng: &mut R) {
        self.gamma = [T::one(); C];
    }

    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        visit(&ParamSpec { layer: walk.layer(), name: "gamma", shape: ParamShape::Vector(C) });
        walk.end_layer(walk.channels());
    }
}

// ------------------------------------------------------------------ 3. the input rule
/// What a `Scale<C>` accepts: an image with `C` channels. Stating it as a trait, rather than
/// implementing `Layer<Image<H, W, C, T>>` directly, is what built-in layers do too: a model
/// that feeds the layer something else then fails with *this* message, pointing at the
/// mistake, instead of a type mismatch deep inside the model's tuple (the guide's chapter 3
/// explains why).
#[diagnostic::on_unimplemented(
    message = "`Scale<{C}>` takes images with {C} channels, but it is given `{Self}`",
    label = "expected an `Image<_, _, {C}>`",
    note = "a `Scale<C>` scales each channel of an image: it goes before the `Flatten`, with C the channels of the layer before"
)]
pub trait ScaleInput<const C: usize, T>: Tensor<Elem = T> {}

#[diagnostic::do_not_recommend]
impl<const H: usize, const W: usize, const C: usize, T: Scalar> ScaleInput<C, T> for Image<H, W, C, T> {}

// ------------------------------------------------------------------ 4. forward
/// It accepts any tensor its rule accepts and returns the same shape: each pixel is `C`
/// consecutive values (channels last).
impl<X: ScaleInput<C, T>, const C: usize, T: Scalar> Layer<X> for Scale<C, T> {
    type Out = X;
    const NAME: &'static str = "Scale";

    fn forward(&self, x: &X) -> X {
        let mut y = x.clone();
        for pixel in y.as_mut_slice().chunks_exact_mut(C) {
            for (v, &g) in pixel.iter_mut().zip(&self.gamma) {
                *v *= g;
            }
        }
        y
    }
}

// ------------------------------------------------------------------ 5. backward
/// With `y = γ ⊙ x` per pixel, the chain rule gives, for the upstream gradient `dy`:
/// `∂L/∂γ[c] = Σ_pixels x[..][c]·dy[..][c]` and `∂L/∂x[..][c] = γ[c]·dy[..][c]`. The forward pass
/// needs to keep nothing: the backward pass gets the input `x` anyway.
impl<X: ScaleInput<C, T>, const C: usize, T: Scalar> Backward<X> for Scale<C, T> {
    type Cache = ();

    fn forward_train(&self, x: &X) -> (X, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, x: &X, _cache: &(), dy: &X, grad: &mut Self, dx: Option<&mut X>) {
        let pixels = x.as_slice().chunks_exact(C).zip(dy.as_slice().chunks_exact(C));
        for (xp, dyp) in pixels {
            for ((g, &xv), &d) in grad.gamma.iter_mut().zip(xp).zip(dyp) {
                *g += xv * d; // accumulate: the caller zeroes `grad` between steps
            }
        }
        if let Some(dx) = dx {
            let dxs = dx.as_mut_slice().chunks_exact_mut(C).zip(dy.as_slice().chunks_exact(C));
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

impl<X: ScaleInput<C, f64>, const C: usize> Layer<X> for BuggyScale<C> {
    type Out = X;
    fn forward(&self, x: &X) -> X {
        self.0.forward(x)
    }
}

impl<X: ScaleInput<C, f64>, const C: usize> Backward<X> for BuggyScale<C> {
    type Cache = ();
    fn forward_train(&self, x: &X) -> (X, ()) {
        (self.forward(x), ())
    }
    fn backward(&self, x: &X, cache: &(), dy: &X, grad: &mut Self, dx: Option<&mut X>) {
        self.0.backward(x, cache, dy, &mut grad.0, None);
        if let Some(dx) = dx {
            *dx = dy.clone(); // the bug: γ is missing
        }
    }
}

// ------------------------------------------------------------------ 6. the proof
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

    // Built on the heap, as the built-in layers are (the derive in step 1).
    let boxed: Box<Model> = Model::init_boxed(&mut SeedRng::seed(3));
    assert_eq!(boxed.1.gamma, [1.0; 4]);

    // And the bug: the report names the gradient, the element, and both values.
    let buggy = BuggyScale(Scale { gamma: [0.5, -1.5, 2.0] });
    let err = check_layer(&buggy, &x, &cfg).expect_err("the missing γ is caught");
    println!("check_layer(BuggyScale):\n  {err}");
}
