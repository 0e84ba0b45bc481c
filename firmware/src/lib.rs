//! typed-nn on a Cortex-M: the firmware that classifies the bundled test digits with models
//! baked into flash, and measures what that costs on the target.
//!
//! Each binary in `src/bin/` is one model, so that its ELF's sizes are that model's:
//! `harness` (no model: the test set, the measuring and the printing alone), `mlp`, `cnn` (`f32`,
//! weights trained by typed-nn), `mlp_int8`, `cnn_int8` (int8, from the `.tflite` files in
//! `tests/fixtures/tflite`, integer arithmetic only: on an FPU core they switch it off, see
//! [`fpu`]), `cnn_relu` (the `f32` CNN those were converted from, [`keras_models`]), `ds_cnn`
//! and `resnet8` (MLPerf Tiny's models, BatchNorm folded, on fixture inputs: [`fixture`]); and
//! `parity`, which compares every model's outputs value by value: the `f32` ones with the build
//! machine's, the int8 ones with TensorFlow Lite Micro's, byte for byte. `kernels` counts
//! instructions per int8 kernel step, for work on the kernels (not in CI).
//! Run one from this directory with `cargo run --profile nostd --bin mlp` (QEMU, see
//! `.cargo/config.toml`). It prints
//!
//! - the test digits it classifies right, which must equal the host's (computed by `build.rs`
//!   with typed-nn's `std` build and the same models);
//! - flash and static RAM, the sizes of the ELF's sections (symbols `measure.x` defines);
//! - the stack one classification uses, painted before and scanned after ([`stack`]);
//! - the instructions one classification takes, from SysTick under QEMU's `-icount`
//!   ([`systick`]);
//!
//! then checks them against its row of the README's firmware table (within 10%, or 16 for the
//! small numbers; the accuracy exactly) and exits through semihosting with the result, so `cargo run` fails when a number
//! drifts and the table was not updated. The row to paste is printed.
//!
//! **Supported targets**: `thumbv6m-none-eabi`, `thumbv7m-none-eabi`, `thumbv7em-none-eabi` and
//! `thumbv7em-none-eabihf`, the ones with a runner and a memory map here. Any other target is a
//! compile error naming it. A `thumbv7em-none-eabihf` build on a core without an FPU faults at
//! its first float instruction; the hard-fault handler reports that and exits with failure.
//!
//! Like `nostd-check`, the panic handler calls an undefined symbol: the firmware links only if
//! no panic path is left after optimisation.

#![no_std]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[cfg(not(typed_nn_firmware_target))]
compile_error!(concat!(
    "typed-nn-firmware supports thumbv6m-none-eabi, thumbv7m-none-eabi, thumbv7em-none-eabi and \
     thumbv7em-none-eabihf (Cortex-M0/M0+/M3/M4/M7 with this memory.x and QEMU runner), not `",
    env!("TYPED_NN_FIRMWARE_TARGET"),
    "`; build from firmware/ (its .cargo/config.toml picks thumbv7em-none-eabihf) or pass --target"
));

#[cfg(typed_nn_firmware_target)]
pub mod console;
#[cfg(typed_nn_firmware_target)]
pub mod fixture;
#[cfg(typed_nn_firmware_target)]
pub mod fpu;
#[cfg(typed_nn_firmware_target)]
pub mod keras_models;
#[cfg(typed_nn_firmware_target)]
pub mod models;
#[cfg(typed_nn_firmware_target)]
pub mod run;
#[cfg(typed_nn_firmware_target)]
pub mod sections;
#[cfg(typed_nn_firmware_target)]
pub mod stack;
#[cfg(typed_nn_firmware_target)]
pub mod systick;
#[cfg(typed_nn_firmware_target)]
pub mod table;
#[cfg(typed_nn_firmware_target)]
pub mod test_set;
#[cfg(typed_nn_firmware_target)]
pub mod ticks;

#[cfg(typed_nn_firmware_target)]
mod handlers {
    use core::panic::PanicInfo;

    use cortex_m_rt::{ExceptionFrame, exception};

    use crate::console::{Console, exit};

    unsafe extern "C" {
        /// Deliberately undefined: referenced only from the panic handler, so the firmware
        /// links exactly when the optimiser removed every panic path.
        fn typed_nn_firmware_found_a_panic_path() -> !;
    }

    #[panic_handler]
    fn panic(_: &PanicInfo) -> ! {
        // SAFETY: never linked into a working binary; see the crate docs.
        unsafe { typed_nn_firmware_found_a_panic_path() }
    }

    /// A fault (an FPU instruction on a core without one, a bad address) ends the run with a
    /// failure instead of hanging until the runner's timeout.
    #[exception]
    unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
        Console::open()
            .text("hard fault at pc ")
            .hex(frame.pc().into(), 8)
            .text(" (a float instruction on a core without an FPU? see firmware/src/lib.rs)\n");
        exit(false)
    }
}
