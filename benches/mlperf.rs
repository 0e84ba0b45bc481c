//! MLPerf Tiny's ResNet-8 and DS-CNN (`examples/models/`, the Keras weights of
//! `tests/fixtures/keras_{resnet8,ds_cnn}.safetensors`), single-sample `f32` inference: typed-nn
//! unfolded and BatchNorm-folded, next to a floor made of the bare im2col + GEMM calls of the same
//! convolutions and the `Dense` (no bias, activation, addition or pooling; DS-CNN's depthwise
//! convolutions as a plain direct loop, which is what they are). LiteRT's times for the same
//! models and weights come from `scripts/litert_mlperf_tiny_bench.py`.
//!
//! Run: `cargo bench -p typed-nn-benches --bench mlperf`. Quote ratios, not absolute times.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

#[allow(dead_code)] // the block aliases are for reading
#[path = "../examples/models/resnet8.rs"]
mod resnet8;
use resnet8::{ResNet8, ResNet8Folded};

#[allow(dead_code)]
#[path = "../examples/models/ds_cnn.rs"]
mod ds_cnn;
use ds_cnn::{DsCnn, DsCnnFolded};

/// One convolution of the floor: input `h`×`w` with `c` channels, `kh`×`kw` kernel, stride
/// `sh`×`sw`, `f` filters, "same" padding as Keras computes it (the odd pixel at the
/// bottom/right).
struct Conv {
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    f: usize,
}

/// A square convolution of a square image.
const fn sq(h: usize, c: usize, k: usize, s: usize, f: usize) -> Conv {
    Conv { h, w: h, c, kh: k, kw: k, sh: s, sw: s, f }
}

/// ResNet-8's convolutions in execution order.
const CONVS: [Conv; 9] = [
    sq(32, 3, 3, 1, 16),
    sq(32, 16, 3, 1, 16),
    sq(32, 16, 3, 1, 16),
    sq(32, 16, 3, 2, 32),
    sq(16, 32, 3, 1, 32),
    sq(32, 16, 1, 2, 32),
    sq(16, 32, 3, 2, 64),
    sq(8, 64, 3, 1, 64),
    sq(16, 32, 1, 2, 64),
];

/// DS-CNN's standard convolutions: the 10×4 stride-2 first one and the four 1×1 ones.
const DS_CONVS: [Conv; 5] = [
    Conv { h: 49, w: 10, c: 1, kh: 10, kw: 4, sh: 2, sw: 2, f: 64 },
    sq_rect_pointwise(),
    sq_rect_pointwise(),
    sq_rect_pointwise(),
    sq_rect_pointwise(),
];

/// DS-CNN's 1×1 convolution on the 25×5×64 feature map.
const fn sq_rect_pointwise() -> Conv {
    Conv { h: 25, w: 5, c: 64, kh: 1, kw: 1, sh: 1, sw: 1, f: 64 }
}

/// DS-CNN's 3×3 "same" depthwise convolution on 25×5×64, as a direct loop.
fn depthwise_3x3(x: &[f32], k: &[f32], y: &mut [f32]) {
    const H: usize = 25;
    const W: usize = 5;
    const C: usize = 64;
    for oy in 0..H {
        for ox in 0..W {
            let out = &mut y[(oy * W + ox) * C..][..C];
            out.fill(0.0);
            for ky in 0..3 {
                for kx in 0..3 {
                    let (iy, ix) = ((oy + ky).wrapping_sub(1), (ox + kx).wrapping_sub(1));
                    if iy < H && ix < W {
                        let (xp, kp) = (&x[(iy * W + ix) * C..][..C], &k[(ky * 3 + kx) * C..][..C]);
                        for ((o, &xv), &kv) in out.iter_mut().zip(xp).zip(kp) {
                            *o += xv * kv;
                        }
                    }
                }
            }
        }
    }
}

impl Conv {
    /// Output rows and columns.
    fn out(&self) -> (usize, usize) {
        (self.h.div_ceil(self.sh), self.w.div_ceil(self.sw))
    }

    /// Output pixels.
    fn pixels(&self) -> usize {
        self.out().0 * self.out().1
    }

    /// One im2col row: `kh·kw·c` values.
    fn patch(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Padding above and left.
    fn pad(&self) -> (usize, usize) {
        let (oh, ow) = self.out();
        (
            ((oh - 1) * self.sh + self.kh).saturating_sub(self.h) / 2,
            ((ow - 1) * self.sw + self.kw).saturating_sub(self.w) / 2,
        )
    }

    /// im2col: one row of `kh·kw·c` values per output pixel, zeros outside the image.
    fn im2col(&self, x: &[f32], patches: &mut [f32]) {
        let ((oh, ow), (pt, pl), row_len) = (self.out(), self.pad(), self.patch());
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &mut patches[(oy * ow + ox) * row_len..][..row_len];
                for ky in 0..self.kh {
                    for kx in 0..self.kw {
                        let dst = &mut row[(ky * self.kw + kx) * self.c..][..self.c];
                        let (iy, ix) = ((oy * self.sh + ky).wrapping_sub(pt), (ox * self.sw + kx).wrapping_sub(pl));
                        if iy < self.h && ix < self.w {
                            dst.copy_from_slice(&x[(iy * self.w + ix) * self.c..][..self.c]);
                        } else {
                            dst.fill(0.0);
                        }
                    }
                }
            }
        }
    }

    /// The floor's buffers for this convolution: input, patches, output, kernel.
    fn buffers(&self) -> [Vec<f32>; 4] {
        [
            vec![0.5; self.h * self.w * self.c],
            vec![0.0; self.pixels() * self.patch()],
            vec![0.0; self.pixels() * self.f],
            vec![0.01; self.patch() * self.f],
        ]
    }

    /// im2col and GEMM, given the buffers of [`buffers`](Self::buffers).
    fn run(&self, [x, patches, y, k]: &mut [Vec<f32>; 4]) {
        self.im2col(x, patches);
        gemm(self.pixels(), self.patch(), self.f, patches, k, y);
    }
}

/// `c = a·b`, row-major, `a` is `m×k`, `b` is `k×n`.
fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the assert above: each matrix holds at least the elements its dimensions and
    // row-major strides address.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn single_sample(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_resnet8.safetensors");
    let model: Box<ResNet8> = Box::<ResNet8>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
    let folded: Box<ResNet8Folded> = Box::new(model.fold_batch_norm());
    let mut x = Image::<32, 32, 3>::default();
    let mut rng = SeedRng::seed(5);
    x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32);

    let mut buffers: Vec<[Vec<f32>; 4]> = CONVS.iter().map(Conv::buffers).collect();
    let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 640], vec![0.0f32; 10]);

    let mut g = c.benchmark_group("resnet8_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            for (l, b) in CONVS.iter().zip(&mut buffers) {
                l.run(b);
            }
            gemm(1, 64, 10, &pooled, &dense, &mut logits);
            black_box((&buffers, &logits));
        })
    });
    g.bench_function("typed_nn_folded", |b| b.iter(|| black_box(folded.forward(black_box(&x)))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&x)))));
    g.finish();
}

fn ds_cnn_single_sample(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keras_ds_cnn.safetensors");
    let model: Box<DsCnn> = Box::<DsCnn>::load_safetensors(&std::fs::read(path).unwrap()).unwrap();
    let folded: Box<DsCnnFolded> = Box::new(model.fold_batch_norm());
    let mut x = Image::<49, 10, 1>::default();
    let mut rng = SeedRng::seed(6);
    x.as_mut_slice().iter_mut().for_each(|v| *v = typed_nn::init::uniform01(&mut rng) as f32 * 2.0 - 1.0);

    let mut buffers: Vec<[Vec<f32>; 4]> = DS_CONVS.iter().map(Conv::buffers).collect();
    let (dw_x, dw_k, mut dw_y) = (vec![0.5f32; 25 * 5 * 64], vec![0.01f32; 9 * 64], vec![0.0f32; 25 * 5 * 64]);
    let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 64 * 12], vec![0.0f32; 12]);

    let mut g = c.benchmark_group("ds_cnn_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            DS_CONVS[0].run(&mut buffers[0]);
            for (l, b) in DS_CONVS.iter().zip(&mut buffers).skip(1) {
                depthwise_3x3(&dw_x, &dw_k, &mut dw_y);
                l.run(b);
            }
            gemm(1, 64, 12, &pooled, &dense, &mut logits);
            black_box((&buffers, &dw_y, &logits));
        })
    });
    g.bench_function("typed_nn_folded", |b| b.iter(|| black_box(folded.forward(black_box(&x)))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&x)))));
    g.finish();
}

criterion_group!(benches, single_sample, ds_cnn_single_sample);
criterion_main!(benches);
