//! Every built-in activation against values Keras computed (tests/fixtures, generated once by
//! scripts/keras_activations.py), in f64 and f32, including the derivative's convention at each
//! kink.

// Reference implementations are written as textbook index loops on purpose.
#![allow(clippy::needless_range_loop)]

use typed_nn::prelude::*;

#[allow(dead_code)]
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
