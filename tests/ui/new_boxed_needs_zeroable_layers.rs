// `new_boxed` builds a model zeroed on the heap: every layer must be `bytemuck::Zeroable`.
use typed_nn::prelude::*;

/// A custom layer without `#[derive(bytemuck::Zeroable)]`.
#[derive(Clone, Debug, Default)]
struct Shift {
    beta: [f32; 4],
}

type Model = (Dense<4, 4, Relu>, Shift);

fn main() {
    let _model: Box<Model> = Model::new_boxed();
}
