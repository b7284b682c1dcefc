//! Shared pieces of the benchmark binaries, kept in a library so that the metric arithmetic, the
//! data loading and the synthetic catalogue are unit-tested rather than trusted.

pub mod metatool;
pub mod metrics;
pub mod synth;
