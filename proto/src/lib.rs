//! The Mesos v1 wire.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));
    pub mod scheduler {
        #![allow(missing_docs, clippy::all)]
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
    }
    pub mod executor {
        #![allow(missing_docs, clippy::all)]
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.executor.rs"));
    }
}
