//! `--master local` for step 14: an embedded devcluster that wants a password (the open
//! one of `mesos_client::local`, locked), and what its operator would hand you: a
//! principal, and its secret in a file.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use devcluster::http::Credentials;
use devcluster::{Cluster, ClusterConfig};
use mesos_client::connect::Connection;
use mesos_client::{Error, Result};

/// The principal the cluster knows.
pub const PRINCIPAL: &str = "ch14-principal";

/// A running cluster (it stops when dropped), and the files a framework needs.
pub struct SecureCluster {
    /// The cluster. Its work directory holds the files below and goes away with it.
    pub cluster: Cluster,
    /// The file holding [`PRINCIPAL`]'s secret.
    pub secret_file: PathBuf,
}

/// For `--master local`: starts one master and one agent with Mesos' default timings, on
/// free ports, and points `connection` at it, with our principal and secret.
pub fn resolve(connection: &mut Connection) -> Result<Option<SecureCluster>> {
    if connection.master != "local" {
        return Ok(None);
    }
    let agents = vec![Default::default()];
    let local = start(ClusterConfig {
        port: 0,
        agents,
        ..ClusterConfig::default()
    })?;
    connection.master = local.cluster.master_url();
    connection.principal = Some(PRINCIPAL.into());
    connection.secret_file = Some(local.secret_file.clone());
    Ok(Some(local))
}

/// Starts `config` with credentials added: [`PRINCIPAL`] and a random secret.
pub fn start(mut config: ClusterConfig) -> Result<SecureCluster> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH);
    let secret = format!("secret-{:x}", nanos.map_or(0, |d| d.as_nanos()));
    let credentials = Credentials::parse(&format!("{PRINCIPAL} {secret}\n"));
    config.credentials = Some(credentials.map_err(Error::Config)?);
    let cluster = Cluster::start(config).map_err(|err| Error::Config(err.to_string()))?;
    let secret_file = cluster.work_dir().join("secret");
    std::fs::write(&secret_file, secret)?;
    Ok(SecureCluster {
        cluster,
        secret_file,
    })
}
