//! The int8 dot products behind every int8 `Dense` and `Conv2D`, with a portable path and, on
//! x86-64 with `std`, AVX2 and AVX-512 VNNI paths chosen at run time.
//!
//! All paths compute the same exact integers: `Σ x[i]·w[i]` of int8 values in `i32`, wrapping
//! (a sum of at most 2²⁴ products of magnitude ≤ 2¹⁴ cannot wrap in practice, and the wrapping
//! is the same on every path anyway). Integer addition is associative, so the order the paths
//! sum in does not matter: their results are bit-identical, which `tests` below and
//! `tests/int8_simd.rs` check.
//!
//! The SIMD paths multiply `|x|` (an unsigned byte, at most 128) by `w` with the sign of `x`
//! moved onto it (`vpsignb`): `|x|·sign(x)·w = x·w`. For `|w| ≤ 127` each product is at most
//! 16 256 in magnitude, so `vpmaddubsw`'s saturating pair sums (≤ 32 512) never saturate and
//! `vpdpbusd` is exact too. TFLite's weights are symmetric (`−127..=127`); a layer with a −128
//! weight (which `vpsignb` cannot negate) is flagged at construction and takes the portable
//! path (see [`has_no_minus_128`]).
//!
//! Convolutions on the AVX-512 VNNI path whose filter count is a multiple of 16 (DS-CNN's stem
//! and 1×1 layers, ResNet-8's convolutions; a receptive field that is not a multiple of 4
//! values is zero-padded to one by the caller) run as one matrix product over their pixels
//! instead ([`gemm_requantized`]): the inputs flipped to unsigned
//! (`x ⊕ 0x80 = x + 128`) against the signed weights with 512-bit `vpdpbusd`, four pixels per
//! load of the weights, starting each sum from `−128·Σ w + bias` so that the offset cancels,
//! as XNNPACK does (no sign trick, −128 weights included), and each tile (four pixels × 64
//! outputs, eight × 32 or sixteen × 16) is requantized while its sums are still in registers. Depthwise convolutions with one filter
//! per channel, a multiple of 64 channels and at most 4 kernel rows put the kernel rows of a
//! channel into the four bytes of one `vpdpbusd` lane on that path, also requantizing in
//! registers ([`depthwise_requantized`]); otherwise they multiply 16 (AVX-512) or 8 (AVX2)
//! channels per instruction, reading each tap's pixel in place ([`depthwise_taps`]).
//!
//! The AVX2 path (no `vpdpbusd`) runs the same two fused kernels with `vpmaddwd` on `i16`
//! pairs, exact without the sign trick (`|x·w| ≤ 2¹⁴`, two products per 32-bit lane, −128
//! weights included): the matrix product on the inputs widened once per call, tiles of four
//! pixels × 16 outputs, and the depthwise kernel with kernel rows paired instead of in
//! quadruples, 16 channels at a time; both requantize in registers on 8 lanes. (`vpmaddubsw`
//! would add pairs of `u8·i8` products in saturating `i16`: exact only with the sign trick and
//! no −128 weight, and no fewer instructions per product.)
//!
//! Requantization ([`requantize_rows`], [`requantize_pixels`] and the fused kernels'
//! epilogue) is TFLite's `MultiplyByQuantizedMultiplier` on 16 (AVX-512) or 8 (AVX2) lanes,
//! equal to the scalar routine for every `i32` accumulator, bias, multiplier and shift, the
//! saturating `i32::MIN·i32::MIN` included (tested, a proptest among the tests). Convolutions
//! lay their per-channel multipliers and shifts out once per call ([`ChannelRequant`]). On
//! AVX-512, blocks without a left shift and without an `i32::MIN` multiplier (all of TFLite's)
//! round once, in 64 bits, instead of twice (the same integers; see `Channels16::apply_short`),
//! and the fused kernels narrow 64 outputs with AVX-512BW's saturating packs (16 at a time
//! with `vpmovsdb` in blocks of 16 or 32 outputs). The residual `ADD` requantizes sixteen values
//! at a time on that path ([`add_requantized`]).
//!
//! `TYPED_NN_SIMD=avx512|avx2|portable` (read once, with `std`) caps the path, so both SIMD
//! paths and the portable one can be measured on one machine; a path the CPU lacks falls back
//! to the next one down. Reading it allocates a copy of its value, only when it is set
//! (`tests/int8_no_alloc.rs`). The same variable caps the float kernels
//! ([`crate::float_simd`]).

use crate::quant::kernel::requantize;
use crate::quant::requant::Requant;

/// The int8 kernel path in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Simd {
    /// Portable Rust, vectorised by the compiler for the target it is built for.
    Portable,
    /// 256-bit AVX2: `vpsignb`, `vpmaddubsw`, `vpmaddwd`.
    Avx2,
    /// AVX-512 VNNI: 256-bit `vpdpbusd` (with AVX-512VL) and AVX2's `vpsignb` for dense
    /// layers, 512-bit `vpdpbusd` for the convolutions' matrix products and depthwise
    /// products, and 16-lane AVX-512F requantization narrowed with AVX-512BW's saturating
    /// packs (all five extensions are required for this path).
    Avx512Vnni,
}

impl core::fmt::Display for Simd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Portable => "portable",
            Self::Avx2 => "avx2",
            Self::Avx512Vnni => "avx512-vnni",
        })
    }
}

/// The int8 kernel path this process uses: the widest the CPU has (with `std` on x86-64;
/// otherwise [`Simd::Portable`]), capped by the environment variable
/// `TYPED_NN_SIMD=avx512|avx2|portable`. Detected on the first call; every path computes the
/// same bytes.
///
/// # Examples
/// ```
/// let path = typed_nn::quant::simd();
/// println!("int8 kernels: {path}"); // "avx512-vnni", "avx2" or "portable"
/// ```
pub fn simd() -> Simd {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        static LEVEL: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            let avx2 = std::is_x86_feature_detected!("avx2");
            let vnni = avx2
                && std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vnni");
            use crate::kernel::simd::FloatSimd;
            // The same variable, parsed once, caps the float kernels.
            let cap = match crate::kernel::simd::env_cap() {
                Some(FloatSimd::Portable) => Simd::Portable,
                Some(FloatSimd::Avx2Fma) => Simd::Avx2,
                Some(FloatSimd::Avx512) | None => Simd::Avx512Vnni,
            };
            let best = if vnni {
                Simd::Avx512Vnni
            } else if avx2 {
                Simd::Avx2
            } else {
                Simd::Portable
            };
            best.min(cap)
        })
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        Simd::Portable
    }
}

/// Whether no weight is −128, the condition for the SIMD paths (computed once per layer, at
/// construction; a `const fn` so layers built at compile time have it too).
#[allow(clippy::indexing_slicing)] // `i < w.len()`, the loop bound; `get` is not const
pub(crate) const fn has_no_minus_128(w: &[i8]) -> bool {
    let mut i = 0;
    while i < w.len() {
        if w[i] == i8::MIN {
            return false;
        }
        i += 1;
    }
    true
}

/// `acc[r] = Σᵢ x[i]·w[r·n + i]` for every row `r < acc.len()`, `n = x.len()`, in `i32`
/// (wrapping). `narrow` says that no weight is −128 (see the module docs); without it, or with
/// rows missing from `w`, the portable path runs.
#[inline]
pub(crate) fn dot_rows(x: &[i8], w: &[i8], acc: &mut [i32], narrow: bool) {
    let n = x.len();
    let complete = n.checked_mul(acc.len()).is_some_and(|len| len <= w.len());
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if narrow && complete && n >= 32 {
        match simd() {
            // SAFETY: `dot_rows_vnni` requires the `avx2`, `avx512f`, `avx512vl` and
            // `avx512vnni` target features; `simd()` returns `Avx512Vnni` only when the CPU
            // reported all four.
            Simd::Avx512Vnni => return unsafe { x86::dot_rows_vnni(x, w, acc) },
            // SAFETY: `dot_rows_avx2` requires `avx2`; `simd()` returns `Avx2` only when the CPU
            // reported it.
            Simd::Avx2 => return unsafe { x86::dot_rows_avx2(x, w, acc) },
            Simd::Portable => {}
        }
    }
    let _ = (narrow, complete);
    dot_rows_portable(x, w, acc);
}

/// The portable path: one row at a time, a dot product the compiler vectorises.
#[inline]
pub(crate) fn dot_rows_portable(x: &[i8], w: &[i8], acc: &mut [i32]) {
    for (a, row) in acc.iter_mut().zip(w.chunks_exact(x.len().max(1))) {
        *a = dot(x, row);
    }
}

/// `Σ a·b` over two int8 receptive fields of the same fixed shape (a conv's patch and one
/// filter), in `i32` (wrapping): every length is a constant, so small ones unroll completely.
#[inline(always)]
pub(crate) fn dot_fixed<const K: usize, const KW: usize, const CI: usize>(
    a: &[[[i8; CI]; KW]; K],
    b: &[[[i8; CI]; KW]; K],
) -> i32 {
    a.as_flattened()
        .as_flattened()
        .iter()
        .zip(b.as_flattened().as_flattened())
        .fold(0i32, |s, (&x, &w)| s.wrapping_add(i32::from(x) * i32::from(w)))
}

/// Whether [`dot_rows_packed`] has a SIMD path for `n` inputs and `rows` outputs with these
/// weights: `n` a multiple of 4, `rows` of 8, no weight −128, and a SIMD path in use.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn packed_fits(n: usize, rows: usize, narrow: bool) -> bool {
    narrow && n.is_multiple_of(4) && n > 0 && rows.is_multiple_of(8) && rows > 0 && simd() != Simd::Portable
}

/// Rearranges `rows` rows of `n` weights (`w[r·n + i]`) for [`dot_rows_packed`]: input
/// quadruples outermost, `packed[(g·rows + r)·4 + j] = w[r·n + 4g + j]`, so that one 32-byte
/// load holds quadruple `g` of eight consecutive rows. A transpose of 4-byte words; `packed`
/// is as long as `w`. Leaves `packed` unchanged if `n` is not a multiple of 4 or the lengths
/// differ.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn pack_by_fours(w: &[i8], n: usize, packed: &mut [i8]) {
    if !n.is_multiple_of(4) || n == 0 || w.len() != packed.len() || !w.len().is_multiple_of(n) {
        return;
    }
    let rows = w.len() / n;
    let (words, _) = w.as_chunks::<4>();
    let (out, _) = packed.as_chunks_mut::<4>();
    for (r, row) in words.chunks_exact(n / 4).enumerate() {
        for (g, &word) in row.iter().enumerate() {
            if let Some(d) = out.get_mut(g * rows + r) {
                *d = word;
            }
        }
    }
}

/// `acc[r] = Σᵢ x[i]·w[r·n + i]` like [`dot_rows`], with `w` rearranged by [`pack_by_fours`]
/// and the vector lanes running over *output* rows: each quadruple of `x` is broadcast and
/// multiplied with quadruple `g` of eight rows at once, so no horizontal sums are needed. Call
/// only when [`packed_fits`] holds; otherwise (or with lengths that do not match) the result
/// comes from the portable path on the unpacked `w`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn dot_rows_packed(x: &[i8], w: &[i8], packed: &[i8], acc: &mut [i32], narrow: bool) {
    let fits = packed_fits(x.len(), acc.len(), narrow) && x.len().checked_mul(acc.len()) == Some(packed.len());
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if fits {
        match simd() {
            // SAFETY: `packed_vnni` requires `avx2`, `avx512f`, `avx512vl`, `avx512vnni`, which
            // `simd()` reported; it reads `x.len()·acc.len()` bytes of `packed` (checked above).
            Simd::Avx512Vnni => return unsafe { x86::packed_vnni(x, packed, acc) },
            // SAFETY: as above, with `avx2`.
            Simd::Avx2 => return unsafe { x86::packed_avx2(x, packed, acc) },
            Simd::Portable => {}
        }
    }
    let _ = (fits, packed);
    dot_rows_portable(x, w, acc);
}

/// `acc[c] = Σ_t x[t·C + c]·w[t·C + c]` over the taps `t` of one depthwise pixel (depth
/// multiplier 1): the patch `x` and the kernel `w` in the same `[tap][channel]` order, `C =
/// acc.len()`. Channels run in the vector lanes (16 at a time with AVX2).
#[inline]
pub(crate) fn depthwise_dot(x: &[i8], w: &[i8], acc: &mut [i32]) {
    let c = acc.len();
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if c.is_multiple_of(16) && c > 0 && x.len() == w.len() && x.len().is_multiple_of(c) && simd() != Simd::Portable {
        // SAFETY: `depthwise_avx2` requires `avx2`, which every path but `Portable` implies;
        // it reads whole 16-channel blocks of whole taps (the lengths were checked above).
        return unsafe { x86::depthwise_avx2(x, w, acc) };
    }
    acc.iter_mut().for_each(|a| *a = 0);
    for (xt, wt) in x.chunks_exact(c.max(1)).zip(w.chunks_exact(c.max(1))) {
        for ((a, &x), &w) in acc.iter_mut().zip(xt).zip(wt) {
            *a = a.wrapping_add(i32::from(x) * i32::from(w));
        }
    }
}

/// `acc[c] = Σ_t taps[t][c]·w[t][c]` over the taps `t` of one depthwise pixel (depth multiplier
/// 1; `acc` has the `C` channels): `taps` points at each tap's input pixel (or at a pixel of padding), `w` is the kernel
/// widened to `i32` once per call (`[tap][channel]`). Channels run in the vector lanes, 16 at a
/// time with AVX-512 and 8 with AVX2 (`vpmovsxbd` then `vpmulld`, exact: `|x·w| ≤ 2¹⁴`); no
/// receptive field is copied. The portable path multiplies one channel at a time.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn depthwise_taps<const C: usize, const K: usize, const KW: usize>(
    taps: &[[&[i8; C]; KW]; K],
    w: &[[[i32; C]; KW]; K],
    acc: &mut [i32],
) {
    match simd() {
        // SAFETY: `depthwise_taps_avx512` requires `avx2` and `avx512f`, which `simd()`
        // reported before returning `Avx512Vnni`.
        Simd::Avx512Vnni => return unsafe { x86::depthwise_taps_avx512(taps, w, acc) },
        // SAFETY: `depthwise_taps_avx2` requires `avx2`, which `simd()` reported.
        Simd::Avx2 => return unsafe { x86::depthwise_taps_avx2(taps, w, acc) },
        Simd::Portable => {}
    }
    depthwise_taps_portable(taps.as_flattened(), w.as_flattened(), acc);
}

/// [`depthwise_taps`], one channel at a time.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn depthwise_taps_portable<const C: usize>(taps: &[&[i8; C]], w: &[[i32; C]], acc: &mut [i32]) {
    acc.iter_mut().for_each(|a| *a = 0);
    for (x, w) in taps.iter().zip(w) {
        for ((a, &x), &w) in acc.iter_mut().zip(x.iter()).zip(w) {
            *a = a.wrapping_add(i32::from(x).wrapping_mul(w));
        }
    }
}

/// Whether [`depthwise_requantized`] runs a kernel: the AVX-512 VNNI or the AVX2 path in use,
/// a multiple of 64 channels and at most 4 kernel rows.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn depthwise_fits(channels: usize, k: usize) -> bool {
    channels.is_multiple_of(64) && channels > 0 && k <= 4 && k > 0 && simd() != Simd::Portable
}

/// The geometry of a depthwise convolution (depth multiplier 1) for [`depthwise_requantized`]:
/// strides and the padding rows and columns before the image.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepthwiseGeometry {
    /// Vertical and horizontal stride.
    pub(crate) stride: (usize, usize),
    /// Padding rows above and columns left of the image.
    pub(crate) before: (usize, usize),
    /// The input zero point, what padding holds.
    pub(crate) pad: i8,
}

/// A whole depthwise convolution with depth multiplier 1, requantized: `out[oy][ox][c] =
/// clamp(zp + M[c]·(bias[c] + Σ_{ky,kx} x[oy·S + ky − top][ox·SW + kx − left][c]·w[ky][kx][c]))`
/// to `[lo, hi]`, padding pixels holding `pad` (the input zero point, which `bias` has folded
/// in). `CO` must equal `C` (the output image's channels). Call only when [`depthwise_fits`]
/// holds (`C` a multiple of 64, `K ≤ 4`, the VNNI or the AVX2 path); otherwise nothing is
/// written.
///
/// The VNNI kernel puts the (up to four) kernel rows of a channel into the four bytes of one
/// `vpdpbusd` lane: for each output row it builds, once per input column, the *column quad* of
/// that column's `K` input pixels (flipped to unsigned, `x ⊕ 0x80`), interleaved byte by byte
/// with `vpunpck{l,h}bw` and `vpunpck{l,h}wd` (64 channels in four vectors), and each output
/// pixel then takes `KW` column quads against the weights interleaved the same way: `4·KW`
/// `vpdpbusd` per 64 channels (a 3×3 kernel: 12 instead of 36 multiplies of 16 lanes), each
/// column quad shared by the `KW` outputs that read it. The sums start from `bias − 128·Σ w`
/// (the flip's offset, as in [`gemm_requantized`]) and are requantized in registers; the
/// interleaving
/// leaves vector `k`'s lane `4l + j` holding channel `16l + 4k + j`, which the narrowing packs
/// put back in order (so the per-channel constants are laid out in that order once per call).
///
/// The AVX2 kernel has the same structure on 16 channels at a time with `vpmaddwd`: the kernel
/// rows paired (rows 0 and 1, rows 2 and 3), each pair's bytes widened to `i16` and
/// interleaved, so that one 32-bit lane holds a channel's two rows and `vpmaddwd` adds their
/// two products exactly (no flip, no saturation: `|x·w| ≤ 2¹⁴`); a 3×3 kernel is 12
/// `vpmaddwd` per 16 channels and pixel, each input column's pairs shared by the `KW` outputs
/// that read it, requantized in registers.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
#[allow(clippy::too_many_arguments)] // the convolution's and the requantization's inputs
pub(crate) fn depthwise_requantized<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const KW: usize,
    const HO: usize,
    const WO: usize,
    const CO: usize,
>(
    x: &[[[i8; C]; W]; H],
    w: &[[[i8; C]; KW]; K],
    geometry: DepthwiseGeometry,
    rq: &ChannelRequant<CO>,
    zero_point: i32,
    bounds: (i8, i8),
    out: &mut [[[i8; CO]; WO]; HO],
) {
    if C == CO && depthwise_fits(C, K) {
        match simd() {
            // SAFETY: `depthwise_vnni` requires `avx2`, `avx512f`, `avx512bw`, `avx512vl` and
            // `avx512vnni`, which `simd()` reported before returning `Avx512Vnni`; it needs `K
            // ≤ 4`, checked by `depthwise_fits`.
            Simd::Avx512Vnni => unsafe { x86::depthwise_vnni(x, w, geometry, rq, zero_point, bounds, out) },
            // SAFETY: `depthwise_requantized_avx2` requires `avx2`, which `simd()` reported; `K ≤ 4`
            // as above.
            Simd::Avx2 => unsafe { x86::depthwise_requantized_avx2(x, w, geometry, rq, zero_point, bounds, out) },
            Simd::Portable => {}
        }
    }
}

/// One kernel tap of a depthwise convolution: `acc[c][m] += x[c]·w[c][m]` (wrapping) for every
/// input channel `c` and multiplier `m`. Channels are independent, so the loop over them is the
/// vector loop (the compiler widens `i8` to `i32` lanes); the order of the additions into one
/// accumulator is the taps' order on every path.
#[inline(always)]
pub(crate) fn depthwise_tap<const C: usize, const M: usize>(acc: &mut [[i32; M]; C], x: &[i8; C], w: &[[i8; M]; C]) {
    for ((a, &x), w) in acc.iter_mut().zip(x).zip(w) {
        for (a, &w) in a.iter_mut().zip(w) {
            *a = a.wrapping_add(i32::from(x) * i32::from(w));
        }
    }
}

/// `Σ a[i]·b[i]` in `i32` (wrapping): [`dot_by_fours`] on 32-bit ARM, [`dot_by_lanes`]
/// elsewhere. Both give the same integer (the tests compare them).
#[inline(always)]
fn dot(a: &[i8], b: &[i8]) -> i32 {
    if cfg!(target_arch = "arm") { dot_by_fours(a, b) } else { dot_by_lanes(a, b) }
}

/// `Σ a[i]·b[i]` in `i32` (wrapping), four products per step into one accumulator: the form
/// for cores without vector registers (Cortex-M), where the 16 lanes of [`dot_by_lanes`] do not
/// fit the registers and spill to the stack at every step. Measured under QEMU
/// (`firmware/`'s `kernels` binary), an int8 `Dense<64, 32, Relu>` takes 15 058 instructions
/// instead of 19 370 on a Cortex-M0+ and 7 607 instead of 11 267 on a Cortex-M4F (where each
/// product becomes one `SMLABB`); the whole int8 digits MLP 21 915 instead of 26 969 (M0+),
/// 11 298 instead of 15 409 (M4F) and 11 196 instead of 15 116 (M3).
#[inline(always)]
fn dot_by_fours(a: &[i8], b: &[i8]) -> i32 {
    let mul = |x: i8, w: i8| i32::from(x) * i32::from(w);
    let (a4, a_rest) = a.as_chunks::<4>();
    let (b4, b_rest) = b.as_chunks::<4>();
    let mut sum = 0i32;
    for (&[x0, x1, x2, x3], &[w0, w1, w2, w3]) in a4.iter().zip(b4) {
        // Four products of int8 values: at most 4·2¹⁴ in magnitude, no overflow.
        sum = sum.wrapping_add(mul(x0, w0) + mul(x1, w1) + mul(x2, w2) + mul(x3, w3));
    }
    a_rest.iter().zip(b_rest).fold(sum, |s, (&x, &w)| s.wrapping_add(mul(x, w)))
}

/// `Σ a[i]·b[i]` in `i32` (wrapping), written so the loop vectorises: 16 independent lanes.
#[inline(always)]
fn dot_by_lanes(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 16;
    let mut lanes = [0i32; LANES];
    let mut a_blocks = a.chunks_exact(LANES);
    let mut b_blocks = b.chunks_exact(LANES);
    for (a, b) in (&mut a_blocks).zip(&mut b_blocks) {
        for ((l, &x), &w) in lanes.iter_mut().zip(a).zip(b) {
            *l = l.wrapping_add(i32::from(x) * i32::from(w));
        }
    }
    let mut sum = lanes.iter().fold(0i32, |s, &l| s.wrapping_add(l));
    for (&x, &w) in a_blocks.remainder().iter().zip(b_blocks.remainder()) {
        sum = sum.wrapping_add(i32::from(x) * i32::from(w));
    }
    sum
}

/// The end of an int8 layer for a row of outputs: `out[o] = clamp(zp + M[o]·(acc[o] +
/// bias[o]))` to `[lo, hi]`, TFLite's requantization (see `quant::requant`), eight outputs at a
/// time with AVX2 where the SIMD paths run.
#[inline]
pub(crate) fn requantize_rows(
    acc: &[i32],
    bias: &[i32],
    requant: &[Requant],
    zero_point: i32,
    (lo, hi): (i8, i8),
    out: &mut [i8],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if acc.len() >= 8 && simd() != Simd::Portable {
        // SAFETY: `requantize_rows_avx2` requires `avx2`; every path but `Portable` implies it.
        unsafe { x86::requantize_rows_avx2(acc, bias, requant, zero_point, (lo, hi), out) };
        return;
    }
    requantize_rows_portable(acc, bias, requant, zero_point, (lo, hi), out);
}

/// The requantization of `C` output channels laid out for the vector kernels: the bias (input
/// zero point folded in), the multipliers and the shifts as three arrays, so that 16 (AVX-512)
/// or 8 (AVX2) channels load as three vectors. Built on the stack once per layer call (a few
/// dozen nanoseconds for 64 channels) and shared by every pixel of the call.
#[cfg(any(test, all(feature = "std", target_arch = "x86_64")))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChannelRequant<const C: usize> {
    /// Added to each accumulator before the multiplication (wrapping).
    pub(crate) bias: [i32; C],
    /// `Requant::multiplier` per channel.
    pub(crate) multiplier: [i32; C],
    /// `Requant::shift` per channel.
    pub(crate) shift: [i32; C],
}

#[cfg(any(test, all(feature = "std", target_arch = "x86_64")))]
impl<const C: usize> ChannelRequant<C> {
    /// The layout of `bias` and `requant`, channel by channel; channels missing from either
    /// slice (never the case for a layer's own arrays) get zeros.
    pub(crate) fn new(bias: &[i32], requant: &[Requant]) -> Self {
        let mut r = Self { bias: [0; C], multiplier: [0; C], shift: [0; C] };
        for ((((b, m), s), &bias), q) in
            r.bias.iter_mut().zip(&mut r.multiplier).zip(&mut r.shift).zip(bias).zip(requant)
        {
            (*b, *m, *s) = (bias, q.multiplier, q.shift);
        }
        r
    }

    /// The channel's scalar form: bias, `Requant`.
    #[inline(always)]
    fn channel(&self, c: usize) -> (i32, Requant) {
        let at = |a: &[i32; C]| a.get(c).copied().unwrap_or(0);
        (at(&self.bias), Requant { multiplier: at(&self.multiplier), shift: at(&self.shift) })
    }
}

/// [`requantize_rows`] for a block of pixels sharing one [`ChannelRequant`]: `out[p][c] =
/// clamp(zp + M[c]·(acc[p][c] + bias[c]))` to `[lo, hi]`. AVX-512 runs 16 channels per step
/// (then 8 with AVX2), AVX2 8; the multipliers and shifts are loaded, not regrouped, so a pixel
/// of 64 channels is four (or eight) straight-line steps. Every path gives the bytes of the
/// scalar `requantize` for every `i32` accumulator, bias, multiplier and shift (the tests
/// below, a proptest among them).
#[cfg(any(test, all(feature = "std", target_arch = "x86_64")))]
#[inline]
pub(crate) fn requantize_pixels<const C: usize>(
    acc: &[[i32; C]],
    rq: &ChannelRequant<C>,
    zero_point: i32,
    (lo, hi): (i8, i8),
    out: &mut [[i8; C]],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    match simd() {
        // SAFETY: `requantize_pixels_avx512` requires `avx2` and `avx512f`, which `simd()`
        // reported before returning `Avx512Vnni`.
        Simd::Avx512Vnni => return unsafe { x86::requantize_pixels_avx512(acc, rq, zero_point, (lo, hi), out) },
        // SAFETY: `requantize_pixels_avx2` requires `avx2`, which `simd()` reported.
        Simd::Avx2 => return unsafe { x86::requantize_pixels_avx2(acc, rq, zero_point, (lo, hi), out) },
        Simd::Portable => {}
    }
    requantize_pixels_portable(acc, rq, zero_point, (lo, hi), out);
}

/// [`requantize_pixels`], one output at a time.
#[cfg(any(test, all(feature = "std", target_arch = "x86_64")))]
#[inline]
pub(crate) fn requantize_pixels_portable<const C: usize>(
    acc: &[[i32; C]],
    rq: &ChannelRequant<C>,
    zero_point: i32,
    (lo, hi): (i8, i8),
    out: &mut [[i8; C]],
) {
    for (a, y) in acc.iter().zip(out) {
        for (c, (&a, y)) in a.iter().zip(y).enumerate() {
            let (b, m) = rq.channel(c);
            *y = requantize(a.wrapping_add(b), m, zero_point, lo, hi);
        }
    }
}

/// Whether [`gemm_requantized`] runs a SIMD kernel: `n` (inputs per row) a multiple of 4,
/// `rows` (outputs) a multiple of 16, and the AVX-512 VNNI path in use, or the AVX2 path with
/// `n ≤` [`GEMM_WIDE_VALUES`] (the tests' `gemm` also needs VNNI and a multiple of 64).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn gemm_fits(n: usize, rows: usize) -> bool {
    n.is_multiple_of(4)
        && n > 0
        && rows.is_multiple_of(16)
        && rows > 0
        && match simd() {
            Simd::Avx512Vnni => true,
            Simd::Avx2 => n <= GEMM_WIDE_VALUES,
            Simd::Portable => false,
        }
}

/// The inputs the AVX2 matrix product widens to `i16` at a time, in a stack buffer (16 KB):
/// at least one pixel's receptive field must fit, so [`gemm_fits`] asks `n ≤` this on AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const GEMM_WIDE_VALUES: usize = 8192;

/// The outputs per block of [`pack_gemm`]'s layout and [`gemm_requantized`]'s VNNI kernel for
/// `rows` outputs: 64 for a multiple of 64 (DS-CNN), else 32 for a multiple of 32, else 16
/// (ResNet-8's 16- and 32-filter convolutions).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) const fn gemm_block(rows: usize) -> usize {
    if rows.is_multiple_of(64) {
        64
    } else if rows.is_multiple_of(32) {
        32
    } else {
        16
    }
}

/// Rearranges `rows` rows of `n` weights (`w[r·n + i]`, `rows` a multiple of 16, `n` of 4) for
/// [`gemm_requantized`]: blocks of `B = gemm_block(rows)` rows outermost, then input quadruples,
/// then the block's rows, `packed[((b·G + g)·B + r)·4 + j] = w[(B·b + r)·n + 4g + j]` with
/// `G = n/4`, so that quadruple `g` of a block's `B` rows is `4B` consecutive bytes, `B/16`
/// 512-bit vectors. Also returns, in `init`, `−128·Σᵢ w[r·n + i]` per row: the kernel's
/// starting sums (see [`gemm_requantized`]). On the AVX2 path the layout is
/// [`pack_gemm_avx2`]'s instead (what its kernel reads). Leaves both unchanged if the lengths
/// do not fit.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) fn pack_gemm(w: &[i8], n: usize, packed: &mut [i8], init: &mut [i32]) {
    let rows = init.len();
    if !n.is_multiple_of(4)
        || n == 0
        || !rows.is_multiple_of(16)
        || w.len() != packed.len()
        || Some(w.len()) != n.checked_mul(rows)
    {
        return;
    }
    if simd() == Simd::Avx2 {
        return pack_gemm_avx2(w, n, packed, init);
    }
    let block = gemm_block(rows);
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if simd() == Simd::Avx512Vnni && n <= (i32::MAX as usize) / 16 {
        // SAFETY: `pack_gemm_vnni` requires `avx512f` and `avx512vnni`, which `simd()`
        // reported; `n` is a multiple of 4, `rows = init.len()` of the block (`gemm_block`
        // divides it), both slices hold `rows·n` bytes (checked above) and `15·n` fits an `i32`.
        return unsafe {
            match block {
                64 => x86::pack_gemm_vnni::<64>(w, n, packed, init),
                32 => x86::pack_gemm_vnni::<32>(w, n, packed, init),
                _ => x86::pack_gemm_vnni::<16>(w, n, packed, init),
            }
        };
    }
    for (row, i) in w.chunks_exact(n).zip(init.iter_mut()) {
        *i = row.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v))).wrapping_mul(-128);
    }
    // In the order of `packed`: sequential writes, reads with a stride of `n` bytes.
    let groups = n / 4;
    let (words, _) = w.as_chunks::<4>();
    let (out, _) = packed.as_chunks_mut::<4>();
    for (b, out) in out.chunks_exact_mut(groups * block).enumerate() {
        let rows_b = words.get(b * block * groups..).unwrap_or(&[]);
        for (g, out) in out.chunks_exact_mut(block).enumerate() {
            for (r, d) in out.iter_mut().enumerate() {
                if let Some(&word) = rows_b.get(r * groups + g) {
                    *d = word;
                }
            }
        }
    }
}

/// [`pack_gemm`] for the AVX2 kernel, whose `vpmaddwd` multiplies pairs of `i16`: blocks of 16
/// rows outermost, then input quadruples, then two groups of 8 rows, each 16 bytes holding
/// inputs `4g, 4g + 1` of its 8 rows and 16 bytes holding inputs `4g + 2, 4g + 3`:
/// `packed[(b·G + g)·64 + 32v + 16⌊j/2⌋ + 2r + j mod 2] = w[(16b + 8v + r)·n + 4g + j]`, `G =
/// n/4`. Widened to `i16`, each 16 bytes are one vector whose 32-bit lane `r` is row `8v + r`'s
/// pair, so a broadcast pair of inputs gives each lane's two products summed in place. `init`
/// is `−128·Σ w` per row as for the VNNI kernel (the AVX2 kernel does not use it; the portable
/// fallback does not either).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn pack_gemm_avx2(w: &[i8], n: usize, packed: &mut [i8], init: &mut [i32]) {
    for (row, i) in w.chunks_exact(n.max(1)).zip(init.iter_mut()) {
        *i = row.iter().fold(0i32, |s, &v| s.wrapping_add(i32::from(v))).wrapping_mul(-128);
    }
    if n <= (i32::MAX as usize) / 8 {
        // SAFETY: `pack_gemm_avx2_gather` requires `avx2`, which `simd()` reported (the caller
        // runs this only on the AVX2 path); `n` is a multiple of 4 with `7·n` fitting an `i32`,
        // `packed.len()` is `rows·n` for a multiple of 16 `rows`, and `w` holds as many bytes
        // (`pack_gemm` checked them).
        return unsafe { x86::pack_gemm_avx2_gather(w, n, packed) };
    }
    let groups = n / 4;
    // In the order of `packed`: sequential writes.
    for (b, block) in packed.chunks_exact_mut((64 * groups).max(1)).enumerate() {
        for (g, quad) in block.chunks_exact_mut(64).enumerate() {
            for (k, d) in quad.iter_mut().enumerate() {
                let (v, half, r, odd) = (k / 32, (k / 16) % 2, (k % 16) / 2, k % 2);
                let at = (16 * b + 8 * v + r) * n + 4 * g + 2 * half + odd;
                if let Some(&value) = w.get(at) {
                    *d = value;
                }
            }
        }
    }
}

/// `acc[p·rows + r] = Σᵢ x[p·n + i]·w[r·n + i]` for every pixel `p` (a row of `x`, `n` values)
/// and output `r < rows = init.len()`: an int8 matrix product, exact in `i32` (wrapping), with
/// `packed` and `init` from [`pack_gemm`]. The VNNI kernel (when [`gemm_fits`] and `rows` is a
/// multiple of 64) takes four
/// pixels and 64 outputs per step (16 accumulators of 16 lanes): each weight vector is loaded
/// once per four pixels, and each input quadruple, flipped to unsigned (`x ⊕ 0x80 = x + 128`),
/// is broadcast against 64 outputs by four `vpdpbusd`. The sums then hold `Σ (x + 128)·w =
/// Σ x·w + 128·Σ w`, which starting from `init = −128·Σ w` cancels (as XNNPACK does). Exact:
/// each `u8·i8` product is at most 255·128 in magnitude and `vpdpbusd` does not saturate, so
/// −128 weights are fine too. Otherwise (or with lengths that do not match) the portable path
/// computes each pixel from the unpacked `w`.
#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn gemm(x: &[i8], n: usize, w: &[i8], packed: &[i8], init: &[i32], acc: &mut [i32]) {
    let rows = init.len();
    let pixels = acc.len() / rows.max(1);
    let fits = gemm_fits(n, rows)
        && simd() == Simd::Avx512Vnni
        && rows.is_multiple_of(64)
        && n.checked_mul(rows) == Some(packed.len())
        && n.checked_mul(pixels) == Some(x.len())
        && pixels * rows == acc.len();
    if fits {
        // SAFETY: `gemm_vnni` requires `avx2`, `avx512f`, `avx512vl` and `avx512vnni`, which
        // `simd()` reported (`gemm_fits`); the lengths were checked above.
        return unsafe { x86::gemm_vnni(x, n, packed, init, acc) };
    }
    for (xp, ap) in x.chunks_exact(n.max(1)).zip(acc.chunks_exact_mut(rows.max(1))) {
        dot_rows_portable(xp, w, ap);
    }
}

/// The matrix product (the tests' `gemm`) and the requantization in one pass: `out[p·rows + r]
/// = clamp(zp + M[r]·(Σᵢ x[p·n + i]·w[r·n + i] + bias[r]))` to `[lo, hi]`, for `packed` and `init` from
/// [`pack_gemm`] and the per-row `bias`, `multiplier` and `shift` of a [`ChannelRequant`]. The
/// VNNI kernel (when [`gemm_fits`]) starts its sums from `init + bias` and requantizes each
/// tile of four pixels while its 16 accumulators are still in registers (no `i32` buffer),
/// narrowing 64 outputs with three saturating packs and one permutation; for a multiple of 16
/// or 32 outputs that is not one of 64 ([`gemm_block`]), tiles of sixteen pixels × 16 outputs or
/// eight × 32, narrowed 16 at a time by `vpmovsdb`. The AVX2 kernel (when [`gemm_fits`] on
/// that path) takes `packed` from [`pack_gemm`]'s AVX2 layout: tiles of four pixels × 16
/// outputs with `vpmaddwd` on the inputs widened to `i16` once per call, starting from the
/// bias, requantized in registers eight outputs at a time. The bytes are those of
/// `gemm` followed by [`requantize_pixels`] (the tests compare them). Otherwise (or with
/// lengths that do not match) the portable path computes 64 rows at a time from the unpacked
/// `w`.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
#[allow(clippy::too_many_arguments)] // the matrix product's and the requantization's inputs
pub(crate) fn gemm_requantized(
    x: &[i8],
    n: usize,
    (w, packed, init): (&[i8], &[i8], &[i32]),
    (bias, multiplier, shift): (&[i32], &[i32], &[i32]),
    zero_point: i32,
    bounds: (i8, i8),
    out: &mut [i8],
) {
    let rows = init.len();
    let pixels = out.len() / rows.max(1);
    let fits = gemm_fits(n, rows)
        && n.checked_mul(rows) == Some(packed.len())
        && n.checked_mul(pixels) == Some(x.len())
        && pixels * rows == out.len()
        && bias.len() == rows
        && multiplier.len() == rows
        && shift.len() == rows;
    if fits && simd() == Simd::Avx2 {
        // SAFETY: `gemm_requantized_avx2` requires `avx2`, which `simd()` reported; the lengths
        // were checked above, `rows` is a multiple of 16 and `n` of 4 with `n ≤
        // GEMM_WIDE_VALUES` (`gemm_fits`), and `pack_gemm` laid `packed` out for it (the same
        // `simd()`, fixed for the process).
        return unsafe { x86::gemm_requantized_avx2(x, n, packed, (bias, multiplier, shift), zero_point, bounds, out) };
    }
    if fits && simd() == Simd::Avx512Vnni {
        let rq = (bias, multiplier, shift);
        // SAFETY: `gemm_requantized_vnni` and `gemm_requantized_narrow_vnni` require `avx2`,
        // `avx512f`, `avx512bw`, `avx512vl` and `avx512vnni`, which `simd()` reported before
        // returning `Avx512Vnni`; the lengths were checked above, `rows` is a multiple of the block
        // (`gemm_block`, as `pack_gemm` laid `packed` out).
        return unsafe {
            match gemm_block(rows) {
                64 => x86::gemm_requantized_vnni(x, n, packed, init, rq, zero_point, bounds, out),
                32 => x86::gemm_requantized_narrow_vnni::<2, 8>(x, n, packed, init, rq, zero_point, bounds, out),
                _ => x86::gemm_requantized_narrow_vnni::<1, 16>(x, n, packed, init, rq, zero_point, bounds, out),
            }
        };
    }
    for (xp, op) in x.chunks_exact(n.max(1)).zip(out.chunks_exact_mut(rows.max(1))) {
        let mut acc = [0i32; 64];
        for (r0, op) in op.chunks_mut(64).enumerate() {
            let rows_here = op.len();
            let (Some(wb), Some(acc)) = (w.get(r0 * 64 * n..), acc.get_mut(..rows_here)) else { continue };
            dot_rows_portable(xp, wb, acc);
            for (j, (y, &a)) in op.iter_mut().zip(acc.iter()).enumerate() {
                let r = r0 * 64 + j;
                let at = |v: &[i32]| v.get(r).copied().unwrap_or(0);
                let m = Requant { multiplier: at(multiplier), shift: at(shift) };
                *y = requantize(a.wrapping_add(at(bias)), m, zero_point, bounds.0, bounds.1);
            }
        }
    }
}

/// TFLite's int8 `ADD` in place, `b[i] = clamp(z_out + M_out·(M₁·((a[i] − z₁)·2²⁰) + M₂·((b[i]
/// − z₂)·2²⁰)))` to `bounds` (`QAdd::add` with `a` the first input), on the AVX-512 VNNI path
/// sixteen values at a time; returns how many leading values it wrote (a multiple of 16, 0 on
/// the other paths), the caller does the rest one at a time.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn add_requantized(
    a: &[i8],
    b: &mut [i8],
    zero_points: (i32, i32, i32),
    requant: [Requant; 3],
    bounds: (i8, i8),
) -> usize {
    if simd() == Simd::Avx512Vnni {
        // SAFETY: `add_requantized_avx512` requires `avx2`, `avx512f` and `avx512bw`, which the
        // AVX-512 VNNI path has (`simd()` checks them).
        return unsafe { x86::add_requantized_avx512(a, b, zero_points, requant, bounds) };
    }
    0
}

/// The inputs [`gemm_requantized`] flips to unsigned once per call, into a stack buffer, when
/// they fit (otherwise once per quadruple and block of 64 outputs): 8 KB, DS-CNN's 25×5×64
/// image.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) const GEMM_FLIP_BYTES: usize = 8192;

/// [`requantize_rows`], one output at a time.
#[inline]
pub(crate) fn requantize_rows_portable(
    acc: &[i32],
    bias: &[i32],
    requant: &[Requant],
    zero_point: i32,
    (lo, hi): (i8, i8),
    out: &mut [i8],
) {
    for (((y, &a), &b), &m) in out.iter_mut().zip(acc).zip(bias).zip(requant) {
        *y = requantize(a.wrapping_add(b), m, zero_point, lo, hi);
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::arch::x86_64::{
        __m128i, __m512i, __mmask16, _mm_loadl_epi64, _mm256_blendv_epi8, _mm256_cmpeq_epi32, _mm256_cvtepi8_epi32,
        _mm256_mullo_epi32, _mm512_add_epi32, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi32_mask,
        _mm512_cmpgt_epi32_mask, _mm512_cvtepi8_epi32, _mm512_cvtepi32_epi8, _mm512_dpbusd_epi32, _mm512_loadu_si512,
        _mm512_mask_add_epi32, _mm512_mask_blend_epi32, _mm512_mask_cmpeq_epi32_mask, _mm512_mask_mov_epi32,
        _mm512_max_epi32, _mm512_min_epi32, _mm512_mul_epi32, _mm512_mullo_epi32, _mm512_set1_epi32, _mm512_set1_epi64,
        _mm512_setzero_si512, _mm512_slli_epi64, _mm512_sllv_epi32, _mm512_srai_epi32, _mm512_srav_epi32,
        _mm512_srli_epi32, _mm512_srli_epi64, _mm512_storeu_si512, _mm512_sub_epi32, _mm512_xor_si512,
    };
    use core::arch::x86_64::{
        __m256i, _mm_add_epi32, _mm_storeu_si128, _mm256_abs_epi8, _mm256_add_epi32, _mm256_add_epi64,
        _mm256_and_si256, _mm256_blend_epi32, _mm256_castsi256_si128, _mm256_cmpgt_epi32, _mm256_dpbusd_epi32,
        _mm256_extracti128_si256, _mm256_hadd_epi32, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_maddubs_epi16,
        _mm256_max_epi32, _mm256_min_epi32, _mm256_mul_epi32, _mm256_set1_epi16, _mm256_set1_epi32, _mm256_set1_epi64x,
        _mm256_setzero_si256, _mm256_sign_epi8, _mm256_slli_epi64, _mm256_sllv_epi32, _mm256_srai_epi32,
        _mm256_srav_epi32, _mm256_srli_epi32, _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi32,
    };
    use core::arch::x86_64::{
        _mm_loadu_si128, _mm_storel_epi64, _mm256_cvtepi8_epi16, _mm256_cvtepi16_epi32, _mm256_mullo_epi16,
        _mm256_packs_epi16, _mm256_packs_epi32, _mm256_permute2x128_si256, _mm256_permutevar8x32_epi32,
        _mm256_setr_epi32,
    };
    use core::arch::x86_64::{_mm_max_epi8, _mm_min_epi8, _mm_set1_epi8, _mm512_cvtsepi32_epi8};
    use core::arch::x86_64::{
        _mm_setzero_si128, _mm256_i32gather_epi32, _mm256_permute4x64_epi64, _mm256_setr_epi8, _mm256_shuffle_epi8,
        _mm256_unpackhi_epi16, _mm256_unpacklo_epi16,
    };

    use core::arch::x86_64::{_mm256_testz_si256, _mm512_test_epi32_mask};

    use core::arch::x86_64::{_mm512_i32gather_epi32, _mm512_set1_epi8, _mm512_slli_epi32};

    use core::arch::x86_64::{
        _MM_PERM_CDAB, _mm512_cmplt_epi64_mask, _mm512_mask_shuffle_epi32, _mm512_mask_sub_epi64,
        _mm512_maskz_mov_epi64, _mm512_maskz_sllv_epi64, _mm512_srav_epi64, _mm512_sub_epi64, _mm512_test_epi64_mask,
    };
    use core::arch::x86_64::{
        _mm512_max_epi8, _mm512_min_epi8, _mm512_packs_epi16, _mm512_packs_epi32, _mm512_permutexvar_epi32,
        _mm512_setr_epi32, _mm512_unpackhi_epi8, _mm512_unpackhi_epi16, _mm512_unpacklo_epi8, _mm512_unpacklo_epi16,
    };

    use super::{ChannelRequant, GEMM_FLIP_BYTES, GEMM_WIDE_VALUES, requantize};

    use crate::quant::requant::Requant;

    /// Rows processed together: they share each load of `x`, and their eight accumulators are
    /// independent chains, enough to hide `vpdpbusd`'s latency.
    const ROWS: usize = 8;
    /// Bytes per 256-bit vector.
    const LANES: usize = 32;

    /// The row sums of eight 8-lane accumulators.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn sum8(s: &[__m256i; ROWS]) -> [i32; ROWS] {
        let [a, b, c, d, e, f, g, h] = *s;
        let (lo, hi) = (sum4(a, b, c, d), sum4(e, f, g, h));
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    }

    /// The four row sums of four 8-lane accumulators: `[Σ a, Σ b, Σ c, Σ d]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn sum4(a: __m256i, b: __m256i, c: __m256i, d: __m256i) -> [i32; 4] {
        // hadd pairs lanes within each 128-bit half; two rounds leave, per half, the four
        // rows' partial sums; adding the halves finishes them.
        let (ab, cd) = (_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
        let abcd = _mm256_hadd_epi32(ab, cd);
        let sum = _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256::<1>(abcd));
        let mut out = [0i32; 4];
        // SAFETY: `out` is 16 writable bytes, the size of one `__m128i`; `_mm_storeu_si128`
        // has no alignment requirement.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), sum) };
        out
    }

    /// 32 bytes as a vector.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load(block: &[i8; LANES]) -> __m256i {
        // SAFETY: `block` is exactly 32 readable bytes, the size of one `__m256i`, and
        // `_mm256_loadu_si256` has no alignment requirement.
        unsafe { _mm256_loadu_si256(block.as_ptr().cast()) }
    }

    /// `len ≤ 32` bytes from `start` in `w`, as a 32-byte block: the bytes after them are
    /// whatever follows in `w` (the next row; the caller multiplies them by zeros), or zeros
    /// at the end of `w`.
    #[inline(always)]
    fn tail_block(w: &[i8], start: usize, len: usize) -> [i8; LANES] {
        if let Some(block) = w.get(start..).and_then(|s| s.first_chunk::<LANES>()) {
            return *block;
        }
        let mut block = [0i8; LANES];
        for (b, &v) in block.iter_mut().zip(w.get(start..).unwrap_or(&[]).iter().take(len)) {
            *b = v;
        }
        block
    }

    /// The body both SIMD paths share, expanded inside each `#[target_feature]` function (a
    /// helper function could not be both inlined and compiled with their features):
    /// `$mul_add` adds the products of one 32-byte block, `|x|` (`$ax`) times `w` with the sign
    /// of `x` (`$sw`), to an 8-lane accumulator (`$s`). Eight rows at a time share each load of
    /// `x`; the remaining rows go one at a time. The last `n % 32` inputs are one more block,
    /// with `x` padded with zeros (so the bytes read past a row's end, from the next row,
    /// contribute nothing).
    macro_rules! dot_rows_body {
        ($x:ident, $w:ident, $acc:ident, |$s:ident, $ax:ident, $sw:ident| $mul_add:expr) => {{
            let n = $x.len();
            let (blocks, tail) = $x.as_chunks::<LANES>();
            let body = blocks.len() * LANES;
            let mut x_tail = [0i8; LANES];
            for (d, &v) in x_tail.iter_mut().zip(tail) {
                *d = v;
            }
            let x_tail = load(&x_tail);
            let ax_tail = _mm256_abs_epi8(x_tail);
            let mut rows = $w.chunks_exact(n.max(1));
            let mut outs = $acc.chunks_exact_mut(ROWS);
            let mut first_row = 0usize;
            for out in &mut outs {
                // Eight rows of exactly `n` bytes (`chunks_exact`); missing rows cannot happen
                // (the caller checked that `w` holds every row), and would end the work here.
                let mut group = [&[][..]; ROWS];
                for g in &mut group {
                    let Some(row) = rows.next() else { return };
                    *g = row;
                }
                let mut sums = [_mm256_setzero_si256(); ROWS];
                for (k, xb) in blocks.iter().enumerate() {
                    let xv = load(xb);
                    let $ax = _mm256_abs_epi8(xv);
                    for (acc, row) in sums.iter_mut().zip(&group) {
                        // SAFETY: `row` has `n` bytes and `(k + 1)·32 ≤ blocks.len()·32 ≤ n`, so
                        // the 32 bytes at `k·32` are inside it; `[i8; 32]` has alignment 1.
                        let wb: &[i8; LANES] = unsafe { &*row.as_ptr().add(k * LANES).cast() };
                        let $sw = _mm256_sign_epi8(load(wb), xv);
                        let $s = *acc;
                        *acc = $mul_add;
                    }
                }
                if !tail.is_empty() {
                    let $ax = ax_tail;
                    for (r, acc) in sums.iter_mut().enumerate() {
                        let wb = tail_block($w, (first_row + r) * n + body, tail.len());
                        let $sw = _mm256_sign_epi8(load(&wb), x_tail);
                        let $s = *acc;
                        *acc = $mul_add;
                    }
                }
                for (a, &t) in out.iter_mut().zip(&sum8(&sums)) {
                    *a = t;
                }
                first_row += ROWS;
            }
            for (r, (a, row)) in outs.into_remainder().iter_mut().zip(rows).enumerate() {
                let mut sum = _mm256_setzero_si256();
                for (xb, wb) in blocks.iter().zip(row.as_chunks::<LANES>().0) {
                    let xv = load(xb);
                    let $ax = _mm256_abs_epi8(xv);
                    let $sw = _mm256_sign_epi8(load(wb), xv);
                    let $s = sum;
                    sum = $mul_add;
                }
                if !tail.is_empty() {
                    let wb = tail_block($w, (first_row + r) * n + body, tail.len());
                    let $ax = ax_tail;
                    let $sw = _mm256_sign_epi8(load(&wb), x_tail);
                    let $s = sum;
                    sum = $mul_add;
                }
                let zero = _mm256_setzero_si256();
                *a = sum4(sum, zero, zero, zero)[0];
            }
        }};
    }

    /// The per-channel part of TFLite's `MultiplyByQuantizedMultiplier` for eight lanes,
    /// computed once per block of channels and shared by every pixel: the multiplier (and its
    /// odd lanes moved down), the left shift `max(shift, 0) mod 32` (wrapping, as
    /// `wrapping_shl`), the right shift `min(max(−shift, 0), 31)`, its mask `2^right − 1` and
    /// half of it, and which lanes' multiplier is `i32::MIN` (the only ones that can saturate).
    #[derive(Clone, Copy)]
    struct Channels8 {
        m: __m256i,
        m_odd: __m256i,
        left: __m256i,
        right: __m256i,
        mask: __m256i,
        half: __m256i,
        m_min: __m256i,
        /// Some lane shifts left or has the multiplier `i32::MIN`: [`Self::apply_as`] must
        /// run the shift and the saturation (otherwise both are no-ops and are skipped).
        full: bool,
    }

    impl Channels8 {
        #[inline]
        #[target_feature(enable = "avx2")]
        fn new(m: __m256i, shift: __m256i) -> Self {
            let zero = _mm256_setzero_si256();
            let ones = _mm256_set1_epi32(1);
            let left = _mm256_and_si256(_mm256_max_epi32(shift, zero), _mm256_set1_epi32(31));
            // max(shift, −31) first, so that negating cannot overflow (shift = i32::MIN).
            let right = _mm256_max_epi32(_mm256_sub_epi32(zero, _mm256_max_epi32(shift, _mm256_set1_epi32(-31))), zero);
            let mask = _mm256_sub_epi32(_mm256_sllv_epi32(ones, right), ones);
            let m_min = _mm256_cmpeq_epi32(m, _mm256_set1_epi32(i32::MIN));
            Self {
                m,
                m_odd: _mm256_srli_epi64::<32>(m),
                left,
                right,
                mask,
                half: _mm256_srli_epi32::<1>(mask),
                m_min,
                full: _mm256_testz_si256(left, left) == 0 || _mm256_testz_si256(m_min, m_min) == 0,
            }
        }

        /// TFLite's `MultiplyByQuantizedMultiplier(x, m, shift)` on eight lanes, for every
        /// `i32` input, multiplier and shift (the scalar code's clamps and wrap-arounds
        /// included): `x` shifted left, the 64-bit products of
        /// `SaturatingRoundingDoublingHighMul` with `vpmuldq` (even and odd lanes apart),
        /// `i32::MIN·i32::MIN` saturated to `i32::MAX`, then `RoundingDivideByPOT` with
        /// per-lane variable shifts. `FULL = false` skips the left shift and the saturation,
        /// valid when `self.full` is false.
        #[inline]
        #[target_feature(enable = "avx2")]
        fn apply_as<const FULL: bool>(&self, x: __m256i) -> __m256i {
            let x = if FULL { _mm256_sllv_epi32(x, self.left) } else { x };
            // ⌊(x·m + 2³⁰)/2³¹⌋: even lanes' products in place, odd lanes' shifted down
            // first; the wanted 32 bits are bits 31..62 of each 64-bit sum.
            let round = _mm256_set1_epi64x(1 << 30);
            let even = _mm256_srli_epi64::<31>(_mm256_add_epi64(_mm256_mul_epi32(x, self.m), round));
            let odd_products = _mm256_mul_epi32(_mm256_srli_epi64::<32>(x), self.m_odd);
            let odd = _mm256_slli_epi64::<1>(_mm256_add_epi64(odd_products, round));
            let v = _mm256_blend_epi32::<0b1010_1010>(even, odd);
            // The one overflowing product, 2⁶², saturates (ARM's `VQRDMULH`).
            let v = if FULL {
                let saturated = _mm256_and_si256(_mm256_cmpeq_epi32(x, _mm256_set1_epi32(i32::MIN)), self.m_min);
                _mm256_blendv_epi8(v, _mm256_set1_epi32(i32::MAX), saturated)
            } else {
                v
            };
            // Rounding division by 2^right, ties away from zero (gemmlowp's masks):
            // threshold = mask/2, plus one for negative v (v >> 31 is −1 there).
            let remainder = _mm256_and_si256(v, self.mask);
            let threshold = _mm256_sub_epi32(self.half, _mm256_srai_epi32::<31>(v));
            let up = _mm256_cmpgt_epi32(remainder, threshold); // −1 where rounding up
            _mm256_sub_epi32(_mm256_srav_epi32(v, self.right), up)
        }

        /// [`Self::apply_as`] with every step.
        #[inline]
        #[target_feature(enable = "avx2")]
        fn apply(&self, x: __m256i) -> __m256i {
            self.apply_as::<true>(x)
        }
    }

    /// TFLite's `MultiplyByQuantizedMultiplier(x, m, shift)` on eight lanes (see
    /// [`Channels8::apply`]).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mbqm8(x: __m256i, m: __m256i, shift: __m256i) -> __m256i {
        Channels8::new(m, shift).apply(x)
    }

    /// [`Channels8`] on sixteen lanes with AVX-512F (mask registers for the compares).
    #[derive(Clone, Copy)]
    struct Channels16 {
        m: __m512i,
        m_odd: __m512i,
        left: __m512i,
        right: __m512i,
        mask: __m512i,
        half: __m512i,
        m_min: __mmask16,
        /// As [`Channels8::full`].
        full: bool,
        /// The short form's constants ([`Self::apply_short`]), per 64-bit lane: even lanes'
        /// channels in `*_even`, odd lanes' in `*_odd`. The rounding added to the product,
        /// `2³⁰ + 2^(30 + right)` (just `2³⁰` where `right = 0`).
        round_even: __m512i,
        round_odd: __m512i,
        /// Subtracted where the product is below `−2³⁰`: `2³¹` (0 where `right = 0`).
        neg_even: __m512i,
        neg_odd: __m512i,
        /// The one arithmetic shift, `31 + right`.
        total_even: __m512i,
        total_odd: __m512i,
        /// `right − 1` of the odd channels, for [`Self::apply_positive`].
        right_odd_less_1: __m512i,
        /// Every lane's `right` is at least 1 (and `full` is false): [`Self::apply_positive`]
        /// may run.
        positive: bool,
    }

    impl Channels16 {
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn new(m: __m512i, shift: __m512i) -> Self {
            let zero = _mm512_setzero_si512();
            let ones = _mm512_set1_epi32(1);
            let left = _mm512_and_si512(_mm512_max_epi32(shift, zero), _mm512_set1_epi32(31));
            let right = _mm512_max_epi32(_mm512_sub_epi32(zero, _mm512_max_epi32(shift, _mm512_set1_epi32(-31))), zero);
            let mask = _mm512_sub_epi32(_mm512_sllv_epi32(ones, right), ones);
            let m_min = _mm512_cmpeq_epi32_mask(m, _mm512_set1_epi32(i32::MIN));
            // `right` (0..=31) of the even and of the odd channels, one per 64-bit lane.
            let right_even = _mm512_and_si512(right, _mm512_set1_epi64(0xFFFF_FFFF));
            let right_odd = _mm512_srli_epi64::<32>(right);
            let round = |r: __m512i| {
                let some = _mm512_test_epi64_mask(r, r);
                let half =
                    _mm512_maskz_sllv_epi64(some, _mm512_set1_epi64(1), _mm512_add_epi64(r, _mm512_set1_epi64(30)));
                (
                    _mm512_add_epi64(half, _mm512_set1_epi64(1 << 30)),
                    _mm512_maskz_mov_epi64(some, _mm512_set1_epi64(1 << 31)),
                )
            };
            let ((round_even, neg_even), (round_odd, neg_odd)) = (round(right_even), round(right_odd));
            let total = |r: __m512i| _mm512_add_epi64(r, _mm512_set1_epi64(31));
            Self {
                m,
                m_odd: _mm512_srli_epi64::<32>(m),
                left,
                right,
                mask,
                half: _mm512_srli_epi32::<1>(mask),
                m_min,
                full: _mm512_test_epi32_mask(left, left) != 0 || m_min != 0,
                round_even,
                round_odd,
                neg_even,
                neg_odd,
                total_even: total(right_even),
                total_odd: total(right_odd),
                right_odd_less_1: _mm512_sub_epi64(right_odd, _mm512_set1_epi64(1)),
                positive: _mm512_test_epi32_mask(right, right) == 0xFFFF
                    && !(_mm512_test_epi32_mask(left, left) != 0 || m_min != 0),
            }
        }

        /// [`Self::apply_short`] when every lane's `right` is at least 1 (`self.positive`): the
        /// odd lanes shift by `right − 1` instead of `31 + right`, which leaves their result in
        /// the high half of each 64-bit lane (`⌊q/2^(r−1)⌋`'s high half is `⌊q/2^(31+r)⌋`), so a
        /// blend on any vector port joins the halves instead of a permutation.
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn apply_positive(&self, x: __m512i) -> __m512i {
            let below = _mm512_set1_epi64(-(1 << 30));
            let even = _mm512_mul_epi32(x, self.m);
            let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.m_odd);
            let (neg_even, neg_odd) = (_mm512_cmplt_epi64_mask(even, below), _mm512_cmplt_epi64_mask(odd, below));
            let even = _mm512_add_epi64(even, self.round_even);
            let odd = _mm512_add_epi64(odd, self.round_odd);
            let even = _mm512_srav_epi64(_mm512_mask_sub_epi64(even, neg_even, even, self.neg_even), self.total_even);
            let odd = _mm512_srav_epi64(_mm512_mask_sub_epi64(odd, neg_odd, odd, self.neg_odd), self.right_odd_less_1);
            _mm512_mask_blend_epi32(0xAAAA, even, odd)
        }

        /// [`Self::apply_as`] without a left shift and without an `i32::MIN` multiplier (valid
        /// when `self.full` is false), with the two roundings as one: for the product `p = x·m`,
        /// `SaturatingRoundingDoublingHighMul` is `v = ⌊(p + 2³⁰)/2³¹⌋` and `RoundingDivideByPOT`
        /// by `2^r` (ties away from zero) is `⌊(v + 2^(r−1) − [v < 0])/2^r⌋` for `r > 0`, `v`
        /// for `r = 0`. An integer added inside a floor of a quotient by an integer can move
        /// inside the next one (`⌊⌊a/b⌋ + c⌋/d = ⌊(a + c·b)/(b·d)⌋`), so the result is
        /// `(p + 2³⁰ + 2^(30+r) − [p < −2³⁰]·2³¹) >> (31 + r)`, one 64-bit arithmetic shift
        /// (`v < 0` exactly when `p + 2³⁰ < 0`). No 64-bit step overflows: `|p| < 2⁶²` when
        /// `m ≠ i32::MIN`, and the constants are below `2⁶²`. The low 32 bits of each 64-bit
        /// lane are the result, which fits an `i32` (it is the scalar routine's). About 12
        /// instructions for 16 lanes instead of about 16.
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn apply_short(&self, x: __m512i) -> __m512i {
            let below = _mm512_set1_epi64(-(1 << 30));
            let even = _mm512_mul_epi32(x, self.m);
            let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.m_odd);
            let (neg_even, neg_odd) = (_mm512_cmplt_epi64_mask(even, below), _mm512_cmplt_epi64_mask(odd, below));
            let even = _mm512_add_epi64(even, self.round_even);
            let odd = _mm512_add_epi64(odd, self.round_odd);
            let even = _mm512_srav_epi64(_mm512_mask_sub_epi64(even, neg_even, even, self.neg_even), self.total_even);
            let odd = _mm512_srav_epi64(_mm512_mask_sub_epi64(odd, neg_odd, odd, self.neg_odd), self.total_odd);
            // Odd lanes: the low half of each 64-bit `odd` lane, moved up (dwords swapped).
            _mm512_mask_shuffle_epi32::<{ _MM_PERM_CDAB }>(even, 0xAAAA, odd)
        }

        /// [`Channels8::apply_as`] on sixteen lanes.
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn apply_as<const FULL: bool>(&self, x: __m512i) -> __m512i {
            if !FULL {
                return self.apply_short(x);
            }
            let x = _mm512_sllv_epi32(x, self.left);
            let round = _mm512_set1_epi64(1 << 30);
            let even = _mm512_srli_epi64::<31>(_mm512_add_epi64(_mm512_mul_epi32(x, self.m), round));
            let odd_products = _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), self.m_odd);
            let odd = _mm512_slli_epi64::<1>(_mm512_add_epi64(odd_products, round));
            let v = _mm512_mask_blend_epi32(0xAAAA, even, odd);
            let v = if FULL {
                let saturated = _mm512_mask_cmpeq_epi32_mask(self.m_min, x, _mm512_set1_epi32(i32::MIN));
                _mm512_mask_mov_epi32(v, saturated, _mm512_set1_epi32(i32::MAX))
            } else {
                v
            };
            let remainder = _mm512_and_si512(v, self.mask);
            let threshold = _mm512_sub_epi32(self.half, _mm512_srai_epi32::<31>(v));
            let up = _mm512_cmpgt_epi32_mask(remainder, threshold);
            let v = _mm512_srav_epi32(v, self.right);
            _mm512_mask_add_epi32(v, up, v, _mm512_set1_epi32(1))
        }
    }

    /// Eight clamped `i32`s (each in `−128..=127`) stored as bytes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn store8_i8(y: __m256i, o: &mut [i8; 8]) {
        // Within −128..=127, so the saturating packs are exact: bytes 0..4 of each 128-bit
        // half are lanes 0..4 and 4..8; dwords 0 and 4 brought together.
        let bytes = _mm256_packs_epi16(_mm256_packs_epi32(y, y), _mm256_setzero_si256());
        let bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
        // SAFETY: `o` is 8 writable bytes, what `_mm_storel_epi64` writes; no alignment
        // is required.
        unsafe { _mm_storel_epi64(o.as_mut_ptr().cast(), _mm256_castsi256_si128(bytes)) };
    }

    /// [`requantize_rows`](super::requantize_rows) eight outputs at a time with [`mbqm8`],
    /// then the zero point and the clamp; the remainder one at a time.
    ///
    /// # Safety
    /// The CPU must support `avx2`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn requantize_rows_avx2(
        acc: &[i32],
        bias: &[i32],
        requant: &[Requant],
        zero_point: i32,
        (lo, hi): (i8, i8),
        out: &mut [i8],
    ) {
        let n = acc.len().min(bias.len()).min(requant.len()).min(out.len());
        let (Some(acc), Some(bias), Some(requant), Some(out)) =
            (acc.get(..n), bias.get(..n), requant.get(..n), out.get_mut(..n))
        else {
            return;
        };
        let (a8, a_rest) = acc.as_chunks::<8>();
        let (b8, b_rest) = bias.as_chunks::<8>();
        let (m8, m_rest) = requant.as_chunks::<8>();
        let (o8, o_rest) = out.as_chunks_mut::<8>();
        let zp = _mm256_set1_epi32(zero_point);
        let (lo_v, hi_v) = (_mm256_set1_epi32(i32::from(lo)), _mm256_set1_epi32(i32::from(hi)));
        let deinterleave = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        for (((a, b), rq), o) in a8.iter().zip(b8).zip(m8).zip(o8) {
            // Eight (multiplier, shift) pairs as two vectors, regrouped into eight multipliers
            // and eight shifts (`Requant` is `repr(C)`: two `i32`s, 64 bytes for eight).
            let (first4, last4) = rq.split_at(4);
            // SAFETY: `first4` and `last4` are 4 `Requant`s each, 32 readable bytes (two `i32`s
            // apiece, `repr(C)`), the size of one `__m256i`; unaligned loads are allowed.
            let (pairs_lo, pairs_hi) =
                unsafe { (_mm256_loadu_si256(first4.as_ptr().cast()), _mm256_loadu_si256(last4.as_ptr().cast())) };
            let (p, q) = (
                _mm256_permutevar8x32_epi32(pairs_lo, deinterleave),
                _mm256_permutevar8x32_epi32(pairs_hi, deinterleave),
            );
            let m = _mm256_permute2x128_si256::<0x20>(p, q);
            let shift = _mm256_permute2x128_si256::<0x31>(p, q);
            let v = mbqm8(_mm256_add_epi32(load8(a), load8(b)), m, shift);
            store8_i8(_mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, zp), lo_v), hi_v), o);
        }
        super::requantize_rows_portable(a_rest, b_rest, m_rest, zero_point, (lo, hi), o_rest);
    }

    /// One path of [`requantize_pixels`](super::requantize_pixels): the kernel `$kernel` and
    /// its per-block loop `$block`, compiled for `$features` with `$lanes` lanes of type `$v`
    /// (`$channels` for the per-channel part, `$load`, `$set1`, `$add`, `$max`, `$min` its
    /// intrinsics, `$store` the narrowing store of `$lanes` clamped lanes). Per block of
    /// `$lanes` channels, the per-channel part once, then every pixel; the channels after the
    /// last whole block go through [`ChannelTail`] (eight with AVX2 if there are eight, then
    /// one at a time). Both paths are the same source, so they cannot drift apart; a macro,
    /// because a helper generic over the vector type could not carry each path's
    /// `#[target_feature]`s.
    macro_rules! requantize_pixels_path {
        (
            $kernel:ident, $block:ident, $features:literal, $block_features:literal, $v:ty, $lanes:literal,
            $channels:ident, $load:ident, $set1:ident, $add:ident, $max:ident, $min:ident, $store:ident
        ) => {
            #[doc = concat!(
                "[`requantize_pixels`](super::requantize_pixels) on ", stringify!($lanes),
                " lanes (see `requantize_pixels_path!`).\n\n# Safety\nThe CPU must support `", $features, "`."
            )]
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $kernel<const C: usize>(
                acc: &[[i32; C]],
                rq: &ChannelRequant<C>,
                zero_point: i32,
                (lo, hi): (i8, i8),
                out: &mut [[i8; C]],
            ) {
                let zp = $set1(zero_point);
                let (lo_v, hi_v) = ($set1(i32::from(lo)), $set1(i32::from(hi)));
                let (bv, _) = rq.bias.as_chunks::<$lanes>();
                let (mv, _) = rq.multiplier.as_chunks::<$lanes>();
                let (sv, _) = rq.shift.as_chunks::<$lanes>();
                for (k, ((b, m), s)) in bv.iter().zip(mv).zip(sv).enumerate() {
                    let ch = $channels::new($load(m), $load(s));
                    let bias = $load(b);
                    if ch.full {
                        $block::<true, C>(acc, out, k, &ch, bias, zp, (lo_v, hi_v));
                    } else {
                        $block::<false, C>(acc, out, k, &ch, bias, zp, (lo_v, hi_v));
                    }
                }
                let body = bv.len() * $lanes;
                if body < C {
                    let tail = ChannelTail::<C>::new(rq, body);
                    for (a, y) in acc.iter().zip(out.iter_mut()) {
                        tail.run(a, y, zero_point, (lo, hi));
                    }
                }
            }

            /// Channels `lanes·k..lanes·(k + 1)` of every pixel: bias, `apply_as`, zero point,
            /// clamp.
            #[inline]
            #[target_feature(enable = $block_features)]
            fn $block<const FULL: bool, const C: usize>(
                acc: &[[i32; C]],
                out: &mut [[i8; C]],
                k: usize,
                ch: &$channels,
                bias: $v,
                zp: $v,
                (lo, hi): ($v, $v),
            ) {
                for (a, y) in acc.iter().zip(out.iter_mut()) {
                    let (Some(a), Some(o)) =
                        (a.as_chunks::<$lanes>().0.get(k), y.as_chunks_mut::<$lanes>().0.get_mut(k))
                    else {
                        continue;
                    };
                    let v = ch.apply_as::<FULL>($add($load(a), bias));
                    $store($min($max($add(v, zp), lo), hi), o);
                }
            }
        };
    }

    requantize_pixels_path!(
        requantize_pixels_avx2,
        block8,
        "avx2",
        "avx2",
        __m256i,
        8,
        Channels8,
        load8,
        _mm256_set1_epi32,
        _mm256_add_epi32,
        _mm256_max_epi32,
        _mm256_min_epi32,
        store8_i8
    );
    requantize_pixels_path!(
        requantize_pixels_avx512,
        block16,
        "avx2,avx512f",
        "avx512f",
        __m512i,
        16,
        Channels16,
        load16,
        _mm512_set1_epi32,
        _mm512_add_epi32,
        _mm512_max_epi32,
        _mm512_min_epi32,
        store16_i8
    );

    /// Sixteen clamped `i32`s (each in `−128..=127`) stored as bytes (`vpmovdb`, truncating,
    /// exact for them).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store16_i8(y: __m512i, o: &mut [i8; 16]) {
        // SAFETY: `o` is 16 writable bytes, one `__m128i`; no alignment is required.
        unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm512_cvtepi32_epi8(y)) };
    }

    /// The channels after the last whole block of 16 (AVX-512) or 8 (AVX2): eight with AVX2 if
    /// there are eight, the rest one at a time.
    struct ChannelTail<'a, const C: usize> {
        rq: &'a ChannelRequant<C>,
        from: usize,
    }

    impl<'a, const C: usize> ChannelTail<'a, C> {
        fn new(rq: &'a ChannelRequant<C>, from: usize) -> Self {
            Self { rq, from }
        }

        #[inline]
        #[target_feature(enable = "avx2")]
        fn run(&self, a: &[i32; C], y: &mut [i8; C], zero_point: i32, (lo, hi): (i8, i8)) {
            let mut c = self.from;
            fn eight(v: &[i32], c: usize) -> Option<&[i32; 8]> {
                v.get(c..).and_then(|s| s.first_chunk::<8>())
            }
            if let (Some(a8), Some(b8), Some(m8), Some(s8)) =
                (eight(a, c), eight(&self.rq.bias, c), eight(&self.rq.multiplier, c), eight(&self.rq.shift, c))
                && let Some(o8) = y.get_mut(c..).and_then(|s| s.first_chunk_mut::<8>())
            {
                let zp = _mm256_set1_epi32(zero_point);
                let (lo_v, hi_v) = (_mm256_set1_epi32(i32::from(lo)), _mm256_set1_epi32(i32::from(hi)));
                let v = mbqm8(_mm256_add_epi32(load8(a8), load8(b8)), load8(m8), load8(s8));
                store8_i8(_mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, zp), lo_v), hi_v), o8);
                c += 8;
            }
            for (i, (&a, y)) in a.iter().zip(y.iter_mut()).enumerate().skip(c) {
                let (b, m) = self.rq.channel(i);
                *y = requantize(a.wrapping_add(b), m, zero_point, lo, hi);
            }
        }
    }

    /// One path of [`super::depthwise_taps`], `$kernel`, compiled for `$features` with `$lanes`
    /// `i32` lanes: per block of `4·$lanes` channels, every tap's input bytes sign-extended to
    /// `i32` (`$widen`), multiplied by the widened weights (`$mullo`, exact: `|x·w| ≤ 2¹⁴`) and
    /// summed into four independent accumulators; the taps' loop has a constant length (`K·KW`)
    /// and unrolls. Then (AVX-512) blocks of 16 channels, then [`depthwise_taps_8`] (eight
    /// with AVX2, then one at a time). One source for both paths, as `requantize_pixels_path!`.
    macro_rules! depthwise_taps_path {
        (
            $kernel:ident, $features:literal, $lanes:literal,
            $zero:ident, $widen:ident, $load:ident, $mullo:ident, $add:ident, $store:ident
        ) => {
            #[doc = concat!(
                            "[`super::depthwise_taps`] on ", stringify!($lanes),
                            " lanes (see `depthwise_taps_path!`).\n\n# Safety\nThe CPU must support `", $features, "`."
                        )]
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $kernel<const C: usize, const K: usize, const KW: usize>(
                taps: &[[&[i8; C]; KW]; K],
                w: &[[[i32; C]; KW]; K],
                acc: &mut [i32],
            ) {
                let (taps, w) = (taps.as_flattened(), w.as_flattened());
                let n = C.min(acc.len());
                let mut at = 0;
                while at + 4 * $lanes <= n {
                    let mut sums = [$zero(); 4];
                    for (x, w) in taps.iter().zip(w) {
                        let (Some(x), Some(w)) = (
                            x.get(at..).and_then(|s| s.first_chunk::<{ 4 * $lanes }>()),
                            w.get(at..).and_then(|s| s.first_chunk::<{ 4 * $lanes }>()),
                        ) else {
                            continue;
                        };
                        for ((s, x), w) in sums.iter_mut().zip(x.as_chunks::<$lanes>().0).zip(w.as_chunks::<$lanes>().0)
                        {
                            *s = $add(*s, $mullo($widen(x), $load(w)));
                        }
                    }
                    if let Some(a) = acc.get_mut(at..).and_then(|s| s.first_chunk_mut::<{ 4 * $lanes }>()) {
                        for (a, s) in a.as_chunks_mut::<$lanes>().0.iter_mut().zip(&sums) {
                            $store(*s, a);
                        }
                    }
                    at += 4 * $lanes;
                }
                // Single vectors: AVX-512's 16 lanes (on AVX2 this loop would be
                // `depthwise_taps_8`'s, and the kernel measured 9–13% slower with it here).
                while $lanes >= 16 && at + $lanes <= n {
                    let mut sum = $zero();
                    for (x, w) in taps.iter().zip(w) {
                        let (Some(x), Some(w)) = (
                            x.get(at..).and_then(|s| s.first_chunk::<$lanes>()),
                            w.get(at..).and_then(|s| s.first_chunk::<$lanes>()),
                        ) else {
                            continue;
                        };
                        sum = $add(sum, $mullo($widen(x), $load(w)));
                    }
                    if let Some(a) = acc.get_mut(at..).and_then(|s| s.first_chunk_mut::<$lanes>()) {
                        $store(sum, a);
                    }
                    at += $lanes;
                }
                if at < n {
                    depthwise_taps_8(taps, w, acc, at);
                }
            }
        };
    }

    depthwise_taps_path!(
        depthwise_taps_avx2,
        "avx2",
        8,
        _mm256_setzero_si256,
        widen8,
        load8,
        _mm256_mullo_epi32,
        _mm256_add_epi32,
        store8_i32
    );
    depthwise_taps_path!(
        depthwise_taps_avx512,
        "avx2,avx512f",
        16,
        _mm512_setzero_si512,
        widen16,
        load16,
        _mm512_mullo_epi32,
        _mm512_add_epi32,
        store16_i32
    );

    /// 16 bytes as a vector.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load_bytes16(v: &[i8; 16]) -> __m128i {
        // SAFETY: `v` is 16 readable bytes, one `__m128i`; unaligned loads are allowed.
        unsafe { _mm_loadu_si128(v.as_ptr().cast()) }
    }

    /// Eight bytes sign-extended to eight `i32` lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn widen8(x: &[i8; 8]) -> __m256i {
        // SAFETY: `x` is 8 readable bytes, what `_mm_loadl_epi64` reads; no alignment is
        // required.
        _mm256_cvtepi8_epi32(unsafe { _mm_loadl_epi64(x.as_ptr().cast()) })
    }

    /// Sixteen bytes sign-extended to sixteen `i32` lanes.
    #[inline]
    #[target_feature(enable = "avx2,avx512f")]
    fn widen16(x: &[i8; 16]) -> __m512i {
        _mm512_cvtepi8_epi32(load_bytes16(x))
    }

    /// Eight `i32` lanes stored.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn store8_i32(v: __m256i, a: &mut [i32; 8]) {
        // SAFETY: `a` is 8 writable `i32`s, one `__m256i`; unaligned stores are allowed.
        unsafe { _mm256_storeu_si256(a.as_mut_ptr().cast(), v) };
    }

    /// Sixteen `i32` lanes stored.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store16_i32(v: __m512i, a: &mut [i32; 16]) {
        // SAFETY: `a` is 16 writable `i32`s, one `__m512i`; unaligned stores are allowed.
        unsafe { _mm512_storeu_si512(a.as_mut_ptr().cast(), v) };
    }

    /// Channels `from..C` of [`super::depthwise_taps`]: eight per AVX2 step, then one at a time.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn depthwise_taps_8<const C: usize>(taps: &[&[i8; C]], w: &[[i32; C]], acc: &mut [i32], from: usize) {
        let mut at = from;
        while at + 8 <= C.min(acc.len()) {
            let mut sum = _mm256_setzero_si256();
            for (x, w) in taps.iter().zip(w) {
                let (Some(x), Some(w)) =
                    (x.get(at..).and_then(|s| s.first_chunk::<8>()), w.get(at..).and_then(|s| s.first_chunk::<8>()))
                else {
                    continue;
                };
                sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(widen8(x), load8(w)));
            }
            if let Some(a) = acc.get_mut(at..).and_then(|s| s.first_chunk_mut::<8>()) {
                store8_i32(sum, a);
            }
            at += 8;
        }
        for (c, a) in acc.iter_mut().enumerate().skip(at) {
            *a = taps.iter().zip(w).fold(0i32, |s, (x, w)| {
                let (x, w) = (x.get(c).copied().unwrap_or(0), w.get(c).copied().unwrap_or(0));
                s.wrapping_add(i32::from(x).wrapping_mul(w))
            });
        }
    }

    /// Sixteen `i32`s as a vector.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load16(v: &[i32; 16]) -> __m512i {
        // SAFETY: `v` is 64 readable bytes, the size of one `__m512i`; unaligned loads are
        // allowed.
        unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
    }

    /// 64 bytes as a vector.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load64(v: &[i8; 64]) -> __m512i {
        // SAFETY: `v` is 64 readable bytes, the size of one `__m512i`; unaligned loads are
        // allowed.
        unsafe { _mm512_loadu_si512(v.as_ptr().cast()) }
    }

    /// [`super::pack_gemm`] with AVX-512: each 64-byte vector of `packed` (quadruple `g` of 16
    /// consecutive rows) is one `vpgatherdd` of 4-byte words `n` bytes apart, and `vpdpbusd`
    /// of ones with those words sums the rows on the way (for `init`).
    ///
    /// # Safety
    /// The CPU must support `avx512f` and `avx512vnni`; `n` must be a multiple of 4 with
    /// `16·n ≤ i32::MAX`, and `w` and `packed` must both hold `rows·n` bytes for
    /// `rows = init.len()`, a multiple of `BLOCK` (16, 32 or 64).
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub(super) unsafe fn pack_gemm_vnni<const BLOCK: usize>(w: &[i8], n: usize, packed: &mut [i8], init: &mut [i32]) {
        let groups = n / 4;
        let strides: [i32; 16] = core::array::from_fn(|r| (r * n) as i32);
        let vindex = load16(&strides);
        let ones = _mm512_set1_epi8(1);
        for (b, init) in init.as_chunks_mut::<BLOCK>().0.iter_mut().enumerate() {
            for (v, init) in init.as_chunks_mut::<16>().0.iter_mut().enumerate() {
                let mut sum = _mm512_setzero_si512();
                for g in 0..groups {
                    let offset = (BLOCK * b + 16 * v) * n + 4 * g;
                    let at = ((b * groups + g) * BLOCK + 16 * v) * 4;
                    let Some(out) = packed.get_mut(at..).and_then(|o| o.first_chunk_mut::<64>()) else { continue };
                    // SAFETY: lane `r` reads the 4 bytes at `offset + r·n`, that is
                    // `w[(B·b + 16v + r)·n + 4g..][..4]` (`B = BLOCK`), quadruple `g < n/4` of
                    // row `B·b + 16v + r < rows` (`b`, `v` come from chunking `init`, one entry
                    // per row): every byte read is inside `w`, which holds `rows·n`; the offsets
                    // fit `i32` (`15·n ≤ i32::MAX`); gathers need no alignment.
                    let words = unsafe { _mm512_i32gather_epi32::<1>(vindex, w.as_ptr().add(offset).cast()) };
                    sum = _mm512_dpbusd_epi32(sum, ones, words);
                    // SAFETY: `out` is 64 writable bytes, one `__m512i`; unaligned stores are
                    // allowed.
                    unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), words) };
                }
                // −128·Σ w, wrapping like the scalar code: (0 − Σ) · 2⁷.
                let start = _mm512_slli_epi32::<7>(_mm512_sub_epi32(_mm512_setzero_si512(), sum));
                // SAFETY: `init` is 16 writable `i32`s, one `__m512i`; unaligned stores are
                // allowed.
                unsafe { _mm512_storeu_si512(init.as_mut_ptr().cast(), start) };
            }
        }
    }

    /// [`super::gemm`]'s VNNI kernel: per block of 64 outputs, tiles of four pixels (then
    /// single pixels) through `gemm_tile`.
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512vl` and `avx512vnni`.
    #[cfg(test)]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    pub(super) unsafe fn gemm_vnni(x: &[i8], n: usize, packed: &[i8], init: &[i32], acc: &mut [i32]) {
        let rows = init.len();
        let block_bytes = n / 4 * 256;
        let (init64, _) = init.as_chunks::<64>();
        // The inputs flipped to unsigned once (`x ⊕ 0x80`) when they fit 1 KB (16 pixels of up
        // to 64 values, what DS-CNN's convolutions pass), instead of once per quadruple and
        // block.
        let mut buffer = [0i8; 1024];
        let flipped: &[i8] = match buffer.get_mut(..x.len()) {
            Some(b) => {
                for (d, &v) in b.iter_mut().zip(x) {
                    *d = v ^ i8::MIN;
                }
                b
            }
            None => &[],
        };
        for (b, (wb, init)) in packed.chunks_exact(block_bytes.max(1)).zip(init64).enumerate() {
            let (i16s, _) = init.as_chunks::<16>();
            let mut start = [_mm512_setzero_si512(); 4];
            for (s, i) in start.iter_mut().zip(i16s) {
                *s = load16(i);
            }
            if let Some(flipped) = flipped.get(..x.len()) {
                gemm_tiles::<true>(flipped, n, wb, start, acc, b * 64, rows);
            } else {
                gemm_tiles::<false>(x, n, wb, start, acc, b * 64, rows);
            }
        }
    }

    /// Every pixel of `x` times one packed block: tiles of four pixels, then single ones.
    #[cfg(test)]
    #[inline]
    #[target_feature(enable = "avx512f,avx512vnni")]
    fn gemm_tiles<const FLIPPED: bool>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; 4],
        acc: &mut [i32],
        first: usize,
        rows: usize,
    ) {
        let mut xs = x.chunks_exact(4 * n);
        let mut accs = acc.chunks_exact_mut(4 * rows);
        for (xt, at) in (&mut xs).zip(&mut accs) {
            gemm_tile::<4, FLIPPED>(xt, n, wb, start, at, first, rows);
        }
        for (xp, ap) in xs.remainder().chunks_exact(n).zip(accs.into_remainder().chunks_exact_mut(rows)) {
            gemm_tile::<1, FLIPPED>(xp, n, wb, start, ap, first, rows);
        }
    }

    /// `P` pixels (`x`: `P` rows of `n`) times one packed block of 64 outputs (`wb`: `n/4`
    /// quadruples of 256 bytes), starting from `start`, into `acc[p·rows + first..][..64]`:
    /// `4P` accumulators, each weight vector loaded once for the `P` pixels. `FLIPPED`: `x` is
    /// already `x ⊕ 0x80`.
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512vnni")]
    fn gemm_tile<const P: usize, const FLIPPED: bool>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; 4],
        acc: &mut [i32],
        first: usize,
        rows: usize,
    ) {
        let sums = gemm_sums::<P, FLIPPED>(x, n, wb, start);
        for (p, s) in sums.iter().enumerate() {
            let at = p * rows + first;
            let Some(dst) = acc.get_mut(at..).and_then(|d| d.first_chunk_mut::<64>()) else { continue };
            let (d16, _) = dst.as_chunks_mut::<16>();
            for (d, s) in d16.iter_mut().zip(s) {
                // SAFETY: `d` is 16 writable `i32`s, one `__m512i`; unaligned stores are allowed.
                unsafe { _mm512_storeu_si512(d.as_mut_ptr().cast(), *s) };
            }
        }
    }

    /// The sums of `gemm_tile`, left in registers: `P` pixels times one packed block of 64
    /// outputs, four vectors per pixel in output order.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vnni")]
    fn gemm_sums<const P: usize, const FLIPPED: bool>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; 4],
    ) -> [[__m512i; 4]; P] {
        let flip = _mm512_set1_epi32(0x8080_8080_u32 as i32);
        let mut sums = [start; P];
        let (quads, _) = x.as_chunks::<4>();
        let groups = n / 4;
        for (g, w) in wb.as_chunks::<256>().0.iter().enumerate() {
            let (w64, _) = w.as_chunks::<64>();
            let mut wv = [_mm512_setzero_si512(); 4];
            for (v, w) in wv.iter_mut().zip(w64) {
                *v = load64(w);
            }
            for (p, s) in sums.iter_mut().enumerate() {
                let Some(&q) = quads.get(p * groups + g) else { continue };
                let xb = _mm512_set1_epi32(i32::from_le_bytes(q.map(|b| b as u8)));
                let xb = if FLIPPED { xb } else { _mm512_xor_si512(xb, flip) };
                for (s, &w) in s.iter_mut().zip(&wv) {
                    *s = _mm512_dpbusd_epi32(*s, xb, w);
                }
            }
        }
        sums
    }

    /// Which form of [`Channels16`]'s requantization a [`Requant64`]'s four vectors take.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Form {
        /// [`Channels16::apply_positive`] for all four (every right shift at least 1).
        Positive,
        /// [`Channels16::apply_short`] for all four.
        Short,
        /// Each vector by its own `full` flag.
        Mixed,
    }

    impl Form {
        /// The form as a const generic parameter of the loops around [`Requant64::store`].
        const POSITIVE: u8 = 0;
        const SHORT: u8 = 1;
        const MIXED: u8 = 2;

        #[inline(always)]
        const fn from_code(code: u8) -> Self {
            match code {
                Self::POSITIVE => Self::Positive,
                Self::SHORT => Self::Short,
                _ => Self::Mixed,
            }
        }
    }

    /// The requantization of 64 channels held in four 16-lane vectors, laid out once per call:
    /// each vector's [`Channels16`], the zero point and the clamp bounds. [`Self::store`]
    /// requantizes four vectors of sums and writes 64 bytes.
    #[derive(Clone, Copy)]
    struct Requant64 {
        ch: [Channels16; 4],
        /// The form all four vectors can take.
        form: Form,
        zp: __m512i,
        /// The clamp bounds in every byte.
        lo: __m512i,
        hi: __m512i,
    }

    impl Requant64 {
        /// Vector `k`'s lane `j` takes the multiplier and shift at `16k + j`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512bw")]
        fn new(multiplier: &[i32; 64], shift: &[i32; 64], zero_point: i32, (lo, hi): (i8, i8)) -> Self {
            let (m16, _) = multiplier.as_chunks::<16>();
            let (s16, _) = shift.as_chunks::<16>();
            let mut ch = [Channels16::new(_mm512_setzero_si512(), _mm512_setzero_si512()); 4];
            for ((c, m), s) in ch.iter_mut().zip(m16).zip(s16) {
                *c = Channels16::new(load16(m), load16(s));
            }
            let form = if ch.iter().all(|c| c.positive) {
                Form::Positive
            } else if ch.iter().all(|c| !c.full) {
                Form::Short
            } else {
                Form::Mixed
            };
            Self { ch, form, zp: _mm512_set1_epi32(zero_point), lo: _mm512_set1_epi8(lo), hi: _mm512_set1_epi8(hi) }
        }

        /// `out = clamp(zp + M·sums)` to `[lo, hi]` (the bias is already in the sums), vector
        /// by vector ([`Channels16::apply_short`], or every step for a block that needs them),
        /// then narrowed by `vpackssdw` twice and `vpacksswb` (saturating: exactly a clamp to
        /// −128..=127, so the bounds' clamp can follow on bytes). The packs interleave per
        /// 128-bit lane: dword `4l + k` of the result holds lanes `4l..4l + 4` of vector `k`.
        /// `PERMUTE`: put them back in order (`vpermd`), for sums in channel order; without it,
        /// the sums must come in that interleaved order (vector `k`, lane `4l + j` holding
        /// channel `16l + 4k + j`: the depthwise kernel's order), and the bytes come out in
        /// channel order.
        #[inline]
        #[target_feature(enable = "avx512f,avx512bw")]
        fn store<const PERMUTE: bool, const FORM: u8>(&self, sums: &[__m512i; 4], out: &mut [i8; 64]) {
            // The form is a constant of the caller's loop (see `Form::code`): straight-line code
            // for the four vectors.
            let [s0, s1, s2, s3] = *sums;
            let [c0, c1, c2, c3] = &self.ch;
            let [a, b, c, d] = match Form::from_code(FORM) {
                Form::Positive => {
                    [c0.apply_positive(s0), c1.apply_positive(s1), c2.apply_positive(s2), c3.apply_positive(s3)]
                }
                Form::Short => [c0.apply_short(s0), c1.apply_short(s1), c2.apply_short(s2), c3.apply_short(s3)],
                Form::Mixed => {
                    let one = |c: &Channels16, s| if c.full { c.apply_as::<true>(s) } else { c.apply_short(s) };
                    [one(c0, s0), one(c1, s1), one(c2, s2), one(c3, s3)]
                }
            }
            .map(|v| _mm512_add_epi32(v, self.zp));
            let bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
            let bytes = if PERMUTE {
                let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
                _mm512_permutexvar_epi32(order, bytes)
            } else {
                bytes
            };
            let bytes = _mm512_min_epi8(_mm512_max_epi8(bytes, self.lo), self.hi);
            // SAFETY: `out` is 64 writable bytes, one `__m512i`; unaligned stores are allowed.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), bytes) };
        }
    }

    /// [`super::gemm_requantized`]'s VNNI kernel: per block of 64 outputs, the sums start from
    /// `init + bias`; tiles of four pixels (then single pixels) go through [`gemm_sums`] and
    /// straight into [`Requant64::store`].
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512bw`, `avx512vl` and `avx512vnni`; `n` a
    /// multiple of 4, `rows = init.len()` of 64, `packed` holds `n·rows` bytes, `x` `n` per
    /// pixel and `out` `rows` per pixel, and `bias`, `multiplier`, `shift` `rows` each.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_requantized_vnni(
        x: &[i8],
        n: usize,
        packed: &[i8],
        init: &[i32],
        (bias, multiplier, shift): (&[i32], &[i32], &[i32]),
        zero_point: i32,
        bounds: (i8, i8),
        out: &mut [i8],
    ) {
        let rows = init.len();
        let block_bytes = n / 4 * 256;
        let (init64, _) = init.as_chunks::<64>();
        let (bias64, _) = bias.as_chunks::<64>();
        let (m64, _) = multiplier.as_chunks::<64>();
        let (s64, _) = shift.as_chunks::<64>();
        // The inputs flipped to unsigned once (`x ⊕ 0x80`) when they fit the buffer (DS-CNN's
        // whole images), instead of once per quadruple and block.
        let mut buffer = [0i8; GEMM_FLIP_BYTES];
        let flipped: Option<&[i8]> = buffer.get_mut(..x.len()).map(|b| {
            for (d, &v) in b.iter_mut().zip(x) {
                *d = v ^ i8::MIN;
            }
            &*b
        });
        let blocks = packed.chunks_exact(block_bytes.max(1)).zip(init64).zip(bias64).zip(m64).zip(s64);
        for (b, ((((wb, init), bias), m), s)) in blocks.enumerate() {
            let mut start = [_mm512_setzero_si512(); 4];
            for ((st, i), bi) in start.iter_mut().zip(init.as_chunks::<16>().0).zip(bias.as_chunks::<16>().0) {
                *st = _mm512_add_epi32(load16(i), load16(bi));
            }
            let rq = Requant64::new(m, s, zero_point, bounds);
            let (first, x) = (b * 64, flipped.unwrap_or(x));
            match (flipped.is_some(), rq.form) {
                (true, Form::Positive) => {
                    gemm_requantized_tiles::<true, { Form::POSITIVE }>(x, n, wb, start, &rq, out, first, rows)
                }
                (true, Form::Short) => {
                    gemm_requantized_tiles::<true, { Form::SHORT }>(x, n, wb, start, &rq, out, first, rows)
                }
                (true, Form::Mixed) => {
                    gemm_requantized_tiles::<true, { Form::MIXED }>(x, n, wb, start, &rq, out, first, rows)
                }
                (false, Form::Positive) => {
                    gemm_requantized_tiles::<false, { Form::POSITIVE }>(x, n, wb, start, &rq, out, first, rows)
                }
                (false, Form::Short) => {
                    gemm_requantized_tiles::<false, { Form::SHORT }>(x, n, wb, start, &rq, out, first, rows)
                }
                (false, Form::Mixed) => {
                    gemm_requantized_tiles::<false, { Form::MIXED }>(x, n, wb, start, &rq, out, first, rows)
                }
            }
        }
    }

    /// Every pixel of `x` times one packed block, requantized into `out[p·rows + first..][..64]`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[allow(clippy::too_many_arguments)]
    fn gemm_requantized_tiles<const FLIPPED: bool, const FORM: u8>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; 4],
        rq: &Requant64,
        out: &mut [i8],
        first: usize,
        rows: usize,
    ) {
        let mut xs = x.chunks_exact(4 * n);
        let mut outs = out.chunks_exact_mut(4 * rows);
        for (xt, ot) in (&mut xs).zip(&mut outs) {
            let sums = gemm_sums::<4, FLIPPED>(xt, n, wb, start);
            for (p, s) in sums.iter().enumerate() {
                if let Some(dst) = ot.get_mut(p * rows + first..).and_then(|d| d.first_chunk_mut::<64>()) {
                    rq.store::<true, FORM>(s, dst);
                }
            }
        }
        for (xp, op) in xs.remainder().chunks_exact(n).zip(outs.into_remainder().chunks_exact_mut(rows)) {
            let [s] = gemm_sums::<1, FLIPPED>(xp, n, wb, start);
            if let Some(dst) = op.get_mut(first..).and_then(|d| d.first_chunk_mut::<64>()) {
                rq.store::<true, FORM>(&s, dst);
            }
        }
    }

    /// The requantization of `16·V` channels (`V` vectors of 16 lanes), laid out once per block:
    /// each vector's [`Channels16`], the zero point and the clamp bounds. [`Self::store`]
    /// requantizes `V` vectors of sums and writes `16·V` bytes.
    #[derive(Clone, Copy)]
    struct RequantNarrow<const V: usize> {
        ch: [Channels16; V],
        /// The form all `V` vectors can take.
        form: Form,
        zp: __m512i,
        /// The clamp bounds in every byte.
        lo: __m128i,
        hi: __m128i,
    }

    impl<const V: usize> RequantNarrow<V> {
        /// `out[at + 16v..][..16] = clamp(zp + M·sums[v])` to `[lo, hi]` (the bias is already in
        /// the sums), each vector narrowed by `vpmovsdb` (saturating: exactly a clamp to
        /// −128..=127, so the bounds' clamp can follow on bytes). Channels past `out` are not
        /// written.
        #[inline]
        #[target_feature(enable = "avx2,avx512f,avx512bw")]
        fn store<const FORM: u8>(&self, sums: &[__m512i; V], out: &mut [i8], at: usize) {
            for (v, (c, &s)) in self.ch.iter().zip(sums).enumerate() {
                let y = match Form::from_code(FORM) {
                    Form::Positive => c.apply_positive(s),
                    Form::Short => c.apply_short(s),
                    Form::Mixed => {
                        if c.full {
                            c.apply_as::<true>(s)
                        } else {
                            c.apply_short(s)
                        }
                    }
                };
                let bytes = _mm512_cvtsepi32_epi8(_mm512_add_epi32(y, self.zp));
                let bytes = _mm_min_epi8(_mm_max_epi8(bytes, self.lo), self.hi);
                if let Some(dst) = out.get_mut(at + 16 * v..).and_then(|d| d.first_chunk_mut::<16>()) {
                    // SAFETY: `dst` is 16 writable bytes, one `__m128i`; unaligned stores are
                    // allowed.
                    unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), bytes) };
                }
            }
        }
    }

    /// [`super::gemm_requantized`]'s VNNI kernel for blocks of `16·V` outputs (ResNet-8's 16 and
    /// 32 filters: `V` = 1 or 2), with `P` pixels per tile so that a tile holds `P·V` (16)
    /// accumulators and each weight vector is loaded once per `P` pixels. As
    /// [`gemm_requantized_vnni`] otherwise: the sums start from `init + bias`, and each tile is
    /// requantized while its sums are in registers ([`RequantNarrow::store`]).
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512bw`, `avx512vl` and `avx512vnni`; `n` a
    /// multiple of 4, `rows = init.len()` of `16·V`, `packed` holds `n·rows` bytes laid out by
    /// [`pack_gemm_vnni::<{16·V}>`](pack_gemm_vnni), `x` `n` per pixel and `out` `rows` per
    /// pixel, and `bias`, `multiplier`, `shift` `rows` each.
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_requantized_narrow_vnni<const V: usize, const P: usize>(
        x: &[i8],
        n: usize,
        packed: &[i8],
        init: &[i32],
        (bias, multiplier, shift): (&[i32], &[i32], &[i32]),
        zero_point: i32,
        (lo, hi): (i8, i8),
        out: &mut [i8],
    ) {
        let rows = init.len();
        let block = 16 * V;
        let mut buffer = [0i8; GEMM_FLIP_BYTES];
        let flipped: Option<&[i8]> = buffer.get_mut(..x.len()).map(|b| {
            for (d, &v) in b.iter_mut().zip(x) {
                *d = v ^ i8::MIN;
            }
            &*b
        });
        let sixteen = |v: &[i32], at: usize| v.get(at..).and_then(|v| v.first_chunk::<16>()).map(|v| load16(v));
        for (b, wb) in packed.chunks_exact((n * block).max(1)).enumerate() {
            let first = b * block;
            let zero = _mm512_setzero_si512();
            let mut start = [zero; V];
            let mut ch = [Channels16::new(zero, zero); V];
            for (v, (st, c)) in start.iter_mut().zip(ch.iter_mut()).enumerate() {
                let at = first + 16 * v;
                let (Some(i), Some(bi), Some(m), Some(s)) =
                    (sixteen(init, at), sixteen(bias, at), sixteen(multiplier, at), sixteen(shift, at))
                else {
                    return;
                };
                *st = _mm512_add_epi32(i, bi);
                *c = Channels16::new(m, s);
            }
            let form = if ch.iter().all(|c| c.positive) {
                Form::Positive
            } else if ch.iter().all(|c| !c.full) {
                Form::Short
            } else {
                Form::Mixed
            };
            let rq = RequantNarrow {
                ch,
                form,
                zp: _mm512_set1_epi32(zero_point),
                lo: _mm_set1_epi8(lo),
                hi: _mm_set1_epi8(hi),
            };
            let x = flipped.unwrap_or(x);
            let at = (first, rows);
            match (flipped.is_some(), rq.form) {
                (true, Form::Positive) => narrow_tiles::<V, P, true, { Form::POSITIVE }>(x, n, wb, start, &rq, out, at),
                (true, Form::Short) => narrow_tiles::<V, P, true, { Form::SHORT }>(x, n, wb, start, &rq, out, at),
                (true, Form::Mixed) => narrow_tiles::<V, P, true, { Form::MIXED }>(x, n, wb, start, &rq, out, at),
                (false, Form::Positive) => {
                    narrow_tiles::<V, P, false, { Form::POSITIVE }>(x, n, wb, start, &rq, out, at)
                }
                (false, Form::Short) => narrow_tiles::<V, P, false, { Form::SHORT }>(x, n, wb, start, &rq, out, at),
                (false, Form::Mixed) => narrow_tiles::<V, P, false, { Form::MIXED }>(x, n, wb, start, &rq, out, at),
            }
        }
    }

    /// Every pixel of `x` times one packed block of `16·V` outputs, `P` pixels at a time (then
    /// single ones), requantized into `out[p·rows + first..][..16·V]`.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
    fn narrow_tiles<const V: usize, const P: usize, const FLIPPED: bool, const FORM: u8>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; V],
        rq: &RequantNarrow<V>,
        out: &mut [i8],
        (first, rows): (usize, usize),
    ) {
        let mut xs = x.chunks_exact(P * n);
        let mut outs = out.chunks_exact_mut(P * rows);
        for (xt, ot) in (&mut xs).zip(&mut outs) {
            narrow_tile::<V, P, FLIPPED, FORM>(xt, n, wb, start, rq, ot, (first, rows));
        }
        for (xp, op) in xs.remainder().chunks_exact(n).zip(outs.into_remainder().chunks_exact_mut(rows)) {
            narrow_tile::<V, 1, FLIPPED, FORM>(xp, n, wb, start, rq, op, (first, rows));
        }
    }

    /// `P` pixels (`x`: `P` rows of `n`) times one packed block of `16·V` outputs (`wb`: `n/4`
    /// quadruples of `64·V` bytes), starting from `start`, requantized into `out[p·rows +
    /// first..][..16·V]` while the `P·V` sums are in registers (in one function, so they are
    /// never returned through memory). `FLIPPED`: `x` is already `x ⊕ 0x80`.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
    fn narrow_tile<const V: usize, const P: usize, const FLIPPED: bool, const FORM: u8>(
        x: &[i8],
        n: usize,
        wb: &[i8],
        start: [__m512i; V],
        rq: &RequantNarrow<V>,
        out: &mut [i8],
        (first, rows): (usize, usize),
    ) {
        let flip = _mm512_set1_epi32(0x8080_8080_u32 as i32);
        let mut sums = [start; P];
        let (quads, _) = x.as_chunks::<4>();
        let groups = n / 4;
        for (g, w) in wb.chunks_exact(64 * V).enumerate() {
            let mut wv = [_mm512_setzero_si512(); V];
            for (v, w) in wv.iter_mut().zip(w.as_chunks::<64>().0) {
                *v = load64(w);
            }
            for (p, s) in sums.iter_mut().enumerate() {
                let Some(&q) = quads.get(p * groups + g) else { continue };
                let xb = _mm512_set1_epi32(i32::from_le_bytes(q.map(|b| b as u8)));
                let xb = if FLIPPED { xb } else { _mm512_xor_si512(xb, flip) };
                for (s, &w) in s.iter_mut().zip(&wv) {
                    *s = _mm512_dpbusd_epi32(*s, xb, w);
                }
            }
        }
        for (p, s) in sums.iter().enumerate() {
            rq.store::<FORM>(s, out, p * rows + first);
        }
    }

    /// [`super::pack_gemm_avx2`]'s rearrangement with AVX2: each 32 bytes of `packed` (rows
    /// `8v..8v + 8` of a block of 16, quadruple `g`) are one `vpgatherdd` of 4-byte words `n`
    /// bytes apart, then `vpshufb` (per 128-bit half, the low two bytes of its four words, then
    /// the high two) and `vpermq` (the halves' low parts first).
    ///
    /// # Safety
    /// The CPU must support `avx2`; `n` must be a multiple of 4 with `7·n ≤ i32::MAX`, and `w`
    /// must hold at least `packed.len()` bytes, `rows·n` for `rows` a multiple of 16.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn pack_gemm_avx2_gather(w: &[i8], n: usize, packed: &mut [i8]) {
        let groups = n / 4;
        let strides: [i32; 8] = core::array::from_fn(|r| (r * n) as i32);
        let vindex = load8(&strides);
        let split = _mm256_setr_epi8(
            0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
        );
        for (b, block) in packed.chunks_exact_mut((64 * groups).max(1)).enumerate() {
            for (g, quad) in block.as_chunks_mut::<64>().0.iter_mut().enumerate() {
                for (v, half) in quad.as_chunks_mut::<32>().0.iter_mut().enumerate() {
                    let offset = (16 * b + 8 * v) * n + 4 * g;
                    if offset + 7 * n + 4 > w.len() {
                        return;
                    }
                    // SAFETY: lane `r` reads the 4 bytes at `offset + r·n`, quadruple `g < n/4` of
                    // row `16b + 8v + r`; the last of them ends at `offset + 7·n + 4 ≤ w.len()`
                    // (checked above); the offsets fit `i32` (`7·n ≤ i32::MAX`); gathers need no
                    // alignment.
                    let words = unsafe { _mm256_i32gather_epi32::<1>(w.as_ptr().add(offset).cast(), vindex) };
                    let words = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_shuffle_epi8(words, split));
                    // SAFETY: `half` is 32 writable bytes, one `__m256i`; unaligned stores are
                    // allowed.
                    unsafe { _mm256_storeu_si256(half.as_mut_ptr().cast(), words) };
                }
            }
        }
    }

    /// [`super::gemm_requantized`]'s AVX2 kernel (no `vpdpbusd`): the inputs widened to `i16`
    /// once (up to [`GEMM_WIDE_VALUES`](super::GEMM_WIDE_VALUES) at a time, in a stack buffer
    /// read as 32-bit pairs), the weights widened as they are loaded, and `vpmaddwd` of a
    /// broadcast pair of inputs with 8 rows' pairs of weights
    /// ([`pack_gemm_avx2`](super::pack_gemm_avx2)'s layout): exact, each lane `x₀w₀ + x₁w₁` with
    /// `|x·w| ≤ 2¹⁴`, so −128 weights are fine and nothing saturates (unlike `vpmaddubsw`,
    /// which would need the sign trick and no −128 weight). Per block of 16 outputs, tiles of
    /// four pixels (8 accumulators, each weight vector widened once per tile) start from the
    /// bias and are requantized while in registers ([`Channels8`]), then single pixels.
    ///
    /// # Safety
    /// The CPU must support `avx2`; `n` a multiple of 4 with `0 < n ≤ GEMM_WIDE_VALUES`, `rows =
    /// bias.len()` a multiple of 16, `packed` holds `n·rows` bytes laid out by
    /// `pack_gemm_avx2`, `x` `n` per pixel and `out` `rows` per pixel, and `multiplier` and
    /// `shift` `rows` each.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn gemm_requantized_avx2(
        x: &[i8],
        n: usize,
        packed: &[i8],
        (bias, multiplier, shift): (&[i32], &[i32], &[i32]),
        zero_point: i32,
        (lo, hi): (i8, i8),
        out: &mut [i8],
    ) {
        let rows = bias.len();
        // Pair `k` of a pixel: inputs `2k` (low half) and `2k + 1`, as `i16`.
        let mut wide = [0i32; GEMM_WIDE_VALUES / 2];
        let per = GEMM_WIDE_VALUES / n.max(1);
        let clamp = (_mm256_set1_epi32(zero_point), _mm256_set1_epi32(i32::from(lo)), _mm256_set1_epi32(i32::from(hi)));
        let eight = |v: &[i32], at: usize| v.get(at..).and_then(|v| v.first_chunk::<8>()).map(|v| load8(v));
        for (xs, out) in x.chunks((per * n).max(1)).zip(out.chunks_mut((per * rows).max(1))) {
            let Some(wide) = wide.get_mut(..xs.len() / 2) else { return };
            let (x16, x_rest) = xs.as_chunks::<16>();
            let (w8, w_rest) = wide.as_chunks_mut::<8>();
            for (d, v) in w8.iter_mut().zip(x16) {
                // Sixteen `i16`s are eight little-endian pairs.
                store8_i32(_mm256_cvtepi8_epi16(load_bytes16(v)), d);
            }
            for (d, v) in w_rest.iter_mut().zip(x_rest.as_chunks::<2>().0) {
                *d = i32::from(i16::from(v[0]) as u16) | (i32::from(v[1]) << 16);
            }
            let wide: &[i32] = wide;
            for (b, wb) in packed.chunks_exact((16 * n).max(1)).enumerate() {
                let first = 16 * b;
                let (Some(b0), Some(b1), Some(m0), Some(m1), Some(s0), Some(s1)) = (
                    eight(bias, first),
                    eight(bias, first + 8),
                    eight(multiplier, first),
                    eight(multiplier, first + 8),
                    eight(shift, first),
                    eight(shift, first + 8),
                ) else {
                    return;
                };
                let ch = [Channels8::new(m0, s0), Channels8::new(m1, s1)];
                let start = [b0, b1];
                let at = (first, rows);
                if ch.iter().any(|c| c.full) {
                    wide_tiles::<true>(wide, n, wb, start, &ch, clamp, out, at);
                } else {
                    wide_tiles::<false>(wide, n, wb, start, &ch, clamp, out, at);
                }
            }
        }
    }

    /// Every pixel of `x` (`n/2` pairs each) times one packed block of 16 outputs, four pixels
    /// at a time (then single ones), requantized into `out[p·rows + first..][..16]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    fn wide_tiles<const FULL: bool>(
        x: &[i32],
        n: usize,
        wb: &[i8],
        start: [__m256i; 2],
        ch: &[Channels8; 2],
        clamp: (__m256i, __m256i, __m256i),
        out: &mut [i8],
        (first, rows): (usize, usize),
    ) {
        let mut xs = x.chunks_exact((2 * n).max(1));
        let mut outs = out.chunks_exact_mut((4 * rows).max(1));
        for (xt, ot) in (&mut xs).zip(&mut outs) {
            wide_tile::<4, FULL>(xt, wb, start, ch, clamp, ot, (first, rows));
        }
        let (rest, outs) =
            (xs.remainder().chunks_exact((n / 2).max(1)), outs.into_remainder().chunks_exact_mut(rows.max(1)));
        for (xp, op) in rest.zip(outs) {
            wide_tile::<1, FULL>(xp, wb, start, ch, clamp, op, (first, rows));
        }
    }

    /// `P` pixels (`x`: `P` rows of `n/2` pairs) times one packed block of 16 outputs (`wb`:
    /// `n/4` quadruples of 64 bytes), starting from `start` (the bias), requantized into
    /// `out[p·rows + first..][..16]` while the `2P` sums are in registers.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn wide_tile<const P: usize, const FULL: bool>(
        x: &[i32],
        wb: &[i8],
        start: [__m256i; 2],
        ch: &[Channels8; 2],
        (zp, lo, hi): (__m256i, __m256i, __m256i),
        out: &mut [i8],
        (first, rows): (usize, usize),
    ) {
        let (quads, _) = wb.as_chunks::<64>();
        let groups = quads.len();
        // Each pixel's pairs, two per quadruple, exactly `groups` quadruples long (so the
        // loop's `get`s cannot fail).
        let (xq, _) = x.as_chunks::<2>();
        let pixel = |p: usize| xq.get(p * groups..).and_then(|q| q.get(..groups)).unwrap_or_default();
        let xp: [&[[i32; 2]]; P] = core::array::from_fn(pixel);
        if xp.iter().any(|q| q.len() != groups) {
            return;
        }
        let mut sums = [start; P];
        for (g, w) in quads.iter().enumerate() {
            let (w16, _) = w.as_chunks::<16>();
            let mut wv = [_mm256_setzero_si256(); 4];
            for (v, w) in wv.iter_mut().zip(w16) {
                *v = _mm256_cvtepi8_epi16(load_bytes16(w));
            }
            for (s, q) in sums.iter_mut().zip(&xp) {
                let Some(&[x01, x23]) = q.get(g) else { continue };
                let (x01, x23) = (_mm256_set1_epi32(x01), _mm256_set1_epi32(x23));
                // Rows 0..8: weights `wv[0]` (inputs 0, 1) and `wv[1]` (2, 3); rows 8..16:
                // `wv[2]`, `wv[3]`.
                let [s0, s1] = s;
                *s0 = _mm256_add_epi32(
                    *s0,
                    _mm256_add_epi32(_mm256_madd_epi16(wv[0], x01), _mm256_madd_epi16(wv[1], x23)),
                );
                *s1 = _mm256_add_epi32(
                    *s1,
                    _mm256_add_epi32(_mm256_madd_epi16(wv[2], x01), _mm256_madd_epi16(wv[3], x23)),
                );
            }
        }
        for (p, s) in sums.iter().enumerate() {
            for (v, (c, &s)) in ch.iter().zip(s).enumerate() {
                let y = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(c.apply_as::<FULL>(s), zp), lo), hi);
                let at = p * rows + first + 8 * v;
                if let Some(o) = out.get_mut(at..).and_then(|o| o.first_chunk_mut::<8>()) {
                    store8_i8(y, o);
                }
            }
        }
    }

    /// [`super::add_requantized`] with AVX-512: sixteen values at a time, each of the three
    /// requantizations by a [`Channels16`] holding the same multiplier and shift in every lane
    /// (its exact form for any `i32`: [`Channels16::apply_as`] where `full`, else
    /// [`Channels16::apply_short`]), narrowed by `vpmovsdb` (saturating, so the clamp can follow
    /// on bytes). Returns how many values it wrote: a multiple of 16.
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f` and `avx512bw`.
    #[target_feature(enable = "avx2,avx512f,avx512bw")]
    pub(super) unsafe fn add_requantized_avx512(
        a: &[i8],
        b: &mut [i8],
        (z1, z2, zo): (i32, i32, i32),
        [m1, m2, mo]: [Requant; 3],
        (lo, hi): (i8, i8),
    ) -> usize {
        let channels = |m: Requant| Channels16::new(_mm512_set1_epi32(m.multiplier), _mm512_set1_epi32(m.shift));
        let (c1, c2, co) = (channels(m1), channels(m2), channels(mo));
        let apply = |c: &Channels16, x: __m512i| if c.full { c.apply_as::<true>(x) } else { c.apply_short(x) };
        let (z1, z2, zo) = (_mm512_set1_epi32(z1), _mm512_set1_epi32(z2), _mm512_set1_epi32(zo));
        let (lo, hi) = (_mm_set1_epi8(lo), _mm_set1_epi8(hi));
        const LEFT: u32 = crate::quant::residual::ADD_LEFT_SHIFT as u32;
        let (a16, _) = a.as_chunks::<16>();
        let (b16, _) = b.as_chunks_mut::<16>();
        let mut done = 0;
        for (a, b) in a16.iter().zip(b16.iter_mut()) {
            // SAFETY: `a` and `b` are 16 readable bytes each, one `__m128i`; unaligned loads are
            // allowed.
            let (va, vb) = unsafe { (_mm_loadu_si128(a.as_ptr().cast()), _mm_loadu_si128(b.as_ptr().cast())) };
            // `(q − z)·2²⁰`, wrapping like the scalar code.
            let sa = _mm512_slli_epi32::<LEFT>(_mm512_sub_epi32(_mm512_cvtepi8_epi32(va), z1));
            let sb = _mm512_slli_epi32::<LEFT>(_mm512_sub_epi32(_mm512_cvtepi8_epi32(vb), z2));
            let sum = _mm512_add_epi32(apply(&c1, sa), apply(&c2, sb));
            let y = _mm512_add_epi32(apply(&co, sum), zo);
            let bytes = _mm_min_epi8(_mm_max_epi8(_mm512_cvtsepi32_epi8(y), lo), hi);
            // SAFETY: `b` is 16 writable bytes, one `__m128i`; unaligned stores are allowed.
            unsafe { _mm_storeu_si128(b.as_mut_ptr().cast(), bytes) };
            done += 16;
        }
        done
    }

    /// Four rows of 64 bytes interleaved byte by byte for `vpdpbusd`: vector `k`, lane `4l + j`
    /// holds byte `16l + 4k + j` of `t0`, `t1`, `t2`, `t3` (in that order, lowest first).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    fn interleave4(t0: __m512i, t1: __m512i, t2: __m512i, t3: __m512i) -> [__m512i; 4] {
        let (a, b) = (_mm512_unpacklo_epi8(t0, t1), _mm512_unpackhi_epi8(t0, t1));
        let (c, d) = (_mm512_unpacklo_epi8(t2, t3), _mm512_unpackhi_epi8(t2, t3));
        [
            _mm512_unpacklo_epi16(a, c),
            _mm512_unpackhi_epi16(a, c),
            _mm512_unpacklo_epi16(b, d),
            _mm512_unpackhi_epi16(b, d),
        ]
    }

    /// Channel `16l + 4k + j` of a 64-channel block at index `16k + 4l + j`: the order
    /// [`interleave4`] leaves the sums in, for [`Requant64::new`] (a transposition of 4×4 blocks
    /// of four, its own inverse).
    #[inline(always)]
    fn interleaved_order(v: &[i32]) -> [i32; 64] {
        core::array::from_fn(|i| {
            let (k, l, j) = (i / 16, (i / 4) % 4, i % 4);
            v.get(16 * l + 4 * k + j).copied().unwrap_or(0)
        })
    }

    /// [`super::depthwise_requantized`] with AVX-512 VNNI (see there).
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512bw`, `avx512vl` and `avx512vnni`, and
    /// `K ≤ 4` (channels past `min(C, CO)` are not written).
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
    pub(super) unsafe fn depthwise_vnni<
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const KW: usize,
        const HO: usize,
        const WO: usize,
        const CO: usize,
    >(
        x: &[[[i8; C]; W]; H],
        w: &[[[i8; C]; KW]; K],
        geometry: super::DepthwiseGeometry,
        rq: &ChannelRequant<CO>,
        zero_point: i32,
        bounds: (i8, i8),
        out: &mut [[[i8; CO]; WO]; HO],
    ) {
        let pad = geometry.pad;
        let flip = _mm512_set1_epi8(i8::MIN);
        let zero = _mm512_setzero_si512();
        let ones = _mm512_set1_epi8(1);
        // A pixel of padding, flipped, and its column quad (rows past `K` are zeros: their
        // weights are zero).
        let pad_row = _mm512_xor_si512(_mm512_set1_epi8(pad), flip);
        let rows = |r: [__m512i; K]| {
            let at = |i: usize| r.get(i).copied().unwrap_or(zero);
            interleave4(at(0), at(1), at(2), at(3))
        };
        let pad_quad = rows([pad_row; K]);
        for block in 0..C / 64 {
            let at = 64 * block;
            let bytes = |v: &[i8; C]| -> __m512i {
                match v.get(at..).and_then(|b| b.first_chunk::<64>()) {
                    Some(b) => load64(b),
                    None => zero,
                }
            };
            // The weights, interleaved as the column quads are, one set per kernel column, and
            // the sums' start: `bias − 128·Σ w` (the flip adds `128·Σ w`).
            let mut wq = [[zero; 4]; KW];
            let mut sum_w = [zero; 4];
            for (kx, q) in wq.iter_mut().enumerate() {
                let taps: [__m512i; K] =
                    core::array::from_fn(|ky| w.get(ky).and_then(|r| r.get(kx)).map_or(zero, bytes));
                *q = rows(taps);
                for (s, &q) in sum_w.iter_mut().zip(q.iter()) {
                    *s = _mm512_dpbusd_epi32(*s, ones, q);
                }
            }
            let bias = interleaved_order(rq.bias.get(at..).unwrap_or_default());
            let mut start = [zero; 4];
            for ((st, b), &sw_) in start.iter_mut().zip(bias.as_chunks::<16>().0).zip(&sum_w) {
                *st = _mm512_sub_epi32(load16(b), _mm512_slli_epi32::<7>(sw_));
            }
            let requant = Requant64::new(
                &interleaved_order(rq.multiplier.get(at..).unwrap_or_default()),
                &interleaved_order(rq.shift.get(at..).unwrap_or_default()),
                zero_point,
                bounds,
            );
            let block = DepthwiseBlock { at, wq, start, requant, pad_row, pad_quad };
            match requant.form {
                Form::Positive => {
                    depthwise_rows::<{ Form::POSITIVE }, H, W, C, K, KW, HO, WO, CO>(x, geometry, &block, out)
                }
                Form::Short => depthwise_rows::<{ Form::SHORT }, H, W, C, K, KW, HO, WO, CO>(x, geometry, &block, out),
                Form::Mixed => depthwise_rows::<{ Form::MIXED }, H, W, C, K, KW, HO, WO, CO>(x, geometry, &block, out),
            }
        }
    }

    /// One 64-channel block of [`depthwise_vnni`], laid out once per call.
    struct DepthwiseBlock<const KW: usize> {
        /// The first channel.
        at: usize,
        /// The weights of each kernel column, interleaved as the column quads.
        wq: [[__m512i; 4]; KW],
        /// The sums' start, `bias − 128·Σ w`, interleaved.
        start: [__m512i; 4],
        /// The requantization, in the interleaved order.
        requant: Requant64,
        /// A pixel of padding, flipped, and its column quad.
        pad_row: __m512i,
        pad_quad: [__m512i; 4],
    }

    /// Every output row of one block of [`depthwise_vnni`], with the requantization's form
    /// `FORM` (see [`Form`]).
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vl,avx512vnni")]
    fn depthwise_rows<
        const FORM: u8,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const KW: usize,
        const HO: usize,
        const WO: usize,
        const CO: usize,
    >(
        x: &[[[i8; C]; W]; H],
        geometry: super::DepthwiseGeometry,
        block: &DepthwiseBlock<KW>,
        out: &mut [[[i8; CO]; WO]; HO],
    ) {
        let super::DepthwiseGeometry { stride: (s, sw), before: (top, left), .. } = geometry;
        let DepthwiseBlock { at, wq, start, requant, pad_row, pad_quad } = block;
        let (flip, zero) = (_mm512_set1_epi8(i8::MIN), _mm512_setzero_si512());
        let mut columns = [*pad_quad; W];
        for (oy, out_row) in out.iter_mut().enumerate() {
            // This output row's column quads, one per input column.
            for (ix, col) in columns.iter_mut().enumerate() {
                let taps: [__m512i; K] = core::array::from_fn(|ky| {
                    match (oy * s + ky).checked_sub(top).and_then(|iy| x.get(iy)).and_then(|r| r.get(ix)) {
                        Some(p) => match p.get(*at..).and_then(|b| b.first_chunk::<64>()) {
                            Some(b) => _mm512_xor_si512(load64(b), flip),
                            None => zero,
                        },
                        None => *pad_row,
                    }
                });
                let row = |i: usize| taps.get(i).copied().unwrap_or(zero);
                *col = interleave4(row(0), row(1), row(2), row(3));
            }
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                let mut acc = *start;
                for (kx, wq) in wq.iter().enumerate() {
                    let q = (ox * sw + kx).checked_sub(left).and_then(|ix| columns.get(ix)).unwrap_or(pad_quad);
                    for ((a, &q), &wq) in acc.iter_mut().zip(q).zip(wq) {
                        *a = _mm512_dpbusd_epi32(*a, q, wq);
                    }
                }
                if let Some(o) = out_pixel.get_mut(*at..).and_then(|o| o.first_chunk_mut::<64>()) {
                    requant.store::<false, FORM>(&acc, o);
                }
            }
        }
    }

    /// Channel `c` of a 16-channel block at index `i` (`v[at + c]`), the order `vpunpck{l,h}wd`
    /// leave [`pairs16`]'s lanes in: `[0, 1, 2, 3, 8, 9, 10, 11]`, then `[4, 5, 6, 7, 12, 13,
    /// 14, 15]`.
    #[inline(always)]
    fn unpacked_order(v: &[i32], at: usize) -> [i32; 16] {
        core::array::from_fn(|i| {
            let c = (i / 8) * 4 + (i % 8 / 4) * 8 + i % 4;
            v.get(at + c).copied().unwrap_or(0)
        })
    }

    /// Two kernel rows (or input rows) of 16 channels as `i16` pairs for `vpmaddwd`: 32-bit lane
    /// `i` of the two vectors holds `(a[c], b[c])`, `c` the channel at [`unpacked_order`]'s `i`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn pairs16(a: __m128i, b: __m128i) -> [__m256i; 2] {
        let (a, b) = (_mm256_cvtepi8_epi16(a), _mm256_cvtepi8_epi16(b));
        [_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b)]
    }

    /// The (up to) four rows of one column of 16 channels as two [`pairs16`], rows 0 and 1, then
    /// rows 2 and 3 (rows past `K` are zeros: their weights are zero).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn column_pairs<const K: usize>(rows: [__m128i; K]) -> [[__m256i; 2]; 2] {
        let row = |i: usize| rows.get(i).copied().unwrap_or(_mm_setzero_si128());
        [pairs16(row(0), row(1)), pairs16(row(2), row(3))]
    }

    /// One 16-channel block of [`depthwise_requantized_avx2`], laid out once per call.
    struct DepthwiseBlock8<const KW: usize> {
        /// The first channel.
        at: usize,
        /// The weights of each kernel column as [`column_pairs`].
        wq: [[[__m256i; 2]; 2]; KW],
        /// The sums' start, the bias, in [`unpacked_order`].
        start: [__m256i; 2],
        /// The requantization of the two vectors, in [`unpacked_order`].
        ch: [Channels8; 2],
        /// A column of padding pixels as [`column_pairs`].
        pad_col: [[__m256i; 2]; 2],
    }

    /// [`super::depthwise_requantized`] with AVX2: `vpmaddwd` on pairs of kernel rows, exact
    /// (`|x·w| ≤ 2¹⁴`, two products per lane; no `vpmaddubsw`, whose `i16` sums could
    /// saturate). Per block of 16 channels, the kernel's columns are paired once (rows 0 and 1,
    /// rows 2 and 3, widened to `i16` and interleaved), and for each output row each input
    /// column's pixels are paired the same way once and shared by the `KW` outputs that read
    /// it: a 3×3 kernel is 12 `vpmaddwd` per 16 channels and pixel. The sums start from the
    /// bias and are requantized in registers ([`Channels8`]); the interleaving's channel order is
    /// undone by the narrowing packs.
    ///
    /// # Safety
    /// The CPU must support `avx2`, and `K ≤ 4` (channels past `min(C, CO)` rounded down to 16
    /// are not written).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn depthwise_requantized_avx2<
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const KW: usize,
        const HO: usize,
        const WO: usize,
        const CO: usize,
    >(
        x: &[[[i8; C]; W]; H],
        w: &[[[i8; C]; KW]; K],
        geometry: super::DepthwiseGeometry,
        rq: &ChannelRequant<CO>,
        zero_point: i32,
        bounds: (i8, i8),
        out: &mut [[[i8; CO]; WO]; HO],
    ) {
        let zero = _mm_setzero_si128();
        let pad_col = column_pairs([_mm_set1_epi8(geometry.pad); K]);
        let halves = |v: &[i32; 16]| {
            let half = |h: Option<&[i32; 8]>| h.map_or(_mm256_setzero_si256(), |h| load8(h));
            [half(v.first_chunk::<8>()), half(v.last_chunk::<8>())]
        };
        for block in 0..C.min(CO) / 16 {
            let at = 16 * block;
            let bytes = |v: &[i8; C]| v.get(at..).and_then(|b| b.first_chunk::<16>()).map_or(zero, |b| load_bytes16(b));
            let mut wq = [[[_mm256_setzero_si256(); 2]; 2]; KW];
            for (kx, q) in wq.iter_mut().enumerate() {
                *q =
                    column_pairs::<K>(core::array::from_fn(|ky| w.get(ky).and_then(|r| r.get(kx)).map_or(zero, bytes)));
            }
            let [m0, m1] = halves(&unpacked_order(&rq.multiplier, at));
            let [s0, s1] = halves(&unpacked_order(&rq.shift, at));
            let ch = [Channels8::new(m0, s0), Channels8::new(m1, s1)];
            let start = halves(&unpacked_order(&rq.bias, at));
            let blk = DepthwiseBlock8 { at, wq, start, ch, pad_col };
            if ch.iter().any(|c| c.full) {
                depthwise_rows_avx2::<true, H, W, C, K, KW, HO, WO, CO>(x, geometry, &blk, zero_point, bounds, out);
            } else {
                depthwise_rows_avx2::<false, H, W, C, K, KW, HO, WO, CO>(x, geometry, &blk, zero_point, bounds, out);
            }
        }
    }

    /// Every output row of one 16-channel block of [`depthwise_requantized_avx2`]; `FULL` as in
    /// [`Channels8::apply_as`].
    #[inline]
    #[target_feature(enable = "avx2")]
    fn depthwise_rows_avx2<
        const FULL: bool,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const KW: usize,
        const HO: usize,
        const WO: usize,
        const CO: usize,
    >(
        x: &[[[i8; C]; W]; H],
        geometry: super::DepthwiseGeometry,
        blk: &DepthwiseBlock8<KW>,
        zero_point: i32,
        (lo, hi): (i8, i8),
        out: &mut [[[i8; CO]; WO]; HO],
    ) {
        let super::DepthwiseGeometry { stride: (s, sw), before: (top, left), pad } = geometry;
        let DepthwiseBlock8 { at, wq, start, ch, pad_col } = blk;
        let (zero, pad_row) = (_mm_setzero_si128(), _mm_set1_epi8(pad));
        let zp = _mm256_set1_epi32(zero_point);
        let (lo, hi) = (_mm_set1_epi8(lo), _mm_set1_epi8(hi));
        // Pairs of rows with a weight: one for K ≤ 2, two for K ≤ 4.
        let pairs = K.div_ceil(2);
        let mut columns = [*pad_col; W];
        for (oy, out_row) in out.iter_mut().enumerate() {
            // This output row's input columns, paired.
            for (ix, col) in columns.iter_mut().enumerate() {
                let rows: [__m128i; K] = core::array::from_fn(|ky| {
                    match (oy * s + ky).checked_sub(top).and_then(|iy| x.get(iy)).and_then(|r| r.get(ix)) {
                        Some(p) => p.get(*at..).and_then(|b| b.first_chunk::<16>()).map_or(zero, |b| load_bytes16(b)),
                        None => pad_row,
                    }
                });
                *col = column_pairs(rows);
            }
            for (ox, out_pixel) in out_row.iter_mut().enumerate() {
                let mut acc = *start;
                for (kx, wq) in wq.iter().enumerate() {
                    let q = (ox * sw + kx).checked_sub(left).and_then(|ix| columns.get(ix)).unwrap_or(pad_col);
                    for (q, wq) in q.iter().zip(wq).take(pairs) {
                        for ((a, &q), &wq) in acc.iter_mut().zip(q).zip(wq) {
                            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(q, wq));
                        }
                    }
                }
                let [a0, a1] = acc;
                let y0 = _mm256_add_epi32(ch[0].apply_as::<FULL>(a0), zp);
                let y1 = _mm256_add_epi32(ch[1].apply_as::<FULL>(a1), zp);
                // Saturating packs (exactly the clamp to −128..=127): words `[0..4, 4..8 | 8..12,
                // 12..16]` in channel order, bytes `[0..8, 0..8 | 8..16, 8..16]`, then quadwords
                // 0 and 2.
                let words = _mm256_packs_epi32(y0, y1);
                let bytes = _mm256_permute4x64_epi64::<0b10_00>(_mm256_packs_epi16(words, words));
                let bytes = _mm_min_epi8(_mm_max_epi8(_mm256_castsi256_si128(bytes), lo), hi);
                if let Some(o) = out_pixel.get_mut(*at..).and_then(|o| o.first_chunk_mut::<16>()) {
                    // SAFETY: `o` is 16 writable bytes, one `__m128i`; unaligned stores are
                    // allowed.
                    unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), bytes) };
                }
            }
        }
    }

    /// [`Requant64::store`] on whole pixels of 64-channel blocks, for the tests: `INTERLEAVED`
    /// feeds the sums, bias and constants in [`interleaved_order`] (the depthwise kernel's
    /// case), otherwise in channel order (the matrix product's).
    ///
    /// # Safety
    /// The CPU must support `avx512f` and `avx512bw`.
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn requantize_pixels_by_64<const INTERLEAVED: bool, const C: usize>(
        acc: &[[i32; C]],
        rq: &ChannelRequant<C>,
        zero_point: i32,
        bounds: (i8, i8),
        out: &mut [[i8; C]],
    ) {
        let order = |v: &[i32]| -> [i32; 64] {
            if INTERLEAVED { interleaved_order(v) } else { core::array::from_fn(|i| v.get(i).copied().unwrap_or(0)) }
        };
        for at in (0..C / 64).map(|b| 64 * b) {
            fn tail<const C: usize>(v: &[i32; C], at: usize) -> &[i32] {
                v.get(at..).unwrap_or_default()
            }
            let requant =
                Requant64::new(&order(tail(&rq.multiplier, at)), &order(tail(&rq.shift, at)), zero_point, bounds);
            let bias = order(tail(&rq.bias, at));
            for (a, y) in acc.iter().zip(out.iter_mut()) {
                let a = order(tail(a, at));
                let mut sums = [_mm512_setzero_si512(); 4];
                for ((s, a), b) in sums.iter_mut().zip(a.as_chunks::<16>().0).zip(bias.as_chunks::<16>().0) {
                    *s = _mm512_add_epi32(load16(a), load16(b));
                }
                if let Some(o) = y.get_mut(at..).and_then(|o| o.first_chunk_mut::<64>()) {
                    match (INTERLEAVED, requant.form) {
                        (true, Form::Positive) => requant.store::<false, { Form::POSITIVE }>(&sums, o),
                        (true, Form::Short) => requant.store::<false, { Form::SHORT }>(&sums, o),
                        (true, Form::Mixed) => requant.store::<false, { Form::MIXED }>(&sums, o),
                        (false, Form::Positive) => requant.store::<true, { Form::POSITIVE }>(&sums, o),
                        (false, Form::Short) => requant.store::<true, { Form::SHORT }>(&sums, o),
                        (false, Form::Mixed) => requant.store::<true, { Form::MIXED }>(&sums, o),
                    }
                }
            }
        }
    }

    /// Eight `i32`s as a vector.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn load8(v: &[i32; 8]) -> __m256i {
        // SAFETY: `v` is 32 readable bytes, the size of one `__m256i`; unaligned loads are
        // allowed.
        unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
    }

    /// AVX2: `vpmaddubsw` (pairs of `|x|·w`, at most 32 512 in magnitude: never saturates for
    /// `|w| ≤ 127`), then `vpmaddwd` by ones to widen the pairs into `i32` lanes.
    ///
    /// # Safety
    /// The CPU must support `avx2`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot_rows_avx2(x: &[i8], w: &[i8], acc: &mut [i32]) {
        let ones = _mm256_set1_epi16(1);
        dot_rows_body!(x, w, acc, |s, ax, sw| _mm256_add_epi32(
            s,
            _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sw), ones)
        ));
    }

    /// AVX-512 VNNI on 256-bit vectors: `vpdpbusd` adds four exact `u8·i8` products per lane to
    /// the `i32` accumulator in one instruction.
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512vl` and `avx512vnni`.
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    pub(super) unsafe fn dot_rows_vnni(x: &[i8], w: &[i8], acc: &mut [i32]) {
        dot_rows_body!(x, w, acc, |s, ax, sw| _mm256_dpbusd_epi32(s, ax, sw));
    }
    /// Broadcasts quadruple `g` of `x` into every 32-bit lane.
    #[inline(always)]
    fn quad(x: &[i8], g: usize) -> i32 {
        x.get(4 * g..4 * g + 4).and_then(|q| q.first_chunk::<4>()).map_or(0, |q| i32::from_le_bytes(q.map(|b| b as u8)))
    }

    /// The body of both packed paths: for each block of up to 64 rows, eight 8-lane
    /// accumulators (one per 8 rows) take every input quadruple: `|x|` broadcast (`$ax`) times
    /// the packed weights with the sign of `x` (`$sw`), added by `$mul_add`.
    macro_rules! packed_body {
        ($x:ident, $packed:ident, $acc:ident, |$s:ident, $ax:ident, $sw:ident| $mul_add:expr) => {{
            let rows = $acc.len();
            let groups = $x.len() / 4;
            for (block, out) in $acc.chunks_mut(ROWS * 8).enumerate() {
                let first = block * ROWS * 8;
                let vectors = out.len() / 8;
                let mut sums = [_mm256_setzero_si256(); ROWS];
                if vectors == ROWS {
                    // A full block of 64 rows: one 256-byte slice per quadruple, no per-vector
                    // checks, the eight accumulators in registers.
                    for g in 0..groups {
                        let xb = _mm256_set1_epi32(quad($x, g));
                        let $ax = _mm256_abs_epi8(xb);
                        let base = (g * rows + first) * 4;
                        let Some(ws) = $packed.get(base..).and_then(|b| b.first_chunk::<{ ROWS * LANES }>()) else {
                            continue;
                        };
                        let (ws, _) = ws.as_chunks::<LANES>();
                        for ($s, w) in sums.iter_mut().zip(ws) {
                            let $sw = _mm256_sign_epi8(load(w), xb);
                            *$s = $mul_add;
                        }
                    }
                } else {
                    for g in 0..groups {
                        let xb = _mm256_set1_epi32(quad($x, g));
                        let $ax = _mm256_abs_epi8(xb);
                        let base = (g * rows + first) * 4;
                        for (v, $s) in sums.iter_mut().enumerate().take(vectors) {
                            let at = base + v * LANES;
                            let Some(w) = $packed.get(at..at + LANES).and_then(|b| b.first_chunk::<LANES>()) else {
                                continue;
                            };
                            let $sw = _mm256_sign_epi8(load(w), xb);
                            *$s = $mul_add;
                        }
                    }
                }
                for (chunk, s) in out.chunks_exact_mut(8).zip(&sums) {
                    if let Some(dst) = chunk.first_chunk_mut::<8>() {
                        // SAFETY: `dst` is 8 writable `i32`s, one `__m256i`; unaligned stores
                        // are allowed.
                        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), *s) };
                    }
                }
            }
        }};
    }

    /// [`super::dot_rows_packed`] with AVX2 (`vpmaddubsw`, then `vpmaddwd` by ones).
    ///
    /// # Safety
    /// The CPU must support `avx2`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn packed_avx2(x: &[i8], packed: &[i8], acc: &mut [i32]) {
        let ones = _mm256_set1_epi16(1);
        packed_body!(x, packed, acc, |s, ax, sw| _mm256_add_epi32(
            *s,
            _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sw), ones)
        ));
    }

    /// [`super::dot_rows_packed`] with AVX-512 VNNI on 256-bit vectors (`vpdpbusd`).
    ///
    /// # Safety
    /// The CPU must support `avx2`, `avx512f`, `avx512vl` and `avx512vnni`.
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    pub(super) unsafe fn packed_vnni(x: &[i8], packed: &[i8], acc: &mut [i32]) {
        packed_body!(x, packed, acc, |s, ax, sw| _mm256_dpbusd_epi32(*s, ax, sw));
    }

    /// [`super::depthwise_dot`] with AVX2: per 16-channel block, every tap's `x` and `w`
    /// widened to `i16`, multiplied exactly (`|x·w| ≤ 2¹⁴`), and the products widened into two
    /// 8-lane `i32` accumulators.
    ///
    /// # Safety
    /// The CPU must support `avx2`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn depthwise_avx2(x: &[i8], w: &[i8], acc: &mut [i32]) {
        let c = acc.len();
        for (block, out) in acc.chunks_exact_mut(16).enumerate() {
            let (mut lo, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for (xt, wt) in x.chunks_exact(c).zip(w.chunks_exact(c)) {
                let (Some(xs), Some(ws)) = (
                    xt.get(block * 16..).and_then(|s| s.first_chunk::<16>()),
                    wt.get(block * 16..).and_then(|s| s.first_chunk::<16>()),
                ) else {
                    continue;
                };
                // SAFETY: `xs` and `ws` are 16 readable bytes each, one `__m128i`; unaligned
                // loads are allowed.
                let (xv, wv) = unsafe { (_mm_loadu_si128(xs.as_ptr().cast()), _mm_loadu_si128(ws.as_ptr().cast())) };
                let p = _mm256_mullo_epi16(_mm256_cvtepi8_epi16(xv), _mm256_cvtepi8_epi16(wv));
                lo = _mm256_add_epi32(lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
                hi = _mm256_add_epi32(hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(p)));
            }
            if let Some((a, b)) = out.split_first_chunk_mut::<8>() {
                // SAFETY: `a` and `b` are 8 writable `i32`s each (`out` has 16), one `__m256i`.
                unsafe {
                    _mm256_storeu_si256(a.as_mut_ptr().cast(), lo);
                    _mm256_storeu_si256(b.as_mut_ptr().cast(), hi);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::SeedRng;
    use rand_core::Rng;

    fn reference(x: &[i8], w: &[i8], rows: usize) -> std::vec::Vec<i32> {
        (0..rows).map(|r| x.iter().zip(&w[r * x.len()..]).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum()).collect()
    }

    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn the_packed_kernel_equals_the_textbook_sums() {
        // Runs the path this process uses (tests/int8_simd.rs runs every path on whole models).
        let mut rng = SeedRng::seed(11);
        let mut byte = || (rng.next_u32() % 255) as i8 as i16 as i8;
        for (n, rows) in [(4, 8), (40, 64), (64, 64), (36, 72), (12, 136)] {
            let x: std::vec::Vec<i8> = (0..n).map(|_| byte()).collect();
            let w: std::vec::Vec<i8> = (0..n * rows).map(|_| byte().max(-127)).collect();
            let mut packed = std::vec![0i8; n * rows];
            pack_by_fours(&w, n, &mut packed);
            if n >= 8 {
                assert_eq!(packed[(rows + 1) * 4 + 2], w[n + 4 + 2], "quadruple 1 of row 1");
            }
            let mut acc = std::vec![0i32; rows];
            dot_rows_packed(&x, &w, &packed, &mut acc, true);
            assert_eq!(acc, reference(&x, &w, rows), "n = {n}, rows = {rows}");
        }
    }

    #[test]
    fn the_depthwise_kernel_equals_the_textbook_sums() {
        let mut rng = SeedRng::seed(12);
        let mut byte = || (rng.next_u32() % 255) as i8 as i16 as i8;
        for (taps, c) in [(9, 64), (1, 16), (40, 32), (3, 5)] {
            // Extremes included: −128·−128 is the largest product.
            let mut x: std::vec::Vec<i8> = (0..taps * c).map(|_| byte()).collect();
            let mut w: std::vec::Vec<i8> = (0..taps * c).map(|_| byte()).collect();
            x[0] = -128;
            w[0] = -128;
            let mut acc = std::vec![7i32; c];
            depthwise_dot(&x, &w, &mut acc);
            let want: std::vec::Vec<i32> =
                (0..c).map(|ch| (0..taps).map(|t| i32::from(x[t * c + ch]) * i32::from(w[t * c + ch])).sum()).collect();
            assert_eq!(acc, want, "taps = {taps}, channels = {c}");
        }
    }

    #[test]
    fn every_path_equals_the_textbook_sum() {
        // Sizes around the 32-byte blocks and the 4-row groups, extreme values included.
        let mut rng = SeedRng::seed(11);
        std::println!("int8 path on this machine: {}", simd());
        // Under Miri (scripts/miri.sh) a subset: the interpreter is about 10⁴ times slower.
        let sizes: &[usize] = if cfg!(miri) { &[9, 33, 72] } else { &[1, 9, 31, 32, 33, 64, 72, 95, 784] };
        let row_counts: &[usize] = if cfg!(miri) { &[3, 9] } else { &[1, 3, 4, 5, 10, 64] };
        for &n in sizes {
            for &rows in row_counts {
                let mut byte = || (rng.next_u32() & 0xff) as u8 as i8;
                let mut x: std::vec::Vec<i8> = (0..n).map(|_| byte()).collect();
                let mut w: std::vec::Vec<i8> = (0..n * rows).map(|_| byte().max(-127)).collect();
                x[0] = -128;
                w[0] = -127;
                if n > 1 {
                    x[1] = 127;
                    w[1] = 127;
                }
                let want = reference(&x, &w, rows);
                let mut got = std::vec![0; rows];
                dot_rows(&x, &w, &mut got, has_no_minus_128(&w));
                assert_eq!(got, want, "dispatched, n = {n}, rows = {rows}");
                let mut portable = std::vec![0; rows];
                dot_rows_portable(&x, &w, &mut portable);
                assert_eq!(portable, want, "portable, n = {n}, rows = {rows}");
                // Both forms of the portable dot product, whichever this target uses.
                let row = &w[..n];
                assert_eq!(dot_by_fours(&x, row), want[0], "by fours, n = {n}");
                assert_eq!(dot_by_lanes(&x, row), want[0], "by lanes, n = {n}");
                #[cfg(all(feature = "std", target_arch = "x86_64"))]
                {
                    let mut simd_out = std::vec![0; rows];
                    if std::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU supports avx2 (checked on the line above).
                        unsafe { x86::dot_rows_avx2(&x, &w, &mut simd_out) };
                        assert_eq!(simd_out, want, "avx2, n = {n}, rows = {rows}");
                    }
                    if simd() == Simd::Avx512Vnni {
                        // SAFETY: `simd()` reports VNNI only when all its features are present.
                        unsafe { x86::dot_rows_vnni(&x, &w, &mut simd_out) };
                        assert_eq!(simd_out, want, "vnni, n = {n}, rows = {rows}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_requantization_path_equals_the_scalar_one() {
        // Realistic multipliers and shifts, the extreme and the invalid ones (negative
        // multipliers, shifts beyond ±31, which the SIMD code hands to the scalar one), and
        // accumulators across the whole i32 range; 8-wide blocks and a remainder.
        let mut rng = SeedRng::seed(5);
        let shifts = [-40, -31, -30, -12, -7, -1, 0, 1, 3, 30, 31, 40];
        for round in 0..if cfg!(miri) { 40 } else { 400 } {
            let n = 8 * (round % 5) + round % 7;
            let requant: std::vec::Vec<Requant> = (0..n)
                .map(|i| {
                    let r = rng.next_u32();
                    let multiplier = if round % 9 == 0 { r as i32 } else { ((r >> 1) | (1 << 30)) as i32 };
                    Requant { multiplier, shift: shifts[(r as usize + i) % shifts.len()] }
                })
                .collect();
            let acc: std::vec::Vec<i32> = (0..n)
                .map(|_| {
                    let r = rng.next_u32() as i32;
                    if round % 3 == 0 { r } else { r >> 14 }
                })
                .collect();
            let bias: std::vec::Vec<i32> = (0..n).map(|_| (rng.next_u32() as i32) >> 16).collect();
            let zp = (rng.next_u32() % 256) as i32 - 128;
            let bounds = [(-128, 127), (zp.clamp(-128, 127) as i8, 127), (-128, 20)][round % 3];
            let (mut want, mut got) = (std::vec![0i8; n], std::vec![0i8; n]);
            requantize_rows_portable(&acc, &bias, &requant, zp, bounds, &mut want);
            requantize_rows(&acc, &bias, &requant, zp, bounds, &mut got);
            assert_eq!(got, want, "dispatched ({}), round {round}", simd());
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            if std::is_x86_feature_detected!("avx2") {
                let mut avx2 = std::vec![0i8; n];
                // SAFETY: the CPU supports avx2 (checked on the line above).
                unsafe { x86::requantize_rows_avx2(&acc, &bias, &requant, zp, bounds, &mut avx2) };
                assert_eq!(avx2, want, "avx2, round {round}");
            }
        }
    }

    /// `requantize_pixels` and `requantize_rows` on every path this CPU has, against the
    /// scalar routine (`quant::kernel::requantize`, i.e. TFLite's `MultiplyByQuantizedMultiplier`
    /// with `SaturatingRoundingDoublingHighMul` and `RoundingDivideByPOT`), output by output.
    pub(super) fn check_requant_paths<const C: usize>(
        acc: &[[i32; C]],
        rq: &ChannelRequant<C>,
        zp: i32,
        bounds: (i8, i8),
    ) -> Result<(), std::string::String> {
        let want: std::vec::Vec<[i8; C]> = acc
            .iter()
            .map(|a| {
                core::array::from_fn(|c| {
                    let m = Requant { multiplier: rq.multiplier[c], shift: rq.shift[c] };
                    requantize(a[c].wrapping_add(rq.bias[c]), m, zp, bounds.0, bounds.1)
                })
            })
            .collect();
        let mut got = std::vec![[0i8; C]; acc.len()];
        let check = |name: &str, got: &[[i8; C]]| {
            if got == want.as_slice() { Ok(()) } else { Err(std::format!("{name}: {got:?} != {want:?}")) }
        };
        requantize_pixels_portable(acc, rq, zp, bounds, &mut got);
        check("portable", &got)?;
        requantize_pixels(acc, rq, zp, bounds, &mut got);
        check("dispatched", &got)?;
        let requant: std::vec::Vec<Requant> =
            (0..C).map(|c| Requant { multiplier: rq.multiplier[c], shift: rq.shift[c] }).collect();
        for (a, y) in acc.iter().zip(&mut got) {
            requantize_rows(a, &rq.bias, &requant, zp, bounds, y);
        }
        check("rows, dispatched", &got)?;
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports avx2 (checked on the line above).
                unsafe { x86::requantize_pixels_avx2(acc, rq, zp, bounds, &mut got) };
                check("avx2", &got)?;
                for (a, y) in acc.iter().zip(&mut got) {
                    // SAFETY: as above.
                    unsafe { x86::requantize_rows_avx2(a, &rq.bias, &requant, zp, bounds, y) };
                }
                check("rows, avx2", &got)?;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports avx2 and avx512f (checked on the line above).
                unsafe { x86::requantize_pixels_avx512(acc, rq, zp, bounds, &mut got) };
                check("avx512", &got)?;
            }
            if C.is_multiple_of(64)
                && std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
            {
                // The fused kernels' epilogue: 64 channels per step, narrowed by packs.
                // SAFETY: the CPU supports avx512f and avx512bw (checked above).
                unsafe { x86::requantize_pixels_by_64::<false, C>(acc, rq, zp, bounds, &mut got) };
                check("by 64, channel order", &got)?;
                // SAFETY: as above.
                unsafe { x86::requantize_pixels_by_64::<true, C>(acc, rq, zp, bounds, &mut got) };
                check("by 64, interleaved", &got)?;
            }
        }
        Ok(())
    }

    #[test]
    fn the_saturating_corner_and_every_shift_on_every_path() {
        // 107 channels: six 16-lane blocks, one 8-lane block and three scalar ones. The
        // accumulator i32::MIN with a zero bias meets the multiplier i32::MIN (the one product
        // that saturates), next to i32::MAX, 0, ±1 and the extreme shifts.
        const C: usize = 107;
        let specials = [i32::MIN, i32::MIN + 1, -(1 << 30), -1, 0, 1, 1 << 30, i32::MAX];
        for shift in -40..=40 {
            for (k, &m) in specials.iter().enumerate() {
                let rq = ChannelRequant::<C> {
                    bias: core::array::from_fn(|c| if c % 3 == 0 { 0 } else { specials[(c + k) % 8] }),
                    multiplier: core::array::from_fn(|c| if c % 2 == 0 { m } else { specials[(c * 5 + k) % 8] }),
                    shift: core::array::from_fn(|c| if c % 4 == 3 { specials[c % 8] } else { shift }),
                };
                let acc: [[i32; C]; 2] = [core::array::from_fn(|c| specials[c % 8]), [i32::MIN; C]];
                for bounds in [(-128, 127), (-3, 90)] {
                    check_requant_paths(&acc, &rq, -5, bounds).unwrap();
                }
            }
        }
        // Blocks with no left shift and no i32::MIN multiplier take the shorter form (no shift,
        // no saturation): every right shift, every extreme accumulator.
        for shift in -40..=0 {
            let rq = ChannelRequant::<C> {
                bias: core::array::from_fn(|c| specials[(c + 3) % 8] >> (c % 5)),
                multiplier: core::array::from_fn(|c| specials[1 + c % 7]),
                shift: [shift; C],
            };
            let acc: [[i32; C]; 2] = [core::array::from_fn(|c| specials[c % 8]), [i32::MAX; C]];
            check_requant_paths(&acc, &rq, 7, (-128, 127)).unwrap();
            // 64 channels: the fused kernels' epilogue, whose blocks take the short form (shift
            // 0) or the positive one (every right shift at least 1).
            let rq64 = ChannelRequant::<64> {
                bias: core::array::from_fn(|c| rq.bias[c]),
                multiplier: core::array::from_fn(|c| rq.multiplier[c]),
                shift: [shift; 64],
            };
            let acc64: [[i32; 64]; 2] = [core::array::from_fn(|c| specials[c % 8]), [i32::MIN; 64]];
            check_requant_paths(&acc64, &rq64, 7, (-128, 127)).unwrap();
        }
        // The corner itself, and that it does saturate: M = −1 (multiplier i32::MIN, shift 0)
        // times i32::MIN would be 2³¹, which saturates to i32::MAX, so clamps to `hi`.
        let rq = ChannelRequant::<16> { bias: [0; 16], multiplier: [i32::MIN; 16], shift: [0; 16] };
        let mut got = [[0i8; 16]];
        requantize_pixels(&[[i32::MIN; 16]], &rq, 0, (-128, 127), &mut got);
        assert_eq!(got, [[127; 16]]);
    }

    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn the_gemm_equals_the_textbook_sums() {
        // −128 weights included (the VNNI kernel does not need the sign trick), pixel counts
        // around the tiles of four, one and two blocks of 64 outputs.
        let mut rng = SeedRng::seed(13);
        let mut byte = || (rng.next_u32() & 0xff) as u8 as i8;
        for (n, rows, pixels) in [(4, 64, 1), (40, 64, 125), (64, 64, 7), (64, 128, 4), (12, 64, 9), (8, 16, 3)] {
            let mut x: std::vec::Vec<i8> = (0..n * pixels).map(|_| byte()).collect();
            let mut w: std::vec::Vec<i8> = (0..n * rows).map(|_| byte()).collect();
            (x[0], w[0], w[n + 1]) = (-128, -128, 127);
            let mut packed = std::vec![0i8; n * rows];
            let mut init = std::vec![0i32; rows];
            pack_gemm(&w, n, &mut packed, &mut init);
            let mut acc = std::vec![7i32; rows * pixels];
            gemm(&x, n, &w, &packed, &init, &mut acc);
            let want: std::vec::Vec<i32> = x.chunks(n).flat_map(|xp| reference(xp, &w, rows)).collect();
            assert_eq!(acc, want, "n = {n}, rows = {rows}, pixels = {pixels}, path {}", simd());
            if std::is_x86_feature_detected!("avx512vnni") && gemm_fits(n, rows) {
                assert_eq!(init[0], -128 * w[..n].iter().map(|&v| i32::from(v)).sum::<i32>());
            }
        }
    }

    /// `−128·Σ w` per row of `n` weights, [`pack_gemm`]'s `init`.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn init_reference(w: &[i8], n: usize) -> std::vec::Vec<i32> {
        w.chunks(n).map(|row| -128 * row.iter().map(|&v| i32::from(v)).sum::<i32>()).collect()
    }

    /// Per-channel requantization constants like TFLite's (multipliers in `[2³⁰, 2³¹)`, right
    /// shifts 0 to 12), with channels 112 and up given a left shift (the full form, in the
    /// second block of 64 only: its last 16 channels, or all four vectors in the depthwise
    /// kernel's interleaved order).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn realistic_requant<const C: usize>(rng: &mut SeedRng) -> ChannelRequant<C> {
        ChannelRequant {
            bias: core::array::from_fn(|_| (rng.next_u32() as i32) >> 18),
            multiplier: core::array::from_fn(|_| ((rng.next_u32() >> 1) | (1 << 30)) as i32),
            shift: core::array::from_fn(|c| if c >= 112 { 1 } else { -((rng.next_u32() % 13) as i32) }),
        }
    }

    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn the_fused_gemm_equals_the_gemm_then_the_requantization() {
        // DS-CNN's stem (40 inputs, 125 pixels) and 1×1 layers (64), two blocks of 64 outputs,
        // pixel counts around the tiles of four, inputs past the flipped buffer (130 pixels of
        // 64: flipped per quadruple instead). ResNet-8's shapes on the blocks of 16 and 32
        // outputs: 3×3 over 16 and 32 channels (144, 288 inputs), the padded stem (28), the
        // 1×1 projection (16), pixel counts around the tiles of 16 and 8, 576 inputs past the
        // flipped buffer; 144 rows (nine blocks of 16, the last two in the full form) and 96
        // (three of 32).
        let mut rng = SeedRng::seed(16);
        let shapes = [
            (40, 64, 125),
            (64, 64, 125),
            (64, 64, 130),
            (64, 128, 7),
            (4, 64, 1),
            (12, 64, 9),
            (8, 16, 3),
            (144, 16, 37),
            (144, 32, 21),
            (288, 32, 16),
            (28, 16, 128),
            (16, 32, 64),
            (576, 32, 20),
            (4, 144, 5),
            (64, 96, 9),
        ];
        // Under Miri (scripts/miri.sh, the AVX2 run) a few small shapes.
        let shapes: &[(usize, usize, usize)] =
            if cfg!(miri) { &[(8, 16, 5), (12, 64, 9), (4, 144, 2)] } else { &shapes };
        for &(n, rows, pixels) in shapes {
            let mut byte = || (rng.next_u32() & 0xff) as u8 as i8;
            let mut x: std::vec::Vec<i8> = (0..n * pixels).map(|_| byte()).collect();
            let mut w: std::vec::Vec<i8> = (0..n * rows).map(|_| byte()).collect();
            (x[0], w[0]) = (-128, -128);
            let mut packed = std::vec![0i8; n * rows];
            let mut init = std::vec![0i32; rows];
            pack_gemm(&w, n, &mut packed, &mut init);
            let rq = realistic_requant::<144>(&mut rng);
            let requant: std::vec::Vec<Requant> =
                (0..rows).map(|r| Requant { multiplier: rq.multiplier[r], shift: rq.shift[r] }).collect();
            for (zp, bounds) in [(-128, (-128, 127)), (5, (-3, 90))] {
                let mut want = std::vec![0i8; rows * pixels];
                for (xp, y) in x.chunks(n).zip(want.chunks_mut(rows)) {
                    requantize_rows_portable(&reference(xp, &w, rows), &rq.bias[..rows], &requant, zp, bounds, y);
                }
                let mut got = std::vec![0i8; rows * pixels];
                gemm_requantized(
                    &x,
                    n,
                    (&w, &packed, &init),
                    (&rq.bias[..rows], &rq.multiplier[..rows], &rq.shift[..rows]),
                    zp,
                    bounds,
                    &mut got,
                );
                assert_eq!(got, want, "n = {n}, rows = {rows}, pixels = {pixels}, path {}", simd());
                assert!(want.iter().any(|&v| v > bounds.0 && v < bounds.1), "not all clamped");
                // The AVX2 kernel too, whatever path this process takes (it is the AVX2 path's
                // only when `TYPED_NN_SIMD=avx2`).
                if std::is_x86_feature_detected!("avx2") && n <= GEMM_WIDE_VALUES {
                    let (mut packed2, mut init2) = (std::vec![0i8; n * rows], std::vec![0i32; rows]);
                    pack_gemm_avx2(&w, n, &mut packed2, &mut init2);
                    assert_eq!(init2, init_reference(&w, n), "n = {n}");
                    let mut got2 = std::vec![0i8; rows * pixels];
                    let rq = (&rq.bias[..rows], &rq.multiplier[..rows], &rq.shift[..rows]);
                    // SAFETY: the CPU has `avx2` (checked); `n` is a multiple of 4 at most
                    // `GEMM_WIDE_VALUES`, `rows` of 16, `packed2` laid out by `pack_gemm_avx2`,
                    // and every length is the kernel's.
                    unsafe { x86::gemm_requantized_avx2(&x, n, &packed2, rq, zp, bounds, &mut got2) };
                    assert_eq!(got2, want, "AVX2 kernel: n = {n}, rows = {rows}, pixels = {pixels}");
                }
            }
        }
    }

    /// The textbook depthwise convolution (depth multiplier 1) with TFLite's requantization:
    /// taps outside the image skipped, `(x − z_in)·w`, plus the bias.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[allow(clippy::too_many_arguments, clippy::needless_range_loop)] // the loop as TFLite writes it
    fn depthwise_reference<const H: usize, const W: usize, const C: usize, const K: usize, const KW: usize>(
        x: &[[[i8; C]; W]; H],
        w: &[[[i8; C]; KW]; K],
        (ho, wo): (usize, usize),
        (s, sw, top, left): (usize, usize, usize, usize),
        z_in: i32,
        bias: &[i32; C],
        rq: &ChannelRequant<C>,
        (zp, bounds): (i32, (i8, i8)),
    ) -> std::vec::Vec<i8> {
        let mut out = std::vec::Vec::new();
        for oy in 0..ho {
            for ox in 0..wo {
                for c in 0..C {
                    let mut acc = bias[c];
                    for ky in 0..K {
                        for kx in 0..KW {
                            let (iy, ix) =
                                ((oy * s + ky) as isize - top as isize, (ox * sw + kx) as isize - left as isize);
                            if iy >= 0 && ix >= 0 && (iy as usize) < H && (ix as usize) < W {
                                acc += (i32::from(x[iy as usize][ix as usize][c]) - z_in) * i32::from(w[ky][kx][c]);
                            }
                        }
                    }
                    let m = Requant { multiplier: rq.multiplier[c], shift: rq.shift[c] };
                    out.push(requantize(acc, m, zp, bounds.0, bounds.1));
                }
            }
        }
        out
    }

    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn the_depthwise_kernels_equal_the_textbook_convolution() {
        #[allow(clippy::needless_range_loop)] // channel by channel, as the reference
        fn run<
            const H: usize,
            const W: usize,
            const C: usize,
            const K: usize,
            const KW: usize,
            const HO: usize,
            const WO: usize,
        >(
            rng: &mut SeedRng,
            (s, sw, top, left): (usize, usize, usize, usize),
        ) {
            let mut byte = || (rng.next_u32() & 0xff) as u8 as i8;
            let mut x = [[[0i8; C]; W]; H];
            x.as_flattened_mut().as_flattened_mut().iter_mut().for_each(|v| *v = byte());
            let mut w = [[[0i8; C]; KW]; K];
            w.as_flattened_mut().as_flattened_mut().iter_mut().for_each(|v| *v = byte());
            (x[0][0][0], w[0][0][0], w[K - 1][KW - 1][C - 1]) = (-128, -128, 127);
            let z_in = -7;
            let bias: [i32; C] = core::array::from_fn(|_| (rng.next_u32() as i32) >> 20);
            let mut rq = realistic_requant::<C>(rng);
            // The kernel takes the bias with the input zero point folded in, as the layers
            // hold it: `bias − z_in·Σ w` (padding holds `z_in`).
            for c in 0..C {
                let sum: i32 =
                    (0..K).flat_map(|ky| (0..KW).map(move |kx| (ky, kx))).map(|(ky, kx)| i32::from(w[ky][kx][c])).sum();
                rq.bias[c] = bias[c] - z_in * sum;
            }
            let geometry = DepthwiseGeometry { stride: (s, sw), before: (top, left), pad: z_in as i8 };
            for (zp, bounds) in [(-128, (-128, 127)), (3, (3, 127))] {
                let want = depthwise_reference(&x, &w, (HO, WO), (s, sw, top, left), z_in, &bias, &rq, (zp, bounds));
                assert!(want.iter().any(|&v| v > bounds.0 && v < bounds.1), "not all clamped");
                if depthwise_fits(C, K) {
                    // The process's path: VNNI here, or AVX2 with `TYPED_NN_SIMD=avx2`.
                    let mut got = [[[0i8; C]; WO]; HO];
                    depthwise_requantized(&x, &w, geometry, &rq, zp, bounds, &mut got);
                    let got = got.as_flattened().as_flattened();
                    assert_eq!(got, &want[..], "H = {H}, W = {W}, C = {C}, K = {K}×{KW}, path {}", simd());
                }
                if std::is_x86_feature_detected!("avx2") {
                    // The AVX2 kernel whatever the process's path.
                    let mut got = [[[0i8; C]; WO]; HO];
                    // SAFETY: the CPU has `avx2` (checked) and `K ≤ 4` (every case below).
                    unsafe { x86::depthwise_requantized_avx2(&x, &w, geometry, &rq, zp, bounds, &mut got) };
                    let got = got.as_flattened().as_flattened();
                    assert_eq!(got, &want[..], "AVX2 kernel: H = {H}, W = {W}, C = {C}, K = {K}×{KW}");
                }
            }
        }
        if !std::is_x86_feature_detected!("avx2") {
            std::println!("no AVX2 on this machine: the depthwise kernels are not tested");
            return;
        }
        let mut rng = SeedRng::seed(17);
        // DS-CNN's layer (25×5, 3×3, SAME); two blocks of 64 channels with stride (2, 1),
        // VALID and a 2×3 kernel; a 4×1 kernel (all four rows of a quad) with SAME padding
        // above and below; a 1×1 kernel with stride 2; a 3×2 kernel wider than the image is
        // tall, with padding on every side.
        // Under Miri (scripts/miri.sh, the AVX2 run) the two small ones.
        if !cfg!(miri) {
            run::<25, 5, 64, 3, 3, 25, 5>(&mut rng, (1, 1, 1, 1));
            run::<7, 6, 128, 2, 3, 3, 4>(&mut rng, (2, 1, 0, 0));
            run::<5, 4, 64, 4, 1, 5, 4>(&mut rng, (1, 1, 1, 0));
        }
        run::<3, 3, 64, 1, 1, 2, 2>(&mut rng, (2, 2, 0, 0));
        run::<2, 1, 64, 3, 2, 2, 1>(&mut rng, (1, 1, 1, 0));
    }

    #[test]
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn the_depthwise_tap_kernels_equal_the_textbook_sums() {
        // 9 taps of 64 channels (DS-CNN), 40 (16-lane blocks, then one of 8), 13 (an 8-lane
        // block and scalars), 144 (two 64-channel blocks and one of 16); extremes included.
        fn run<const C: usize>(rng: &mut SeedRng) {
            let pixels: std::vec::Vec<[i8; C]> =
                (0..9).map(|_| core::array::from_fn(|_| (rng.next_u32() & 0xff) as u8 as i8)).collect();
            let mut w: std::vec::Vec<[i32; C]> =
                (0..9).map(|_| core::array::from_fn(|_| i32::from((rng.next_u32() & 0xff) as u8 as i8))).collect();
            w[0][0] = -128;
            let mut flat: std::vec::Vec<&[i8; C]> = pixels.iter().collect();
            let extreme = [-128i8; C];
            flat[0] = &extreme;
            let want: [i32; C] =
                core::array::from_fn(|c| flat.iter().zip(&w).map(|(x, w)| i32::from(x[c]) * w[c]).sum());
            // The kernel's `[ky][kx]` form of the nine taps and weights.
            let taps: [[&[i8; C]; 3]; 3] = core::array::from_fn(|ky| core::array::from_fn(|kx| flat[3 * ky + kx]));
            let w3: [[[i32; C]; 3]; 3] = core::array::from_fn(|ky| core::array::from_fn(|kx| w[3 * ky + kx]));
            let mut got = [1i32; C];
            depthwise_taps(&taps, &w3, &mut got);
            assert_eq!(got, want, "dispatched, C = {C}");
            depthwise_taps_portable(&flat, &w, &mut got);
            assert_eq!(got, want, "portable, C = {C}");
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports avx2 (checked on the line above).
                unsafe { x86::depthwise_taps_avx2(&taps, &w3, &mut got) };
                assert_eq!(got, want, "avx2, C = {C}");
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports avx2 and avx512f.
                    unsafe { x86::depthwise_taps_avx512(&taps, &w3, &mut got) };
                    assert_eq!(got, want, "avx512, C = {C}");
                }
            }
        }
        let mut rng = SeedRng::seed(14);
        run::<64>(&mut rng);
        run::<40>(&mut rng);
        run::<13>(&mut rng);
        run::<144>(&mut rng);
    }

    #[test]
    fn the_worst_case_products_do_not_saturate() {
        // Every pair at the extreme: (−128)·(−127) + (−128)·(−127) = 32 512, the largest pair
        // sum `vpmaddubsw` sees; and mixed signs.
        for (xv, wv) in [(-128i8, -127i8), (-128, 127), (127, 127), (127, -127)] {
            let x = [xv; 64];
            let w = [wv; 64 * 4];
            let mut got = [0; 4];
            dot_rows(&x, &w, &mut got, true);
            assert_eq!(got, [64 * i32::from(xv) * i32::from(wv); 4]);
        }
    }

    #[test]
    fn a_minus_128_weight_is_flagged_and_still_exact() {
        let x = [-128i8; 64];
        let mut w = [1i8; 64];
        w[7] = -128;
        assert!(!has_no_minus_128(&w));
        let mut got = [0];
        dot_rows(&x, &w, &mut got, has_no_minus_128(&w));
        assert_eq!(got, [-128 * 63 + 128 * 128]);
    }
}

/// The vector requantization against the scalar routine over the whole `i32` range: random
/// accumulators, biases, multipliers and shifts (any `i32`; every shift from −33 to 33 is tried
/// for each case as well), zero points and clamp bounds. A fixed seed: the same cases every run.
#[cfg(all(test, feature = "proptest"))]
mod proptests {
    use super::ChannelRequant;
    use super::tests::check_requant_paths;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    /// Any `i32`, with the edges of the range and of `Requant` drawn often.
    fn wide() -> impl Strategy<Value = i32> {
        prop_oneof![
            4 => any::<i32>(),
            1 => prop::sample::select(std::vec![i32::MIN, i32::MIN + 1, -1, 0, 1, 1 << 30, i32::MAX]),
            1 => -(1 << 20)..(1 << 20),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            rng_seed: RngSeed::Fixed(15),
            failure_persistence: None,
            ..ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 192 })
        })]
        #[test]
        fn every_vector_requantization_equals_the_scalar_one(
            lanes in prop::collection::vec(
                (wide(), wide(), wide(), prop_oneof![3 => -40..=40i32, 1 => any::<i32>()]),
                64,
            ),
            zp in any::<i8>(),
            (lo, hi) in (any::<i8>(), any::<i8>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
        ) {
            let lane = |i: usize| lanes.get(i).copied().unwrap_or_default();
            let acc: [i32; 64] = core::array::from_fn(|i| lane(i).0);
            let bias: [i32; 64] = core::array::from_fn(|i| lane(i).1);
            let multiplier: [i32; 64] = core::array::from_fn(|i| lane(i).2);
            let shift: [i32; 64] = core::array::from_fn(|i| lane(i).3);
            // 64 channels (four 16-lane blocks, DS-CNN's width); 24 of them (a 16-lane and an
            // 8-lane block).
            let rq = ChannelRequant::<64> { bias, multiplier, shift };
            check_requant_paths(&[acc], &rq, i32::from(zp), (lo, hi)).map_err(TestCaseError::fail)?;
            let take = |v: &[i32; 64]| -> [i32; 24] { core::array::from_fn(|i| v[i]) };
            let rq24 = ChannelRequant::<24> { bias: take(&bias), multiplier: take(&multiplier), shift: take(&shift) };
            for s in -33..=33 {
                let every = ChannelRequant::<24> { shift: [s; 24], ..rq24 };
                check_requant_paths(&[take(&acc)], &every, i32::from(zp), (lo, hi)).map_err(TestCaseError::fail)?;
            }
            // The short form (no left shift, no `i32::MIN` multiplier: every block of TFLite's
            // multipliers) on random lanes: the multipliers mapped off `i32::MIN`, the shifts
            // mapped to `≤ 0` (including below −31).
            let short = ChannelRequant::<64> {
                multiplier: multiplier.map(|m| if m == i32::MIN { i32::MIN + 1 } else { m }),
                shift: shift.map(|s| if s > 0 { -(s % 40) } else { s }),
                ..rq
            };
            check_requant_paths(&[acc], &short, i32::from(zp), (lo, hi)).map_err(TestCaseError::fail)?;
        }
    }
}
