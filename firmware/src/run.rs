//! One firmware run: classify the test set, measure, print, check against the README, exit.

use core::hint::black_box;

use crate::console::{Console, exit};
use crate::sections::Sections;
use crate::table::{self, Row, close_enough, readme_row};
use crate::{fpu, stack, systick, test_set};

/// What a binary runs: a name, its model's compile-time constants and the host's accuracy.
pub struct Firmware {
    /// The binary's name, as in the README's table.
    pub name: &'static str,
    /// The model's `PARAM_BYTES` (none for the harness).
    pub param_bytes: Option<usize>,
    /// The model's `ACTIVATION_BYTES` (none for the harness).
    pub activation_bytes: Option<usize>,
    /// Test digits the host classifies right with the same model (none for the harness).
    pub host_correct: Option<u32>,
    /// An int8 model: the run switches the FPU off first ([`fpu::switch_off`]), so a float
    /// instruction anywhere in it faults and fails the run.
    pub integer_only: bool,
}

/// What classifying the whole test set (or a model's fixture inputs) measured.
pub(crate) struct Evaluation {
    /// Test digits classified right (unused for fixture inputs).
    pub(crate) correct: u32,
    /// Inputs run.
    pub(crate) total: u32,
    /// Stack used by one classification, the most over all inputs.
    pub(crate) stack: u32,
    /// Stack in use above the measured calls ([`stack::used_above`]).
    pub(crate) above: u32,
    /// SysTick ticks over all classifications.
    pub(crate) ticks: u64,
}

/// Classifies the test set with `classify`, measures, prints, checks against the README's
/// table, and exits with the verdict.
pub fn run(firmware: &Firmware, classify: impl Fn(&[u8; 64]) -> usize) -> ! {
    let mut out = Console::open();
    out.text("typed-nn firmware `").text(firmware.name).text("` on ").text(table::TARGET).text("\n");
    if firmware.integer_only && fpu::switch_off() {
        out.text("FPU switched off: a float instruction would end the run with a fault\n");
    }
    systick::start();
    let e = evaluate(&classify);
    finish(out, firmware, e, "test digits right")
}

/// Runs an int8 model on fixture inputs (`N` bytes each) and counts the outputs (`O` bytes
/// each) equal to `expected`'s, TFLite Micro's; then measures, prints, checks against the
/// README's table and exits as [`run`] does. The "right" count is the outputs equal to TFLite
/// Micro's.
pub fn run_fixture<const N: usize, const O: usize>(
    firmware: &Firmware,
    inputs: &'static [u8],
    expected: &'static [u8],
    infer: impl Fn(&[u8; N]) -> [i8; O],
) -> ! {
    let mut out = Console::open();
    out.text("typed-nn firmware `").text(firmware.name).text("` on ").text(table::TARGET).text("\n");
    if firmware.integer_only && fpu::switch_off() {
        out.text("FPU switched off: a float instruction would end the run with a fault\n");
    }
    systick::start();
    let e = evaluate_fixture(&infer, inputs, expected);
    finish(out, firmware, e, "outputs equal to TFLite Micro's")
}

/// Prints how many inputs came out `right` next to the host's count (when the firmware has
/// one), then [`report`]s.
fn finish(mut out: Console, firmware: &Firmware, e: Evaluation, right: &str) -> ! {
    let ok = match firmware.host_correct {
        Some(host) => {
            let same = host == e.correct;
            out.text(right).text(": ").num(e.correct.into()).text("/").num(e.total.into());
            out.text(" (host: ").num(host.into()).text("/").num(e.total.into()).text(")").verdict(same);
            same
        }
        None => true,
    };
    report(&mut out, firmware, &e, ok)
}

/// Prints the measurements and the row, checks it against the README's table, and exits with
/// the verdict (failure if `ok` is false already).
pub(crate) fn report(out: &mut Console, firmware: &Firmware, e: &Evaluation, mut ok: bool) -> ! {
    let sections = Sections::of_this_firmware();
    // Saturates at 4.3 billion (a run past it fails its row's check rather than wrapping).
    let per_run = e.ticks.saturating_mul(systick::INSTRUCTIONS_PER_TICK) / u64::from(e.total.max(1));
    let instructions = u32::try_from(per_run).unwrap_or(u32::MAX);
    let measured = Row {
        firmware: firmware.name,
        param_bytes: firmware.param_bytes.map(|b| b as u32),
        activation_bytes: firmware.activation_bytes.map(|b| b as u32),
        text: sections.text,
        rodata: sections.rodata,
        static_ram: sections.static_ram,
        stack: e.stack,
        instructions,
        correct: firmware.host_correct.map(|_| (e.correct, e.total)),
    };

    out.text("flash: .text ").num(sections.text.into()).text(" + .rodata ").num(sections.rodata.into());
    out.text(" bytes (+ .vector_table ").num(sections.vector_table.into());
    out.text("; the test set's .testset ").num(sections.testset.into()).text(" not counted)\n");
    out.text("static RAM: ").num(sections.static_ram.into()).text(" bytes\n");
    out.text("stack, one classification: ").num(e.stack.into()).text(" bytes (painted and scanned)\n");
    let ram = sections.static_ram.saturating_add(e.above).saturating_add(e.stack);
    out.text("RAM in use at the deepest: ").num(ram.into()).text(" bytes (static RAM + ").num(e.above.into());
    out.text(" of stack above the classification, reset handler and main + its stack)\n");
    out.text("per classification: ").num(e.ticks / u64::from(e.total.max(1))).text(" SysTick ticks = ");
    out.num(instructions.into()).text(" instructions under the QEMU runner (-icount shift=0)\n");
    out.text("README row:\n");
    print_row(out, &measured);

    match readme_row(firmware.name) {
        None => {
            ok = false;
            out.text("README.md's firmware table has no row for `").text(firmware.name).text("` on ");
            out.text(table::TARGET).text(": add the row above").verdict(false);
        }
        Some(row) => ok &= check(out, row, &measured),
    }
    out.text(if ok { "ok\n" } else { "FAILED\n" });
    exit(ok)
}

/// Runs every fixture input, with the stack painted below this function's frame, counting the
/// outputs equal to `expected`'s and the ticks around each inference.
#[inline(never)]
fn evaluate_fixture<const N: usize, const O: usize, F: Fn(&[u8; N]) -> [i8; O]>(
    infer: &F,
    inputs: &[u8],
    expected: &[u8],
) -> Evaluation {
    let sp = stack::paint();
    let (mut correct, mut total, mut ticks) = (0u32, 0u32, 0u64);
    for (x, want) in inputs.as_chunks::<N>().0.iter().zip(expected.as_chunks::<O>().0) {
        let start = systick::now();
        let y = infer_one(infer, black_box(x));
        ticks += systick::elapsed(start, systick::now());
        correct += u32::from(y.iter().zip(want).all(|(&a, &b)| a == b as i8));
        total += 1;
    }
    Evaluation { correct, total, stack: stack::used_below(sp), above: stack::used_above(sp), ticks }
}

/// One inference, in its own frame so that [`stack`] measures all of it.
#[inline(never)]
fn infer_one<const N: usize, const O: usize, F: Fn(&[u8; N]) -> [i8; O]>(infer: &F, x: &[u8; N]) -> [i8; O] {
    infer(x)
}

/// Classifies every test image, with the stack painted below this function's frame, and
/// counts ticks around each classification.
#[inline(never)]
fn evaluate<C: Fn(&[u8; 64]) -> usize>(classify: &C) -> Evaluation {
    let sp = stack::paint();
    let (mut correct, mut total, mut ticks) = (0u32, 0u32, 0u64);
    for (pixels, label) in test_set::samples() {
        let start = systick::now();
        let class = classify_one(classify, black_box(pixels));
        ticks += systick::elapsed(start, systick::now());
        correct += u32::from(class == usize::from(label));
        total += 1;
    }
    Evaluation { correct, total, stack: stack::used_below(sp), above: stack::used_above(sp), ticks }
}

/// One classification, in its own frame so that [`stack`] measures all of it.
#[inline(never)]
fn classify_one<C: Fn(&[u8; 64]) -> usize>(classify: &C, pixels: &[u8; 64]) -> usize {
    classify(pixels)
}

/// Prints `row` as a line of the README's firmware table.
fn print_row(out: &mut Console, row: &Row) {
    let optional = |out: &mut Console, v: Option<u32>| {
        match v {
            Some(v) => out.text(" ").num(v.into()).text(" |"),
            None => out.text(" – |"),
        };
    };
    out.text("| `").text(row.firmware).text("` | ").text(table::TARGET).text(" |");
    optional(out, row.param_bytes);
    optional(out, row.activation_bytes);
    for v in [row.text, row.rodata, row.static_ram, row.stack, row.instructions] {
        out.text(" ").num(v.into()).text(" |");
    }
    match row.correct {
        Some((c, t)) => out.text(" ").num(c.into()).text("/").num(t.into()).text(" |\n"),
        None => out.text(" – |\n"),
    };
}

/// Compares the measurements with the README's row; prints each mismatch.
fn check(out: &mut Console, table: &Row, measured: &Row) -> bool {
    let mut ok = true;
    let exact = [
        ("PARAM_BYTES", table.param_bytes == measured.param_bytes),
        ("ACTIVATION_BYTES", table.activation_bytes == measured.activation_bytes),
        ("digits right", table.correct == measured.correct),
    ];
    for (what, same) in exact {
        if !same {
            ok = false;
            out.text("README: ").text(what).text(" differs from the measured value").verdict(false);
        }
    }
    let close = [
        (".text", table.text, measured.text),
        (".rodata", table.rodata, measured.rodata),
        ("static RAM", table.static_ram, measured.static_ram),
        ("stack", table.stack, measured.stack),
        ("instructions", table.instructions, measured.instructions),
    ];
    for (what, t, m) in close {
        if !close_enough(m, t) {
            ok = false;
            out.text("README: ").text(what).text(" is ").num(t.into()).text(", measured ").num(m.into());
            out.text(": more than 10% apart, update the README's row").verdict(false);
        }
    }
    if ok {
        out.text("README row: every number within 10%, the rest equal\n");
    }
    ok
}
