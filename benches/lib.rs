//! typed-nn's benchmarks: `dense.rs`, `conv.rs`, `train_step.rs`, `peak.rs`, `int8.rs` and
//! `mlperf.rs` in this directory, run with `cargo bench -p typed-nn-benches`. `BENCHMARKS.md` at
//! the repository root has the results and how to read them.
