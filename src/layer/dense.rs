//! [`Dense`]: the fully connected layer, `y = act(x·K + b)`.

use core::marker::PhantomData;

use rand_core::Rng;

use crate::activation::Fusion;
use crate::activation::{Activation, Identity};
use crate::init::glorot_uniform;
use crate::layer::Seal;
use crate::layer::bias::{Bias, BiasMode, NoBias};
use crate::params::{ParamShape, ParamSpec, ParamWalk};
use crate::shape::Vector;
use crate::shape::float::FloatIs;
use crate::shape::rules::DenseInput;
use crate::{Backward, Layer, Params, Scalar};

/// A fully connected layer: `y = act(x·K + b)` for an input of `IN` values and `OUT` outputs
/// (`y = act(x·K)` without a bias).
///
/// The activation is a type parameter, so `act` is compiled into the layer's loop.
///
/// **Keras equivalent:** `keras.layers.Dense(OUT, activation=..., use_bias=...)` with an input
/// of `IN` features. The kernel has Keras' layout `(in, out)`: `kernel[i][j]` is the weight from input
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
/// - `T`: the scalar type, `f32` by default;
/// - `B`: [`Bias`] (default) or [`NoBias`] (Keras' `use_bias=False`: the `bias` field is then
///   the zero-sized `NoBias` and the layer has `IN·OUT` parameters).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize, A = Identity, T = f32, B: BiasMode = Bias> {
    /// Weights, `kernel[i][j]` from input `i` to output `j` (Keras layout `(in, out)`).
    pub kernel: [[T; OUT]; IN],
    /// One bias per output (`[T; OUT]`), or [`NoBias`].
    pub bias: B::Store<[T; OUT]>,
    activation: PhantomData<A>,
}

impl<const IN: usize, const OUT: usize, A, T, B: BiasMode> Dense<IN, OUT, A, T, B> {
    /// A layer with the given kernel (Keras layout `(in, out)`) and bias (`[T; OUT]`, or
    /// `NoBias` for a layer without one). `const`, so a trained layer can live in a `static`.
    pub const fn new(kernel: [[T; OUT]; IN], bias: B::Store<[T; OUT]>) -> Self {
        let () = crate::shape::rules::DenseSizes::<IN, OUT>::AT_LEAST_ONE;
        Self { kernel, bias, activation: PhantomData }
    }
}

/// `const` decoding from a byte image, one impl per float type and bias mode (a `const fn`
/// cannot call the trait methods that would make it generic).
macro_rules! dense_from_bytes {
    ($T:ty, $fill:ident, NoBias) => {
        impl<const IN: usize, const OUT: usize, A> Dense<IN, OUT, A, $T, NoBias> {
            /// The layer whose kernel (Keras layout, no bias) starts at byte `offset` of a
            /// little-endian image, decoded at compile time when used in a `const` or `static`;
            /// see [`model_from_le_bytes!`](crate::model_from_le_bytes).
            /// Values past the end of `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[0.0; OUT]; IN], NoBias);
                crate::io::bytes::$fill(layer.kernel.as_flattened_mut(), bytes, offset);
                layer
            }
        }
        impl<const IN: usize, const OUT: usize, A, S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S>
            for Dense<IN, OUT, A, $T, NoBias>
        {
            const DECODED: Self = Self::from_le_bytes_at(S::IMAGE, S::OFFSET);
        }
    };
    ($T:ty, $fill:ident) => {
        impl<const IN: usize, const OUT: usize, A> Dense<IN, OUT, A, $T, Bias> {
            /// The layer whose parameters start at byte `offset` of a little-endian image (kernel
            /// in Keras layout, then bias), decoded at compile time when used in a `const` or
            /// `static`; see [`model_from_le_bytes!`](crate::model_from_le_bytes).
            /// Values past the end of `bytes` read as 0.0; the macro checks the length first.
            ///
            /// # Panics
            /// Never.
            pub const fn from_le_bytes_at(bytes: &[u8], offset: usize) -> Self {
                let mut layer = Self::new([[0.0; OUT]; IN], [0.0; OUT]);
                let at = crate::io::bytes::$fill(layer.kernel.as_flattened_mut(), bytes, offset);
                crate::io::bytes::$fill(&mut layer.bias, bytes, at);
                layer
            }
        }
        impl<const IN: usize, const OUT: usize, A, S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S>
            for Dense<IN, OUT, A, $T, Bias>
        {
            const DECODED: Self = Self::from_le_bytes_at(S::IMAGE, S::OFFSET);
        }
    };
}
dense_from_bytes!(f32, fill_f32);
dense_from_bytes!(f64, fill_f64);
dense_from_bytes!(f32, fill_f32, NoBias);
dense_from_bytes!(f64, fill_f64, NoBias);

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: BiasMode> crate::io::bytes::ConstLoad
    for Dense<IN, OUT, A, T, B>
{
    const BYTES: usize = (IN * OUT + if B::USE_BIAS { OUT } else { 0 }) * T::BYTES;
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Dense<IN, OUT, A, T, B> {
    /// The bias, or zeros for a layer without one.
    #[inline(always)]
    fn bias_or_zero(&self) -> [T; OUT] {
        B::get(&self.bias).copied().unwrap_or([T::zero(); OUT])
    }

    /// The backward pass of the affine part, given `dz = ∂L/∂z` for `z = x·K + b`:
    /// `∂L/∂b += dz`, `∂L/∂K += xᵀ·dz` (an outer product), and `∂L/∂x = K·dz` if wanted.
    #[inline(always)]
    fn backward_affine(&self, x: &[T], dz: &[T; OUT], grad: &mut Self, dx: Option<&mut [T]>) {
        if let Some(gbias) = B::get_mut(&mut grad.bias) {
            for (gb, &d) in gbias.iter_mut().zip(dz) {
                *gb += d;
            }
        }
        for (&xi, grow) in x.iter().zip(grad.kernel.iter_mut()) {
            for (g, &d) in grow.iter_mut().zip(dz) {
                *g += xi * d;
            }
        }
        if let Some(dx) = dx {
            for (dxi, row) in dx.iter_mut().zip(&self.kernel) {
                *dxi = row.iter().zip(dz).map(|(&w, &d)| w * d).sum();
            }
        }
    }
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Dense<IN, OUT, A, T, B> {
    /// `y = x·K + b` for one sample, then the activation if `activate`, with AVX2 and FMA
    /// where the CPU has them (see [`DenseRow`]).
    #[inline]
    fn row(&self, x: &[T], y: &mut [T; OUT], activate: bool) {
        crate::kernel::simd::dispatch_avx2(DenseRow { layer: self, x, y, activate });
    }
}

/// The single-sample kernel of a [`Dense`]: the loop over inputs outside, a multiply-add over
/// a kernel row (`OUT` values, kept in registers) inside, and the activation while the row is
/// in registers. A [`Vectorized`](crate::kernel::simd::Vectorized) computation: `FMA` picks
/// `mul_add`, one instruction in the AVX2 copy. AVX2 rather than AVX-512: the rows are short
/// (64 outputs for the digits model), and the wider vectors did not pay off there.
struct DenseRow<'a, const IN: usize, const OUT: usize, A, T, B: BiasMode> {
    layer: &'a Dense<IN, OUT, A, T, B>,
    x: &'a [T],
    y: &'a mut [T; OUT],
    activate: bool,
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> crate::kernel::simd::Vectorized
    for DenseRow<'_, IN, OUT, A, T, B>
{
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let mut acc = self.layer.bias_or_zero();
        for (&xi, row) in self.x.iter().zip(&self.layer.kernel) {
            for (a, &w) in acc.iter_mut().zip(row) {
                *a = if FMA { xi.mul_add(w, *a) } else { *a + xi * w };
            }
        }
        if self.activate {
            A::apply_with::<T, FMA>(&mut acc);
        }
        *self.y = acc;
    }
}

/// What a [`Dense`] keeps from its forward pass for the backward pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseCache<const OUT: usize, T = f32> {
    /// Pre-activations `z = x·K + b`.
    pub z: [T; OUT],
    /// Outputs `y = act(z)` (sigmoid, tanh and ReLU differentiate from these).
    pub y: [T; OUT],
}

#[cfg(feature = "alloc")]
impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Dense<IN, OUT, A, T, B> {
    /// `Z = X·K + b` for `n` rows, the kernel read in place and the bias as each sum's start
    /// ([`gemm_rows`](crate::kernel::gemm::gemm_rows): typed-nn's own micro-kernel for `f32`
    /// layers whose `OUT` fills whole vectors, `matrixmultiply` otherwise). Leaves `zs`
    /// untouched if the buffers are too short.
    fn linear_batch(&self, n: usize, xs: &[T], zs: &mut [T]) {
        use crate::kernel::gemm::{Dims, Strided, gemm_rows};
        let Some(xs) = xs.get(..n.saturating_mul(IN)) else { return };
        let bias = self.bias_or_zero();
        let dims = Dims { m: n, k: IN, n: OUT };
        let _ = gemm_rows(dims, Strided::row_major(xs, IN), self.kernel.as_flattened(), Some(&bias), zs);
    }
}

impl<const IN: usize, const OUT: usize, A, T: Scalar, B: BiasMode> Default for Dense<IN, OUT, A, T, B> {
    /// All-zero weights and biases.
    fn default() -> Self {
        Self::new([[T::zero(); OUT]; IN], B::store([T::zero(); OUT]))
    }
}

impl<const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Params<T> for Dense<IN, OUT, A, T, B> {
    const PARAMS: usize = {
        let () = crate::shape::rules::DenseSizes::<IN, OUT>::AT_LEAST_ONE;
        IN * OUT + if B::USE_BIAS { OUT } else { 0 }
    };

    fn params(&self) -> impl Iterator<Item = &[T]> {
        core::iter::once(self.kernel.as_flattened()).chain(B::get(&self.bias).map(|b| &b[..]))
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::once(self.kernel.as_flattened_mut()).chain(B::get_mut(&mut self.bias).map(|b| &mut b[..]))
    }

    /// Glorot-uniform kernel (`U(−L, L)`, `L = √(6/(IN + OUT))`), zero bias: Keras' defaults.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        glorot_uniform(rng, IN, OUT, self.kernel.as_flattened_mut());
        if let Some(bias) = B::get_mut(&mut self.bias) {
            *bias = [T::zero(); OUT];
        }
    }

    /// `{k}.kernel` `(in, out)`, then `{k}.bias` `(out,)` if the layer has one.
    fn describe_params(walk: &mut ParamWalk, visit: &mut impl FnMut(&ParamSpec)) {
        let kernel = ParamShape::DenseKernel { inputs: IN, outputs: OUT, flattened: walk.flattened() };
        visit(&ParamSpec { layer: walk.layer(), name: "kernel", shape: kernel });
        if B::USE_BIAS {
            visit(&ParamSpec { layer: walk.layer(), name: "bias", shape: ParamShape::Vector(OUT) });
        }
        walk.end_layer(None);
    }
}

/// The output of a `Dense` on `X`: `X`'s shape rule, reached through the float-type rule.
type Rule<X, const IN: usize, const OUT: usize, A, T> = <<X as FloatIs<T>>::Checked as DenseInput<IN, OUT, A, T>>::Out;

impl<X, const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Layer<X> for Dense<IN, OUT, A, T, B>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: DenseInput<IN, OUT, A, T>,
{
    type Out = Rule<X, IN, OUT, A, T>;
    const NAME: &'static str = "Dense";
    const CHECK: () = X::Checked::CHECK;

    #[inline]
    fn forward(&self, x: &X) -> Rule<X, IN, OUT, A, T> {
        let () = X::Checked::CHECK;
        let mut y = Vector::<OUT, T>::default();
        self.row(x.as_slice(), y.as_mut_array(), true);
        X::Checked::wrap(y)
    }

    /// The row kernel writes every output (its output is `OUT` long, so the conversion to an
    /// array always succeeds).
    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut Self::Out) {
        let () = X::Checked::CHECK;
        if let Ok(y) = <&mut [T; OUT]>::try_from(crate::Tensor::as_mut_slice(out)) {
            self.row(x.as_slice(), y, true);
        }
    }

    /// One GEMM for the whole batch (`Z = X·K + b`), then the activation over each output row
    /// while it is still in cache.
    #[cfg(feature = "alloc")]
    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], _scratch: &mut [T]) {
        let () = X::Checked::CHECK;
        let Some(ys) = ys.get_mut(..n.saturating_mul(OUT)) else { return };
        self.linear_batch(n, xs, ys);
        crate::activation::activate_rows::<A, T>(ys, OUT);
    }
}

/// Backward pass of `y = act(z)`, `z = x·K + b`:
/// `dz = act'(z) ⊙ dy` (or the activation's own Jacobian-vector product), then
/// `∂L/∂K += xᵀ·dz`, `∂L/∂b += dz`, `∂L/∂x = K·dz`.
impl<X, const IN: usize, const OUT: usize, A: Activation, T: Scalar, B: BiasMode> Backward<X>
    for Dense<IN, OUT, A, T, B>
where
    X: FloatIs<T, Checked = X>,
    X::Checked: DenseInput<IN, OUT, A, T>,
{
    type Cache = DenseCache<OUT, T>;
    fn fusion(_: Seal) -> Fusion {
        A::fusion(Seal)
    }

    fn chunkable(_: Seal) -> bool {
        true
    }

    #[inline]
    fn forward_train(&self, x: &X) -> (Rule<X, IN, OUT, A, T>, DenseCache<OUT, T>) {
        let () = X::Checked::CHECK;
        let mut cache = DenseCache { z: [T::zero(); OUT], y: [T::zero(); OUT] };
        self.row(x.as_slice(), &mut cache.z, false);
        cache.y = cache.z;
        A::apply_fast(&mut cache.y);
        (X::Checked::wrap(Vector::new(cache.y)), cache)
    }

    #[inline]
    fn backward(
        &self,
        x: &X,
        cache: &DenseCache<OUT, T>,
        dy: &Rule<X, IN, OUT, A, T>,
        grad: &mut Self,
        dx: Option<&mut X>,
    ) {
        let mut dz = [T::zero(); OUT];
        A::backprop(&cache.z, &cache.y, X::Checked::unwrap(dy).as_array(), &mut dz);
        self.backward_affine(x.as_slice(), &dz, grad, dx.map(|d| d.as_mut_slice()));
    }

    #[inline]
    fn backward_logits(
        &self,
        _: Seal,
        x: &X,
        _cache: &DenseCache<OUT, T>,
        dz: &Rule<X, IN, OUT, A, T>,
        grad: &mut Self,
        dx: Option<&mut X>,
    ) {
        self.backward_affine(x.as_slice(), X::Checked::unwrap(dz).as_array(), grad, dx.map(|d| d.as_mut_slice()));
    }

    #[cfg(feature = "alloc")]
    fn train_cache_len(_: Seal, n: usize) -> usize {
        n.saturating_mul(OUT)
    }

    #[cfg(feature = "alloc")]
    fn train_scratch_len(_: Seal, n: usize) -> usize {
        n.saturating_mul(OUT)
    }

    /// The batched forward (one GEMM), keeping the pre-activations `Z` as the cache.
    #[cfg(feature = "alloc")]
    fn forward_train_batch_flat(&self, _: Seal, n: usize, xs: &[T], ys: &mut [T], cache: &mut [T], _scratch: &mut [T]) {
        let () = X::Checked::CHECK;
        let len = n.saturating_mul(OUT);
        let (Some(zs), Some(ys)) = (cache.get_mut(..len), ys.get_mut(..len)) else { return };
        self.linear_batch(n, xs, zs);
        ys.copy_from_slice(zs);
        crate::activation::activate_rows::<A, T>(ys, OUT);
    }

    /// `dZ` row by row (from `Z` in the cache and the outputs `Y`), then two GEMMs:
    /// `∂K += Xᵀ·dZ` (`dZ` read in place, see `linear_batch`) and `dX = dZ·Kᵀ` (if wanted).
    #[cfg(feature = "alloc")]
    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[T],
        ys: &[T],
        cache: &[T],
        dys: &[T],
        grad: &mut Self,
        dxs: Option<&mut [T]>,
        logits: bool,
        scratch: &mut [T],
    ) {
        use crate::kernel::gemm::{Dims, Strided, gemm, gemm_rows};
        let len = n.saturating_mul(OUT);
        let (Some(zs), Some(ys), Some(dys)) = (cache.get(..len), ys.get(..len), dys.get(..len)) else { return };
        let dzs: &[T] = if logits {
            dys
        } else {
            let Some(dzs) = scratch.get_mut(..len) else { return };
            let rows =
                crate::layer::rows(zs, OUT, n).zip(crate::layer::rows(ys, OUT, n)).zip(crate::layer::rows(dys, OUT, n));
            for (((z, y), dy), dz) in rows.zip(crate::layer::rows_mut(dzs, OUT, n)) {
                A::backprop(z, y, dy, dz);
            }
            dzs
        };
        if let Some(gbias) = B::get_mut(&mut grad.bias) {
            for dz in crate::layer::rows(dzs, OUT, n) {
                for (gb, &d) in gbias.iter_mut().zip(dz) {
                    *gb += d;
                }
            }
        }
        let Some(xs) = xs.get(..n.saturating_mul(IN)) else { return };
        let dk = Dims { m: IN, k: n, n: OUT };
        let _ = gemm_rows(dk, Strided::transposed(xs, IN), dzs, None, grad.kernel.as_flattened_mut());
        if let Some(dxs) = dxs {
            let dx = Dims { m: n, k: OUT, n: IN };
            let kt = Strided::transposed(self.kernel.as_flattened(), OUT);
            let _ = gemm(dx, T::one(), Strided::row_major(dzs, OUT), kt, T::zero(), dxs);
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

    /// The dispatched kernel (AVX2+FMA on CPUs that have them) and the portable one
    /// (`run::<false>`, what a `no_std` build runs) agree to 1e-5.
    fn paths_agree<A: Activation>() {
        use crate::kernel::simd::Vectorized;
        let mut rng = crate::init::SeedRng::seed(9);
        let mut layer: Dense<100, 64, A> = Dense::default();
        layer.kernel.as_flattened_mut().iter_mut().for_each(|w| *w = crate::init::uniform01(&mut rng) as f32 - 0.5);
        layer.bias = core::array::from_fn(|i| i as f32 * 0.01);
        let x: [f32; 100] = core::array::from_fn(|i| ((i * 7) % 13) as f32 / 13.0);
        let (mut fast, mut portable) = ([0.0f32; 64], [0.0f32; 64]);
        layer.row(&x, &mut fast, true);
        DenseRow { layer: &layer, x: &x, y: &mut portable, activate: true }.run::<false>();
        for (a, b) in fast.iter().zip(&portable) {
            assert!((a - b).abs() <= 1e-5, "{}: {a} vs {b}", A::NAME);
        }
        assert!(fast.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn the_dispatched_and_portable_dense_kernels_agree() {
        // On a CPU without AVX2+FMA both calls take the portable path and this is trivially
        // true; CI's machine has both (and `has_avx2_fma` is reported below).
        std::println!("AVX2+FMA path in use: {}", crate::kernel::simd::has_avx2_fma());
        paths_agree::<Relu>();
        paths_agree::<Sigmoid>();
        paths_agree::<crate::activation::Swish>();
        paths_agree::<Softmax>();
    }

    /// Keras' `Dense(3, use_bias=False)` on 4 inputs: 12 parameters, `y = x·K`, and the
    /// gradients of the kernel and input are those of the same layer with a zero bias.
    #[test]
    fn dense_without_bias_has_only_its_kernel() {
        let with: Dense<4, 3, Sigmoid> =
            Dense::new([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5], [0.0, 2.0, 1.0], [-1.0, 1.0, 0.5]], [0.0; 3]);
        let without: Dense<4, 3, Sigmoid, f32, NoBias> = Dense::new(with.kernel, NoBias);
        assert_eq!(<Dense<4, 3, Sigmoid, f32, NoBias> as Params<f32>>::PARAMS, 12);
        assert_eq!(without.params().map(<[f32]>::len).collect::<std::vec::Vec<_>>(), [12]);
        let x = Vector::from([1.0, -2.0, 0.5, 3.0]);
        assert_eq!(with.forward(&x), without.forward(&x));
        let dy = Vector::from([1.0, -1.0, 2.0]);
        let (mut g_with, mut g_without) = (Dense::default(), Dense::default());
        let (mut dx_with, mut dx_without) = (Vector::default(), Vector::default());
        with.backward(&x, &with.forward_train(&x).1, &dy, &mut g_with, Some(&mut dx_with));
        without.backward(&x, &without.forward_train(&x).1, &dy, &mut g_without, Some(&mut dx_without));
        assert_eq!((g_with.kernel, dx_with), (g_without.kernel, dx_without));
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
