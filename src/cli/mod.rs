//! Stage 10, cli: the `meshbox` command — flags (`args`), one function per command (`commands`), what `validate` and
//! `test` print (`report`), and the benchmarks with their synthetic mesh.

pub mod args;
pub mod bench;
pub mod bench_mesh;
pub mod bench_start;
pub mod commands;
pub mod progress;
pub mod report;
