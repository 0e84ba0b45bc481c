//! The `f32` direct convolution with explicit AVX-512 and AVX2 vectors, one image of a
//! `Conv2D` (or a `DepthwiseConv2D`) at a time, for the single-sample forward pass (issue 14: ResNet-8).
//!
//! **Shape of the kernel.** The output channels are the vector lanes (16 `f32` per AVX-512
//! register, 8 per AVX2 one) and a block of up to `NP` output pixels is computed at once, in
//! `NP × NV` accumulator registers (`NV` vectors of channels per pixel), so that each weight
//! vector loaded serves `NP` pixels and each input value broadcast serves `NV` vectors. The
//! weights are read in Keras' own layout `kernel[ky][kx][ci][co]`: for one tap and one input
//! channel the `CO` weights are contiguous, which is what the kernel loads, so nothing is
//! repacked.
//!
//! **Summation order.** Every output starts from its bias (zero without one) and adds `x·w`
//! with one fused multiply-add per kernel tap inside the image, for `ky`, then `kx`, then the
//! input channel, in increasing order: the order of the generic kernel in `layer/conv.rs`, so
//! both give the same bits (pinned by `tests/conv_direct_bits.rs`). Taps in the padding are
//! skipped, not multiplied by zero (which could turn a `-0.0` sum into `+0.0`, or an infinite
//! weight into NaN). To keep that choice out of the inner loop, the pixels of one block share
//! their in-image taps: an *interior* column (all `KW` column taps inside the image) is
//! computed in blocks of neighbouring pixels along its row; the few *border* columns (at a
//! padded left or right edge) in blocks of pixels down the column. So every block is long —
//! many independent accumulator chains — and none is a single pixel's serial chain of
//! fused multiply-adds, which would wait on the FMA latency at every step.
//!
//! **Depthwise.** [`depthwise_image`] runs a `DepthwiseConv2D` (depth multiplier 1) with a
//! kernel of its own, the channels as lanes. Its `KH × KW` kernel size is a constant of the
//! kernel, so for one vector of channels the `KH·KW` weight vectors and the bias are loaded
//! once and stay in registers (10 of them for a 3 × 3 kernel) while the kernel walks down the
//! image: for each run of neighbouring output columns with the same in-image column taps (up
//! to 8 pixels on the AVX-512 path, `8 / SW` at stride `SW`; up to 4 on the AVX2 one), every
//! output row of the run, its pixels in accumulators. In an *interior* run (all `KW` column
//! taps inside the image) on the AVX-512 path, each input vector of a row tap is loaded once
//! and serves every output of the run that reads it (3 × 3 stride 1: `n + 2` loads for `3n`
//! fused multiply-adds); a border run, and the AVX2 path (16 registers: the weights, the bias
//! and the accumulators leave no room for the inputs), take the inputs as memory operands of
//! the fused multiply-adds. Per output the order is that of `layer/depthwise.rs`: the bias,
//! then one fused multiply-add per in-image tap, `ky` then `kx` increasing, padding taps
//! skipped. The layer passes its activation when it is element-wise (and nothing needs the
//! pre-activations): it runs on each accumulator, in registers, before the one store, instead
//! of in a second pass over the output.
//!
//! Only with `std` on x86-64 (run-time detection): elsewhere [`conv_image`] returns `false` and
//! the caller runs its portable loops, so `no_std` and Cortex-M builds never see an intrinsic.

use crate::Scalar;

/// The sizes of one convolution, besides the input channels, filters and horizontal stride
/// (constants of the kernel): input `h × w`, `kh × kw` kernel, vertical stride `sh`, `top` rows
/// and `left` columns of padding before the image, output `ho × wo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) sh: usize,
    pub(crate) top: usize,
    pub(crate) left: usize,
    pub(crate) ho: usize,
    pub(crate) wo: usize,
}

impl ConvShape {
    /// The taps `k0..k1` of a kernel side of length `k` that land inside an input side of
    /// length `n` for output index `o` (stride `s`, `pad` before the input): those with
    /// `0 ≤ o·s + k − pad < n`, a contiguous range (empty when `k1 ≤ k0`).
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
    #[inline(always)]
    fn inside(o: usize, s: usize, pad: usize, n: usize, k: usize) -> (usize, usize) {
        let at = o.saturating_mul(s);
        (pad.saturating_sub(at).min(k), n.saturating_add(pad).saturating_sub(at).min(k))
    }

    /// Whether slices of these lengths hold the whole convolution with `ci` input channels,
    /// `co` filters and horizontal stride `sw` (so that every index the kernel computes is in
    /// bounds), with every size product representable.
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
    fn fits(
        &self,
        (ci, co, sw, dw): (usize, usize, usize, bool),
        (x, kernel, bias, y): (usize, usize, usize, usize),
    ) -> bool {
        let input = self.h.checked_mul(self.w).and_then(|hw| hw.checked_mul(ci));
        // A depthwise kernel has one filter per channel: `kh·kw·C` weights.
        let per_tap = if dw { Some(ci) } else { ci.checked_mul(co) };
        let weights = self.kh.checked_mul(self.kw).and_then(|k| per_tap.and_then(|t| k.checked_mul(t)));
        let output = self.ho.checked_mul(self.wo).and_then(|p| p.checked_mul(co));
        // Strides and padding enter the row and column arithmetic: keep it far from overflow.
        let reach = self.wo.checked_mul(sw).and_then(|r| r.checked_add(self.kw)).is_some()
            && self.ho.checked_mul(self.sh).and_then(|r| r.checked_add(self.kh)).is_some()
            && self.h.checked_add(self.top).is_some()
            && self.w.checked_add(self.left).is_some();
        ci > 0
            && co > 0
            && (!dw || ci == co)
            && reach
            && input.is_some_and(|n| n <= x)
            && weights == Some(kernel)
            && bias == co
            && output == Some(y)
    }
}

/// The convolution of one image `x` (`h × w × CI`, channels last) by `kernel`
/// (`[kh][kw][CI][CO]`, flattened) plus `bias` (`CO` values, zeros for a layer without one),
/// horizontal stride `SW`, written to `y` (`ho × wo × CO`, before the activation), on the widest
/// vector unit allowed ([`float_simd`](super::simd::float_simd)). `CI`, `CO` and `SW` are
/// constants of the kernel, so that the pixels of a row block sit at constant offsets from one
/// pointer and the channel loop has a constant length. Returns `false`, having written nothing,
/// when no explicit-SIMD path applies: not `f32`, no AVX2 (or `TYPED_NN_SIMD=portable`, or no
/// `std`, or not x86-64), `CO` not a multiple of 8, or slices whose lengths do not match `s`.
#[inline]
pub(crate) fn conv_image<T: Scalar, const CI: usize, const CO: usize, const SW: usize>(
    s: ConvShape,
    x: &[T],
    kernel: &[T],
    bias: &[T],
    y: &mut [T],
) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::simd::{has_avx2_fma, has_avx512};
        if core::any::TypeId::of::<T>() != core::any::TypeId::of::<f32>()
            || !CO.is_multiple_of(8)
            || !s.fits((CI, CO, SW, false), (x.len(), kernel.len(), bias.len(), y.len()))
        {
            return false;
        }
        // SAFETY: `T` is `f32` (same `TypeId`), so each slice is, unchanged, a slice of `f32`
        // of the same length at the same address; shared-ness and lifetimes are kept (`y`'s
        // exclusive borrow moves into `y32`).
        let (x32, k32, b32, y32) = unsafe {
            (
                core::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()),
                core::slice::from_raw_parts(kernel.as_ptr().cast::<f32>(), kernel.len()),
                core::slice::from_raw_parts(bias.as_ptr().cast::<f32>(), bias.len()),
                core::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<f32>(), y.len()),
            )
        };
        if has_avx512() && CO.is_multiple_of(16) {
            // SAFETY: `image_avx512` requires `avx512f`, `avx2` and `fma` (`has_avx512` checked
            // all three at run time), `CO % 16 == 0`, and slices that `fits` `s` (checked).
            unsafe { x86::image_avx512::<CI, CO, SW>(s, x32, k32, b32, y32) };
            return true;
        }
        if has_avx2_fma() {
            // SAFETY: `image_avx2` requires `avx2` and `fma` (checked at run time by
            // `has_avx2_fma`), `CO % 8 == 0`, and slices that `fits` `s` (checked above).
            unsafe { x86::image_avx2::<CI, CO, SW>(s, x32, k32, b32, y32) };
            return true;
        }
    }
    let _ = (s, x, kernel, bias, y);
    false
}

/// The depthwise convolution (depth multiplier 1) of one image `x` (`h × w × C`) by `kernel`
/// (`[KH][KW][C]`, flattened) plus `bias` (`C` values, zeros for a layer without one),
/// horizontal stride `SW`, written to `y` (`ho × wo × C`), each output vector passed through
/// `act` (in place, `lanes` values at a time: 16 on the AVX-512 path, 8 on the AVX2 one) just
/// before it is stored. `act` must therefore be element-wise; a no-op closure stores the
/// pre-activations. The kernel taps `KH × KW` are constants of the kernel, so that the weights
/// of one vector of channels stay in registers. Each output is its bias plus one fused
/// multiply-add per in-image tap, `ky` then `kx` in increasing order: the order of the loops in
/// `layer/depthwise.rs`, so the same bits. Returns `false`, having written nothing, when no
/// explicit-SIMD path applies: not `f32`, no AVX2 (or `TYPED_NN_SIMD=portable`, or no `std`, or
/// not x86-64), `C` not a multiple of 8, or slices whose lengths do not match `s`, `KH`, `KW`.
#[inline]
pub(crate) fn depthwise_image<T: Scalar, const C: usize, const KH: usize, const KW: usize, const SW: usize>(
    s: ConvShape,
    x: &[T],
    kernel: &[T],
    bias: &[T],
    y: &mut [T],
    act: impl Fn(&mut [T]),
) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use super::simd::{has_avx2_fma, has_avx512};
        if core::any::TypeId::of::<T>() != core::any::TypeId::of::<f32>()
            || !C.is_multiple_of(8)
            || (s.kh, s.kw) != (KH, KW)
            || !s.fits((C, C, SW, true), (x.len(), kernel.len(), bias.len(), y.len()))
        {
            return false;
        }
        // SAFETY: as in `conv_image`: `T` is `f32`, the slices are reinterpreted unchanged.
        let (x32, k32, b32, y32) = unsafe {
            (
                core::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()),
                core::slice::from_raw_parts(kernel.as_ptr().cast::<f32>(), kernel.len()),
                core::slice::from_raw_parts(bias.as_ptr().cast::<f32>(), bias.len()),
                core::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<f32>(), y.len()),
            )
        };
        // SAFETY: `T` is `f32` (checked above), so a `&mut [f32]` is, unchanged, a `&mut [T]`
        // of the same length; the exclusive borrow moves into the new slice for the call.
        let act32 =
            |v: &mut [f32]| act(unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<T>(), v.len()) });
        if has_avx512() && C.is_multiple_of(16) {
            // SAFETY: `dw_image_avx512` requires `avx512f`, `avx2` and `fma` (checked at run
            // time by `has_avx512`), `C % 16 == 0`, `s.kh = KH`, `s.kw = KW`, and slices that
            // `fits` `s` as a depthwise convolution (all checked above).
            unsafe { x86::dw_image_avx512::<C, KH, KW, SW, _>(s, x32, k32, b32, y32, &act32) };
            return true;
        }
        if has_avx2_fma() {
            // SAFETY: `dw_image_avx2` requires `avx2` and `fma` (checked at run time),
            // `C % 8 == 0`, `s.kh = KH`, `s.kw = KW`, and slices that `fits` `s` as a depthwise
            // convolution (all checked above).
            unsafe { x86::dw_image_avx2::<C, KH, KW, SW, _>(s, x32, k32, b32, y32, &act32) };
            return true;
        }
    }
    let _ = (s, x, kernel, bias, y, act);
    false
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::arch::x86_64::{
        __m256, __m512, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
        _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
    };

    use super::ConvShape;

    /// A block's first pixel, output pixel `(oy, ox)`. The others follow along its row
    /// (neighbouring output columns, `SW·CI` input floats apart) or down its column
    /// (neighbouring output rows, `down = sh·w·CI` input floats apart).
    #[derive(Clone, Copy)]
    struct At {
        oy: usize,
        ox: usize,
        /// Input floats between two pixels of a column block.
        down: usize,
    }

    /// `match n` over the block sizes compiled: `$block::<.., n, ..>(args)` for each listed
    /// `n`, the last size for anything larger.
    macro_rules! blocks {
        ($n:expr, $block:ident, $nv:ident, $row:literal, $args:tt, [$($np:literal),+], $last:literal) => {
            match $n {
                $($np => blocks!(@call $block, $np, $nv, $row, $args),)+
                _ => blocks!(@call $block, $last, $nv, $row, $args),
            }
        };
        (@call $block:ident, $np:literal, $nv:ident, $row:literal, ($($arg:expr),+)) => {
            $block::<CI, CO, SW, $np, $nv, $row>($($arg),+)
        };
    }

    /// One CPU path: the image function `$image`, its driver `$run` and block kernel `$block`,
    /// compiled for `$features` with `$lanes`-wide vectors of type `$v`. The plan lists, widest
    /// first, `(NV, NP)`: `NV` vectors of channels per pixel, used when `CO` is a multiple of
    /// `NV·lanes`, with at most `NP` pixels per block (accumulators `NP·NV`, plus `NV` weights
    /// and a broadcast, within the 32 or 16 vector registers).
    macro_rules! path {
        (
            $image:ident, $run:ident, $block:ident, $features:literal, $v:ty, $lanes:literal,
            $zero:ident, $load:ident, $store:ident, $set1:ident, $fma:ident,
            [$(($nv:literal, $np:literal)),+]
        ) => {
            /// The whole image (see [`super::conv_image`]).
            ///
            /// # Safety
            /// The CPU has `$features`; `CO` is a multiple of `$lanes`; the slices `fits` `s`.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $image<const CI: usize, const CO: usize, const SW: usize>(
                s: ConvShape,
                x: &[f32],
                kernel: &[f32],
                bias: &[f32],
                y: &mut [f32],
            ) {
                let ptrs = (x.as_ptr(), kernel.as_ptr(), bias.as_ptr(), y.as_mut_ptr());
                $(
                    if CO.is_multiple_of($nv * $lanes) {
                        // SAFETY: forwarded from this function's contract; `CO` is a multiple
                        // of `NV·lanes`.
                        unsafe { $run::<CI, CO, SW, $nv>(s, $np, ptrs) };
                        return;
                    }
                )+
            }

            /// Every block of the image, `NV` vectors of channels per pixel, at most `np` pixels
            /// per block (at most 16, the largest block compiled): first down each border
            /// column, then along each row's interior columns. (Computing every column
            /// downwards made DS-CNN's 10 × 4 first convolution slower: 6.5 → 7.2 µs.)
            ///
            /// # Safety
            /// As for the image function, and `CO` is a multiple of `NV·lanes`.
            #[target_feature(enable = $features)]
            unsafe fn $run<const CI: usize, const CO: usize, const SW: usize, const NV: usize>(
                s: ConvShape,
                np: usize,
                (x, kernel, bias, y): (*const f32, *const f32, *const f32, *mut f32),
            ) {
                let cols_of = |ox: usize| ConvShape::inside(ox, SW, s.left, s.w, s.kw);
                let rows_of = |oy: usize| ConvShape::inside(oy, s.sh, s.top, s.h, s.kh);
                let down = s.sh * s.w * CI;
                // Border columns: blocks of neighbouring rows with the same row taps.
                for ox in (0..s.wo).filter(|&ox| cols_of(ox) != (0, s.kw)) {
                    let cols = cols_of(ox);
                    let mut oy = 0;
                    while oy < s.ho {
                        let rows = rows_of(oy);
                        let mut n = 1;
                        while n < np && oy + n < s.ho && rows_of(oy + n) == rows {
                            n += 1;
                        }
                        let at = At { oy, ox, down };
                        let mut c0 = 0;
                        while c0 < CO {
                            // SAFETY: output pixels `(oy..oy + n, ox)` exist, all with the
                            // in-image taps `rows × cols`; `c0 + NV·lanes ≤ CO`; the rest is
                            // this function's contract.
                            unsafe {
                                blocks!(n, $block, NV, false, (x, kernel, bias, y, at, c0, rows, cols, s),
                                    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 16)
                            }
                            c0 += NV * $lanes;
                        }
                        oy += n;
                    }
                }
                // Interior columns, row by row.
                for oy in 0..s.ho {
                    let rows = rows_of(oy);
                    let mut ox = 0;
                    while ox < s.wo {
                        if cols_of(ox) != (0, s.kw) {
                            ox += 1;
                            continue;
                        }
                        let mut n = 1;
                        while n < np && ox + n < s.wo && cols_of(ox + n) == (0, s.kw) {
                            n += 1;
                        }
                        let at = At { oy, ox, down };
                        let mut c0 = 0;
                        while c0 < CO {
                            // SAFETY: output pixels `(oy, ox..ox + n)` exist, all with the
                            // in-image taps `rows × (0, kw)`; `c0 + NV·lanes ≤ CO`; the rest is
                            // this function's contract.
                            unsafe {
                                blocks!(n, $block, NV, true, (x, kernel, bias, y, at, c0, rows, (0, s.kw), s),
                                    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 16)
                            }
                            c0 += NV * $lanes;
                        }
                        ox += n;
                    }
                }
            }

            /// `NP` output pixels from `at` (along its row if `ALONG_ROW`, else down its
            /// column), channels `c0..c0 + NV·lanes`: the bias, then one fused multiply-add per
            /// tap `ky ∈ rows`, `kx ∈ cols`, input channel, in that order, accumulated in
            /// `NP·NV` registers and stored once.
            ///
            /// # Safety
            /// As for the image function; the block's `NP` pixels
            /// exist and each has the in-image taps `rows × cols` (`ConvShape::inside`);
            /// `c0 + NV·lanes ≤ CO`.
            #[target_feature(enable = $features)]
            #[inline]
            #[allow(clippy::too_many_arguments)]
            unsafe fn $block<
                const CI: usize,
                const CO: usize,
                const SW: usize,
                const NP: usize,
                const NV: usize,
                const ALONG_ROW: bool,
            >(
                x: *const f32,
                kernel: *const f32,
                bias: *const f32,
                y: *mut f32,
                at: At,
                c0: usize,
                rows: (usize, usize),
                cols: (usize, usize),
                s: ConvShape,
            ) {
                // Floats between the block's pixels, in the input and in the output.
                let (step, out_step) = if ALONG_ROW { (SW * CI, CO) } else { (at.down, s.wo * CO) };
                let mut acc: [[$v; NV]; NP] = [[$zero(); NV]; NP];
                // SAFETY (every pointer below): `fits` gave `bias` `CO` values, `kernel`
                // `kh·kw·CI·CO`, `x` at least `h·w·CI` and `y` `ho·wo·CO`. Bias and weight
                // offsets are at most `c0 + v·lanes + lanes − 1 < CO` past the start of a run of
                // `CO` values, which starts at `((ky·kw + kx)·CI + c)·CO` with `ky < kh`,
                // `kx < kw`, `c < CI`. Pixel `p` of the block is output pixel `(oy, ox + p)` or
                // `(oy + p, ox)`, which exists; its input offsets are `(iy·w + ix)·CI + c` with
                // `iy = oy_p·sh + ky − top ∈ 0..h` (as `ky ∈ rows`) and `ix = ox_p·SW + kx −
                // left ∈ 0..w` (as `kx ∈ cols`), so the subtractions do not wrap, and moving to
                // the next pixel adds `SW·CI` (along a row) or `sh·w·CI` (down a column). Its
                // output offsets are `(oy_p·wo + ox_p)·CO + c0 + v·lanes`. Unaligned loads and
                // stores.
                unsafe {
                    for a in acc.iter_mut() {
                        for (v, a) in a.iter_mut().enumerate() {
                            *a = $load(bias.add(c0 + v * $lanes));
                        }
                    }
                    for ky in rows.0..rows.1 {
                        let iy = at.oy * s.sh + ky - s.top;
                        for kx in cols.0..cols.1 {
                            let ix = at.ox * SW + kx - s.left;
                            let xp = x.add((iy * s.w + ix) * CI);
                            let wp = kernel.add((ky * s.kw + kx) * CI * CO + c0);
                            for c in 0..CI {
                                let wrow = wp.add(c * CO);
                                let mut w: [$v; NV] = [$zero(); NV];
                                for (v, w) in w.iter_mut().enumerate() {
                                    *w = $load(wrow.add(v * $lanes));
                                }
                                let xc = xp.add(c);
                                for (p, a) in acc.iter_mut().enumerate() {
                                    let xb = $set1(*xc.add(p * step));
                                    for (a, &w) in a.iter_mut().zip(&w) {
                                        *a = $fma(xb, w, *a);
                                    }
                                }
                            }
                        }
                    }
                    let out = y.add((at.oy * s.wo + at.ox) * CO + c0);
                    for (p, a) in acc.iter().enumerate() {
                        let out = out.add(p * out_step);
                        for (v, &a) in a.iter().enumerate() {
                            $store(out.add(v * $lanes), a);
                        }
                    }
                }
            }
        };
    }

    // AVX-512: 32 registers. 64 channels or a multiple: 6 pixels × 4 vectors (24 accumulators;
    // ResNet-8 the same either way, DS-CNN's 10×4 first convolution 6.5 → 6.0 µs); 32: 12 × 2;
    // 16: 16 × 1.
    path!(
        image_avx512,
        run_avx512,
        block_avx512,
        "avx512f,avx2,fma",
        __m512,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        [(4, 6), (2, 12), (1, 16)]
    );
    // AVX2: 16 registers. 16 channels or a multiple: 6 pixels × 2 vectors (12 accumulators, 2
    // weights, 1 broadcast); 8: 12 × 1.
    path!(
        image_avx2,
        run_avx2,
        block_avx2,
        "avx2,fma",
        __m256,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        [(2, 6), (1, 12)]
    );
    /// `match n` over the row-block widths compiled: `$rows::<C, KH, KW, SW, n, FULL, F>(args)`
    /// for each listed `n`, the last width for anything larger.
    macro_rules! dw_blocks {
        ($n:expr, $full:literal, $rows:ident, $args:tt, [$($np:literal),+], $last:literal) => {
            match $n {
                $($np => dw_blocks!(@call $rows, $np, $full, $args),)+
                _ => dw_blocks!(@call $rows, $last, $full, $args),
            }
        };
        (@call $rows:ident, $np:literal, $full:literal, ($($arg:expr),+)) => {
            $rows::<C, KH, KW, SW, $np, $full, F>($($arg),+)
        };
    }

    /// One CPU path of the depthwise kernel: the image function `$dw_image` and its column
    /// kernel `$rows`, compiled for `$features` with `$lanes`-wide vectors of type `$v`, at most
    /// `$last` pixels per row block (`$last` accumulators and the `KH·KW` weights and the bias
    /// of one vector of channels, within the 32 or 16 vector registers for a 3 × 3 kernel).
    /// `$merge`: whether interior blocks hold their input vectors in registers too (then at
    /// most `$last / SW` pixels per block).
    macro_rules! dw_path {
        (
            $dw_image:ident, $rows:ident, $features:literal, $v:ty, $lanes:literal,
            $load:ident, $store:ident, $fma:ident, [$($np:literal),+], $last:literal, $merge:literal
        ) => {
            /// The whole image of a depthwise convolution (see [`super::depthwise_image`]):
            /// for each vector of `lanes` channels, for each run of neighbouring output columns
            /// with the same in-image column taps (at most `$last` wide, `$last / SW` if
            /// `$merge`), every output row of that run.
            ///
            /// # Safety
            /// The CPU has `$features`; `C` is a multiple of `$lanes`; `s.kh = KH`,
            /// `s.kw = KW`; the slices `fits` `s` as a depthwise convolution.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn $dw_image<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const SW: usize,
                F: Fn(&mut [f32]),
            >(
                s: ConvShape,
                x: &[f32],
                kernel: &[f32],
                bias: &[f32],
                y: &mut [f32],
                act: &F,
            ) {
                let ptrs = (x.as_ptr(), kernel.as_ptr(), bias.as_ptr(), y.as_mut_ptr());
                let cols_of = |ox: usize| ConvShape::inside(ox, SW, s.left, s.w, KW);
                // With the inputs in registers, a row tap of `n` pixels holds `(n − 1)·SW + KW`
                // of them: fewer pixels per block at larger strides.
                let cap = if $merge { ($last / SW).max(1) } else { $last };
                let mut c0 = 0;
                while c0 < C {
                    let mut ox = 0;
                    while ox < s.wo {
                        let cols = cols_of(ox);
                        let mut n = 1;
                        while n < cap && ox + n < s.wo && cols_of(ox + n) == cols {
                            n += 1;
                        }
                        // SAFETY: output columns `ox..ox + n` exist, all with the in-image
                        // column taps `cols`; `c0 + lanes ≤ C`; the rest is this function's
                        // contract.
                        unsafe {
                            if cols == (0, KW) {
                                dw_blocks!(n, true, $rows, (ptrs, s, c0, ox, cols, act), [$($np),+], $last)
                            } else {
                                dw_blocks!(n, false, $rows, (ptrs, s, c0, ox, cols, act), [$($np),+], $last)
                            }
                        };
                        ox += n;
                    }
                    c0 += $lanes;
                }
            }

            /// Output columns `ox..ox + NP` of every output row, channels `c0..c0 + lanes`:
            /// the `KH·KW` weight vectors and the bias are loaded once (registers, for a small
            /// kernel); per row, the `NP` accumulators start from the bias and take one fused
            /// multiply-add per in-image tap, `ky` then `kx` in increasing order; `act` then
            /// runs on each accumulator, which is stored once. If `FULL` (`cols = (0, KW)`,
            /// interior columns) and `$merge` (the AVX-512 path), each input vector of a row
            /// tap is loaded once and used by every output of the block that reads it: the
            /// unrolled `kx`, `p` loops load equal addresses in one basic block with no store
            /// in between, which the compiler merges. (On the AVX2 path, merged loads need more
            /// than its 16 registers: DS-CNN's depthwise layer took 4.4 µs instead of 2.6.)
            ///
            /// # Safety
            /// As for the image function; the output columns `ox..ox + NP` exist and all have
            /// the in-image column taps `cols` (`ConvShape::inside`), `(0, KW)` if `FULL`;
            /// `c0 + lanes ≤ C`.
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn $rows<
                const C: usize,
                const KH: usize,
                const KW: usize,
                const SW: usize,
                const NP: usize,
                const FULL: bool,
                F: Fn(&mut [f32]),
            >(
                (x, kernel, bias, y): (*const f32, *const f32, *const f32, *mut f32),
                s: ConvShape,
                c0: usize,
                ox: usize,
                cols: (usize, usize),
                act: &F,
            ) {
                // SAFETY (every pointer below): `fits` gave `bias` `C` values, `kernel`
                // `KH·KW·C` (`s.kh = KH`, `s.kw = KW`), `x` at least `h·w·C` and `y` `ho·wo·C`.
                // The bias and weight offsets `(ky·KW + kx)·C + c0 + lane` are below `KH·KW·C`
                // as `ky < KH`, `kx < KW`, `c0 + lanes ≤ C`. Output pixel `(oy, ox + p)`
                // (`oy < ho`, `ox + p < wo`) reads input `(iy, ix)` with `iy = oy·sh + ky − top`
                // in `0..h` (`ky ∈ rows`, `ConvShape::inside`) and `ix = (ox + p)·SW + kx −
                // left` in `0..w` (`kx ∈ cols`, the same for every pixel of the block), so the
                // subtractions do not wrap and `(iy·w + ix)·C + c0 + lane < h·w·C`. A `FULL`
                // block (`cols = (0, KW)`, so `ox·SW ≥ left`) reads the same `ix`, as
                // `(ox·SW − left) + (p·SW + kx)`. Output offsets `(oy·wo + ox + p)·C + c0 +
                // lane < ho·wo·C`. Unaligned loads and stores.
                unsafe {
                    let mut w: [[$v; KW]; KH] = [[$load(bias.add(c0)); KW]; KH];
                    for (ky, row) in w.iter_mut().enumerate() {
                        for (kx, w) in row.iter_mut().enumerate() {
                            *w = $load(kernel.add((ky * KW + kx) * C + c0));
                        }
                    }
                    let b = $load(bias.add(c0));
                    let mut lanes = [0.0f32; $lanes];
                    for oy in 0..s.ho {
                        let rows = ConvShape::inside(oy, s.sh, s.top, s.h, KH);
                        let mut acc: [$v; NP] = [b; NP];
                        for (ky, row) in w.iter().enumerate() {
                            if ky < rows.0 || ky >= rows.1 {
                                continue;
                            }
                            let xrow = x.add((oy * s.sh + ky - s.top) * s.w * C + c0);
                            if FULL && $merge {
                                // Every column tap: input `ox·SW − left + p·SW + kx` for pixel
                                // `p`. Equal loads (`p·SW + kx` equal) are merged by the
                                // compiler: one basic block, no store in between.
                                let xrow = xrow.add((ox * SW - s.left) * C);
                                for (kx, &wv) in row.iter().enumerate() {
                                    for (p, a) in acc.iter_mut().enumerate() {
                                        *a = $fma($load(xrow.add((p * SW + kx) * C)), wv, *a);
                                    }
                                }
                                continue;
                            }
                            for (kx, &wv) in row.iter().enumerate() {
                                if kx < cols.0 || kx >= cols.1 {
                                    continue;
                                }
                                for (p, a) in acc.iter_mut().enumerate() {
                                    let ix = (ox + p) * SW + kx - s.left;
                                    *a = $fma($load(xrow.add(ix * C)), wv, *a);
                                }
                            }
                        }
                        let out = y.add((oy * s.wo + ox) * C + c0);
                        for (p, &a) in acc.iter().enumerate() {
                            $store(lanes.as_mut_ptr(), a);
                            act(&mut lanes);
                            $store(out.add(p * C), $load(lanes.as_ptr()));
                        }
                    }
                }
            }
        };
    }

    // AVX-512: 32 registers: 3 × 3 weights, the bias and up to 8 accumulators.
    dw_path!(
        dw_image_avx512,
        dw_rows_avx512,
        "avx512f,avx2,fma",
        __m512,
        16,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps,
        [1, 2, 3, 4, 5, 6, 7],
        8,
        true
    );
    // AVX2: 16 registers: 3 × 3 weights, the bias and up to 4 accumulators.
    dw_path!(
        dw_image_avx2,
        dw_rows_avx2,
        "avx2,fma",
        __m256,
        8,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps,
        [1, 2, 3],
        4,
        false
    );
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::init::{SeedRng, uniform01};

    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut rng = SeedRng::seed(seed);
        (0..n).map(|_| (uniform01(&mut rng) * 2.0 - 1.0) as f32).collect()
    }

    /// The convolution written as its formula: per output, the bias, then a fused multiply-add
    /// per in-image tap for `ky`, `kx`, input channel in that order (padding taps skipped).
    #[allow(clippy::too_many_arguments)]
    fn naive(s: ConvShape, (ci, co, sw): (usize, usize, usize), x: &[f32], k: &[f32], b: &[f32]) -> Vec<f32> {
        let mut y = Vec::new();
        for oy in 0..s.ho {
            for ox in 0..s.wo {
                for o in 0..co {
                    let mut acc = b[o];
                    for ky in 0..s.kh {
                        let Some(iy) = (oy * s.sh + ky).checked_sub(s.top).filter(|&i| i < s.h) else { continue };
                        for kx in 0..s.kw {
                            let Some(ix) = (ox * sw + kx).checked_sub(s.left).filter(|&i| i < s.w) else { continue };
                            for c in 0..ci {
                                acc = x[(iy * s.w + ix) * ci + c].mul_add(k[((ky * s.kw + kx) * ci + c) * co + o], acc);
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
        y
    }

    /// Keras' "same" (or "valid") shape of a `kh × kw` convolution of an `h × w` image.
    fn shape(h: usize, w: usize, k: (usize, usize), (sh, sw): (usize, usize), same: bool) -> ConvShape {
        let out = |n: usize, k: usize, s: usize| if same { n.div_ceil(s) } else { (n - k) / s + 1 };
        let (ho, wo) = (out(h, k.0, sh), out(w, k.1, sw));
        let before =
            |n: usize, o: usize, k: usize, s: usize| if same { ((o - 1) * s + k).saturating_sub(n) / 2 } else { 0 };
        ConvShape { h, w, kh: k.0, kw: k.1, sh, top: before(h, ho, k.0, sh), left: before(w, wo, k.1, sw), ho, wo }
    }

    /// Runs one path (`avx512` or `avx2`) directly, whatever `TYPED_NN_SIMD` says, so that CI
    /// (which runs on the default path) tests both; `false` if the CPU lacks it.
    fn run<const CI: usize, const CO: usize, const SW: usize>(
        avx512: bool,
        s: ConvShape,
        x: &[f32],
        k: &[f32],
        b: &[f32],
        y: &mut [f32],
    ) -> bool {
        assert!(s.fits((CI, CO, SW, false), (x.len(), k.len(), b.len(), y.len())));
        let fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        if avx512 && fma && std::is_x86_feature_detected!("avx512f") && CO.is_multiple_of(16) {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked); `CO % 16 == 0`; the slices
            // fit `s` (asserted).
            unsafe { x86::image_avx512::<CI, CO, SW>(s, x, k, b, y) };
            return true;
        }
        if !avx512 && fma {
            // SAFETY: the CPU has AVX2 and FMA (checked); `CO % 8 == 0` for every caller; the
            // slices fit `s` (asserted).
            unsafe { x86::image_avx2::<CI, CO, SW>(s, x, k, b, y) };
            return true;
        }
        false
    }

    /// Both paths against the formula, bit for bit.
    fn check<const CI: usize, const CO: usize, const SW: usize>(s: ConvShape) {
        let x = values(1, s.h * s.w * CI);
        let k = values(2, s.kh * s.kw * CI * CO);
        let b = values(3, CO);
        let expected = naive(s, (CI, CO, SW), &x, &k, &b);
        for avx512 in [true, false] {
            let mut y = std::vec![f32::NAN; s.ho * s.wo * CO];
            if run::<CI, CO, SW>(avx512, s, &x, &k, &b, &mut y) {
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&expected), "avx512: {avx512}, {s:?}");
            }
        }
    }

    /// ResNet-8's shapes, other widths, rectangular kernels and strides, "valid" padding, and
    /// channel counts that take every vector plan (8, 16, 24, 32, 48, 64 filters).
    #[test]
    fn both_paths_add_the_taps_in_the_formula_order() {
        // Under Miri (scripts/miri.sh) two small shapes: the interpreter is about 10⁴ times
        // slower, and the naive formula of the shapes below took it many minutes.
        if cfg!(miri) {
            check::<5, 8, 1>(shape(7, 13, (3, 3), (1, 1), true));
            check::<3, 32, 1>(shape(3, 3, (5, 5), (1, 1), true));
            return;
        }
        check::<3, 16, 1>(shape(32, 32, (3, 3), (1, 1), true));
        check::<16, 16, 1>(shape(32, 32, (3, 3), (1, 1), true));
        check::<16, 32, 2>(shape(32, 32, (3, 3), (2, 2), true));
        check::<16, 32, 2>(shape(32, 32, (1, 1), (2, 2), true));
        check::<32, 64, 2>(shape(16, 16, (3, 3), (2, 2), true));
        check::<64, 64, 1>(shape(8, 8, (3, 3), (1, 1), true));
        check::<5, 8, 1>(shape(7, 13, (3, 3), (1, 1), true));
        check::<2, 24, 3>(shape(11, 10, (3, 5), (2, 3), true));
        check::<1, 64, 2>(shape(49, 10, (10, 4), (2, 2), true));
        check::<4, 48, 1>(shape(9, 21, (2, 3), (1, 1), false));
        check::<3, 32, 1>(shape(3, 3, (5, 5), (1, 1), true)); // every tap set differs
    }

    /// The depthwise formula: per output channel `o`, the bias, then a fused multiply-add per
    /// in-image tap for `ky`, `kx` in that order, reading input channel `o` only.
    fn naive_depthwise(s: ConvShape, (c, sw): (usize, usize), x: &[f32], k: &[f32], b: &[f32]) -> Vec<f32> {
        let mut y = Vec::new();
        for oy in 0..s.ho {
            for ox in 0..s.wo {
                for o in 0..c {
                    let mut acc = b[o];
                    for ky in 0..s.kh {
                        let Some(iy) = (oy * s.sh + ky).checked_sub(s.top).filter(|&i| i < s.h) else { continue };
                        for kx in 0..s.kw {
                            let Some(ix) = (ox * sw + kx).checked_sub(s.left).filter(|&i| i < s.w) else { continue };
                            acc = x[(iy * s.w + ix) * c + o].mul_add(k[(ky * s.kw + kx) * c + o], acc);
                        }
                    }
                    y.push(acc);
                }
            }
        }
        y
    }

    /// Both depthwise paths against the formula, bit for bit, called directly whatever
    /// `TYPED_NN_SIMD` says (skipped for a path the CPU lacks): the pre-activations (a no-op
    /// `act`), and with an `act` that is not idempotent (`3v − 1`), so an output it missed or
    /// transformed twice shows.
    fn check_depthwise<const C: usize, const KH: usize, const KW: usize, const SW: usize>(
        (h, w): (usize, usize),
        sh: usize,
        same: bool,
    ) {
        let s = shape(h, w, (KH, KW), (sh, SW), same);
        let x = values(11, s.h * s.w * C);
        let k = values(12, KH * KW * C);
        let b = values(13, C);
        assert!(s.fits((C, C, SW, true), (x.len(), k.len(), b.len(), s.ho * s.wo * C)));
        let expected = naive_depthwise(s, (C, SW), &x, &k, &b);
        let affine = |v: &mut [f32]| v.iter_mut().for_each(|v| *v = *v * 3.0 - 1.0);
        let mut activated = expected.clone();
        affine(&mut activated);
        let fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        let avx512 = fma && std::is_x86_feature_detected!("avx512f");
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let none = |_: &mut [f32]| {};
        for (act, want) in [(&none as &dyn Fn(&mut [f32]), &expected), (&affine, &activated)] {
            if avx512 && C.is_multiple_of(16) {
                let mut y = std::vec![f32::NAN; s.ho * s.wo * C];
                // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked); `C % 16 == 0`; the
                // slices fit `s` as a depthwise convolution (asserted), whose kernel is
                // `KH × KW` (built so).
                unsafe { x86::dw_image_avx512::<C, KH, KW, SW, _>(s, &x, &k, &b, &mut y, &act) };
                assert_eq!(bits(&y), bits(want), "avx512, {s:?}");
            }
            if fma {
                let mut y = std::vec![f32::NAN; s.ho * s.wo * C];
                // SAFETY: the CPU has AVX2 and FMA (checked); `C % 8 == 0` for every caller;
                // the slices fit `s` as a depthwise convolution (asserted), whose kernel is
                // `KH × KW` (built so).
                unsafe { x86::dw_image_avx2::<C, KH, KW, SW, _>(s, &x, &k, &b, &mut y, &act) };
                assert_eq!(bits(&y), bits(want), "avx2, {s:?}");
            }
        }
    }

    /// DS-CNN's depthwise shape (25 × 5, rows of a border, 3 interior and a border column),
    /// MobileNetV1's 3 × 3 stride 1 and 2 on odd and even sides (stride 2 "same" on an even
    /// side pads only after), wide rows (runs of 8, 4 and the rest), 16, 32, 64 and 256
    /// channels, every channel count the AVX-512 path leaves to the AVX2 one (8, 24, 48),
    /// rectangular kernels and strides, "valid" padding, a 5 × 5 kernel (more weights than
    /// registers) and kernels larger than the image.
    #[test]
    fn depthwise_paths_add_the_taps_in_the_formula_order() {
        // Under Miri (scripts/miri.sh) three small shapes, as above.
        if cfg!(miri) {
            check_depthwise::<16, 3, 3, 1>((6, 19), 1, false);
            check_depthwise::<16, 5, 5, 1>((3, 4), 1, true);
            check_depthwise::<32, 4, 2, 3>((2, 1), 1, true);
            return;
        }
        check_depthwise::<64, 3, 3, 1>((25, 5), 1, true);
        check_depthwise::<16, 3, 3, 1>((25, 5), 1, true);
        check_depthwise::<32, 3, 3, 1>((14, 29), 1, true);
        check_depthwise::<256, 3, 3, 1>((7, 7), 1, true);
        check_depthwise::<256, 3, 3, 2>((8, 8), 2, true);
        check_depthwise::<32, 3, 3, 2>((15, 15), 2, true);
        check_depthwise::<64, 3, 3, 2>((14, 13), 2, true);
        check_depthwise::<16, 3, 3, 1>((6, 19), 1, false);
        check_depthwise::<8, 3, 3, 1>((6, 19), 1, true);
        check_depthwise::<24, 3, 3, 2>((9, 10), 2, true);
        check_depthwise::<16, 3, 3, 2>((17, 17), 2, true);
        check_depthwise::<32, 3, 5, 2>((12, 21), 1, false);
        check_depthwise::<48, 5, 3, 1>((23, 7), 2, true);
        check_depthwise::<16, 5, 5, 1>((11, 12), 1, true);
        check_depthwise::<16, 5, 5, 1>((3, 4), 1, true);
        check_depthwise::<32, 4, 2, 3>((2, 1), 1, true);
        check_depthwise::<16, 1, 1, 2>((5, 6), 2, true);
    }

    /// A depthwise tap outside the image is skipped, not multiplied by zero: an infinite
    /// top-left weight of channel 0 makes that channel infinite or NaN wherever the tap reads
    /// the image, and leaves the first row and column (where it reads padding) finite.
    #[test]
    fn depthwise_padding_taps_are_skipped() {
        const C: usize = 16;
        let s = shape(6, 7, (3, 3), (1, 1), true);
        let x = values(21, s.h * s.w * C);
        let mut k = values(22, 3 * 3 * C);
        k[0] = f32::INFINITY;
        let b = values(23, C);
        let fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        let avx512 = fma && std::is_x86_feature_detected!("avx512f");
        for wide in [true, false] {
            let mut y = std::vec![0.0f32; s.ho * s.wo * C];
            if wide && avx512 {
                // SAFETY: the CPU has AVX-512F, AVX2 and FMA (checked); `C % 16 == 0`; the
                // slices fit `s`, a 3 × 3 depthwise convolution.
                unsafe { x86::dw_image_avx512::<C, 3, 3, 1, _>(s, &x, &k, &b, &mut y, &|_: &mut [f32]| {}) };
            } else if !wide && fma {
                // SAFETY: the CPU has AVX2 and FMA (checked); `C % 8 == 0`; the slices fit
                // `s`, a 3 × 3 depthwise convolution.
                unsafe { x86::dw_image_avx2::<C, 3, 3, 1, _>(s, &x, &k, &b, &mut y, &|_: &mut [f32]| {}) };
            } else {
                continue;
            }
            for (p, pixel) in y.chunks_exact(C).enumerate() {
                let border = p / s.wo == 0 || p % s.wo == 0;
                assert_eq!(pixel[0].is_finite(), border, "pixel {p}, avx512: {wide}");
                assert!(pixel[1..].iter().all(|v| v.is_finite()));
            }
        }
    }

    /// Slices that do not fit a depthwise convolution (a full convolution's kernel, a short
    /// output), kernel constants that are not the shape's (1 × 9 for a 3 × 3 shape, the same
    /// number of weights), a channel count that is not a multiple of 8, or `f64`: nothing
    /// written, and `act` never called.
    #[test]
    fn depthwise_mismatches_fall_back() {
        let s = shape(5, 5, (3, 3), (1, 1), true);
        let (x, k, b) = (values(14, 5 * 5 * 16), values(15, 3 * 3 * 16), values(16, 16));
        let called = core::cell::Cell::new(false);
        let act = |_: &mut [f32]| called.set(true);
        let mut short = std::vec![7.0f32; 5 * 5 * 16 - 1];
        assert!(!depthwise_image::<f32, 16, 3, 3, 1>(s, &x, &k, &b, &mut short, act));
        let mut y = std::vec![7.0f32; 5 * 5 * 16];
        let full = values(17, 3 * 3 * 16 * 16);
        assert!(!depthwise_image::<f32, 16, 3, 3, 1>(s, &x, &full, &b, &mut y, act));
        assert!(!depthwise_image::<f32, 16, 1, 9, 1>(s, &x, &k, &b, &mut y, act));
        let (x12, k12, b12, mut y12) =
            (values(14, 5 * 5 * 12), values(15, 3 * 3 * 12), values(16, 12), std::vec![7.0f32; 5 * 5 * 12]);
        assert!(!depthwise_image::<f32, 12, 3, 3, 1>(s, &x12, &k12, &b12, &mut y12, act));
        assert!(short.iter().chain(&y).chain(&y12).all(|&v| v == 7.0));
        let (x64, k64, b64) = (std::vec![0.5f64; 400], std::vec![0.5f64; 144], std::vec![0.0f64; 16]);
        let mut y64 = std::vec![0.0f64; 400];
        assert!(!depthwise_image::<f64, 16, 3, 3, 1>(s, &x64, &k64, &b64, &mut y64, |_: &mut [f64]| called.set(true)));
        assert!(!called.get());
    }

    /// A tap outside the image is skipped, not multiplied by zero: an infinite weight on the
    /// top-left tap makes every output that uses it infinite or NaN, and leaves the first row
    /// and column (where that tap reads padding) finite.
    #[test]
    fn padding_taps_are_skipped() {
        const CI: usize = 2;
        const CO: usize = 16;
        let s = shape(6, 6, (3, 3), (1, 1), true);
        let x = values(4, s.h * s.w * CI);
        let mut k = values(5, s.kh * s.kw * CI * CO);
        k[0] = f32::INFINITY;
        let b = values(6, CO);
        for avx512 in [true, false] {
            let mut y = std::vec![0.0f32; s.ho * s.wo * CO];
            if run::<CI, CO, 1>(avx512, s, &x, &k, &b, &mut y) {
                for (p, pixel) in y.chunks_exact(CO).enumerate() {
                    let border = p / s.wo == 0 || p % s.wo == 0;
                    assert_eq!(pixel[0].is_finite(), border, "pixel {p}, avx512: {avx512}");
                    assert!(pixel[1..].iter().all(|v| v.is_finite()));
                }
            }
        }
    }

    /// Slices that do not match the shape, or a filter count that is not a multiple of 8: no
    /// SIMD path, nothing written.
    #[test]
    fn mismatched_slices_fall_back() {
        let s = shape(4, 4, (3, 3), (1, 1), true);
        let (x, k, b) = (values(7, 4 * 4 * 2), values(8, 3 * 3 * 2 * 16), values(9, 16));
        let mut short = std::vec![7.0f32; 4 * 4 * 16 - 1];
        assert!(!conv_image::<f32, 2, 16, 1>(s, &x, &k, &b, &mut short));
        assert!(short.iter().all(|&v| v == 7.0));
        let mut y = std::vec![7.0f32; 4 * 4 * 16];
        assert!(!conv_image::<f32, 2, 16, 1>(s, &x[1..], &k, &b, &mut y));
        let (k12, b12, mut y12) = (values(8, 3 * 3 * 2 * 12), values(9, 12), std::vec![7.0f32; 4 * 4 * 12]);
        assert!(!conv_image::<f32, 2, 12, 1>(s, &x, &k12, &b12, &mut y12));
        assert!(y.iter().chain(&y12).all(|&v| v == 7.0));
        // f64 never takes these kernels.
        let (x64, k64, b64) = (std::vec![0.5f64; 32], std::vec![0.5f64; 288], std::vec![0.0f64; 16]);
        assert!(!conv_image::<f64, 2, 16, 1>(s, &x64, &k64, &b64, &mut std::vec![0.0f64; 256]));
    }
}
