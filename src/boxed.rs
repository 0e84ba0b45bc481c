//! Heap constructors for models too big for the stack (feature `alloc`).
//!
//! `Dense<4096, 4096>` holds 64 MiB of weights; `Default::default()` would build it on the
//! stack first and overflow any normal thread. [`NewBoxed::new_boxed`] allocates the zeroed
//! model directly on the heap instead.
//!
//! ```
//! use typed_nn::prelude::*;
//! type Big = (Dense<4096, 4096, Relu>, Dense<4096, 10, Softmax>);
//! let model: Box<Big> = Big::new_boxed();
//! let y: Vector<10> = model.forward(&Vector::from([1.0f32; 4096]));
//! assert!((y[0] - 0.1).abs() < 1e-6);
//! ```

use alloc::boxed::Box;

use rand_core::Rng;

use crate::kernel::heap::{Zeroable, boxed_zeroed};
use crate::{Params, Scalar};

/// Built-in layers and tuples of them can be created directly on the heap.
///
/// Implemented for every built-in layer and every tuple of them (the trait is sealed: the
/// zero bit pattern must be a valid value, which only this crate can promise).
pub trait NewBoxed: Sized + Zeroable {
    /// The all-zero model, allocated directly on the heap.
    ///
    /// # Allocation
    /// One allocation of `size_of::<Self>()` bytes, zeroed by the allocator; no stack copy.
    fn new_boxed() -> Box<Self> {
        boxed_zeroed()
    }

    /// A model with Keras' default initialisation, allocated directly on the heap.
    fn init_boxed<T: Scalar, R: Rng + ?Sized>(rng: &mut R) -> Box<Self>
    where
        Self: Params<T>,
    {
        let mut model = Self::new_boxed();
        model.init_params(rng);
        model
    }
}

impl<M: Zeroable> NewBoxed for M {}
