//! Master detection against a real ZooKeeper server (Debian's
//! `zookeeper` package, see `e2e_tests::zk`): the client's `zk://` masters
//! and devcluster's registrar.
//!
//! Members are created the way Mesos masters create them (fact sheet §6.3):
//! ephemeral sequential `json.info_<10 digits>` znodes under the path, whose
//! data is the MasterInfo JSON with keys in alphabetical order; the lowest
//! sequence leads.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use devcluster::zk::ZkRegistrar;
use e2e_tests::fake_master::{FRAMEWORK_ID, FakeMaster, WAIT, fast_config, run_driver};
use e2e_tests::zk::ZkServer;
use mesos_client::masters::Endpoint;
use mesos_client::zk::{Detection, LeaderDetector, ZkUrl};
use mesos_client::{Error, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{Address, FrameworkInfo, MasterInfo};
use zookeeper::{Acl, CreateMode, ZooKeeper, ZooKeeperExt};

/// Short sessions keep the tests fast (the test server allows >= 400 ms).
const SESSION: Duration = Duration::from_secs(2);

/// A MasterInfo as a Mesos 1.12 master writes it into ZooKeeper.
fn master_info(port: u16) -> String {
    format!(
        r#"{{"address":{{"hostname":"localhost","ip":"127.0.0.1","port":{port}}},"hostname":"localhost","id":"master-{port}","ip":16777343,"pid":"master@127.0.0.1:{port}","port":{port},"version":"1.12.0"}}"#
    )
}

/// A stand-in for one Mesos master's ZooKeeper session: its own session and
/// member znode. Dropping it closes the session, which removes the
/// ephemeral member, as when a master dies.
struct MesosMember {
    _zk: ZooKeeper,
    znode: String,
}

fn mesos_member(server: &ZkServer, path: &str, port: u16) -> MesosMember {
    mesos_member_at(&server.address(), path, port)
}

fn mesos_member_at(zk_address: &str, path: &str, port: u16) -> MesosMember {
    let zk = ZooKeeper::connect(zk_address, SESSION, |_| {}).expect("connect");
    zk.ensure_path(path).expect("create the path");
    let znode = zk
        .create(
            &format!("{path}/json.info_"),
            master_info(port).into_bytes(),
            Acl::open_unsafe().clone(),
            CreateMode::EphemeralSequential,
        )
        .expect("create the member");
    MesosMember { _zk: zk, znode }
}

fn endpoint(port: u16) -> Endpoint {
    Endpoint::parse(&format!("127.0.0.1:{port}")).unwrap()
}

fn wait_for(detector: &LeaderDetector, want: &Detection) {
    let deadline = Instant::now() + WAIT;
    while detector.detection() != *want {
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} for {want:?}; have {:?}",
            detector.detection()
        );
        let _ = detector.changes().recv_timeout(Duration::from_millis(50));
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "waited {WAIT:?} for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn detector_follows_the_lowest_member() {
    let Some(server) = ZkServer::start_or_skip("detector_follows_the_lowest_member") else {
        return;
    };
    // The first server of the list is down: the detector uses the other.
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("zk://{down},{}/mesos", server.address());
    let detector = LeaderDetector::start(ZkUrl::parse(&url).unwrap(), SESSION).unwrap();
    // No path yet: no leader, and the detector watches for the path.
    assert!(matches!(
        detector.wait(Duration::from_millis(500)),
        Detection::NoLeader(_)
    ));

    let first = mesos_member(&server, "/mesos", 5051);
    let second = mesos_member(&server, "/mesos", 5052);
    assert!(
        first.znode < second.znode,
        "{} {}",
        first.znode,
        second.znode
    );
    // Other children are not members (Mesos keeps its replicated log there).
    let admin = ZooKeeper::connect(&server.address(), SESSION, |_| {}).unwrap();
    admin
        .create(
            "/mesos/log_replicas",
            vec![],
            Acl::open_unsafe().clone(),
            CreateMode::Persistent,
        )
        .unwrap();
    wait_for(&detector, &Detection::Leader(endpoint(5051)));

    // The leader's session ends: ZooKeeper removes its ephemeral member and
    // the next one leads.
    drop(first);
    wait_for(&detector, &Detection::Leader(endpoint(5052)));
    assert!(
        admin
            .exists("/mesos/log_replicas", false)
            .unwrap()
            .is_some()
    );

    drop(second);
    let deadline = Instant::now() + WAIT;
    while !matches!(detector.detection(), Detection::NoLeader(_)) {
        assert!(Instant::now() < deadline, "{:?}", detector.detection());
        thread::sleep(Duration::from_millis(20));
    }
    let third = mesos_member(&server, "/mesos", 5053);
    wait_for(&detector, &Detection::Leader(endpoint(5053)));
    drop(third);
}

/// Drops the leader's member at the first SUBSCRIBED, stops at the second.
struct Failover {
    leader: Option<MesosMember>,
    subscribed: Arc<AtomicUsize>,
}

impl Scheduler for Failover {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        if self.subscribed.fetch_add(1, Ordering::SeqCst) == 0 {
            drop(self.leader.take());
        } else {
            handle.stop(StopMode::Failover);
        }
        Ok(())
    }
}

#[test]
fn driver_moves_to_the_new_leader() {
    let Some(server) = ZkServer::start_or_skip("driver_moves_to_the_new_leader") else {
        return;
    };
    let (a, b) = (FakeMaster::start(), FakeMaster::start());
    let leader = mesos_member(&server, "/mesos", a.port);
    let _next = mesos_member(&server, "/mesos", b.port);

    let mut driver = SchedulerDriver::new(fast_config(server.url("/mesos"), None)).unwrap();
    let subscribed = Arc::new(AtomicUsize::new(0));
    let mut scheduler = Failover {
        leader: Some(leader),
        subscribed: subscribed.clone(),
    };
    let (tx, rx) = crossbeam_channel::bounded(1);
    thread::spawn(move || {
        let _ = tx.send(driver.run(&mut scheduler));
    });
    let result = rx
        .recv_timeout(WAIT)
        .expect("the driver did not return in time");
    result.unwrap();

    assert_eq!(subscribed.load(Ordering::SeqCst), 2);
    assert_eq!(
        a.subscribes().len(),
        1,
        "one subscription at the first leader"
    );
    let at_b = b.subscribes();
    assert_eq!(at_b.len(), 1, "then one at the new leader");
    // The new leader is asked to resume the same framework (fact sheet §1.10).
    assert!(at_b[0].contains(FRAMEWORK_ID), "{}", at_b[0]);
}

#[test]
fn registrar_members_are_found_by_the_client() {
    let Some(server) = ZkServer::start_or_skip("registrar_members_are_found_by_the_client") else {
        return;
    };
    let zk_url = server.url("/devcluster/test/mesos");
    let registrar = ZkRegistrar {
        session_timeout: SESSION,
    };
    // Keys deliberately out of order: the registrar sorts them.
    let unsorted = r#"{"port":5061,"id":"m1","address":{"port":5061,"ip":"127.0.0.1"}}"#;
    let first = registrar.register(&zk_url, unsorted).unwrap();
    let info = MasterInfo {
        id: "m2".into(),
        ip: 16777343,
        port: 5062,
        hostname: Some("localhost".into()),
        address: Some(Address {
            hostname: Some("localhost".into()),
            ip: Some("127.0.0.1".into()),
            port: 5062,
        }),
        ..Default::default()
    };
    let second = registrar.register_master(&zk_url, &info).unwrap();

    // Named and stored as a Mesos master's member.
    let name = first.znode().rsplit('/').next().unwrap();
    assert_eq!(name.len(), "json.info_".len() + 10, "{name}");
    assert!(name.starts_with("json.info_"), "{name}");
    assert!(second.sequence() > first.sequence());
    let admin = ZooKeeper::connect(&server.address(), SESSION, |_| {}).unwrap();
    let (data, _) = admin.get_data(first.znode(), false).unwrap();
    assert_eq!(
        String::from_utf8(data).unwrap(),
        r#"{"address":{"ip":"127.0.0.1","port":5061},"id":"m1","port":5061}"#
    );
    let (data, _) = admin.get_data(second.znode(), false).unwrap();
    let data = String::from_utf8(data).unwrap();
    assert!(data.starts_with(r#"{"address":{"hostname":"localhost","ip":"127.0.0.1","port":5062},"hostname":"localhost","id":"m2","ip":16777343"#), "{data}");

    assert!(first.is_leader());
    assert!(!second.is_leader());
    assert_eq!(
        second.leader_info().as_deref(),
        Some(&*first.leader_info().unwrap())
    );
    let url = ZkUrl::parse(&zk_url).unwrap();
    let detector = LeaderDetector::start(url, SESSION).unwrap();
    wait_for(&detector, &Detection::Leader(endpoint(5061)));

    // Failover: the leader deregisters; the follower is told it leads.
    let told = Arc::new(AtomicBool::new(false));
    let flag = told.clone();
    second.on_change(move |state| flag.store(state.leading, Ordering::SeqCst));
    let gone = first.znode().to_string();
    drop(first);
    assert!(
        admin.exists(&gone, false).unwrap().is_none(),
        "deleted at once"
    );
    wait_until("the follower to lead", || told.load(Ordering::SeqCst));
    assert!(second.is_leader());
    wait_for(&detector, &Detection::Leader(endpoint(5062)));
    drop(second);
    wait_until("no members", || {
        admin
            .get_children("/devcluster/test/mesos", false)
            .unwrap()
            .is_empty()
    });
}

#[test]
fn a_member_is_ephemeral() {
    let Some(server) = ZkServer::start_or_skip("a_member_is_ephemeral") else {
        return;
    };
    let member = mesos_member(&server, "/mesos", 5071);
    let admin = ZooKeeper::connect(&server.address(), SESSION, |_| {}).unwrap();
    assert!(admin.exists(&member.znode, false).unwrap().is_some());
    let znode = member.znode.clone();
    drop(member); // the session ends without deleting anything
    wait_until("ZooKeeper to remove the member", || {
        admin.exists(&znode, false).unwrap().is_none()
    });
}

#[test]
fn without_zookeeper_there_is_no_leader() {
    // A port nobody listens on (no ZooKeeper needed for this test).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("zk://127.0.0.1:{port}/mesos");
    let detector = LeaderDetector::start(ZkUrl::parse(&url).unwrap(), SESSION).unwrap();
    let detection = detector.wait(Duration::from_millis(300));
    assert!(
        matches!(detection, Detection::NoLeader(_) | Detection::Pending),
        "{detection:?}"
    );

    let info = FrameworkInfo {
        user: "root".into(),
        name: "zk-test".into(),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(url.clone(), info);
    config.zk_timeout = Duration::from_millis(300);
    let result = SchedulerDriver::new(config);
    assert!(matches!(result, Err(Error::Transport(_))), "{result:?}");

    let registered = ZkRegistrar::default().register(&url, "{}");
    assert!(registered.is_err());
}

/// Drops the only leader's member at the first SUBSCRIBED and registers
/// another master a little later; stops at the second SUBSCRIBED.
struct LeaderlessWhile {
    leader: Option<MesosMember>,
    zk_address: String,
    next_port: u16,
    next: crossbeam_channel::Sender<MesosMember>,
    subscribed: usize,
}

impl Scheduler for LeaderlessWhile {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        self.subscribed += 1;
        if self.subscribed > 1 {
            handle.stop(StopMode::Failover);
            return Ok(());
        }
        drop(self.leader.take());
        let (address, port, next) = (self.zk_address.clone(), self.next_port, self.next.clone());
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(500));
            let _ = next.send(mesos_member_at(&address, "/mesos", port));
        });
        Ok(())
    }
}

#[test]
fn driver_waits_while_there_is_no_leader() {
    let Some(server) = ZkServer::start_or_skip("driver_waits_while_there_is_no_leader") else {
        return;
    };
    let (a, b) = (FakeMaster::start(), FakeMaster::start());
    let (next, later) = crossbeam_channel::bounded(1);
    let scheduler = LeaderlessWhile {
        leader: Some(mesos_member(&server, "/mesos", a.port)),
        zk_address: server.address(),
        next_port: b.port,
        next,
        subscribed: 0,
    };
    let scheduler = run_driver(fast_config(server.url("/mesos"), None), scheduler);
    assert_eq!(scheduler.subscribed, 2);
    assert_eq!(a.subscribes().len(), 1);
    assert_eq!(
        b.subscribes().len(),
        1,
        "subscribed at the master that came later"
    );
    drop(later.recv_timeout(WAIT).expect("the second member"));
}

#[test]
fn detector_survives_a_zookeeper_outage() {
    let Some(mut server) = ZkServer::start_or_skip("detector_survives_a_zookeeper_outage") else {
        return;
    };
    let url = ZkUrl::parse(&server.url("/mesos")).unwrap();
    let detector = LeaderDetector::start(url, SESSION).unwrap();
    let member = mesos_member(&server, "/mesos", 5081);
    wait_for(&detector, &Detection::Leader(endpoint(5081)));

    // ZooKeeper goes away for longer than the session timeout: the leader
    // is reported gone (its master would have lost its session too).
    server.stop();
    let deadline = Instant::now() + WAIT;
    while !matches!(detector.detection(), Detection::NoLeader(_)) {
        assert!(Instant::now() < deadline, "{:?}", detector.detection());
        thread::sleep(Duration::from_millis(50));
    }
    let gone = member.znode.clone();
    drop(member);

    // ZooKeeper is back and a master registers: the detector finds it. (The
    // old member may linger until the server expires its session, or longer
    // if the client library revives that session: remove it ourselves.)
    server.restart().unwrap();
    let admin = ZooKeeper::connect(&server.address(), SESSION, |_| {}).unwrap();
    let _ = admin.delete(&gone, None);
    let _member = mesos_member(&server, "/mesos", 5082);
    wait_for(&detector, &Detection::Leader(endpoint(5082)));
}
