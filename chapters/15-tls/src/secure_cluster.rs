//! `--master local` for step 15: an embedded devcluster that wants a password and speaks
//! only TLS (the open one of `mesos_client::local`, locked), and what its operator would
//! hand you: a principal, its secret in a file, and the CA that signed the certificate.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use devcluster::http::{Credentials, tls_config_from_pem};
use devcluster::{Cluster, ClusterConfig};
use mesos_client::connect::Connection;
use mesos_client::{Error, Result};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// The principal the cluster knows.
pub const PRINCIPAL: &str = "ch15-principal";

/// A running cluster (it stops when dropped), and the files a framework needs.
pub struct SecureCluster {
    /// The cluster. Its work directory holds the secret and goes away with it.
    pub cluster: Cluster,
    /// The file holding [`PRINCIPAL`]'s secret.
    pub secret_file: PathBuf,
    /// The PEM file of the CA that signed the certificate of masters and agents.
    pub ca_file: PathBuf,
}

/// For `--master local`: starts one master and one agent with Mesos' default timings, on
/// free ports, and points `connection` at it, with our principal, secret and CA.
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
    connection.ca_file = Some(local.ca_file.clone());
    Ok(Some(local))
}

/// Starts `config` with credentials added: [`PRINCIPAL`] and a random secret; and TLS,
/// with a certificate for 127.0.0.1 signed by a CA of its own, which executors are told
/// to trust too.
pub fn start(mut config: ClusterConfig) -> Result<SecureCluster> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH);
    let nanos = nanos.map_or(0, |d| d.as_nanos());
    let secret = format!("secret-{nanos:x}");
    let credentials = Credentials::parse(&format!("{PRINCIPAL} {secret}\n"));
    config.credentials = Some(credentials.map_err(Error::Config)?);
    let (ca_pem, cert_pem, key_pem) = certificates().map_err(Error::Config)?;
    let tls = tls_config_from_pem(cert_pem.as_bytes(), key_pem.as_bytes());
    config.tls = Some(tls.map_err(Error::Config)?);
    // Written before the cluster starts: its agents hand the path to executors.
    let name = format!("ch15-ca-{}-{nanos}.pem", std::process::id());
    let ca_file = std::env::temp_dir().join(name);
    std::fs::write(&ca_file, ca_pem)?;
    config.tls_ca_file = Some(ca_file.clone());
    let cluster = Cluster::start(config).map_err(|err| Error::Config(err.to_string()))?;
    let secret_file = cluster.work_dir().join("secret");
    std::fs::write(&secret_file, secret)?;
    Ok(SecureCluster {
        cluster,
        secret_file,
        ca_file,
    })
}

impl Drop for SecureCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

/// A CA (PEM), and a certificate (PEM) with its key (PEM) that the CA signed for 127.0.0.1.
fn certificates() -> std::result::Result<(String, String, String), String> {
    let fail = |err: rcgen::Error| format!("cannot make certificates: {err}");
    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).map_err(fail)?;
    let key = KeyPair::generate().map_err(fail)?;
    let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let cert = CertificateParams::new(names)
        .map_err(fail)?
        .signed_by(&key, &ca, &ca_key)
        .map_err(fail)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}
