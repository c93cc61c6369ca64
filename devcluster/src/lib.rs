//! devcluster: a local Mesos-compatible cluster in one process.
#![forbid(unsafe_code)]
pub mod http;
