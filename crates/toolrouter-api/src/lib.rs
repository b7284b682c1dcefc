//! What goes on the wire, and nothing else: serde types for toolrouter's HTTP API.
//!
//! Kept apart from the domain types in `toolrouter-core` so a refactor inside the server can
//! never silently change what clients see. The server converts at its edge; the Rust client
//! (`toolrouter-client`) depends on this crate alone.

pub mod auth;
pub mod catalog;
pub mod error;
pub mod execution;
pub mod mounts;
pub mod project;
pub mod proxy;
pub mod session;
pub mod session_exec;

pub use error::{ErrorBody, ErrorEnvelope};
