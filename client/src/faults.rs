//! Breaking a master on purpose, typed: [`Fault`] names every fault
//! devcluster (this project's local Mesos-compatible cluster) can inject;
//! [`cause`] has it injected, or, on a master that is not a devcluster,
//! asks the person running the program to cause it by hand and waits until
//! it happens.
//!
//! For lessons about heartbeats, reconnection and failover: the framework
//! breaks its own connection and shows how the driver recovers.
//!
//! ```no_run
//! use std::time::Duration;
//! use mesos_client::faults::{Fault, Injector, inject, injector};
//!
//! inject("127.0.0.1:5050", &Fault::StallHeartbeats(Duration::from_secs(40)))?;
//! if injector("127.0.0.1:5050")? == Injector::Devcluster {
//!     inject("http://127.0.0.1:5050", &Fault::CutStreams)?;
//! }
//! # Ok::<(), mesos_client::Error>(())
//! ```
//!
//! A real Mesos master has no fault endpoint: it answers 404 to
//! `/devcluster/faults/...`, and that 404 is how the library tells it from
//! a devcluster ([`Injector::ByHand`]). Then [`cause`] logs what to do
//! ([`Fault::by_hand`]: which process to pause, restart or stop, or which
//! connections to close, and for how long) and waits, up to
//! [`BY_HAND_WAIT`], until the master stops answering or says the framework
//! is disconnected, which is what each of those faults looks like from
//! here. If neither happens, the answer is [`FaultError::NotSeen`]; a fault that
//! nobody can cause by hand in a way a program could see (a cut in the
//! middle of a record, a lost offer) is [`FaultError::NeedsDevcluster`].
//! Both come back as [`Error::Other`], which ends a scheduler's `run` (a
//! step whose fault never came has nothing to show).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::masters::Endpoint;
use crate::scheduler::SchedulerHandle;
use crate::transport::{Transport, TransportConfig};

/// How long [`cause`] waits for a fault caused by hand, unless
/// [`set_by_hand_wait`] says otherwise: long enough to read the instructions
/// and type a command on the master's host.
pub const BY_HAND_WAIT: Duration = Duration::from_secs(120);

/// What [`cause`] waits, in milliseconds (see [`set_by_hand_wait`]).
static WAIT_MILLIS: AtomicU64 = AtomicU64::new(BY_HAND_WAIT.as_millis() as u64);

/// Sets how long [`cause`] waits for a fault caused by hand, for the whole
/// process (default [`BY_HAND_WAIT`]): shorter in a test that checks the
/// deadline, longer for a person who needs the time.
pub fn set_by_hand_wait(wait: Duration) {
    let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    WAIT_MILLIS.store(millis, Ordering::SeqCst);
}

/// What [`cause`] waits now.
fn by_hand_wait() -> Duration {
    Duration::from_millis(WAIT_MILLIS.load(Ordering::SeqCst))
}

/// How long a master may take to answer before it counts as not answering
/// (a paused process never does; a live one answers in milliseconds).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Between two looks at a master while waiting for a fault caused by hand.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// Between two reminders while waiting for a fault caused by hand.
const REMIND_EVERY: Duration = Duration::from_secs(30);

/// One fault devcluster can inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Leadership moves to the next master; every subscription breaks.
    FailOverLeader,
    /// The leading master restarts (it forgets subscriptions, keeps state).
    RestartMaster,
    /// Every subscription stream is cut between two records.
    CutStreams,
    /// Every subscription stream is cut in the middle of a record.
    CutStreamsMidRecord,
    /// The master sends no HEARTBEAT for this long.
    StallHeartbeats(Duration),
    /// The scheduler endpoint answers 503 for this long.
    Unavailable(Duration),
    /// Agent number `n` (from 0) dies: its tasks are lost.
    LoseAgent(usize),
    /// An executor (or a command task's process) is killed with SIGKILL.
    CrashExecutor {
        /// The framework that runs it.
        framework_id: String,
        /// The executor's id.
        executor_id: String,
    },
    /// An offer is rescinded: this one, or the oldest outstanding one.
    RescindOffer(Option<String>),
}

impl Fault {
    /// The fault's name on the wire and on devcluster's command line
    /// (`stall-heartbeats`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::FailOverLeader => "fail-over-leader",
            Fault::RestartMaster => "restart-master",
            Fault::CutStreams => "cut-streams",
            Fault::CutStreamsMidRecord => "cut-streams-mid-record",
            Fault::StallHeartbeats(_) => "stall-heartbeats",
            Fault::Unavailable(_) => "unavailable",
            Fault::LoseAgent(_) => "lose-agent",
            Fault::CrashExecutor { .. } => "crash-executor",
            Fault::RescindOffer(_) => "rescind-offer",
        }
    }

    /// The fault's parameter (`?arg=`), if it has one.
    pub fn arg(&self) -> Option<String> {
        match self {
            Fault::StallHeartbeats(d) | Fault::Unavailable(d) => Some(d.as_secs_f64().to_string()),
            Fault::LoseAgent(n) => Some(n.to_string()),
            Fault::CrashExecutor {
                framework_id,
                executor_id,
            } => Some(format!("{framework_id}/{executor_id}")),
            Fault::RescindOffer(offer) => offer.clone(),
            _ => None,
        }
    }

    /// The path and query of the request: `/devcluster/faults/<name>[?arg=...]`.
    pub fn path(&self) -> String {
        let name = self.name();
        match self.arg() {
            Some(arg) => format!("/devcluster/faults/{name}?arg={}", encode(&arg)),
            None => format!("/devcluster/faults/{name}"),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.arg() {
            Some(arg) => write!(f, "{} {arg}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// Who can cause a fault on a master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injector {
    /// A devcluster: it injects faults when asked
    /// (`POST /devcluster/faults/<name>`).
    Devcluster,
    /// Any other master (Apache Mesos has no fault endpoint: it answers 404
    /// there): a person causes the fault, by hand.
    ByHand,
}

/// How to cause a fault by hand on a Mesos cluster ([`Fault::by_hand`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// What to do, in numbered lines, for a person at the master's host (or
    /// the scheduler's). Each of these makes the master stop answering for a
    /// while (paused, restarting or stopped) or say that the framework is
    /// disconnected (its connection closed), which is how [`cause`] sees it
    /// happen.
    ByHand(String),
    /// No way to cause it by hand that a program could see: it needs
    /// devcluster, for this reason.
    NeedsDevcluster(&'static str),
}

impl Fault {
    /// How a person causes this fault on a Mesos cluster whose leading master
    /// is `master` (`host:port`, named in the text).
    pub fn by_hand(&self, master: &str) -> Recipe {
        let (host, port) = master.rsplit_once(':').unwrap_or((master, "5050"));
        match self {
            Fault::StallHeartbeats(silence) => {
                // Whole seconds, rounded up: the pause must last at least this long.
                let secs = silence.as_secs() + u64::from(silence.subsec_nanos() > 0);
                Recipe::ByHand(format!(
                    "  1. on {host}, pause the master: kill -STOP <pid of mesos-master> (pidof mesos-master)\n\
                     \x20 2. wait {secs} s: a paused master sends nothing, heartbeats included\n\
                     \x20 3. let it go on: kill -CONT <pid of mesos-master>\n\
                     \x20 (with ZooKeeper, a pause longer than its session timeout, 10 s by default, \
                     lets another master take over: step 12's fault, not this one)"
                ))
            }
            Fault::CutStreams => Recipe::ByHand(format!(
                "  1. here, on the scheduler's host, close its connections to the master: \
                 sudo ss -K dst {host} dport = {port}\n\
                 \x20 (every connection from this host to the master closes, an agent's too if \
                 one runs here; the master stays up and keeps its state)\n\
                 \x20 or restart the master on {host} (sudo systemctl restart mesos-master): that \
                 closes every stream too, but the restarted master knows the tasks again only \
                 once their agent registers anew, which can take 75 s"
            )),
            Fault::RestartMaster => Recipe::ByHand(format!(
                "  1. on {host}, restart the master: sudo systemctl restart mesos-master \
                 (or stop mesos-master and start it again with the same flags)\n\
                 \x20 a restart closes every subscription stream; frameworks subscribe again \
                 once it is back and leads"
            )),
            Fault::FailOverLeader => Recipe::ByHand(format!(
                "  1. on {host}, stop the leading master: sudo systemctl stop mesos-master \
                 (or kill <pid of mesos-master>)\n\
                 \x20 2. with two or more masters and ZooKeeper, another one is elected and the \
                 scheduler follows it; with a single master, start it again: the same master \
                 comes back and leads, which shows the failover but no change of leader"
            )),
            Fault::CutStreamsMidRecord => Recipe::NeedsDevcluster(
                "a restart cuts a stream between records; only devcluster can cut one in the \
                 middle of a record",
            ),
            Fault::Unavailable(_) => Recipe::NeedsDevcluster(
                "a Mesos master answers 503 only while it has no leader or is recovering, \
                 which cannot be held for a chosen time by hand",
            ),
            Fault::LoseAgent(_) => Recipe::NeedsDevcluster(
                "an agent is lost by stopping its mesos-agent, on another host, which a \
                 scheduler cannot watch; the master reports its tasks after \
                 agent_ping_timeout x max_agent_ping_timeouts (75 s by default)",
            ),
            Fault::CrashExecutor { .. } => Recipe::NeedsDevcluster(
                "an executor is crashed with kill -KILL of its process on its agent, which a \
                 scheduler cannot watch",
            ),
            Fault::RescindOffer(_) => Recipe::NeedsDevcluster(
                "a Mesos master rescinds offers by itself only when an agent goes away or \
                 --offer_timeout expires, not on request",
            ),
        }
    }
}

/// Why a fault did not happen on a master that is not a devcluster.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultError {
    /// [`inject`] asked a master without a fault endpoint (it answered 404).
    NotDevcluster {
        /// The fault asked for.
        fault: Fault,
        /// The master, `http://host:port`.
        master: String,
    },
    /// [`cause`] asked for the fault by hand, and the master kept answering
    /// until the deadline: nobody paused, restarted or stopped it.
    NotSeen {
        /// The fault asked for.
        fault: Fault,
        /// The master, `http://host:port`.
        master: String,
        /// How long [`cause`] waited.
        waited: Duration,
    },
    /// The fault cannot be caused by hand in a way a program could see.
    NeedsDevcluster {
        /// The fault asked for.
        fault: Fault,
        /// The master, `http://host:port`.
        master: String,
        /// Why not.
        why: &'static str,
    },
}

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultError::NotDevcluster { fault, master } => write!(
                f,
                "cannot inject {fault}: {master} is not a devcluster (no /devcluster/faults \
                 endpoint); cause it by hand (mesos_client::faults::cause says how)"
            ),
            FaultError::NotSeen {
                fault,
                master,
                waited,
            } => write!(
                f,
                "{} did not happen: {master} is not a devcluster, and for {} s it kept \
                 answering, with this framework connected: nothing was done as the \
                 instructions above asked",
                fault.name(),
                waited.as_secs()
            ),
            FaultError::NeedsDevcluster { fault, master, why } => write!(
                f,
                "{} needs devcluster, and {master} is not one: {why}",
                fault.name()
            ),
        }
    }
}

impl std::error::Error for FaultError {}

impl From<FaultError> for Error {
    fn from(err: FaultError) -> Error {
        Error::other(err)
    }
}

impl FaultError {
    /// The [`FaultError`] inside `err`, if that is what it is.
    pub fn of(err: &Error) -> Option<&FaultError> {
        match err {
            Error::Other(inner) => inner.downcast_ref::<FaultError>(),
            _ => None,
        }
    }
}

/// What a master said to a fault request.
enum Answer {
    /// A devcluster injected it; its words.
    Injected(String),
    /// 404: no fault endpoint, not a devcluster.
    NotDevcluster,
}

/// POSTs the fault to `master` (`http://host:port`).
fn post(master: &str, fault: &Fault) -> Result<Answer> {
    let timeout = Duration::from_secs(10);
    let transport = Transport::new(&TransportConfig {
        request_timeout: timeout,
        stream_idle_timeout: timeout,
        ca_file: None,
        credentials: None,
    })?;
    let url = format!("{master}{}", fault.path());
    log::info!("injecting fault {fault}");
    let response = transport.post(&url, "text/plain", &[], b"")?;
    match response.status {
        200 => Ok(Answer::Injected(response.text())),
        // devcluster refuses a fault with 400 (no such agent, ...), never 404.
        404 => Ok(Answer::NotDevcluster),
        status => Err(Error::Http {
            status,
            body: response.text(),
        }),
    }
}

/// Asks the devcluster master at `master` (`host:port` or
/// `http://host:port`) for `fault`, and returns its answer
/// (`Fault 'cut-streams' injected`).
///
/// # Errors
///
/// [`Error::Transport`] if the master cannot be reached; [`Error::Http`]
/// with devcluster's reason if it refused (no such agent, ...);
/// [`FaultError::NotDevcluster`] (in [`Error::Other`]) from a master that is
/// not a devcluster.
pub fn inject(master: &str, fault: &Fault) -> Result<String> {
    let master = base_url(master);
    match post(&master, fault)? {
        Answer::Injected(text) => Ok(text),
        Answer::NotDevcluster => Err(FaultError::NotDevcluster {
            fault: fault.clone(),
            master,
        }
        .into()),
    }
}

/// Whether `master` (`host:port` or `http://host:port`) is a devcluster,
/// without injecting anything: a `GET` of its fault endpoint, which a
/// devcluster serves (405: faults are POSTed; 401 with `--credentials`) and
/// Apache Mesos does not (404). For `https`, the master's certificate must
/// be signed by a CA of the built-in web roots.
///
/// # Errors
///
/// [`Error::Transport`] if the master cannot be reached.
pub fn injector(master: &str) -> Result<Injector> {
    let url = format!("{}/devcluster/faults", base_url(master));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let response = agent
        .get(&url)
        .call()
        .map_err(|err| Error::Transport(format!("{url}: {err}")))?;
    Ok(match response.status().as_u16() {
        404 => Injector::ByHand,
        _ => Injector::Devcluster,
    })
}

/// Causes `fault` on the master that holds this scheduler's subscription
/// (the leader): a devcluster injects it; on any other master the person
/// running the program is told what to do ([`Fault::by_hand`], logged as a
/// warning) and this waits, up to [`BY_HAND_WAIT`] (or what
/// [`set_by_hand_wait`] set), until the master stops answering, or says
/// that this framework is disconnected. Blocks the calling callback
/// meanwhile: events wait, and what the fault does to the connection is
/// seen once it returns (the driver cannot subscribe again before).
///
/// # Errors
///
/// [`Error::NotSubscribed`] without a live subscription; those of
/// [`cause_at`].
pub fn cause(handle: &SchedulerHandle, fault: &Fault) -> Result<Injector> {
    let endpoint = handle
        .session()
        .target
        .as_ref()
        .map(|target| target.endpoint.clone())
        .ok_or(Error::NotSubscribed)?;
    let scheme = if endpoint.https { "https" } else { "http" };
    let master = format!("{scheme}://{}:{}", endpoint.host, endpoint.port);
    let framework_id = handle.framework_id().map(|id| id.value);
    cause_with(&master, fault, by_hand_wait(), framework_id.as_deref())
}

/// [`cause`] on `master` (`host:port` or `http://host:port`), waiting up to
/// `wait` for a fault caused by hand.
///
/// # Errors
///
/// [`Error::Transport`] if the master cannot be reached at first;
/// [`Error::Http`] if a devcluster refused the fault; [`FaultError::NotSeen`]
/// if the master kept answering for `wait`; [`FaultError::NeedsDevcluster`]
/// for a fault that cannot be caused by hand (both in [`Error::Other`]).
pub fn cause_at(master: &str, fault: &Fault, wait: Duration) -> Result<Injector> {
    cause_with(master, fault, wait, None)
}

/// [`cause_at`]; with `framework_id`, a master that says this framework is
/// disconnected (`"connected": false` in `/master/frameworks`) also shows the
/// fault: its connection was closed.
fn cause_with(
    master: &str,
    fault: &Fault,
    wait: Duration,
    framework_id: Option<&str>,
) -> Result<Injector> {
    let master = base_url(master);
    if let Answer::Injected(text) = post(&master, fault)? {
        log::info!("{text}");
        return Ok(Injector::Devcluster);
    }
    let endpoint = Endpoint::parse(&master)?;
    let host_port = format!("{}:{}", endpoint.host, endpoint.port);
    let steps = match fault.by_hand(&host_port) {
        Recipe::ByHand(steps) => steps,
        Recipe::NeedsDevcluster(why) => {
            let fault = fault.clone();
            return Err(FaultError::NeedsDevcluster { fault, master, why }.into());
        }
    };
    log::warn!(
        "{master} is not a devcluster (it has no fault endpoint), so {} is yours to cause, \
         within {} s:\n{steps}",
        fault.name(),
        wait.as_secs()
    );
    let deadline = Instant::now() + wait;
    let mut remind = Instant::now() + REMIND_EVERY;
    let seen = loop {
        if !answers(&endpoint) {
            break "stopped answering";
        }
        if framework_id.is_some_and(|id| disconnected(&master, id)) {
            break "says the framework is disconnected";
        }
        let now = Instant::now();
        if now >= deadline {
            let fault = fault.clone();
            return Err(FaultError::NotSeen {
                fault,
                master,
                waited: wait,
            }
            .into());
        }
        if now >= remind {
            let left = deadline - now;
            log::warn!(
                "still waiting for {} by hand: {host_port} still answers ({} s left)",
                fault.name(),
                left.as_secs()
            );
            remind = now + REMIND_EVERY;
        }
        std::thread::sleep(PROBE_EVERY.min(deadline.saturating_duration_since(now)));
    };
    log::info!("{host_port} {seen}: {} is under way", fault.name());
    Ok(Injector::ByHand)
}

/// Whether the master at `master` (`http://host:port`) says that framework
/// `id` is disconnected, in `GET /master/frameworks` (Mesos and devcluster
/// both write `"connected"`). `false` when it cannot tell (no answer in
/// [`PROBE_TIMEOUT`], a certificate the built-in web roots do not trust, an
/// unknown framework).
fn disconnected(master: &str, id: &str) -> bool {
    let url = format!("{master}/master/frameworks");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(PROBE_TIMEOUT))
        .build()
        .new_agent();
    let Ok(mut response) = agent.get(&url).call() else {
        return false;
    };
    let Ok(text) = response.body_mut().read_to_string() else {
        return false;
    };
    let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|framework| framework["id"] == id)
        .is_some_and(|framework| framework["connected"] == false)
}

/// Whether the master answers within [`PROBE_TIMEOUT`]: a request goes out
/// on a new connection, and any byte back (or an orderly close) counts. A
/// paused process accepts the connection (the kernel does) but never
/// answers; a stopped or restarting one refuses it. Plain TCP, so it works
/// the same for `https` and with credentials (a 401 is an answer too).
fn answers(endpoint: &Endpoint) -> bool {
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let Ok(addrs) = (host, endpoint.port).to_socket_addrs() else {
        return false;
    };
    let request = format!(
        "GET /version HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\r\n",
        endpoint.host, endpoint.port
    );
    for addr in addrs {
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) else {
            continue;
        };
        let ready = stream.set_read_timeout(Some(PROBE_TIMEOUT)).is_ok()
            && stream.set_write_timeout(Some(PROBE_TIMEOUT)).is_ok()
            && stream.write_all(request.as_bytes()).is_ok();
        let mut byte = [0u8; 1];
        if ready && stream.read(&mut byte).is_ok() {
            return true;
        }
    }
    false
}

/// `http://host:port` for `host:port`; a URL with a scheme as it is, without
/// a trailing slash.
pub fn base_url(master: &str) -> String {
    let master = master.trim().trim_end_matches('/');
    if master.contains("://") {
        master.to_string()
    } else {
        format!("http://{master}")
    }
}

/// Percent-encodes what is not safe in a query value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn names_and_args_are_devclusters() {
        let stall = Fault::StallHeartbeats(Duration::from_millis(1500));
        assert_eq!(stall.path(), "/devcluster/faults/stall-heartbeats?arg=1.5");
        assert_eq!(Fault::CutStreams.path(), "/devcluster/faults/cut-streams");
        let crash = Fault::CrashExecutor {
            framework_id: "f 1".into(),
            executor_id: "e".into(),
        };
        assert_eq!(
            crash.path(),
            "/devcluster/faults/crash-executor?arg=f%201/e"
        );
        assert_eq!(Fault::LoseAgent(1).to_string(), "lose-agent 1");
    }

    #[test]
    fn a_master_without_scheme_gets_http() {
        assert_eq!(base_url("127.0.0.1:5050"), "http://127.0.0.1:5050");
        assert_eq!(base_url("https://m:5050/"), "https://m:5050");
    }

    /// A master on loopback: `faults` is the status it gives the fault
    /// endpoint (404 as Apache Mesos, 200 or 405 as devcluster), anything
    /// else gets 200. While `paused` is set it accepts connections and never
    /// answers, as a process under `kill -STOP`; once `stopped` is set it
    /// closes its socket, as a stopped process.
    struct FakeMaster {
        addr: String,
        paused: Arc<AtomicBool>,
        stopped: Arc<AtomicBool>,
    }

    impl FakeMaster {
        fn start(faults: u16) -> FakeMaster {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let paused = Arc::new(AtomicBool::new(false));
            let stopped = Arc::new(AtomicBool::new(false));
            let (p, s) = (paused.clone(), stopped.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        return; // the listening socket closes: connections are refused
                    }
                    let Ok(stream) = stream else { continue };
                    let p = p.clone();
                    std::thread::spawn(move || serve(stream, faults, &p));
                }
            });
            FakeMaster {
                addr,
                paused,
                stopped,
            }
        }

        fn stop(&self) {
            self.stopped.store(true, Ordering::SeqCst);
            // Wake the accept loop so it sees the flag and closes.
            let _ = TcpStream::connect(&self.addr);
        }
    }

    fn serve(mut stream: TcpStream, faults: u16, paused: &AtomicBool) {
        let mut line = String::new();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        if reader.read_line(&mut line).is_err() {
            return;
        }
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(n) if n > 2 => continue,
                _ => break,
            }
        }
        if paused.load(Ordering::SeqCst) {
            // Hold the connection, say nothing (until the test ends).
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or("/");
        let status = if path.starts_with("/devcluster/faults") {
            faults
        } else {
            200
        };
        let body = if path == "/master/frameworks" {
            // f1's connection is gone, f2's is not.
            r#"{"frameworks":[{"id":"f1","connected":false},{"id":"f2","connected":true}]}"#.into()
        } else {
            format!("status {status}")
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }

    #[test]
    fn a_devcluster_injects_and_a_404_means_by_hand() {
        let devcluster = FakeMaster::start(200);
        let fault = Fault::StallHeartbeats(Duration::from_secs(1));
        assert_eq!(
            cause_at(&devcluster.addr, &fault, Duration::ZERO).unwrap(),
            Injector::Devcluster
        );
        assert_eq!(inject(&devcluster.addr, &fault).unwrap(), "status 200");

        let mesos = FakeMaster::start(404);
        let err = inject(&mesos.addr, &fault).unwrap_err();
        assert!(
            matches!(FaultError::of(&err), Some(FaultError::NotDevcluster { .. })),
            "{err}"
        );
        assert!(!err.to_string().contains("404"), "{err}");

        assert_eq!(injector(&mesos.addr).unwrap(), Injector::ByHand);
        let devcluster_get = FakeMaster::start(405);
        assert_eq!(
            injector(&devcluster_get.addr).unwrap(),
            Injector::Devcluster
        );
    }

    #[test]
    fn by_hand_a_master_that_keeps_answering_is_a_clear_deadline_error() {
        let mesos = FakeMaster::start(404);
        let fault = Fault::StallHeartbeats(Duration::from_secs(45));
        let err = cause_at(&mesos.addr, &fault, Duration::from_millis(600)).unwrap_err();
        match FaultError::of(&err) {
            Some(FaultError::NotSeen { fault: f, .. }) => assert_eq!(f, &fault),
            other => panic!("{other:?}: {err}"),
        }
        let text = err.to_string();
        assert!(text.contains("stall-heartbeats did not happen"), "{text}");
        assert!(!text.contains("404"), "no bare 404: {text}");
        // It ends a scheduler's run: not a refused call, not a lost connection.
        assert!(!err.is_call_failure());
    }

    #[test]
    fn by_hand_the_fault_is_seen_when_the_master_pauses_or_stops() {
        let fault = Fault::StallHeartbeats(Duration::from_secs(45));
        let paused = FakeMaster::start(404);
        let flag = paused.paused.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            flag.store(true, Ordering::SeqCst); // kill -STOP
        });
        let seen = cause_at(&paused.addr, &fault, Duration::from_secs(20));
        assert_eq!(seen.unwrap(), Injector::ByHand);

        let stopped = FakeMaster::start(404);
        let fault = Fault::FailOverLeader;
        let addr = stopped.addr.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stopped.stop(); // systemctl stop mesos-master
        });
        let seen = cause_at(&addr, &fault, Duration::from_secs(20));
        assert_eq!(seen.unwrap(), Injector::ByHand);
    }

    #[test]
    fn by_hand_a_cut_connection_is_seen_when_the_master_says_disconnected() {
        let mesos = FakeMaster::start(404);
        let wait = Duration::from_millis(600);
        let cut = cause_with(&mesos.addr, &Fault::CutStreams, wait, Some("f1"));
        assert_eq!(cut.unwrap(), Injector::ByHand);
        let err = cause_with(&mesos.addr, &Fault::CutStreams, wait, Some("f2")).unwrap_err();
        assert!(
            matches!(FaultError::of(&err), Some(FaultError::NotSeen { .. })),
            "{err}"
        );
    }

    #[test]
    fn instructions_name_the_process_and_how_long() {
        let stall = Fault::StallHeartbeats(Duration::from_secs_f64(44.2));
        let Recipe::ByHand(text) = stall.by_hand("m1:5050") else {
            panic!("a stall can be caused by hand");
        };
        assert!(
            text.contains("on m1, pause the master: kill -STOP"),
            "{text}"
        );
        assert!(text.contains("wait 45 s"), "{text}");
        assert!(text.contains("kill -CONT"), "{text}");
        let Recipe::ByHand(text) = Fault::CutStreams.by_hand("m1:5050") else {
            panic!("a cut can be caused by hand");
        };
        assert!(text.contains("sudo ss -K dst m1 dport = 5050"), "{text}");
        assert!(text.contains("or restart the master on m1"), "{text}");
        let Recipe::ByHand(text) = Fault::FailOverLeader.by_hand("m1:5050") else {
            panic!("a failover can be caused by hand");
        };
        assert!(text.contains("stop the leading master"), "{text}");
        assert!(text.contains("with a single master"), "{text}");

        // What cannot be seen from here needs devcluster, and says so.
        let mesos = FakeMaster::start(404);
        let err = cause_at(&mesos.addr, &Fault::LoseAgent(0), Duration::ZERO).unwrap_err();
        assert!(
            matches!(
                FaultError::of(&err),
                Some(FaultError::NeedsDevcluster { .. })
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("lose-agent needs devcluster"),
            "{err}"
        );
    }
}
