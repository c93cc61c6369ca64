//! devcluster's HTTP request handling from arbitrary bytes: each input is what one
//! client sends on one connection (any number of pipelined requests), served by a
//! running cluster through the same reader, router, call handling and response framing
//! as a socket (`Cluster::serve_bytes`).
//!
//! Input: the first byte picks the server (even: the leading master, odd: an agent), the
//! rest is the connection's bytes. To reach past "framework not subscribed", the harness
//! keeps a framework of its own subscribed (see `harness.rs`) and replaces the tokens
//! `$FID`, `$SID`, `$AID`, `$OID`, `$TID`, `$EID`, `$UUID` with its current framework id,
//! stream id, an agent id, an offer id, a task id, an executor id and an update's uuid,
//! fixing each body's `Content-Length` (the seeds, made by `seeds/make_http_seeds.py`
//! from the Mesos 1.12 fixtures, use them).
//!
//! What must hold: no panic anywhere in the cluster (libFuzzer's panic hook aborts even
//! where the server would catch it and answer 500), every answer is an HTTP/1.x
//! response, and no process is ever started (the cluster simulates tasks, so nothing the
//! fuzzer asks for runs on this machine).
#![no_main]

mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    harness::with_cluster(|h| {
        let input = h.substitute(bytes);
        let agent = selector % 2 == 1;
        let Some(out) = h.cluster().serve_bytes(agent, 0, &input) else {
            return; // that agent was lost (a fault the input injected)
        };
        assert!(
            out.is_empty() || out.starts_with(b"HTTP/1.1 ") || out.starts_with(b"HTTP/1.0 "),
            "not an HTTP response: {:?}",
            String::from_utf8_lossy(&out[..out.len().min(200)])
        );
        assert!(
            h.cluster().running_pids().is_empty(),
            "a process was started in simulated-task mode"
        );
    });
});
