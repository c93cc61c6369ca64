//! How fast a subscriber can turn stream bytes into events.
//!
//! We build realistic event streams (OFFERS with several agents' resources
//! and attributes, UPDATE with a container status, in the shapes captured
//! from Mesos 1.12), frame them with RecordIO, and time the full decode path
//! a client runs: RecordIO framing, then protobuf or JSON into the generated
//! types. A plain memory copy of the same bytes is printed as the bound.

use mesos_proto::ContentType;
use mesos_proto::recordio::{Decoder, encode_into};
use mesos_proto::v1::scheduler::{Event, event};
use mesos_proto::v1::{
    Address, AgentId, Attribute, ContainerId, ContainerStatus, ExecutorId, FrameworkId,
    NetworkInfo, Offer, OfferId, Resource, TaskId, TaskState, TaskStatus, Url, network_info,
    task_status, value,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Options of `bench decode`.
#[derive(clap::Args)]
pub struct Options {
    /// How long to run each measurement, in seconds.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Offers per OFFERS event.
    #[arg(long, default_value_t = 10)]
    offers_per_event: usize,
    /// Only this event (`OFFERS` or `UPDATE`), e.g. to profile one row.
    #[arg(long)]
    event: Option<String>,
    /// Only this encoding (`protobuf` or `json`).
    #[arg(long)]
    encoding: Option<String>,
}

pub fn run(options: &Options) {
    let budget = Duration::from_secs_f64(options.seconds);
    println!(
        "| event | encoding | event size (B) | decode events/s | decode MB/s | decode MB/s per CPU second | encode events/s | memcpy MB/s (bound) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let events = [
        ("OFFERS", offers_event(options.offers_per_event)),
        ("UPDATE", update_event()),
    ];
    let wanted_event = |name: &str| {
        options
            .event
            .as_deref()
            .is_none_or(|e| e.eq_ignore_ascii_case(name))
    };
    let wanted_encoding = |c: ContentType| {
        options.encoding.as_deref().is_none_or(|e| {
            e.eq_ignore_ascii_case(if c == ContentType::Protobuf {
                "protobuf"
            } else {
                "json"
            })
        })
    };
    for (name, event) in events.iter().filter(|(name, _)| wanted_event(name)) {
        for content in [ContentType::Protobuf, ContentType::Json] {
            if !wanted_encoding(content) {
                continue;
            }
            let record = content.encode(event);
            // A stream of about 4 MiB, decoded again and again.
            let count = (4 << 20) / record.len().max(1) + 1;
            let mut stream = Vec::with_capacity(count * (record.len() + 8));
            for _ in 0..count {
                encode_into(&record, &mut stream);
            }
            let decode = measure(budget, || {
                let mut decoder = Decoder::new(stream.as_slice());
                let mut n = 0;
                while let Some(bytes) = decoder.next_record().expect("our own stream") {
                    let event: Event = content.decode(&bytes).expect("our own event");
                    black_box(&event);
                    n += 1;
                }
                n
            });
            let encode = measure(budget, || {
                black_box(content.encode(event));
                1
            });
            let copy = measure(budget, || {
                black_box(stream.clone());
                count
            });
            let mb = |events_per_s: f64| events_per_s * stream.len() as f64 / count as f64 / 1e6;
            println!(
                "| {name} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} |",
                content.mime(),
                record.len(),
                decode.wall,
                mb(decode.wall),
                mb(decode.cpu),
                encode.wall,
                mb(copy.wall)
            );
        }
    }
}

/// Events per second, by the clock and per second of this thread's CPU time.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Runs `work` (which returns how many events it handled) until `budget`
/// has passed. The CPU-time rate is what one core does, however busy the
/// machine is with other work (the clock rate is not, on a shared machine).
fn measure(budget: Duration, mut work: impl FnMut() -> usize) -> Rate {
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut events = 0usize;
    while start.elapsed() < budget {
        events += work();
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => events as f64 / (b - a),
        _ => f64::NAN,
    };
    Rate {
        wall: events as f64 / wall,
        cpu,
    }
}

/// This thread's user + system CPU time, from `/proc/thread-self/stat` (Linux; in clock
/// ticks of 10 ms, so a measurement of 2 s is good to about 1 %). `None` elsewhere.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces:
    // state is field 3, utime field 14 and stime field 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| fields.get(i - 3)?.parse::<f64>().ok();
    Some((ticks(14)? + ticks(15)?) / 100.0)
}

fn scalar(name: &str, amount: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount }),
        role: Some("*".into()),
        ..Default::default()
    }
}

/// An OFFERS event shaped like the ones Mesos 1.12 sent in the fixtures.
fn offers_event(offers: usize) -> Event {
    let offer = |i: usize| Offer {
        id: OfferId {
            value: format!("25c8d6d5-c7f6-43f2-bf68-e039baf1af66-O{i}"),
        },
        framework_id: FrameworkId {
            value: "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-0000".into(),
        },
        agent_id: AgentId {
            value: format!("25c8d6d5-c7f6-43f2-bf68-e039baf1af66-S{i}"),
        },
        hostname: format!("agent-{i}.example"),
        url: Some(Url {
            scheme: "http".into(),
            address: Address {
                hostname: Some("localhost".into()),
                ip: Some("127.0.0.1".into()),
                port: 5051,
            },
            path: Some("/slave(1)".into()),
            ..Default::default()
        }),
        resources: vec![
            Resource {
                name: "ports".into(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: vec![value::Range {
                        begin: 31000,
                        end: 32000,
                    }],
                }),
                role: Some("*".into()),
                ..Default::default()
            },
            scalar("cpus", 4.0),
            scalar("mem", 4096.0),
            scalar("disk", 10240.0),
        ],
        attributes: vec![
            Attribute {
                name: "rack".into(),
                r#type: value::Type::Text as i32,
                text: Some(value::Text { value: "r1".into() }),
                ..Default::default()
            },
            Attribute {
                name: "level".into(),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar { value: 3.5 }),
                ..Default::default()
            },
        ],
        executor_ids: vec![ExecutorId {
            value: "exec-1".into(),
        }],
        ..Default::default()
    };
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers {
            offers: (0..offers).map(offer).collect(),
        }),
        ..Default::default()
    }
}

/// An UPDATE event shaped like a custom executor's TASK_RUNNING.
fn update_event() -> Event {
    let mut status = TaskStatus {
        task_id: TaskId {
            value: "exec-task-1".into(),
        },
        message: Some("running".into()),
        agent_id: Some(AgentId {
            value: "25c8d6d5-c7f6-43f2-bf68-e039baf1af66-S0".into(),
        }),
        executor_id: Some(ExecutorId {
            value: "py-exec-1".into(),
        }),
        timestamp: Some(1_795_473_764.908_156_4),
        uuid: Some(mesos_proto::uuid::new_v4()),
        container_status: Some(ContainerStatus {
            container_id: Some(ContainerId {
                value: "97e55f3d-8846-40ce-9230-4b667b93a1c1".into(),
                parent: None,
            }),
            network_infos: vec![NetworkInfo {
                ip_addresses: vec![network_info::IpAddress {
                    protocol: Some(network_info::Protocol::IPv4 as i32),
                    ip_address: Some("127.0.0.1".into()),
                }],
                ..Default::default()
            }],
            executor_pid: Some(4242),
            ..Default::default()
        }),
        ..Default::default()
    };
    status.set_state(TaskState::TaskRunning);
    status.set_source(task_status::Source::SourceExecutor);
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update { status }),
        ..Default::default()
    }
}
