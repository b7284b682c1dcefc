//! The workbench's error type. Every variant says what went wrong for whom and how to fix it;
//! user-code failures (exceptions, timeouts, OOM kills) are never errors here but results
//! ([`crate::PythonOutput::error`]).

use std::io;

use toolrouter_core::SessionId;
use toolrouter_core::session::SandboxSize;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkbenchError {
    /// Every sandbox slot is taken. Retry later, stop idle sessions, or raise `max_sandboxes`.
    #[error(
        "all {max} workbench sandboxes are in use; retry later or raise the workbench's \
         max_sandboxes"
    )]
    TooManySandboxes { max: u32 },
    /// Starting this tier would reserve more than the configured host capacity.
    #[error(
        "no capacity for a {size} sandbox ({vcpus} vCPU, {memory_gib} GiB): {reserved_vcpus} of \
         {capacity_vcpus} vCPU and {reserved_gib:.1} of {capacity_gib:.1} GiB are reserved; retry \
         later or pick a smaller sandbox_size"
    )]
    CapacityExhausted {
        size: &'static str,
        vcpus: u32,
        memory_gib: u32,
        reserved_vcpus: u32,
        capacity_vcpus: u32,
        reserved_gib: f64,
        capacity_gib: f64,
    },
    /// The tier is larger than the whole configured capacity, so it can never start.
    #[error(
        "a {} sandbox needs more than this server's workbench capacity; pick a smaller \
         sandbox_size",
        size.as_str()
    )]
    TierTooLarge { size: SandboxSize },
    /// The session was deleted (by [`crate::Workbench::destroy`]) while this call waited or ran.
    #[error("the session was deleted")]
    SessionDeleted,
    /// The workbench was shut down.
    #[error("the workbench is shut down")]
    ShutDown,
    /// A sandbox failed to start (the step names what failed; the log has the detail).
    #[error("could not start the workbench sandbox for session {session} ({step})")]
    Start {
        session: SessionId,
        step: &'static str,
        #[source]
        source: io::Error,
    },
    /// Start-up of the workbench itself failed.
    #[error("workbench set-up failed ({step})")]
    Setup {
        step: &'static str,
        #[source]
        source: io::Error,
    },
    /// Bubblewrap was required but does not work on this host.
    #[error("bubblewrap was required but a probe sandbox failed: {detail}")]
    BubblewrapUnavailable { detail: String },
    /// Deleting a session's files failed.
    #[error("could not delete the workbench files of session {session}")]
    Cleanup {
        session: SessionId,
        #[source]
        source: io::Error,
    },
}
