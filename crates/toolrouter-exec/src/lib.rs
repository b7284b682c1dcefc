//! Runs a tool against a third-party HTTP API: turns a tool definition and a call's arguments
//! into a request ([`plan`]), sends it through a client that only reaches public addresses
//! unless the operator allows more ([`Executor`], [`OutboundPolicy`]), and shapes the response
//! into a [`ToolOutcome`].
//!
//! This crate owns outbound HTTP for tools; nothing else in toolrouter sends a tool's request.
//! Credentials arrive typed ([`Credentials`], secret values as `secrecy::SecretString`) and
//! leave only on the wire: never in `Debug` output, logs or outcome messages.
//!
//! It also owns the workbench's egress proxy ([`serve_egress`]): when the operator enables
//! network access for sandboxes, their HTTP(S) goes through it, checked by an [`OutboundPolicy`].

mod credentials;
mod egress;
mod encode;
mod execute;
mod guard;
mod idle;
mod outcome;
mod plan;
mod proxy;
mod transform;

pub use credentials::{CredentialValue, Credentials};
pub use egress::{EgressConfig, bind_egress_socket, serve_egress};
pub use execute::{BuildError, Executor, ExecutorConfig};
pub use guard::{InvalidNet, IpNet, OutboundPolicy, Refused, non_public_reason};
pub use http::Method;
pub use outcome::{FailureKind, NextPage, ToolOutcome};
pub use plan::{PlanError, PlanInput, PlannedRequest, plan};
pub use proxy::{
    ProxyBody, ProxyError, ProxyInput, ProxyResponse, ProxyResponseBody, resolve_endpoint,
};
