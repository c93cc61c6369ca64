//! Losing the subscription and coming back: missed heartbeats, a stream cut
//! mid-record, ERROR events that must end `run`, the framework-id file.

mod scheduler_peer;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mesos_client::{Error, SchedulerDriver, StopMode};
use scheduler_peer::*;

/// A master whose n-th SUBSCRIBE (from 0) is answered by `nth(n)`.
fn counting(nth: impl Fn(usize) -> Reply + Send + 'static) -> Peer {
    let count = Arc::new(AtomicUsize::new(0));
    Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => nth(count.fetch_add(1, Ordering::SeqCst)),
        _ => Reply::accepted(),
    })
}

fn subscribes(peer: &Peer) -> Vec<Request> {
    of_type(&peer.requests(), "SUBSCRIBE")
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn missed_heartbeats_mean_disconnected_then_resubscribe_with_the_same_id() {
    // SUBSCRIBED says "heartbeat every 50 ms", then nothing more comes.
    let peer =
        counting(|n| Reply::json_stream(&format!("stream-{n}"), &[subscribed(0.05)], After::Hold));
    let mut config = fast_config(&peer.addr());
    config.missed_heartbeats = 3;
    let driver = SchedulerDriver::new(config).unwrap();
    let mut recorder =
        Recorder::stopping_on(&format!("subscribed {FRAMEWORK_ID}"), StopMode::Failover);
    recorder.stop_after = 2;

    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [
            format!("subscribed {FRAMEWORK_ID}"),
            "disconnected".into(),
            format!("subscribed {FRAMEWORK_ID}"),
        ]
    );

    let subscribes = subscribes(&peer);
    assert_eq!(subscribes.len(), 2);
    // The first SUBSCRIBE is a new framework ...
    let first = subscribes[0].json();
    assert!(first.get("framework_id").is_none());
    assert!(first["subscribe"]["framework_info"].get("id").is_none());
    // ... the second re-subscribes: both ids set and equal (fact sheet §1.10).
    let second = subscribes[1].json();
    assert_eq!(second["framework_id"]["value"], FRAMEWORK_ID);
    assert_eq!(
        second["subscribe"]["framework_info"]["id"]["value"],
        FRAMEWORK_ID
    );
    assert_eq!(
        second["subscribe"]["framework_info"]["failover_timeout"],
        120.0
    );
    assert!(subscribes[1].header("mesos-stream-id").is_none());
}

#[test]
fn heartbeats_keep_the_subscription_alive() {
    let (feed, records) = crossbeam_channel::unbounded::<Vec<u8>>();
    let peer = Peer::start(move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("s", &[subscribed(0.1)], After::Feed(records.clone())),
        _ => Reply::accepted(),
    });
    let feeder = std::thread::spawn(move || {
        // 20 heartbeats 25 ms apart: 500 ms in all, beyond the 5 x 100 ms
        // silence limit, yet each gap is far below it.
        for _ in 0..20 {
            std::thread::sleep(std::time::Duration::from_millis(25));
            if feed.send(heartbeat().into_bytes()).is_err() {
                return;
            }
        }
    });
    let mut config = fast_config(&peer.addr());
    config.missed_heartbeats = 5;
    let driver = SchedulerDriver::new(config).unwrap();
    let mut recorder = Recorder::stopping_on("heartbeat", StopMode::Failover);
    recorder.stop_after = 20;
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    feeder.join().unwrap();
    assert!(
        !recorder.seen.contains(&"disconnected".to_string()),
        "{:?}",
        recorder.seen
    );
    assert_eq!(subscribes(&peer).len(), 1);
}

fn stream_cut_mid_record(after: After) {
    let mut after = Some(after);
    let count = std::sync::Mutex::new(0);
    let peer = Peer::start(move |request: &Request| {
        if request.call_type() != "SUBSCRIBE" {
            return Reply::accepted();
        }
        let mut n = count.lock().unwrap();
        *n += 1;
        if *n == 1 {
            // A whole SUBSCRIBED, then half of a record.
            let mut body = mesos_proto::recordio::encode(subscribed(15.0).as_bytes());
            body.extend_from_slice(b"120\n{\"type\":\"HEA");
            Reply::Stream {
                stream_id: "s1".into(),
                content_type: mesos_proto::ContentType::Json,
                body,
                chunk_size: 64,
                after: after.take().unwrap_or(After::End),
            }
        } else {
            Reply::json_stream("s2", &[subscribed(15.0)], After::Hold)
        }
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let mut recorder =
        Recorder::stopping_on(&format!("subscribed {FRAMEWORK_ID}"), StopMode::Failover);
    recorder.stop_after = 2;
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(recorder.seen[1], "disconnected");
    assert_eq!(subscribes(&peer).len(), 2);
}

#[test]
fn a_stream_ending_mid_record_reconnects() {
    stream_cut_mid_record(After::End);
}

#[test]
fn a_connection_cut_mid_record_reconnects() {
    stream_cut_mid_record(After::Cut);
}

#[test]
fn a_stream_closed_by_the_master_reconnects() {
    let peer = counting(|n| {
        let after = if n == 0 { After::End } else { After::Hold };
        Reply::json_stream("s", &[subscribed(15.0)], after)
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let mut recorder =
        Recorder::stopping_on(&format!("subscribed {FRAMEWORK_ID}"), StopMode::Failover);
    recorder.stop_after = 2;
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(recorder.seen.len(), 3);
}

#[test]
fn framework_removed_ends_run_with_an_error_and_no_retry() {
    // What a 1.12 master sends to a torn-down framework's id
    // (fixture `calls/err-resubscribe-after-teardown.exchange.txt`).
    let peer =
        counting(|_| Reply::json_stream("s", &[error("Framework has been removed")], After::End));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, recorder) =
        run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    // Typed: nobody downstream reads the message.
    assert!(matches!(result, Err(Error::FrameworkRemoved)), "{result:?}");
    assert_eq!(recorder.seen, ["error Framework has been removed"]);
    assert_eq!(subscribes(&peer).len(), 1);
}

#[test]
fn failed_over_ends_run_with_an_error() {
    // Another scheduler subscribed with our id: the old stream gets this.
    let peer = counting(|_| {
        Reply::json_stream(
            "s",
            &[subscribed(15.0), error("Framework failed over")],
            After::End,
        )
    });
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, recorder) =
        run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    assert!(matches!(result, Err(Error::FailedOver)), "{result:?}");
    assert_eq!(recorder.seen.len(), 2);
    assert_eq!(subscribes(&peer).len(), 1);
}

#[test]
fn the_framework_id_file_is_written_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let id_file = dir.path().join("framework.id");
    let peer = counting(|_| Reply::json_stream("s", &[subscribed(15.0)], After::Hold));

    // First run: new framework; the id is saved.
    let mut config = fast_config(&peer.addr());
    config.framework_id_file = Some(id_file.clone());
    let driver = SchedulerDriver::new(config.clone()).unwrap();
    let stop = format!("subscribed {FRAMEWORK_ID}");
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on(&stop, StopMode::Failover));
    result.unwrap();
    assert_eq!(
        std::fs::read_to_string(&id_file).unwrap().trim(),
        FRAMEWORK_ID
    );

    // Second run ("the scheduler restarted"): it resumes with that id.
    let driver = SchedulerDriver::new(config).unwrap();
    assert_eq!(driver.handle().framework_id().unwrap().value, FRAMEWORK_ID);
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on(&stop, StopMode::Failover));
    result.unwrap();

    let subscribes = subscribes(&peer);
    assert_eq!(subscribes.len(), 2);
    assert!(subscribes[0].json().get("framework_id").is_none());
    let second = subscribes[1].json();
    assert_eq!(second["framework_id"]["value"], FRAMEWORK_ID);
    assert_eq!(
        second["subscribe"]["framework_info"]["id"]["value"],
        FRAMEWORK_ID
    );
}

#[test]
fn teardown_while_disconnected_is_reported() {
    // Nobody answers: the driver is backing off when the stop arrives.
    let down = Peer::start(|_: &Request| Reply::status(503, "No leader elected"));
    let mut config = fast_config(&down.addr());
    config.max_reconnect_attempts = None;
    config.backoff_min = std::time::Duration::from_millis(200);
    let driver = SchedulerDriver::new(config).unwrap();
    driver.handle().stop(StopMode::Teardown);
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    assert!(matches!(result, Err(Error::NotSubscribed)), "{result:?}");
}
