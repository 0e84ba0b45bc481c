//! The token that seals the library's hidden trait items.
//!
//! [`Layer`](crate::Layer), [`Backward`](crate::Backward) and [`Params`](crate::Params) carry
//! a few items only the library uses (batched kernels, summary rows, the loss fusion, the
//! parameter-count check). Each takes a [`Seal`] argument. `Seal` is public, so it may appear
//! in public signatures, but it lives in this private module: code outside the crate can
//! neither name it, so it cannot override those items, nor build one, so it cannot call them.
//! A custom layer therefore implements exactly what the guide explains and inherits the
//! defaults of everything else.

/// See the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct Seal;
