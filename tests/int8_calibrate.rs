//! Post-training quantization inside typed-nn against TensorFlow Lite's converter.
//!
//! `tests/fixtures/tflite/{digits_mlp,digits_cnn}.safetensors` are the trained Keras weights
//! that `scripts/tflite_int8_fixtures.py` converted into the `.tflite` files next to them, with
//! the 1437 training digits as the representative dataset. typed-nn calibrates the same float
//! weights on the same digits; its int8 model is compared with the converter's field by field,
//! and both with the float model on the 360 test digits.
#![cfg(feature = "tflite")]

use typed_nn::data::Digits;
use typed_nn::prelude::*;
use typed_nn::quant::calibrate::Range;
use typed_nn::quant::{self, CalibrationError, Int8, Int8Tensor, QImage, QLayer, QVector, QuantParams};
use typed_nn::tflite::FromTflite;

type DigitsMlp = (Dense<64, 32, Relu>, Dense<32, 10, Softmax>);
type DigitsCnn = (Conv2D<1, 4, 3, Relu>, MaxPool2D<2>, Flatten, Dense<36, 10, Softmax>);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/tflite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Per layer: (input, output) quantization, weight scales, biases and the kernel as bytes.
type LayerFacts = (QuantParams, QuantParams, Vec<f32>, Vec<i32>, Vec<i8>);

fn dense_facts<const IN: usize, const OUT: usize, A>(l: &quant::QDense<IN, OUT, A>) -> LayerFacts {
    (l.input, l.output, l.weight_scales.to_vec(), l.bias.to_vec(), l.kernel.as_flattened().to_vec())
}

fn conv_facts<const CI: usize, const CO: usize, const K: usize, A, const S: usize, P>(
    l: &quant::QConv2D<CI, CO, K, A, S, P>,
) -> LayerFacts {
    let kernel = l.kernel.as_flattened().as_flattened().as_flattened().to_vec();
    (l.input, l.output, l.weight_scales.to_vec(), l.bias.to_vec(), kernel)
}

/// How far typed-nn's int8 layer is from the converter's.
#[derive(Debug, Default)]
struct Diff {
    /// Largest difference of an activation scale (input or output), in `f32` steps (ulps).
    scale_ulps: i64,
    /// Activation scales that differ at all.
    scales_differing: usize,
    /// Biases that differ, and by how much at most.
    biases_differing: usize,
    bias_max: i32,
}

/// Compares two layers' facts: weights, weight scales and zero points must be equal; the
/// activation scales and the biases are measured (the calibration min/max come from two float
/// implementations of the same model, summing in different orders).
fn compare(name: &str, ours: &LayerFacts, theirs: &LayerFacts, diff: &mut Diff) {
    assert_eq!(ours.0.zero_point, theirs.0.zero_point, "{name}: input zero point");
    assert_eq!(ours.1.zero_point, theirs.1.zero_point, "{name}: output zero point");
    assert_eq!(ours.2, theirs.2, "{name}: weight scales");
    assert_eq!(ours.4, theirs.4, "{name}: int8 weights");
    for (a, b) in [(ours.0.scale, theirs.0.scale), (ours.1.scale, theirs.1.scale)] {
        diff.scale_ulps = diff.scale_ulps.max((i64::from(a.to_bits()) - i64::from(b.to_bits())).abs());
        diff.scales_differing += usize::from(a != b);
    }
    for (a, b) in ours.3.iter().zip(&theirs.3) {
        diff.biases_differing += usize::from(a != b);
        diff.bias_max = diff.bias_max.max((a - b).abs());
    }
}

/// Compares outputs with TFLite Micro's on the fixture inputs: (identical samples, largest
/// difference in int8 steps).
fn against_tflm<M: QLayer<X, Out = QVector<10>>, X: Int8Tensor>(model: &M, name: &str) -> (usize, i32) {
    let inputs = fixture(&format!("{name}.input.bin"));
    let tflm = fixture(&format!("{name}.tflm.bin"));
    let (mut same, mut worst) = (0, 0);
    for (x, want) in inputs.chunks_exact(X::LEN).zip(tflm.chunks_exact(10)) {
        let x = X::from_slice(&x.iter().map(|&b| b as i8).collect::<Vec<_>>()).unwrap();
        let y = model.forward(&x);
        same += usize::from(y.as_slice().iter().zip(want).all(|(&a, &b)| a == b as i8));
        for (&a, &b) in y.as_slice().iter().zip(want) {
            worst = worst.max((i32::from(a) - i32::from(b as i8)).abs());
        }
    }
    (same, worst)
}

/// Accuracy of a classifier on samples, as a count.
fn correct<X>(samples: &[X], labels: &[usize], classify: impl Fn(&X) -> usize) -> usize {
    samples.iter().zip(labels).filter(|&(x, &l)| classify(x) == l).count()
}

#[test]
fn digits_mlp_quantizes_as_the_tflite_converter() {
    let float: DigitsMlp = DigitsMlp::load_safetensors(&fixture("digits_mlp.safetensors")).unwrap();
    let digits = Digits::bundled().unwrap();
    let (x_train, _) = digits.train_vectors();
    let ours: Int8<DigitsMlp> = quant::calibrate(&float, &x_train).unwrap();
    let theirs = Int8::<DigitsMlp>::from_tflite::<QVector<64>>(&fixture("digits_mlp.tflite")).unwrap();

    let mut diff = Diff::default();
    compare("layer 0", &dense_facts(&ours.0), &dense_facts(&theirs.0), &mut diff);
    compare("layer 1", &dense_facts(&ours.1), &dense_facts(&theirs.1), &mut diff);
    let (same, worst) = against_tflm::<_, QVector<64>>(&ours, "digits_mlp");
    println!(
        "digits MLP: {diff:?}; outputs identical to TFLite Micro's (converter's model): {same}/360, worst {worst} steps"
    );

    // Accuracy on the 360 test digits: f32 (typed-nn running the Keras weights), typed-nn's
    // int8, TFLite's int8 (TFLite Micro's outputs on the same digits, committed).
    let (x_test, y_test) = digits.test_vectors();
    let f32_right = correct(&x_test, &y_test, |x| float.forward(x).argmax());
    let int8_right = correct(&x_test, &y_test, |x| ours.forward(&QVector::quantize(x, ours.0.input)).argmax());
    let tflm = fixture("digits_mlp.tflm.bin");
    let tflite_right = tflm
        .chunks_exact(10)
        .zip(fixture("digits_mlp.labels.bin"))
        .filter(|&(y, l)| argmax(y) == usize::from(l))
        .count();
    println!(
        "digits MLP, 360 test digits right: f32 {f32_right}, typed-nn int8 {int8_right}, TFLite int8 {tflite_right}"
    );

    // Measured: one activation scale (the logits') is one f32 step away from the converter's,
    // because the largest logit over the 1437 digits differs in its last bit between typed-nn's
    // float kernels and TFLite's; the weights, weight scales, zero points and biases are equal,
    // and so is every output.
    // The bounds allow for another CPU path (without FMA the sums round differently).
    assert!(diff.scale_ulps <= 2 && diff.bias_max <= 1, "{diff:?}");
    assert!(same >= 355 && worst <= 1, "{same}/360 identical, worst {worst} steps");
    // Keras' own f32 accuracy on these digits is 349/360 (summary.json).
    assert_eq!((f32_right, int8_right, tflite_right), (349, 349, 349));
}

#[test]
fn digits_cnn_quantizes_as_the_tflite_converter() {
    let float: Box<DigitsCnn> = Box::<DigitsCnn>::load_safetensors(&fixture("digits_cnn.safetensors")).unwrap();
    let digits = Digits::bundled().unwrap();
    let (x_train, _) = digits.train_images();
    let ours: Int8<DigitsCnn> = quant::calibrate(&*float, &x_train).unwrap();
    let theirs = Int8::<DigitsCnn>::from_tflite::<QImage<8, 8, 1>>(&fixture("digits_cnn.tflite")).unwrap();

    let mut diff = Diff::default();
    compare("conv", &conv_facts(&ours.0), &conv_facts(&theirs.0), &mut diff);
    compare("dense", &dense_facts(&ours.3), &dense_facts(&theirs.3), &mut diff);
    let pooled = |m: &Int8<DigitsCnn>| (m.1.params.zero_point, m.2.params.zero_point);
    assert_eq!(pooled(&ours), pooled(&theirs), "max pool and flatten keep the conv's zero point");
    let (same, worst) = against_tflm::<_, QImage<8, 8, 1>>(&ours, "digits_cnn");
    println!(
        "digits CNN: {diff:?}; outputs identical to TFLite Micro's (converter's model): {same}/360, worst {worst} steps"
    );

    let (x_test, y_test) = digits.test_images();
    let f32_right = correct(&x_test, &y_test, |x| float.forward(x).argmax());
    let int8_right = correct(&x_test, &y_test, |x| ours.forward(&QImage::quantize(x, ours.0.input)).argmax());
    let tflm = fixture("digits_cnn.tflm.bin");
    let tflite_right = tflm
        .chunks_exact(10)
        .zip(fixture("digits_cnn.labels.bin"))
        .filter(|&(y, l)| argmax(y) == usize::from(l))
        .count();
    println!(
        "digits CNN, 360 test digits right: f32 {f32_right}, typed-nn int8 {int8_right}, TFLite int8 {tflite_right}"
    );

    // Measured: the convolution's output scale (also the dense layer's input scale) and the
    // logits' scale are one or two f32 steps from the converter's (the calibration maxima differ
    // in their last bits); weights, weight scales, zero points and biases are equal, and so is
    // every output on the 360 test digits.
    assert!(diff.scale_ulps <= 2 && diff.bias_max <= 1, "{diff:?}");
    assert!(same >= 355 && worst <= 1, "{same}/360 identical, worst {worst} steps");
    // Keras' f32 accuracy is 348/360 (summary.json); int8 loses one digit: 0.28 points.
    assert_eq!((f32_right, int8_right, tflite_right), (348, 347, 347));
}

fn argmax(y: &[u8]) -> usize {
    let y: Vec<i8> = y.iter().map(|&b| b as i8).collect();
    (0..y.len()).fold(0, |best, k| if y[k] > y[best] { k } else { best })
}

/// Edge cases of the converter's range rules, with the scales and zero points TensorFlow 2.21's
/// converter wrote for them (`scripts/tflite_ptq_edge_cases.py` prints these numbers).
#[test]
fn ranges_follow_the_converters_edge_cases() {
    let quant = |min: f32, max: f32| Range { min, max, non_finite: false }.quant().params;
    // A dead ReLU ([0, 0]) and ranges narrower than 1e-6 are widened by 1e-6 on both sides.
    assert_eq!(quant(0.0, 0.0), QuantParams { scale: 7.843_137e-9, zero_point: 0 });
    assert_eq!(quant(0.0, 3e-9), QuantParams { scale: 7.854_902e-9, zero_point: -1 });
    assert_eq!(quant(0.0, 9e-7), QuantParams { scale: 1.137_254_9e-8, zero_point: -40 });
    // 1.5e-6 is wide enough: untouched.
    assert_eq!(quant(0.0, 1.5e-6), QuantParams { scale: 5.882_353_3e-9, zero_point: -128 });
    // The zero point is nudged from the nearer end and rounded half away from zero (−85.5 → −86).
    assert_eq!(quant(-4e-7, 2e-6), QuantParams { scale: 9.411_765e-9, zero_point: -86 });
}

#[test]
fn weight_scales_follow_the_converters_edge_cases() {
    // Output channels: all zero, one weight of 4e-7, one of 2e-6, one of −4e-7 (the
    // converter wrote scales 3.937008e-9, 3.937008e-9, 1.5748032e-8, 3.937008e-9 and the
    // weights 0, 102, 127, −102).
    let mut kernel = [[0.0f32; 4]; 64];
    kernel[5] = [0.0, 4e-7, 2e-6, -4e-7];
    let model: (Dense<64, 4>,) = (Dense::new(kernel, [0.0; 4]),);
    let data = [Vector::<64>::from([1.0; 64])];
    let q: Int8<(Dense<64, 4>,)> = quant::calibrate(&model, &data).unwrap();
    assert_eq!(q.0.weight_scales, [3.937_008e-9, 3.937_008e-9, 1.574_803_2e-8, 3.937_008e-9]);
    assert_eq!([q.0.kernel[0][5], q.0.kernel[1][5], q.0.kernel[2][5], q.0.kernel[3][5]], [0, 102, 127, -102]);
}

#[test]
fn relu6_and_relu_ranges_are_folded_from_the_activated_output() {
    // z = 10·x: ReLU6 clips at 6, so the recorded range is [0, 6] and 6.0 is the top step.
    let model: (Dense<1, 1, Relu6>,) = (Dense::new([[10.0]], [0.0]),);
    let data: Vec<Vector<1>> = [-1.0, 0.2, 3.0].iter().map(|&v| Vector::from([v])).collect();
    let q: Int8<(Dense<1, 1, Relu6>,)> = quant::calibrate(&model, &data).unwrap();
    assert_eq!(q.0.output, QuantParams { scale: (6.0f64 / 255.0) as f32, zero_point: -128 });
    // 3.0 in → 6.0 out → 127; −1 → 0 → −128.
    let y: QVector<1> = q.forward(&QVector::quantize(&Vector::from([3.0]), q.0.input));
    assert_eq!(y.as_array(), &[127]);
    let y: QVector<1> = q.forward(&QVector::quantize(&Vector::from([-1.0]), q.0.input));
    assert_eq!(y.as_array(), &[-128]);
    // The range is the observed one, not [0, 6]: with outputs up to 0.3 the step is 0.3/255
    // (the converter does the same, `scripts/tflite_ptq_edge_cases.py`, last case).
    let small: (Dense<1, 1, Relu6>,) = (Dense::new([[0.1]], [0.0]),);
    let q = quant::calibrate(&small, &data).unwrap();
    assert_eq!(q.0.output, QuantParams { scale: (f64::from(0.3f32) / 255.0) as f32, zero_point: -128 });
    // Without the activation the negative outputs are kept: range [−10, 30].
    let linear: (Dense<1, 1>,) = (Dense::new([[10.0]], [0.0]),);
    let q = quant::calibrate(&linear, &data).unwrap();
    assert_eq!(q.0.output.scale, (40.0f64 / 255.0) as f32);
    assert_eq!(q.0.output.zero_point, -64); // −128 + 10/(40/255) = −64.25
}

#[test]
fn bad_calibration_data_is_a_typed_error() {
    let model: DigitsMlp = DigitsMlp::init(&mut SeedRng::seed(1));
    let none: [Vector<64>; 0] = [];
    assert_eq!(quant::calibrate(&model, &none).unwrap_err(), CalibrationError::NoData);
    let mut nan = Vector::<64>::from([0.5; 64]);
    nan.as_mut_slice()[3] = f32::NAN;
    assert_eq!(quant::calibrate(&model, &[nan]).unwrap_err(), CalibrationError::NonFinite { layer: None });
    // Weights that overflow to infinity in layer 0's output.
    let mut huge = model.clone();
    huge.0.kernel[0][0] = f32::MAX;
    huge.0.kernel[1][0] = f32::MAX;
    let x = Vector::<64>::from([1.0; 64]);
    assert_eq!(quant::calibrate(&huge, &[x]).unwrap_err(), CalibrationError::NonFinite { layer: Some(0) });
    // Logits that never move: their range is widened to 2e-6, too little for the softmax.
    let mut flat = model.clone();
    flat.1.kernel = [[0.0; 10]; 32];
    flat.1.bias = [0.0; 10];
    let err = quant::calibrate(&flat, &[x]).unwrap_err();
    assert!(matches!(err, CalibrationError::Softmax { layer: 1, .. }), "{err:?}");
    assert!(err.to_string().starts_with("layer 1: the softmax's logits span too little"));
}

#[test]
fn the_int8_model_of_an_untrained_cnn_tracks_its_float_model() {
    // A model not trained anywhere, all five layer kinds: the int8 outputs stay within a few
    // steps of the float outputs quantized with the same output scale.
    type Cnn2 = (
        Conv2D<1, 8, 3, Relu6, 1, Same>,
        AvgPool2D<2>,
        Conv2D<8, 16, 3, Relu, 2, Same>,
        GlobalAvgPool2D,
        Dense<16, 10, Softmax>,
    );
    let model: Box<Cnn2> = Box::new(Cnn2::init(&mut SeedRng::seed(5)));
    let digits = Digits::bundled().unwrap();
    let (x_train, _) = digits.train_images();
    let q: Int8<Cnn2> = quant::calibrate(&*model, &x_train).unwrap();
    let (x_test, _) = digits.test_images();
    let mut worst = 0.0f32;
    for x in &x_test {
        let y: Vector<10> = QLayer::<QImage<8, 8, 1>>::forward_f32(&q, x);
        let p: Vector<10> = model.forward(x);
        for (a, b) in y.iter().zip(p.iter()) {
            worst = worst.max((a - b).abs());
        }
    }
    println!("untrained CNN: largest |int8 − f32| probability over the test digits: {worst}");
    assert!(worst < 0.02, "{worst}");
    let _ = <QImage<8, 8, 1> as Int8Tensor>::LEN;
    let _ = <Int8<Cnn2> as QLayer<QImage<8, 8, 1>>>::PARAM_BYTES;
}

#[test]
#[allow(clippy::needless_range_loop)] // (c, m) name the output channel in the messages
fn a_depthwise_layer_gets_one_symmetric_scale_per_output_channel() {
    // Two channels, multiplier 2, a 2×1 kernel, no bias: four output channels, each with its
    // own max|w|/127 (TFLite's per-channel scheme along the C·M axis).
    type Dw = DepthwiseConv2D<2, 2, Relu, 1, Valid, f32, NoBias, 2, 1>;
    let kernel = [[[[0.5, -0.25], [1.0, 0.1]]], [[[-0.127, 0.05], [0.3, -0.2]]]];
    let dw: Dw = DepthwiseConv2D::new(kernel, NoBias);
    let samples: Vec<Image<3, 2, 2>> = (0..8)
        .map(|i| {
            let values: Vec<f32> = (0..12).map(|j| ((i * 7 + j * 3) % 11) as f32 / 10.0 - 0.3).collect();
            Tensor::from_slice(&values).unwrap()
        })
        .collect();
    let q: quant::QDepthwiseConv2D<2, 2, Relu, 1, Valid, 2, 1> = quant::calibrate(&dw, &samples).unwrap();
    for c in 0..2 {
        for m in 0..2 {
            let taps = [kernel[0][0][c][m], kernel[1][0][c][m]];
            let max = taps.iter().fold(0.0f64, |a, &w| a.max(f64::from(w).abs()));
            let scale = max / 127.0;
            assert_eq!(q.weight_scales[c][m], scale as f32, "channel ({c}, {m})");
            for (ky, &w) in taps.iter().enumerate() {
                let want = (f64::from(w) / scale).round() as i8;
                assert_eq!(q.kernel[ky][0][c][m], want, "weight ({ky}, {c}, {m})");
            }
            assert_eq!(q.bias[c][m], 0, "no bias: zero");
        }
    }
    // The largest weight of each channel is ±127: 0.5 for (0, 0), 1.0 for (1, 0).
    assert_eq!((q.kernel[0][0][0][0], q.kernel[1][0][0][0]), (127, -32));
    assert_eq!(q.kernel[0][0][1][0], 127);
}

#[test]
fn the_int8_model_of_an_untrained_depthwise_separable_cnn_tracks_its_float_model() {
    // Rectangular stem and window, a depthwise layer with a multiplier, a bias-free 1×1
    // convolution, and logits out (an untrained softmax is too flat to show errors): the int8
    // logits stay within a few output steps of the float ones.
    type Separable = (
        Conv2DRect<1, 8, 3, 2, Relu, 1, 1, Same>,
        DepthwiseConv2D<8, 3, Relu6, 1, Same, f32, Bias, 2>,
        Conv2D<16, 8, 1, Relu, 1, Valid, f32, NoBias>,
        AvgPool2D<2, 4>,
        Flatten,
        Dense<64, 10>,
    );
    let model: Box<Separable> = Box::new(Separable::init(&mut SeedRng::seed(6)));
    let digits = Digits::bundled().unwrap();
    let (x_train, _) = digits.train_images();
    let q: Box<Int8<Separable>> = Box::new(quant::calibrate(&*model, &x_train).unwrap());
    let (x_test, _) = digits.test_images();
    let step = QLayer::<QImage<8, 8, 1>>::output_params(&*q).scale;
    let (mut worst, mut span) = (0.0f32, 0.0f32);
    for x in &x_test {
        let y: Vector<10> = QLayer::<QImage<8, 8, 1>>::forward_f32(&*q, x);
        let p: Vector<10> = model.forward(x);
        for (a, b) in y.iter().zip(p.iter()) {
            worst = worst.max((a - b).abs());
            span = span.max(b.abs());
        }
    }
    println!(
        "untrained separable CNN: largest |int8 − f32| logit {worst} = {} output steps (largest |logit| {span})",
        worst / step
    );
    // The logits span many steps, so a wrong scale or channel order would be far off.
    assert!(span > 40.0 * step, "{span} vs step {step}");
    // Measured: 3.5 steps of 123; five requantized layers each add up to half a step.
    assert!(worst <= 6.0 * step, "{worst} vs step {step}");
}
