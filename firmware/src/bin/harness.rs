//! The harness alone: the test set, the measuring and the printing, with a "classifier" that
//! always says 0. Its row in the README is what every model's row includes besides the model.

#![no_std]
#![no_main]

use typed_nn_firmware::run::{Firmware, run};

#[cortex_m_rt::entry]
fn main() -> ! {
    let firmware = Firmware {
        name: "harness",
        param_bytes: None,
        activation_bytes: None,
        host_correct: None,
        integer_only: false,
    };
    run(&firmware, |_| 0)
}
