//! Activations: zero-sized types whose function is inlined into the layer's loop.
//!
//! An activation is a unit struct implementing [`Activation`] with an element function
//! [`f`](Activation::f) and its derivative [`df`](Activation::df). A layer names it in its type
//! (`Dense<784, 64, Relu>`), so the compiler monomorphizes `Relu::f` straight into the Dense
//! loop: no `dyn`, no function pointer, no `match` on an enum at run time.
//!
//! Softmax-like activations, which mix a whole vector, override the vector-level hooks
//! [`apply`](Activation::apply) and [`backprop`](Activation::backprop); element-wise ones get
//! them for free from `f` and `df`.
//!
//! Formulas and defaults are Keras 3's (`keras.activations.*`).
//!
//! # Writing your own
//! ```
//! use typed_nn::prelude::*;
//!
//! /// x·sigmoid(x), written by hand (the built-in is [`typed_nn::activation::Swish`]).
//! #[derive(Clone, Copy, Debug, Default)]
//! struct MySwish;
//! impl Activation for MySwish {
//!     fn f<T: Float>(x: T) -> T {
//!         x / (T::one() + (-x).exp())
//!     }
//!     fn df<T: Float>(x: T) -> T {
//!         let s = T::one() / (T::one() + (-x).exp());
//!         s * (T::one() + x * (T::one() - s))
//!     }
//! }
//! let layer: Dense<2, 1, MySwish> = Dense::new([[1.0], [1.0]], [0.0]);
//! let y: Vector<1> = layer.forward(&Vector::from([1.0, 1.0]));
//! assert!((y[0] - 2.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
//! ```

use num_traits::Float;

use crate::Scalar;
use crate::math::lit;
use crate::seal::Seal;

/// An activation function, as a zero-sized type.
///
/// Implement [`f`](Activation::f) and [`df`](Activation::df); the vector hooks have defaults
/// that apply them element by element. Both are generic over the float type, so the same
/// activation serves `f32` inference and `f64` gradient checks.
///
/// The derivative is taken with respect to the *pre-activation* `x` (the value that went into
/// `f`). Where a derivative is cheaper from the output (sigmoid, tanh), override
/// [`backprop`](Activation::backprop).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// assert_eq!(Relu::f(-2.0f32), 0.0);
/// assert_eq!(Relu::df(3.0f64), 1.0);
/// let mut v = [1.0f32, 2.0, 3.0];
/// Softmax::apply(&mut v);
/// assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// ```
pub trait Activation: Copy + Default + 'static {
    /// The Keras name (`"relu"`), shown in docs and summaries; `"custom"` unless overridden.
    const NAME: &'static str = "custom";

    /// `true` when [`apply`](Activation::apply) is `f` applied to each element. Softmax-like
    /// activations set it to `false`; element-wise gradient checks then skip them.
    const ELEMENTWISE: bool = true;

    /// **A promise**: `true` says the activation is element-wise and *monotonic
    /// non-decreasing* as computed, on every path ([`apply_with`](Activation::apply_with) with
    /// and without fused multiply-adds, for `f32` and `f64`):
    /// - for inputs `a < b` (neither NaN), `f(a) ≤ f(b)`, and when `f(a) = f(b)` the two
    ///   results are the same bits (so never `−0.0` for one and `+0.0` for the other);
    /// - `f(x)` is NaN exactly when `x` is NaN.
    ///
    /// Then a max pooling after the activation may run *before* it: `max(f(a), f(b)) =
    /// f(max(a, b))`, bit for bit, ties and NaNs included, and the activation runs once per
    /// pooling window instead of once per pixel (4× fewer `eˣ` for a 2×2 window). A batched
    /// [`Conv2D`](crate::layer::Conv2D) with such an activation followed by a
    /// [`MaxPool2D`](crate::layer::MaxPool2D) does this: the model's *type* says the rewrite is
    /// valid, so it is chosen when the model is compiled, and it is a rewrite a framework that
    /// builds its graph at run time cannot make without inspecting it (Keras, PyTorch and JAX
    /// apply the sigmoid to every pixel, then pool).
    ///
    /// `false` by default. The built-ins that set it are [`Identity`] and [`Sigmoid`], whose
    /// computed functions were checked (`Sigmoid` for every `f32`, on both paths; see the tests
    /// in `activation.rs`). Note that [`Relu`] does not qualify as written (`max(NaN, 0)` is 0,
    /// not NaN). A wrong `true` gives wrong pooled values, never undefined behaviour.
    const MONOTONIC: bool = false;

    /// The function, applied to one pre-activation value.
    fn f<T: Float>(x: T) -> T;

    /// Its derivative `f'(x)` with respect to the pre-activation `x`.
    fn df<T: Float>(x: T) -> T;

    /// Applies the activation in place to a whole vector of pre-activations.
    #[inline(always)]
    fn apply<T: Float>(v: &mut [T]) {
        for x in v {
            *x = Self::f(*x);
        }
    }

    /// [`apply`](Activation::apply) as the layers call it, for their float types (`f32`,
    /// `f64`). Built-ins whose `f` needs `eˣ` (sigmoid, swish, softmax, exponential) override
    /// it with a vectorised exponential, equal to `apply` within a few ulps: it overflows to
    /// infinity exactly where the platform's `exp` does, and it returns 0 where `eˣ` would be
    /// below 1.7·10⁻³⁸ (`x < −86.98`) for `f32`, or subnormal for `f64`. The sigmoid's `eˣ`
    /// is instead the one that is non-decreasing as rounded (see
    /// [`MONOTONIC`](Activation::MONOTONIC)): within 2·10⁻⁷ relative of the exact sigmoid, and
    /// it may reach infinity within an ulp of `x = 88.72` rather than at it. The default is
    /// `apply`, so your own activation needs nothing here.
    #[inline(always)]
    fn apply_fast<T: Scalar>(v: &mut [T]) {
        Self::apply(v);
    }

    /// [`apply_fast`](Activation::apply_fast), with fused multiply-adds in the built-ins' `eˣ`
    /// when `FMA` (for code compiled with the `fma` target feature: the AVX2 and AVX-512
    /// paths). The default is `apply_fast`; built-ins that override it define `apply_fast` as
    /// `apply_with::<T, false>`.
    #[doc(hidden)]
    #[inline(always)]
    fn apply_with<T: Scalar, const FMA: bool>(v: &mut [T]) {
        Self::apply_fast(v);
    }

    /// Back-propagates through the activation: `dz = J(z)ᵀ · dy`, given the pre-activations
    /// `z`, the outputs `y = apply(z)` and the upstream gradient `dy`.
    ///
    /// The default is element-wise: `dz[i] = dy[i] · df(z[i])`.
    #[inline(always)]
    fn backprop<T: Float>(z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        let _ = y;
        for ((dz, &z), &dy) in dz.iter_mut().zip(z).zip(dy) {
            *dz = dy * Self::df(z);
        }
    }

    /// Which loss fusion applies after this activation (see [`Fusion`]): [`Softmax`]'s and
    /// [`Sigmoid`]'s tags, `None` for every other activation, yours included. Sealed: a wrong
    /// tag would give wrong gradients, so only the library sets it (a `Seal` cannot be named
    /// outside the crate, so this cannot be overridden or called there).
    #[doc(hidden)]
    #[inline(always)]
    fn fusion(_: Seal) -> Fusion {
        Fusion::None
    }
}

/// A loss that knows the last activation can skip its Jacobian and differentiate the
/// activation's *input* directly: cross-entropy after softmax has gradient `p − y` with respect
/// to the logits, binary cross-entropy after sigmoid likewise. This tag says which case applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fusion {
    /// No fusion; losses differentiate the activation's output.
    None,
    /// The activation is [`Softmax`].
    Softmax,
    /// The activation is [`Sigmoid`].
    Sigmoid,
}

/// Logistic sigmoid, shared by several activations.
#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// `log(1 + eˣ)` without overflow: `max(x, 0) + log1p(e^{−|x|})`.
#[inline(always)]
fn softplus<T: Float>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// The identity, `f(x) = x`; `f'(x) = 1`.
///
/// **Keras equivalent:** `activation="linear"` (or `None`, the Dense default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity;
impl Activation for Identity {
    const NAME: &'static str = "linear";
    const MONOTONIC: bool = true;
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x
    }
    #[inline(always)]
    fn df<T: Float>(_x: T) -> T {
        T::one()
    }
    #[inline(always)]
    fn apply<T: Float>(_v: &mut [T]) {}
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], _y: &[T], dy: &[T], dz: &mut [T]) {
        dz.copy_from_slice_prefix(dy);
    }
}

/// Rectified linear unit, `f(x) = max(x, 0)`; `f'(x) = 1` for `x > 0`, else 0 (0 at the kink,
/// as Keras).
///
/// **Keras equivalent:** `activation="relu"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relu;
impl Activation for Relu {
    const NAME: &'static str = "relu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x.max(T::zero())
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x > T::zero() { T::one() } else { T::zero() }
    }
    /// From the output: `y > 0` exactly when `x > 0`.
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        for ((dz, &y), &dy) in dz.iter_mut().zip(y).zip(dy) {
            *dz = if y > T::zero() { dy } else { T::zero() };
        }
    }
}

/// ReLU capped at 6, `f(x) = min(max(x, 0), 6)`; `f'(x) = 1` for `0 < x < 6`, else 0.
///
/// **Keras equivalent:** `activation="relu6"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Relu6;
impl Activation for Relu6 {
    const NAME: &'static str = "relu6";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x.max(T::zero()).min(lit(6.0))
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x > T::zero() && x < lit(6.0) { T::one() } else { T::zero() }
    }
}

/// Leaky ReLU with slope 0.2, `f(x) = x` for `x ≥ 0`, else `0.2·x`; `f'(x) = 1` or `0.2`.
///
/// **Keras equivalent:** `activation="leaky_relu"` (`negative_slope=0.2`). The
/// `keras.layers.LeakyReLU` *layer* defaults to 0.3; for another slope, write a three-line
/// activation of your own (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LeakyRelu;
impl Activation for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        if x >= T::zero() { x } else { x * lit(0.2) }
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x >= T::zero() { T::one() } else { lit(0.2) }
    }
}

/// Exponential linear unit (α = 1), `f(x) = x` for `x > 0`, else `eˣ − 1`; `f'(x) = 1` or `eˣ`.
///
/// **Keras equivalent:** `activation="elu"` (`alpha=1.0`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Elu;
impl Activation for Elu {
    const NAME: &'static str = "elu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        if x > T::zero() { x } else { x.exp_m1() }
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x > T::zero() { T::one() } else { x.exp() }
    }
}

/// Scaled ELU, `f(x) = λ·x` for `x > 0`, else `λ·α·(eˣ − 1)`, with α = 1.6732632423543772,
/// λ = 1.0507009873554805; `f'(x) = λ` or `λ·α·eˣ`.
///
/// **Keras equivalent:** `activation="selu"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selu;
impl Selu {
    const ALPHA: f64 = 1.673_263_242_354_377_2;
    const SCALE: f64 = 1.050_700_987_355_480_5;
}
impl Activation for Selu {
    const NAME: &'static str = "selu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        let scale: T = lit(Self::SCALE);
        if x > T::zero() { scale * x } else { scale * lit::<T>(Self::ALPHA) * x.exp_m1() }
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let scale: T = lit(Self::SCALE);
        if x > T::zero() { scale } else { scale * lit::<T>(Self::ALPHA) * x.exp() }
    }
}

/// Gaussian error linear unit (exact form), `f(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2))`;
/// `f'(x) = Φ(x) + x·φ(x)` with `φ(x) = e^{−x²/2}/√(2π)`.
///
/// **Keras equivalent:** `activation="gelu"` (`approximate=False`). `erf` is evaluated in `f64`
/// (via `libm`) and rounded, so `f32` results are correctly rounded to within an ulp or two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Gelu;
impl Gelu {
    #[inline(always)]
    fn cdf<T: Float>(x: T) -> T {
        let x64 = x.to_f64().unwrap_or(f64::NAN);
        lit(0.5 * (1.0 + libm::erf(x64 * core::f64::consts::FRAC_1_SQRT_2)))
    }
}
impl Activation for Gelu {
    const NAME: &'static str = "gelu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x * Self::cdf(x)
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let pdf = (-(x * x) * lit(0.5)).exp()
            * lit(0.5 * core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2);
        Self::cdf(x) + x * pdf
    }
}

/// Logistic sigmoid, `f(x) = 1/(1 + e^{−x})`; `f'(x) = f(x)·(1 − f(x))`, computed from the
/// output in back-propagation.
///
/// **Keras equivalent:** `activation="sigmoid"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sigmoid;
impl Activation for Sigmoid {
    const NAME: &'static str = "sigmoid";
    /// Its `eˣ` is non-decreasing by construction (see `math/exp.rs`), and so is `1/(1 + e)`
    /// as rounded; checked for every `f32` on both paths: a max pooling after it runs first.
    const MONOTONIC: bool = true;
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        sigmoid(x)
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let s = sigmoid(x);
        s * (T::one() - s)
    }
    #[inline(always)]
    fn apply_fast<T: Scalar>(v: &mut [T]) {
        Self::apply_with::<T, false>(v);
    }
    /// `1/(1 + e⁻ˣ)` with an `eˣ` that is non-decreasing as computed (see
    /// [`MONOTONIC`](Activation::MONOTONIC)), so the sigmoid is too: within 2·10⁻⁷ relative
    /// of the exact sigmoid (tested against `f64` in `activation.rs`).
    #[inline(always)]
    fn apply_with<T: Scalar, const FMA: bool>(v: &mut [T]) {
        for x in v {
            *x = T::one() / (T::one() + (-*x).monotone_exp_with::<FMA>());
        }
    }
    /// From the output: `dz = dy·y·(1 − y)`, no exponential.
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        for ((dz, &y), &dy) in dz.iter_mut().zip(y).zip(dy) {
            *dz = dy * y * (T::one() - y);
        }
    }

    #[inline(always)]
    fn fusion(_: Seal) -> Fusion {
        Fusion::Sigmoid
    }
}

/// Piecewise-linear sigmoid, `f(x) = clip(x/6 + 0.5, 0, 1)`; `f'(x) = 1/6` for `−3 < x < 3`,
/// else 0.
///
/// **Keras equivalent:** `activation="hard_sigmoid"` (Keras 3's slope 1/6; Keras 2 used 0.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardSigmoid;
impl Activation for HardSigmoid {
    const NAME: &'static str = "hard_sigmoid";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        (x / lit(6.0) + lit(0.5)).max(T::zero()).min(T::one())
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x > lit(-3.0) && x < lit(3.0) { lit(1.0 / 6.0) } else { T::zero() }
    }
}

/// Hyperbolic tangent, `f(x) = tanh x`; `f'(x) = 1 − tanh² x`, computed from the output in
/// back-propagation.
///
/// **Keras equivalent:** `activation="tanh"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tanh;
impl Activation for Tanh {
    const NAME: &'static str = "tanh";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x.tanh()
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let t = x.tanh();
        T::one() - t * t
    }
    /// From the output: `dz = dy·(1 − y²)`.
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        for ((dz, &y), &dy) in dz.iter_mut().zip(y).zip(dy) {
            *dz = dy * (T::one() - y * y);
        }
    }
}

/// Softplus, `f(x) = log(1 + eˣ)` (computed without overflow); `f'(x) = sigmoid(x)`.
///
/// **Keras equivalent:** `activation="softplus"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softplus;
impl Activation for Softplus {
    const NAME: &'static str = "softplus";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        softplus(x)
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        sigmoid(x)
    }
}

/// Softsign, `f(x) = x/(1 + |x|)`; `f'(x) = 1/(1 + |x|)²`.
///
/// **Keras equivalent:** `activation="softsign"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softsign;
impl Activation for Softsign {
    const NAME: &'static str = "softsign";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + x.abs())
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let d = T::one() + x.abs();
        T::one() / (d * d)
    }
}

/// Swish (SiLU), `f(x) = x·sigmoid(x)`; `f'(x) = s·(1 + x·(1 − s))` with `s = sigmoid(x)`.
///
/// **Keras equivalent:** `activation="swish"` (= `"silu"`; no β parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[doc(alias = "SiLU")]
#[doc(alias = "Silu")]
pub struct Swish;
impl Activation for Swish {
    const NAME: &'static str = "silu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x * sigmoid(x)
    }
    #[inline(always)]
    fn apply_fast<T: Scalar>(v: &mut [T]) {
        Self::apply_with::<T, false>(v);
    }
    #[inline(always)]
    fn apply_with<T: Scalar, const FMA: bool>(v: &mut [T]) {
        for x in v {
            *x = *x / (T::one() + (-*x).fast_exp_with::<FMA>());
        }
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let s = sigmoid(x);
        s * (T::one() + x * (T::one() - s))
    }
}

/// Hard swish, `f(x) = x·clip(x/6 + 0.5, 0, 1)`; `f'(x) = 0` for `x ≤ −3`, 1 for `x ≥ 3`,
/// else `x/3 + 0.5` (at the kinks ±3 this is Keras' derivative, `hard_sigmoid(x)` there).
///
/// **Keras equivalent:** `activation="hard_silu"` (= `"hard_swish"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HardSwish;
impl Activation for HardSwish {
    const NAME: &'static str = "hard_silu";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x * HardSigmoid::f(x)
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        if x <= lit(-3.0) {
            T::zero()
        } else if x >= lit(3.0) {
            T::one()
        } else {
            x / lit(3.0) + lit(0.5)
        }
    }
}

/// Mish, `f(x) = x·tanh(softplus(x))`; `f'(x) = tanh(sp) + x·(1 − tanh²(sp))·sigmoid(x)` with
/// `sp = softplus(x)`.
///
/// **Keras equivalent:** `activation="mish"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Mish;
impl Activation for Mish {
    const NAME: &'static str = "mish";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x * softplus(x).tanh()
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        let t = softplus(x).tanh();
        t + x * (T::one() - t * t) * sigmoid(x)
    }
}

/// The exponential, `f(x) = eˣ`; `f'(x) = eˣ`.
///
/// **Keras equivalent:** `activation="exponential"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Exponential;
impl Activation for Exponential {
    const NAME: &'static str = "exponential";
    #[inline(always)]
    fn f<T: Float>(x: T) -> T {
        x.exp()
    }
    #[inline(always)]
    fn apply_fast<T: Scalar>(v: &mut [T]) {
        Self::apply_with::<T, false>(v);
    }
    #[inline(always)]
    fn apply_with<T: Scalar, const FMA: bool>(v: &mut [T]) {
        for x in v {
            *x = x.fast_exp_with::<FMA>();
        }
    }
    #[inline(always)]
    fn df<T: Float>(x: T) -> T {
        x.exp()
    }
}

/// Softmax over the whole vector, `yᵢ = e^{xᵢ − max x} / Σⱼ e^{xⱼ − max x}`: outputs are
/// positive and sum to 1, and logits of ±1e4 do not overflow (the max is subtracted first).
///
/// Back-propagation is the Jacobian-vector product `dzᵢ = yᵢ·(dyᵢ − Σⱼ yⱼ·dyⱼ)`; the
/// Jacobian is never formed. Combined with cross-entropy, the losses module skips even that
/// and uses `(p − y)` directly.
///
/// Not element-wise: `f` and `df` describe the one-element case (softmax of a single logit is
/// 1, with derivative 0) and are not used by layers.
///
/// **Keras equivalent:** `activation="softmax"` (last axis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softmax;
impl Activation for Softmax {
    const NAME: &'static str = "softmax";
    const ELEMENTWISE: bool = false;
    #[inline(always)]
    fn f<T: Float>(_x: T) -> T {
        T::one()
    }
    #[inline(always)]
    fn df<T: Float>(_x: T) -> T {
        T::zero()
    }
    #[inline(always)]
    fn apply<T: Float>(v: &mut [T]) {
        let max = v.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
        let mut sum = T::zero();
        for x in v.iter_mut() {
            *x = (*x - max).exp();
            sum = sum + *x;
        }
        let inv = T::one() / sum;
        for x in v.iter_mut() {
            *x = *x * inv;
        }
    }
    #[inline(always)]
    fn apply_fast<T: Scalar>(v: &mut [T]) {
        Self::apply_with::<T, false>(v);
    }
    /// The vectorised softmax: max, `eˣ⁻ᵐᵃˣ`, then the normalisation.
    #[inline(always)]
    fn apply_with<T: Scalar, const FMA: bool>(v: &mut [T]) {
        let max = v.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
        for x in v.iter_mut() {
            *x = (*x - max).fast_exp_with::<FMA>();
        }
        let inv = T::one() / v.iter().copied().sum::<T>();
        for x in v.iter_mut() {
            *x *= inv;
        }
    }
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        let dot = y.iter().zip(dy).fold(T::zero(), |acc, (&y, &dy)| acc + y * dy);
        for ((dz, &y), &dy) in dz.iter_mut().zip(y).zip(dy) {
            *dz = y * (dy - dot);
        }
    }

    #[inline(always)]
    fn fusion(_: Seal) -> Fusion {
        Fusion::Softmax
    }
}

/// Log-softmax, `yᵢ = xᵢ − max x − log Σⱼ e^{xⱼ − max x}` (stable for large logits).
///
/// Back-propagation: `dzᵢ = dyᵢ − e^{yᵢ}·Σⱼ dyⱼ`. Like [`Softmax`], not element-wise: `f`/`df`
/// describe the one-element case (0, derivative 0).
///
/// **Keras equivalent:** `activation="log_softmax"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogSoftmax;
impl Activation for LogSoftmax {
    const NAME: &'static str = "log_softmax";
    const ELEMENTWISE: bool = false;
    #[inline(always)]
    fn f<T: Float>(_x: T) -> T {
        T::zero()
    }
    #[inline(always)]
    fn df<T: Float>(_x: T) -> T {
        T::zero()
    }
    #[inline(always)]
    fn apply<T: Float>(v: &mut [T]) {
        let max = v.iter().fold(T::neg_infinity(), |m, &x| m.max(x));
        let log_sum = v.iter().fold(T::zero(), |acc, &x| acc + (x - max).exp()).ln();
        for x in v.iter_mut() {
            *x = *x - max - log_sum;
        }
    }
    #[inline(always)]
    fn backprop<T: Float>(_z: &[T], y: &[T], dy: &[T], dz: &mut [T]) {
        let sum = dy.iter().fold(T::zero(), |acc, &d| acc + d);
        for ((dz, &y), &dy) in dz.iter_mut().zip(y).zip(dy) {
            *dz = dy - y.exp() * sum;
        }
    }
}

/// The activation `A` over a batch of outputs, row by row (`len` values each; a softmax
/// normalises per row), on the widest vector unit the CPU has: one dispatch for the whole
/// batch. The activations are where 512-bit vectors pay off here: the `eˣ` polynomial is pure
/// arithmetic on data already in cache (2.5× the AVX2 throughput on the `Conv2D<1, 32, 3,
/// Sigmoid>` model of `benches/conv.rs`).
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn activate_rows<A: Activation, T: Scalar>(v: &mut [T], len: usize) {
    crate::kernel::simd::dispatch(ActivateRows::<A, T> { v, len, activation: core::marker::PhantomData });
}

/// [`activate_rows`] as a [`Vectorized`](crate::kernel::simd::Vectorized) computation.
#[cfg(feature = "alloc")]
struct ActivateRows<'a, A, T> {
    v: &'a mut [T],
    len: usize,
    activation: core::marker::PhantomData<A>,
}

#[cfg(feature = "alloc")]
impl<A: Activation, T: Scalar> crate::kernel::simd::Vectorized for ActivateRows<'_, A, T> {
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let apply = A::apply_with::<T, FMA>;
        if A::ELEMENTWISE {
            apply(self.v);
        } else {
            for row in self.v.chunks_mut(self.len.max(1)) {
                apply(row);
            }
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    /// The non-NaN `f32` values in increasing order, by key: 0 ↦ −∞, …, 0x7F80_0000 ↦ −0.0,
    /// 0x7F80_0001 ↦ +0.0, …, [`LAST_KEY`] ↦ +∞.
    fn ordered_f32(key: u32) -> f32 {
        if key <= 0x7F80_0000 { f32::from_bits(0xFF80_0000 - key) } else { f32::from_bits(key - 0x7F80_0001) }
    }
    const LAST_KEY: u32 = 0xFF00_0001;

    /// Checks [`Activation::MONOTONIC`]'s promise for `y = f(x)` on inputs `x` in increasing
    /// order: non-decreasing, equal results are equal bits, and no NaN. `prev` carries the last
    /// result of the previous chunk.
    fn assert_promise(xs: &[f32], ys: &[f32], prev: &mut Option<(f32, f32)>) {
        for (&x, &y) in xs.iter().zip(ys) {
            assert!(!y.is_nan(), "f({x:e}) is NaN");
            if let Some((px, py)) = *prev {
                assert!(py <= y, "f({px:e}) = {py:e} > f({x:e}) = {y:e}");
                assert!(
                    py != y || py.to_bits() == y.to_bits(),
                    "f({px:e}) = {py:e} and f({x:e}) = {y:e}: equal, other bits"
                );
            }
            *prev = Some((x, y));
        }
    }

    /// The promise `Sigmoid::MONOTONIC` makes, on the inputs `keys` (in increasing order), on
    /// the dispatched path (fused multiply-adds on AVX2/AVX-512) and the portable one.
    fn sigmoid_keeps_its_promise(keys: impl Iterator<Item = u32> + Clone) {
        for fused in [true, false] {
            let mut prev = None;
            let mut xs = std::vec::Vec::with_capacity(4096);
            let mut ys = std::vec::Vec::with_capacity(4096);
            let mut run = |xs: &mut std::vec::Vec<f32>, ys: &mut std::vec::Vec<f32>| {
                ys.clear();
                ys.extend_from_slice(xs);
                if fused {
                    activate_rows::<Sigmoid, f32>(ys, 1);
                } else {
                    Sigmoid::apply_with::<f32, false>(ys);
                }
                assert_promise(xs, ys, &mut prev);
                xs.clear();
            };
            for key in keys.clone() {
                xs.push(ordered_f32(key));
                if xs.len() == 4096 {
                    run(&mut xs, &mut ys);
                }
            }
            run(&mut xs, &mut ys);
        }
        // NaN in, NaN out.
        let mut nan = [f32::NAN, -f32::NAN];
        activate_rows::<Sigmoid, f32>(&mut nan, 1);
        assert!(nan.iter().all(|v| v.is_nan()));
    }

    /// Sampled in a debug build: every 4099th `f32`, and every `f32` within 3000 ulps of each
    /// point where the `exp` range reduction switches its power of two (`−x = (k + ½)·ln 2`)
    /// or its polynomial saturates, where a rounding step would show first.
    #[test]
    fn sigmoid_is_monotonic_on_a_sample_of_f32() {
        let strided = (0..LAST_KEY).step_by(4099).chain([LAST_KEY]);
        sigmoid_keeps_its_promise(strided);
        for k in -130i32..=130 {
            let x = -(k as f32 + 0.5) * core::f32::consts::LN_2;
            // The key of x, found by bisection over the ordered keys.
            let (mut lo, mut hi) = (0u32, LAST_KEY);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if ordered_f32(mid) < x { lo = mid + 1 } else { hi = mid }
            }
            sigmoid_keeps_its_promise(lo.saturating_sub(3000)..lo.saturating_add(3000).min(LAST_KEY));
        }
    }

    /// Every `f32`, on both paths: about a minute in a release build, so not part of
    /// `cargo test`. Run: `cargo test --release --lib -- --ignored sigmoid_is_monotonic_on_every_f32`.
    #[test]
    #[ignore = "exhaustive: run in release"]
    fn sigmoid_is_monotonic_on_every_f32() {
        sigmoid_keeps_its_promise(0..=LAST_KEY);
    }

    /// The built-in sigmoid (what the layers run) against the exact one in `f64`: within
    /// 2·10⁻⁷ relative over the range where it is not flushed to zero, on both paths; what
    /// Keras computes (TensorFlow's and JAX's `f32` sigmoid) is within an ulp or two of the
    /// same exact value.
    #[test]
    fn sigmoid_is_within_2e_7_of_the_exact_one() {
        let xs: std::vec::Vec<f32> = (0..=200_000).map(|i| -86.0 + 106.0 * i as f32 / 200_000.0).collect();
        let (mut fused, mut portable) = (xs.clone(), xs.clone());
        activate_rows::<Sigmoid, f32>(&mut fused, 1);
        Sigmoid::apply_with::<f32, false>(&mut portable);
        let mut worst = 0.0f64;
        for ((&x, &a), &b) in xs.iter().zip(&fused).zip(&portable) {
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            for y in [a, b] {
                worst = worst.max((f64::from(y) - exact).abs() / exact);
            }
        }
        std::println!("worst relative error of the sigmoid: {worst:e}");
        assert!(worst < 2e-7, "{worst:e}");
    }

    /// `f64`: a sample (every 2⁴⁴th bit pattern, and dense runs around the range-reduction switches).
    #[test]
    fn sigmoid_is_monotonic_on_a_sample_of_f64() {
        for fused in [true, false] {
            let mut xs: std::vec::Vec<f64> = std::vec::Vec::new();
            for k in -1100i32..=1100 {
                let x = -(f64::from(k) + 0.5) * core::f64::consts::LN_2;
                let bits = x.to_bits();
                xs.extend((bits.saturating_sub(500)..bits.saturating_add(500)).map(f64::from_bits));
            }
            xs.extend((0..(1u64 << 20)).map(|i| f64::from_bits(i << 44)).filter(|x| x.is_finite()));
            xs.extend((0..(1u64 << 20)).map(|i| -f64::from_bits(i << 44)).filter(|x| x.is_finite()));
            xs.sort_by(f64::total_cmp);
            let mut ys = xs.clone();
            if fused {
                activate_rows::<Sigmoid, f64>(&mut ys, 1);
            } else {
                Sigmoid::apply_with::<f64, false>(&mut ys);
            }
            for (w, x) in ys.windows(2).zip(xs.windows(2)) {
                assert!(w[0] <= w[1] && (w[0] != w[1] || w[0].to_bits() == w[1].to_bits()), "{x:?} ↦ {w:?}");
            }
        }
    }

    #[test]
    fn the_dispatched_and_portable_activations_agree() {
        let v: std::vec::Vec<f32> = (0..1000).map(|i| i as f32 * 0.02 - 10.0).collect();
        let (mut a, mut b) = (v.clone(), v);
        activate_rows::<Sigmoid, f32>(&mut a, 10);
        Sigmoid::apply_fast(&mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
        }
        // A softmax is normalised per row.
        let mut rows: std::vec::Vec<f32> = (0..20).map(|i| i as f32 * 0.1).collect();
        activate_rows::<Softmax, f32>(&mut rows, 10);
        for row in rows.chunks(10) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}

/// `copy_from_slice` that copies the common prefix instead of panicking on a length mismatch.
trait CopyPrefix<T> {
    fn copy_from_slice_prefix(&mut self, src: &[T]);
}
impl<T: Copy> CopyPrefix<T> for [T] {
    #[inline(always)]
    fn copy_from_slice_prefix(&mut self, src: &[T]) {
        for (d, s) in self.iter_mut().zip(src) {
            *d = *s;
        }
    }
}
