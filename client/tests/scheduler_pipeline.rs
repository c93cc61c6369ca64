//! The contract of the pipelined calls (see the module docs of
//! `mesos_client::scheduler`): an update is acknowledged only after `update`
//! returned for it, exactly once per delivery; queued acknowledgements are
//! sent before TEARDOWN and before `run` returns, never after TEARDOWN; the
//! queue is bounded (backpressure); a failed acknowledgement is reported (a
//! 403, 503 or 307 makes the driver re-subscribe, another refusal is logged
//! and the driver goes on: the agent re-sends the update); after a
//! reconnection the updates the master re-sends are acknowledged again, once
//! each; over https the acknowledgements share one kept-alive connection.
//!
//! No timing is asserted. Waits have deadlines only so that a bug fails the
//! test instead of hanging it.

mod scheduler_peer;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mesos_client::{Scheduler, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::TaskStatus;
use mesos_proto::v1::scheduler::event;
use scheduler_peer::*;

/// The task id an ACKNOWLEDGE request names.
fn acked_task(request: &Request) -> String {
    let call = request.call();
    call.acknowledge.expect("ACKNOWLEDGE payload").task_id.value
}

/// Task ids of the ACKNOWLEDGEs among `requests`, in the order received.
fn acks(requests: &[Request]) -> Vec<String> {
    of_type(requests, "ACKNOWLEDGE")
        .into_iter()
        .map(acked_task)
        .collect()
}

fn tasks(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i}")).collect()
}

/// Waits (polling) until `ready` holds; panics after 10 s.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Records which update callbacks have returned; the peer checks every
/// ACKNOWLEDGE against it.
#[derive(Default)]
struct Returned(Mutex<HashSet<String>>);

struct CheckingScheduler {
    returned: Arc<Returned>,
    seen: Vec<String>,
    /// Stop (this way) when this task's update has been handled.
    stop_on: Option<(String, StopMode)>,
    /// Call `teardown()` from inside this task's update callback.
    teardown_in: Option<String>,
}

impl Scheduler for CheckingScheduler {
    fn update(
        &mut self,
        handle: &SchedulerHandle,
        status: &TaskStatus,
    ) -> mesos_client::Result<()> {
        let task = status.task_id.value.clone();
        // A synchronous call in the middle of the callback: it goes out (and
        // is answered) while this callback runs, so an acknowledgement sent
        // too early would reach the peer before we mark the callback done.
        handle.revive(vec![]).expect("REVIVE accepted");
        if self.teardown_in.as_ref() == Some(&task) {
            handle.teardown().expect("TEARDOWN accepted");
        }
        self.seen.push(task.clone());
        if let Some((stop_task, mode)) = &self.stop_on
            && *stop_task == task
        {
            handle.stop(*mode);
        }
        self.returned.0.lock().unwrap().insert(task);
        Ok(())
    }
}

/// A master that streams SUBSCRIBED and one update per task, then holds the
/// stream; it answers every call 202 and counts ACKNOWLEDGEs that arrive
/// before their update's callback returned.
fn checking_master(n: usize, returned: Arc<Returned>, early: Arc<AtomicUsize>) -> Peer {
    let mut events = vec![subscribed(15.0)];
    events.extend((0..n).map(|i| update_numbered(&format!("t{i}"), i as u8)));
    Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &events, After::Hold),
        "ACKNOWLEDGE" => {
            if !returned.0.lock().unwrap().contains(&acked_task(request)) {
                early.fetch_add(1, Ordering::SeqCst);
            }
            Reply::accepted()
        }
        _ => Reply::accepted(),
    })
}

#[test]
fn each_update_is_acknowledged_once_in_order_after_its_callback_and_before_run_returns() {
    let n = 40;
    let returned = Arc::new(Returned::default());
    let early = Arc::new(AtomicUsize::new(0));
    let peer = checking_master(n, returned.clone(), early.clone());
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let scheduler = CheckingScheduler {
        returned,
        seen: Vec::new(),
        stop_on: Some((format!("t{}", n - 1), StopMode::Failover)),
        teardown_in: None,
    };
    let (result, scheduler) = run_with_deadline(driver, scheduler);
    result.unwrap();
    assert_eq!(scheduler.seen, tasks(n));
    // Read right after `run` returned: every acknowledgement is there
    // already (flushed before `run` returns), once, in order.
    let requests = peer.requests();
    assert_eq!(acks(&requests), tasks(n));
    assert_eq!(early.load(Ordering::SeqCst), 0, "acknowledged too early");
    for ack in of_type(&requests, "ACKNOWLEDGE") {
        assert_eq!(ack.header("mesos-stream-id"), Some("s0"));
    }
    assert!(of_type(&requests, "TEARDOWN").is_empty());
}

#[test]
fn stop_with_teardown_sends_every_queued_acknowledgement_first() {
    let n = 40;
    let returned = Arc::new(Returned::default());
    let early = Arc::new(AtomicUsize::new(0));
    let peer = checking_master(n, returned.clone(), early.clone());
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let scheduler = CheckingScheduler {
        returned,
        seen: Vec::new(),
        stop_on: Some((format!("t{}", n - 1), StopMode::Teardown)),
        teardown_in: None,
    };
    let (result, _) = run_with_deadline(driver, scheduler);
    result.unwrap();
    let requests = peer.requests();
    let kinds: Vec<&str> = requests
        .iter()
        .map(Request::call_type)
        .filter(|kind| *kind != "REVIVE")
        .collect();
    // SUBSCRIBE, then the n acknowledgements, then TEARDOWN, last.
    assert_eq!(kinds.len(), n + 2, "{kinds:?}");
    assert_eq!(kinds[0], "SUBSCRIBE");
    assert!(
        kinds[1..=n].iter().all(|k| *k == "ACKNOWLEDGE"),
        "{kinds:?}"
    );
    assert_eq!(kinds[n + 1], "TEARDOWN");
    assert_eq!(acks(&requests), tasks(n));
    assert_eq!(early.load(Ordering::SeqCst), 0, "acknowledged too early");
}

#[test]
fn nothing_is_acknowledged_after_a_teardown_from_a_callback() {
    let n = 40;
    let returned = Arc::new(Returned::default());
    let early = Arc::new(AtomicUsize::new(0));
    let peer = checking_master(n, returned.clone(), early.clone());
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    // TEARDOWN from inside the callback of t9: t0..t8 are acknowledged
    // before it, t9 (its callback returned after TEARDOWN) never.
    let scheduler = CheckingScheduler {
        returned,
        seen: Vec::new(),
        stop_on: None,
        teardown_in: Some("t9".into()),
    };
    let (result, scheduler) = run_with_deadline(driver, scheduler);
    result.unwrap();
    assert_eq!(scheduler.seen.last().map(String::as_str), Some("t9"));
    let requests = peer.requests();
    let teardown = requests
        .iter()
        .position(|r| r.call_type() == "TEARDOWN")
        .expect("a TEARDOWN");
    assert_eq!(acks(&requests[..teardown]), tasks(9));
    assert!(
        requests[teardown + 1..].is_empty(),
        "requests after TEARDOWN: {:?}",
        requests[teardown + 1..]
            .iter()
            .map(Request::call_type)
            .collect::<Vec<_>>()
    );
    assert_eq!(early.load(Ordering::SeqCst), 0, "acknowledged too early");
}

/// At most this many acknowledgements are on the wire at once (the batch
/// size documented in `mesos_client::scheduler`), besides the queue.
const ON_THE_WIRE: usize = 64;

#[test]
fn a_full_queue_slows_the_scheduler_down() {
    // The master answers an ACKNOWLEDGE only when the test lets it; the
    // scheduler notes, at each update, how many had been answered. With a
    // queue of `queued`, update i can only start once acknowledgements
    // 0..i-1 are queued or answered: answered >= i - queued - ON_THE_WIRE.
    let n = 200;
    let queued = 4;
    let answered = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate) = crossbeam_channel::unbounded::<()>();
    let mut events = vec![subscribed(15.0)];
    events.extend((0..n).map(|i| update_numbered(&format!("t{i}"), i as u8)));
    let count = answered.clone();
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &events, After::Hold),
        "ACKNOWLEDGE" => {
            // Deadline only to fail instead of hanging.
            if gate.recv_timeout(Duration::from_secs(10)).is_err() {
                return Reply::status(503, "test gate never opened");
            }
            count.fetch_add(1, Ordering::SeqCst);
            Reply::accepted()
        }
        _ => Reply::accepted(),
    });

    struct Noting {
        answered: Arc<AtomicUsize>,
        at_update: Arc<Mutex<Vec<usize>>>,
        n: usize,
    }
    impl Scheduler for Noting {
        fn subscribed(
            &mut self,
            _: &SchedulerHandle,
            _: &event::Subscribed,
        ) -> mesos_client::Result<()> {
            Ok(())
        }
        fn update(&mut self, handle: &SchedulerHandle, _: &TaskStatus) -> mesos_client::Result<()> {
            let mut at = self.at_update.lock().unwrap();
            at.push(self.answered.load(Ordering::SeqCst));
            if at.len() == self.n {
                handle.stop(StopMode::Failover);
            }
            Ok(())
        }
    }
    let at_update = Arc::new(Mutex::new(Vec::new()));
    let mut config = fast_config(&peer.addr());
    config.max_queued_calls = queued;
    let driver = SchedulerDriver::new(config).unwrap();
    let scheduler = Noting {
        answered: answered.clone(),
        at_update: at_update.clone(),
        n,
    };
    let runner = thread::spawn(move || run_with_deadline(driver, scheduler));
    // Open the gate one acknowledgement at a time, each time only once the
    // scheduler has gone at least as far as a full queue lets it (one on the
    // wire, `queued` waiting, one more being queued by the blocked callback).
    for _ in 0..n {
        let done = answered.load(Ordering::SeqCst);
        let reached = (done + queued + 2).min(n);
        wait_until("the scheduler to fill the queue", || {
            at_update.lock().unwrap().len() >= reached
        });
        gate_tx.send(()).unwrap();
        wait_until("the answer", || answered.load(Ordering::SeqCst) > done);
    }
    let (result, _) = runner.join().unwrap();
    result.unwrap();
    let at_update = at_update.lock().unwrap();
    assert_eq!(at_update.len(), n);
    for (i, answered) in at_update.iter().enumerate() {
        assert!(
            *answered + queued + ON_THE_WIRE >= i,
            "update {i} ran with only {answered} acknowledgement(s) answered"
        );
    }
    assert_eq!(acks(&peer.requests()), tasks(n));
}

#[test]
fn a_refused_acknowledgement_is_logged_and_the_driver_goes_on() {
    // A refusal the master would repeat (here a 400) ends nothing: the update
    // stays unacknowledged, so its agent sends it again, and the run goes on
    // to the next event, as after any refused call.
    let events = vec![subscribed(15.0), update_numbered("t0", 0), heartbeat()];
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &events, After::Hold),
        "ACKNOWLEDGE" => Reply::status(400, "Failed to validate scheduler::Call: bad uuid"),
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("heartbeat", StopMode::Failover);
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [
            format!("subscribed {FRAMEWORK_ID}"),
            "update t0 TASK_RUNNING".into(),
            "heartbeat".into(),
        ]
    );
    assert_eq!(of_type(&peer.requests(), "ACKNOWLEDGE").len(), 1);
}

#[test]
fn a_refused_acknowledgement_does_not_hold_back_the_next_ones() {
    // t0's acknowledgement is refused (400: the master would refuse it
    // again); the subscription goes on, so the acknowledgements of t1 and
    // t2, which the master streams only after it refused t0's, are still
    // sent.
    let (feed, records) = crossbeam_channel::unbounded::<Vec<u8>>();
    feed.send(update_numbered("t0", 0).into_bytes()).unwrap();
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &[subscribed(15.0)], After::Feed(records.clone())),
        "ACKNOWLEDGE" if acked_task(request) == "t0" => {
            for (task, n) in [("t1", 1), ("t2", 2)] {
                feed.send(update_numbered(task, n).into_bytes()).unwrap();
            }
            Reply::status(400, "Failed to validate scheduler::Call: bad uuid")
        }
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("update t2 TASK_RUNNING", StopMode::Failover);
    let (result, _) = run_with_deadline(driver, recorder);
    result.unwrap();
    // Flushed before `run` returned.
    assert_eq!(acks(&peer.requests()), ["t0", "t1", "t2"]);
}

#[test]
fn after_a_503_acknowledgement_the_resent_update_is_acknowledged_again_once() {
    resent_update_is_acknowledged_again_once(503, "Master is not the leader");
}

/// A stream the master cut (a fault, or a subscriber that fell behind): the
/// next call on it is answered 403, and the driver subscribes again.
#[test]
fn after_a_403_acknowledgement_the_resent_update_is_acknowledged_again_once() {
    resent_update_is_acknowledged_again_once(403, "Framework is not subscribed");
}

fn resent_update_is_acknowledged_again_once(status: u16, reason: &'static str) {
    // Stream 0 delivers t0 and t1; the master answers t1's ACKNOWLEDGE with
    // `status` (failing over, or the stream is gone), so the driver
    // re-subscribes. Stream 1 re-sends t1, which was not acknowledged:
    // acknowledged once more, on stream 1.
    let subscribes = Arc::new(AtomicUsize::new(0));
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => match subscribes.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json_stream(
                "s0",
                &[
                    subscribed(15.0),
                    update_numbered("t0", 0),
                    update_numbered("t1", 1),
                ],
                After::Hold,
            ),
            _ => Reply::json_stream(
                "s1",
                &[subscribed(15.0), update_numbered("t1", 1), heartbeat()],
                After::Hold,
            ),
        },
        "ACKNOWLEDGE"
            if request.header("mesos-stream-id") == Some("s0") && acked_task(request) == "t1" =>
        {
            Reply::status(status, reason)
        }
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let recorder = Recorder::stopping_on("heartbeat", StopMode::Failover);
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [
            format!("subscribed {FRAMEWORK_ID}"),
            "update t0 TASK_RUNNING".into(),
            "update t1 TASK_RUNNING".into(),
            "disconnected".into(),
            format!("subscribed {FRAMEWORK_ID}"),
            "update t1 TASK_RUNNING".into(),
            "heartbeat".into(),
        ]
    );
    let requests = peer.requests();
    let by_stream: Vec<(String, String)> = of_type(&requests, "ACKNOWLEDGE")
        .into_iter()
        .map(|r| {
            (
                r.header("mesos-stream-id").unwrap_or("").to_string(),
                acked_task(r),
            )
        })
        .collect();
    assert_eq!(
        by_stream,
        [
            ("s0".to_string(), "t0".to_string()),
            ("s0".into(), "t1".into()),
            ("s1".into(), "t1".into()),
        ]
    );
}

#[test]
fn over_https_acknowledgements_are_pipelined_on_a_kept_alive_connection() {
    let n = 30;
    let (ca_pem, server) = ca_and_server();
    let mut events = vec![subscribed(15.0)];
    events.extend((0..n).map(|i| update_numbered(&format!("t{i}"), i as u8)));
    let master = Peer::start_tls(
        move |request: &Request| match request.call_type() {
            "SUBSCRIBE" => Reply::json_stream("tls", &events, After::Hold),
            _ => Reply::accepted(),
        },
        server,
    );
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let mut config = fast_config(&format!("https://{}", master.addr()));
    config.ca_file = Some(ca_file);
    let driver = SchedulerDriver::new(config).unwrap();
    let recorder = Recorder::stopping_on(
        &format!("update t{} TASK_RUNNING", n - 1),
        StopMode::Teardown,
    );
    let (result, _) = run_with_deadline(driver, recorder);
    result.unwrap();
    let requests = master.requests();
    assert_eq!(acks(&requests), tasks(n));
    assert_eq!(requests.last().map(Request::call_type), Some("TEARDOWN"));
    // The acknowledgements and TEARDOWN share one kept-alive TLS connection.
    let connections: HashSet<usize> = requests[1..].iter().map(|r| r.connection).collect();
    assert_eq!(connections.len(), 1, "{connections:?}");
}

#[test]
fn an_acknowledgement_answered_307_sends_the_driver_to_the_new_leader() {
    // B is the new leader; it re-sends t0, whose acknowledgement A refused.
    let b = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream(
            "b",
            &[subscribed(15.0), update_numbered("t0", 0), heartbeat()],
            After::Hold,
        ),
        _ => Reply::accepted(),
    });
    let leader = format!("http://{}/api/v1/scheduler", b.addr());
    let subscribes = Arc::new(AtomicUsize::new(0));
    let a = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" if subscribes.fetch_add(1, Ordering::SeqCst) == 0 => Reply::json_stream(
            "a",
            &[subscribed(15.0), update_numbered("t0", 0)],
            After::Hold,
        ),
        // No longer the leader: everything goes to B now.
        _ => Reply::redirect(&leader),
    });
    let driver = SchedulerDriver::new(fast_config(&a.addr())).unwrap();
    let recorder = Recorder::stopping_on("heartbeat", StopMode::Failover);
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [
            format!("subscribed {FRAMEWORK_ID}"),
            "update t0 TASK_RUNNING".into(),
            "disconnected".into(),
            format!("subscribed {FRAMEWORK_ID}"),
            "update t0 TASK_RUNNING".into(),
            "heartbeat".into(),
        ]
    );
    let at_a = a.requests();
    let at_b = b.requests();
    assert_eq!(acks(&at_a), ["t0"], "the refused one");
    assert_eq!(
        acks(&at_b),
        ["t0"],
        "acknowledged again, once, at the leader"
    );
    for ack in of_type(&at_b, "ACKNOWLEDGE") {
        assert_eq!(ack.header("mesos-stream-id"), Some("b"));
    }
}
