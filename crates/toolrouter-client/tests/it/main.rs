//! The client against a local stand-in server: every flow's requests (method, path, query,
//! headers, body) compared with what the official SDKs send (CONTRACT.md traces), the answers
//! read as the contract shapes them, and model tool calls run end to end for each provider,
//! custom tools included. One binary, to keep link time down.

mod agent;
mod sessions;
mod stand_in;
