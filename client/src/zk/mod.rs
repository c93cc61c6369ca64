//! Finding the leading master through ZooKeeper, as Mesos frameworks do
//! (fact sheet §6.3). Needs the cargo feature `zk` (on by default).
//!
//! A production cluster runs several masters and lets ZooKeeper pick the
//! leader. Each master creates an *ephemeral sequential* znode under one path
//! (`/mesos` in `zk://zk1:2181,zk2:2181/mesos`), named `json.info_` plus a
//! 10-digit sequence number, whose data is its `MasterInfo` as JSON. The
//! member with the lowest sequence leads. Ephemeral means ZooKeeper deletes
//! the znode when the master's session ends, so when the leader dies the next
//! member takes over without anyone voting.
//!
//! A [`LeaderDetector`] keeps a ZooKeeper session on its own thread: it lists
//! the members with a *watch* (ZooKeeper tells us once when the list
//! changes), reads the leader's `MasterInfo`, publishes the leader's
//! [`Endpoint`](crate::masters::Endpoint) and signals a change on a channel the driver can `select!`
//! on. Watches fire once, so after every change (and every reconnection,
//! which loses watches) it reads again and sets a new one.
//!
//! Other children of the path (e.g. `log_replicas`, or members of older
//! Mesos versions named `info_...`) are ignored.
//!
//! The same mechanism lets several instances of one scheduler elect a
//! leader among themselves: see [`Election`].

mod detector;
mod election;
mod members;
mod session;

pub use detector::{Detection, LeaderDetector};
pub use election::{CANDIDATE_PREFIX, Election, FRAMEWORK_ID_NODE, Standing};
pub use members::{MEMBER_PREFIX, ZkUrl, leading_member, master_endpoint, member_sequence};
