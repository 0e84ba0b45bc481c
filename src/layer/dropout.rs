//! [`Dropout`]: the identity at inference; in batched training, inverted dropout with masks
//! that depend only on a seed, the step and the values, so runs are reproducible.
//!
//! # Where the rate lives: in the type
//! Keras' rate is a float, and a const generic cannot be a float on stable Rust. The rate is
//! still a type parameter here, in thousandths: `Dropout<200>` is Keras' `Dropout(0.2)`. It is
//! a hyper-parameter like a kernel size or a stride, which are const generics too, so the model
//! type says everything about the architecture: `Model::init` and `Model::default` build the
//! right dropout (a rate in a field would need a constructor, and `Default` would have to
//! invent one), summaries and files need nothing, and a rate of 1 or more (Keras refuses it:
//! every value would be dropped) is a compile error. Thousandths cover every rate Keras models
//! use (0.1, 0.2, 0.25, 0.4, 0.5, 0.125 are 100, 200, 250, 400, 500, 125).
//!
//! # Where the randomness comes from
//! The layer holds a `seed` (drawn from the generator by [`init`](Params::init), 0 by
//! `Default`) and a step counter that [`update_state`](crate::params::update_state) advances
//! once per training step (the `Trainer` calls it). A sample's mask is a hash of the seed, the
//! step and the *values* of the sample reaching the layer: the same data, seed and step give
//! the same masks, and a sample's mask does not depend on where it sits in the batch or which
//! thread computes it, so `fit` and `fit_threaded` draw the same masks wherever the values
//! reaching the layer are bit-for-bit the same. Two equal samples in one batch get the same
//! mask.
//!
//! # Training mode and inference mode
//! As with [`BatchNormalization`](crate::layer::BatchNormalization), training mode lives in
//! the batched training path (`value_and_grad_batch`, the `Trainer` with feature `alloc`): each
//! value is kept with probability `1 − rate` and scaled by `1/(1 − rate)` (inverted dropout,
//! Keras' formula), and the backward pass multiplies by the same mask. The single-sample path
//! ([`Backward::forward_train`], `value_and_grad`, `value_and_grad_mean`, and the `Trainer`
//! without `alloc`) is inference mode: the identity, whose gradient is the identity, so
//! per-sample training and gradient checks see the function that `forward` computes.

use rand_core::Rng;

use crate::layer::{Seal, rows, rows_mut};
use crate::{Backward, Layer, Params, Scalar, Tensor};

/// Inverted dropout at rate `PERMILLE/1000` in batched training, the identity otherwise (see
/// the [module docs](self)): `y = x·mask/(1 − rate)` with `mask` 0 with probability `rate`.
///
/// **Keras equivalent:** `keras.layers.Dropout(PERMILLE / 1000)`. Keras draws its masks from
/// its own random generator; the masks here are typed-nn's own (see the module docs), so a
/// training run with dropout cannot reproduce Keras' bit for bit.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// use typed_nn::layer::Dropout;
/// type Net = (Dense<4, 8, Relu>, Dropout<200>, Dense<8, 2, Softmax>); // Keras: Dropout(0.2)
/// let model: Net = Net::init(&mut SeedRng::seed(0));
/// let x = Vector::from([1.0, 2.0, 3.0, 4.0]);
/// // At inference it is the identity.
/// assert_eq!(model.1.forward(&model.0.forward(&x)), model.0.forward(&x));
/// assert_eq!(<Dropout<200>>::RATE, 0.2);
/// ```
///
/// # Panics
/// Never.
///
/// # Allocation
/// None: two `u64`s (the seed and the step). Batched training keeps the mask, one scalar per
/// value, in its cache.
///
/// Generic parameters:
/// - `PERMILLE`: the rate in thousandths, below 1000 (`Dropout<200>` drops 20%).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dropout<const PERMILLE: usize> {
    /// The seed of the masks (drawn by `init`, 0 by `Default`).
    pub seed: u64,
    step: u64,
}

/// A rate below 1: checked when the program is built. The compiler's note names the rate,
/// `RateBelowOne::<1000>::OK`.
struct RateBelowOne<const PERMILLE: usize>;

impl<const PERMILLE: usize> RateBelowOne<PERMILLE> {
    const OK: () = assert!(
        PERMILLE < 1000,
        "a `Dropout<PERMILLE>` rate is in thousandths and must be below 1000 (Keras' rate is below 1): `Dropout<200>` is `Dropout(0.2)`"
    );
}

impl<const PERMILLE: usize> Dropout<PERMILLE> {
    /// The rate, `PERMILLE / 1000`.
    pub const RATE: f64 = {
        let () = RateBelowOne::<PERMILLE>::OK;
        PERMILLE as f64 / 1000.0
    };

    /// A dropout layer whose masks come from `seed`; `const`, for a `static`.
    pub const fn new(seed: u64) -> Self {
        let () = RateBelowOne::<PERMILLE>::OK;
        Self { seed, step: 0 }
    }

    /// Training steps taken so far (the masks change with it).
    pub const fn step(&self) -> u64 {
        self.step
    }

    /// For [`model_from_le_bytes!`](crate::model_from_le_bytes): no parameters, so the layer
    /// with seed 0, whatever the bytes.
    pub const fn from_le_bytes_at(_bytes: &[u8], _offset: usize) -> Self {
        Self::new(0)
    }

    /// The key of one sample's mask: the seed, the step and the sample's values, mixed.
    fn key<T: Scalar>(&self, row: &[T]) -> u64 {
        let mut h = mix(self.seed ^ mix(self.step.wrapping_add(0x632B_E59B_D9B4_E019)));
        for v in row {
            h = (h ^ v.to_f64_lossless().to_bits()).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        }
        mix(h)
    }

    /// The mask of one sample: `1/(1 − rate)` for a kept value, 0 for a dropped one, with each
    /// value kept with probability `1 − rate` (a 53-bit uniform draw per value).
    fn mask<T: Scalar>(&self, row: &[T], mask: &mut [T]) {
        let keep = 1.0 - Self::RATE;
        let threshold = (keep * (1u64 << 53) as f64) as u64;
        let scale = T::lit(1.0 / keep);
        let key = self.key(row);
        for (i, m) in mask.iter_mut().enumerate() {
            let draw = mix(key.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))) >> 11;
            *m = if draw < threshold { scale } else { T::zero() };
        }
    }
}

/// The SplitMix64 finaliser: a bijection of `u64` that mixes every bit into every other.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<const PERMILLE: usize> crate::io::bytes::ConstLoad for Dropout<PERMILLE> {
    const BYTES: usize = 0;
}

impl<const PERMILLE: usize, S: crate::io::bytes::ImageAt> crate::io::bytes::FromImage<S> for Dropout<PERMILLE> {
    const DECODED: Self = Self::new(0);
}

impl<const PERMILLE: usize, T: Scalar> Params<T> for Dropout<PERMILLE> {
    /// A new seed for the masks, from `rng`; the step restarts at 0.
    fn init_params<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        *self = Self::new(rng.next_u64());
    }

    /// Advances the step, so that the next training step draws new masks.
    fn update_state(&mut self, _: Seal, _grad: &Self) {
        self.step = self.step.wrapping_add(1);
    }
}

impl<X: Tensor, const PERMILLE: usize> Layer<X> for Dropout<PERMILLE> {
    type Out = X;
    const NAME: &'static str = "Dropout";
    const CHECK: () = RateBelowOne::<PERMILLE>::OK;

    /// The identity (inference mode).
    #[inline]
    fn forward(&self, x: &X) -> X {
        let () = RateBelowOne::<PERMILLE>::OK;
        x.clone()
    }

    #[inline]
    fn forward_into(&self, _: Seal, x: &X, out: &mut X) {
        let () = RateBelowOne::<PERMILLE>::OK;
        out.as_mut_slice().copy_from_slice(x.as_slice());
    }

    fn forward_batch_flat(&self, _: Seal, n: usize, xs: &[X::Elem], ys: &mut [X::Elem], _scratch: &mut [X::Elem]) {
        let len = n.saturating_mul(X::LEN);
        if let (Some(xs), Some(ys)) = (xs.get(..len), ys.get_mut(..len)) {
            ys.copy_from_slice(xs);
        }
    }
}

/// The single-sample path is the identity (inference mode); the batched hooks apply the
/// masks and keep them in the cache for the backward pass.
impl<X: Tensor, const PERMILLE: usize> Backward<X> for Dropout<PERMILLE> {
    type Cache = ();

    #[inline]
    fn forward_train(&self, x: &X) -> (X, ()) {
        (self.forward(x), ())
    }

    fn backward(&self, _x: &X, _cache: &(), dy: &X, _grad: &mut Self, dx: Option<&mut X>) {
        if let Some(dx) = dx {
            dx.as_mut_slice().copy_from_slice(dy.as_slice());
        }
    }

    /// The masks, one scalar per value.
    fn train_cache_len(_: Seal, n: usize) -> usize {
        n.saturating_mul(X::LEN)
    }

    fn train_scratch_len(_: Seal, _n: usize) -> usize {
        0
    }

    fn forward_train_batch_flat(
        &self,
        _: Seal,
        n: usize,
        xs: &[X::Elem],
        ys: &mut [X::Elem],
        cache: &mut [X::Elem],
        _scratch: &mut [X::Elem],
    ) {
        let rows_iter = rows(xs, X::LEN, n).zip(rows_mut(ys, X::LEN, n)).zip(rows_mut(cache, X::LEN, n));
        for ((x, y), mask) in rows_iter {
            self.mask(x, mask);
            for ((y, &x), &m) in y.iter_mut().zip(x).zip(&*mask) {
                *y = x * m;
            }
        }
    }

    fn backward_batch_flat(
        &self,
        _: Seal,
        n: usize,
        _xs: &[X::Elem],
        _ys: &[X::Elem],
        cache: &[X::Elem],
        dys: &[X::Elem],
        _grad: &mut Self,
        dxs: Option<&mut [X::Elem]>,
        _logits: bool,
        _scratch: &mut [X::Elem],
    ) {
        let len = n.saturating_mul(X::LEN);
        let (Some(dxs), Some(dys), Some(masks)) =
            (dxs.and_then(|d| d.get_mut(..len)), dys.get(..len), cache.get(..len))
        else {
            return;
        };
        for ((dx, &dy), &m) in dxs.iter_mut().zip(dys).zip(masks) {
            *dx = dy * m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Vector;
    use std::vec;
    use std::vec::Vec;

    type X = Vector<1000, f64>;

    fn sample(offset: f64) -> X {
        Vector::from_fn(|i| (i as f64 * 0.37 + offset).sin())
    }

    fn train(layer: &Dropout<250>, xs: &[X]) -> (Vec<f64>, Vec<f64>) {
        let flat: Vec<f64> = xs.iter().flat_map(|x| x.as_slice().to_vec()).collect();
        let (mut ys, mut mask) = (vec![0.0; flat.len()], vec![0.0; flat.len()]);
        <Dropout<250> as Backward<X>>::forward_train_batch_flat(
            layer,
            Seal,
            xs.len(),
            &flat,
            &mut ys,
            &mut mask,
            &mut [],
        );
        (ys, mask)
    }

    #[test]
    fn training_keeps_values_with_probability_one_minus_rate_and_scales_them() {
        let layer = Dropout::<250>::new(7);
        let xs: Vec<X> = (0..8).map(|s| sample(s as f64)).collect();
        let (ys, mask) = train(&layer, &xs);
        let kept = mask.iter().filter(|&&m| m != 0.0).count();
        // 8000 Bernoulli(0.75) draws: mean 6000, standard deviation 38.7; ±5σ.
        assert!((kept as f64 - 6000.0).abs() < 5.0 * 38.7, "{kept} kept");
        assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
        let flat: Vec<f64> = xs.iter().flat_map(|x| x.as_slice().to_vec()).collect();
        for ((y, x), m) in ys.iter().zip(&flat).zip(&mask) {
            assert_eq!(*y, x * m);
        }
    }

    #[test]
    fn masks_depend_on_seed_step_and_values_not_on_the_position_in_the_batch() {
        let layer = Dropout::<250>::new(7);
        let (a, b) = (sample(0.0), sample(1.0));
        let (_, ab) = train(&layer, &[a, b]);
        let (_, ba) = train(&layer, &[b, a]);
        assert_eq!(ab[..1000], ba[1000..], "the same sample, another position: the same mask");
        assert_ne!(ab[..1000], ab[1000..], "two samples: two masks");
        let (_, other_seed) = train(&Dropout::<250>::new(8), &[a]);
        assert_ne!(ab[..1000], other_seed[..]);
        let mut next = layer;
        Params::<f64>::update_state(&mut next, Seal, &layer);
        assert_eq!(next.step(), 1);
        let (_, next_step) = train(&next, &[a]);
        assert_ne!(ab[..1000], next_step[..]);
    }

    #[test]
    fn the_batched_backward_multiplies_by_the_forward_mask() {
        let layer = Dropout::<250>::new(3);
        let xs = [sample(0.5), sample(2.0)];
        let (_, mask) = train(&layer, &xs);
        let flat: Vec<f64> = xs.iter().flat_map(|x| x.as_slice().to_vec()).collect();
        let dys: Vec<f64> = (0..2000).map(|i| i as f64 * 0.01 - 3.0).collect();
        let mut dxs = vec![0.0; 2000];
        let mut grad = Dropout::<250>::default();
        <Dropout<250> as Backward<X>>::backward_batch_flat(
            &layer,
            Seal,
            2,
            &flat,
            &[],
            &mask,
            &dys,
            &mut grad,
            Some(&mut dxs),
            false,
            &mut [],
        );
        for ((dx, dy), m) in dxs.iter().zip(&dys).zip(&mask) {
            assert_eq!(*dx, dy * m);
        }
    }
}
