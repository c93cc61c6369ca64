//! Scheduler high availability on a real ZooKeeper: two instances of one
//! scheduler elect a leader (`mesos_client::zk::Election`); when it goes, the
//! standby leads and resumes the same framework.

use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_tests::fake_master::{
    FRAMEWORK_ID, FakeMaster, StopAtSubscribed, WAIT, fast_config, run_driver,
};
use e2e_tests::zk::ZkServer;
use mesos_client::zk::{Election, Standing};
use mesos_client::{Scheduler, SchedulerHandle, StopMode};
use mesos_proto::v1::scheduler::event;
use zookeeper::ZooKeeper;

/// Short sessions keep the tests fast (the test server allows >= 400 ms).
const SESSION: Duration = Duration::from_secs(2);

/// A leading scheduler instance: saves the framework id for the next leader
/// at SUBSCRIBED, then stops (as if it crashed right after).
struct SaveAndStop {
    election: Arc<Election>,
}

impl Scheduler for SaveAndStop {
    fn subscribed(
        &mut self,
        handle: &SchedulerHandle,
        subscribed: &event::Subscribed,
    ) -> mesos_client::Result<()> {
        assert!(self.election.is_leader());
        self.election
            .save_framework_id(&subscribed.framework_id.value)
            .unwrap();
        handle.stop(StopMode::Failover);
        Ok(())
    }
}

#[test]
fn a_standby_scheduler_takes_over_as_the_same_framework() {
    let Some(server) =
        ZkServer::start_or_skip("a_standby_scheduler_takes_over_as_the_same_framework")
    else {
        return;
    };
    let master = FakeMaster::start();
    let masters = format!("127.0.0.1:{}", master.port);
    let url = server.url("/etl");
    let first = Arc::new(Election::join(&url, SESSION, b"instance-a").unwrap());
    let second = Election::join(&url, SESSION, b"instance-b").unwrap();
    assert_eq!(first.standing(), Standing::Leading);
    assert_eq!(second.standing(), Standing::Following);
    assert_eq!(
        second.wait_for_leadership(Some(Duration::from_millis(200))),
        Standing::Following
    );

    // The leader subscribes as a new framework and records its id.
    assert_eq!(first.framework_id().unwrap(), None);
    let leader = run_driver(
        fast_config(masters.clone(), None),
        SaveAndStop {
            election: first.clone(),
        },
    );
    // ... and goes away: the standby leads, and resumes the same framework.
    drop((leader, first));
    assert_eq!(second.wait_for_leadership(Some(WAIT)), Standing::Leading);
    let id = second.framework_id().unwrap();
    assert_eq!(id.as_deref(), Some(FRAMEWORK_ID));
    run_driver(fast_config(masters, id), StopAtSubscribed);

    let subscribes = master.subscribes();
    assert_eq!(subscribes.len(), 2);
    assert!(!subscribes[0].contains(FRAMEWORK_ID), "{}", subscribes[0]);
    assert!(subscribes[1].contains(FRAMEWORK_ID), "{}", subscribes[1]);
}

#[test]
fn a_leader_whose_member_vanishes_has_lost() {
    let Some(server) = ZkServer::start_or_skip("a_leader_whose_member_vanishes_has_lost") else {
        return;
    };
    let url = server.url("/etl");
    let first = Election::join(&url, SESSION, b"a").unwrap();
    let second = Election::join(&url, SESSION, b"b").unwrap();
    assert!(first.is_leader());
    // As if its session expired: the member is gone.
    let admin = ZooKeeper::connect(&server.address(), SESSION, |_| {}).unwrap();
    admin.delete(first.znode(), None).unwrap();
    let lost = first.changes();
    let deadline = Instant::now() + WAIT;
    while first.standing() != Standing::Lost {
        assert!(Instant::now() < deadline, "still {:?}", first.standing());
        let _ = lost.recv_timeout(Duration::from_millis(50));
    }
    assert_eq!(second.wait_for_leadership(Some(WAIT)), Standing::Leading);
}
