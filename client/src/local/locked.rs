//! A local cluster locked the way production clusters are: it wants HTTP basic
//! authentication (a principal and its secret), and optionally speaks only https with a
//! certificate signed by a CA of its own. What its operator would hand a framework's
//! author (a principal, a file with the secret, the CA's certificate) is made up at start
//! and offered through [`LockedCluster`], so the chapters on authentication and TLS run
//! with `--master local` as on a real cluster.

use std::path::{Path, PathBuf};

use devcluster::http::{Credentials, tls_config_from_pem};
use devcluster::{Cluster, ClusterConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::connect::Connection;
use crate::error::{Error, Result};

/// A running locked cluster; it stops (and its files go) when dropped.
pub struct LockedCluster {
    cluster: Cluster,
    principal: String,
    secret_file: PathBuf,
    ca_file: Option<PathBuf>,
}

impl LockedCluster {
    /// Starts `config` with credentials for `principal` (a random secret, written to a
    /// file in the cluster's work directory) and, with `tls`, https for every master and
    /// agent with a certificate for 127.0.0.1 signed by a fresh CA. Executors are told to
    /// trust that CA (`LIBPROCESS_SSL_CA_FILE`), as a Mesos agent tells them.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the certificates or the cluster cannot be made; an I/O error
    /// if a file cannot be written.
    pub fn start(mut config: ClusterConfig, principal: &str, tls: bool) -> Result<LockedCluster> {
        let secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let credentials = Credentials::parse(&format!("{principal} {secret}\n"));
        config.credentials = Some(credentials.map_err(Error::Config)?);
        let mut ca_file = None;
        if tls {
            let LocalCertificates { ca, cert, key } = localhost_certificates()?;
            let server = tls_config_from_pem(cert.as_bytes(), key.as_bytes());
            config.tls = Some(server.map_err(Error::Config)?);
            // Written before the cluster starts: its agents hand the path to executors.
            let name = format!("mesos-local-ca-{}.pem", uuid::Uuid::new_v4().simple());
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, ca)?;
            config.tls_ca_file = Some(path.clone());
            ca_file = Some(path);
        }
        let cluster = match super::start_cluster(config) {
            Ok(c) => c,
            Err(err) => {
                if let Some(path) = &ca_file {
                    let _ = std::fs::remove_file(path);
                }
                return Err(err);
            }
        };
        let secret_file = cluster.work_dir().join("secret");
        std::fs::write(&secret_file, secret)?;
        Ok(LockedCluster {
            cluster,
            principal: principal.to_string(),
            secret_file,
            ca_file,
        })
    }

    /// `https://ip:port` (or `http://`) of the leading master.
    pub fn master_url(&self) -> String {
        self.cluster.master_url()
    }

    /// The cluster itself (for tests and fault injection).
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The principal the cluster knows.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The file holding the principal's secret.
    pub fn secret_file(&self) -> &Path {
        &self.secret_file
    }

    /// The PEM file of the CA that signed the cluster's certificate (with TLS).
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Points `connection` at this cluster, with its principal, secret file and CA.
    pub fn connect(&self, connection: &mut Connection) {
        connection.master = self.master_url();
        connection.principal = Some(self.principal.clone());
        connection.secret_file = Some(self.secret_file.clone());
        connection.ca_file = self.ca_file.clone();
    }
}

impl Drop for LockedCluster {
    fn drop(&mut self) {
        if let Some(path) = &self.ca_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl std::fmt::Debug for LockedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockedCluster")
            .field("master_url", &self.master_url())
            .field("principal", &self.principal)
            .field("secret_file", &self.secret_file)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// For `--master local` in a chapter about authentication (and TLS): starts a
/// [`LockedCluster`] (one master, one agent, Mesos' default timings) and points
/// `connection` at it; any other master is left as it is, with `None`.
///
/// # Errors
///
/// As [`LockedCluster::start`].
pub fn resolve_locked(
    connection: &mut Connection,
    principal: &str,
    tls: bool,
) -> Result<Option<LockedCluster>> {
    if connection.master.trim() != super::LOCAL {
        return Ok(None);
    }
    let config = ClusterConfig {
        port: 0,
        agents: vec![Default::default()],
        ..ClusterConfig::default()
    };
    let locked = LockedCluster::start(config, principal, tls)?;
    locked.connect(connection);
    Ok(Some(locked))
}

/// A fresh CA and a certificate for 127.0.0.1 and localhost that it signed, all PEM
/// text: what a locked local cluster serves, and what a test of https needs.
pub struct LocalCertificates {
    /// The CA's certificate: give it to clients (`--ca-file`).
    pub ca: String,
    /// The server certificate.
    pub cert: String,
    /// The server certificate's private key.
    pub key: String,
}

/// Makes a [`LocalCertificates`] (new keys every time).
///
/// # Errors
///
/// [`Error::Config`] if a key or certificate cannot be made.
pub fn localhost_certificates() -> Result<LocalCertificates> {
    let fail = |err: rcgen::Error| Error::Config(format!("cannot make certificates: {err}"));
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
    Ok(LocalCertificates {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}
