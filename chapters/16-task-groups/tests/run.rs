//! Runs step 16 against a devcluster in the test's process and checks what the cluster saw.

use ch16_task_groups::{Args, run};
use clap::Parser;
use mesos_client::resources::{cpus, disk, mem};
use mesos_proto::v1::TaskState::TaskRunning;
use mesos_proto::v1::executor_info::Type;
use observe::{Seen, cluster, run_step};

#[test]
fn launches_a_group_on_the_default_executor() {
    let cluster = cluster(1);
    let args = Args::parse_from(["ch16-scheduler", "--master", &cluster.master_url()]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    // One ACCEPT with one LAUNCH_GROUP of two tasks on Mesos' default executor.
    let groups: Vec<_> = seen
        .operations()
        .into_iter()
        .filter_map(|op| op.launch_group)
        .collect();
    assert_eq!(groups.len(), 1, "{:?}", seen.kinds());
    assert_eq!(groups[0].executor.r#type(), Type::Default);
    assert_eq!(groups[0].executor.executor_id.value, "ch16-group");
    // What Mesos 1.12 requires of the group's executor (fact sheet §3.5), or it answers every
    // task TASK_ERROR: the framework id set, and cpus, mem and disk of its own.
    let framework_id = groups[0].executor.framework_id.as_ref().map(|f| &f.value);
    assert_eq!(framework_id, Some(&seen.framework_id));
    let own = &groups[0].executor.resources;
    for (name, amount) in [("cpus", cpus(own)), ("mem", mem(own)), ("disk", disk(own))] {
        assert!(amount > 0.0, "the executor has no {name}: {own:?}");
    }
    let tasks = &groups[0].task_group.tasks;
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert!(
            task.executor.is_none(),
            "a task of a group names no executor"
        );
        assert!(seen.states()[&task.task_id.value].contains(&TaskRunning));
    }
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
    observe::check_diagram!(&cluster);
}
