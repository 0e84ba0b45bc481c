//! MLPerf Tiny's ResNet-8 (`examples/models/resnet8.rs`, the Keras weights of
//! `tests/fixtures/keras_resnet8.safetensors`), single-sample `f32` inference: typed-nn unfolded
//! and BatchNorm-folded, next to a floor made of the bare im2col + GEMM calls of the same nine
//! convolutions and the `Dense` (no bias, activation, addition or pooling). LiteRT's times for
//! the same model and weights come from `scripts/litert_resnet8_bench.py`.
//!
//! Run: `cargo bench -p typed-nn-benches --bench mlperf`. Quote ratios, not absolute times.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use typed_nn::prelude::*;

#[allow(dead_code)] // the block aliases are for reading
#[path = "../examples/models/resnet8.rs"]
mod resnet8;
use resnet8::{ResNet8, ResNet8Folded};

/// One convolution of the floor: input side `h` (square), `c` channels, `k`×`k` kernel, stride
/// `s`, `f` filters, "same" padding as Keras computes it (the odd pixel at the bottom/right).
struct Conv {
    h: usize,
    c: usize,
    k: usize,
    s: usize,
    f: usize,
}

/// ResNet-8's convolutions in execution order.
const CONVS: [Conv; 9] = [
    Conv { h: 32, c: 3, k: 3, s: 1, f: 16 },
    Conv { h: 32, c: 16, k: 3, s: 1, f: 16 },
    Conv { h: 32, c: 16, k: 3, s: 1, f: 16 },
    Conv { h: 32, c: 16, k: 3, s: 2, f: 32 },
    Conv { h: 16, c: 32, k: 3, s: 1, f: 32 },
    Conv { h: 32, c: 16, k: 1, s: 2, f: 32 },
    Conv { h: 16, c: 32, k: 3, s: 2, f: 64 },
    Conv { h: 8, c: 64, k: 3, s: 1, f: 64 },
    Conv { h: 16, c: 32, k: 1, s: 2, f: 64 },
];

impl Conv {
    fn out(&self) -> usize {
        self.h.div_ceil(self.s)
    }

    fn pad_top(&self) -> usize {
        ((self.out() - 1) * self.s + self.k).saturating_sub(self.h) / 2
    }

    /// im2col: one row of `k·k·c` values per output pixel, zeros outside the image.
    fn im2col(&self, x: &[f32], patches: &mut [f32]) {
        let (o, p) = (self.out(), self.pad_top());
        let row_len = self.k * self.k * self.c;
        for oy in 0..o {
            for ox in 0..o {
                let row = &mut patches[(oy * o + ox) * row_len..][..row_len];
                for ky in 0..self.k {
                    for kx in 0..self.k {
                        let dst = &mut row[(ky * self.k + kx) * self.c..][..self.c];
                        let (iy, ix) = ((oy * self.s + ky).wrapping_sub(p), (ox * self.s + kx).wrapping_sub(p));
                        if iy < self.h && ix < self.h {
                            dst.copy_from_slice(&x[(iy * self.h + ix) * self.c..][..self.c]);
                        } else {
                            dst.fill(0.0);
                        }
                    }
                }
            }
        }
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

    // The floor's buffers: an input per convolution (contents do not change the time), its
    // patches, its output; kernels of the right sizes.
    let inputs: Vec<Vec<f32>> = CONVS.iter().map(|l| vec![0.5; l.h * l.h * l.c]).collect();
    let mut patches: Vec<Vec<f32>> = CONVS.iter().map(|l| vec![0.0; l.out() * l.out() * l.k * l.k * l.c]).collect();
    let mut outputs: Vec<Vec<f32>> = CONVS.iter().map(|l| vec![0.0; l.out() * l.out() * l.f]).collect();
    let kernels: Vec<Vec<f32>> = CONVS.iter().map(|l| vec![0.01; l.k * l.k * l.c * l.f]).collect();
    let (pooled, dense, mut logits) = (vec![0.5f32; 64], vec![0.01f32; 640], vec![0.0f32; 10]);

    let mut g = c.benchmark_group("resnet8_forward_1_sample");
    g.throughput(Throughput::Elements(1));
    g.bench_function("im2col_gemm_floor", |b| {
        b.iter(|| {
            for (i, l) in CONVS.iter().enumerate() {
                l.im2col(&inputs[i], &mut patches[i]);
                gemm(l.out() * l.out(), l.k * l.k * l.c, l.f, &patches[i], &kernels[i], &mut outputs[i]);
            }
            gemm(1, 64, 10, &pooled, &dense, &mut logits);
            black_box((&outputs, &logits));
        })
    });
    g.bench_function("typed_nn_folded", |b| b.iter(|| black_box(folded.forward(black_box(&x)))));
    g.bench_function("typed_nn", |b| b.iter(|| black_box(model.forward(black_box(&x)))));
    g.finish();
}

criterion_group!(benches, single_sample);
criterion_main!(benches);
