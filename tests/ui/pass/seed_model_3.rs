// Seed model 3 with the user-defined swish activation, exactly as the product page writes it.
use typed_nn::prelude::*;

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
type M3 = (Dense<100, 128, Swish>, Dense<128, 10, Softmax>);

fn main() {
    let model: M3 = Default::default();
    let y: Vector<10> = model.forward(&Vector::from([0.5f32; 100]));
    assert!((y.as_slice().iter().sum::<f32>() - 1.0).abs() < 1e-5);
}
