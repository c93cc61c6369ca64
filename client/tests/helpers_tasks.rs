//! Task, executor and command builders; unique ids; the default user.

use std::collections::HashSet;
use std::time::Duration;

use mesos_client::resources::scalar;
use mesos_client::tasks::{
    ExecutorBuilder, TaskBuilder, TaskIdGenerator, default_user, exec_command, shell_command, uri,
};
use mesos_proto::v1::{AgentId, ContainerInfo, Offer, container_info, executor_info};
use serde_json::json;

fn offer() -> Offer {
    Offer {
        agent_id: AgentId { value: "S0".into() },
        ..Default::default()
    }
}

#[test]
fn command_task_in_mesos_json() {
    let task = TaskBuilder::command(&offer(), "echo hi")
        .id("cmd-1")
        .name("say hi")
        .resources(vec![scalar("cpus", 0.1), scalar("mem", 32.0)])
        .label("kind", "demo")
        .kill_grace_period(Duration::from_secs(2))
        .data(b"x".to_vec())
        .build();
    let value = mesos_proto::json::to_value(&task);
    assert_eq!(value["name"], "say hi");
    assert_eq!(value["task_id"], json!({"value": "cmd-1"}));
    assert_eq!(value["agent_id"], json!({"value": "S0"}));
    assert_eq!(value["command"]["value"], "echo hi");
    assert_eq!(value["command"]["shell"], true);
    assert_eq!(
        value["labels"],
        json!({"labels": [{"key": "kind", "value": "demo"}]})
    );
    assert_eq!(
        value["kill_policy"],
        json!({"grace_period": {"nanoseconds": 2_000_000_000u64}})
    );
    assert_eq!(value["data"], "eA==");
    assert_eq!(value["resources"].as_array().unwrap().len(), 2);
    assert!(value.get("executor").is_none());
    // And the master would be able to decode it (required fields present).
    let body = mesos_proto::ContentType::Protobuf.encode(&task);
    let back: mesos_proto::v1::TaskInfo = mesos_proto::ContentType::Protobuf.decode(&body).unwrap();
    assert_eq!(back, task);
}

#[test]
fn task_defaults_and_the_agent_of_the_offer() {
    let task = TaskBuilder::command(&offer(), "true").build();
    assert!(task.task_id.value.starts_with("task-"));
    assert_eq!(task.name, task.task_id.value);
    assert_eq!(task.agent_id.value, "S0", "the offer's agent");
    let elsewhere = AgentId { value: "S1".into() };
    let moved = TaskBuilder::command(&offer(), "true")
        .agent(&elsewhere)
        .build();
    assert_eq!(moved.agent_id, elsewhere);
}

#[test]
fn custom_executor_task_like_the_fixture() {
    let command = exec_command("/usr/bin/python3", &["mesos_fixture_executor.py"]);
    let executor = ExecutorBuilder::custom("py-exec-1", command)
        .name("fixture python executor py-exec-1")
        .uri(uri("/srv/tools/mesos_fixture_executor.py", true, false))
        .env("FIXTURE_MALFORMED_CALLS", "1")
        .resources(vec![
            scalar("cpus", 0.1),
            scalar("mem", 32.0),
            scalar("disk", 10.0),
        ])
        .label("kind", "custom-executor")
        .shutdown_grace_period(Duration::from_secs(5))
        .build();
    assert_eq!(executor.r#type(), executor_info::Type::Custom);
    let value = mesos_proto::json::to_value(&executor);
    assert_eq!(value["type"], "CUSTOM");
    assert_eq!(value["executor_id"], json!({"value": "py-exec-1"}));
    assert_eq!(value["command"]["shell"], false);
    assert_eq!(value["command"]["value"], "/usr/bin/python3");
    assert_eq!(
        value["command"]["arguments"],
        json!(["/usr/bin/python3", "mesos_fixture_executor.py"])
    );
    assert_eq!(
        value["command"]["uris"],
        json!([{"value": "/srv/tools/mesos_fixture_executor.py", "executable": true, "extract": false}])
    );
    assert_eq!(
        value["command"]["environment"],
        json!({"variables": [{"name": "FIXTURE_MALFORMED_CALLS", "type": "VALUE", "value": "1"}]})
    );
    assert_eq!(
        value["shutdown_grace_period"],
        json!({"nanoseconds": 5_000_000_000u64})
    );

    let mut container = ContainerInfo::default();
    container.set_type(container_info::Type::Mesos);
    let task = TaskBuilder::executor(&offer(), executor.clone())
        .id("exec-task-1")
        .container(container.clone())
        .build();
    assert_eq!(task.executor, Some(executor));
    assert_eq!(task.container, Some(container));
    assert!(
        task.command.is_none(),
        "exactly one of command and executor"
    );
}

#[test]
fn shell_command_shape() {
    let command = shell_command("sleep 1 && echo done");
    assert_eq!(command.shell, Some(true));
    assert_eq!(command.value.as_deref(), Some("sleep 1 && echo done"));
    assert!(command.arguments.is_empty());
}

#[test]
fn task_ids_are_unique_across_generators_and_threads() {
    let generators: Vec<TaskIdGenerator> = (0..4).map(|_| TaskIdGenerator::new("t")).collect();
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = generators
            .iter()
            .map(|g| scope.spawn(move || (0..250).map(|_| g.next_id().value).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), 1000);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
    assert!(ids.iter().all(|id| id.starts_with("t-")));
}

#[test]
fn default_user_is_never_empty() {
    let user = default_user();
    assert!(!user.trim().is_empty());
    assert_eq!(user, user.trim());
}
