//! https masters: the driver trusts a CA given as a PEM file, and refuses a
//! server whose certificate that CA did not sign.

mod scheduler_peer;

use std::sync::Arc;

use mesos_client::{Error, SchedulerDriver, StopMode};
use scheduler_peer::*;

fn tls_master(config: Arc<rustls::ServerConfig>) -> Peer {
    Peer::start_tls(
        |request: &Request| match request.call_type() {
            "SUBSCRIBE" => {
                Reply::json_stream("tls-stream", &[subscribed(15.0), offers()], After::Hold)
            }
            _ => Reply::accepted(),
        },
        config,
    )
}

#[test]
fn an_https_master_signed_by_the_given_ca_is_trusted() {
    let (ca_pem, server) = ca_and_server();
    let master = tls_master(server);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();

    let mut config = fast_config(&format!("https://{}", master.addr()));
    config.ca_file = Some(ca_file);
    let driver = SchedulerDriver::new(config).unwrap();
    let (result, recorder) = run_with_deadline(
        driver,
        Recorder::stopping_on("offers 1", StopMode::Teardown),
    );
    result.unwrap();
    assert_eq!(recorder.seen.len(), 2);
    let kinds: Vec<_> = master.requests().iter().map(Request::call_type).collect();
    assert_eq!(kinds, ["SUBSCRIBE", "DECLINE", "TEARDOWN"]);
}

#[test]
fn an_https_master_signed_by_another_ca_is_refused() {
    let (_, server) = ca_and_server();
    let (other_ca_pem, _) = ca_and_server();
    let master = tls_master(server);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("other-ca.pem");
    std::fs::write(&ca_file, other_ca_pem).unwrap();

    let mut config = fast_config(&format!("https://{}", master.addr()));
    config.ca_file = Some(ca_file);
    config.max_reconnect_attempts = Some(1);
    let driver = SchedulerDriver::new(config).unwrap();
    let (result, recorder) =
        run_with_deadline(driver, Recorder::stopping_on("never", StopMode::Failover));
    assert!(matches!(result, Err(Error::Transport(_))), "{result:?}");
    assert!(recorder.seen.is_empty());
    assert!(
        master.requests().is_empty(),
        "no request got through the handshake"
    );
}
