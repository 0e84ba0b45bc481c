//! Weight initialisation with Keras' defaults, and a small seedable random generator.
//!
//! `Model::init(&mut rng)` takes any [`rand_core::Rng`], so generators from the `rand`
//! ecosystem work; [`SeedRng`] is included so that a `no_std` user needs nothing else.
//! [`glorot_uniform`] and [`uniform01`] are public for your own layers' `init_params`.

use core::convert::Infallible;

use rand_core::{Rng, SeedableRng, TryRng};

use crate::Scalar;

/// A uniform sample in `[0, 1)` with 53 random bits, from any generator: the building block
/// of [`glorot_uniform`], public for your own layers' [`init_params`](crate::Params::init_params)
/// when `rand`'s distributions are not at hand (`no_std`).
///
/// # Examples
/// ```
/// use typed_nn::init::{SeedRng, uniform01};
/// let mut rng = SeedRng::seed(1);
/// // U(−0.05, 0.05), Keras' `RandomUniform()` default.
/// let w: Vec<f64> = (0..100).map(|_| 0.1 * uniform01(&mut rng) - 0.05).collect();
/// assert!(w.iter().all(|w| (-0.05..0.05).contains(w)));
/// ```
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Fills `out` with Glorot-uniform values: `U(−L, L)` with `L = √(6/(fan_in + fan_out))`.
///
/// **Keras equivalent:** `keras.initializers.GlorotUniform()`, the default
/// `kernel_initializer` of `Dense` and `Conv2D`. Keras draws from its own generator, so the
/// values differ; the distribution is the same.
///
/// # Examples
/// ```
/// use typed_nn::init::{glorot_uniform, SeedRng};
/// let mut w = [0.0f32; 6];
/// glorot_uniform(&mut SeedRng::seed(7), 2, 3, &mut w);
/// let limit = (6.0f32 / 5.0).sqrt();
/// assert!(w.iter().all(|x| x.abs() <= limit) && w.iter().any(|&x| x != 0.0));
/// ```
pub fn glorot_uniform<T: Scalar, R: Rng + ?Sized>(rng: &mut R, fan_in: usize, fan_out: usize, out: &mut [T]) {
    let fans = (fan_in + fan_out) as f64;
    let limit = if fans > 0.0 { libm::sqrt(6.0 / fans) } else { 0.0 };
    for w in out {
        *w = T::lit((2.0 * uniform01(rng) - 1.0) * limit);
    }
}

/// A small, fast, seedable generator (xoshiro256++, seeded through SplitMix64), for weight
/// initialisation and shuffling. Not for cryptography.
///
/// It was called `SmallRng`, which clashed with `rand::rngs::SmallRng` in programs that use
/// both crates; that name remains as a deprecated alias.
///
/// # Examples
/// ```
/// use typed_nn::prelude::*;
/// let mut a = SeedRng::seed(3);
/// let mut b = SeedRng::seed_from_u64(3);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedRng {
    s: [u64; 4],
}

/// The old name of [`SeedRng`].
#[deprecated(note = "renamed to `SeedRng`, so that it does not clash with `rand::rngs::SmallRng`")]
pub type SmallRng = SeedRng;

impl SeedRng {
    /// A generator from a 64-bit seed; `const`, so it can be a `static`.
    pub const fn seed(seed: u64) -> Self {
        let mut state = seed;
        let mut s = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            // SplitMix64, the seeding the xoshiro authors recommend.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            #[allow(clippy::indexing_slicing)] // i < 4 = s.len(); iterators are not const
            {
                s[i] = z ^ (z >> 31);
            }
            i += 1;
        }
        Self { s }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        self.s = [s0, s1, s2 ^ t, s3.rotate_left(45)];
        result
    }

    /// A uniform index in `0..n` (0 when `n == 0`), by Lemire's multiply-shift.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

impl TryRng for SeedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(bytes) {
                *d = s;
            }
        }
        Ok(())
    }
}

impl SeedableRng for SeedRng {
    type Seed = [u8; 8];

    fn from_seed(seed: [u8; 8]) -> Self {
        Self::seed(u64::from_le_bytes(seed))
    }

    fn seed_from_u64(state: u64) -> Self {
        Self::seed(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_rng_matches_the_xoshiro256plusplus_reference_sequence() {
        // Reference: state {1, 2, 3, 4} gives 41943041, 58720359, 3588806011781223, ... in the
        // authors' C implementation (xoshiro256plusplus.c).
        let mut rng = SeedRng { s: [1, 2, 3, 4] };
        assert_eq!(rng.next_u64(), 41_943_041);
        assert_eq!(rng.next_u64(), 58_720_359);
        assert_eq!(rng.next_u64(), 3_588_806_011_781_223);
    }

    #[test]
    fn glorot_uniform_fills_the_keras_interval_evenly() {
        let mut w = std::vec![0.0f64; 20_000];
        glorot_uniform(&mut SeedRng::seed(1), 200, 300, &mut w);
        let limit = (6.0f64 / 500.0).sqrt();
        assert!(w.iter().all(|x| x.abs() <= limit));
        let max = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(max > 0.999 * limit, "max |w| {max} should approach the limit {limit}");
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        assert!(mean.abs() < 0.01 * limit, "mean {mean} should be near 0");
        // Variance of U(−L, L) is L²/3 = 2/(fan_in + fan_out).
        let var = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 500.0).abs() < 0.05 * 2.0 / 500.0, "variance {var}");
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = SeedRng::seed(9);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
