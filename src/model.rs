//! Sequential models: a tuple of layers is itself a layer.
//!
//! `(A, B, C)` implements [`Layer<X>`] exactly when `A: Layer<X>`, `B` takes `A`'s output and
//! `C` takes `B`'s. The impls below say that with one type parameter per intermediate tensor:
//!
//! ```text
//! impl<X, L0, L1, L2, Y0, Y1, Y2> Layer<X> for (L0, L1, L2)
//! where L0: Layer<X, Out = Y0>, L1: Layer<Y0, Out = Y1>, L2: Layer<Y1, Out = Y2>
//! ```
//!
//! so a miswired model is a type error naming the layer that does not fit (see the
//! [`Layer`] docs), found by `cargo check` before anything runs. Tuples of 1 to 12 layers are
//! models; nest tuples for more (`((A, B), C)` is fine).
//!
//! ```
//! use typed_nn::prelude::*;
//! type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);
//! let model: Mlp = Mlp::init(&mut SeedRng::seed(0));
//! let y: Vector<10> = model.forward(&Vector::from([0.5f32; 784]));
//! assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
//! assert_eq!(Mlp::PARAMS, 50_890);
//! ```
//!
//! ```compile_fail
//! use typed_nn::prelude::*;
//! // A 64-wide layer wired into a 32-wide one: rejected at compile time.
//! let model: (Dense<784, 64, Relu>, Dense<32, 10, Softmax>) = Default::default();
//! let y = model.forward(&Vector::from([0.5f32; 784]));
//! ```

use rand_core::Rng;

use crate::activation::Fusion;
use crate::layer::Seal;
use crate::params::{ParamCountError, ParamSpec, ParamWalk};
use crate::summary::{InputShape, SummaryRow};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// The single-sample forward pass of a tuple through [`Layer::forward_into`] (and of an int8
/// tuple through `QLayer::forward_into`), each layer writing
/// its output where it stays: no output is built in a layer's frame and then moved. Output `k`
/// is a variable declared (not written) before the block that computes output `k − 1`, and
/// written only after that block, so that at each step only that step's input and output are
/// live: a slot's lifetime starts at its first write for LLVM's
/// stack colouring, and ends with the block that declared it. For `(L0, L1, L2)` into `out`:
///
/// ```text
/// let mut b;
/// { let mut a; { a = Default::default(); L0.forward_into(x, &mut a); }
///   b = Default::default(); L1.forward_into(&a, &mut b); }   // `a` dies here
/// L2.forward_into(&b, out);
/// ```
///
/// The two names alternate (`a`, `b`, `a`, …), each block's shadowing the one outside it.
macro_rules! forward_into_scopes {
    ($model:ident, $x:expr, $out:expr; $first:tt) => {
        $model.$first.forward_into($crate::layer::Seal, $x, $out)
    };
    ($model:ident, $x:expr, $out:expr; $first:tt $(, $rest:tt)+) => {
        $crate::model::forward_into_scopes!(@chain $model, $out; a, b; {
            a = Default::default();
            $model.$first.forward_into($crate::layer::Seal, $x, &mut a);
        }; $($rest),+)
    };
    // `$acc` writes `$w`; `$o` is the other name.
    (@chain $model:ident, $out:expr; $w:ident, $o:ident; $acc:block; $last:tt) => {{
        let mut $w;
        $acc
        $model.$last.forward_into($crate::layer::Seal, &$w, $out);
    }};
    (@chain $model:ident, $out:expr; $w:ident, $o:ident; $acc:block; $next:tt $(, $rest:tt)+) => {
        $crate::model::forward_into_scopes!(@chain $model, $out; $o, $w; {
            let mut $w;
            $acc
            $o = Default::default();
            $model.$next.forward_into($crate::layer::Seal, &$w, &mut $o);
        }; $($rest),+)
    };
}
pub(crate) use forward_into_scopes;

/// The larger of two sizes, in a `const`.
pub(crate) const fn max_usize(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Implements `Layer`, `Backward`, `Params` and `InputShape` for one tuple arity (≥ 2).
///
/// Entry `i` is `(Yᵢ₋₁, Dᵢ₋₁, Lᵢ, Yᵢ, Dᵢ, i, i − 1)`: layer type `Lᵢ` maps `Yᵢ₋₁` to `Yᵢ`, and
/// `Dᵢ` names the buffer holding `∂L/∂Yᵢ` in the batched backward pass. The identifiers are
/// type parameters *and* variable names inside the bodies (an intermediate output is held in a
/// variable named after its type); that is what lets one `macro_rules!` write the chain, and
/// its reverse, without generating identifiers. `scripts/gen_tuples.py` writes the
/// invocations.
macro_rules! tuple_model {
    (
        first = ($L0:ident, $Y0:ident, $D0:ident);
        middle = [$(($In:ident, $DIn:ident, $L:ident, $Y:ident, $D:ident, $i:tt, $p:tt)),*];
        reversed = [$(($RIn:ident, $RDIn:ident, $RL:ident, $RY:ident, $RD:ident, $ri:tt, $rp:tt)),*];
        last = ($InZ:ident, $DInZ:ident, $Z:ident, $YZ:ident, $iz:tt, $pz:tt);
        next = [($n0:tt, $N0:ident) $(, ($ni:tt, $NY:ident))*];
    ) => {
        impl<X: Tensor, $L0, $Y0, $($L, $Y,)* $Z, $YZ> Layer<X> for ($L0, $($L,)* $Z,)
        where
            $L0: Layer<X, Out = $Y0>,
            $Y0: Tensor<Elem = X::Elem>,
            $($L: Layer<$In, Out = $Y>, $Y: Tensor<Elem = X::Elem>,)*
            $Z: Layer<$InZ, Out = $YZ>,
            $YZ: Tensor<Elem = X::Elem>,
        {
            type Out = $YZ;
            const NAME: &'static str = "Sequential";
            const ACTIVATION_BYTES: usize = $L0::ACTIVATION_BYTES $(+ $L::ACTIVATION_BYTES)* + $Z::ACTIVATION_BYTES;
            // Step k holds layer k − 1's output (its input) and its own peak; see `forward`.
            const PEAK_ACTIVATION_BYTES: usize = {
                let elem = <X::Elem as Scalar>::BYTES;
                let peak = $L0::PEAK_ACTIVATION_BYTES;
                $(let peak = max_usize(peak, <$In as Tensor>::LEN * elem + <$L as Layer<$In>>::PEAK_ACTIVATION_BYTES);)*
                max_usize(peak, <$InZ as Tensor>::LEN * elem + <$Z as Layer<$InZ>>::PEAK_ACTIVATION_BYTES)
            };
            const CHECK: () = {
                let () = <$L0 as Layer<X>>::CHECK;
                $(let () = <$L as Layer<$In>>::CHECK;)*
                <$Z as Layer<$InZ>>::CHECK
            };

            #[inline]
            fn forward(&self, x: &X) -> $YZ {
                let () = <Self as Layer<X>>::CHECK;
                let mut out = $YZ::default();
                self.forward_into(Seal, x, &mut out);
                out
            }

            #[inline]
            fn forward_into(&self, _: Seal, x: &X, out: &mut $YZ) {
                let () = <Self as Layer<X>>::CHECK;
                let model = self;
                forward_into_scopes!(model, x, out; 0, $($i,)* $iz)
            }

            fn batch_scratch_len(_: Seal, n: usize) -> usize {
                // Every intermediate activation back to back, then the largest scratch any
                // layer needs for itself.
                let total = n.saturating_mul($Y0::LEN) $(.saturating_add(n.saturating_mul($Y::LEN)))*;
                let inner = $L0::batch_scratch_len(Seal, n) $(.max($L::batch_scratch_len(Seal, n)))*.max($Z::batch_scratch_len(Seal, n));
                total.saturating_add(inner)
            }

            #[allow(non_snake_case)]
            fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
                // One buffer per intermediate activation, carved out of `scratch` in order.
                let Some(($Y0, rest)) = scratch.split_at_mut_checked(n.saturating_mul($Y0::LEN)) else { return };
                $(let Some(($Y, rest)) = rest.split_at_mut_checked(n.saturating_mul($Y::LEN)) else { return };)*
                let $YZ = ys;
                // Each layer runs knowing the next one, and may compute that one's output too
                // (a convolution pooling before its activation); then the next one is skipped.
                // `done` is a constant once the layers' hooks are inlined.
                let done = self.0.forward_batch_flat_then::<$Y0, _>(Seal, &self.$n0, n, xs, $Y0, $N0, rest);
                $(
                    let done = !done && self.$i.forward_batch_flat_then::<$Y, _>(Seal, &self.$ni, n, $In, $Y, $NY, rest);
                )*
                if !done {
                    self.$iz.forward_batch_flat(Seal, n, $InZ, $YZ, rest);
                }
            }

            fn summary_rows(_: Seal, visit: &mut impl FnMut(SummaryRow)) {
                $L0::summary_rows(Seal, visit);
                $($L::summary_rows(Seal, visit);)*
                $Z::summary_rows(Seal, visit);
            }
        }

        /// Forward keeps `(cache, output)` of every layer but the last; backward walks them in
        /// reverse, each layer's input gradient being the previous layer's output gradient.
        impl<X: Tensor, $L0, $Y0, $($L, $Y,)* $Z, $YZ> Backward<X> for ($L0, $($L,)* $Z,)
        where
            $L0: Backward<X, Out = $Y0>,
            $Y0: Tensor<Elem = X::Elem>,
            $($L: Backward<$In, Out = $Y>, $Y: Tensor<Elem = X::Elem>,)*
            $Z: Backward<$InZ, Out = $YZ>,
            $YZ: Tensor<Elem = X::Elem>,
        {
            type Cache = (($L0::Cache, $Y0), $(($L::Cache, $Y),)* $Z::Cache,);
            fn fusion(_: Seal) -> Fusion {
                $Z::fusion(Seal)
            }
            fn chunkable(_: Seal) -> bool {
                $L0::chunkable(Seal) $(&& $L::chunkable(Seal))* && $Z::chunkable(Seal)
            }

            #[allow(non_snake_case)]
            #[inline]
            fn forward_train(&self, x: &X) -> ($YZ, Self::Cache) {
                let () = <Self as Layer<X>>::CHECK;
                let ($Y0, $L0) = self.0.forward_train(x);
                $(let ($Y, $L) = self.$i.forward_train(&$In);)*
                let ($YZ, $Z) = self.$iz.forward_train(&$InZ);
                ($YZ, (($L0, $Y0), $(($L, $Y),)* $Z,))
            }

            #[allow(non_snake_case)]
            #[inline]
            fn backward(&self, x: &X, cache: &Self::Cache, dy: &$YZ, grad: &mut Self, dx: Option<&mut X>) {
                // `$DIn` holds ∂L/∂(input of layer i), which is ∂L/∂(output of layer i − 1).
                let mut $DInZ = $InZ::default();
                self.$iz.backward(&cache.$pz.1, &cache.$iz, dy, &mut grad.$iz, Some(&mut $DInZ));
                $(
                    let mut $RDIn = $RIn::default();
                    self.$ri.backward(&cache.$rp.1, &cache.$ri.0, &$RD, &mut grad.$ri, Some(&mut $RDIn));
                )*
                self.0.backward(x, &cache.0.0, &$D0, &mut grad.0, dx);
            }

            #[allow(non_snake_case)]
            #[inline]
            fn backward_logits(&self, _: Seal, x: &X, cache: &Self::Cache, dz: &$YZ, grad: &mut Self, dx: Option<&mut X>) {
                let mut $DInZ = $InZ::default();
                self.$iz.backward_logits(Seal, &cache.$pz.1, &cache.$iz, dz, &mut grad.$iz, Some(&mut $DInZ));
                $(
                    let mut $RDIn = $RIn::default();
                    self.$ri.backward(&cache.$rp.1, &cache.$ri.0, &$RD, &mut grad.$ri, Some(&mut $RDIn));
                )*
                self.0.backward(x, &cache.0.0, &$D0, &mut grad.0, dx);
            }

            fn train_cache_len(_: Seal, n: usize) -> usize {
                // [Y0 | C0 | Y1 | C1 | ... | C_last]
                n.saturating_mul($Y0::LEN).saturating_add($L0::train_cache_len(Seal, n))
                    $(.saturating_add(n.saturating_mul($Y::LEN)).saturating_add($L::train_cache_len(Seal, n)))*
                    .saturating_add($Z::train_cache_len(Seal, n))
            }

            fn train_scratch_len(_: Seal, n: usize) -> usize {
                // One gradient buffer per intermediate activation, then the largest inner need.
                let total = n.saturating_mul($Y0::LEN) $(.saturating_add(n.saturating_mul($Y::LEN)))*;
                let inner = $L0::train_scratch_len(Seal, n) $(.max($L::train_scratch_len(Seal, n)))*.max($Z::train_scratch_len(Seal, n));
                total.saturating_add(inner)
            }

            #[allow(non_snake_case)]
            fn forward_train_batch_flat(
                &self,
                _: Seal,
                n: usize,
                xs: &[X::Elem],
                ys: &mut [X::Elem],
                cache: &mut [X::Elem],
                scratch: &mut [X::Elem],
            ) {
                let rest = cache;
                let Some(($Y0, rest)) = rest.split_at_mut_checked(n.saturating_mul($Y0::LEN)) else { return };
                let Some(($L0, rest)) = rest.split_at_mut_checked($L0::train_cache_len(Seal, n)) else { return };
                $(
                    let Some(($Y, rest)) = rest.split_at_mut_checked(n.saturating_mul($Y::LEN)) else { return };
                    let Some(($L, rest)) = rest.split_at_mut_checked($L::train_cache_len(Seal, n)) else { return };
                )*
                self.0.forward_train_batch_flat(Seal, n, xs, $Y0, $L0, scratch);
                $(self.$i.forward_train_batch_flat(Seal, n, $In, $Y, $L, scratch);)*
                self.$iz.forward_train_batch_flat(Seal, n, $InZ, ys, rest, scratch);
            }

            #[allow(non_snake_case)]
            fn backward_batch_flat(
                &self,
                _: Seal,
                n: usize,
                xs: &[X::Elem],
                ys: &[X::Elem],
                cache: &[X::Elem],
                dys: &[X::Elem],
                grad: &mut Self,
                dxs: Option<&mut [X::Elem]>,
                logits: bool,
                scratch: &mut [X::Elem],
            ) {
                // The cache, split as `forward_train_batch_flat` filled it.
                let rest = cache;
                let Some(($Y0, rest)) = rest.split_at_checked(n.saturating_mul($Y0::LEN)) else { return };
                let Some(($L0, rest)) = rest.split_at_checked($L0::train_cache_len(Seal, n)) else { return };
                $(
                    let Some(($Y, rest)) = rest.split_at_checked(n.saturating_mul($Y::LEN)) else { return };
                    let Some(($L, rest)) = rest.split_at_checked($L::train_cache_len(Seal, n)) else { return };
                )*
                let $Z = rest;
                // ∂L/∂Yᵢ buffers, in forward order, then the layers' own scratch.
                let Some(($D0, rest)) = scratch.split_at_mut_checked(n.saturating_mul($Y0::LEN)) else { return };
                $(let Some(($D, rest)) = rest.split_at_mut_checked(n.saturating_mul($Y::LEN)) else { return };)*
                // Each layer gets its input, its output (the next buffer, or the model's `ys`),
                // its cache and the gradient of its output.
                self.$iz.backward_batch_flat(Seal, n, $InZ, ys, $Z, dys, &mut grad.$iz, Some($DInZ), logits, rest);
                $(self.$ri.backward_batch_flat(Seal, n, $RIn, $RY, $RL, $RD, &mut grad.$ri, Some($RDIn), false, rest);)*
                self.0.backward_batch_flat(Seal, n, xs, $Y0, $L0, $D0, &mut grad.0, dxs, false, rest);
            }
        }

        impl<T: Scalar, $L0: Params<T>, $($L: Params<T>,)* $Z: Params<T>> Params<T> for ($L0, $($L,)* $Z,) {
            const PARAMS: usize = $L0::PARAMS $(+ $L::PARAMS)* + $Z::PARAMS;
            const STATE: usize = $L0::STATE $(+ $L::STATE)* + $Z::STATE;

            fn params(&self) -> impl Iterator<Item = &[T]> {
                self.0.params()$(.chain(self.$i.params()))*.chain(self.$iz.params())
            }

            fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.0.params_mut()$(.chain(self.$i.params_mut()))*.chain(self.$iz.params_mut())
            }

            fn state(&self) -> impl Iterator<Item = &[T]> {
                self.0.state()$(.chain(self.$i.state()))*.chain(self.$iz.state())
            }

            fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.0.state_mut()$(.chain(self.$i.state_mut()))*.chain(self.$iz.state_mut())
            }

            fn describe_state(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
                $L0::describe_state(walk, visit);
                $($L::describe_state(walk, visit);)*
                $Z::describe_state(walk, visit);
            }

            fn visit_tensors(&self, _: Seal, visit: &mut impl FnMut(&[T])) {
                self.0.visit_tensors(Seal, visit);
                $(self.$i.visit_tensors(Seal, visit);)*
                self.$iz.visit_tensors(Seal, visit);
            }

            fn visit_tensors_mut(&mut self, _: Seal, visit: &mut impl FnMut(&mut [T])) {
                self.0.visit_tensors_mut(Seal, visit);
                $(self.$i.visit_tensors_mut(Seal, visit);)*
                self.$iz.visit_tensors_mut(Seal, visit);
            }

            fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
                $L0::image_runs(Seal, visit);
                $($L::image_runs(Seal, visit);)*
                $Z::image_runs(Seal, visit);
            }

            fn update_state(&mut self, _: Seal, grad: &Self) {
                self.0.update_state(Seal, &grad.0);
                $(self.$i.update_state(Seal, &grad.$i);)*
                self.$iz.update_state(Seal, &grad.$iz);
            }

            fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
                self.0.init_params(rng);
                $(self.$i.init_params(rng);)*
                self.$iz.init_params(rng);
            }

            fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
                $L0::describe_params(walk, visit);
                $($L::describe_params(walk, visit);)*
                $Z::describe_params(walk, visit);
            }

            fn check_param_count(&self, _: Seal) -> Result<(), ParamCountError> {
                self.0.check_param_count(Seal)?;
                $(self.$i.check_param_count(Seal)?;)*
                self.$iz.check_param_count(Seal)
            }
        }

        impl<$L0: InputShape, $($L,)* $Z> InputShape for ($L0, $($L,)* $Z,) {
            type Input = $L0::Input;
        }
    };
}

/// A one-layer tuple is that layer.
impl<X: Tensor, L: Layer<X>> Layer<X> for (L,) {
    type Out = L::Out;
    const NAME: &'static str = "Sequential";
    const ACTIVATION_BYTES: usize = L::ACTIVATION_BYTES;
    const PEAK_ACTIVATION_BYTES: usize = L::PEAK_ACTIVATION_BYTES;
    const CHECK: () = L::CHECK;

    #[inline]
    fn forward(&self, x: &X) -> L::Out {
        let () = <Self as Layer<X>>::CHECK;
        self.0.forward(x)
    }
    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut L::Out) {
        let () = <Self as Layer<X>>::CHECK;
        self.0.forward_into(Seal, x, out);
    }
    fn batch_scratch_len(_: Seal, n: usize) -> usize {
        L::batch_scratch_len(Seal, n)
    }
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
        self.0.forward_batch_flat(Seal, n, xs, ys, scratch);
    }
    fn summary_rows(_: Seal, visit: &mut impl FnMut(SummaryRow)) {
        L::summary_rows(Seal, visit);
    }
}

impl<X: Tensor, L: Backward<X>> Backward<X> for (L,) {
    type Cache = L::Cache;
    fn fusion(_: Seal) -> Fusion {
        L::fusion(Seal)
    }
    fn chunkable(_: Seal) -> bool {
        L::chunkable(Seal)
    }

    #[inline]
    fn forward_train(&self, x: &X) -> (L::Out, L::Cache) {
        self.0.forward_train(x)
    }
    #[inline]
    fn backward(&self, x: &X, cache: &L::Cache, dy: &L::Out, grad: &mut Self, dx: Option<&mut X>) {
        self.0.backward(x, cache, dy, &mut grad.0, dx);
    }
    #[inline]
    fn backward_logits(&self, _: Seal, x: &X, cache: &L::Cache, dz: &L::Out, grad: &mut Self, dx: Option<&mut X>) {
        self.0.backward_logits(Seal, x, cache, dz, &mut grad.0, dx);
    }
    fn train_cache_len(_: Seal, n: usize) -> usize {
        L::train_cache_len(Seal, n)
    }
    fn train_scratch_len(_: Seal, n: usize) -> usize {
        L::train_scratch_len(Seal, n)
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
        self.0.forward_train_batch_flat(Seal, n, xs, ys, cache, scratch);
    }
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &[X::Elem],
        cache: &[X::Elem],
        dys: &[X::Elem],
        grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        logits: bool,
        scratch: &mut [X::Elem],
    ) {
        self.0.backward_batch_flat(Seal, n, xs, ys, cache, dys, &mut grad.0, dxs, logits, scratch);
    }
}

impl<T: Scalar, L: Params<T>> Params<T> for (L,) {
    const PARAMS: usize = L::PARAMS;
    const STATE: usize = L::STATE;
    fn params(&self) -> impl Iterator<Item = &[T]> {
        self.0.params()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.params_mut()
    }
    fn state(&self) -> impl Iterator<Item = &[T]> {
        self.0.state()
    }
    fn state_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_mut()
    }
    fn describe_state(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        L::describe_state(walk, visit);
    }
    fn visit_tensors(&self, _: Seal, visit: &mut impl FnMut(&[T])) {
        self.0.visit_tensors(Seal, visit);
    }
    fn visit_tensors_mut(&mut self, _: Seal, visit: &mut impl FnMut(&mut [T])) {
        self.0.visit_tensors_mut(Seal, visit);
    }
    fn image_runs(_: Seal, visit: &mut impl FnMut(usize, bool)) {
        L::image_runs(Seal, visit);
    }
    fn update_state(&mut self, _: Seal, grad: &Self) {
        self.0.update_state(Seal, &grad.0);
    }
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.0.init_params(rng);
    }
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        L::describe_params(walk, visit);
    }
    fn check_param_count(&self, _: Seal) -> Result<(), ParamCountError> {
        self.0.check_param_count(Seal)
    }
}

impl<L: InputShape> InputShape for (L,) {
    type Input = L::Input;
}

tuple_model! {
    first = (L0, Y0, D0);
    middle = [];
    reversed = [];
    last = (Y0, D0, L1, Y1, 1, 0);
    next = [(1, Y1)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0)];
    reversed = [(Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y1, D1, L2, Y2, 2, 1);
    next = [(1, Y1), (2, Y2)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1)];
    reversed = [(Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y2, D2, L3, Y3, 3, 2);
    next = [(1, Y1), (2, Y2), (3, Y3)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2)];
    reversed = [(Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y3, D3, L4, Y4, 4, 3);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3)];
    reversed = [(Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y4, D4, L5, Y5, 5, 4);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4)];
    reversed = [(Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y5, D5, L6, Y6, 6, 5);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4), (Y5, D5, L6, Y6, D6, 6, 5)];
    reversed = [(Y5, D5, L6, Y6, D6, 6, 5), (Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y6, D6, L7, Y7, 7, 6);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6), (7, Y7)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4), (Y5, D5, L6, Y6, D6, 6, 5), (Y6, D6, L7, Y7, D7, 7, 6)];
    reversed = [(Y6, D6, L7, Y7, D7, 7, 6), (Y5, D5, L6, Y6, D6, 6, 5), (Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y7, D7, L8, Y8, 8, 7);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6), (7, Y7), (8, Y8)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4), (Y5, D5, L6, Y6, D6, 6, 5), (Y6, D6, L7, Y7, D7, 7, 6), (Y7, D7, L8, Y8, D8, 8, 7)];
    reversed = [(Y7, D7, L8, Y8, D8, 8, 7), (Y6, D6, L7, Y7, D7, 7, 6), (Y5, D5, L6, Y6, D6, 6, 5), (Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y8, D8, L9, Y9, 9, 8);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6), (7, Y7), (8, Y8), (9, Y9)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4), (Y5, D5, L6, Y6, D6, 6, 5), (Y6, D6, L7, Y7, D7, 7, 6), (Y7, D7, L8, Y8, D8, 8, 7), (Y8, D8, L9, Y9, D9, 9, 8)];
    reversed = [(Y8, D8, L9, Y9, D9, 9, 8), (Y7, D7, L8, Y8, D8, 8, 7), (Y6, D6, L7, Y7, D7, 7, 6), (Y5, D5, L6, Y6, D6, 6, 5), (Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y9, D9, L10, Y10, 10, 9);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6), (7, Y7), (8, Y8), (9, Y9), (10, Y10)];
}
tuple_model! {
    first = (L0, Y0, D0);
    middle = [(Y0, D0, L1, Y1, D1, 1, 0), (Y1, D1, L2, Y2, D2, 2, 1), (Y2, D2, L3, Y3, D3, 3, 2), (Y3, D3, L4, Y4, D4, 4, 3), (Y4, D4, L5, Y5, D5, 5, 4), (Y5, D5, L6, Y6, D6, 6, 5), (Y6, D6, L7, Y7, D7, 7, 6), (Y7, D7, L8, Y8, D8, 8, 7), (Y8, D8, L9, Y9, D9, 9, 8), (Y9, D9, L10, Y10, D10, 10, 9)];
    reversed = [(Y9, D9, L10, Y10, D10, 10, 9), (Y8, D8, L9, Y9, D9, 9, 8), (Y7, D7, L8, Y8, D8, 8, 7), (Y6, D6, L7, Y7, D7, 7, 6), (Y5, D5, L6, Y6, D6, 6, 5), (Y4, D4, L5, Y5, D5, 5, 4), (Y3, D3, L4, Y4, D4, 4, 3), (Y2, D2, L3, Y3, D3, 3, 2), (Y1, D1, L2, Y2, D2, 2, 1), (Y0, D0, L1, Y1, D1, 1, 0)];
    last = (Y10, D10, L11, Y11, 11, 10);
    next = [(1, Y1), (2, Y2), (3, Y3), (4, Y4), (5, Y5), (6, Y6), (7, Y7), (8, Y8), (9, Y9), (10, Y10), (11, Y11)];
}

/// The rule "a model is a tuple of at most 12 layers", for the error message: tuples of 13 to
/// 16 layers implement `Layer` and `Backward` only for inputs that implement this trait, and
/// nothing does, so using one as a model reports this message (instead of "no method named
/// `forward`"). A public trait in a private module: it cannot be implemented elsewhere.
#[diagnostic::on_unimplemented(
    message = "a model is a tuple of at most 12 layers, and this one has {N}",
    label = "too many layers in one tuple",
    note = "nest tuples: `((L1, L2, L3, L4, L5, L6), (L7, L8, L9, L10, L11, L12, L13))` is a model of 13 layers, since a tuple of layers is itself a layer",
    note = "12 is where Rust stops implementing `Default`, `Clone` and `Debug` for tuples, which models need"
)]
pub trait TupleOfAtMost12<const N: usize> {}

/// `PARAMS` of a tuple of 13 or more layers: evaluating it stops the build with the rule.
/// Generic in `M` (the tuple) so that it is evaluated only where such a model's `PARAMS` is.
struct TooLong<const N: usize, M>(core::marker::PhantomData<M>);

impl<const N: usize, M> TooLong<N, M> {
    const PARAMS: usize = {
        assert!(N <= 12, "a model is a tuple of at most 12 layers: nest tuples, `((L1, .., L6), (L7, .., L13))`");
        0
    };
}

/// Tuples of 13 to 16 layers: never a `Layer` (see [`TupleOfAtMost12`]). `Params` holds
/// unconditionally, as `Layer`'s supertrait needs, but its count fails the build if used.
macro_rules! too_long {
    ($n:literal: $($L:ident),+) => {
        impl<T: Scalar, $($L),+> Params<T> for ($($L,)+) {
            const PARAMS: usize = TooLong::<$n, Self>::PARAMS;
        }

        impl<X: Tensor + TupleOfAtMost12<$n>, $($L),+> Layer<X> for ($($L,)+) {
            type Out = X;
            fn forward(&self, x: &X) -> X {
                x.clone()
            }
        }

        impl<X: Tensor + TupleOfAtMost12<$n>, $($L),+> Backward<X> for ($($L,)+) {
            type Cache = ();
            fn forward_train(&self, x: &X) -> (X, ()) {
                (x.clone(), ())
            }
            fn backward(&self, _: &X, _: &(), _: &X, _: &mut Self, _: Option<&mut X>) {}
        }
    };
}
too_long!(13: L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12);
too_long!(14: L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13);
too_long!(15: L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14);
too_long!(16: L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15);
