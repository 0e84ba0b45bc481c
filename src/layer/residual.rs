//! [`Residual`]: a residual block, `F(x) + S(x)`, whose two branches must produce the same
//! tensor type; [`Skip`], the identity shortcut.
//!
//! # A block is a type, and its branches are checked to agree
//! `Residual<F, S>` holds two layers (or models) that both take the block's input `x`: the
//! *branch* `F` and the *shortcut* `S`, and adds what they produce. `S` is [`Skip`] for the
//! plain shortcut `x + F(x)`, or a layer such as ResNet's projection, a 1×1 `Conv2D` with
//! stride 2, when `F` changes the shape. Both sums are only defined when the two outputs are
//! the same tensor type, so that is the block's shape rule: `Residual<F, S>` is a
//! [`Layer<X>`] only when `F`'s output on `X` and `S`'s output on `X` are one type, and
//! otherwise the compiler names both (`tests/ui/residual_branches_must_agree.rs`).
//! ResNet's `relu(x + F(x))` is the block followed by an activation layer, as Keras writes it:
//! `(Residual<F>, ActivationLayer<Relu>)`.
//!
//! ```
//! use typed_nn::prelude::*;
//! use typed_nn::layer::{ActivationLayer, BatchNormalization, Residual, Skip};
//! // ResNet-8's second stack: the branch halves the image and doubles the channels, so the
//! // shortcut is a 1×1 convolution with the same stride and filters.
//! type Branch = (
//!     Conv2D<16, 32, 3, Identity, 2, Same>, BatchNormalization<32>, ActivationLayer<Relu>,
//!     Conv2D<32, 32, 3, Identity, 1, Same>, BatchNormalization<32>,
//! );
//! type Stack2 = (Residual<Branch, Conv2D<16, 32, 1, Identity, 2, Same>>, ActivationLayer<Relu>);
//! let block: Box<Stack2> = Box::new(Stack2::init(&mut SeedRng::seed(0)));
//! let y: Image<16, 16, 32> = block.forward(&Image::<32, 32, 16>::default());
//! # let _ = y;
//! ```
//!
//! # Forward and backward
//! Forward: `y = F(x) + S(x)`. Backward: the gradient of a sum reaches both terms unchanged,
//! so `dy` is back-propagated through `F` and through `S`, each filling its own part of the
//! gradient, and the two input gradients are added: `dx = ∂F/∂x·dy + ∂S/∂x·dy` (`dy` itself
//! for [`Skip`]).
//!
//! # Parameters, names and `summary()`: Keras' functional numbering
//! [`Params`] lists the branch's tensors, then the shortcut's. Names follow Keras: a residual
//! block is written there with the functional API and an `Add` layer, and the export helper
//! numbers `{k}` by the layer's position in the functional model's `model.layers` (without
//! the `InputLayer`). Keras orders those layers by their depth in the graph (the longest path
//! to the output), the deepest first; layers of equal depth in the order Keras reached them
//! going back from the output, which for `add([shortcut, branch])` is the shortcut's first.
//! For a block whose branch and shortcut are chains of `f` and `s` layers (any nesting of
//! tuples), that order is:
//!
//! - the branch's layer `i` (from 0) has depth `f − i`, the shortcut's layer `j` has depth
//!   `s − j`, counted from the `Add`;
//! - the layers are numbered by decreasing depth, the shortcut's first on a tie;
//! - then the `Add` takes the next number, and the layers after the block continue from there.
//!
//! For ResNet-8's projection block (a branch `Conv2D → BN → Activation → Conv2D → BN` and a 1×1
//! `Conv2D` shortcut) that is the branch's first four layers, the shortcut, the branch's last
//! `BatchNormalization`, then the `Add`: exactly what Keras prints for a model built as
//! `add([Conv2D(f, 1, strides=2)(x), y])`. A model that adds `[branch, shortcut]` instead has
//! the two tied layers the other way round; [`Skip`] takes no number at all (Keras has no
//! layer there). A residual block inside a branch is numbered as if its layers were a chain,
//! which is Keras' order only when it is not tied with the other branch.
//!
//! `summary()` prints the rows in the same order, so row `k` is tensor `{k}`, followed by the
//! `Add`'s row, and names the model `"functional"` as Keras does. It has no "Connected to"
//! column: in a typed model the wiring is the type (`Residual<F, S>` says what feeds the
//! `Add`), and the three columns stay those of a sequential model.

use rand_core::Rng;

use crate::layer::Seal;
use crate::params::{ParamCountError, ParamSpec, ParamWalk};
use crate::summary::{InputShape, SummaryRow};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// A residual block: `y = F(x) + S(x)`, with the branch `F` and the shortcut `S` (by default
/// [`Skip`], `S(x) = x`). See the [module docs](self) for the shape rule, the gradient and the
/// Keras layer numbering.
///
/// **Keras equivalent:** `keras.layers.Add()([S(x), F(x)])` in a functional model (add
/// `keras.layers.Activation("relu")` after it for ResNet's `relu(x + F(x))`). `summary()` shows
/// the `Add` after the layers of both branches.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::{Residual, Skip};
/// // x + F(x) with F(x) = 2x + 1.
/// let block: Residual<Dense<1, 1>> = Residual::new(Dense::new([[2.0]], [1.0]), Skip);
/// let y: Vector<1> = block.forward(&Vector::from([3.0]));
/// assert_eq!(y[0], 3.0 + 7.0);
/// // d(x + 2x + 1)/dx = 3.
/// let (_, cache) = block.forward_train(&Vector::from([3.0]));
/// let (mut grad, mut dx) = (Residual::default(), Vector::default());
/// block.backward(&Vector::from([3.0]), &cache, &Vector::from([1.0]), &mut grad, Some(&mut dx));
/// assert_eq!(dx[0], 3.0);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None: the two branches inline. A single-sample `forward` holds both branches' outputs.
///
/// Generic parameters:
/// - `F`: the branch, a layer or a model (a tuple);
/// - `S`: the shortcut, [`Skip`] (the default) or a layer or model.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[doc(alias = "Add")]
pub struct Residual<F, S = Skip> {
    /// The branch `F`.
    pub branch: F,
    /// The shortcut `S`.
    pub shortcut: S,
}

impl<F, S> Residual<F, S> {
    /// The block with the given branch and shortcut; `const`, for a `static`.
    pub const fn new(branch: F, shortcut: S) -> Self {
        Self { branch, shortcut }
    }
}

/// The identity shortcut of a [`Residual`]: `S(x) = x`. As a layer it is the identity; it takes
/// no number in the layer numbering and shows no row in `summary()`, because Keras has no
/// layer there (the `Add` reads `x` itself).
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::Skip;
/// assert_eq!(Skip.forward(&Vector::from([1.0, 2.0])), Vector::from([1.0, 2.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Skip;

impl Skip {
    /// For [`model_from_le_bytes!`](crate::model_from_le_bytes): `Skip`, whatever the bytes.
    pub const fn from_le_bytes_at(_bytes: &[u8], _offset: usize) -> Self {
        Self
    }
}

impl crate::io::bytes::ConstLoad for Skip {
    const BYTES: usize = 0;
}

impl<F: crate::io::bytes::ConstLoad, S: crate::io::bytes::ConstLoad> crate::io::bytes::ConstLoad for Residual<F, S> {
    const BYTES: usize = F::BYTES + S::BYTES;
}

impl<I: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<I> for Skip {
    const DECODED: Self = Self;
}

/// The branch's parameters, then the shortcut's: the [`Params`] order of the byte image.
impl<I, F, S> crate::io::bytes::FromImage<I> for Residual<F, S>
where
    I: crate::io::bytes::ImageAt,
    F: crate::io::bytes::FromImage<I>,
    S: crate::io::bytes::FromImage<crate::io::bytes::After<I, F>>,
{
    const DECODED: Self = Self::new(F::DECODED, S::DECODED);
}

/// No parameters, and no place in the layer numbering.
impl<T: Scalar> Params<T> for Skip {
    fn describe_params(_walk: &mut ParamWalk, _visit: &mut impl FnMut(&ParamSpec)) {}
}

impl<X: Tensor> Layer<X> for Skip {
    type Out = X;
    const NAME: &'static str = "Skip";
    const ACTIVATION_BYTES: usize = 0;
    /// `forward` returns a copy of its input.
    const PEAK_ACTIVATION_BYTES: usize = X::LEN * <X::Elem as crate::Scalar>::BYTES;

    #[inline]
    fn forward(&self, x: &X) -> X {
        x.clone()
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X) {
        out.as_mut_slice().copy_from_slice(x.as_slice());
    }

    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], _scratch: &mut [X::Elem]) {
        let len = n.saturating_mul(X::LEN);
        if let (Some(xs), Some(ys)) = (xs.get(..len), ys.get_mut(..len)) {
            ys.copy_from_slice(xs);
        }
    }

    /// No row: Keras has no layer here.
    fn summary_rows(_: Seal, _visit: &mut impl FnMut(SummaryRow)) {}
}

impl<X: Tensor> Backward<X> for Skip {
    type Cache = ();

    #[inline]
    fn forward_train(&self, x: &X) -> (X, ()) {
        (x.clone(), ())
    }

    fn backward(&self, _x: &X, _cache: &(), dy: &X, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            dx.as_mut_slice().copy_from_slice(dy.as_slice());
        }
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        _cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        <Self as Layer<X>>::forward_batch_flat(self, Seal, n, xs, ys, scratch);
    }

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        _xs: &[X::Elem],
        _ys: &[X::Elem],
        _cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let len = n.saturating_mul(X::LEN);
        if let (Some(dxs), Some(dys)) = (dxs.and_then(|d| d.get_mut(..len)), dys.get(..len)) {
            dxs.copy_from_slice(dys);
        }
    }
}

/// The shape rule of a residual block: the branch's output (`Self`) and the shortcut's
/// (`Other`) are the same tensor type, so they can be added.
#[diagnostic::on_unimplemented(
    message = "the two branches of a residual block must produce the same tensor, but the branch produces `{Self}` and the shortcut `{Other}`",
    label = "the branch's and the shortcut's outputs differ",
    note = "`Residual<F, S>` adds `F(x)` and `S(x)`; when the branch changes the shape, give the block a projection shortcut with the branch's stride and filters (ResNet: `Conv2D<C, F, 1, Identity, 2, Same>`)"
)]
pub trait BranchesAgree<Other> {
    /// `other`, seen as `Self` (they are one type).
    fn from_other(other: &Other) -> &Self;
    /// `self`, seen as `Other`.
    fn as_other(&self) -> &Other;
}

#[diagnostic::do_not_recommend]
impl<Y: Tensor> BranchesAgree<Y> for Y {
    #[inline(always)]
    fn from_other(other: &Y) -> &Y {
        other
    }
    #[inline(always)]
    fn as_other(&self) -> &Y {
        self
    }
}

/// `y += s`, element by element.
#[inline]
fn add_into<T: Scalar>(y: &mut [T], s: &[T]) {
    for (y, &s) in y.iter_mut().zip(s) {
        *y += s;
    }
}

/// The Keras numbering of a block whose branch has `f` layers and whose shortcut has `s` (see
/// the [module docs](self)): the position of the branch's layer `i` and of the shortcut's layer
/// `j` among the block's `f + s` layers.
#[derive(Clone, Copy)]
struct Numbering {
    f: usize,
    s: usize,
}

impl Numbering {
    /// Shortcut layers at least as deep as the branch's layer `i` (depth `f − i`) come first.
    fn branch(self, i: usize) -> usize {
        i + (self.s + i + 1).saturating_sub(self.f).min(self.s)
    }

    /// Branch layers strictly deeper than the shortcut's layer `j` (depth `s − j`) come first.
    fn shortcut(self, j: usize) -> usize {
        j + (self.f + j).saturating_sub(self.s).min(self.f)
    }

    /// The block's layers in Keras' order: `(true, j)` for the shortcut's, `(false, i)` for
    /// the branch's.
    fn order(self) -> impl Iterator<Item = (bool, usize)> {
        (1..=self.f.max(self.s)).rev().flat_map(move |depth| {
            let s = (depth <= self.s).then(|| (true, self.s - depth));
            let f = (depth <= self.f).then(|| (false, self.f - depth));
            s.into_iter().chain(f)
        })
    }
}

impl<F, S> Residual<F, S> {
    /// The layers of the branch and of the shortcut, as the parameter walk counts them.
    fn numbering<T: Scalar>(walk: &ParamWalk) -> Numbering
    where
        F: Params<T>,
        S: Params<T>,
    {
        let (mut wf, mut ws) = (walk.restart(), walk.restart());
        F::describe_params(&mut wf, &mut |_| {});
        S::describe_params(&mut ws, &mut |_| {});
        Numbering { f: wf.layer(), s: ws.layer() }
    }

    /// `describe_params` (or, with `state`, `describe_state`) of the block: each part's tensors
    /// in `Params` order, renumbered to Keras' order, then the `Add`.
    fn describe<T: Scalar>(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec), state: bool)
    where
        F: Params<T>,
        S: Params<T>,
    {
        let base = walk.layer();
        let numbering = Self::numbering::<T>(walk);
        let mut wf = walk.restart();
        let mut on_f = |spec: &ParamSpec| visit(&ParamSpec { layer: base + numbering.branch(spec.layer), ..*spec });
        if state {
            F::describe_state(&mut wf, &mut on_f);
        } else {
            F::describe_params(&mut wf, &mut on_f);
        }
        let mut ws = walk.restart();
        let mut on_s = |spec: &ParamSpec| visit(&ParamSpec { layer: base + numbering.shortcut(spec.layer), ..*spec });
        if state {
            S::describe_state(&mut ws, &mut on_s);
        } else {
            S::describe_params(&mut ws, &mut on_s);
        }
        // The branch's output is the block's; the `Add` takes one more number.
        walk.skip(numbering.f + numbering.s + 1, wf.channels());
    }
}

impl<T: Scalar, F: Params<T>, S: Params<T>> Params<T> for Residual<F, S> {
    const PARAMS: usize = F::PARAMS + S::PARAMS;
    const STATE: usize = F::STATE + S::STATE;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        self.branch.params().chain(self.shortcut.params())
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.branch.params_mut().chain(self.shortcut.params_mut())
    }

    fn state(&self) -> impl Iterator<Item = &[T]> {
        self.branch.state().chain(self.shortcut.state())
    }

    fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.branch.state_mut().chain(self.shortcut.state_mut())
    }

    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.branch.init_params(rng);
        self.shortcut.init_params(rng);
    }

    /// In `Params` order, with Keras' functional numbering (see the [module docs](self)).
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        Self::describe::<T>(walk, visit, false);
    }

    fn describe_state(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        Self::describe::<T>(walk, visit, true);
    }

    fn check_param_count(&self, _: Seal) -> Result<(), ParamCountError> {
        self.branch.check_param_count(Seal)?;
        self.shortcut.check_param_count(Seal)
    }

    fn visit_tensors(&self, _: Seal, visit: &mut impl FnMut(&[T])) {
        self.branch.visit_tensors(Seal, visit);
        self.shortcut.visit_tensors(Seal, visit);
    }

    fn visit_tensors_mut(&mut self, _: Seal, visit: &mut impl FnMut(&mut [T])) {
        self.branch.visit_tensors_mut(Seal, visit);
        self.shortcut.visit_tensors_mut(Seal, visit);
    }

    fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
        F::image_runs(Seal, visit);
        S::image_runs(Seal, visit);
    }

    fn update_state(&mut self, _: Seal, grad: &Self) {
        self.branch.update_state(Seal, &grad.branch);
        self.shortcut.update_state(Seal, &grad.shortcut);
    }
}

impl<F: InputShape, S> InputShape for Residual<F, S> {
    type Input = F::Input;
}

impl<X, F, S, Y> Layer<X> for Residual<F, S>
where
    X: Tensor,
    F: Layer<X, Out = Y>,
    S: Layer<X>,
    Y: Tensor<Elem = X::Elem> + BranchesAgree<S::Out>,
{
    type Out = Y;
    const NAME: &'static str = "Add";
    const ACTIVATION_BYTES: usize = F::ACTIVATION_BYTES + S::ACTIVATION_BYTES + Y::LEN * <X::Elem as Scalar>::BYTES;
    // The branch runs, then the shortcut while the branch's output (the sum, in place) lives.
    const PEAK_ACTIVATION_BYTES: usize = crate::model::max_usize(
        F::PEAK_ACTIVATION_BYTES,
        Y::LEN * <X::Elem as Scalar>::BYTES + S::PEAK_ACTIVATION_BYTES,
    );
    const CHECK: () = {
        let () = F::CHECK;
        S::CHECK
    };

    #[inline]
    fn forward(&self, x: &X) -> Y {
        let () = <Self as Layer<X>>::CHECK;
        let mut y = self.branch.forward(x);
        add_into(y.as_mut_slice(), self.shortcut.forward(x).as_slice());
        y
    }

    /// The branch writes `out`, then the shortcut's output (its own block) is added to it.
    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut Y) {
        let () = <Self as Layer<X>>::CHECK;
        self.branch.forward_into(Seal, x, out);
        let mut s = S::Out::default();
        self.shortcut.forward_into(Seal, x, &mut s);
        add_into(out.as_mut_slice(), s.as_slice());
    }

    fn batch_scratch_len(_: Seal, n: usize) -> usize {
        let own = n.saturating_mul(Y::LEN);
        own.saturating_add(F::batch_scratch_len(Seal, n).max(S::batch_scratch_len(Seal, n)))
    }

    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
        let Some((shortcut, rest)) = scratch.split_at_mut_checked(n.saturating_mul(Y::LEN)) else { return };
        self.branch.forward_batch_flat(Seal, n, xs, ys, rest);
        self.shortcut.forward_batch_flat(Seal, n, xs, shortcut, rest);
        add_into(ys, shortcut);
    }

    /// Both branches' rows in Keras' order (see the [module docs](self)), then the `Add`.
    fn summary_rows(_: Seal, visit: &mut impl FnMut(SummaryRow)) {
        let (mut f, mut s) = (0usize, 0usize);
        F::summary_rows(Seal, &mut |_| f += 1);
        S::summary_rows(Seal, &mut |_| s += 1);
        for (shortcut, index) in (Numbering { f, s }).order() {
            let mut seen = 0usize;
            let mut pick = |row: SummaryRow| {
                if seen == index {
                    visit(row);
                }
                seen += 1;
            };
            if shortcut {
                S::summary_rows(Seal, &mut pick);
            } else {
                F::summary_rows(Seal, &mut pick);
            }
        }
        visit(SummaryRow { class: "Add", output_shape: Y::SHAPE, params: 0 });
    }
}

/// The gradient of `F(x) + S(x)` reaches both terms: `dy` goes back through `F` and through
/// `S`, and `dx` is the sum of the two input gradients.
impl<X, F, S, Y> Backward<X> for Residual<F, S>
where
    X: Tensor,
    F: Backward<X, Out = Y>,
    S: Backward<X>,
    Y: Tensor<Elem = X::Elem> + BranchesAgree<S::Out>,
{
    type Cache = (F::Cache, S::Cache);

    #[inline]
    fn forward_train(&self, x: &X) -> (Y, Self::Cache) {
        let () = <Self as Layer<X>>::CHECK;
        let (mut y, cf) = self.branch.forward_train(x);
        let (s, cs) = self.shortcut.forward_train(x);
        add_into(y.as_mut_slice(), s.as_slice());
        (y, (cf, cs))
    }

    #[inline]
    fn backward(&self, x: &X, cache: &Self::Cache, dy: &Y, grad: &mut Self, dx: Option<&mut X>) {
        match dx {
            Some(dx) => {
                let mut dx_branch = X::default();
                self.branch.backward(x, &cache.0, dy, &mut grad.branch, Some(&mut dx_branch));
                self.shortcut.backward(x, &cache.1, dy.as_other(), &mut grad.shortcut, Some(dx));
                add_into(dx.as_mut_slice(), dx_branch.as_slice());
            }
            None => {
                self.branch.backward(x, &cache.0, dy, &mut grad.branch, None);
                self.shortcut.backward(x, &cache.1, dy.as_other(), &mut grad.shortcut, None);
            }
        }
    }

    fn train_cache_len(_: Seal, n: usize) -> usize {
        // [Y_F | Y_S | cache of F | cache of S]
        n.saturating_mul(Y::LEN)
            .saturating_mul(2)
            .saturating_add(F::train_cache_len(Seal, n))
            .saturating_add(S::train_cache_len(Seal, n))
    }

    fn train_scratch_len(_: Seal, n: usize) -> usize {
        // [dX of F | the branches' own scratch]
        let inner = F::train_scratch_len(Seal, n).max(S::train_scratch_len(Seal, n));
        n.saturating_mul(X::LEN).saturating_add(inner)
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        cache: &mut [X::Elem],
        scratch: &mut [X::Elem],
    ) {
        let len = n.saturating_mul(Y::LEN);
        let Some((y_f, rest)) = cache.split_at_mut_checked(len) else { return };
        let Some((y_s, rest)) = rest.split_at_mut_checked(len) else { return };
        let Some((c_f, c_s)) = rest.split_at_mut_checked(F::train_cache_len(Seal, n)) else { return };
        let Some(inner) = scratch.get_mut(n.saturating_mul(X::LEN)..) else { return };
        self.branch.forward_train_batch_flat(Seal, n, xs, y_f, c_f, inner);
        self.shortcut.forward_train_batch_flat(Seal, n, xs, y_s, c_s, inner);
        let Some(ys) = ys.get_mut(..len) else { return };
        for ((y, &a), &b) in ys.iter_mut().zip(&*y_f).zip(&*y_s) {
            *y = a + b;
        }
    }

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        _ys: &[X::Elem],
        cache: &[X::Elem],
        dys: &[X::Elem],
        grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        scratch: &mut [X::Elem],
    ) {
        let len = n.saturating_mul(Y::LEN);
        let Some((y_f, rest)) = cache.split_at_checked(len) else { return };
        let Some((y_s, rest)) = rest.split_at_checked(len) else { return };
        let Some((c_f, c_s)) = rest.split_at_checked(F::train_cache_len(Seal, n)) else { return };
        let Some((dx_f, inner)) = scratch.split_at_mut_checked(n.saturating_mul(X::LEN)) else { return };
        match dxs {
            Some(dxs) => {
                let (branch, shortcut) = (&mut grad.branch, &mut grad.shortcut);
                self.branch.backward_batch_flat(Seal, n, xs, y_f, c_f, dys, branch, Some(&mut *dx_f), false, inner);
                self.shortcut.backward_batch_flat(Seal, n, xs, y_s, c_s, dys, shortcut, Some(&mut *dxs), false, inner);
                add_into(dxs, dx_f);
            }
            None => {
                self.branch.backward_batch_flat(Seal, n, xs, y_f, c_f, dys, &mut grad.branch, None, false, inner);
                self.shortcut.backward_batch_flat(Seal, n, xs, y_s, c_s, dys, &mut grad.shortcut, None, false, inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn keras_numbers_a_projection_block_by_depth_with_the_shortcut_first_on_ties() {
        // Branch Conv, BN, Activation, Conv, BN (5); shortcut a 1×1 Conv (1): what Keras 3.15
        // prints for `add([Conv2D(f, 1, strides=2)(x), y])` (scripts/keras_compose_fixtures.py).
        let n = Numbering { f: 5, s: 1 };
        assert_eq!((0..5).map(|i| n.branch(i)).collect::<Vec<_>>(), [0, 1, 2, 3, 5]);
        assert_eq!(n.shortcut(0), 4);
        assert_eq!(
            n.order().collect::<Vec<_>>(),
            [(false, 0), (false, 1), (false, 2), (false, 3), (true, 0), (false, 4)]
        );
        // The identity shortcut: the branch in order.
        let skip = Numbering { f: 2, s: 0 };
        assert_eq!((skip.branch(0), skip.branch(1)), (0, 1));
        // A longer shortcut than branch: its deeper layers come first.
        let long = Numbering { f: 1, s: 3 };
        assert_eq!(long.order().collect::<Vec<_>>(), [(true, 0), (true, 1), (true, 2), (false, 0)]);
        assert_eq!((long.shortcut(0), long.shortcut(1), long.shortcut(2), long.branch(0)), (0, 1, 2, 3));
    }
}
