//! Starting devcluster for the conformance tests: short intervals, port 0, and the
//! master's `host:port` for the raw HTTP client.

use devcluster::{Cluster, ClusterConfig};

/// A cluster with `agents` default agents and the test intervals of
/// [`ClusterConfig::for_tests`].
pub fn start(agents: usize) -> (Cluster, String) {
    start_with(agents, |_| {})
}

/// Like [`start`], after `tweak` adjusted the configuration.
pub fn start_with(agents: usize, tweak: impl FnOnce(&mut ClusterConfig)) -> (Cluster, String) {
    let mut cfg = ClusterConfig::for_tests(agents);
    tweak(&mut cfg);
    let cluster = Cluster::start(cfg).expect("devcluster starts");
    let addr = crate::http::host_port(&cluster.master_url());
    (cluster, addr)
}
