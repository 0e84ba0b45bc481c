// Seed model 2 exactly as the product page writes it: every shape computed by the compiler.
use typed_nn::prelude::*;

// Keras: Conv2D(32, (3,3), sigmoid, input 28x28x1) -> MaxPooling2D((2,2)) -> Flatten -> Dense(10, softmax)
type Cnn = (Conv2D<1, 32, 3, Sigmoid>, MaxPool2D<2>, Flatten, Dense<5408, 10, Softmax>);

fn main() {
    let model: Box<Cnn> = Box::default();
    let img: Image<28, 28, 1> = [[[0.25f32; 1]; 28]; 28].into();
    let conv: Image<26, 26, 32> = model.0.forward(&img); // output shapes are nameable types
    let pooled: Image<13, 13, 32> = model.1.forward(&conv);
    let flat: Flat<13, 13, 32> = model.2.forward(&pooled);
    let y: Vector<10> = model.forward(&img);
    assert_eq!(flat.as_slice().len(), 5408);
    assert!((y.as_slice().iter().sum::<f32>() - 1.0).abs() < 1e-5);
}
