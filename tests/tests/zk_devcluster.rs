//! devcluster registered in a real ZooKeeper (`devcluster --zk`): a driver
//! given only `zk://.../mesos` finds the leading master there, and follows
//! it when the leader fails over (issue "zk:// masters", items 1 and 2).

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use devcluster::{Cluster, ClusterConfig};
use e2e_tests::zk::ZkServer;
use mesos_client::masters::Endpoint;
use mesos_client::zk::{Detection, LeaderDetector, ZkUrl};
use mesos_client::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::FrameworkInfo;
use mesos_proto::v1::scheduler::event;

const WAIT: Duration = Duration::from_secs(20);

/// Reports each SUBSCRIBED's master port; stops after `until` of them.
struct Watch {
    ports: mpsc::Sender<u32>,
    seen: usize,
    until: usize,
}

impl Scheduler for Watch {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        let port = subscribed.master_info.as_ref().map_or(0, |m| m.port);
        let _ = self.ports.send(port);
        self.seen += 1;
        if self.seen == self.until {
            handle.stop(StopMode::Teardown);
        }
        Ok(())
    }
}

fn port_of(url: &str) -> u32 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[test]
fn a_driver_finds_devclusters_leader_in_zookeeper_and_follows_a_failover() {
    let Some(server) = ZkServer::start_or_skip("zk_devcluster") else {
        return;
    };
    let zk_url = server.url("/mesos");
    let cluster = Cluster::start(ClusterConfig {
        masters: 2,
        zk: Some(zk_url.clone()),
        ..ClusterConfig::for_tests(1)
    })
    .expect("devcluster starts and registers in ZooKeeper");
    let masters: Vec<u32> = cluster.master_urls().iter().map(|u| port_of(u)).collect();

    // What any Mesos-aware tool sees: the lowest member is master 0.
    let detector =
        LeaderDetector::start(ZkUrl::parse(&zk_url).unwrap(), Duration::from_secs(5)).unwrap();
    let leader = |d: &LeaderDetector| match d.wait(WAIT) {
        Detection::Leader(endpoint) => Some(endpoint_port(&endpoint)),
        _ => None,
    };
    assert_eq!(leader(&detector), Some(masters[0]));

    let info = FrameworkInfo {
        user: "nobody".into(),
        name: "zk".into(),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(zk_url.clone(), info);
    config.backoff_min = Duration::from_millis(20);
    config.backoff_max = Duration::from_millis(200);
    let (ports, seen) = mpsc::channel();
    let runner = thread::spawn(move || {
        let mut driver = SchedulerDriver::new(config)?;
        driver.run(&mut Watch {
            ports,
            seen: 0,
            until: 2,
        })
    });

    assert_eq!(
        seen.recv_timeout(WAIT).expect("first SUBSCRIBED"),
        masters[0]
    );
    cluster.fail_over_leader();
    // The old leader's member is gone and it registered again behind master 1.
    let deadline = std::time::Instant::now() + WAIT;
    while leader(&detector) != Some(masters[1]) {
        assert!(
            std::time::Instant::now() < deadline,
            "ZooKeeper never named master 1"
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        seen.recv_timeout(WAIT)
            .expect("SUBSCRIBED after the failover"),
        masters[1]
    );
    runner.join().unwrap().expect("the driver stops cleanly");
}

fn endpoint_port(endpoint: &Endpoint) -> u32 {
    u32::from(endpoint.port)
}
