//! Domain vocabulary shared by every toolrouter crate: typed ids, timestamps, the error-code
//! table, the project/API-key model, auth configs and connected accounts, and account
//! selection.
//!
//! Pure by design: no IO and no async runtime, so everything here is testable in microseconds
//! and safe to depend on from any layer.

pub mod auth;
pub mod error;
pub mod id;
pub mod project;
pub mod selection;
pub mod session;
pub mod time;

pub use auth::{AccountStatus, AuthConfig, AuthConfigOrigin, ConnectedAccount, OAuthState};
pub use error::ErrorCode;
pub use id::{ApiKeyId, AuthConfigId, ConnectedAccountId, ProjectId, SessionId};
pub use project::{ApiKeyRecord, Project};
pub use time::Timestamp;
