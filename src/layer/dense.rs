//! [`Dense`]: the fully connected layer, `y = act(x·K + b)`.

use core::marker::PhantomData;

use rand_core::Rng;

use crate::activation::{Activation, Identity};
use crate::init::glorot_uniform;
use crate::shape::Vector;
use crate::shape::rules::DenseInput;
use crate::{Layer, Params, Scalar};

/// A fully connected layer: `y = act(x·K + b)` for an input of `IN` values and `OUT` outputs.
///
/// The activation is a type parameter, so `act` is compiled into the layer's loop.
///
/// **Keras equivalent:** `keras.layers.Dense(OUT, activation=...)` with an input of `IN`
/// features. The kernel has Keras' layout `(in, out)`: `kernel[i][j]` is the weight from input
/// `i` to output `j`, so `y[j] = act(Σᵢ x[i]·kernel[i][j] + bias[j])`, and Keras'
/// `layer.get_weights()` maps onto `(kernel, bias)` unchanged. (PyTorch's `nn.Linear.weight` is
/// the transpose, `(out, in)`.)
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// // y = relu([1, 2]·[[1, -1], [1, 1]] + [0, 0.5]) = relu([3, 1.5])
/// let layer: Dense<2, 2, Relu> = Dense::new([[1.0, -1.0], [1.0, 1.0]], [0.0, 0.5]);
/// let y: Vector<2> = layer.forward(&Vector::from([1.0, 2.0]));
/// assert_eq!(y.as_slice(), &[3.0, 1.5]);
/// assert_eq!(<Dense<784, 64, Relu>>::PARAMS, 50_240);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None. The weights are `(IN + 1)·OUT` scalars inline; `forward` uses `OUT` scalars of stack.
/// `Default` builds the zero layer on the stack (fine for a 5408×10 layer); for layers of many
/// megabytes use [`NewBoxed::new_boxed`](crate::NewBoxed::new_boxed) (feature `alloc`).
///
/// Generic parameters:
/// - `IN`: input size; the layer accepts `Vector<IN>` (or a `Flatten` output of `IN` values);
/// - `OUT`: output size (Keras' `units`); it produces `Vector<OUT>`;
/// - `A`: the [`Activation`], [`Identity`] (Keras' `"linear"`) by default;
/// - `T`: the scalar type, `f32` by default.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize, A = Identity, T = f32> {
    /// Weights, `kernel[i][j]` from input `i` to output `j` (Keras layout `(in, out)`).
    pub kernel: [[T; OUT]; IN],
    /// One bias per output.
    pub bias: [T; OUT],
    activation: PhantomData<A>,
}

impl<const IN: usize, const OUT: usize, A, T> Dense<IN, OUT, A, T> {
    /// A layer with the given kernel (Keras layout `(in, out)`) and bias. `const`, so a trained
    /// layer can live in a `static`.
    pub const fn new(kernel: [[T; OUT]; IN], bias: [T; OUT]) -> Self {
        Self { kernel, bias, activation: PhantomData }
    }
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar> Dense<IN, OUT, A, T> {
    /// `y ← x·K + b` (pre-activation). The loop runs over inputs outside and outputs inside, so
    /// the inner loop is a contiguous `axpy` over a kernel row that the compiler vectorises.
    #[inline(always)]
    pub(crate) fn affine(&self, x: &[T], y: &mut [T; OUT]) {
        *y = self.bias;
        for (&xi, row) in x.iter().zip(&self.kernel) {
            for (yj, &w) in y.iter_mut().zip(row) {
                *yj += xi * w;
            }
        }
    }
}

impl<const IN: usize, const OUT: usize, A, T: Scalar> Default for Dense<IN, OUT, A, T> {
    /// All-zero weights and biases.
    fn default() -> Self {
        Self::new([[T::zero(); OUT]; IN], [T::zero(); OUT])
    }
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar> Params<T> for Dense<IN, OUT, A, T> {
    const PARAMS: usize = IN * OUT + OUT;

    fn params(&self) -> impl Iterator<Item = &[T]> {
        [self.kernel.as_flattened(), &self.bias[..]].into_iter()
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [self.kernel.as_flattened_mut(), &mut self.bias[..]].into_iter()
    }

    /// Glorot-uniform kernel (`U(−L, L)`, `L = √(6/(IN + OUT))`), zero bias: Keras' defaults.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        glorot_uniform(rng, IN, OUT, self.kernel.as_flattened_mut());
        self.bias = [T::zero(); OUT];
    }
}

impl<X, const IN: usize, const OUT: usize, A: Activation, T: Scalar> Layer<X> for Dense<IN, OUT, A, T>
where
    X: DenseInput<IN, OUT, A, T>,
{
    type Out = X::Out;
    const NAME: &'static str = "Dense";

    #[inline]
    fn forward(&self, x: &X) -> X::Out {
        let () = X::CHECK;
        let mut y = Vector::<OUT, T>::default();
        self.affine(x.as_slice(), y.as_mut_array());
        A::apply(y.as_mut_array());
        X::wrap(y)
    }

    /// One GEMM for the whole batch, `Y = X·K` with `Y` pre-filled with the bias (`beta = 1`),
    /// then the activation over each output row while it is still in cache.
    #[cfg(feature = "alloc")]
    fn forward_batch_flat(&self, n: usize, xs: &[T], ys: &mut [T], _scratch: &mut [T]) {
        use crate::kernel::gemm::{Dims, Strided, gemm};
        let () = X::CHECK;
        let (Some(x_len), Some(y_len)) = (n.checked_mul(IN), n.checked_mul(OUT)) else { return };
        let (Some(xs), Some(ys)) = (xs.get(..x_len), ys.get_mut(..y_len)) else { return };
        for row in crate::layer::rows_mut(ys, OUT, n) {
            row.copy_from_slice(&self.bias);
        }
        let dims = Dims { m: n, k: IN, n: OUT };
        let kernel = Strided::row_major(self.kernel.as_flattened(), OUT);
        if gemm(dims, T::one(), Strided::row_major(xs, IN), kernel, T::one(), ys).is_ok() {
            for row in crate::layer::rows_mut(ys, OUT, n) {
                A::apply(row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Relu, Sigmoid, Softmax};

    #[test]
    fn dense_computes_x_times_kernel_plus_bias_in_keras_layout() {
        // kernel (in=3, out=2): column j holds the weights into output j.
        let layer: Dense<3, 2> = Dense::new([[1.0, 0.0], [2.0, -1.0], [3.0, 0.5]], [0.5, -0.5]);
        let y = layer.forward(&Vector::from([1.0, 1.0, 2.0]));
        assert_eq!(y.as_slice(), &[1.0 + 2.0 + 6.0 + 0.5, -1.0 + 1.0 - 0.5]);
    }

    #[test]
    fn dense_applies_its_activation_after_the_affine_map() {
        let relu: Dense<1, 2, Relu> = Dense::new([[1.0, -1.0]], [0.0, 0.0]);
        assert_eq!(relu.forward(&Vector::from([2.0])).as_slice(), &[2.0, 0.0]);
        let sigmoid: Dense<1, 1, Sigmoid> = Dense::new([[1.0]], [0.0]);
        assert_eq!(sigmoid.forward(&Vector::from([0.0]))[0], 0.5);
        let softmax: Dense<1, 2, Softmax> = Dense::new([[0.0, 0.0]], [0.0, 0.0]);
        assert_eq!(softmax.forward(&Vector::from([3.0])).as_slice(), &[0.5, 0.5]);
    }

    #[test]
    fn dense_default_is_all_zero_and_counts_keras_params() {
        let layer: Dense<4, 3, Relu> = Dense::default();
        assert!(layer.params().all(|p| p.iter().all(|&w| w == 0.0)));
        assert_eq!(<Dense<4, 3, Relu> as Params<f32>>::PARAMS, 15);
        assert_eq!(<Dense<4, 3, Relu, f64> as Params<f64>>::PARAM_BYTES, 120);
        assert_eq!(layer.params().map(<[f32]>::len).sum::<usize>(), 15);
    }
}
