//! One-line summaries of calls and events: the key fields a reader scans the timeline
//! for (task ids and states, offer ids, error messages); the full message is one click away.

use mesos_proto::v1::executor;
use mesos_proto::v1::scheduler::{Call, Event, call, event};

fn ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = ids.collect();
    match all.len() {
        0 => "none".to_string(),
        1..=3 => all.join(", "),
        n => format!("{}, ... ({n})", all[..2].join(", ")),
    }
}

/// The key fields of a call, one line.
pub(super) fn call(c: &Call) -> String {
    use mesos_proto::v1::offer::operation::Type as Op;
    match c.r#type() {
        call::Type::Subscribe => c.subscribe.as_ref().map_or(String::new(), |s| {
            let i = &s.framework_info;
            let id =
                i.id.as_ref()
                    .map_or("new".to_string(), |id| id.value.clone());
            format!("name={} id={id} roles={:?}", i.name, i.roles)
        }),
        call::Type::Accept => c.accept.as_ref().map_or(String::new(), |a| {
            let mut tasks = Vec::new();
            for op in &a.operations {
                match op.r#type() {
                    Op::Launch => {
                        let l = op.launch.iter().flat_map(|l| &l.task_infos);
                        tasks.extend(l.map(|t| t.task_id.value.as_str()));
                    }
                    Op::LaunchGroup => {
                        let g = op.launch_group.iter();
                        let t = g.flat_map(|g| &g.task_group.tasks);
                        tasks.extend(t.map(|t| t.task_id.value.as_str()));
                    }
                    _ => {}
                }
            }
            format!(
                "offers: {}; launch: {}",
                ids(a.offer_ids.iter().map(|o| o.value.as_str())),
                ids(tasks.into_iter())
            )
        }),
        call::Type::Decline => c.decline.as_ref().map_or(String::new(), |d| {
            format!(
                "offers: {}",
                ids(d.offer_ids.iter().map(|o| o.value.as_str()))
            )
        }),
        call::Type::Acknowledge => c.acknowledge.as_ref().map_or(String::new(), |a| {
            format!(
                "task {} uuid {}",
                a.task_id.value,
                mesos_proto::uuid::to_string(&a.uuid)
            )
        }),
        call::Type::Kill => c
            .kill
            .as_ref()
            .map_or(String::new(), |k| format!("task {}", k.task_id.value)),
        call::Type::Reconcile => c.reconcile.as_ref().map_or(String::new(), |r| {
            if r.tasks.is_empty() {
                "implicit (all tasks)".to_string()
            } else {
                format!(
                    "tasks: {}",
                    ids(r.tasks.iter().map(|t| t.task_id.value.as_str()))
                )
            }
        }),
        call::Type::Message => c.message.as_ref().map_or(String::new(), |m| {
            format!("executor {} ({} bytes)", m.executor_id.value, m.data.len())
        }),
        call::Type::Revive => c
            .revive
            .as_ref()
            .map_or("all roles".to_string(), |r| format!("roles {:?}", r.roles)),
        call::Type::Suppress => c
            .suppress
            .as_ref()
            .map_or("all roles".to_string(), |r| format!("roles {:?}", r.roles)),
        _ => String::new(),
    }
}

/// The key fields of an event, one line.
pub(super) fn event(e: &Event) -> String {
    match e.r#type() {
        event::Type::Subscribed => e.subscribed.as_ref().map_or(String::new(), |s| {
            format!(
                "framework {} heartbeat {}s",
                s.framework_id.value,
                s.heartbeat_interval_seconds.unwrap_or(0.0)
            )
        }),
        event::Type::Offers => e.offers.as_ref().map_or(String::new(), |o| {
            let list: Vec<String> = o
                .offers
                .iter()
                .map(|o| format!("{} on {}", o.id.value, o.agent_id.value))
                .collect();
            format!(
                "{} offer(s): {}",
                list.len(),
                ids(list.iter().map(String::as_str))
            )
        }),
        event::Type::Rescind => e
            .rescind
            .as_ref()
            .map_or(String::new(), |r| format!("offer {}", r.offer_id.value)),
        event::Type::Update => e.update.as_ref().map_or(String::new(), |u| {
            let s = &u.status;
            let mut text = format!("task {} {}", s.task_id.value, s.state().as_str_name());
            // Who said so and why: the fields a learner needs to tell a crash from a kill.
            if s.source.is_some() {
                text.push_str(&format!(" from {}", s.source().as_str_name()));
            }
            if s.reason.is_some() {
                text.push_str(&format!(" ({})", s.reason().as_str_name()));
            }
            if let Some(m) = s.message.as_deref().filter(|m| !m.is_empty()) {
                text.push_str(&format!(" \u{2014} {m}"));
            }
            text
        }),
        event::Type::Message => e.message.as_ref().map_or(String::new(), |m| {
            format!(
                "from executor {} ({} bytes)",
                m.executor_id.value,
                m.data.len()
            )
        }),
        event::Type::Failure => e.failure.as_ref().map_or(String::new(), |f| {
            let agent = f.agent_id.as_ref().map_or("", |a| a.value.as_str());
            match &f.executor_id {
                Some(x) => format!("executor {} on {agent} status {:?}", x.value, f.status),
                None => format!("agent {agent} lost"),
            }
        }),
        event::Type::Error => e
            .error
            .as_ref()
            .map_or(String::new(), |er| er.message.clone()),
        _ => String::new(),
    }
}

/// The key fields of an executor's call to its agent, one line.
pub(super) fn executor_call(c: &executor::Call) -> String {
    use executor::call::Type;
    match c.r#type() {
        Type::Subscribe => c.subscribe.as_ref().map_or(String::new(), |s| {
            format!(
                "executor {} ({} unacknowledged updates)",
                c.executor_id.value,
                s.unacknowledged_updates.len()
            )
        }),
        Type::Update => c.update.as_ref().map_or(String::new(), |u| {
            let s = &u.status;
            format!("task {} {}", s.task_id.value, s.state().as_str_name())
        }),
        Type::Message => c
            .message
            .as_ref()
            .map_or(String::new(), |m| format!("{} bytes", m.data.len())),
        _ => String::new(),
    }
}

/// The key fields of an event an agent sent to an executor, one line.
pub(super) fn executor_event(e: &executor::Event) -> String {
    use executor::event::Type;
    match e.r#type() {
        Type::Launch => e
            .launch
            .as_ref()
            .map_or(String::new(), |l| format!("task {}", l.task.task_id.value)),
        Type::LaunchGroup => e.launch_group.as_ref().map_or(String::new(), |g| {
            let t = g.task_group.tasks.iter().map(|t| t.task_id.value.as_str());
            format!("tasks {}", ids(t))
        }),
        Type::Kill => e
            .kill
            .as_ref()
            .map_or(String::new(), |k| format!("task {}", k.task_id.value)),
        Type::Acknowledged => e.acknowledged.as_ref().map_or(String::new(), |a| {
            format!(
                "task {} uuid {}",
                a.task_id.value,
                mesos_proto::uuid::to_string(&a.uuid)
            )
        }),
        Type::Message => e
            .message
            .as_ref()
            .map_or(String::new(), |m| format!("{} bytes", m.data.len())),
        Type::Error => e
            .error
            .as_ref()
            .map_or(String::new(), |er| er.message.clone()),
        _ => String::new(),
    }
}
