//! Seed models 1 and 3 exactly as the product page writes them: they build, run, count their
//! parameters like Keras, and print Keras' summary table.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use typed_nn::prelude::*;

/// Seed model 1: Keras `Dense(64, relu, input 784) -> Dense(10, softmax)`.
type Mlp = (Dense<784, 64, Relu>, Dense<64, 10, Softmax>);

/// The user-defined activation of seed model 3: swish(x) = x·sigmoid(x).
#[derive(Clone, Copy, Debug, Default)]
struct Swish;
impl Activation for Swish {
    fn f<T: Float>(x: T) -> T {
        x / (T::one() + (-x).exp())
    }
    fn df<T: Float>(x: T) -> T {
        let s = T::one() / (T::one() + (-x).exp());
        s * (T::one() + x * (T::one() - s))
    }
}

/// Seed model 3: Keras `Dense(128, swish, input 100) -> Dense(10, softmax)`.
type M3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

#[test]
fn seed_model_1_runs_from_zero_and_from_keras_initialisation() {
    let zero: Mlp = Default::default();
    let y: Vector<10> = zero.forward(&Vector::from([0.5f32; 784]));
    // Zero weights: every logit is 0, so softmax is uniform.
    assert!(y.iter().all(|&p| (p - 0.1).abs() < 1e-7), "{y:?}");

    let mut rng = SeedRng::seed(42);
    let model: Mlp = Mlp::init(&mut rng);
    let y: Vector<10> = model.forward(&Vector::from([0.5f32; 784]));
    let p3: f32 = y[3];
    let all: &[f32] = y.as_slice();
    assert!(all.iter().all(|&p| p > 0.0 && p < 1.0));
    assert!((all.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(p3, all[3]);
    assert!(all.iter().any(|&p| (p - 0.1).abs() > 1e-4), "random weights break the symmetry");
}

#[test]
fn seed_model_1_equals_the_same_math_written_by_hand() {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(7));
    let x: [f32; 784] = core::array::from_fn(|i| ((i * 37) % 101) as f32 / 101.0 - 0.3);
    // Independent reference in f64: h = relu(x·K1 + b1), y = softmax(h·K2 + b2).
    let mut h = [0.0f64; 64];
    for j in 0..64 {
        let mut s = model.0.bias[j] as f64;
        for i in 0..784 {
            s += x[i] as f64 * model.0.kernel[i][j] as f64;
        }
        h[j] = s.max(0.0);
    }
    let mut z = [0.0f64; 10];
    for k in 0..10 {
        z[k] = model.1.bias[k] as f64 + (0..64).map(|j| h[j] * model.1.kernel[j][k] as f64).sum::<f64>();
    }
    let m = z.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    let y = model.forward(&Vector::from(x));
    for k in 0..10 {
        assert!((y[k] as f64 - e[k] / s).abs() < 1e-6, "output {k}: {} vs {}", y[k], e[k] / s);
    }
}

#[test]
fn seed_model_3_runs_with_a_user_defined_activation() {
    let model: M3 = M3::init(&mut SeedRng::seed(3));
    let y: Vector<10> = model.forward(&Vector::from([0.25f32; 100]));
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    // The first layer really applies swish: check one hidden unit by hand.
    let hidden: Vector<128> = model.0.forward(&Vector::from([0.25f32; 100]));
    let z: f32 = model.0.bias[5] + (0..100).map(|i| 0.25 * model.0.kernel[i][5]).sum::<f32>();
    assert!((hidden[5] - z / (1.0 + (-z).exp())).abs() < 1e-6);
}

#[test]
fn parameter_counts_are_keras_numbers_known_at_compile_time() {
    const MLP_PARAMS: usize = <Mlp as Params<f32>>::PARAMS;
    const M3_PARAMS: usize = <M3 as Params<f32>>::PARAMS;
    assert_eq!(MLP_PARAMS, 50_890);
    assert_eq!(M3_PARAMS, 14_218);
    assert_eq!(Mlp::PARAMS, 50_890);
    assert_eq!(<Mlp as Params<f32>>::PARAM_BYTES, 203_560);
    assert_eq!(<Dense<784, 64, Relu>>::PARAMS, 50_240);
    assert_eq!(<Dense<64, 10, Softmax>>::PARAMS, 650);
    let model = Mlp::default();
    assert_eq!(model.params().map(<[f32]>::len).sum::<usize>(), Mlp::PARAMS);
}

#[test]
fn models_work_in_f64() {
    type Mlp64 = (Dense<784, 64, Relu, f64>, Dense<64, 10, Softmax, f64>);
    let model: Mlp64 = Mlp64::init(&mut SeedRng::seed(1));
    let y: Vector<10, f64> = model.forward(&Vector::from([0.5f64; 784]));
    assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(<Mlp64 as Params<f64>>::PARAM_BYTES, 50_890 * 8);
}

#[test]
fn summary_of_seed_model_1_is_keras_table() {
    // Copied from Keras 3.15.1's output (../shared/reference/keras.md), not from this crate.
    let keras = "\
Model: \"sequential\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 64)             │        50,240 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │           650 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 50,890 (198.79 KB)
 Trainable params: 50,890 (198.79 KB)
 Non-trainable params: 0 (0.00 B)
";
    assert_eq!(Mlp::default().summary_table::<Vector<784>>().to_string(), keras);
}

#[test]
fn summary_of_seed_model_3_is_keras_table() {
    let keras = "\
Model: \"sequential\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 128)            │        12,928 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │         1,290 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 14,218 (55.54 KB)
 Trainable params: 14,218 (55.54 KB)
 Non-trainable params: 0 (0.00 B)
";
    assert_eq!(M3::default().summary_table::<Vector<100>>().to_string(), keras);
}

/// Seed model 2: Keras `Conv2D(32, 3×3, sigmoid, input 28×28×1) → MaxPooling2D(2×2) → Flatten →
/// Dense(10, softmax)`.
type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

#[test]
fn summary_of_seed_model_2_is_keras_table() {
    let keras = "\
Model: \"sequential\"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 5408)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │        54,090 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 54,410 (212.54 KB)
 Trainable params: 54,410 (212.54 KB)
 Non-trainable params: 0 (0.00 B)
";
    let model: Box<Cnn> = Box::default();
    assert_eq!(model.summary_table::<Image<28, 28, 1>>().to_string(), keras);
    assert_eq!(Cnn::PARAMS, 54_410);
}

#[test]
fn seed_model_2_runs_with_shapes_computed_by_the_compiler() {
    let model: Box<Cnn> = Box::new(Cnn::init(&mut SeedRng::seed(8)));
    let img: Image<28, 28, 1> = [[[0.25f32; 1]; 28]; 28].into();
    let conv: Image<26, 26, 32> = model.0.forward(&img);
    let pooled: Image<13, 13, 32> = model.1.forward(&conv);
    let flat: Flat<13, 13, 32> = model.2.forward(&pooled);
    let y: Vector<10> = model.forward(&img);
    assert_eq!(y, model.3.forward(&flat));
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    // The whole model through the heap constructor and the batched path.
    let boxed: Box<Cnn> = NewBoxed::new_boxed();
    let mut ys = vec![Vector::<10>::default(); 2];
    boxed.forward_batch(&[img, img], &mut ys).unwrap();
    assert!(ys.iter().all(|y| y.iter().all(|&p| (p - 0.1).abs() < 1e-6)));
}

#[test]
fn big_layers_build_on_a_small_thread_stack() {
    // Default of a 5408×10 layer (216 KB) fits a 2 MiB test thread; a 64 MiB model goes to the
    // heap without touching the stack.
    let layer: Dense<5408, 10, Softmax> = Default::default();
    assert_eq!(layer.kernel.len(), 5408);
    let big: Box<(Dense<4096, 4096, Relu>, Dense<4096, 10>)> = NewBoxed::new_boxed();
    assert!(big.params().all(|p| p.iter().all(|&w| w == 0.0)));
    let big_init: Box<Dense<2048, 2048, Relu>> = NewBoxed::init_boxed(&mut SeedRng::seed(5));
    assert!(big_init.kernel.as_flattened().iter().any(|&w| w != 0.0));
}

#[test]
fn batched_forward_equals_single_sample_forward() {
    let model: Mlp = Mlp::init(&mut SeedRng::seed(11));
    let mut rng = SeedRng::seed(12);
    let xs: Vec<Vector<784>> =
        (0..37).map(|_| Vector::from_fn(|_| typed_nn::init::uniform01(&mut rng) as f32)).collect();
    let mut ys = vec![Vector::<10>::default(); xs.len()];
    model.forward_batch(&xs, &mut ys).unwrap();
    for (x, y) in xs.iter().zip(&ys) {
        let single = model.forward(x);
        for k in 0..10 {
            assert!((single[k] - y[k]).abs() < 1e-5, "{} vs {}", single[k], y[k]);
        }
    }
    let m3: M3 = M3::init(&mut SeedRng::seed(13));
    let xs: Vec<Vector<100>> = (0..5).map(|i| Vector::from([i as f32 * 0.1; 100])).collect();
    let mut ys = vec![Vector::<10>::default(); 5];
    m3.forward_batch(&xs, &mut ys).unwrap();
    for (x, y) in xs.iter().zip(&ys) {
        assert!(m3.forward(x).iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
    }
}

#[test]
fn batched_forward_refuses_mismatched_lengths() {
    let model = Mlp::default();
    let xs = vec![Vector::<784>::default(); 3];
    let mut ys = vec![Vector::<10>::default(); 2];
    assert_eq!(model.forward_batch(&xs, &mut ys), Err(BatchError::LengthMismatch { inputs: 3, outputs: 2 }));
    assert!(ys.iter().all(|y| *y == Vector::default()), "nothing written on error");
}
