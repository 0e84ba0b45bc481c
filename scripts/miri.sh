#!/usr/bin/env bash
# Runs the unit tests of src/kernel/ -- the only module with `unsafe` code -- under Miri, the
# interpreter that reports undefined behaviour (out-of-bounds or misaligned accesses, reads of
# uninitialised or freed memory, aliasing violations, leaks) in the code a test executes; then
# the .tflite error tests, which are what reach kernel/tflite_schema.rs.
#
#     scripts/miri.sh              # about 5 minutes on 2 cores, most of it building for Miri
#     scripts/miri.sh --nocapture  # extra arguments go to both test harnesses
#
# Not part of CI (.ci/run): it needs a nightly toolchain with two components, which this script
# installs if they are missing (`rustup +nightly component add miri rust-src`), and it is slow.
#
# What it covers (also in docs/miri.md):
# - kernel/cast.rs: `flat` and `flat_mut`, the slice-of-tensors-as-scalars views behind every
#   batched kernel (Vector, Image and Flat; empty slices; zero-length tensors), and, with the
#   `generic-array` feature this script turns on, `vector_ref`/`vector_mut` (an array seen as
#   the `Vector` around it).
# - kernel/heap.rs: `zeroed_box` and `zeroed_tuple_box`, the allocation behind `NewBoxed`
#   (layers, tuples of layers, zero-sized layers that must not allocate).
# - kernel/gemm.rs: the checked wrapper and the `matrixmultiply` sgemm/dgemm calls it picks by
#   `TypeId` (row-major, transposed and strided views, and the refusal of operands that are
#   too short), including matrixmultiply's own unsafe code, run on its portable kernels.
# - kernel/simd.rs: `dispatch`, on its portable path (the kernels it runs are safe code in
#   their layers' files: the dense row in layer/dense.rs, the batched activations in
#   activation.rs).
# - kernel/tflite_schema.rs (the flatbuffer accessors of the .tflite importer, feature
#   `tflite`): it has no unit tests of its own, so the second run takes 8 of the 10 tests of
#   tests/tflite_errors.rs (valid and malformed models through the importer; they read fixture
#   files, hence -Zmiri-disable-isolation for that run). The two left out feed every truncation
#   and every corrupted byte of a model to the importer: thousands of imports, hours under
#   Miri; `cargo test` and the fuzz target load_tflite run them natively.
#
# - kernel/int8.rs: the int8 dot products and requantization, portable path in the first run;
#   a third run compiles the crate with `-C target-feature=+avx2`, which Miri's CPU then
#   reports, so the AVX2 intrinsics path (its pointer arithmetic, loads and stores) runs under
#   Miri too (its own target directory, target/miri-avx2; about a minute more).
#
# What it does not cover:
# - The AVX-512 VNNI int8 path (Miri does not implement `vpdpbusd`); it shares its loads and
#   stores with the AVX2 path, which is checked.
# - The `#[target_feature(enable = "avx2,fma")]` / `"avx512f,..."` functions: Miri's CPU has
#   no AVX, so `has_avx2_fma()` and `has_avx512()` are false and the `unsafe` calls into them
#   are never taken. Their only obligation is that the CPU has the features, which the
#   run-time detection right before each call establishes; the same source compiled without
#   the features is what Miri checks.
# - math/exp.rs (the vectorisable exp, outside kernel/): no `unsafe` in it, and its tests
#   evaluate exp() at millions of points (hours under Miri); they run natively in `cargo test`.
# - Tests outside src/kernel/: they reach the same unsafe code through the same functions
#   (`flat` in every batched path, `zeroed_box` in `NewBoxed`), at sizes Miri would take
#   hours over. Run a wider selection by hand if you change those callers, for example
#   `scripts/miri.sh` with `TYPED_NN_MIRI_FILTER=layer::`.
#
# What it found when it was written (rustc 1.97.0-nightly 2026-05-19 and its miri): nothing.
# The 8 kernel tests outside exp.rs pass under Miri's default checks (Stacked Borrows,
# alignment, bounds, initialisation, leaks), and also with MIRIFLAGS="-Zmiri-strict-provenance"
# and with "-Zmiri-tree-borrows"; so do the 3 tests of layer::dense and the 8 .tflite error
# tests (default checks). After issue 13's surface changes were merged (same nightly): the 12
# kernel tests (also with both flags above), the 4 int8 tests of the AVX2 run, the 8 .tflite
# tests and the 4 tests of layer::dense (where the dense row kernel lives now) pass too.
#
# libm: with its default `arch` feature the `libm` crate computes sqrt with inline assembly,
# which Miri cannot run; `--features libm/force-soft-floats` selects its portable code.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
    rustup +nightly component add miri rust-src
fi

filter="${TYPED_NN_MIRI_FILTER:-kernel::}"
# Miri keeps its build apart from the native one (target/miri), so this does not disturb it.
cargo +nightly miri test --lib --features libm/force-soft-floats,generic-array -- "$filter" "$@"
MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-disable-isolation" \
    cargo +nightly miri test --features libm/force-soft-floats --test tflite_errors -- \
    --skip every_truncation_of_a_model_is_an_error --skip corrupting_any_byte_never_panics "$@"
# The int8 kernels' AVX2 path, which Miri runs when the crate is compiled for AVX2.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+avx2" \
    cargo +nightly miri test --lib --features libm/force-soft-floats --target-dir target/miri-avx2 -- kernel::int8 "$@"
