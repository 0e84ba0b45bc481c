// A Dense with no inputs. Its sizes are not limited to a table, so this rule is a `const`
// assertion, reported when the program is built.
use typed_nn::prelude::*;

type Mlp = (Dense<0, 10, Relu>, Dense<10, 2>);

fn main() {
    let model: Mlp = Mlp::default();
    let _y = model.forward(&Vector::from([]));
}
