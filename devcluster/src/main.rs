//! `devcluster`: run a local Mesos-compatible cluster.
//!
//! ```text
//! cargo run -p devcluster -- --agents 2                     # serve on 127.0.0.1:5050
//! cargo run -p devcluster -- fault lose-agent --arg 0       # inject a fault into a running one
//! cargo run -p devcluster -- diagram --from timeline.json --out run.svg   # draw a recorded run
//! ```
//! Ctrl-C stops the cluster and every process it started.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use devcluster::{AgentConfig, Bounds, Cluster, ClusterConfig};

#[derive(Parser)]
#[command(
    name = "devcluster",
    about = "A local Mesos 1.x cluster (masters + agents) in one process"
)]
struct Cli {
    /// Port of the leading master.
    #[arg(long, default_value_t = 5050)]
    port: u16,
    /// Address to bind (keep 127.0.0.1 unless you know why).
    #[arg(long, default_value = "127.0.0.1")]
    ip: std::net::IpAddr,
    /// Number of agents.
    #[arg(long, default_value_t = 2)]
    agents: usize,
    /// Number of masters (one leads; the others redirect).
    #[arg(long, default_value_t = 1)]
    masters: usize,
    /// Work directory for sandboxes and the agents' checkpoints (default: a temporary
    /// directory). Started again on the same one after a crash (`kill -9`), devcluster
    /// first kills what the earlier run left running, then reports the tasks of
    /// checkpointing frameworks TASK_LOST, as a restarted Mesos agent does.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Heartbeat interval in seconds.
    #[arg(long, default_value = "15", value_parser = parse_secs)]
    heartbeat_secs: Duration,
    /// Allocation interval in seconds.
    #[arg(long, default_value = "1", value_parser = parse_secs)]
    allocation_secs: Duration,
    /// Rescind offers unused for this many seconds (default: never).
    #[arg(long, value_parser = parse_secs)]
    offer_timeout_secs: Option<Duration>,
    /// Credentials file (JSON or `principal secret` lines): enables HTTP Basic auth on the
    /// scheduler API, fault injection, the live page and its data, and the agents'
    /// /files/* (health, version and the state endpoints stay open, as in Mesos).
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The CA certificate (PEM) executors are told to trust for the agents' https
    /// (`LIBPROCESS_SSL_CA_FILE`) [default: the --tls-cert file, right for a
    /// self-signed certificate].
    #[arg(long, requires = "tls_cert")]
    tls_ca: Option<PathBuf>,
    /// Resources of every agent.
    #[arg(long, default_value = "cpus:4;mem:4096;disk:10240;ports:[31000-32000]")]
    resources: String,
    /// Attributes of every agent, e.g. `rack:r1;zone:z1`.
    #[arg(long, default_value = "")]
    attributes: String,
    /// Simulated tasks: no processes, FINISHED after this many seconds (0: at once).
    #[arg(long, value_parser = parse_secs_or_zero)]
    simulate_tasks_secs: Option<Duration>,
    /// Register the masters in ZooKeeper as Mesos masters do, e.g. zk://127.0.0.1:2181/mesos
    #[arg(long)]
    zk: Option<String>,
    /// Timeline entries kept per framework.
    #[arg(long, default_value_t = Bounds::default().timeline_max_entries, value_parser = parse_count)]
    timeline_max_entries: usize,
    /// Bytes the whole timeline keeps (the oldest entries go first).
    #[arg(long, default_value_t = Bounds::default().timeline_max_bytes, value_parser = parse_count)]
    timeline_max_bytes: usize,
    /// A recorded call or event larger than this keeps only this many leading bytes and
    /// its size.
    #[arg(long, default_value_t = Bounds::default().timeline_max_message_bytes, value_parser = parse_count)]
    timeline_max_message_bytes: usize,
    /// Events queued for one subscriber; one further behind is disconnected.
    #[arg(long, default_value_t = Bounds::default().subscriber_queue_events, value_parser = parse_count)]
    subscriber_queue_events: usize,
    /// Bytes of events queued for one subscriber; one further behind is disconnected.
    #[arg(long, default_value_t = Bounds::default().subscriber_queue_bytes, value_parser = parse_count)]
    subscriber_queue_bytes: usize,
    /// Open connections per master and per agent; more are answered 503 and closed.
    #[arg(long, default_value_t = Bounds::default().max_connections, value_parser = parse_count)]
    max_connections: usize,
    /// Seconds a client may take to send a complete request head once it began one.
    #[arg(long, default_value = "30", value_parser = parse_secs)]
    request_head_timeout_secs: Duration,
    /// Completed executors an agent keeps per framework (Mesos:
    /// --max_completed_executors_per_framework).
    #[arg(long, default_value_t = Bounds::default().max_completed_executors_per_framework, value_parser = parse_count)]
    max_completed_executors_per_framework: usize,
    /// Completed tasks an agent keeps per completed executor (Mesos:
    /// --max_completed_tasks_per_executor).
    #[arg(long, default_value_t = Bounds::default().max_completed_tasks_per_executor, value_parser = parse_count)]
    max_completed_tasks_per_executor: usize,
    /// Completed tasks the master keeps per framework (Mesos:
    /// --max_completed_tasks_per_framework).
    #[arg(long, default_value_t = Bounds::default().max_completed_tasks_per_framework, value_parser = parse_count)]
    max_completed_tasks_per_framework: usize,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info", global = true)]
    log_level: log::LevelFilter,
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// The longest duration any option takes (about 31 years): larger values are refused
/// rather than overflowing a clock.
const MAX_SECS: f64 = 1e9;

/// A number of seconds: finite, above zero, at most [`MAX_SECS`].
fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= MAX_SECS => Ok(Duration::from_secs_f64(v)),
        Ok(_) => Err(format!(
            "expecting seconds above 0 and at most {MAX_SECS}, got {s}"
        )),
        Err(_) => Err(format!("expecting a number of seconds, got '{s}'")),
    }
}

/// A number of seconds from 0 to [`MAX_SECS`].
fn parse_secs_or_zero(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=MAX_SECS).contains(&v) => Ok(Duration::from_secs_f64(v)),
        Ok(_) => Err(format!("expecting seconds from 0 to {MAX_SECS}, got {s}")),
        Err(_) => Err(format!("expecting a number of seconds, got '{s}'")),
    }
}

/// A count or size: a whole number of at least 1.
fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expecting a whole number of at least 1, got '{s}'")),
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Inject a fault into a running devcluster (POST /devcluster/faults/<name>).
    Fault {
        /// fail-over-leader, restart-master, cut-streams, cut-streams-mid-record,
        /// stall-heartbeats, unavailable, lose-agent, crash-executor, rescind-offer.
        name: String,
        /// Seconds, agent index, offer id or framework_id/executor_id.
        #[arg(long)]
        arg: Option<String>,
        /// The master to talk to (`host:port` or `http://host:port`).
        #[arg(long, default_value = "127.0.0.1:5050")]
        master: String,
        /// With a cluster started with --credentials: the principal to authenticate as.
        #[arg(long, requires = "secret_file")]
        principal: Option<String>,
        /// The file holding the principal's secret (never the secret itself on the
        /// command line).
        #[arg(long, requires = "principal")]
        secret_file: Option<PathBuf>,
    },
    /// Draw a recorded timeline as a sequence diagram (SVG), or print its stable form.
    Diagram {
        /// The recorded timeline: a file (from GET /devcluster/diagram.json, or
        /// /devcluster/timeline?framework_id=F, or the .ndjson log), `-` for stdin, or a
        /// master's URL (http://...) to fetch /devcluster/diagram.json from.
        #[arg(long)]
        from: String,
        /// Where to write the SVG (or the text); `-` is stdout.
        #[arg(long, default_value = "-")]
        out: String,
        /// Write the stable sequence of messages (what tests compare) instead of the SVG.
        #[arg(long)]
        text: bool,
        /// Leave out times and ids: a picture that stays the same from run to run.
        #[arg(long)]
        stable: bool,
    },
}

/// `devcluster diagram`: reads the timeline, draws it, writes the result.
fn diagram(from: &str, out: &str, text: bool, stable: bool) -> Result<(), String> {
    use std::io::Read as _;
    let input = if from.starts_with("http://") || from.starts_with("https://") {
        let url = format!("{}/devcluster/diagram.json", from.trim_end_matches('/'));
        let mut r = ureq::get(&url).call().map_err(|e| format!("{url}: {e}"))?;
        r.body_mut()
            .with_config()
            .limit(512 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?
    } else if from == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(from).map_err(|e| format!("{from}: {e}"))?
    };
    let timeline =
        devcluster::diagram::Timeline::parse(&input).map_err(|e| format!("{from}: {e}"))?;
    let body = if text {
        devcluster::diagram::Sequence::from_timeline(&timeline).to_text()
    } else {
        let options = if stable {
            devcluster::diagram::RenderOptions::stable()
        } else {
            devcluster::diagram::RenderOptions::default()
        };
        devcluster::diagram::render_svg_with(&timeline, &options)
    };
    if out == "-" {
        print!("{body}");
        Ok(())
    } else {
        std::fs::write(out, body).map_err(|e| format!("{out}: {e}"))
    }
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// large request bodies (up to 16 MiB) come from per-thread arenas and stay there: with a
/// thread per connection, RSS grew to hundreds of MiB under large calls (`bench soak`).
/// A fixed threshold keeps every block over 128 KiB in its own mapping, given back when
/// freed. glibc reads it only at start, so devcluster starts itself again with it set.
const MALLOC_TUNABLE: &str = "glibc.malloc.mmap_threshold=131072";

/// Starts this program again with [`MALLOC_TUNABLE`] in `GLIBC_TUNABLES` unless it is
/// there already (or the variable says otherwise); returns only if that is not possible.
fn reexec_with_malloc_tunable() {
    use std::os::unix::process::CommandExt;
    let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    if current.contains("glibc.malloc.mmap_threshold") {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let tunables = if current.is_empty() {
        MALLOC_TUNABLE.to_string()
    } else {
        format!("{current}:{MALLOC_TUNABLE}")
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", tunables)
        .exec();
    eprintln!("devcluster: could not restart with {MALLOC_TUNABLE} ({err}); continuing");
}

fn main() {
    reexec_with_malloc_tunable();
    // Errors in options exit 1 with clap's message; --help and --version exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            std::process::exit(1);
        }
        Err(e) => e.exit(),
    };
    let _ = simple_logger::SimpleLogger::new()
        .with_level(cli.log_level)
        .init();
    if let Some(Cmd::Fault {
        name,
        arg,
        master,
        principal,
        secret_file,
    }) = &cli.command
    {
        // `--master 127.0.0.1:5050` as every other tool takes it: http:// is implied.
        let master = master.trim_end_matches('/');
        let scheme = if master.contains("://") {
            ""
        } else {
            "http://"
        };
        let mut url = format!("{scheme}{master}/devcluster/faults/{name}");
        if let Some(a) = arg {
            url.push_str(&format!("?arg={a}"));
        }
        let mut post = ureq::post(&url);
        if let (Some(p), Some(file)) = (principal, secret_file) {
            use base64::Engine as _;
            let secret = match std::fs::read_to_string(file) {
                Ok(s) => s.trim_end_matches(['\r', '\n']).to_string(),
                Err(e) => {
                    eprintln!("devcluster: cannot read {}: {e}", file.display());
                    std::process::exit(1);
                }
            };
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{p}:{secret}"));
            post = post.header("Authorization", &format!("Basic {token}"));
        }
        match post.send_empty() {
            Ok(mut r) => println!("{}", r.body_mut().read_to_string().unwrap_or_default()),
            Err(e) => {
                eprintln!("fault injection failed: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Some(Cmd::Diagram {
        from,
        out,
        text,
        stable,
    }) = &cli.command
    {
        if let Err(e) = diagram(from, out, *text, *stable) {
            eprintln!("devcluster diagram: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Err(e) = run(cli) {
        eprintln!("devcluster: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut cfg = ClusterConfig {
        ip: cli.ip,
        port: cli.port,
        masters: cli.masters,
        agents: vec![
            AgentConfig {
                resources: cli.resources,
                attributes: cli.attributes
            };
            cli.agents
        ],
        work_dir: cli.work_dir,
        heartbeat_interval: cli.heartbeat_secs,
        allocation_interval: cli.allocation_secs,
        offer_timeout: cli.offer_timeout_secs,
        simulate_tasks: cli.simulate_tasks_secs,
        zk: cli.zk,
        bounds: Bounds {
            timeline_max_entries: cli.timeline_max_entries,
            timeline_max_bytes: cli.timeline_max_bytes,
            timeline_max_message_bytes: cli.timeline_max_message_bytes,
            subscriber_queue_events: cli.subscriber_queue_events,
            subscriber_queue_bytes: cli.subscriber_queue_bytes,
            max_connections: cli.max_connections,
            request_head_timeout: cli.request_head_timeout_secs,
            max_completed_executors_per_framework: cli.max_completed_executors_per_framework,
            max_completed_tasks_per_executor: cli.max_completed_tasks_per_executor,
            max_completed_tasks_per_framework: cli.max_completed_tasks_per_framework,
        },
        ..ClusterConfig::default()
    };
    raise_descriptor_limit(cfg.bounds.max_connections);
    if let Some(path) = cli.credentials {
        cfg.credentials = Some(devcluster::http::Credentials::from_file(path)?);
    }
    if let (Some(cert), Some(key)) = (cli.tls_cert, cli.tls_key) {
        let c = std::fs::read(&cert).map_err(|e| format!("{}: {e}", cert.display()))?;
        let k = std::fs::read(&key).map_err(|e| format!("{}: {e}", key.display()))?;
        cfg.tls = Some(devcluster::http::tls_config_from_pem(&c, &k)?);
        cfg.tls_ca_file = Some(cli.tls_ca.unwrap_or(cert));
    }
    let (ip, port) = (cfg.ip, cfg.port);
    let cluster = Cluster::start(cfg).map_err(|e| match e {
        devcluster::Error::Io(io) if io.kind() == std::io::ErrorKind::AddrInUse => format!(
            "port {port} on {ip} is in use (another devcluster or Mesos master?): \
             stop it, or choose another port with --port"
        ),
        other => other.to_string(),
    })?;
    println!(
        "devcluster: master {} ({} agents)",
        cluster.master_url(),
        cluster.agent_urls().len()
    );
    for (i, u) in cluster.master_urls().iter().enumerate() {
        println!("  master {i}: {u}");
    }
    for (i, u) in cluster.agent_urls().iter().enumerate() {
        println!("  agent {i}: {u}");
    }
    println!(
        "  live page: {}/ (open it in a browser)",
        cluster.master_url()
    );
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    ctrlc::set_handler(move || {
        let _ = tx.try_send(());
    })
    .map_err(|e| format!("Failed to install the Ctrl-C handler: {e}"))?;
    let _ = rx.recv();
    println!("devcluster: stopping");
    cluster.shutdown();
    Ok(())
}

/// Each connection is a descriptor: the soft limit (often 1,024) is raised to the hard
/// one, so that `--max-connections` (per server) is reached before the process runs out
/// of descriptors and stops accepting even `/health`. A warning says when it cannot be.
fn raise_descriptor_limit(max_connections: usize) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_err() {
        log::warn!("cannot raise the open-file limit from {soft} to {hard}");
    }
    let now = getrlimit(Resource::RLIMIT_NOFILE).map_or(soft, |(s, _)| s);
    if now < max_connections as u64 + 256 {
        log::warn!(
            "open-file limit {now} is below --max-connections {max_connections} (+256 for \
             the cluster itself): connections beyond it fail instead of getting a 503"
        );
    }
}
