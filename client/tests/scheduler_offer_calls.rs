//! The contract of the answers to offers sent in the background (see the
//! module docs of `mesos_client::scheduler`): `launch` and `decline` return
//! once queued, not once answered; a refusal reaches
//! `Scheduler::call_failed` with the offers and tasks it named; one that
//! ends the subscription is followed by a new SUBSCRIBE; calls keep the
//! order they were made in (a KILL after a LAUNCH, TEARDOWN after both);
//! the queue is bounded (backpressure).
//!
//! No timing is asserted. Waits have deadlines only so that a bug fails the
//! test instead of hanging it.

mod scheduler_peer;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mesos_client::tasks::TaskBuilder;
use mesos_client::{Error, FailedCall, Scheduler, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::{call, event};
use mesos_proto::v1::{Offer, TaskId};
use scheduler_peer::*;

/// The task ids an ACCEPT request launches.
fn launched(request: &Request) -> Vec<String> {
    let accept = request.call().accept.expect("ACCEPT payload");
    accept
        .operations
        .iter()
        .flat_map(|op| op.launch.iter().flat_map(|l| &l.task_infos))
        .map(|task| task.task_id.value.clone())
        .collect()
}

/// Launches one task per offer, then does `after` (with the task's id);
/// records what it saw, including what `launch` returned.
struct Launcher {
    seen: Vec<String>,
    after: fn(&SchedulerHandle, &TaskId),
    /// Stop (keeping the framework) once this label has been recorded.
    stop_on: &'static str,
}

impl Launcher {
    fn new(after: fn(&SchedulerHandle, &TaskId), stop_on: &'static str) -> Launcher {
        Launcher {
            seen: Vec::new(),
            after,
            stop_on,
        }
    }

    fn note(&mut self, handle: &SchedulerHandle, label: String) {
        if label.starts_with(self.stop_on) {
            handle.stop(StopMode::Failover);
        }
        self.seen.push(label);
    }
}

impl Scheduler for Launcher {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        self.note(handle, "subscribed".into());
        Ok(())
    }

    fn offers(&mut self, handle: &SchedulerHandle, offers: &[Offer]) -> mesos_client::Result<()> {
        for offer in offers {
            let id = format!("task-{}", self.seen.len());
            let task = TaskBuilder::command(offer, "true").id(&id).build();
            let task_id = task.task_id.clone();
            let returned = match handle.launch(offer, vec![task]) {
                Ok(()) => "Ok".to_string(),
                Err(err) => format!("Err {err}"),
            };
            self.note(handle, format!("launch {id}: {returned}"));
            (self.after)(handle, &task_id);
        }
        Ok(())
    }

    fn call_failed(
        &mut self,
        handle: &SchedulerHandle,
        failed: &FailedCall,
    ) -> mesos_client::Result<()> {
        let status = match &failed.error {
            Error::Http { status, .. } => status.to_string(),
            other => format!("{other:?}"),
        };
        let tasks: Vec<&str> = failed.task_ids.iter().map(|t| t.value.as_str()).collect();
        let offers: Vec<&str> = failed.offer_ids.iter().map(|o| o.value.as_str()).collect();
        self.note(
            handle,
            format!(
                "call_failed {} {status} tasks {tasks:?} offers {offers:?}",
                failed.kind.as_str_name()
            ),
        );
        Ok(())
    }

    fn heartbeat(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.note(handle, "heartbeat".into());
        Ok(())
    }

    fn disconnected(&mut self, handle: &SchedulerHandle) -> mesos_client::Result<()> {
        self.note(handle, "disconnected".into());
        Ok(())
    }
}

const OFFER_ID: &str = "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-O0";

#[test]
fn launch_returns_once_queued_and_a_refusal_reaches_call_failed() {
    // The master refuses the ACCEPT with a 400 (a malformed call). `launch`
    // returned before that answer, so it returned Ok; the refusal comes back
    // through `call_failed`, naming the offer and the task, and the driver
    // goes on (a 400 ends nothing).
    let peer = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &[subscribed(15.0), offers()], After::Hold),
        "ACCEPT" => Reply::status(400, "Failed to validate scheduler::Call: bad"),
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let launcher = Launcher::new(|_, _| {}, "call_failed");
    let (result, launcher) = run_with_deadline(driver, launcher);
    result.unwrap();
    assert_eq!(
        launcher.seen,
        [
            "subscribed".to_string(),
            "launch task-1: Ok".into(),
            format!("call_failed ACCEPT 400 tasks [\"task-1\"] offers [\"{OFFER_ID}\"]"),
        ]
    );
    let requests = peer.requests();
    assert_eq!(launched(of_type(&requests, "ACCEPT")[0]), ["task-1"]);
}

#[test]
fn an_accept_answered_403_is_reported_and_the_driver_subscribes_again() {
    // A 403 means the master no longer has this stream: the launch is
    // reported as failed, then the subscription is over and the driver
    // subscribes again (where the next offer's launch succeeds).
    let subscribes = Arc::new(AtomicUsize::new(0));
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => match subscribes.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json_stream("s0", &[subscribed(15.0), offers()], After::Hold),
            _ => Reply::json_stream(
                "s1",
                &[subscribed(15.0), offers(), heartbeat()],
                After::Hold,
            ),
        },
        "ACCEPT" if request.header("mesos-stream-id") == Some("s0") => {
            Reply::status(403, "Framework is not subscribed")
        }
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let launcher = Launcher::new(|_, _| {}, "heartbeat");
    let (result, launcher) = run_with_deadline(driver, launcher);
    result.unwrap();
    assert_eq!(
        launcher.seen,
        [
            "subscribed".to_string(),
            "launch task-1: Ok".into(),
            format!("call_failed ACCEPT 403 tasks [\"task-1\"] offers [\"{OFFER_ID}\"]"),
            "disconnected".into(),
            "subscribed".into(),
            "launch task-5: Ok".into(),
            "heartbeat".into(),
        ]
    );
    let accepted: Vec<(String, Vec<String>)> = of_type(&peer.requests(), "ACCEPT")
        .into_iter()
        .map(|r| {
            (
                r.header("mesos-stream-id").unwrap_or("").to_string(),
                launched(r),
            )
        })
        .collect();
    assert_eq!(
        accepted,
        [
            ("s0".to_string(), vec!["task-1".to_string()]),
            ("s1".into(), vec!["task-5".into()]),
        ]
    );
}

#[test]
fn a_kill_after_a_launch_reaches_the_master_after_it_and_teardown_comes_last() {
    // In one callback: launch (queued), kill the same task (waits for its
    // answer, after the ACCEPT's), TEARDOWN (after both). The master must see
    // them in that order, or it would be asked to kill a task it never heard
    // of.
    let peer = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &[subscribed(15.0), offers()], After::Hold),
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let launcher = Launcher::new(
        |handle, task_id| {
            handle.kill(task_id).expect("KILL accepted");
            handle.teardown().expect("TEARDOWN accepted");
        },
        "never",
    );
    let (result, launcher) = run_with_deadline(driver, launcher);
    result.unwrap();
    assert_eq!(launcher.seen, ["subscribed", "launch task-1: Ok"]);
    let requests = peer.requests();
    let kinds: Vec<&str> = requests.iter().map(Request::call_type).collect();
    assert_eq!(kinds, ["SUBSCRIBE", "ACCEPT", "KILL", "TEARDOWN"]);
    let kill = requests[2].call().kill.expect("KILL payload");
    assert_eq!(kill.task_id.value, "task-1");
}

/// At most this many calls wait in the queue of answers to offers, and at
/// most `ON_THE_WIRE` more are written and unanswered (both documented in
/// `mesos_client::scheduler`).
const QUEUED: usize = 16;
const ON_THE_WIRE: usize = 16;

#[test]
fn a_full_queue_of_offer_answers_slows_the_scheduler_down() {
    // The master answers an ACCEPT only when the test lets it. One offers
    // callback launches `n` times; before each launch it notes how many
    // ACCEPTs had been answered. Launch i can only return once i - QUEUED -
    // ON_THE_WIRE - 1 have been answered: the queue is bounded.
    let n = 200;
    let answered = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate) = crossbeam_channel::unbounded::<()>();
    let count = answered.clone();
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &[subscribed(15.0), offers()], After::Hold),
        "ACCEPT" => {
            // Deadline only to fail instead of hanging.
            if gate.recv_timeout(Duration::from_secs(10)).is_err() {
                return Reply::status(503, "test gate never opened");
            }
            count.fetch_add(1, Ordering::SeqCst);
            Reply::accepted()
        }
        _ => Reply::accepted(),
    });

    struct Flooding {
        answered: Arc<AtomicUsize>,
        at_launch: Arc<Mutex<Vec<usize>>>,
        n: usize,
    }
    impl Scheduler for Flooding {
        fn offers(
            &mut self,
            handle: &SchedulerHandle,
            offers: &[Offer],
        ) -> mesos_client::Result<()> {
            for i in 0..self.n {
                let task = TaskBuilder::command(&offers[0], "true")
                    .id(format!("t{i}"))
                    .build();
                handle.launch(&offers[0], vec![task])?;
                let answered = self.answered.load(Ordering::SeqCst);
                self.at_launch.lock().unwrap().push(answered);
            }
            handle.stop(StopMode::Failover);
            Ok(())
        }
    }
    let at_launch = Arc::new(Mutex::new(Vec::new()));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let scheduler = Flooding {
        answered: answered.clone(),
        at_launch: at_launch.clone(),
        n,
    };
    let runner = thread::spawn(move || run_with_deadline(driver, scheduler));
    // Open the gate one ACCEPT at a time, each time only once the scheduler
    // has gone as far as a full queue lets it.
    let deadline = Instant::now() + Duration::from_secs(12);
    for _ in 0..n {
        let done = answered.load(Ordering::SeqCst);
        // (One batch on the wire, at least one call, and the queue full.)
        let reached = (done + QUEUED + 1).min(n);
        while at_launch.lock().unwrap().len() < reached {
            assert!(Instant::now() < deadline, "the scheduler stopped launching");
            thread::sleep(Duration::from_millis(1));
        }
        gate_tx.send(()).unwrap();
        while answered.load(Ordering::SeqCst) <= done {
            assert!(Instant::now() < deadline, "no answer");
            thread::sleep(Duration::from_millis(1));
        }
    }
    let (result, _) = runner.join().unwrap();
    result.unwrap();
    let at_launch = at_launch.lock().unwrap();
    assert_eq!(at_launch.len(), n);
    for (i, answered) in at_launch.iter().enumerate() {
        assert!(
            answered + QUEUED + ON_THE_WIRE + 1 >= i,
            "launch {i} returned with only {answered} ACCEPT(s) answered"
        );
    }
    // Every launch was sent, once, in order, before `run` returned.
    let sent: Vec<Vec<String>> = of_type(&peer.requests(), "ACCEPT")
        .into_iter()
        .map(launched)
        .collect();
    let expected: Vec<Vec<String>> = (0..n).map(|i| vec![format!("t{i}")]).collect();
    assert_eq!(sent, expected);
}

#[test]
fn a_decline_is_sent_in_the_background_too() {
    // The default `offers` declines; a refused DECLINE reaches `call_failed`
    // without tasks. (The default of `call_failed` only logs.)
    struct Declining {
        seen: Vec<String>,
    }
    impl Scheduler for Declining {
        fn call_failed(
            &mut self,
            handle: &SchedulerHandle,
            failed: &FailedCall,
        ) -> mesos_client::Result<()> {
            assert_eq!(failed.kind, call::Type::Decline);
            assert!(failed.task_ids.is_empty());
            self.seen.push(format!(
                "{} {}",
                failed.kind.as_str_name(),
                failed.offer_ids.len()
            ));
            handle.stop(StopMode::Failover);
            Ok(())
        }
    }
    let peer = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s0", &[subscribed(15.0), offers()], After::Hold),
        "DECLINE" => Reply::status(400, "Failed to validate scheduler::Call: bad"),
        _ => Reply::accepted(),
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, declining) = run_with_deadline(driver, Declining { seen: Vec::new() });
    result.unwrap();
    assert_eq!(declining.seen, ["DECLINE 1"]);
}
