// A custom layer written with the rule-trait pattern (`examples/06_custom_layer.rs`), given a
// vector where it takes images: the error is the layer's own message.
use typed_nn::prelude::*;

/// One learned factor per channel of an image.
#[derive(Clone, Debug)]
struct Scale<const C: usize> {
    gamma: [f32; C],
}

impl<const C: usize> Default for Scale<C> {
    fn default() -> Self {
        Self { gamma: [1.0; C] }
    }
}

impl<const C: usize> Params<f32> for Scale<C> {
    const PARAMS: usize = C;
    fn params(&self) -> impl Iterator<Item = &[f32]> {
        core::iter::once(&self.gamma[..])
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
        core::iter::once(&mut self.gamma[..])
    }
}

#[diagnostic::on_unimplemented(
    message = "`Scale<{C}>` takes images with {C} channels, but it is given `{Self}`",
    label = "expected an `Image<_, _, {C}>`",
    note = "a `Scale<C>` scales each channel of an image: it goes before the `Flatten`"
)]
trait ScaleInput<const C: usize>: Tensor<Elem = f32> {}

#[diagnostic::do_not_recommend]
impl<const H: usize, const W: usize, const C: usize> ScaleInput<C> for Image<H, W, C> {}

impl<X: ScaleInput<C>, const C: usize> Layer<X> for Scale<C> {
    type Out = X;
    fn forward(&self, x: &X) -> X {
        x.clone()
    }
}

// The Scale comes after the Dense, which produces a vector.
type Model = (Dense<16, 4, Relu>, Scale<4>);

fn main() {
    let model: Model = Default::default();
    let _y = model.forward(&Vector::from([0.5f32; 16]));
}
