//! Finding the leading master: 307 redirects (Location without scheme),
//! 503 and unreachable masters, 4xx refusals, giving up.

mod scheduler_peer;

use std::net::TcpListener;

use mesos_client::{Error, SchedulerDriver, StopMode};
use scheduler_peer::*;

/// A leader: serves the subscription and accepts calls.
fn leader() -> Peer {
    Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => {
            Reply::json_stream("leader-stream", &[subscribed(15.0), offers()], After::Hold)
        }
        _ => Reply::accepted(),
    })
}

fn closed_port() -> u16 {
    // Bound and dropped at once: nothing listens there any more.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_redirect_without_scheme_is_followed_keeping_our_path() {
    let leader = leader();
    // What a real non-leading 1.12 master sends (fact sheet §1.8): no scheme,
    // the routed `/master/...` path.
    let location = format!("//127.0.0.1:{}/master/api/v1/scheduler", leader.port);
    let follower = Peer::start(move |_: &Request| Reply::redirect(&location));

    let driver = SchedulerDriver::new(fast_config(&follower.addr())).unwrap();
    let (result, recorder) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Teardown),
    );
    result.unwrap();
    assert_eq!(
        recorder.seen,
        [format!("subscribed {FRAMEWORK_ID}"), "offers 1".into()]
    );

    let asked = follower.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].call_type(), "SUBSCRIBE");

    // Everything else went to the leader, on our own path.
    let served = leader.requests();
    let kinds: Vec<_> = served.iter().map(Request::call_type).collect();
    assert_eq!(kinds, ["SUBSCRIBE", "DECLINE", "TEARDOWN"]);
    assert!(served.iter().all(|r| r.path == "/api/v1/scheduler"));
    assert!(
        served[1..]
            .iter()
            .all(|r| r.header("mesos-stream-id") == Some("leader-stream"))
    );
}

#[test]
fn an_absolute_redirect_is_followed_too() {
    let leader = leader();
    let location = format!("http://127.0.0.1:{}/master/api/v1/scheduler", leader.port);
    let follower = Peer::start(move |_: &Request| Reply::redirect(&location));
    let driver = SchedulerDriver::new(fast_config(&follower.addr())).unwrap();
    let (result, _) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Failover),
    );
    result.unwrap();
    assert_eq!(leader.requests().len(), 2, "SUBSCRIBE and DECLINE");
}

#[test]
fn no_leader_503_moves_on_to_the_next_master() {
    let leader = leader();
    let no_leader = Peer::start(|_: &Request| Reply::status(503, "No leader elected"));
    let masters = format!("{},{}", no_leader.addr(), leader.addr());

    let driver = SchedulerDriver::new(fast_config(&masters)).unwrap();
    let (result, recorder) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Failover),
    );
    result.unwrap();
    assert_eq!(recorder.seen.len(), 2);
    assert_eq!(no_leader.requests().len(), 1);
    assert_eq!(of_type(&leader.requests(), "SUBSCRIBE").len(), 1);
}

#[test]
fn an_unreachable_master_is_skipped() {
    let leader = leader();
    let masters = format!("127.0.0.1:{},http://{}", closed_port(), leader.addr());
    let driver = SchedulerDriver::new(fast_config(&masters)).unwrap();
    let (result, _) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Failover),
    );
    result.unwrap();
    assert_eq!(of_type(&leader.requests(), "SUBSCRIBE").len(), 1);
}

#[test]
fn a_4xx_to_subscribe_ends_run_at_once() {
    let master = Peer::start(|_: &Request| {
        Reply::status(
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_info.user'",
        )
    });
    let driver = SchedulerDriver::new(fast_config(&master.addr())).unwrap();
    let (result, recorder) =
        run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    match result {
        Err(Error::Http { status: 400, body }) => assert!(body.contains("framework_info.user")),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    assert_eq!(master.requests().len(), 1, "no retry");
    assert!(recorder.seen.is_empty());
}

#[test]
fn gives_up_after_max_reconnect_attempts() {
    let down = Peer::start(|_: &Request| Reply::status(503, "No leader elected"));
    let mut config = fast_config(&down.addr());
    config.max_reconnect_attempts = Some(3);
    let driver = SchedulerDriver::new(config).unwrap();
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    assert!(
        matches!(result, Err(Error::Http { status: 503, .. })),
        "{result:?}"
    );
    assert_eq!(down.requests().len(), 4, "the first attempt and 3 retries");
}

#[test]
fn a_redirect_loop_is_cut_short() {
    // A confused master that names itself as the leader.
    let looping = Peer::start(|request: &Request| {
        Reply::redirect(&format!(
            "//127.0.0.1:{}/master/api/v1/scheduler",
            request.port
        ))
    });
    let mut config = fast_config(&looping.addr());
    config.max_reconnect_attempts = Some(0);
    let driver = SchedulerDriver::new(config).unwrap();
    let (result, _) = run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    assert!(matches!(result, Err(Error::Redirect(_))), "{result:?}");
    assert_eq!(
        looping.requests().len(),
        6,
        "one request and 5 redirects followed"
    );
}

#[test]
fn bad_master_lists_are_refused_up_front() {
    // (A zk:// URL without a path is malformed with or without the zk feature.)
    for bad in ["", "zk://127.0.0.1:2181", "127.0.0.1:notaport"] {
        let result = SchedulerDriver::new(fast_config(bad));
        assert!(matches!(result, Err(Error::Config(_))), "{bad:?}");
    }
}

#[test]
fn a_new_leader_is_found_again_after_a_leader_change() {
    // The first leader serves one subscription, then loses leadership: its
    // stream ends and it points at the new leader from then on.
    let new_leader = Peer::start(|request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("new", &[subscribed(15.0)], After::Hold),
        _ => Reply::accepted(),
    });
    let new_location = format!("//127.0.0.1:{}/master/api/v1/scheduler", new_leader.port);
    let mut served = false;
    let old_leader = Peer::start(move |_: &Request| {
        if served {
            Reply::redirect(&new_location)
        } else {
            served = true;
            Reply::json_stream("old", &[subscribed(15.0)], After::End)
        }
    });
    // The scheduler was only told about the old leader.
    let driver = SchedulerDriver::new(fast_config(&old_leader.addr())).unwrap();
    let mut recorder =
        Recorder::stopping_on(&format!("subscribed {FRAMEWORK_ID}"), StopMode::Failover);
    recorder.stop_after = 2;
    let (result, recorder) = run_with_deadline(driver, recorder);
    result.unwrap();
    assert_eq!(recorder.seen[1], "disconnected");
    assert_eq!(
        old_leader.requests().len(),
        2,
        "subscribed once, then redirected"
    );
    let resubscribe = &new_leader.requests()[0];
    assert_eq!(resubscribe.json()["framework_id"]["value"], FRAMEWORK_ID);
}
