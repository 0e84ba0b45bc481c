//! The typed-nn guide: type-level design of a neural-network library, in fourteen chapters and an
//! error gallery. Every code block below is compiled (and run) by `cargo test`.
//!
//! 1. [Shapes as types](ch01_shapes_as_types), and why const generics alone stop at `H − K + 1`
//! 2. [Computed shapes](ch02_computed_shapes): typenum on stable, and back to plain numbers
//! 3. [A tuple becomes a checked model](ch03_tuples_as_models)
//! 4. [Why the activation is compiled into the loop](ch04_activations_in_the_loop), with the
//!    disassembly
//! 5. [Backward without a tape](ch05_backward_without_a_tape): Dense, softmax + cross-entropy,
//!    convolution, max pooling
//! 6. [Gradient checks](ch06_gradient_checks), and a walkthrough of your own layer
//! 7. [The embedded story](ch07_embedded)
//! 8. [int8 models](ch08_int8): a quantized type, integer-only arithmetic bit-exact with TFLite
//!    Micro, and a `.tflite` file checked against the type (feature `tflite` for the loader)
//! 9. [The `Trainer`](ch09_the_trainer): Keras' `fit`, early stopping, your own loop
//! 10. [Your own loss](ch10_your_own_loss), and its gradient check
//! 11. [Your own optimizer](ch11_your_own_optimizer), and its step check
//! 12. [What having no tape costs](ch12_no_tape_costs_and_gains), and what it buys
//! 13. [Composing beyond a sequence](ch13_composition): residual blocks, BatchNorm folding as a
//!     change of type, and deep models (MLPerf Tiny's four models) as generic block aliases
//! 14. [Schedules, clipping and L2](ch14_schedules_clipping_l2): what happens between a
//!     gradient and a step
//!
//! Then the [error gallery](error_gallery): every shape mistake the library rejects, and the
//! exact message a student sees.
//!
//! The numbered examples follow the same path: `examples/01_tensors.rs` to
//! `examples/08_embedded.rs`, then `examples/09_tflite_int8.rs` for chapter 8 and
//! `examples/11_autoencoder.rs` to `examples/13_resnet_digits.rs` for chapter 13.

#[doc = include_str!("../docs/guide/01-shapes-as-types.md")]
pub mod ch01_shapes_as_types {}

#[doc = include_str!("../docs/guide/02-computed-shapes.md")]
pub mod ch02_computed_shapes {}

#[doc = include_str!("../docs/guide/03-tuples-as-models.md")]
pub mod ch03_tuples_as_models {}

#[doc = include_str!("../docs/guide/04-activations-in-the-loop.md")]
pub mod ch04_activations_in_the_loop {}

#[doc = include_str!("../docs/guide/05-backward-without-a-tape.md")]
pub mod ch05_backward_without_a_tape {}

#[cfg_attr(
    feature = "proptest",
    doc = concat!(
        include_str!("../docs/guide/06-gradient-checks.md"),
        "\n```rust\n",
        include_str!("../examples/06_custom_layer.rs"),
        "```\n\nNext: [chapter 7, the embedded story](crate::guide::ch07_embedded).\n"
    )
)]
#[cfg_attr(
    not(feature = "proptest"),
    doc = "# 6. Gradient checks\n\nThis chapter's examples use the `gradcheck` helpers: build the docs with `--features proptest`."
)]
pub mod ch06_gradient_checks {}

#[doc = include_str!("../docs/guide/07-embedded.md")]
pub mod ch07_embedded {}

#[cfg_attr(feature = "tflite", doc = include_str!("../docs/guide/08-int8.md"))]
#[cfg_attr(
    not(feature = "tflite"),
    doc = "# 8. int8 models\n\nThis chapter's examples load `.tflite` files: build the docs with the `tflite` feature (on by default)."
)]
pub mod ch08_int8 {}

#[doc = include_str!("../docs/guide/09-the-trainer.md")]
pub mod ch09_the_trainer {}

#[cfg_attr(feature = "proptest", doc = include_str!("../docs/guide/10-your-own-loss.md"))]
#[cfg_attr(
    not(feature = "proptest"),
    doc = "# 10. Your own loss\n\nThis chapter's examples use the `gradcheck` helpers: build the docs with `--features proptest`."
)]
pub mod ch10_your_own_loss {}

#[doc = include_str!("../docs/guide/11-your-own-optimizer.md")]
pub mod ch11_your_own_optimizer {}

#[doc = include_str!("../docs/guide/12-no-tape-costs-and-gains.md")]
pub mod ch12_no_tape_costs_and_gains {}

#[doc = include_str!("../docs/guide/13-composition.md")]
pub mod ch13_composition {}

#[doc = include_str!("../docs/guide/14-schedules-clipping-l2.md")]
pub mod ch14_schedules_clipping_l2 {}

/// One gallery entry: the rule, the program (compiled by this doctest and required to fail),
/// and the exact message from the checked-in `.stderr`.
macro_rules! entry {
    ($title:literal, $file:literal, $reported:literal) => {
        concat!(
            "## ",
            $title,
            "\n\nReported by ",
            $reported,
            ". `tests/ui/",
            $file,
            ".rs`:\n\n```compile_fail\n",
            include_str!(concat!("../tests/ui/", $file, ".rs")),
            "```\n\nThe message (`tests/ui/",
            $file,
            ".stderr`, checked by `cargo test`):\n\n```text\n",
            include_str!(concat!("../tests/ui/", $file, ".stderr")),
            "```\n\n"
        )
    };
}

#[doc = concat!(
    "# Error gallery\n\n",
    "Every shape mistake typed-nn rejects, the program that makes it, and the compiler's exact ",
    "message. The programs and messages are the compile-fail tests' own files (`tests/ui/`), ",
    "included here verbatim, so this page changes whenever a message does. Messages are from ",
    "the toolchain pinned in `rust-toolchain.toml`; paths into the library print as `src/...`.\n\n",
    include_str!("../docs/guide/shape-rules.md"),
    "\n",
    entry!("A Dense takes the previous layer's output", "dense_input_must_match_previous_output", "`cargo check`"),
    entry!("The input matches the first layer", "model_input_must_match_first_layer", "`cargo check`"),
    entry!("A Conv2D takes its channel count", "conv_input_channels_must_match", "`cargo check`"),
    entry!("The kernel fits the image's height", "conv_kernel_must_fit_image", "`cargo check`"),
    entry!("The kernel fits the image's width", "conv_kernel_must_fit_image_width", "`cargo check`"),
    entry!("The pooling window fits the image's height", "pool_window_must_fit_image", "`cargo check`"),
    entry!("The pooling window fits the image's width", "pool_window_must_fit_image_width", "`cargo check`"),
    entry!("A DepthwiseConv2D takes its channel count", "depthwise_input_channels_must_match", "`cargo check`"),
    entry!("A DepthwiseConv2D cannot follow a Flatten", "depthwise_cannot_follow_flatten", "`cargo check`"),
    entry!("A depthwise kernel fits the image", "depthwise_kernel_must_fit_image", "`cargo check`"),
    entry!("An image needs Flatten before a Dense", "dense_needs_flatten_after_image", "`cargo check`"),
    entry!("A Conv2D cannot follow a Flatten", "conv_cannot_follow_flatten", "`cargo check`"),
    entry!("A layer takes a tensor, not a Box of one", "input_must_not_be_boxed", "`cargo check`"),
    entry!("A kernel is at least 1×1", "conv_kernel_must_be_at_least_one", "`cargo check`"),
    entry!("… in both directions", "conv_kernel_width_must_be_at_least_one", "`cargo check`"),
    entry!("A stride is at least 1", "conv_stride_must_be_at_least_one", "`cargo check`"),
    entry!("… in both directions", "conv_stride_width_must_be_at_least_one", "`cargo check`"),
    entry!("A pooling window is at least 1×1", "pool_window_must_be_at_least_one", "`cargo check`"),
    entry!("… in both directions", "pool_window_width_must_be_at_least_one", "`cargo check`"),
    entry!("A depth multiplier is at least 1", "depthwise_multiplier_must_be_at_least_one", "`cargo check`"),
    entry!(
        "A DepthwiseConv2D has at most 4096 output channels",
        "depthwise_output_channels_must_be_at_most_4096",
        "`cargo check`"
    ),
    entry!("Image sides are at most 4096", "image_side_must_be_at_most_4096", "`cargo check`"),
    entry!("A weight image has the model's length", "weight_image_length_must_match", "`cargo check`"),
    entry!("An int8 image has the int8 model's length", "int8_image_length_must_match", "`cargo check`"),
    entry!(
        "A Dense has at least one input",
        "dense_inputs_must_be_at_least_one",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "A Dense has at least one output",
        "dense_outputs_must_be_at_least_one",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "A Conv2D has at least one filter",
        "conv_filters_must_be_at_least_one",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "A Conv2D has at least one input channel",
        "conv_input_channels_must_be_at_least_one",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "A DepthwiseConv2D has at least one channel",
        "depthwise_channels_must_be_at_least_one",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "The Dense after a Flatten takes H·W·C inputs",
        "dense_after_flatten_must_take_flattened_size",
        "`cargo build` (not `cargo check`: see the table)"
    ),
    entry!(
        "… in the summary too",
        "dense_after_flatten_must_take_flattened_size_in_summary",
        "`cargo build`"
    ),
    entry!(
        "… in a batched forward pass too",
        "dense_after_flatten_must_take_flattened_size_in_forward_batch",
        "`cargo build`"
    ),
    entry!(
        "… in training too",
        "dense_after_flatten_must_take_flattened_size_in_training",
        "`cargo build`"
    ),
    entry!(
        "… and in `cargo check`, with `check_model!`",
        "dense_after_flatten_must_take_flattened_size_in_a_const",
        "`cargo check`"
    ),
    "# Beyond shapes\n\n",
    "| rule | a mistake | reported by | test (`tests/ui/`) |\n",
    "|---|---|---|---|\n",
    "| a model is a tuple of at most 12 layers | 13 layers in one tuple | `cargo check` | `model_tuple_has_at_most_12_layers` |\n",
    "| the layers of a model share one float type | an `f64` layer after an `f32` layer | `cargo check` | `layer_float_types_must_match` |\n",
    "| the input has the model's float type | a `Vector<4, f64>` into an `f32` model | `cargo check` | `input_float_type_must_match_model` |\n",
    "| your layer takes what its rule trait says | a vector into an image-only custom layer | `cargo check` | `custom_layer_input_must_match_its_rule` |\n",
    "| `new_boxed` needs `bytemuck::Zeroable` layers | a custom layer without the derive | `cargo check` | `new_boxed_needs_zeroable_layers` |\n",
    "| the kernel hooks are the library's | overriding `batch_scratch_len` | `cargo check` | `kernel_hooks_are_sealed` |\n",
    "| an activation's loss-fusion tag is the library's | a custom activation claiming softmax's | `cargo check` | `activation_loss_fusion_is_sealed` |\n",
    "| `SmallRng` is now `SeedRng` | the old name (a warning; an error under `deny`) | `cargo check` | `small_rng_is_deprecated` |\n",
    "| a `PiecewiseConstantDecay` has one more value than boundaries | 2 boundaries, 2 values | `cargo build` | `piecewise_constant_decay_needs_one_more_value_than_boundaries` |\n",
    "| fusing activations needs each activation's role | your own activation without `FuseRole` | `cargo check` | `fuse_custom_activation_needs_a_role` |\n",
    "| folding reads the same role | your own activation without `FuseRole`, folded | `cargo check` | `fold_custom_activation_needs_a_role` |\n\n",
    "Three of these come with a second error that rustc reports on its own. A 13-layer tuple has no ",
    "`Default` (the standard library stops there, which is why models do), an `f64` input into ",
    "an `f32` model also fails rustc's check that the model's parameters have the input's float ",
    "type, `E0271`, and a method call whose trait bounds fail is `E0599` before the error that ",
    "names the missing impl. The error that names the rule is the one to read. For the 13-layer ",
    "tuple, rustc's `Default` error comes first, since `Default::default()` comes before `forward` ",
    "in the program, and no library can change that: only the standard library can word a ",
    "`Default` error, and only it can implement `Default` for tuples.\n\n",
    entry!("A model is a tuple of at most 12 layers", "model_tuple_has_at_most_12_layers", "`cargo check`"),
    entry!("The layers of a model share one float type", "layer_float_types_must_match", "`cargo check`"),
    entry!("The input has the model's float type", "input_float_type_must_match_model", "`cargo check`"),
    entry!(
        "Your own layer states its input as a rule trait, and gets its own message",
        "custom_layer_input_must_match_its_rule",
        "`cargo check`. The pattern is step 3 of `examples/06_custom_layer.rs` ([chapter 6](crate::guide::ch06_gradient_checks))"
    ),
    entry!("new_boxed needs every layer to be bytemuck::Zeroable", "new_boxed_needs_zeroable_layers", "`cargo check`"),
    entry!("The batched kernels are sealed", "kernel_hooks_are_sealed", "`cargo check`"),
    entry!("An activation's loss-fusion tag is sealed", "activation_loss_fusion_is_sealed", "`cargo check`"),
    entry!("SmallRng is deprecated: it is SeedRng now", "small_rng_is_deprecated", "`cargo check`"),
    entry!(
        "A PiecewiseConstantDecay has one more value than boundaries",
        "piecewise_constant_decay_needs_one_more_value_than_boundaries",
        "`cargo build` (a `const` assertion: not `cargo check`)"
    ),
    entry!(
        "Fusing activations needs to know your activation's role",
        "fuse_custom_activation_needs_a_role",
        "`cargo check`. Written as a method call alone (`let f = model.fuse_activations();`), only the first, \
         longer error (`E0599`) shows, and it names `Dense<4, 8, Square>: FuseRole`; with the type named, the \
         second error names the activation and what to implement ([`fuse`](crate::fuse))"
    ),
    entry!(
        "Folding reads the same role: one impl for folding and fusion",
        "fold_custom_activation_needs_a_role",
        "`cargo check`. The activation's one role trait is `FuseRole`: the impl that fusion asks for \
         above is the one folding asks for here ([`fold`](crate::fold)). The second error names the \
         activation and what to implement; the third, about `FoldPair`, follows from the same missing \
         impl (the layer has no role to pair with) and goes away with it"
    ),
)]
pub mod error_gallery {}
