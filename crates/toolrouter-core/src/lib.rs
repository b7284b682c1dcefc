//! Domain vocabulary shared by every toolrouter crate: typed ids, timestamps, the error-code
//! table and the project/API-key model.
//!
//! Pure by design: no IO and no async runtime, so everything here is testable in microseconds
//! and safe to depend on from any layer.

pub mod error;
pub mod id;
pub mod project;
pub mod time;

pub use error::ErrorCode;
pub use id::{ApiKeyId, ProjectId};
pub use project::{ApiKeyRecord, Project};
pub use time::Timestamp;
