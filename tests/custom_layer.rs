//! A custom layer written with only what the guide teaches — `Params`, `Layer::forward`,
//! `Backward::{forward_train, backward}`, and `#[derive(bytemuck::Zeroable)]` for the zero value
//! its gradients and optimizer state start from — works everywhere a built-in layer does: in a
//! tuple, in batched inference, in batched training, in the `Trainer` and in the loaders.

use typed_nn::prelude::*;
use typed_nn::regularizer::{L2, UndescribedParams};

/// `y = γ ⊙ x`, one learned factor per element.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
struct Scale<const N: usize> {
    gamma: [f64; N],
}

impl<const N: usize> Default for Scale<N> {
    fn default() -> Self {
        Self { gamma: [1.0; N] }
    }
}

impl<const N: usize> Params<f64> for Scale<N> {
    const PARAMS: usize = N;
    fn params(&self) -> impl Iterator<Item = &[f64]> {
        core::iter::once(&self.gamma[..])
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        core::iter::once(&mut self.gamma[..])
    }
}

impl<const N: usize> Layer<Vector<N, f64>> for Scale<N> {
    type Out = Vector<N, f64>;
    fn forward(&self, x: &Vector<N, f64>) -> Vector<N, f64> {
        Vector::from_fn(|i| self.gamma[i] * x[i])
    }
}

impl<const N: usize> Backward<Vector<N, f64>> for Scale<N> {
    type Cache = ();
    fn forward_train(&self, x: &Vector<N, f64>) -> (Vector<N, f64>, ()) {
        (self.forward(x), ())
    }
    fn backward(
        &self,
        x: &Vector<N, f64>,
        _: &(),
        dy: &Vector<N, f64>,
        grad: &mut Self,
        dx: Option<&mut Vector<N, f64>>,
    ) {
        for i in 0..N {
            grad.gamma[i] += x[i] * dy[i];
        }
        if let Some(dx) = dx {
            *dx = Vector::from_fn(|i| self.gamma[i] * dy[i]);
        }
    }
}

type Model = (Dense<3, 4, Tanh, f64>, Scale<4>, Dense<4, 2, Softmax, f64>);

fn model() -> Model {
    let mut model = Model::init(&mut SeedRng::seed(4));
    model.1.gamma = [1.5, -0.5, 0.75, 2.0];
    model
}

fn inputs() -> (Vec<Vector<3, f64>>, Vec<usize>) {
    let xs = (0..6).map(|s| Vector::from_fn(|i| ((s * 3 + i) % 5) as f64 / 5.0 - 0.4)).collect();
    (xs, (0..6).map(|s| s % 2).collect())
}

#[test]
fn a_custom_layer_runs_in_a_batch_like_one_sample_at_a_time() {
    let (model, (xs, _)) = (model(), inputs());
    let mut ys = vec![Vector::<2, f64>::default(); xs.len()];
    model.forward_batch(&xs, &mut ys).unwrap();
    for (x, y) in xs.iter().zip(&ys) {
        let single = model.forward(x);
        assert!(single.iter().zip(y.iter()).all(|(a, b)| (a - b).abs() < 1e-12), "{single:?} vs {y:?}");
    }
}

#[test]
fn a_custom_layer_trains_in_a_batch_like_one_sample_at_a_time() {
    let (model, (xs, labels)) = (model(), inputs());
    let loss = SparseCategoricalCrossentropy::default();
    let (mut per_sample, mut batched) = (Model::default(), Model::default());
    per_sample.zero_params();
    batched.zero_params();
    let a = value_and_grad_mean(&model, &xs, &labels, &loss, &mut per_sample).unwrap();
    let b = value_and_grad_batch(&model, &xs, &labels, &loss, &mut batched, &mut Workspace::new()).unwrap();
    assert!((a - b).abs() < 1e-12);
    let (ga, gb): (Vec<f64>, Vec<f64>) =
        (per_sample.params().flatten().copied().collect(), batched.params().flatten().copied().collect());
    assert!(ga.iter().zip(&gb).all(|(a, b)| (a - b).abs() < 1e-12));
    // The custom layer's own gradient took part: γ's gradient is not zero.
    assert!(batched.1.gamma.iter().all(|&g| g != 0.0), "{:?}", batched.1.gamma);
}

#[test]
fn a_custom_layer_is_trained_by_the_trainer() {
    let (mut model, (xs, labels)) = (model(), inputs());
    let gamma_before = model.1.gamma;
    let mut trainer = Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).epochs(40).batch_size(3);
    let first = trainer.evaluate(&model, &xs, &labels).unwrap().loss;
    trainer.fit(&mut model, &xs, &labels).unwrap();
    let last = trainer.evaluate(&model, &xs, &labels).unwrap().loss;
    assert!(last < first / 2.0, "{first} -> {last}");
    assert_ne!(model.1.gamma, gamma_before);
}

#[test]
fn an_l2_regulariser_refuses_a_model_whose_custom_layer_does_not_describe_its_tensors() {
    // `Scale` keeps the default `describe_params`: after the first `Dense`'s kernel and bias
    // (tensors 0 and 1), the next description (the last `Dense`'s 4×2 kernel) meets `gamma`,
    // tensor 2, of length 4. L2 would regularise the wrong tensors, so nothing is trained.
    let (mut model, (xs, labels)) = (model(), inputs());
    let before = model.clone();
    for mut trainer in [
        Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).kernel_regularizer(L2::new(1e-4)),
        Trainer::new(Adam::new(0.05), SparseCategoricalCrossentropy::default()).depthwise_regularizer(L2::new(1e-4)),
    ] {
        let err = trainer.fit(&mut model, &xs, &labels).unwrap_err();
        assert_eq!(err, TrainError::UndescribedParams(UndescribedParams { tensor: 2 }));
        assert!(err.to_string().starts_with("parameter tensor 2 has no matching description"), "{err}");
        assert_eq!(trainer.optimizer.iterations(), 0);
    }
    assert_eq!(model, before);
}

/// `y = γ ⊙ x + β`, whose author forgot β in `PARAMS`: it declares 4 parameters and yields 8.
#[derive(Clone, Debug, Default, PartialEq, bytemuck::Zeroable)]
struct Miscounted {
    gamma: [f64; 4],
    beta: [f64; 4],
}

impl Params<f64> for Miscounted {
    const PARAMS: usize = 4;
    fn params(&self) -> impl Iterator<Item = &[f64]> {
        [&self.gamma[..], &self.beta[..]].into_iter()
    }
    fn params_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        [&mut self.gamma[..], &mut self.beta[..]].into_iter()
    }
}

impl Layer<Vector<4, f64>> for Miscounted {
    type Out = Vector<4, f64>;
    fn forward(&self, x: &Vector<4, f64>) -> Vector<4, f64> {
        Vector::from_fn(|i| self.gamma[i] * x[i] + self.beta[i])
    }
}

type Miswritten = (Dense<3, 4, Tanh, f64>, Miscounted);

/// The error every path reports: the layer, what it declares, what it yields.
fn is_the_miscount(e: &typed_nn::params::ParamCountError) -> bool {
    e.layer.ends_with("Miscounted") && (e.declared, e.found) == (4, 8)
}

#[test]
fn a_wrong_params_count_is_named_by_check_count() {
    let err = typed_nn::params::check_count(&Miswritten::default()).unwrap_err();
    assert!(is_the_miscount(&err), "{err:?}");
    assert!(typed_nn::params::check_count(&model()).is_ok());
}

#[test]
fn summary_prints_a_wrong_params_count_instead_of_wrong_totals() {
    let table = Miswritten::default().summary_table::<Vector<3, f64>>().to_string();
    assert!(table.contains("declares PARAMS = 4 but its params() yields 8 values"), "{table}");
    assert!(!table.contains("Total params"), "{table}");
    let good = model().summary_table::<Vector<3, f64>>().to_string();
    assert!(good.contains("Total params: 30 "), "{good}");
}

#[test]
fn byte_images_refuse_a_wrong_params_count() {
    let model = Miswritten::default();
    assert!(matches!(model.to_le_bytes(), Err(BytesError::ParamCount(e)) if is_the_miscount(&e)));
    let bytes = vec![0u8; <Miswritten as Params<f64>>::PARAM_BYTES];
    assert!(matches!(Miswritten::from_le_bytes(&bytes), Err(BytesError::ParamCount(e)) if is_the_miscount(&e)));
}

#[test]
fn safetensors_refuse_a_wrong_params_count() {
    let err = Miswritten::default().save_safetensors().unwrap_err();
    assert!(matches!(&err, LoadError::ParamCount(e) if is_the_miscount(e)), "{err}");
    let file = (Dense::<3, 4, Tanh, f64>::default(),).save_safetensors().unwrap();
    let err = Miswritten::load_safetensors(&file).unwrap_err();
    assert!(matches!(&err, LoadError::ParamCount(e) if is_the_miscount(e)), "{err}");
}
