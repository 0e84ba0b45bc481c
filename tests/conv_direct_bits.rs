//! The single-sample direct convolution, pinned bit for bit: every output is the bias, then
//! `x·w` added for `ky`, `kx`, input channel in that order — fused multiply-adds on the
//! AVX2/AVX-512 paths, a multiply then an add on the portable one — checked against a naive
//! loop written here, for 3×3 "same" convolutions with 16, 32 and 64 channels at strides 1
//! and 2 (ResNet-8's), widths of every residue modulo 8, and "valid" padding. On the AVX-512 and
//! AVX2 paths the layer runs the explicit-SIMD kernel of `src/kernel/conv_direct.rs` (blocks of
//! output pixels × vectors of output channels in registers, issue 14), which keeps this order,
//! so this test still asks for the same bits. Run it on each path with
//! `TYPED_NN_SIMD=avx512|avx2|portable` (the kernel's own unit tests call both SIMD paths
//! directly, whatever the variable says).

use typed_nn::prelude::*;
use typed_nn::{FloatSimd, float_simd};

/// Deterministic values in [−1, 1) that are not round, so sums round differently when
/// reordered.
fn fill(seed: u64, v: &mut [f32]) {
    let mut rng = SeedRng::seed(seed);
    v.iter_mut().for_each(|v| *v = (typed_nn::init::uniform01(&mut rng) * 2.0 - 1.0) as f32);
}

// Indices, not iterators: the loop is the convolution's formula, written as plainly as it reads.
#[allow(clippy::needless_range_loop)]
fn naive<const CI: usize, const CO: usize, const K: usize>(
    kernel: &[[[[f32; CO]; CI]; K]; K],
    bias: &[f32; CO],
    x: &[f32],
    (h, w): (usize, usize),
    (ho, wo): (usize, usize),
    stride: usize,
    (top, left): (usize, usize),
) -> Vec<f32> {
    let fma = float_simd() != FloatSimd::Portable;
    let mut y = Vec::new();
    for oy in 0..ho {
        for ox in 0..wo {
            for o in 0..CO {
                let mut acc = bias[o];
                for ky in 0..K {
                    let Some(iy) = (oy * stride + ky).checked_sub(top).filter(|&i| i < h) else { continue };
                    for kx in 0..K {
                        let Some(ix) = (ox * stride + kx).checked_sub(left).filter(|&i| i < w) else { continue };
                        for c in 0..CI {
                            let (xv, wv) = (x[(iy * w + ix) * CI + c], kernel[ky][kx][c][o]);
                            acc = if fma { xv.mul_add(wv, acc) } else { acc + xv * wv };
                        }
                    }
                }
                y.push(acc);
            }
        }
    }
    y
}

macro_rules! case {
    ($name:ident, $ci:literal, $co:literal, $s:literal, $pad:ident, $h:literal, $w:literal) => {
        #[test]
        fn $name() {
            type L = Conv2D<$ci, $co, 3, Identity, $s, $pad>;
            let mut layer: Box<L> = L::new_boxed();
            fill(1, layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
            fill(2, &mut layer.bias);
            let mut x = Image::<$h, $w, $ci>::default();
            fill(3, x.as_mut_slice());
            let y = layer.forward(&x);
            let same = stringify!($pad) == "Same";
            let out = |n: usize| if same { n.div_ceil($s) } else { (n - 3) / $s + 1 };
            let (ho, wo) = (out($h), out($w));
            // Keras' "same": the extra padding goes after (bottom, right).
            let before = |n: usize, o: usize| if same { ((o - 1) * $s + 3).saturating_sub(n) / 2 } else { 0 };
            let expected = naive(
                &layer.kernel,
                &layer.bias,
                x.as_slice(),
                ($h, $w),
                (ho, wo),
                $s,
                (before($h, ho), before($w, wo)),
            );
            assert_eq!(y.as_slice().len(), expected.len());
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(y.as_slice()), bits(&expected), "path {}", float_simd());
        }
    };
}

case!(ch16_stride1_same, 16, 16, 1, Same, 32, 32);
case!(ch16_to_32_stride2_same, 16, 32, 2, Same, 32, 32);
case!(ch32_stride1_same, 32, 32, 1, Same, 16, 16);
case!(ch32_to_64_stride2_same, 32, 64, 2, Same, 16, 16);
case!(ch64_stride1_same, 64, 64, 1, Same, 8, 8);
// Odd widths, and no padding at all.
case!(ch16_odd_width_valid, 3, 16, 1, Valid, 7, 13);
case!(ch32_odd_width_same, 8, 32, 1, Same, 5, 11);
case!(ch64_odd_width_stride2_valid, 4, 64, 2, Valid, 9, 9);
