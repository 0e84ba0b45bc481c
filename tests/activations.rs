//! Every built-in activation against values Keras computed (tests/fixtures, generated once by
//! scripts/keras_activations.py), in f64 and f32, including the derivative's convention at each
//! kink; and the vectorised `eˣ` of the layers against the scalar one at the edges of its range.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use typed_nn::prelude::*;

// Generated data: ln 2 appears as softplus(0), not as an approximation of the constant.
#[allow(dead_code, clippy::approx_constant)]
mod keras {
    include!("fixtures/keras_activations.rs");
}

/// Calls `f` and `df` of the activation named in the fixture.
fn eval(name: &str, x: f64) -> (f64, f64, f32, f32) {
    macro_rules! by_name {
        ($($A:ident),*) => {
            match name {
                $(stringify!($A) => ($A::f(x), $A::df(x), $A::f(x as f32), $A::df(x as f32)),)*
                other => panic!("fixture names an unknown activation {other}"),
            }
        };
    }
    by_name!(
        Identity,
        Relu,
        Relu6,
        LeakyRelu,
        Elu,
        Selu,
        Gelu,
        Sigmoid,
        HardSigmoid,
        Tanh,
        Softplus,
        Softsign,
        Swish,
        HardSwish,
        Mish,
        Exponential
    )
}

/// The derivative a layer back-propagates at pre-activation `x` (upstream gradient 1): through
/// the activation's `backprop` hook (which Relu, Sigmoid and Tanh compute from the output) and
/// through a `Dense<1, 1, A>` whose pre-activation is exactly `x`, in f64 and f32.
fn backprop_eval(name: &str, x: f64) -> [f64; 4] {
    fn through<A: Activation>(x: f64) -> [f64; 4] {
        let mut dz = [0.0f64];
        A::backprop(&[x], &[A::f(x)], &[1.0], &mut dz);
        let mut dz32 = [0.0f32];
        A::backprop(&[x as f32], &[A::f(x as f32)], &[1.0], &mut dz32);
        // z = 0·w + b = b exactly; ∂L/∂b = dz for L = y.
        let layer: Dense<1, 1, A, f64> = Dense::new([[0.5]], [x]);
        let mut grad = Dense::default();
        let (_, cache) = layer.forward_train(&Vector::from([0.0]));
        layer.backward(&Vector::from([0.0]), &cache, &Vector::from([1.0]), &mut grad, None);
        let layer32: Dense<1, 1, A> = Dense::new([[0.5]], [x as f32]);
        let mut grad32 = Dense::default();
        let (_, cache32) = layer32.forward_train(&Vector::from([0.0]));
        layer32.backward(&Vector::from([0.0]), &cache32, &Vector::from([1.0]), &mut grad32, None);
        [dz[0], dz32[0] as f64, grad.bias[0], grad32.bias[0] as f64]
    }
    macro_rules! by_name {
        ($($A:ident),*) => {
            match name {
                $(stringify!($A) => through::<$A>(x),)*
                other => panic!("fixture names an unknown activation {other}"),
            }
        };
    }
    by_name!(
        Identity,
        Relu,
        Relu6,
        LeakyRelu,
        Elu,
        Selu,
        Gelu,
        Sigmoid,
        HardSigmoid,
        Tanh,
        Softplus,
        Softsign,
        Swish,
        HardSwish,
        Mish,
        Exponential
    )
}

fn close(actual: f64, expected: f64, rel: f64) -> bool {
    (actual - expected).abs() <= rel * (1.0 + expected.abs())
}

#[test]
fn every_elementwise_activation_matches_keras_in_f64_and_f32() {
    let mut names = std::collections::BTreeSet::new();
    for &(name, x, f, df) in keras::POINTS {
        names.insert(name);
        let (f64_f, f64_df, f32_f, f32_df) = eval(name, x);
        assert!(close(f64_f, f, 1e-12), "{name}({x}) = {f64_f}, Keras says {f}");
        assert!(close(f64_df, df, 1e-9), "{name}'({x}) = {f64_df}, Keras/jax.grad says {df}");
        assert!(close(f32_f as f64, f, 1e-6), "f32 {name}({x}) = {f32_f}, Keras says {f}");
        assert!(close(f32_df as f64, df, 1e-6), "f32 {name}'({x}) = {f32_df}, Keras says {df}");
    }
    assert_eq!(names.len(), 16, "the fixture covers all 16 element-wise built-ins");
}

#[test]
fn every_derivative_at_its_kinks_follows_keras_convention() {
    // relu'(0) = 0, relu6'(0) = relu6'(6) = 0, leaky_relu'(0) = 1, elu'(0) = 1,
    // selu'(0) = λ·α, hard_sigmoid'(±3) = 0, hard_silu'(−3) = 0 and hard_silu'(3) = 1: what
    // jax.grad computes through Keras' definitions, not a one-sided limit of our choosing.
    let mut names = std::collections::BTreeSet::new();
    for &(name, x, f, df) in keras::KINKS {
        names.insert(name);
        let (f64_f, f64_df, f32_f, f32_df) = eval(name, x);
        assert!(close(f64_f, f, 1e-12), "{name}({x}) = {f64_f}, Keras says {f}");
        assert!(close(f64_df, df, 1e-9), "{name}'({x}) = {f64_df}, Keras/jax.grad says {df}");
        assert!(close(f32_f as f64, f, 1e-6), "f32 {name}({x}) = {f32_f}, Keras says {f}");
        assert!(close(f32_df as f64, df, 1e-6), "f32 {name}'({x}) = {f32_df}, Keras/jax.grad says {df}");
        let [hook, hook32, dense, dense32] = backprop_eval(name, x);
        assert!(close(hook, df, 1e-9), "{name}::backprop at {x} gives {hook}, Keras/jax.grad says {df}");
        assert!(close(hook32, df, 1e-6), "f32 {name}::backprop at {x} gives {hook32}, Keras/jax.grad says {df}");
        assert!(close(dense, df, 1e-9), "Dense<_, _, {name}> back-propagates {dense} at {x}, Keras says {df}");
        assert!(close(dense32, df, 1e-6), "f32 Dense<_, _, {name}> back-propagates {dense32} at {x}, Keras says {df}");
    }
    assert_eq!(names.len(), 16, "the fixture covers all 16 element-wise built-ins");
}

#[test]
fn softmax_and_log_softmax_match_keras_even_for_logits_of_ten_thousand() {
    for &(input, softmax, log_softmax) in keras::VECTORS {
        let mut s = input;
        Softmax::apply(&mut s);
        let mut l = input;
        LogSoftmax::apply(&mut l);
        for i in 0..4 {
            assert!(close(s[i], softmax[i], 1e-12), "softmax({input:?})[{i}] = {}, Keras {}", s[i], softmax[i]);
            assert!(
                close(l[i], log_softmax[i], 1e-12),
                "log_softmax({input:?})[{i}] = {}, Keras {}",
                l[i],
                log_softmax[i]
            );
        }
        let mut s32 = input.map(|x| x as f32);
        Softmax::apply(&mut s32);
        assert!(s32.iter().all(|p| p.is_finite()), "no overflow in f32 at {input:?}");
        assert!((s32.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn backprop_from_the_output_equals_the_derivative_from_the_input() {
    // Sigmoid, Tanh and Relu compute their gradient from y instead of z; both must agree.
    fn check<A: Activation>() {
        let z = [-2.5f64, -0.7, 0.3, 1.9];
        let mut y = z;
        A::apply(&mut y);
        let dy = [0.5, -1.0, 2.0, 0.25];
        let mut dz = [0.0; 4];
        A::backprop(&z, &y, &dy, &mut dz);
        for i in 0..4 {
            let expected = dy[i] * A::df(z[i]);
            assert!((dz[i] - expected).abs() < 1e-12, "{}: {} vs {}", A::NAME, dz[i], expected);
        }
    }
    check::<Sigmoid>();
    check::<Tanh>();
    check::<Relu>();
    check::<Identity>();
}

// ---------------------------------------------------------------- eˣ at the edges of its range

/// `fast` (a layer's vectorised `eˣ`) against `exact` (`Exponential::f`, the platform's `exp`):
/// infinite at exactly the same points, 0 below the documented flush (`x < flush_below`, where
/// `exact` is below `tiny`), within `ulps` elsewhere.
fn same_exp<T: Float + std::fmt::Debug>(what: &str, x: T, fast: T, exact: T, ulps: f64, flush_below: T, tiny: f64) {
    let (f, e) = (fast.to_f64().unwrap(), exact.to_f64().unwrap());
    let ok = if e.is_infinite() || f.is_infinite() {
        f == e
    } else if x < flush_below {
        f == 0.0 && e < tiny
    } else {
        (f - e).abs() <= ulps * T::epsilon().to_f64().unwrap() * e
    };
    assert!(ok, "{what}: exp({x:?}) = {fast:?}, Exponential::f says {exact:?}");
}

/// 96 consecutive floats centred on each edge of `eˣ`'s range (where it overflows and where it
/// is flushed to 0), and a few points far outside and inside.
fn edges<T: Float>(overflow: T, underflow: T, step: impl Fn(T, i64) -> T) -> Vec<T> {
    let mut v: Vec<T> = (-48..48).map(|i| step(overflow, i)).chain((-48..48).map(|i| step(underflow, i))).collect();
    v.extend([-1e4, -200.0, -87.0, -1.0, 0.0, 1.0, 50.0, 88.0, 200.0, 1e4].map(|c| T::from(c).unwrap()));
    v.extend([T::infinity(), T::neg_infinity()]);
    v
}
const N: usize = 204;

#[test]
fn exponential_in_a_layer_overflows_where_exponential_f_does_on_every_code_path() {
    // The dispatched paths (AVX2+FMA for one sample, AVX-512 or AVX2 for a batch on a CPU that
    // has them) and the portable one; on a CPU without them all three are the portable path.
    println!(
        "avx2+fma: {}, avx512f: {}",
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
        std::is_x86_feature_detected!("avx512f")
    );
    // f32: glibc's expf is finite up to 88.722_83 (0x42B1_7217), ln f32::MAX is 88.722_84.
    // Results below 1.7e-38 are flushed to 0 (for x < −86.98), as the docs of `Activation` say.
    let xs32 = edges(f32::from_bits(0x42B1_7217), -86.98f32, |c, i| f32::from_bits((c.to_bits() as i64 + i) as u32));
    let xs32: [f32; N] = xs32.try_into().unwrap();
    // A pre-activation exactly x: z = 0·1 + b.
    let layer: Dense<1, N, Exponential> = Dense::new([[1.0; N]], xs32);
    let single = layer.forward(&Vector::from([0.0]));
    let mut batch = vec![Vector::<N>::default(); 3];
    layer.forward_batch(&[Vector::from([0.0]); 3], &mut batch).unwrap();
    let mut portable = xs32;
    Exponential::apply_fast(&mut portable);
    for (i, &x) in xs32.iter().enumerate() {
        let exact = Exponential::f(x);
        same_exp("one sample, dispatched", x, single[i], exact, 2.0, -86.98, 1.7e-38);
        same_exp("a batch, dispatched", x, batch[2][i], exact, 2.0, -86.98, 1.7e-38);
        same_exp("portable", x, portable[i], exact, 2.0, -86.98, 1.7e-38);
    }
    let ys = single.as_slice();
    assert!(ys[..49].iter().all(|y| y.is_finite()), "finite up to 0x42B1_7217 (index 48)");
    assert!(ys[49..96].iter().all(|y| y.is_infinite()), "infinite above");
    assert!(ys[48] > 3.4e38, "the largest finite value is reached: {}", ys[48]);

    // f64: exp is finite up to 709.782_712_893_384.
    let xs64 = edges(709.782_712_893_384f64, -708.396_418_532_264_1f64, |c, i| {
        f64::from_bits((c.to_bits() as i64 + i) as u64)
    });
    let xs64: [f64; N] = xs64.try_into().unwrap();
    let layer: Dense<1, N, Exponential, f64> = Dense::new([[1.0; N]], xs64);
    let single = layer.forward(&Vector::from([0.0]));
    let mut batch = vec![Vector::<N, f64>::default(); 3];
    layer.forward_batch(&[Vector::from([0.0]); 3], &mut batch).unwrap();
    let mut portable = xs64;
    Exponential::apply_fast(&mut portable);
    for (i, &x) in xs64.iter().enumerate() {
        let exact = Exponential::f(x);
        same_exp("f64, one sample, dispatched", x, single[i], exact, 3.0, -708.396_418_532_264_1, f64::MIN_POSITIVE);
        same_exp("f64, a batch, dispatched", x, batch[2][i], exact, 3.0, -708.396_418_532_264_1, f64::MIN_POSITIVE);
        same_exp("f64, portable", x, portable[i], exact, 3.0, -708.396_418_532_264_1, f64::MIN_POSITIVE);
    }
    let ys = single.as_slice();
    assert!(ys[..49].iter().all(|y| y.is_finite()) && ys[49..96].iter().all(|y| y.is_infinite()));
}
