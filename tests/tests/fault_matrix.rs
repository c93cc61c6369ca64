//! The fault matrix: one test per failure a framework meets in production, each injected
//! into devcluster while a batch of jobs runs (the job framework of
//! [`e2e_tests::jobs`], on `mesos-client`'s `SchedulerDriver`). Every row asserts that
//! nothing was lost:
//! - every launched task reached a terminal state that the framework saw;
//! - every status update that carried a uuid was acknowledged (counted by the framework,
//!   and checked on the agents: no executor is left holding an unacknowledged update);
//! - every job completed, at once or after being retried.
//!
//! The table (scenario, what Mesos does, what our framework does) is in
//! `docs/reliability.md` ("Fault matrix"). The last rows play the executor side against a
//! small fake agent built on devcluster's HTTP server.
//!
//! Timings are shortened through `ClusterConfig` (status update retries 1 s, allocation
//! 100 ms, heartbeats 200 ms where heartbeats matter); the deadlines below only turn a
//! hang into a failure.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devcluster::http::{Request, Response, Server, ServerConfig, StreamItem};
use devcluster::{Cluster, ClusterConfig};
use e2e_tests::http;
use e2e_tests::jobs::{JobsConfig, Ledger, Runner, assert_agents_drained};
use mesos_client::executor::ExecutorEnv;
use mesos_client::{Executor, ExecutorDriver, ExecutorHandle};
use mesos_proto::v1::executor::{Call, Event, call, event};
use mesos_proto::v1::{
    AgentInfo, ExecutorId, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskState,
};
use mesos_proto::{ContentType, recordio};

/// A whole row normally takes 2-12 s; this only keeps a broken one from hanging.
const RUN: Duration = Duration::from_secs(40);
/// For one step (tasks running, a fault noticed).
const STEP: Duration = Duration::from_secs(15);

/// Jobs per row: enough that some are running when the fault hits.
const JOBS: usize = 6;

fn cluster(tweak: impl FnOnce(&mut ClusterConfig)) -> Cluster {
    let mut cfg = ClusterConfig::for_tests(2);
    tweak(&mut cfg);
    Cluster::start(cfg).expect("devcluster starts")
}

fn masters(cluster: &Cluster) -> String {
    cluster.master_urls().join(",")
}

/// Waits until at least `n` tasks run.
fn running(runner: &Runner, n: usize) -> Ledger {
    runner.wait_until(STEP, "running tasks", |l| l.running().len() >= n)
}

/// Finishes the run and checks "nothing lost" from both sides.
fn finish(runner: Runner, cluster: &Cluster) -> Ledger {
    let ledger = runner.finish(RUN);
    // One line per row in the test output: what the fault cost.
    eprintln!(
        "summary: {} subscriptions, {} disconnections, {} tasks for {JOBS} jobs, \
         {} duplicate updates, {} failed acks, {} failed calls, terminal states {:?}",
        ledger.subscriptions,
        ledger.disconnections.len(),
        ledger.launched.len(),
        ledger.duplicates,
        ledger.ack_errors.len(),
        ledger.call_errors.len(),
        ledger
            .terminal
            .values()
            .fold(std::collections::BTreeMap::new(), |mut m, s| {
                *m.entry(s.as_str_name()).or_insert(0) += 1;
                m
            }),
    );
    ledger.assert_nothing_lost(JOBS);
    let fw = ledger.framework_id.clone().expect("subscribed");
    assert_agents_drained(&cluster.agent_urls(), &fw, STEP);
    ledger
}

/// Baseline: no fault. Every job finishes at the first attempt.
#[test]
fn no_fault_baseline() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 0.2"));
    let l = finish(runner, &cluster);
    assert!(l.attempts.values().all(|a| *a == 1), "{l:#?}");
    assert_eq!(l.subscriptions, 1);
}

/// The only master restarts while tasks run: it forgets the framework, agents register
/// again with their tasks, the framework resubscribes with its id and reconciles.
#[test]
fn master_restart() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1"));
    running(&runner, 2);
    cluster.restart_master();
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "resubscribed: {l:#?}");
    assert!(!l.disconnections.is_empty());
}

/// Leadership moves from master 0 to master 1 of three: the stream breaks, the driver
/// tries the masters in turn (a non-leader answers 307), and resubscribes to the new one.
#[test]
fn leader_failover_among_three_masters() {
    let cluster = cluster(|c| c.masters = 3);
    let before = cluster.master_url();
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1"));
    running(&runner, 2);
    cluster.fail_over_leader();
    assert_ne!(cluster.master_url(), before, "a new leader");
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "{l:#?}");
}

/// Every subscription stream is cut between records.
#[test]
fn subscription_stream_cut() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1"));
    running(&runner, 2);
    cluster.cut_streams(false);
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "{l:#?}");
}

/// Every subscription stream is cut in the middle of a RecordIO record: the driver must
/// see a broken stream (not a short event) and resubscribe.
#[test]
fn subscription_stream_cut_mid_record() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1"));
    running(&runner, 2);
    cluster.cut_streams(true);
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "{l:#?}");
}

/// Heartbeats stop while the stream stays open (a half-dead connection). With a 200 ms
/// heartbeat and 5 missed heartbeats allowed, the driver must give up on the stream
/// within about 1 s, long before the stall ends, and resubscribe.
#[test]
fn heartbeats_stalled() {
    let cluster = cluster(|c| c.heartbeat_interval = Duration::from_millis(200));
    // Tasks long enough that no update arrives during the stall (any event counts as a
    // sign of life).
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 5"));
    running(&runner, JOBS);
    let stall = Duration::from_secs(3);
    let injected = Instant::now();
    cluster.stall_heartbeats(stall);
    let l = runner.wait_until(STEP, "a disconnection", |l| {
        l.disconnections.iter().any(|t| *t > injected)
    });
    let noticed = l
        .disconnections
        .iter()
        .find(|t| **t > injected)
        .expect("a disconnection");
    assert!(
        noticed.duration_since(injected) < stall,
        "noticed only after the stall ended: {:?}",
        noticed.duration_since(injected)
    );
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "{l:#?}");
}

/// No leader for 10 s: streams break and every request to the scheduler endpoint is
/// answered 503 (SUBSCRIBE, ACCEPT, ACKNOWLEDGE alike). Offers the framework could not
/// answer are taken back by the master's offer timeout.
#[test]
fn no_leader_503_for_ten_seconds() {
    let cluster = cluster(|c| c.offer_timeout = Some(Duration::from_secs(2)));
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1"));
    running(&runner, 2);
    let window = Duration::from_secs(10);
    cluster.unavailable_for(window);
    cluster.cut_streams(false);
    let injected = Instant::now();
    let l = finish(runner, &cluster);
    assert!(
        injected.elapsed() >= window,
        "finished inside the 503 window?"
    );
    assert!(l.subscriptions >= 2, "{l:#?}");
}

/// The agent running tasks dies: the master declares its tasks lost (no uuid: nothing to
/// acknowledge), the framework retries those jobs on the other agent.
#[test]
fn agent_lost_with_running_tasks() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 2"));
    let l = running(&runner, 1);
    let task = &l.running()[0];
    let agent = &l.launched[task].1;
    let index = cluster
        .agent_ids()
        .iter()
        .position(|a| a == agent)
        .expect("known agent");
    assert!(cluster.lose_agent(index));
    let l = finish(runner, &cluster);
    assert_eq!(l.terminal.get(task), Some(&TaskState::TaskLost), "{l:#?}");
    assert!(l.attempts.values().any(|a| *a >= 2), "retried: {l:#?}");
}

/// A task's process is killed (for a command task, the executor is the task): the agent
/// reports TASK_FAILED, reliably; the framework acknowledges and retries the job.
#[test]
fn executor_crash() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 2"));
    let l = running(&runner, 1);
    let task = l.running()[0].clone();
    let fw = l.framework_id.clone().expect("subscribed");
    assert!(cluster.crash_executor(&fw, &task), "crash {task}");
    let l = finish(runner, &cluster);
    assert_eq!(
        l.terminal.get(&task),
        Some(&TaskState::TaskFailed),
        "{l:#?}"
    );
    let job = l.launched[&task].0;
    assert!(l.attempts[&job] >= 2, "{l:#?}");
}

/// The master rescinds an offer just as the framework accepts it: the ACCEPT names a
/// rescinded offer, so its tasks are dropped (an update without uuid, REASON_INVALID_OFFERS)
/// and the framework retries them with the next offer.
#[test]
fn offer_rescinded_while_accepting() {
    let cluster = cluster(|_| {});
    let master = http::host_port(&cluster.master_url());
    let done = Arc::new(AtomicBool::new(false));
    let mut config = JobsConfig::new(masters(&cluster), JOBS, "sleep 0.2");
    let once = done.clone();
    config.before_accept = Some(Box::new(move |offer| {
        if once.swap(true, Ordering::SeqCst) {
            return;
        }
        // The HTTP fault endpoint: what a test of any framework, in any language, can use.
        let path = format!("/devcluster/faults/rescind-offer?arg={}", offer.id.value);
        let r = http::request(&master, "POST", &path, &[], Some(b"")).expect("fault endpoint");
        assert_eq!(r.status(), 200, "{}", r.text());
    }));
    let runner = Runner::start(config);
    let l = finish(runner, &cluster);
    assert!(done.load(Ordering::SeqCst));
    assert!(l.rescinds >= 1, "{l:#?}");
    let dropped: Vec<_> = l
        .terminal
        .iter()
        .filter(|(_, s)| matches!(s, TaskState::TaskLost | TaskState::TaskDropped))
        .collect();
    assert!(!dropped.is_empty(), "tasks of the rescinded offer: {l:#?}");
    assert!(l.attempts.values().any(|a| *a >= 2), "{l:#?}");
}

/// Two faults back to back: the stream is cut mid-record and then the master restarts,
/// while a task crashes. The same invariants hold.
#[test]
fn combined_faults() {
    let cluster = cluster(|_| {});
    let runner = Runner::start(JobsConfig::new(masters(&cluster), JOBS, "sleep 1.5"));
    let l = running(&runner, 2);
    let fw = l.framework_id.clone().expect("subscribed");
    let task = l.running()[0].clone();
    cluster.cut_streams(true);
    assert!(cluster.crash_executor(&fw, &task));
    std::thread::sleep(Duration::from_millis(300));
    cluster.restart_master();
    let l = finish(runner, &cluster);
    assert!(l.subscriptions >= 2, "{l:#?}");
}

// ---- The executor side ---------------------------------------------------------------

/// What the fake agent saw.
#[derive(Default)]
struct AgentLog {
    subscribes: Vec<Call>,
    updates: Vec<Call>,
    stream: Option<crossbeam_channel::Sender<StreamItem>>,
}

const FW: &str = "fw-1";
const EXEC: &str = "exec-1";
const TASK: &str = "task-1";

fn json_record(e: &Event) -> StreamItem {
    StreamItem::Chunk(recordio::encode(&ContentType::Json.encode(e)))
}

fn subscribed_event() -> Event {
    let mut e = Event::default();
    e.set_type(event::Type::Subscribed);
    e.subscribed = Some(event::Subscribed {
        executor_info: ExecutorInfo {
            executor_id: ExecutorId { value: EXEC.into() },
            ..Default::default()
        },
        framework_info: FrameworkInfo {
            user: "root".into(),
            name: "fake".into(),
            ..Default::default()
        },
        agent_info: AgentInfo {
            hostname: "localhost".into(),
            ..Default::default()
        },
        container_id: None,
    });
    e
}

fn launch_event() -> Event {
    let mut e = Event::default();
    e.set_type(event::Type::Launch);
    e.launch = Some(event::Launch {
        task: TaskInfo {
            name: TASK.into(),
            task_id: TaskId { value: TASK.into() },
            ..Default::default()
        },
    });
    e
}

fn acknowledged_event(uuid: &[u8]) -> Event {
    let mut e = Event::default();
    e.set_type(event::Type::Acknowledged);
    e.acknowledged = Some(event::Acknowledged {
        task_id: TaskId { value: TASK.into() },
        uuid: uuid.to_vec(),
    });
    e
}

/// A fake agent's executor endpoint: records calls, streams SUBSCRIBED (+ LAUNCH on the
/// first subscription), answers updates 202 without acknowledging them (the test does),
/// and answers 503 "not finished recovery" while `recovering` is set.
fn fake_agent(addr: SocketAddr, log: Arc<Mutex<AgentLog>>, recovering: Arc<AtomicBool>) -> Server {
    let handler = move |req: Request| -> Response {
        if recovering.load(Ordering::SeqCst) {
            return Response::text(503, "Agent has not finished recovery");
        }
        let Ok(c) = ContentType::Json.decode::<Call>(&req.body) else {
            return Response::text(400, "bad call");
        };
        let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
        match c.r#type() {
            call::Type::Subscribe => {
                let first = log.subscribes.is_empty();
                log.subscribes.push(c);
                let (tx, rx) = crossbeam_channel::unbounded();
                let _ = tx.send(json_record(&subscribed_event()));
                if first {
                    let _ = tx.send(json_record(&launch_event()));
                }
                log.stream = Some(tx);
                Response::stream(200, "application/json", rx)
            }
            call::Type::Update => {
                log.updates.push(c);
                Response::empty(202)
            }
            _ => Response::empty(202),
        }
    };
    let mut cfg = ServerConfig::new(addr);
    cfg.max_body_bytes = 1 << 20;
    Server::start(cfg, Arc::new(handler)).expect("fake agent starts")
}

/// Reports RUNNING at launch; the rest is the driver's default behaviour.
struct Runs;

impl Executor for Runs {
    fn launch(&mut self, handle: &ExecutorHandle, task: TaskInfo) -> mesos_client::Result<()> {
        let _ = handle.update(&task.task_id, TaskState::TaskRunning, "");
        Ok(())
    }
}

fn wait_for(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !pred() {
        assert!(Instant::now() < deadline, "no {what} within {STEP:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn executor_env(addr: SocketAddr, recovery: &str) -> ExecutorEnv {
    let dir = std::env::temp_dir().display().to_string();
    ExecutorEnv::from_vars([
        ("MESOS_FRAMEWORK_ID", FW),
        ("MESOS_EXECUTOR_ID", EXEC),
        ("MESOS_AGENT_ENDPOINT", &addr.to_string()),
        ("MESOS_DIRECTORY", &dir),
        ("MESOS_CHECKPOINT", "1"),
        ("MESOS_RECOVERY_TIMEOUT", recovery),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms"),
    ])
    .expect("executor environment")
}

/// The agent goes away (connections drop, the port refuses) and comes back within the
/// recovery timeout, first answering 503 while it "recovers". The executor (framework
/// checkpoints) resubscribes and its SUBSCRIBE lists the unacknowledged update and the
/// unacknowledged task, so the agent can resend them; once acknowledged, nothing is
/// pending and a SHUTDOWN ends the executor cleanly.
#[test]
fn executor_agent_restarts_within_recovery_timeout() {
    let log = Arc::new(Mutex::new(AgentLog::default()));
    let recovering = Arc::new(AtomicBool::new(false));
    let server = fake_agent(
        "127.0.0.1:0".parse().unwrap(),
        log.clone(),
        recovering.clone(),
    );
    let addr = server.local_addr();
    let driver = ExecutorDriver::new(executor_env(addr, "10secs"));
    let exec = std::thread::spawn(move || driver.run(&mut Runs));
    let lock = || log.lock().unwrap_or_else(|p| p.into_inner());
    wait_for("RUNNING update", || !lock().updates.is_empty());
    let running_uuid = lock().updates[0]
        .update
        .as_ref()
        .and_then(|u| u.status.uuid.clone())
        .expect("uuid");

    // The agent dies: every connection drops, nothing listens for a while.
    lock().stream = None;
    server.shutdown();
    std::thread::sleep(Duration::from_millis(500));
    // It comes back, recovering first (503), then serving.
    recovering.store(true, Ordering::SeqCst);
    let server = fake_agent(addr, log.clone(), recovering.clone());
    std::thread::sleep(Duration::from_millis(300));
    recovering.store(false, Ordering::SeqCst);
    wait_for("a second SUBSCRIBE", || lock().subscribes.len() >= 2);

    let again = lock().subscribes[1]
        .subscribe
        .clone()
        .expect("subscribe payload");
    let resent: Vec<_> = again
        .unacknowledged_updates
        .iter()
        .filter_map(|u| u.status.uuid.clone())
        .collect();
    assert_eq!(
        resent,
        vec![running_uuid.clone()],
        "unacknowledged updates resent"
    );
    assert_eq!(
        again
            .unacknowledged_tasks
            .iter()
            .map(|t| t.task_id.value.as_str())
            .collect::<Vec<_>>(),
        vec![TASK],
        "unacknowledged tasks listed"
    );

    // Acknowledge, then shut the executor down: it reports the task killed and leaves
    // once that update is acknowledged too.
    let send = |e: &Event| {
        if let Some(tx) = &lock().stream {
            let _ = tx.send(json_record(e));
        }
    };
    send(&acknowledged_event(&running_uuid));
    let mut shutdown = Event::default();
    shutdown.set_type(event::Type::Shutdown);
    send(&shutdown);
    wait_for("the KILLED update", || lock().updates.len() >= 2);
    let killed = lock().updates[1].update.clone().expect("update").status;
    assert_eq!(killed.state(), TaskState::TaskKilled);
    send(&acknowledged_event(killed.uuid.as_deref().expect("uuid")));
    wait_for("the executor to end", || exec.is_finished());
    let result = exec.join().expect("executor thread");
    assert!(result.is_ok(), "{result:?}");
    server.shutdown();
}

/// The agent does not come back within the recovery timeout: the executor gives up with
/// an error instead of retrying forever (the agent, when it returns, treats it as gone).
#[test]
fn executor_agent_gone_past_recovery_timeout() {
    let log = Arc::new(Mutex::new(AgentLog::default()));
    let recovering = Arc::new(AtomicBool::new(false));
    let server = fake_agent("127.0.0.1:0".parse().unwrap(), log.clone(), recovering);
    let addr = server.local_addr();
    let driver = ExecutorDriver::new(executor_env(addr, "1secs"));
    let exec = std::thread::spawn(move || driver.run(&mut Runs));
    wait_for("RUNNING update", || {
        !log.lock()
            .unwrap_or_else(|p| p.into_inner())
            .updates
            .is_empty()
    });
    log.lock().unwrap_or_else(|p| p.into_inner()).stream = None;
    server.shutdown();
    wait_for("the executor to give up", || exec.is_finished());
    let result = exec.join().expect("executor thread");
    assert!(result.is_err(), "expected an error, got {result:?}");
}

// ---- The same faults under the ETL runner of chapter 15 ------------------------------
//
// `ch19_etl_runner::run(config) -> Outcome` is a complete framework with its own
// retry and reconciliation logic; it tears down at the end, so the acknowledgement checks
// stay with the rows above. Here: every job done exactly once (one finished attempt),
// none given up, every attempt ended.

mod etl {
    use super::*;
    use ch19_etl_runner::{Config, JobState, Outcome};

    const ETL_JOBS: usize = 6;

    /// The running tasks the leading master lists: (framework id, task id, agent id).
    fn running_tasks(cluster: &Cluster) -> Vec<(String, String, String)> {
        let master = http::host_port(&cluster.master_url());
        let Ok(r) = http::request(&master, "GET", "/tasks", &[], None) else {
            return Vec::new();
        };
        if r.status() != 200 {
            return Vec::new();
        }
        let v = r.json();
        v["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["state"] == "TASK_RUNNING")
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
                (s("framework_id"), s("id"), s("slave_id"))
            })
            .collect()
    }

    /// Runs the ETL runner against `cluster`, applies `fault` once a task runs, and
    /// checks the outcome.
    fn row(cluster: &Cluster, cmd: &str, fault: impl FnOnce(&Cluster)) -> Outcome {
        row_with(cluster, cmd, |_| {}, fault)
    }

    /// [`row`] with a configuration adjusted by `tweak`.
    fn row_with(
        cluster: &Cluster,
        cmd: &str,
        tweak: impl FnOnce(&mut Config),
        fault: impl FnOnce(&Cluster),
    ) -> Outcome {
        let mut config = Config::new(cmd);
        config.master = masters(cluster);
        config.jobs = ETL_JOBS;
        config.maxtasks = 3;
        config.max_retries = 5;
        config.retry_backoff = (Duration::from_millis(50), Duration::from_millis(200));
        config.reconnect_backoff = (Duration::from_millis(50), Duration::from_millis(500));
        config.reconcile_delay = Duration::from_millis(300);
        config.refuse_seconds = 0.1;
        tweak(&mut config);
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send(ch19_etl_runner::run(config).map_err(|e| e.to_string()));
        });
        let deadline = Instant::now() + STEP;
        while running_tasks(cluster).is_empty() {
            assert!(Instant::now() < deadline, "no task ran within {STEP:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        fault(cluster);
        let outcome = rx
            .recv_timeout(RUN)
            .expect("the ETL runner did not finish in time")
            .expect("the ETL runner ran to the end");
        eprintln!(
            "etl summary: {} subscriptions, attempts {:?}",
            outcome.subscriptions,
            outcome
                .jobs
                .iter()
                .map(|j| j.attempts.len())
                .collect::<Vec<_>>()
        );
        assert_eq!(outcome.completed(), ETL_JOBS, "{outcome:#?}");
        assert!(outcome.gave_up().is_empty(), "{outcome:#?}");
        for job in &outcome.jobs {
            assert_eq!(job.state, JobState::Done, "{job:?}");
            assert_eq!(
                outcome.finished_attempts(job.index),
                1,
                "ran twice: {job:?}"
            );
            for a in &job.attempts {
                assert!(a.state.is_terminal(), "attempt never ended: {a:?}");
            }
        }
        outcome
    }

    #[test]
    fn etl_master_restart() {
        let cluster = cluster(|_| {});
        let o = row(&cluster, "sleep 1", |c| c.restart_master());
        assert!(o.subscriptions >= 2, "{o:#?}");
    }

    #[test]
    fn etl_leader_failover_among_three_masters() {
        let cluster = cluster(|c| c.masters = 3);
        let o = row(&cluster, "sleep 1", |c| c.fail_over_leader());
        assert!(o.subscriptions >= 2, "{o:#?}");
    }

    #[test]
    fn etl_subscription_stream_cut_mid_record() {
        let cluster = cluster(|_| {});
        let o = row(&cluster, "sleep 1", |c| c.cut_streams(true));
        assert!(o.subscriptions >= 2, "{o:#?}");
    }

    #[test]
    fn etl_heartbeats_stalled() {
        let cluster = cluster(|c| c.heartbeat_interval = Duration::from_millis(200));
        // All jobs at once and long refusals: once they run, nothing but heartbeats
        // would arrive, so the stall is the only silence.
        let tweak = |c: &mut Config| {
            c.maxtasks = ETL_JOBS;
            c.refuse_seconds = 30.0;
        };
        let o = row_with(&cluster, "sleep 3", tweak, |c| {
            std::thread::sleep(Duration::from_millis(300));
            c.stall_heartbeats(Duration::from_secs(2));
        });
        assert!(o.subscriptions >= 2, "{o:#?}");
    }

    #[test]
    fn etl_no_leader_503_for_ten_seconds() {
        let cluster = cluster(|c| c.offer_timeout = Some(Duration::from_secs(2)));
        let o = row(&cluster, "sleep 1", |c| {
            c.unavailable_for(Duration::from_secs(10));
            c.cut_streams(false);
        });
        assert!(o.subscriptions >= 2, "{o:#?}");
    }

    #[test]
    fn etl_agent_lost_with_running_tasks() {
        let cluster = cluster(|_| {});
        let o = row(&cluster, "sleep 2", |c| {
            let (_, _, agent) = running_tasks(c).remove(0);
            let index = c
                .agent_ids()
                .iter()
                .position(|a| *a == agent)
                .expect("agent");
            assert!(c.lose_agent(index));
        });
        assert!(
            o.jobs.iter().any(|j| j.attempts.len() >= 2),
            "retried: {o:#?}"
        );
    }

    #[test]
    fn etl_executor_crash() {
        let cluster = cluster(|_| {});
        let o = row(&cluster, "sleep 2", |c| {
            let (fw, task, _) = running_tasks(c).remove(0);
            assert!(c.crash_executor(&fw, &task));
        });
        assert!(
            o.jobs.iter().any(|j| j.attempts.len() >= 2),
            "retried: {o:#?}"
        );
    }
}
