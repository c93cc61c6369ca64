//! What a framework learns about its tasks' outcomes, against a scripted
//! master: the LAUNCH_GROUP the handle sends carries what Mesos 1.12 requires
//! (fact sheet §3.5), and `tasks::expect_end` turns an end the framework does
//! not want into an error that stops `run`.

mod scheduler_peer;

use mesos_client::offers::{RemainingResources, Resources};
use mesos_client::resources::scalar;
use mesos_client::tasks::{ExecutorBuilder, TaskBuilder, expect_end};
use mesos_client::{Error, Scheduler, SchedulerDriver, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::event;
use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{AgentId, FrameworkId, Offer, OfferId, TaskState, TaskStatus, offer};
use scheduler_peer::*;

fn script(events: Vec<String>) -> impl FnMut(&Request) -> Reply + Send + 'static {
    move |request: &Request| match request.call_type() {
        "SUBSCRIBE" => Reply::json_stream("stream-1", &events, After::Hold),
        _ => Reply::accepted(),
    }
}

/// An offer of the scripted agent with cpus, mem and disk.
fn offer() -> Offer {
    Offer {
        id: OfferId { value: "O1".into() },
        agent_id: AgentId {
            value: AGENT_ID.into(),
        },
        resources: vec![
            scalar("cpus", 1.0),
            scalar("mem", 256.0),
            scalar("disk", 256.0),
        ],
        ..Default::default()
    }
}

/// Once subscribed: three task groups, as a framework would launch them.
struct Groups;

impl Scheduler for Groups {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        _: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        let offer = offer();
        let mut left = RemainingResources::from_offer(&offer);
        let task = TaskBuilder::command(&offer, "true")
            .id("t1")
            .resources(left.take(&Resources::new(0.1, 32.0)).unwrap())
            .build();
        let own = left
            .take(&Resources::new(0.1, 32.0).with_disk(32.0))
            .unwrap();
        // 1. As the lessons do: no framework id on the executor.
        let executor = ExecutorBuilder::default_executor("g1").resources(own.clone());
        handle.launch_group(&offer, executor.clone().build(), vec![task.clone()])?;
        // 2. One set by the framework is left alone.
        let elsewhere = FrameworkId {
            value: "set-by-hand".into(),
        };
        let executor2 = executor.clone().framework_id(&elsewhere).build();
        handle.launch_group(&offer, executor2, vec![task.clone()])?;
        // 3. The low-level ACCEPT with a LAUNCH_GROUP operation gets it too.
        let mut operation = offer::Operation {
            launch_group: Some(offer::operation::LaunchGroup {
                executor: executor.build(),
                task_group: mesos_proto::v1::TaskGroupInfo { tasks: vec![task] },
            }),
            ..Default::default()
        };
        operation.set_type(offer::operation::Type::LaunchGroup);
        handle.accept(vec![offer.id.clone()], vec![operation], None)?;
        handle.stop(StopMode::Failover);
        Ok(())
    }
}

#[test]
fn launch_group_sets_the_executors_framework_id_from_the_subscription() {
    let peer = Peer::start(script(vec![subscribed(15.0)]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, _) = run_with_deadline(driver, Groups);
    result.unwrap();

    let requests = peer.requests();
    let accepts = of_type(&requests, "ACCEPT");
    assert_eq!(accepts.len(), 3);
    let group = |i: usize| accepts[i].json()["accept"]["operations"][0]["launch_group"].clone();
    // Mesos 1.12 refuses a group whose executor has no framework_id (fact
    // sheet §3.5): the handle fills in the subscription's.
    assert_eq!(group(0)["executor"]["framework_id"]["value"], FRAMEWORK_ID);
    assert_eq!(group(0)["executor"]["type"], "DEFAULT");
    // cpus, mem and disk for the executor, as the lessons take them.
    let names: Vec<String> = group(0)["executor"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["cpus", "mem", "disk"]);
    assert_eq!(group(1)["executor"]["framework_id"]["value"], "set-by-hand");
    assert_eq!(group(2)["executor"]["framework_id"]["value"], FRAMEWORK_ID);
}

/// UPDATE as Mesos 1.12 answers a LAUNCH_GROUP whose executor lacks its
/// framework id: TASK_ERROR from the master, no uuid (fact sheet §3.5).
fn task_group_invalid() -> String {
    format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"task-1"}},"state":"TASK_ERROR","message":"'ExecutorInfo.framework_id' must be set","source":"SOURCE_MASTER","reason":"REASON_TASK_GROUP_INVALID","agent_id":{{"value":"{AGENT_ID}"}},"timestamp":1795473767.1}}}}}}"#
    )
}

/// Expects its tasks to finish, as a lesson does; records what it saw.
#[derive(Default)]
struct ExpectsFinished {
    seen: Vec<TaskState>,
}

impl Scheduler for ExpectsFinished {
    fn update(&mut self, _: &SchedulerHandle, status: &TaskStatus) -> mesos_client::Result<()> {
        self.seen.push(status.state());
        expect_end(status, &[TaskState::TaskFinished])
    }
}

#[test]
fn an_unexpected_end_stops_run_with_the_task_state_and_mesos_reason() {
    // A running task (no end yet) is fine; the TASK_ERROR ends `run`.
    let peer = Peer::start(script(vec![
        subscribed(15.0),
        update_with_uuid(),
        task_group_invalid(),
        heartbeat(),
    ]));
    let driver = SchedulerDriver::new(fast_config(&peer.addr())).unwrap();
    let (result, framework) = run_with_deadline(driver, ExpectsFinished::default());
    let err = result.expect_err("TASK_ERROR is not an end this framework expects");
    match &err {
        Error::UnexpectedTaskState {
            task_id,
            state,
            source,
            reason,
            message,
        } => {
            assert_eq!(task_id.value, "task-1");
            assert_eq!(*state, TaskState::TaskError);
            assert_eq!(*source, Source::SourceMaster);
            assert_eq!(*reason, Some(Reason::ReasonTaskGroupInvalid));
            assert_eq!(message, "'ExecutorInfo.framework_id' must be set");
        }
        other => panic!("expected UnexpectedTaskState, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "task task-1 ended TASK_ERROR unexpectedly (from SOURCE_MASTER, \
         REASON_TASK_GROUP_INVALID): 'ExecutorInfo.framework_id' must be set"
    );
    // Not a failed call: the driver does not go on after it.
    assert!(!err.is_call_failure());
    assert_eq!(
        framework.seen,
        [TaskState::TaskRunning, TaskState::TaskError]
    );
}

#[test]
fn expect_end_passes_what_has_not_ended_and_the_expected_ends() {
    let status = |state: TaskState| {
        let mut status = TaskStatus::default();
        status.set_state(state);
        status
    };
    use TaskState::*;
    for state in [TaskStaging, TaskStarting, TaskRunning, TaskKilling] {
        assert!(expect_end(&status(state), &[]).is_ok(), "{state:?}");
    }
    // Not ends: the task may come back (partition-aware frameworks).
    for state in [TaskUnreachable, TaskUnknown] {
        assert!(expect_end(&status(state), &[]).is_ok(), "{state:?}");
    }
    assert!(expect_end(&status(TaskKilled), &[TaskFailed, TaskKilled]).is_ok());
    for state in [
        TaskFinished,
        TaskFailed,
        TaskKilled,
        TaskError,
        TaskLost,
        TaskDropped,
        TaskGone,
        TaskGoneByOperator,
    ] {
        let err = expect_end(&status(state), &[]).expect_err("no end is expected");
        assert!(
            matches!(err, Error::UnexpectedTaskState { state: s, reason: None, .. } if s == state),
            "{err:?}"
        );
    }
    // Without reason and message the text says so, and stops there.
    assert_eq!(
        expect_end(&status(TaskLost), &[TaskFinished])
            .unwrap_err()
            .to_string(),
        "task  ended TASK_LOST unexpectedly (from SOURCE_MASTER, no reason)"
    );
}
