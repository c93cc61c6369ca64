//! mesos-client (being written).
