//! Running one scheduler process against a fresh devcluster and measuring it from outside.
//!
//! The scheduler always runs as a separate process (ours is this very program, started
//! with the hidden `scheduler` subcommand), so its memory is its own: peak RSS is the
//! kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`), polled while it runs, for
//! the process and everything it starts (a `go run` or a shell wrapper). Throughput is
//! tasks divided by the scheduler's wall time from start to exit; offer-to-ACCEPT latency
//! and the count of launched tasks come from devcluster, which saw every ACCEPT.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devcluster::{Cluster, ClusterConfig, OfferStats};

/// One row of an end-to-end table.
pub struct Row {
    /// Who ran the tasks.
    pub name: String,
    /// Tasks asked for.
    pub tasks: usize,
    /// Agents in the cluster.
    pub agents: usize,
    /// Scheduler process wall time, start to exit.
    pub wall: Duration,
    /// Whether the process exited successfully (within the timeout).
    pub ok: bool,
    /// What devcluster measured.
    pub stats: OfferStats,
    /// Peak RSS of the scheduler (its largest process), in KiB.
    pub rss_kib: u64,
}

/// The cluster every end-to-end row runs on.
pub fn cluster_config(agents: usize, simulate: Option<Duration>) -> ClusterConfig {
    let mut cfg = ClusterConfig::for_tests(agents);
    cfg.simulate_tasks = simulate;
    // Mesos' default interval; freed resources are offered at once anyway.
    cfg.allocation_interval = Duration::from_secs(1);
    cfg
}

/// Starts a cluster, runs `command` (`{master}` replaced by `host:port`, `{tasks}` by the
/// task count; also in `MESOS_MASTER`) through `sh -c`, and measures it.
/// `timeout` ends a scheduler that hangs (the row then says "failed").
pub fn measure(
    name: &str,
    command: &str,
    cfg: ClusterConfig,
    tasks: usize,
    timeout: Duration,
) -> Result<Row, Box<dyn std::error::Error>> {
    let agents = cfg.agents.len();
    let cluster = Cluster::start(cfg)?;
    let url = cluster.master_url();
    let master = url.trim_start_matches("http://").to_string();
    let command = command
        .replace("{master}", &master)
        .replace("{tasks}", &tasks.to_string());
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env("MESOS_MASTER", &master)
        .stdin(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let mut peak = 0;
    let mut ok = false;
    let mut last_scan = Instant::now() - Duration::from_secs(1);
    let mut family = vec![pid];
    loop {
        if let Some(status) = child.try_wait()? {
            ok = status.success();
            break;
        }
        if start.elapsed() > timeout {
            eprintln!("{name}: timed out after {timeout:?}; killing pid {pid}");
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        // Children of a wrapper (sh, go run, python) are found every 200 ms.
        if last_scan.elapsed() > Duration::from_millis(200) {
            family = descendants(pid);
            last_scan = Instant::now();
        }
        for p in &family {
            peak = peak.max(vm_hwm_kib(*p).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed();
    let stats = cluster.offer_stats();
    cluster.shutdown();
    Ok(Row {
        name: name.to_string(),
        tasks,
        agents,
        wall,
        ok,
        stats,
        rss_kib: peak,
    })
}

/// `VmHWM` (peak resident set) of a process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `pid` and every process below it.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
                && let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r)
                && let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok())
            {
                parents.push((p, ppid));
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    out
}

/// Prints rows as a Markdown table.
pub fn print_table(rows: &[Row]) {
    println!(
        "| scheduler | tasks | agents | wall s | tasks/s | offer→ACCEPT p50 ms | p99 ms | ACCEPTs | tasks launched | peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let secs = r.wall.as_secs_f64();
        let rate = if r.ok {
            format!("{:.0}", r.tasks as f64 / secs)
        } else {
            "failed".to_string()
        };
        println!(
            "| {} | {} | {} | {:.2} | {} | {:.2} | {:.2} | {} | {} | {:.1} |",
            r.name,
            r.tasks,
            r.agents,
            secs,
            rate,
            r.stats.p50.as_secs_f64() * 1e3,
            r.stats.p99.as_secs_f64() * 1e3,
            r.stats.accepts,
            r.stats.tasks,
            r.rss_kib as f64 / 1024.0,
        );
    }
}

/// The command that runs this program's own scheduler `kind` (`driver` or `raw`).
pub fn own_scheduler(kind: &str, extra: &str) -> Result<String, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    Ok(format!(
        "exec '{}' scheduler --kind {kind} --master {{master}} --tasks {{tasks}} {extra}",
        exe.display()
    ))
}

/// The peers installed in `dir` by `bench/peers/setup.sh`, as (row name, command) for
/// [`measure`]. A peer that is not installed there is skipped with a note; none at all is
/// an error (the folder is probably wrong). Their output goes to `dir/logs/`.
pub fn peers(
    dir: &std::path::Path,
    timeout_secs: u64,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("--peers {}: {e}", dir.display()))?;
    let d = dir.display();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let stamp = std::process::id();
    let mut out = Vec::new();
    if dir.join("bin/example-scheduler").is_file() && dir.join("run-mesos-go.sh").is_file() {
        out.push((
            "mesos-go example-scheduler (Go, protobuf)".to_string(),
            format!(
                "VERBOSE=0 TIMEOUT={timeout_secs} LOG='{d}/logs/mesos-go-{stamp}-{{tasks}}.log' \
                 '{d}/run-mesos-go.sh' {{master}} {{tasks}} >/dev/null"
            ),
        ));
    } else {
        eprintln!("note: no mesos-go in {d} (bin/example-scheduler, run-mesos-go.sh); skipped");
    }
    if dir.join("venv/bin/python").is_file() && dir.join("pymesos_sched.py").is_file() {
        out.push((
            "pymesos 0.3.15 (Python, JSON)".to_string(),
            format!(
                "exec '{d}/venv/bin/python' '{d}/pymesos_sched.py' {{master}} {{tasks}} true \
                 --timeout {timeout_secs} > '{d}/logs/pymesos-{stamp}-{{tasks}}.log' 2>&1"
            ),
        ));
    } else {
        eprintln!("note: no pymesos in {d} (venv/bin/python, pymesos_sched.py); skipped");
    }
    if out.is_empty() {
        return Err(format!(
            "--peers {d}: no peer installed there (run PEERS={d} bash bench/peers/setup.sh)"
        )
        .into());
    }
    Ok(out)
}

/// Prints, for each of our first `own` rows, its tasks/s over each later row's (the
/// peers), and the targets for ours (offer→ACCEPT p99 ≤ 50 ms, RSS ≤ 16 MiB).
pub fn print_ratios(rows: &[Row], own: usize) {
    let rate = |r: &Row| r.ok.then(|| r.tasks as f64 / r.wall.as_secs_f64());
    let (ours, others) = rows.split_at(own.min(rows.len()));
    print!("\n| ours | p99 ≤ 50 ms | RSS ≤ 16 MiB |");
    for o in others {
        print!(" tasks/s ÷ {} |", o.name);
    }
    print!("\n|---|---|---|");
    for _ in others {
        print!("---:|");
    }
    println!();
    for r in ours {
        let p99 = r.stats.p99.as_secs_f64() * 1e3;
        let mib = r.rss_kib as f64 / 1024.0;
        let yes = |ok: bool| if ok { "yes" } else { "no" };
        print!(
            "| {} | {} ({p99:.1}) | {} ({mib:.1}) |",
            r.name,
            yes(p99 <= 50.0),
            yes(mib <= 16.0)
        );
        for o in others {
            match (rate(r), rate(o)) {
                (Some(a), Some(b)) => print!(" {:.2}x |", a / b),
                _ => print!(" n/a (a run failed) |"),
            }
        }
        println!();
    }
}
