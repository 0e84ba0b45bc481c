//! The firmware's own section sizes, as the linker laid out the ELF (`measure.x` names them).

unsafe extern "C" {
    static __typed_nn_fw_vector_table: u8;
    static __typed_nn_fw_text: u8;
    static __typed_nn_fw_rodata: u8;
    static __typed_nn_fw_testset: u8;
    static __typed_nn_fw_data: u8;
    static __typed_nn_fw_bss: u8;
    static __typed_nn_fw_uninit: u8;
}

/// Section sizes in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Sections {
    /// `.vector_table`: the initial stack pointer and the exception and interrupt vectors.
    pub vector_table: u32,
    /// `.text`: code.
    pub text: u32,
    /// `.rodata`: constants, among them a model's weights.
    pub rodata: u32,
    /// `.testset`: the baked-in test digits (and the host's answers for `parity`).
    pub testset: u32,
    /// `.data` + `.bss` + `.uninit`: statics in RAM (`.data` also takes its size in flash).
    pub static_ram: u32,
}

impl Sections {
    /// This ELF's sizes. Each symbol's *value* is a size (`__x = SIZEOF(.x)`), read as an address.
    pub fn of_this_firmware() -> Self {
        let size = |symbol: *const u8| symbol as u32;
        Sections {
            vector_table: size(&raw const __typed_nn_fw_vector_table),
            text: size(&raw const __typed_nn_fw_text),
            rodata: size(&raw const __typed_nn_fw_rodata),
            testset: size(&raw const __typed_nn_fw_testset),
            static_ram: size(&raw const __typed_nn_fw_data)
                + size(&raw const __typed_nn_fw_bss)
                + size(&raw const __typed_nn_fw_uninit),
        }
    }
}
