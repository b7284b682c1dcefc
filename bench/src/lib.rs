//! Shared pieces of the benchmark binaries, kept in a library so that the metric arithmetic, the
//! data loading and the synthetic catalogue are unit-tested rather than trusted.

/// The same allocator as the `toolrouter` binary, for the benchmarks that run the server in
/// process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod metatool;
pub mod metrics;
pub mod synth;
