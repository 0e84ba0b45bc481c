//! Image sides up to 4096 (`typed_nn::shape::rules::MAX_SIZE`): every side from 1 to 4096,
//! including 1025–2046 and an HD frame, goes through a convolution and a pooling layer with
//! its output shape computed at compile time. Sides above 4096 are a compile error naming the
//! limit (`tests/ui/image_side_must_be_at_most_4096.rs`).

use typed_nn::prelude::*;

/// Compiles only if `M` maps `X` to `Y`.
fn output_type<M: Layer<X, Out = Y>, X: Tensor, Y: Tensor>() {}

#[test]
fn output_shapes_are_computed_for_sides_between_1025_and_4096() {
    // Same padding, stride 2: ⌈1025/2⌉ = 513, ⌈2046/2⌉ = 1023; then 3×3 pooling: 171, 341.
    output_type::<(Conv2D<1, 1, 3, Identity, 2, Same>, AvgPool2D<3>), Image<1025, 2046, 1>, Image<171, 341, 1>>();
    // Valid padding: 1920 − 7 + 1 = 1914, 1080 − 7 + 1 = 1074; pooled by 2: 957, 537.
    output_type::<(Conv2D<3, 8, 7, Relu>, MaxPool2D<2>), Image<1080, 1920, 3>, Image<537, 957, 8>>();
    // The limit itself, with the largest kernel and window there are.
    output_type::<(Conv2D<1, 2, 4096>, MaxPool2D<1>), Image<4096, 4096, 1>, Image<1, 1, 2>>();
    output_type::<(Conv2D<1, 1, 1>, MaxPool2D<4096>), Image<4096, 4096, 1>, Image<1, 1, 1>>();
}

#[test]
fn conv_and_pool_run_on_a_full_hd_frame() {
    type Hd = (Conv2D<1, 1, 3>, MaxPool2D<2>);
    // The frame and the convolution's output are 8 MB each: a thread with room on its stack.
    let run = std::thread::Builder::new().stack_size(64 << 20).spawn(|| {
        // One tap, the kernel's bottom-right weight: conv[y][x] = frame[y + 2][x + 2].
        let mut kernel = [[[[0.0f32; 1]; 1]; 3]; 3];
        kernel[2][2][0][0] = 1.0;
        let model: Hd = (Conv2D::new(kernel, [0.0]), MaxPool2D);
        let mut frame: Box<Image<1080, 1920, 1>> = Box::default();
        for (i, v) in frame.as_mut_slice().iter_mut().enumerate() {
            *v = i as f32; // exact: 1080·1920 < 2²⁴
        }
        let out: Image<539, 959, 1> = model.forward(&*frame);
        // Pooling window (y, x) covers conv rows 2y, 2y + 1, i.e. frame rows 2y + 2, 2y + 3; the
        // frame grows along rows and columns, so its maximum is frame[2y + 3][2x + 3].
        for (y, x) in [(0, 0), (1, 7), (300, 0), (538, 958)] {
            let expected = ((2 * y + 3) * 1920 + 2 * x + 3) as f32;
            assert_eq!(out.get(y, x, 0), Some(&expected), "pixel ({y}, {x})");
        }
    });
    run.expect("spawn").join().expect("the forward pass on an HD frame");
}
