//! Big models never touch the stack (issue 12): every API the docs present for big models runs
//! on a 67 MB model on a thread with a 1 MiB stack. `cargo test` builds this file in the debug
//! profile, where any model-sized temporary (a `Box::new(M::default())`, a moved model, a
//! gradient built by value) would be on the stack and overflow it.
//!
//! The model is `(Dense<4096, 4096, Relu>, Dense<4096, 2, Softmax>)`: 16 789 506 parameters,
//! 67 158 024 bytes.

use typed_nn::prelude::*;

type Big = (Dense<4096, 4096, Relu>, Dense<4096, 2, Softmax>);

const STACK: usize = 1 << 20;

/// Runs `f` on a thread with a 1 MiB stack (a stack overflow aborts the test process).
fn on_a_1_mib_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    on_a_stack_of(STACK, f)
}

fn on_a_stack_of<R: Send>(bytes: usize, f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| std::thread::Builder::new().stack_size(bytes).spawn_scoped(s, f).unwrap().join().unwrap())
}

/// A zeroed big model with a few weights set, so that a copy or a load is checked where it
/// matters: a kernel corner, a bias, the second layer.
fn marked() -> Box<Big> {
    let mut model = Big::new_boxed();
    model.0.kernel[0][0] = 0.5;
    model.0.kernel[4095][4095] = -0.25;
    model.0.bias[17] = 1.0;
    model.1.kernel[4095][1] = 2.0;
    model.1.bias[0] = -3.0;
    model
}

fn is_marked(model: &Big) -> bool {
    (model.0.kernel[0][0], model.0.kernel[4095][4095], model.0.bias[17], model.1.kernel[4095][1], model.1.bias[0])
        == (0.5, -0.25, 1.0, 2.0, -3.0)
}

/// Two samples: the first lights input 0, the second input 4095, each routed to a class.
fn data() -> (Vec<Vector<4096>>, Vec<usize>) {
    let mut xs = vec![Vector::default(); 2];
    xs[0][0] = 1.0;
    xs[1][4095] = 1.0;
    (xs, vec![0, 1])
}

#[test]
fn the_model_is_over_64_mb() {
    assert_eq!(core::mem::size_of::<Big>(), 67_158_024);
    assert_eq!(<Big as Params<f32>>::PARAM_BYTES, 67_158_024);
}

#[test]
fn new_boxed_init_boxed_and_zeros_build_on_the_heap() {
    on_a_1_mib_stack(|| {
        let zeroed: Box<Big> = Big::new_boxed();
        assert_eq!((zeroed.0.kernel[4095][4095], zeroed.1.bias[1]), (0.0, 0.0));
        let zeros: Box<Big> = Zeros::zeros();
        assert_eq!(zeros.0.kernel[123][456], 0.0);
        let model: Box<Big> = Big::init_boxed(&mut SeedRng::seed(0));
        let limit = (6.0f32 / (4096.0 + 4096.0)).sqrt();
        assert!(
            model.0.kernel[4095].iter().all(|w| w.abs() <= limit) && model.0.kernel[4095].iter().any(|&w| w != 0.0)
        );
    });
}

#[test]
fn a_boxed_model_infers_and_computes_gradients_on_the_heap() {
    on_a_1_mib_stack(|| {
        let model = marked();
        let (xs, labels) = data();
        let y: Vector<2> = model.forward(&xs[0]);
        let mut ys = vec![Vector::<2>::default(); 2];
        model.forward_batch(&xs, &mut ys).unwrap();
        assert!((y[0] - ys[0][0]).abs() < 1e-6);
        // Gradients into boxed gradients, one sample and a batch, and an Adam step (its two
        // moments are boxed models, made zeroed on the heap).
        let loss = SparseCategoricalCrossentropy::default();
        let mut grad: Box<Big> = Big::new_boxed();
        value_and_grad(&model, &xs[0], &0, &loss, &mut grad).unwrap();
        let mut batch_grad: Box<Big> = Big::new_boxed();
        value_and_grad_batch(&model, &xs[..1], &labels[..1], &loss, &mut batch_grad, &mut Workspace::new()).unwrap();
        assert!((grad.1.bias[0] - batch_grad.1.bias[0]).abs() < 1e-6 && grad.1.bias[0] != 0.0);
        let mut model = model;
        let mut adam = Adam::new(0.01);
        adam.step(&mut model, &grad);
        assert_eq!(adam.iterations(), 1);
        assert!((model.1.bias[0] - (-3.0 + 0.01)).abs() < 1e-5, "{}", model.1.bias[0]);
    });
}

#[test]
fn a_boxed_model_loads_from_safetensors_on_the_heap() {
    let bytes = on_a_1_mib_stack(|| marked().save_safetensors().unwrap());
    assert!(bytes.len() > 67_000_000);
    on_a_1_mib_stack(|| {
        let model: Box<Big> = Box::<Big>::load_safetensors(&bytes).unwrap();
        assert!(is_marked(&model));
    });
}

#[test]
fn a_boxed_model_loads_from_a_byte_image_on_the_heap() {
    let bytes = on_a_1_mib_stack(|| marked().to_le_bytes().unwrap());
    assert_eq!(bytes.len(), 67_158_024);
    on_a_1_mib_stack(|| {
        let model: Box<Big> = Box::<Big>::from_le_bytes(&bytes).unwrap();
        assert!(is_marked(&model));
    });
}

#[test]
fn a_boxed_model_trains_with_fit_on_the_heap() {
    on_a_1_mib_stack(|| {
        let mut model = marked();
        let (xs, labels) = data();
        let mut trainer =
            Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(1).batch_size(2);
        let before = trainer.evaluate(&model, &xs, &labels).unwrap();
        trainer.fit(&mut model, &xs, &labels).unwrap();
        let after = trainer.evaluate(&model, &xs, &labels).unwrap();
        assert!(after.loss < before.loss, "{before:?} -> {after:?}");
    });
}

#[cfg(feature = "threads")]
#[test]
fn a_boxed_model_trains_with_fit_threaded_on_the_heap() {
    on_a_1_mib_stack(|| {
        let mut model = marked();
        let (xs, labels) = data();
        let mut trainer =
            Trainer::new(Adam::new(0.01), SparseCategoricalCrossentropy::default()).epochs(1).batch_size(2);
        let before = trainer.evaluate(&model, &xs, &labels).unwrap();
        trainer.fit_threaded(&mut model, &xs, &labels, None, 2, ()).unwrap();
        let after = trainer.evaluate(&model, &xs, &labels).unwrap();
        assert!(after.loss < before.loss, "{before:?} -> {after:?}");
    });
}

/// A model whose *activations* are big: the convolution's output is 222·222·8 floats (1.6 MB).
type WideConv = (Conv2D<3, 8, 3, Relu>, MaxPool2D<2>, Flatten, Dense<98568, 2, Softmax>);

#[test]
fn big_activations_train_through_the_batched_path_on_a_small_stack() {
    // The single-sample `value_and_grad` keeps the convolution's output and pre-activations on
    // the stack (3.2 MB here, more than this thread has); the batched path keeps them in its
    // workspace, on the heap. The images themselves (600 KB each) are made on a big stack.
    let mut xs = on_a_stack_of(16 << 20, || vec![Image::<224, 224, 3>::default(); 2]);
    xs[0].as_mut_slice()[..1000].fill(1.0);
    let labels = vec![0usize, 1];
    let model: Box<WideConv> = WideConv::init_boxed(&mut SeedRng::seed(1));
    on_a_1_mib_stack(|| {
        let loss = SparseCategoricalCrossentropy::default();
        let mut grad: Box<WideConv> = WideConv::new_boxed();
        let value = value_and_grad_batch(&model, &xs, &labels, &loss, &mut grad, &mut Workspace::new()).unwrap();
        assert!(value.is_finite() && grad.3.bias[0] != 0.0);
        let mut model = model;
        let mut trainer = Trainer::new(Sgd::new(0.1), loss).batch_size(2);
        trainer.fit(&mut model, &xs, &labels).unwrap();
    });
}
