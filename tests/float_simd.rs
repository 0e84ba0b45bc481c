//! `TYPED_NN_SIMD=avx512|avx2|portable` steers the float kernels, and every path computes the
//! same model to within rounding: the MLP 784→64→10 and a sigmoid CNN, one sample and a batch,
//! against an `f64` reference written out here.
//!
//! The path is chosen once per process, so the test runs this test binary again, once per
//! path, with only the `#[ignore]`d child test selected (as `tests/int8_simd.rs` does). The
//! child prints the path it ran and a checksum of its output bits: the fused (AVX2, AVX-512) and
//! unfused (portable) paths round differently, so the portable checksum differs from the
//! others, which shows the switch took effect.
#![cfg(target_arch = "x86_64")]

use std::process::Command;

use typed_nn::prelude::*;

type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Sigmoid>);

/// The MLP in `f64`, written out: `sigmoid(relu(x·K1 + b1)·K2 + b2)`.
fn reference(model: &Mlp, x: &[f32]) -> Vec<f64> {
    let mut h: Vec<f64> = model.0.bias.iter().map(|&b| b as f64).collect();
    for (i, &xi) in x.iter().enumerate() {
        for (j, h) in h.iter_mut().enumerate() {
            *h += xi as f64 * model.0.kernel[i][j] as f64;
        }
    }
    let h: Vec<f64> = h.into_iter().map(|v| v.max(0.0)).collect();
    (0..10)
        .map(|k| {
            let z = model.1.bias[k] as f64
                + h.iter().enumerate().map(|(j, &h)| h * model.1.kernel[j][k] as f64).sum::<f64>();
            1.0 / (1.0 + (-z).exp())
        })
        .collect()
}

/// Run by the test below in a child process, under one `TYPED_NN_SIMD` setting.
#[test]
#[ignore = "run by every_float_path_agrees_with_the_f64_reference, once per path"]
fn child_float_kernels_match_the_reference() {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(7));
    let xs: Vec<Vector<784>> =
        (0..16).map(|s| Vector::from_fn(|i| ((i * 7 + s * 3) % 23) as f32 / 23.0 - 0.3)).collect();
    let mut ys = vec![Vector::<10>::default(); xs.len()];
    model.forward_batch(&xs, &mut ys).unwrap();
    let mut checksum = 0u64;
    for (x, y_batch) in xs.iter().zip(&ys) {
        let y = model.forward(x);
        let want = reference(&model, x.as_slice());
        for ((&one, &batched), &w) in y.iter().zip(y_batch.iter()).zip(&want) {
            assert!((one as f64 - w).abs() < 1e-5, "one sample: {one} vs {w}");
            assert!((batched as f64 - w).abs() < 1e-5, "batched: {batched} vs {w}");
            checksum = checksum.rotate_left(5) ^ u64::from(one.to_bits());
        }
    }
    println!("float path: {}", typed_nn::float_simd());
    println!("checksum: {checksum:016x}");
}

#[test]
fn every_float_path_agrees_with_the_f64_reference() {
    let exe = std::env::current_exe().unwrap();
    let mut runs = Vec::new();
    for path in ["avx512", "avx2", "portable"] {
        let out = Command::new(&exe)
            .args(["--ignored", "--exact", "child_float_kernels_match_the_reference", "--nocapture"])
            .env("TYPED_NN_SIMD", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "TYPED_NN_SIMD={path}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let field =
            |name: &str| stdout.lines().find_map(|l| l.strip_prefix(name)).map(str::to_string).unwrap_or_default();
        println!("TYPED_NN_SIMD={path}: ran {}, checksum {}", field("float path: "), field("checksum: "));
        runs.push((path, field("float path: "), field("checksum: ")));
    }
    // `portable` is always honoured; a SIMD path runs only where the CPU has it.
    let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
    let avx512 = avx2 && std::is_x86_feature_detected!("avx512f");
    let expected = [
        if avx512 {
            "avx512"
        } else if avx2 {
            "avx2"
        } else {
            "portable"
        },
        if avx2 { "avx2" } else { "portable" },
        "portable",
    ];
    for ((path, ran, _), want) in runs.iter().zip(expected) {
        assert_eq!(ran, want, "TYPED_NN_SIMD={path}");
    }
    if avx2 {
        assert_ne!(runs[1].2, runs[2].2, "the AVX2 and portable paths gave the same bits: the switch did nothing");
    }
}
