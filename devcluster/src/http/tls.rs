//! The socket a connection thread talks through (plain TCP or TLS), and TLS configuration.
//!
//! With TLS, `rustls::StreamOwned` does the handshake lazily on the first read or write, on
//! the connection's own thread; a failed handshake is an I/O error there and closes only
//! that connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConnection, StreamOwned};

/// A server TLS configuration from a PEM certificate chain (leaf first) and a PEM private
/// key (PKCS#8, PKCS#1 or SEC1), using the `ring` crypto provider. The error says what is
/// wrong with the input; it never contains key material.
pub fn tls_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("Failed to parse certificate PEM: {e}"))?;
    if certs.is_empty() {
        return Err("No certificate found in the certificate PEM".to_string());
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| format!("Failed to parse private key PEM: {e}"))?
        .ok_or_else(|| "No private key found in the key PEM".to_string())?;
    // An explicit provider: the process-wide default is ambiguous when another crate in
    // the build enables a second rustls provider.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("Failed to configure TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("Invalid certificate or key: {e}"))?;
    Ok(Arc::new(config))
}

/// One accepted connection, plain or TLS.
pub(crate) enum Conn {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (boxed: the rustls state is large).
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    /// Wraps an accepted socket, starting a TLS session when `tls` is set.
    pub(crate) fn new(
        sock: TcpStream,
        tls: Option<&Arc<rustls::ServerConfig>>,
    ) -> io::Result<Conn> {
        match tls {
            None => Ok(Conn::Plain(sock)),
            Some(config) => {
                let session =
                    ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
                Ok(Conn::Tls(Box::new(StreamOwned::new(session, sock))))
            }
        }
    }

    /// The underlying TCP socket (for timeouts, non-blocking probes and shutdown).
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        }
    }

    /// Reads without blocking: `Ok(None)` if nothing is available right now.
    /// Used by streams to find out whether the client is still there.
    pub(crate) fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.tcp().set_nonblocking(true)?;
        let result = self.read(buf);
        self.tcp().set_nonblocking(false)?;
        match result {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Ends the connection politely: a TLS `close_notify`, then a TCP half-close of our
    /// sending side. The caller then drains what the client still sends before dropping the
    /// socket, because closing with unread data makes the kernel send a reset that can
    /// destroy the response we just wrote before the client reads it.
    pub(crate) fn close_gracefully(&mut self) {
        if let Conn::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }

    /// Ends the connection abruptly: no TLS `close_notify`, both directions shut.
    pub(crate) fn close_abruptly(&self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

impl super::parse::Source for Conn {
    fn set_read_timeout(&mut self, d: std::time::Duration) -> io::Result<()> {
        self.tcp().set_read_timeout(Some(d))
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}
