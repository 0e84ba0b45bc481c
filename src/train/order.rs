//! The order in which an epoch visits the samples: shuffled, or in order.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use crate::init::SeedRng;

/// The order in which an epoch visits the samples.
pub(crate) enum Order {
    /// A Fisher–Yates permutation (feature `alloc`).
    #[cfg(feature = "alloc")]
    Shuffled(Vec<usize>),
    /// `i ↦ (a·i + b) mod n` with `gcd(a, n) = 1`: a permutation that needs no memory, for
    /// `no_std` without `alloc`. It mixes less than a uniform shuffle, but every epoch visits
    /// every sample once, in an order that changes per epoch.
    #[cfg_attr(feature = "alloc", allow(dead_code))]
    Affine { a: usize, b: usize, n: usize },
    /// In order.
    Sequential,
}

impl Order {
    pub(crate) fn new(n: usize, shuffle: bool, rng: &mut SeedRng) -> Self {
        if !shuffle {
            return Order::Sequential;
        }
        #[cfg(feature = "alloc")]
        {
            let mut p: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                p.swap(i, rng.below(i + 1));
            }
            Order::Shuffled(p)
        }
        #[cfg(not(feature = "alloc"))]
        Self::affine(n, rng)
    }

    /// A random affine permutation of `0..n`: `a` coprime to `n`, `b` any offset.
    #[cfg_attr(feature = "alloc", allow(dead_code))]
    pub(crate) fn affine(n: usize, rng: &mut SeedRng) -> Self {
        let mut a = 1 + rng.below(n.max(1));
        while gcd(a, n) != 1 {
            a = a % n.max(1) + 1;
        }
        Order::Affine { a, b: rng.below(n.max(1)), n }
    }

    pub(crate) fn at(&self, i: usize) -> usize {
        match self {
            #[cfg(feature = "alloc")]
            Order::Shuffled(p) => p.get(i).copied().unwrap_or(i),
            Order::Affine { a, b, n } => (a.wrapping_mul(i).wrapping_add(*b)) % (*n).max(1),
            Order::Sequential => i,
        }
    }
}

#[cfg_attr(feature = "alloc", allow(dead_code))]
fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_orders_visit_every_sample_once() {
        let mut rng = SeedRng::seed(3);
        for n in [1usize, 2, 7, 12, 97, 100] {
            for _ in 0..5 {
                let order = Order::affine(n, &mut rng);
                let mut seen = std::vec![false; n];
                for i in 0..n {
                    seen[order.at(i)] = true;
                }
                assert!(seen.iter().all(|&s| s), "n = {n}");
            }
        }
    }
}
