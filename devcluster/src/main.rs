//! `devcluster`: run a local Mesos-compatible cluster.
//!
//! ```text
//! cargo run -p devcluster -- --agents 2                     # serve on 127.0.0.1:5050
//! cargo run -p devcluster -- fault lose-agent --arg 0       # inject a fault into a running one
//! ```
//! Ctrl-C stops the cluster and every process it started.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use devcluster::{AgentConfig, Cluster, ClusterConfig};

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
    /// Work directory for sandboxes (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Heartbeat interval in seconds.
    #[arg(long, default_value_t = 15.0)]
    heartbeat_secs: f64,
    /// Allocation interval in seconds.
    #[arg(long, default_value_t = 1.0)]
    allocation_secs: f64,
    /// Rescind offers unused for this many seconds (default: never).
    #[arg(long)]
    offer_timeout_secs: Option<f64>,
    /// Credentials file (JSON or `principal secret` lines): enables HTTP Basic auth.
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
    /// Simulated tasks: no processes, FINISHED after this many seconds.
    #[arg(long)]
    simulate_tasks_secs: Option<f64>,
    /// Register the masters in ZooKeeper as Mesos masters do, e.g. zk://127.0.0.1:2181/mesos
    #[arg(long)]
    zk: Option<String>,
    /// error, warn, info, debug or trace.
    #[arg(long, default_value = "info", global = true)]
    log_level: log::LevelFilter,
    #[command(subcommand)]
    command: Option<Cmd>,
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
    },
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s > 0.0 { s } else { 0.001 })
}

fn main() {
    let cli = Cli::parse();
    let _ = simple_logger::SimpleLogger::new()
        .with_level(cli.log_level)
        .init();
    if let Some(Cmd::Fault { name, arg, master }) = &cli.command {
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
        match ureq::post(&url).send_empty() {
            Ok(mut r) => println!("{}", r.body_mut().read_to_string().unwrap_or_default()),
            Err(e) => {
                eprintln!("fault injection failed: {e}");
                std::process::exit(1);
            }
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
        heartbeat_interval: secs(cli.heartbeat_secs),
        allocation_interval: secs(cli.allocation_secs),
        offer_timeout: cli.offer_timeout_secs.map(secs),
        simulate_tasks: cli.simulate_tasks_secs.map(secs),
        zk: cli.zk,
        ..ClusterConfig::default()
    };
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
