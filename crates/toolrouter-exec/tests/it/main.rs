//! The exec crate's integration tests, in one binary to keep link time down: the request-case
//! runner over every built-in toolkit, the runner checked on a toolkit of our own, and the
//! executor's behaviour on the wire (SSRF guard, timeouts, size cap, redirects, failures).

mod builtin;
mod cases;
mod execution;
mod own_toolkit;
mod stand_in;
