//! One job attempt as a Mesos task: the shell command, the job number in
//! the environment, and (with `--img`) a Docker container.

use mesos_client::tasks::{TaskBuilder, push_env, shell_command};
use mesos_proto::v1::container_info::{self, DockerInfo};
use mesos_proto::v1::{ContainerInfo, Offer, Resource, TaskInfo};

/// What every attempt shares.
#[derive(Debug, Clone)]
pub struct TaskTemplate {
    /// The shell command (`--cmd`).
    pub cmd: String,
    /// The Docker image (`--img`), if any.
    pub image: Option<String>,
}

impl TaskTemplate {
    /// The task for attempt `attempt` (1-based) of job `job`, on `offer`.
    ///
    /// The task id `etl-<run>-<job>-<attempt>` names the job, so logs and
    /// the Mesos UI show which job a task belongs to; `run` makes it unique
    /// per runner start, as Mesos wants task ids unique per framework.
    pub fn task(
        &self,
        run: &str,
        job: usize,
        attempt: usize,
        offer: &Offer,
        resources: Vec<Resource>,
    ) -> mesos_client::Result<TaskInfo> {
        let mut command = shell_command(&self.cmd);
        // The command can tell which slice of the work is its own.
        push_env(&mut command, "ETL_JOB", &job.to_string());
        push_env(&mut command, "ETL_ATTEMPT", &attempt.to_string());
        let mut builder = TaskBuilder::command_info(offer, command)
            .id(format!("etl-{run}-{job}-{attempt}"))
            .resources(resources);
        if let Some(image) = &self.image {
            builder = builder.container(docker(image));
        }
        Ok(builder.build())
    }
}

/// A Docker container for `image` with host networking, Mesos' default.
/// The agent runs it only if it was started with `--containerizers=docker,...`;
/// otherwise the task fails with `REASON_CONTAINER_LAUNCH_FAILED`.
pub fn docker(image: &str) -> ContainerInfo {
    let mut container = ContainerInfo {
        docker: Some(DockerInfo {
            image: image.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    };
    container.set_type(container_info::Type::Docker);
    container
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_client::resources::scalar;
    use mesos_proto::v1::AgentId;

    #[test]
    fn an_image_becomes_a_docker_container() {
        let template = TaskTemplate {
            cmd: "echo $ETL_JOB".into(),
            image: Some("busybox:1.36".into()),
        };
        let offer = Offer {
            agent_id: AgentId { value: "a1".into() },
            ..Default::default()
        };
        let task = template
            .task("r", 3, 1, &offer, vec![scalar("cpus", 0.1)])
            .unwrap();
        assert_eq!(task.task_id.value, "etl-r-3-1");
        let container = task.container.unwrap();
        assert_eq!(container.r#type(), container_info::Type::Docker);
        assert_eq!(container.docker.unwrap().image, "busybox:1.36");
        let env = task.command.unwrap().environment.unwrap();
        assert_eq!(env.variables[0].name, "ETL_JOB");
        assert_eq!(env.variables[0].value.as_deref(), Some("3"));
    }
}
