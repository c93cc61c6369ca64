//! `--master local` for step 12: an embedded devcluster that wants a password and speaks
//! only TLS. (`mesos_client::local` starts an open one; this is the same, locked.)
//!
//! It makes everything a real cluster's operator would hand you: a CA of its own and a
//! certificate it signs for `127.0.0.1` (the CA goes to `ca.pem`), and a principal with a
//! random secret (the secret goes to `secret`), all in a fresh directory that is removed
//! when the cluster stops.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use devcluster::http::{Credentials, tls_config_from_pem};
use devcluster::{Cluster, ClusterConfig};
use mesos_client::{Error, Result};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// The principal the cluster knows.
pub const PRINCIPAL: &str = "ch12-principal";

/// A running cluster with authentication and TLS; stops (and cleans up) when dropped.
pub struct SecureCluster {
    cluster: Cluster,
    dir: PathBuf,
    /// The PEM file of the CA that signed the masters' certificate.
    pub ca_file: PathBuf,
    /// The file holding [`PRINCIPAL`]'s secret.
    pub secret_file: PathBuf,
}

impl SecureCluster {
    /// One master and one agent with Mesos' default timings, on free ports.
    pub fn start_default() -> Result<SecureCluster> {
        let agents = vec![Default::default()];
        SecureCluster::start(ClusterConfig {
            port: 0,
            agents,
            ..ClusterConfig::default()
        })
    }

    /// Starts `config` with credentials and TLS added.
    pub fn start(mut config: ClusterConfig) -> Result<SecureCluster> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("ch12-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (ca_pem, cert_pem, key_pem) = certificates().map_err(Error::Config)?;
        let secret = format!("secret-{nanos:x}");
        config.tls = Some(
            tls_config_from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).map_err(Error::Config)?,
        );
        config.credentials =
            Some(Credentials::parse(&format!("{PRINCIPAL} {secret}\n")).map_err(Error::Config)?);
        let (ca_file, secret_file) = (dir.join("ca.pem"), dir.join("secret"));
        std::fs::write(&ca_file, ca_pem)?;
        std::fs::write(&secret_file, secret)?;
        let cluster = Cluster::start(config).map_err(|err| Error::Config(err.to_string()))?;
        Ok(SecureCluster {
            cluster,
            dir,
            ca_file,
            secret_file,
        })
    }

    /// `https://127.0.0.1:<port>` of the master.
    pub fn master_url(&self) -> String {
        self.cluster.master_url()
    }
}

impl Drop for SecureCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
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
