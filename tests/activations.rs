//! Every built-in activation against values Keras computed (tests/fixtures, generated once by
//! scripts/keras_activations.py), in f64 and f32.

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
