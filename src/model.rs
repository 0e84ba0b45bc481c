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
//! let model: Mlp = Mlp::init(&mut SmallRng::seed(0));
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

use crate::summary::{InputShape, SummaryRow};
use crate::{Layer, Params, Scalar, Tensor};

/// Implements `Layer`, `Params` and `InputShape` for one tuple arity.
///
/// Each entry is `(input type, layer, output type, index)`; the output type of one entry is
/// the input type of the next, and the last entry's output is the model's.
macro_rules! tuple_model {
    ($(($In:ident, $L:ident, $Y:ident, $i:tt)),* ; last = ($InZ:ident, $Z:ident, $YZ:ident, $iz:tt)) => {
        impl<X: Tensor, $($L, $Y,)* $Z, $YZ> Layer<X> for ($($L,)* $Z,)
        where
            $($L: Layer<$In, Out = $Y>, $Y: Tensor<Elem = X::Elem>,)*
            $Z: Layer<$InZ, Out = $YZ>,
            $YZ: Tensor<Elem = X::Elem>,
        {
            type Out = $YZ;
            const NAME: &'static str = "Sequential";

            #[inline]
            fn forward(&self, x: &X) -> $YZ {
                $(let x = &self.$i.forward(x);)*
                self.$iz.forward(x)
            }

            fn batch_scratch_len(n: usize) -> usize {
                // Every intermediate activation back to back, then the largest scratch any
                // layer needs for itself.
                let total = 0usize $(.saturating_add(n.saturating_mul($Y::LEN)))*;
                let inner = $Z::batch_scratch_len(n) $(.max($L::batch_scratch_len(n)))*;
                total.saturating_add(inner)
            }

            #[allow(non_snake_case)]
            fn forward_batch_flat(&self, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], scratch: &mut [X::Elem]) {
                // Carve one buffer per intermediate activation out of `scratch`, in order.
                let rest = scratch;
                $(
                    let Some(($Y, rest)) = rest.split_at_mut_checked(n.saturating_mul($Y::LEN)) else { return };
                )*
                let input: &[X::Elem] = xs;
                $(
                    self.$i.forward_batch_flat(n, input, $Y, rest);
                    let input: &[X::Elem] = $Y;
                )*
                self.$iz.forward_batch_flat(n, input, ys, rest);
            }

            fn summary_rows(visit: &mut impl FnMut(SummaryRow)) {
                $($L::summary_rows(visit);)*
                $Z::summary_rows(visit);
            }
        }

        impl<T: Scalar, $($L: Params<T>,)* $Z: Params<T>> Params<T> for ($($L,)* $Z,) {
            const PARAMS: usize = 0 $(+ $L::PARAMS)* + $Z::PARAMS;

            fn params(&self) -> impl Iterator<Item = &[T]> {
                core::iter::empty()$(.chain(self.$i.params()))*.chain(self.$iz.params())
            }

            fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                core::iter::empty()$(.chain(self.$i.params_mut()))*.chain(self.$iz.params_mut())
            }

            fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
                $(self.$i.init_params(rng);)*
                self.$iz.init_params(rng);
            }
        }

        tuple_model!(@input $($L,)* $Z);
    };
    (@input $First:ident $(, $L:ident)*) => {
        impl<$First: InputShape, $($L),*> InputShape for ($First, $($L,)*) {
            type Input = $First::Input;
        }
    };
}

tuple_model!(; last = (X, L0, Y0, 0));
tuple_model!((X, L0, Y0, 0); last = (Y0, L1, Y1, 1));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1); last = (Y1, L2, Y2, 2));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2); last = (Y2, L3, Y3, 3));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3); last = (Y3, L4, Y4, 4));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4); last = (Y4, L5, Y5, 5));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5); last = (Y5, L6, Y6, 6));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6); last = (Y6, L7, Y7, 7));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7); last = (Y7, L8, Y8, 8));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8); last = (Y8, L9, Y9, 9));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8), (Y8, L9, Y9, 9); last = (Y9, L10, Y10, 10));
tuple_model!((X, L0, Y0, 0), (Y0, L1, Y1, 1), (Y1, L2, Y2, 2), (Y2, L3, Y3, 3), (Y3, L4, Y4, 4), (Y4, L5, Y5, 5), (Y5, L6, Y6, 6), (Y6, L7, Y7, 7), (Y7, L8, Y8, 8), (Y8, L9, Y9, 9), (Y9, L10, Y10, 10); last = (Y10, L11, Y11, 11));
