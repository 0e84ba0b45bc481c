//! The only place with `unsafe` code: GEMM calls into `matrixmultiply` and typed-nn's own
//! AVX-512/AVX2 GEMM micro-kernels for the batched `Dense` and the 1×1 stride-1
//! `Conv2D` (`rowgemm`), views of tensor
//! slices as flat scalar slices, zeroed heap allocations, the run-time dispatch to
//! AVX2/AVX-512 code, the explicit-SIMD `f32` direct and depthwise convolutions
//! (`conv_direct.rs`; the depthwise one keeps a vector of channels' weights in registers and
//! applies the layer's element-wise activation before its one store), the int8 dot products and
//! requantization (AVX2, AVX-512 VNNI), and the `.tflite` flatbuffer accessors.
//!
//! Everything here is crate-private. Each `unsafe` block carries a `// SAFETY:` proof; the rest
//! of the crate is compiled with `#![deny(unsafe_code)]`. The float kernels import only the
//! scalar and tensor types, no layer and no activation: the activations reach the vector units
//! through [`simd::Vectorized`] (the depthwise kernel takes the layer's activation as a closure
//! over a slice, called on each output vector inside its `#[target_feature]` code, where it is
//! inlined), and the vectorisable `eˣ` is a public building block in
//! [`crate::math`]. The int8 kernels (`int8.rs`) use the requantization arithmetic of
//! [`crate::quant`], whose layers call them. `scripts/miri.sh` runs this module's unit tests under Miri (what that
//! covers: `docs/miri.md`).
#![allow(unsafe_code)]

#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
pub(crate) mod cast;
pub(crate) mod conv_direct;
#[cfg(feature = "alloc")]
pub(crate) mod gemm;
#[cfg(feature = "alloc")]
pub(crate) mod heap;
pub(crate) mod int8;
#[cfg(feature = "alloc")]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub(crate) mod rowgemm;
pub(crate) mod simd;
#[cfg(feature = "tflite")]
pub(crate) mod tflite_schema;
pub(crate) mod zeroable;

pub use cast::FlatLayout;
pub use simd::{FloatSimd, float_simd};
