//! The parameter visitor: one way to reach every trainable number of a layer or model.
//!
//! Optimizers, initialisers, serialisation and the gradient checks all go through
//! [`Params`]. Because a gradient, an optimizer's moment estimates and the model itself are
//! values of *the same type*, zipping their parameter iterators lines up the right numbers
//! without any bookkeeping:
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<3, 2, Relu>, Dense<2, 1>);
//! let mut model: Mlp = Mlp::init(&mut SeedRng::seed(1));
//! let mut grad: Mlp = Mlp::default();
//! for g in grad.params_mut() {
//!     g.fill(0.5);
//! }
//! // One plain gradient-descent step, written with the visitor.
//! let before: Vec<f32> = model.params().flat_map(|p| p.to_vec()).collect();
//! for (w, g) in model.params_mut().zip(grad.params()) {
//!     for (w, g) in w.iter_mut().zip(g) {
//!         *w -= 0.1 * g;
//!     }
//! }
//! let after: Vec<f32> = model.params().flat_map(|p| p.to_vec()).collect();
//! assert!(before.iter().zip(&after).all(|(b, a)| (b - a - 0.05).abs() < 1e-6));
//! assert_eq!(Mlp::PARAMS, 3 * 2 + 2 + 2 * 1 + 1);
//! ```
//!
//! # Non-trainable state
//! Some layers keep numbers that are part of the model but are not trained by gradient
//! descent: `BatchNormalization`'s moving mean and variance (Keras' "non-trainable params").
//! They have a second visitor, [`state`](Params::state) / [`state_mut`](Params::state_mut),
//! counted by [`STATE`](Params::STATE), empty by default. Optimizers only zip
//! [`params`](Params::params), so they never touch the state; saving and loading (the byte
//! image, safetensors) and `summary()` include it.
//!
//! The state changes once per training step, after the optimizer step, by [`update_state`]
//! (the `Trainer` calls it): in a *gradient* value the state slots hold the update that the
//! batched backward pass computed (for batch normalization, `(1 − momentum)·(batch statistic −
//! moving statistic)`), and `update_state` adds them to the model's state. A gradient cleared
//! with [`zero_params`](Params::zero_params) holds no update, so calling it then changes
//! nothing.

use core::fmt;

use rand_core::Rng;

use crate::Scalar;
use crate::seal::Seal;

/// The trainable parameters of a layer or model, in a fixed order.
///
/// For a `Dense` the order is Keras' (`kernel`, then `bias`); a tuple lists its layers' in
/// layer order. Parameterless layers (pooling, `Flatten`) implement it with the defaults.
///
/// The counts are compile-time constants: `<(Dense<784, 64>, Dense<64, 10>)>::PARAMS` is
/// `50_890`, known before the program runs.
///
/// # Implementing it for your own layer
/// A layer without parameters needs one line: `impl<T: Scalar> Params<T> for MyLayer {}`.
/// A layer with parameters returns them from [`params`](Params::params) and
/// [`params_mut`](Params::params_mut) in the same order, and sets [`PARAMS`](Params::PARAMS)
/// to the total length of those slices.
///
/// `PARAMS` is a constant so that a model's size is known at compile time, but for your own
/// layer it is a second statement of what `params()` yields, and stable Rust cannot compare
/// the two at compile time (a trait method cannot run in a `const`). So every path that relies
/// on it checks it first: `summary()` prints the mismatch instead of the totals, and the byte
/// image and safetensors functions return an error naming your layer
/// ([`ParamCountError`]). [`check_count`] runs the same check in your own tests.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no parameters of float type `{T}`",
    label = "float types differ, or this is not a layer",
    note = "every layer of a model and the model's input use the same float type: `f32` by default, or write `f64` as every layer's last parameter (`Dense<4, 2, Softmax, f64>`)",
    note = "a layer of your own implements `Params<T>` (an empty `impl<T: Scalar> Params<T> for MyLayer` if it has no parameters)"
)]
pub trait Params<T: Scalar> {
    /// Number of trainable scalars.
    const PARAMS: usize = 0;

    /// Number of non-trainable scalars (see the [module docs](self#non-trainable-state)):
    /// the total length of the slices [`state`](Params::state) yields. 0 unless the layer has
    /// state (`BatchNormalization`: its moving mean and variance, `2·C`).
    const STATE: usize = 0;

    /// Bytes of all parameters, trainable and not: `(PARAMS + STATE) · size_of::<T>()`, the
    /// length of the model's [byte image](crate::io::bytes) and its memory for weights.
    const PARAM_BYTES: usize = (Self::PARAMS + Self::STATE) * T::BYTES;

    /// Each parameter tensor as a flat slice, in order.
    fn params(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }

    /// Each parameter tensor as a flat mutable slice, in the same order as
    /// [`params`](Params::params).
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }

    /// Each non-trainable state tensor as a flat slice, in order (see the [module
    /// docs](self#non-trainable-state)); none by default. Optimizers never see these.
    fn state(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }

    /// Each non-trainable state tensor as a flat mutable slice, in the same order as
    /// [`state`](Params::state).
    fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }

    /// Re-initialises the parameters (and state) in place with Keras' defaults for this layer
    /// (for `Dense` and `Conv2D`: Glorot-uniform kernels, zero biases).
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let _ = rng;
    }

    /// A new value with Keras' default initialisation.
    ///
    /// # Examples
    /// ```
    /// use typed_nn::prelude::*;
    /// type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
    /// let model: Mlp = Mlp::init(&mut SeedRng::seed(42));
    /// let limit = (6.0f32 / (784.0 + 64.0)).sqrt();
    /// assert!(model.0.kernel.as_flattened().iter().all(|w| w.abs() <= limit));
    /// assert!(model.0.bias.iter().all(|&b| b == 0.0));
    /// ```
    ///
    /// # Allocation
    /// None, but the value is built on the stack; for models of many megabytes use
    /// [`NewBoxed::init_boxed`](crate::NewBoxed::init_boxed).
    fn init<R: Rng + ?Sized>(rng: &mut R) -> Self
    where
        Self: Sized + Default,
    {
        let mut value = Self::default();
        value.init_params(rng);
        value
    }

    /// Sets every parameter to zero, and the state too (used to clear accumulated gradients,
    /// whose state slots hold state updates).
    fn zero_params(&mut self) {
        for p in self.params_mut() {
            p.fill(T::zero());
        }
        for s in self.state_mut() {
            s.fill(T::zero());
        }
    }

    /// Describes the parameter tensors, in [`params`](Params::params) order, for serialisation
    /// (safetensors names and shapes), and advances `walk` past this layer.
    ///
    /// The default describes no tensors and counts one layer. Built-in layers describe theirs;
    /// a custom layer with parameters that keeps the default cannot be saved or loaded by name
    /// (the loaders say so) but works everywhere else.
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let _ = visit;
        walk.end_layer(walk.channels());
    }

    /// Describes the state tensors, in [`state`](Params::state) order, like
    /// [`describe_params`](Params::describe_params) does the parameters, and advances `walk`
    /// past this layer exactly as `describe_params` does. The default describes none (it runs
    /// `describe_params` with a visitor that ignores what it is shown).
    fn describe_state(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let _ = visit;
        Self::describe_params(walk, &mut |_| {});
    }

    /// `Ok` if [`PARAMS`](Params::PARAMS) is the number of values [`params`](Params::params)
    /// yields, and [`STATE`](Params::STATE) that of [`state`](Params::state); a tuple checks
    /// each of its layers and reports the first that disagrees. Called through
    /// [`check_count`].
    #[doc(hidden)]
    fn check_param_count(&self, _: Seal) -> Result<(), ParamCountError> {
        let layer = core::any::type_name::<Self>();
        let found = self.params().map(<[T]>::len).sum();
        if found != Self::PARAMS {
            return Err(ParamCountError { layer, constant: "PARAMS", declared: Self::PARAMS, found });
        }
        let found = self.state().map(<[T]>::len).sum();
        if found != Self::STATE {
            return Err(ParamCountError { layer, constant: "STATE", declared: Self::STATE, found });
        }
        Ok(())
    }

    /// Every tensor, trainable or not, layer by layer (each layer's parameters, then its
    /// state): the order of the byte image. A tuple visits its layers in turn.
    #[doc(hidden)]
    fn visit_tensors(&self, _: Seal, visit: &mut impl FnMut(&[T])) {
        for p in self.params() {
            visit(p);
        }
        for s in self.state() {
            visit(s);
        }
    }

    /// Mutable twin of [`visit_tensors`](Params::visit_tensors), in the same order.
    #[doc(hidden)]
    fn visit_tensors_mut(&mut self, _: Seal, visit: &mut impl FnMut(&mut [T])) {
        for p in self.params_mut() {
            visit(p);
        }
        for s in self.state_mut() {
            visit(s);
        }
    }

    /// The byte image's values in runs, in [`visit_tensors`](Params::visit_tensors) order:
    /// `visit(len, non_negative)` for each run, `non_negative` when the loaders must refuse a
    /// negative value there (a variance). The default is one unconstrained run.
    #[doc(hidden)]
    fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
        visit(Self::PARAMS + Self::STATE, false);
    }

    /// Applies the state update a training step left in `grad` (see [`update_state`]). The
    /// default adds `grad`'s state to this value's; a tuple updates each of its layers.
    #[doc(hidden)]
    fn update_state(&mut self, _: Seal, grad: &Self)
    where
        Self: Sized,
    {
        for (s, g) in self.state_mut().zip(grad.state()) {
            for (s, &g) in s.iter_mut().zip(g) {
                *s += g;
            }
        }
    }
}

/// Applies, once, the state update that a batched training step left in `grad`: for
/// `BatchNormalization`, the moving averages `moving ← moving·momentum + batch·(1 − momentum)`
/// of the batch statistics the step normalised with; for `Dropout`, a new set of masks for the
/// next step. Models without such layers are unchanged.
///
/// The `Trainer` calls it after every optimizer step. Call it yourself in a training loop of
/// your own, after each step, with the gradient of that step (before clearing it).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::BatchNormalization;
/// use typed_nn::params::update_state;
///
/// type Net = (Dense<2, 3>, BatchNormalization<3>, Dense<3, 1>);
/// let mut model: Net = Net::init(&mut SeedRng::seed(0));
/// let xs = [Vector::from([1.0, 2.0]), Vector::from([-1.0, 0.5]), Vector::from([0.0, -2.0])];
/// let ys = [Vector::from([1.0]), Vector::from([0.0]), Vector::from([0.5])];
/// let mut grad = Net::default();
/// value_and_grad_batch(&model, &xs, &ys, &MeanSquaredError, &mut grad, &mut Workspace::new())?;
/// Sgd::new(0.1).step(&mut model, &grad);
/// update_state(&mut model, &grad);
/// // The moving mean moved 1% of the way from 0 toward the batch mean of the first layer's outputs.
/// assert!(model.1.moving_mean.iter().any(|&m| m != 0.0));
/// # Ok::<(), BatchError>(())
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None.
pub fn update_state<T: Scalar, M: Params<T>>(model: &mut M, grad: &M) {
    model.update_state(Seal, grad);
}

/// `into`'s state times `weight`: the threaded training step averages its shards' state
/// updates, weighted by their sizes.
#[cfg(feature = "threads")]
pub(crate) fn scale_state<T: Scalar, M: Params<T>>(into: &mut M, weight: T) {
    for s in into.state_mut() {
        for s in s.iter_mut() {
            *s *= weight;
        }
    }
}

/// Adds `weight ×` `from`'s state to `into`'s (see [`scale_state`]).
#[cfg(feature = "threads")]
pub(crate) fn add_state<T: Scalar, M: Params<T>>(into: &mut M, from: &M, weight: T) {
    for (s, f) in into.state_mut().zip(from.state()) {
        for (s, &f) in s.iter_mut().zip(f) {
            *s += weight * f;
        }
    }
}

/// Checks that every layer of `model` yields as many parameters from
/// [`params`](Params::params) as its [`PARAMS`](Params::PARAMS) says. Always `Ok` for the
/// built-in layers; for your own, call it in a test (the library calls it before every use of
/// `PARAMS` that a wrong value would silently corrupt: `summary()`, byte images, safetensors).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::params::{ParamCountError, check_count};
///
/// /// Declares 2 parameters but has 3.
/// #[derive(Default)]
/// struct Miscounted([f32; 3]);
/// impl Params<f32> for Miscounted {
///     const PARAMS: usize = 2;
///     fn params(&self) -> impl Iterator<Item = &[f32]> { core::iter::once(&self.0[..]) }
///     fn params_mut(&mut self) -> impl Iterator<Item = &mut [f32]> { core::iter::once(&mut self.0[..]) }
/// }
///
/// let model = (Dense::<4, 2>::default(), Miscounted::default());
/// let err: ParamCountError = check_count(&model).unwrap_err();
/// assert_eq!((err.declared, err.found), (2, 3));
/// assert!(err.layer.ends_with("Miscounted"));
/// assert!(check_count(&Dense::<4, 2>::default()).is_ok());
/// ```
///
/// # Errors
/// [`ParamCountError`] for the first layer whose count is wrong.
///
/// # Allocation
/// None; it walks the parameter slices once.
pub fn check_count<T: Scalar, M: Params<T> + ?Sized>(model: &M) -> Result<(), ParamCountError> {
    model.check_param_count(Seal)
}

/// A layer whose [`Params::PARAMS`] is not the number of values its
/// [`params`](Params::params) yields, or whose [`Params::STATE`] is not that of its
/// [`state`](Params::state) (see [`check_count`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamCountError {
    /// The layer's Rust type, as `core::any::type_name` spells it.
    pub layer: &'static str,
    /// Which count is wrong: `"PARAMS"` or `"STATE"`.
    pub constant: &'static str,
    /// Its `PARAMS` (or `STATE`).
    pub declared: usize,
    /// The values its `params()` (or `state()`) yields.
    pub found: usize,
}

impl fmt::Display for ParamCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (constant, visitor) = if self.constant == "STATE" { ("STATE", "state") } else { ("PARAMS", "params") };
        write!(
            f,
            "`{}` declares {constant} = {} but its {visitor}() yields {} values; set {constant} to the total length of the slices {visitor}() returns",
            self.layer, self.declared, self.found
        )
    }
}

impl core::error::Error for ParamCountError {}

/// One parameter tensor, as [`Params::describe_params`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Index of the layer in the model, counting parameterless layers (Keras' `model.layers`
    /// numbering).
    pub layer: usize,
    /// The tensor's Keras name: `"kernel"`, `"bias"`, `"gamma"`, `"beta"`, `"moving_mean"`,
    /// `"moving_variance"` (a `DepthwiseConv2D`'s kernel is `"kernel"` too).
    pub name: &'static str,
    /// Its shape and layout.
    pub shape: ParamShape,
}

/// The shape of a parameter tensor, in Keras' layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamShape {
    /// A `Dense` kernel `(in, out)`.
    DenseKernel {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
        /// Whether the input is a flattened image, and its channels (PyTorch orders those
        /// inputs channel-first).
        flattened: Flattened,
    },
    /// A `Conv2D` kernel `(kh, kw, in, out)`.
    ConvKernel {
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
        /// Input channels.
        inputs: usize,
        /// Filters.
        outputs: usize,
    },
    /// A `DepthwiseConv2D` kernel `(kh, kw, channels, multiplier)`: filter `m` of channel `c`
    /// makes output channel `c·multiplier + m`.
    DepthwiseKernel {
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
        /// Input channels.
        channels: usize,
        /// Depth multiplier: filters per input channel.
        multiplier: usize,
    },
    /// A vector (a bias).
    Vector(usize),
}

impl ParamShape {
    /// Number of values.
    pub const fn len(&self) -> usize {
        match *self {
            ParamShape::DenseKernel { inputs, outputs, .. } => inputs * outputs,
            ParamShape::ConvKernel { kh, kw, inputs, outputs } => kh * kw * inputs * outputs,
            ParamShape::DepthwiseKernel { kh, kw, channels, multiplier } => kh * kw * channels * multiplier,
            ParamShape::Vector(n) => n,
        }
    }

    /// Whether it holds no values.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a `Dense` layer's input is, as its [`ParamShape::DenseKernel`] reports it: the
/// safetensors loader needs it to reorder a PyTorch `Linear`'s columns after a `Flatten`
/// (PyTorch flattens channel-first). Public because `ParamShape` is; a custom layer that
/// describes a 2-D kernel of its own passes [`Flattened::No`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flattened {
    /// A plain vector.
    #[default]
    No,
    /// A `Flatten` of an image with this many channels.
    Channels(usize),
    /// A `Flatten` of an image whose channels the model's layers do not reveal (the model
    /// starts with `Flatten`).
    UnknownChannels,
}

/// The cursor [`Params::describe_params`] moves through a model: the index of the current
/// layer and what is known about the tensor flowing into it (its channels, and whether it is
/// a flattened image, so that a `Dense` after a `Flatten` can report the image's channel
/// count). Public because it is that method's argument: a custom layer names its tensors
/// with [`layer`](ParamWalk::layer) and then calls [`end_layer`](ParamWalk::end_layer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParamWalk {
    layer: usize,
    channels: Option<usize>,
    flattened: Flattened,
}

impl ParamWalk {
    /// Index of the current layer in the model, counting parameterless layers (Keras'
    /// `model.layers` numbering): the `k` of the tensor names `{k}.kernel`.
    pub const fn layer(&self) -> usize {
        self.layer
    }

    /// Channels of the tensor entering the current layer, if it is an image and they are known.
    pub const fn channels(&self) -> Option<usize> {
        self.channels
    }

    /// Whether the tensor entering the current layer is a flattened image.
    pub(crate) const fn flattened(&self) -> Flattened {
        self.flattened
    }

    /// Moves past the current layer, whose output is an image with `channels` channels
    /// (`None`: not an image, or unknown; a layer that keeps its input's shape passes
    /// [`channels()`](ParamWalk::channels)).
    pub fn end_layer(&mut self, channels: Option<usize>) {
        self.layer += 1;
        self.channels = channels;
        self.flattened = Flattened::No;
    }

    /// The same position in the model, counting layers from 0 again: a residual block walks
    /// each of its branches this way, then numbers their layers in Keras' order.
    pub(crate) const fn restart(&self) -> Self {
        Self { layer: 0, ..*self }
    }

    /// Moves past `layers` layers whose last output has `channels` channels.
    pub(crate) fn skip(&mut self, layers: usize, channels: Option<usize>) {
        self.layer += layers;
        self.channels = channels;
        self.flattened = Flattened::No;
    }

    /// Moves past a `Flatten`: the image's channels become the flat tensor's.
    pub(crate) fn end_flatten(&mut self) {
        self.layer += 1;
        self.flattened = match self.channels {
            Some(c) => Flattened::Channels(c),
            None => Flattened::UnknownChannels,
        };
        self.channels = None;
    }
}
