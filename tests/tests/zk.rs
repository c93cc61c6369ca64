//! ZooKeeper leader detection against a real ZooKeeper server (Debian's
//! `zookeeper` package, see `e2e_tests::zk`): the client's `zk://` masters
//! and devcluster's registrar.
//!
//! Members are created the way Mesos masters create them (fact sheet §6.3):
//! ephemeral sequential `json.info_<10 digits>` znodes under the path, whose
//! data is the MasterInfo JSON with keys in alphabetical order; the lowest
//! sequence leads.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use devcluster::zk::ZkRegistrar;
use e2e_tests::zk::ZkServer;
use mesos_client::masters::Endpoint;
use mesos_client::zk::{Detection, LeaderDetector, ZkUrl};
use mesos_client::{Error, Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{Address, FrameworkInfo, MasterInfo};
use zookeeper::{Acl, CreateMode, ZooKeeper, ZooKeeperExt};

/// Short sessions keep the tests fast (the test server allows >= 400 ms).
const SESSION: Duration = Duration::from_secs(2);
/// Every wait fails the test after this long instead of hanging.
const WAIT: Duration = Duration::from_secs(10);

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
    let zk = ZooKeeper::connect(&server.address(), SESSION, |_| {}).expect("connect");
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
    let url = ZkUrl::parse(&server.url("/mesos")).unwrap();
    let detector = LeaderDetector::start(url, SESSION).unwrap();
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

/// A master stand-in: answers SUBSCRIBE with SUBSCRIBED and holds the
/// stream; counts subscriptions and keeps their bodies.
struct FakeMaster {
    port: u16,
    subscribes: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FakeMaster {
    fn start() -> FakeMaster {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let subscribes = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, done) = (subscribes.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (seen, done) = (seen.clone(), done.clone());
                thread::spawn(move || serve(stream, port, &seen, &done));
            }
        });
        FakeMaster {
            port,
            subscribes,
            stop,
        }
    }

    fn subscribes(&self) -> Vec<String> {
        self.subscribes.lock().unwrap().clone()
    }
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes accept()
    }
}

fn serve(stream: TcpStream, port: u16, seen: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut out = stream;
    if !body.contains("\"SUBSCRIBE\"") {
        let _ = out.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    seen.lock().unwrap().push(body);
    let event = r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"zk-test-0000"},"heartbeat_interval_seconds":15.0}}"#;
    let record = mesos_proto::recordio::encode(event.as_bytes());
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMesos-Stream-Id: stream-{port}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        record.len()
    );
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&record);
    let _ = out.write_all(b"\r\n");
    // Hold the stream open until the test ends or the client leaves.
    while !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(50));
    }
}

/// Drops the leader's member at the first SUBSCRIBED, stops at the second.
struct Failover {
    leader: Option<MesosMember>,
    subscribed: Arc<AtomicUsize>,
}

impl Scheduler for Failover {
    fn subscribed(&mut self, handle: &SchedulerHandle, _: &event::Subscribed) {
        if self.subscribed.fetch_add(1, Ordering::SeqCst) == 0 {
            drop(self.leader.take());
        } else {
            handle.stop(StopMode::Failover);
        }
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

    let info = FrameworkInfo {
        user: "root".into(),
        name: "zk-test".into(),
        failover_timeout: Some(60.0),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(server.url("/mesos"), info);
    config.zk_timeout = SESSION;
    config.request_timeout = Duration::from_secs(3);
    config.backoff_min = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(100);
    config.max_reconnect_attempts = Some(50);
    let mut driver = SchedulerDriver::new(config).unwrap();
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
    assert!(at_b[0].contains("zk-test-0000"), "{}", at_b[0]);
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
