//! # 01 — Tensors whose sizes are types
//!
//! `Vector<N>` and `Image<H, W, C>` carry their sizes in their types: a `Vector<3>` and a
//! `Vector<4>` are different types, so mixing them up is a compile error, not a run-time
//! check. Their sizes are constants the compiler knows (`LEN`, `SHAPE`), their storage is a
//! plain array (no heap), and images are channels-last, as Keras stores them.
//!
//! The first example; next: `examples/02_mlp.rs`.
//!
//! Run: `cargo run --release --example tensors` — prints a vector, an image, their shapes and
//! sizes.

use typed_nn::prelude::*;

fn main() {
    // A vector of 3 values; `f32` unless you say otherwise.
    let v: Vector<3> = Vector::from([1.0, -2.0, 0.5]);
    println!("v = {:?}, v[1] = {}, largest at {}", v.as_slice(), v[1], v.argmax());

    // The size is part of the type, and a compile-time constant.
    const LEN: usize = <Vector<3> as Tensor>::LEN;
    println!("a Vector<3> holds {LEN} values, {} bytes, no heap", core::mem::size_of::<Vector<3>>());

    // An image: 2 rows, 3 columns, 2 channels, stored channels-last ([row][column][channel]).
    let img: Image<2, 3, 2> = [[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], [[4.0, 40.0], [5.0, 50.0], [6.0, 60.0]]].into();
    println!("img shape {:?}, pixel (1, 2) = {:?}", <Image<2, 3, 2> as Tensor>::SHAPE, img.pixel(1, 2).unwrap());
    // In memory: pixel by pixel, the channels of each pixel together (Keras' flatten order).
    println!("img in memory: {:?}", img.as_slice());

    // Flattening keeps the bytes and the order; its length is known too.
    let flat: Flat<2, 3, 2> = Flatten.forward(&img);
    let as_vector: Vector<12> = flat.to_vector();
    println!("flattened: {} values, last = {}", as_vector.len(), as_vector[11]);

    // f64 works the same way, for gradient checks.
    let precise: Vector<2, f64> = Vector::from([1.0, 1e-12]);
    println!("f64 vector: {:?}", precise.as_slice());

    // What does not compile (try it): a Vector<4> where a Vector<3> is expected.
    // let wrong: Vector<3> = Vector::from([1.0, 2.0, 3.0, 4.0]);
    //   error[E0308]: mismatched types: expected an array with a size of 3, found one with a size of 4
}
