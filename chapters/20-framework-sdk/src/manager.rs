//! The task manager (which instance is where, what to launch next) and the
//! resource manager (does an offer suit a task kind). No Mesos calls here.

use std::collections::BTreeMap;
use std::time::Instant;

use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources;
use mesos_proto::v1::{Attribute, Offer, TaskState, TaskStatus, value};

use crate::app::{App, AttributeFilter, TaskSpec};
use crate::state::{SavedInstance, SavedState};

/// Where an instance is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// To be launched once `not_before` has passed.
    Pending {
        /// Retry backoff.
        not_before: Instant,
    },
    /// Saved by an earlier run; waiting for the master's reconciliation answer.
    Reconciling,
    /// Launched, not running yet (staging, starting).
    Launched,
    /// Running.
    Running,
    /// Ended with TASK_FINISHED: not relaunched.
    Finished,
    /// Failed `max_failures` times: not relaunched.
    GaveUp,
}

/// One instance of a task kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `<kind>-<n>`.
    pub name: String,
    /// Index of its kind in the app.
    pub kind: usize,
    /// Current phase.
    pub phase: Phase,
    /// Current (or last) task id.
    pub task_id: String,
    /// Its agent.
    pub agent_id: String,
    /// Last state name heard.
    pub last_state: String,
    /// Failures so far.
    pub failures: u32,
    /// When it last went RUNNING (this run).
    pub running_since: Option<Instant>,
}

/// All instances of an app.
#[derive(Debug)]
pub struct TaskManager {
    app: App,
    instances: Vec<Instance>,
}

impl TaskManager {
    /// Instances for `app`, picking up where `saved` left off: an instance
    /// with a saved, not-ended task waits for reconciliation.
    pub fn new(app: App, saved: &SavedState, now: Instant) -> TaskManager {
        let mut instances = Vec::new();
        for (kind, spec) in app.tasks.iter().enumerate() {
            for n in 0..spec.instances {
                let name = format!("{}-{n}", spec.name);
                let old = saved.instances.get(&name).cloned().unwrap_or_default();
                let ended = ended(&old.state);
                let phase = if !old.task_id.is_empty() && !ended {
                    Phase::Reconciling
                } else if old.state == "TASK_FINISHED" {
                    Phase::Finished
                } else {
                    Phase::Pending { not_before: now }
                };
                instances.push(Instance {
                    name,
                    kind,
                    phase,
                    task_id: old.task_id,
                    agent_id: old.agent_id,
                    last_state: old.state,
                    failures: old.failures,
                    running_since: None,
                });
            }
        }
        TaskManager { app, instances }
    }

    /// Saved tasks to ask the master about: `(task_id, agent_id)`.
    pub fn to_reconcile(&self) -> Vec<(String, String)> {
        self.instances
            .iter()
            .filter(|i| i.phase == Phase::Reconciling)
            .map(|i| (i.task_id.clone(), i.agent_id.clone()))
            .collect()
    }

    /// Instances to launch now, in app order.
    pub fn pending(&self, now: Instant) -> Vec<usize> {
        (0..self.instances.len())
            .filter(|&i| matches!(self.instances[i].phase, Phase::Pending { not_before } if not_before <= now))
            .collect()
    }

    /// Instance `i` was launched as `task_id` on `agent_id`.
    pub fn launched(&mut self, i: usize, task_id: &str, agent_id: &str) {
        let instance = &mut self.instances[i];
        instance.phase = Phase::Launched;
        instance.task_id = task_id.to_string();
        instance.agent_id = agent_id.to_string();
        instance.last_state = "TASK_STAGING".into();
    }

    /// The instance whose current task is `task_id`, if any.
    pub fn instance_of(&self, task_id: &str) -> Option<usize> {
        self.instances.iter().position(|i| i.task_id == task_id)
    }

    /// The launch of instance `i` was refused: it is pending again.
    pub fn not_launched(&mut self, i: usize, now: Instant) {
        self.instances[i].phase = Phase::Pending { not_before: now };
    }

    /// Applies an update; returns whether anything changed (stale updates
    /// for an instance's older tasks change nothing).
    pub fn update(&mut self, status: &TaskStatus, now: Instant) -> bool {
        let id = status.task_id.value.as_str();
        let Some(i) = self.instances.iter().position(|i| i.task_id == id) else {
            return false;
        };
        let state = status.state();
        let retry = self.app.tasks[self.instances[i].kind].retry;
        let instance = &mut self.instances[i];
        if matches!(
            instance.phase,
            Phase::Finished | Phase::GaveUp | Phase::Pending { .. }
        ) {
            return false;
        }
        instance.last_state = state.as_str_name().to_string();
        if state != TaskState::TaskRunning {
            instance.running_since = None;
        } else if instance.running_since.is_none() {
            instance.running_since = Some(now);
        }
        instance.phase = match state {
            TaskState::TaskRunning => Phase::Running,
            TaskState::TaskFinished => Phase::Finished,
            s if ended(s.as_str_name()) => {
                instance.failures += 1;
                if instance.failures >= retry.max_failures {
                    log::error!(
                        "{} gave up after {} failure(s)",
                        instance.name,
                        instance.failures
                    );
                    Phase::GaveUp
                } else {
                    Phase::Pending {
                        not_before: now + retry.delay(instance.failures),
                    }
                }
            }
            _ => Phase::Launched,
        };
        true
    }

    /// Whether every instance runs (or finished).
    pub fn all_running(&self) -> bool {
        self.instances
            .iter()
            .all(|i| matches!(i.phase, Phase::Running | Phase::Finished))
    }

    /// Whether nothing is left to do: every instance has been running for
    /// at least `grace` (a command that fails at once is RUNNING for a
    /// moment too), finished, or was given up.
    pub fn settled(&self, now: Instant, grace: std::time::Duration) -> bool {
        self.instances.iter().all(|i| match i.phase {
            Phase::Running => i.running_since.is_some_and(|t| t + grace <= now),
            Phase::Finished | Phase::GaveUp => true,
            _ => false,
        })
    }

    /// Every instance.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The spec of instance `i`.
    pub fn spec(&self, i: usize) -> &TaskSpec {
        &self.app.tasks[self.instances[i].kind]
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The state to save.
    pub fn saved(&self, framework_id: Option<String>) -> SavedState {
        let instances = self
            .instances
            .iter()
            .map(|i| {
                let saved = SavedInstance {
                    task_id: i.task_id.clone(),
                    agent_id: i.agent_id.clone(),
                    state: i.last_state.clone(),
                    failures: i.failures,
                };
                (i.name.clone(), saved)
            })
            .collect::<BTreeMap<_, _>>();
        SavedState {
            framework_id,
            instances,
        }
    }
}

/// Whether a state name means the task is over (UNKNOWN: the master has
/// never heard of it, which for us is the same).
fn ended(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_ERROR"
            | "TASK_LOST"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
            | "TASK_UNKNOWN"
    )
}

/// The resource manager's question: does `offer` come from an agent with
/// every attribute in `filters`? Text attributes compare as text, scalars
/// as numbers (`"3"` matches `3.0`).
pub fn attributes_match(offer: &Offer, filters: &[AttributeFilter]) -> bool {
    filters.iter().all(|filter| {
        offer.attributes.iter().any(|a| {
            a.name == filter.name
                && match a.r#type() {
                    value::Type::Text => a.text.as_ref().is_some_and(|t| t.value == filter.value),
                    value::Type::Scalar => {
                        let wanted: Option<f64> = filter.value.parse().ok();
                        a.scalar.as_ref().map(|s| s.value) == wanted
                    }
                    _ => false,
                }
        })
    })
}

/// What one instance of `spec` needs.
pub fn need(spec: &TaskSpec) -> Resources {
    Resources::new(spec.resources.cpus, spec.resources.mem).with_disk(spec.resources.disk)
}

/// A scalar resource an instance asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// CPU shares.
    Cpus,
    /// Memory, MB.
    Mem,
    /// Disk, MB.
    Disk,
}

impl Scalar {
    /// Mesos' name for it.
    pub fn name(self) -> &'static str {
        match self {
            Scalar::Cpus => "cpus",
            Scalar::Mem => "mem",
            Scalar::Disk => "disk",
        }
    }
}

/// Why an offer does not suit an instance: the resource manager's answer, for the report
/// of instances that cannot be placed.
#[derive(Debug, Clone, PartialEq)]
pub enum Misfit {
    /// The agent lacks an attribute the instance wants, or has another value.
    Attribute {
        /// The attribute.
        name: String,
        /// The value the app file asks for.
        wanted: String,
        /// What the agent has under that name (text, or a scalar as text), if anything.
        found: Option<String>,
    },
    /// What is left of the offer is too little of a resource.
    Short {
        /// The resource.
        resource: Scalar,
        /// What one instance needs.
        wanted: f64,
        /// What is left of the offer.
        left: f64,
    },
    /// The amounts are there, but not in a form a task can take (persistent volumes,
    /// mount disks, shared resources).
    NotDivisible,
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Misfit::Attribute {
                name,
                wanted,
                found: Some(found),
            } => write!(f, "{name}={wanted} wanted, the agent has {name}={found}"),
            Misfit::Attribute {
                name,
                wanted,
                found: None,
            } => write!(f, "{name}={wanted} wanted, the agent has no {name}"),
            Misfit::Short {
                resource,
                wanted,
                left,
            } => write!(f, "{} {wanted} wanted, {left} left", resource.name()),
            Misfit::NotDivisible => f.write_str("its resources cannot be divided"),
        }
    }
}

/// Whether an instance of `spec` can take its share of `remaining`, an offer's resources
/// that earlier instances have not taken: `None` if so, else the first reason why not
/// (attributes first, as [`attributes_match`] checks them; then cpus, mem, disk).
pub fn misfit(offer: &Offer, remaining: &RemainingResources, spec: &TaskSpec) -> Option<Misfit> {
    for filter in &spec.attributes {
        if !attributes_match(offer, std::slice::from_ref(filter)) {
            let found = offer.attributes.iter().find(|a| a.name == filter.name);
            return Some(Misfit::Attribute {
                name: filter.name.clone(),
                wanted: filter.value.clone(),
                found: found.map(attribute_text),
            });
        }
    }
    let want = need(spec);
    if remaining.fits(&want) {
        return None;
    }
    let left = remaining.resources();
    let amounts = [
        (Scalar::Cpus, want.cpus, resources::cpus(left)),
        (Scalar::Mem, want.mem, resources::mem(left)),
        (Scalar::Disk, want.disk, resources::disk(left)),
    ];
    let short = amounts.into_iter().find(|(_, wanted, left)| wanted > left);
    Some(
        short.map_or(Misfit::NotDivisible, |(resource, wanted, left)| {
            Misfit::Short {
                resource,
                wanted,
                left,
            }
        }),
    )
}

/// An attribute's value as the app file would write it.
fn attribute_text(attribute: &Attribute) -> String {
    match attribute.r#type() {
        value::Type::Text => attribute
            .text
            .as_ref()
            .map_or(String::new(), |t| t.value.clone()),
        value::Type::Scalar => attribute
            .scalar
            .as_ref()
            .map_or(String::new(), |s| s.value.to_string()),
        other => other.as_str_name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::v1::{TaskId, value::Text};

    fn app() -> App {
        App::from_json(
            r#"{"name":"a","tasks":[{"name":"t","instances":2,"resources":{"cpus":1,"mem":1},
                "command":"x","retry":{"backoff_min_secs":1,"backoff_max_secs":1,"max_failures":2}}]}"#,
        )
        .unwrap()
    }

    fn status(id: &str, state: TaskState) -> TaskStatus {
        let mut s = TaskStatus {
            task_id: TaskId { value: id.into() },
            ..Default::default()
        };
        s.set_state(state);
        s
    }

    #[test]
    fn instances_run_fail_retry_and_give_up() {
        let now = Instant::now();
        let mut m = TaskManager::new(app(), &SavedState::default(), now);
        assert_eq!(m.pending(now), [0, 1]);
        m.launched(0, "t-0.a", "s");
        m.launched(1, "t-1.a", "s");
        assert!(m.update(&status("t-0.a", TaskState::TaskRunning), now));
        assert!(!m.all_running());
        m.update(&status("t-1.a", TaskState::TaskFailed), now);
        assert!(m.pending(now).is_empty(), "backing off");
        let later = now + std::time::Duration::from_secs(1);
        assert_eq!(m.pending(later), [1]);
        m.launched(1, "t-1.b", "s");
        assert!(
            !m.update(&status("t-1.a", TaskState::TaskRunning), later),
            "stale"
        );
        m.update(&status("t-1.b", TaskState::TaskLost), later);
        assert_eq!(m.instances()[1].phase, Phase::GaveUp);
    }

    #[test]
    fn a_saved_live_task_is_reconciled_not_relaunched() {
        let now = Instant::now();
        let mut first = TaskManager::new(app(), &SavedState::default(), now);
        first.launched(0, "t-0.a", "s1");
        let saved = first.saved(Some("f".into()));
        let second = TaskManager::new(app(), &saved, now);
        assert_eq!(
            second.to_reconcile(),
            [("t-0.a".to_string(), "s1".to_string())]
        );
        assert_eq!(second.pending(now), [1]);
    }

    #[test]
    fn attribute_filters_match_text_and_scalars() {
        let mut zone = Attribute {
            name: "zone".into(),
            text: Some(Text { value: "a".into() }),
            ..Default::default()
        };
        zone.set_type(value::Type::Text);
        let offer = Offer {
            attributes: vec![zone],
            ..Default::default()
        };
        let want = |name: &str, value: &str| AttributeFilter {
            name: name.into(),
            value: value.into(),
        };
        assert!(attributes_match(&offer, &[]));
        assert!(attributes_match(&offer, &[want("zone", "a")]));
        assert!(!attributes_match(&offer, &[want("zone", "b")]));
        assert!(!attributes_match(&offer, &[want("rack", "a")]));
    }

    #[test]
    fn a_misfit_says_which_attribute_or_resource() {
        let mut zone = Attribute {
            name: "zone".into(),
            text: Some(Text { value: "b".into() }),
            ..Default::default()
        };
        zone.set_type(value::Type::Text);
        let offer = Offer {
            attributes: vec![zone],
            resources: vec![
                resources::scalar("cpus", 0.1),
                resources::scalar("mem", 512.0),
            ],
            ..Default::default()
        };
        let remaining = RemainingResources::from_offer(&offer);
        let mut spec = app().tasks[0].clone();
        spec.resources.cpus = 0.2;
        spec.resources.mem = 64.0;
        assert_eq!(
            misfit(&offer, &remaining, &spec),
            Some(Misfit::Short {
                resource: Scalar::Cpus,
                wanted: 0.2,
                left: 0.1
            })
        );
        spec.attributes = vec![AttributeFilter {
            name: "zone".into(),
            value: "a".into(),
        }];
        let zone = misfit(&offer, &remaining, &spec).unwrap();
        assert_eq!(zone.to_string(), "zone=a wanted, the agent has zone=b");
        spec.attributes[0].name = "rack".into();
        let rack = misfit(&offer, &remaining, &spec).unwrap();
        assert_eq!(rack.to_string(), "rack=a wanted, the agent has no rack");
        spec.attributes.clear();
        spec.resources.cpus = 0.1;
        assert_eq!(misfit(&offer, &remaining, &spec), None);
    }
}
