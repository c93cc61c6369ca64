//! A minimal Mesos master stand-in for driver tests that need several
//! masters (leader changes): it answers SUBSCRIBE with a SUBSCRIBED event
//! and holds the stream open, answers every other call `202`, and records
//! the SUBSCRIBE bodies. Plus a fast driver config and a way to run a driver
//! with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mesos_client::{Scheduler, SchedulerConfig, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::{FrameworkId, FrameworkInfo};

/// The framework id every fake master assigns.
pub const FRAMEWORK_ID: &str = "zk-test-0000";

/// Every wait in these tests fails after this long instead of hanging.
pub const WAIT: Duration = Duration::from_secs(10);

/// A master stand-in: answers SUBSCRIBE with SUBSCRIBED and holds the
/// stream; counts subscriptions and keeps their bodies.
pub struct FakeMaster {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    subscribes: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FakeMaster {
    /// Starts listening on a free port.
    pub fn start() -> FakeMaster {
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

    /// The SUBSCRIBE bodies received so far (JSON).
    pub fn subscribes(&self) -> Vec<String> {
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
    let event = format!(
        r#"{{"type":"SUBSCRIBED","subscribed":{{"framework_id":{{"value":"{FRAMEWORK_ID}"}},"heartbeat_interval_seconds":15.0}}}}"#
    );
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

/// A config with fast timings for the fake masters; `masters` may be a
/// `zk://` URL (sessions of 2 s then).
pub fn fast_config(masters: String, framework_id: Option<String>) -> SchedulerConfig {
    let info = FrameworkInfo {
        user: "root".into(),
        name: "zk-test".into(),
        id: framework_id.map(|value| FrameworkId { value }),
        failover_timeout: Some(60.0),
        ..Default::default()
    };
    let mut config = SchedulerConfig::new(masters, info);
    config.zk_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(3);
    config.backoff_min = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(100);
    config.max_reconnect_attempts = Some(50);
    config
}

/// Runs a driver to its end (with a deadline) and gives the scheduler back.
pub fn run_driver<S: Scheduler + Send + 'static>(config: SchedulerConfig, mut scheduler: S) -> S {
    let mut driver = SchedulerDriver::new(config).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    thread::spawn(move || {
        let result = driver.run(&mut scheduler);
        let _ = tx.send((result, scheduler));
    });
    let (result, scheduler) = rx
        .recv_timeout(WAIT)
        .expect("the driver did not return in time");
    result.unwrap();
    scheduler
}

/// Stops at SUBSCRIBED.
pub struct StopAtSubscribed;

impl Scheduler for StopAtSubscribed {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        handle.stop(StopMode::Failover);
        Ok(())
    }
}
