//! Switching the FPU off, so that an int8 firmware proves on the Cortex-M4F that its inference
//! is integer-only: after [`switch_off`], any float instruction is a usage fault (no
//! coprocessor), which ends the run through the hard-fault handler with a failure.

/// The Coprocessor Access Control Register (ARMv7-M Architecture Reference Manual, B3.2.20);
/// its fields CP10 and CP11 (bits 20 to 23) grant access to the FPU. cortex-m-rt's reset
/// handler sets them on hard-float targets.
#[cfg(target_abi = "eabihf")]
const CPACR: *mut u32 = 0xE000_ED88 as *mut u32;

/// Denies all access to the FPU, on a hard-float build (thumbv7em-none-eabihf, whose cores
/// have an FPU), and returns `true`; elsewhere there is no FPU in use to switch off (the M0+
/// and M3 builds call software routines for floats), and this does nothing and returns `false`.
pub fn switch_off() -> bool {
    #[cfg(target_abi = "eabihf")]
    // SAFETY: CPACR exists on every ARMv7-M core with an FPU, which an eabihf build needs; no
    // float value is live across this call (the caller has not used the FPU before it, and
    // with no float instruction executed the exception frames carry no FPU state), and the
    // barriers make the change take effect before the next instruction, as the manual requires.
    unsafe {
        CPACR.write_volatile(CPACR.read_volatile() & !(0b1111 << 20));
        core::arch::asm!("dsb", "isb", options(nostack, preserves_flags));
    }
    cfg!(target_abi = "eabihf")
}
