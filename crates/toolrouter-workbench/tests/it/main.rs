//! Integration tests of the workbench: real sandboxes (bubblewrap, cgroups, seccomp) started
//! as root, driven through the public API. One binary for the whole crate (link time on 2
//! cores); each test builds its own workbench with its own uids and cgroup, so tests run in
//! parallel without seeing each other.

mod bash;
mod bridge;
mod containment;
mod egress;
mod fallback;
mod harness;
mod lifecycle;
mod python;
