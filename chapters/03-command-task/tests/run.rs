//! Runs step 03 against a devcluster in the test's process and checks what the cluster saw.

use ch03_command_task::{Args, run};
use clap::Parser;
use mesos_proto::v1::TaskState::{TaskFinished, TaskRunning};
use observe::{Seen, cluster, run_step};

#[test]
fn launches_command_tasks_that_finish() {
    let cluster = cluster(1);
    let args = Args::parse_from(["ch03-scheduler", "--master", &cluster.master_url()]);
    run_step(move || run(args)).expect("the step runs to completion");

    let seen = Seen::of(&cluster);
    let launched = seen.launched();
    assert_eq!(launched.len(), 2, "{:?}", seen.kinds());
    for task in &launched {
        let command = task.command.as_ref().expect("a command task");
        assert_eq!(command.value(), "echo hello from Mesos");
        assert!(
            task.executor.is_none(),
            "the built-in command executor runs it"
        );
        let states = &seen.states()[&task.task_id.value];
        // The command executor may say TASK_STARTING first.
        assert!(states.ends_with(&[TaskRunning, TaskFinished]), "{states:?}");
    }
    // TEARDOWN came once both had ended.
    assert_eq!(seen.kinds().last().map(String::as_str), Some("TEARDOWN"));
    observe::check_diagram!(&cluster);
}
