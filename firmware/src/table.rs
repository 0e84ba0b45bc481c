//! The README's firmware table, as `build.rs` read it for this target, and the rule the
//! measurements are held to: within 10% of the table (or 16, for the small numbers), the
//! accuracy and the compile-time constants exactly.

/// One row: what one firmware binary measured on one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The binary (`harness`, `mlp`, ...).
    pub firmware: &'static str,
    /// The model's `Params::PARAM_BYTES` (none for the harness).
    pub param_bytes: Option<u32>,
    /// The model's `Layer::ACTIVATION_BYTES` (none for the harness).
    pub activation_bytes: Option<u32>,
    /// Bytes of `.text` (code).
    pub text: u32,
    /// Bytes of `.rodata` (weights and other constants).
    pub rodata: u32,
    /// Bytes of statics in RAM.
    pub static_ram: u32,
    /// Bytes of stack to classify one image.
    pub stack: u32,
    /// Instructions to classify one image (under the QEMU runner).
    pub instructions: u32,
    /// Test digits right, of how many (none for the harness).
    pub correct: Option<(u32, u32)>,
}

include!(concat!(env!("OUT_DIR"), "/expected.rs"));

/// The README's row for `firmware` on this target.
pub fn readme_row(firmware: &str) -> Option<&'static Row> {
    README_ROWS.iter().find(|r| r.firmware == firmware)
}

/// Whether `measured` is within 10% of `table`, or within 16 of it: a few bytes or
/// instructions more than a table entry of 0 or 8 is not a change worth a table update.
pub fn close_enough(measured: u32, table: u32) -> bool {
    let diff = measured.abs_diff(table);
    diff <= 16 || 10 * u64::from(diff) <= u64::from(table)
}
