//! The job table as text: what a znode holds, readable with `zkCli.sh get`.

use std::time::Instant;

use mesos_proto::v1::TaskState;

use super::RunSpec;
use crate::jobs::{Attempt, Job, JobState};

/// The `run` znode: the run id, then what identifies the run.
pub(super) fn encode_run(run_id: &str, spec: &RunSpec) -> String {
    // The command last: it may span lines.
    format!(
        "run-id {run_id}\njobs {}\nimage {}\ncmd {}",
        spec.jobs, spec.image, spec.cmd
    )
}

/// The run id and the run's spec from the `run` znode.
pub(super) fn decode_run(text: &str) -> std::result::Result<(String, RunSpec), String> {
    let mut parts = text.splitn(4, '\n');
    let mut field = |name: &str| {
        parts
            .next()
            .and_then(|line| line.strip_prefix(name))
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::to_string)
            .ok_or_else(|| format!("no `{name}` line"))
    };
    let run_id = field("run-id")?;
    let jobs = field("jobs")?
        .parse()
        .map_err(|_| "`jobs` is not a number".to_string())?;
    let image = field("image")?;
    let cmd = field("cmd")?;
    Ok((run_id, RunSpec { jobs, image, cmd }))
}

/// A job as its znode's text.
pub fn encode_job(job: &Job) -> String {
    let mut text = match &job.state {
        JobState::Waiting { .. } => "waiting".to_string(),
        JobState::Running { task_id, agent_id } => format!("running {task_id} {agent_id}"),
        JobState::Done => "done".to_string(),
        JobState::GaveUp => "gave-up".to_string(),
    };
    for a in &job.attempts {
        // One line each: no line breaks, and not too long (a znode holds 1 MB).
        let message: String = a
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(300)
            .collect();
        text.push_str(&format!(
            "\nattempt {} {} {} {message}",
            a.task_id,
            a.state.as_str_name(),
            a.reason.as_deref().unwrap_or("-"),
        ));
    }
    text.push('\n');
    text
}

/// Job `index` from its znode's text. A waiting job may start at once.
///
/// # Errors
///
/// What is wrong with the text.
pub fn decode_job(index: usize, text: &str) -> std::result::Result<Job, String> {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let state = match head[..] {
        ["waiting"] => JobState::Waiting {
            not_before: Instant::now(),
        },
        ["running", task_id, agent_id] => JobState::Running {
            task_id: task_id.to_string(),
            agent_id: agent_id.to_string(),
        },
        ["done"] => JobState::Done,
        ["gave-up"] => JobState::GaveUp,
        _ => return Err(format!("unknown job state {head:?}")),
    };
    let mut attempts = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let mut f = line.splitn(5, ' ');
        let (Some("attempt"), Some(task_id), Some(state), Some(reason)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(format!("not an attempt: {line:?}"));
        };
        let state =
            TaskState::from_str_name(state).ok_or_else(|| format!("unknown task state {state}"))?;
        attempts.push(Attempt {
            task_id: task_id.to_string(),
            state,
            reason: Some(reason.to_string()).filter(|r| r != "-"),
            message: f.next().unwrap_or_default().to_string(),
        });
    }
    Ok(Job {
        index,
        state,
        attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_survives_its_text() {
        let job = Job {
            index: 3,
            state: JobState::Running {
                task_id: "etl-1-3-2".into(),
                agent_id: "agent-S1".into(),
            },
            attempts: vec![Attempt {
                task_id: "etl-1-3-1".into(),
                state: TaskState::TaskFailed,
                reason: Some("REASON_COMMAND_EXECUTOR_FAILED".into()),
                message: "Command exited\nwith status 3".into(),
            }],
        };
        let text = encode_job(&job);
        assert!(
            text.starts_with("running etl-1-3-2 agent-S1\nattempt "),
            "{text}"
        );
        let back = decode_job(3, &text).unwrap();
        assert_eq!(back.state, job.state);
        assert_eq!(back.attempts[0].message, "Command exited with status 3");
        assert_eq!(back.attempts[0].reason, job.attempts[0].reason);
        let done = Job {
            state: JobState::Done,
            attempts: vec![Attempt {
                reason: None,
                message: String::new(),
                ..job.attempts[0].clone()
            }],
            ..job
        };
        assert_eq!(decode_job(3, &encode_job(&done)).unwrap(), done);
        assert!(matches!(
            decode_job(0, "waiting\n").unwrap().state,
            JobState::Waiting { .. }
        ));
        assert!(decode_job(0, "flying\n").is_err());
        assert!(decode_job(0, "done\nattempt x TASK_NOPE - m\n").is_err());
    }

    #[test]
    fn a_run_is_told_apart_by_its_spec() {
        let spec = RunSpec {
            jobs: 5,
            image: String::new(),
            cmd: "echo a\necho b".into(),
        };
        let (run_id, back) = decode_run(&encode_run("17", &spec)).unwrap();
        assert_eq!((run_id.as_str(), &back), ("17", &spec));
        assert!(decode_run("jobs 5").is_err());
    }
}
