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

/// Any convolution of one image as its formula (rectangular kernel and strides, either
/// padding), the taps added in the layers' order: per output the bias, then `ky`, `kx` and,
/// for a full convolution, the input channel, each skipped outside the image. `depthwise`: one
/// filter per channel (depth multiplier 1), kernel `[kh][kw][C]`, output channel `o` reading
/// input channel `o` only; otherwise the kernel is `[kh][kw][ci][co]`.
#[allow(clippy::too_many_arguments)]
fn naive_any(
    kernel: &[f32],
    bias: &[f32],
    x: &[f32],
    (h, w, ci): (usize, usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    same: bool,
    depthwise: bool,
) -> Vec<f32> {
    let fma = float_simd() != FloatSimd::Portable;
    let co = bias.len();
    let out = |n: usize, k: usize, s: usize| if same { n.div_ceil(s) } else { (n - k) / s + 1 };
    let (ho, wo) = (out(h, kh, sh), out(w, kw, sw));
    // Keras' "same": the extra padding goes after (bottom, right).
    let before =
        |n: usize, o: usize, k: usize, s: usize| if same { ((o - 1) * s + k).saturating_sub(n) / 2 } else { 0 };
    let (top, left) = (before(h, ho, kh, sh), before(w, wo, kw, sw));
    let mut y = Vec::new();
    for oy in 0..ho {
        for ox in 0..wo {
            for o in 0..co {
                let mut acc = bias[o];
                for ky in 0..kh {
                    let Some(iy) = (oy * sh + ky).checked_sub(top).filter(|&i| i < h) else { continue };
                    for kx in 0..kw {
                        let Some(ix) = (ox * sw + kx).checked_sub(left).filter(|&i| i < w) else { continue };
                        let channels = if depthwise { o..o + 1 } else { 0..ci };
                        for c in channels {
                            let wv = if depthwise {
                                kernel[(ky * kw + kx) * ci + c]
                            } else {
                                kernel[((ky * kw + kx) * ci + c) * co + o]
                            };
                            let xv = x[(iy * w + ix) * ci + c];
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

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

/// DS-CNN's first convolution (10 × 4, stride 2, "same" padding uneven: 4 rows above, 5
/// below) and its 1 × 1 convolutions (which the layer runs as a matrix product on the row GEMM
/// of `src/kernel/rowgemm.rs`, tiles of 6 pixels across the 5-pixel rows), as the model has
/// them.
#[test]
fn ds_cnn_convolutions() {
    type Stem = Conv2DRect<1, 64, 10, 4, Identity, 2, 2, Same>;
    let mut stem: Box<Stem> = Stem::new_boxed();
    fill(4, stem.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
    fill(5, &mut stem.bias);
    let mut x = Image::<49, 10, 1>::default();
    fill(6, x.as_mut_slice());
    let y: Image<25, 5, 64> = stem.forward(&x);
    let kernel = stem.kernel.as_flattened().as_flattened().as_flattened();
    let expected = naive_any(kernel, &stem.bias, x.as_slice(), (49, 10, 1), (10, 4), (2, 2), true, false);
    assert_eq!(bits(y.as_slice()), bits(&expected), "stem, path {}", float_simd());

    type Pointwise = Conv2D<64, 64, 1, Identity, 1, Same>;
    let mut pw: Box<Pointwise> = Pointwise::new_boxed();
    fill(7, pw.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
    fill(8, &mut pw.bias);
    let z: Image<25, 5, 64> = pw.forward(&y);
    let kernel = pw.kernel.as_flattened().as_flattened().as_flattened();
    let expected = naive_any(kernel, &pw.bias, y.as_slice(), (25, 5, 64), (1, 1), (1, 1), true, false);
    assert_eq!(bits(z.as_slice()), bits(&expected), "1×1, path {}", float_simd());
}

/// A 1 × 1 stride-1 `Conv2D` against its formula, bit for bit: on the AVX-512/AVX2 paths the
/// row GEMM when `CO` is a multiple of the vector width (tiles of 6, 5, ..., 1 pixels across
/// image rows; 64, 32 and 16 channels wide), else the direct kernel.
macro_rules! pointwise_case {
    ($name:ident, $ci:literal, $co:literal, $pad:ident, $h:literal, $w:literal, $b:ident) => {
        #[test]
        fn $name() {
            type L = Conv2D<$ci, $co, 1, Identity, 1, $pad, f32, $b>;
            let mut layer: Box<L> = L::new_boxed();
            // The bias, if the layer has one; zeros otherwise.
            let mut bias = [0.0f32; $co];
            {
                let mut params = layer.params_mut();
                params.next().into_iter().for_each(|kernel| fill(12, kernel));
                if let Some(b) = params.next() {
                    fill(13, b);
                    bias.copy_from_slice(b);
                }
            }
            let mut x = Image::<$h, $w, $ci>::default();
            fill(14, x.as_mut_slice());
            let y: Image<$h, $w, $co> = layer.forward(&x);
            let kernel = layer.kernel.as_flattened().as_flattened().as_flattened();
            let same = stringify!($pad) == "Same";
            let expected = naive_any(kernel, &bias, x.as_slice(), ($h, $w, $ci), (1, 1), (1, 1), same, false);
            assert_eq!(bits(y.as_slice()), bits(&expected), "path {}", float_simd());
        }
    };
}

// 64 + 16 channels (a 64-wide and a 16-wide tile), 48 (32 + 16), 16, and 24 and 8 (not a
// multiple of 16: the AVX-512 path leaves them to the direct kernel's AVX2 blocks); pixel counts
// of every residue modulo 6 (70, 12, 14, 15, 1, 125); one input channel; a layer without a bias (sums start from +0.0).
pointwise_case!(pointwise_ch80_same, 32, 80, Same, 7, 10, Bias);
pointwise_case!(pointwise_ch48_valid, 16, 48, Valid, 3, 4, Bias);
pointwise_case!(pointwise_ch16_one_input_channel, 1, 16, Same, 2, 7, Bias);
pointwise_case!(pointwise_ch24_direct_fallback, 5, 24, Valid, 3, 5, Bias);
pointwise_case!(pointwise_ch8_single_pixel, 3, 8, Same, 1, 1, Bias);
pointwise_case!(pointwise_ch64_no_bias, 64, 64, Same, 25, 5, NoBias);

/// A `DepthwiseConv2D` (depth multiplier 1) against its formula, bit for bit: on the
/// AVX-512/AVX2 paths the explicit-SIMD kernel (channels as lanes, the weights of a vector of
/// channels in registers), which keeps the order. With an activation (`Relu`, `Relu6`), the
/// kernel applies it before its store: the expected values are the formula's, then the
/// activation's own `f`.
macro_rules! depthwise_case {
    ($name:ident, $c:literal, $kh:literal, $kw:literal, $sh:literal, $sw:literal, $pad:ident, $h:literal, $w:literal) => {
        depthwise_case!($name, $c, $kh, $kw, $sh, $sw, $pad, $h, $w, Identity);
    };
    ($name:ident, $c:literal, $kh:literal, $kw:literal, $sh:literal, $sw:literal, $pad:ident, $h:literal, $w:literal, $act:ident) => {
        #[test]
        fn $name() {
            type L = DepthwiseConv2DRect<$c, $kh, $kw, $act, $sh, $sw, $pad>;
            let mut layer = L::default();
            fill(9, layer.kernel.as_flattened_mut().as_flattened_mut().as_flattened_mut());
            fill(10, layer.bias.as_flattened_mut());
            let mut x = Image::<$h, $w, $c>::default();
            fill(11, x.as_mut_slice());
            let y = layer.forward(&x);
            let kernel = layer.kernel.as_flattened().as_flattened().as_flattened();
            let same = stringify!($pad) == "Same";
            let pre = naive_any(
                kernel,
                layer.bias.as_flattened(),
                x.as_slice(),
                ($h, $w, $c),
                ($kh, $kw),
                ($sh, $sw),
                same,
                true,
            );
            let expected: Vec<f32> = pre.iter().map(|&v| <$act as Activation>::f(v)).collect();
            assert_eq!(bits(y.as_slice()), bits(&expected), "path {}", float_simd());
            // An activation changes some outputs here, so one that was skipped would show.
            assert_eq!(bits(&pre) == bits(&expected), stringify!($act) == "Identity");
        }
    };
}

// DS-CNN's four (25 × 5 × 64, 3 × 3, "same": a border, 3 interior and a border column).
depthwise_case!(depthwise_ds_cnn, 64, 3, 3, 1, 1, Same, 25, 5);
// Channel counts the AVX-512 path leaves to the AVX2 one (8, 48), wide images (runs of
// interior columns), strides, rectangular kernels, "valid" padding, and a kernel larger than
// the image.
depthwise_case!(depthwise_ch8_wide, 8, 3, 3, 1, 1, Same, 6, 19);
depthwise_case!(depthwise_ch16_stride2, 16, 3, 3, 2, 2, Same, 17, 17);
depthwise_case!(depthwise_ch32_rect_valid, 32, 3, 5, 1, 2, Valid, 12, 21);
depthwise_case!(depthwise_ch48_tall_stride, 48, 5, 3, 2, 1, Same, 23, 7);
depthwise_case!(depthwise_ch16_kernel_over_image, 16, 5, 5, 1, 1, Same, 3, 4);
// C = 16, 32, 64 and 256 (MobileNetV1's widths at 3 × 3 stride 1 and 2), odd and even sides,
// rows of a single pixel, and activations applied inside the kernel.
depthwise_case!(depthwise_ds_cnn_relu, 64, 3, 3, 1, 1, Same, 25, 5, Relu);
depthwise_case!(depthwise_ch256_stride1_odd, 256, 3, 3, 1, 1, Same, 7, 7, Relu6);
depthwise_case!(depthwise_ch256_stride2_even, 256, 3, 3, 2, 2, Same, 14, 14, Relu);
depthwise_case!(depthwise_ch32_stride1_wide, 32, 3, 3, 1, 1, Same, 12, 29, Relu6);
depthwise_case!(depthwise_ch64_stride2_odd, 64, 3, 3, 2, 2, Same, 15, 13, Relu);
depthwise_case!(depthwise_ch16_stride2_valid, 16, 3, 3, 2, 2, Valid, 10, 9);
depthwise_case!(depthwise_ch32_single_column, 32, 3, 3, 1, 1, Same, 9, 1);
