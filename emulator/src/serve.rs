//! Serving the API on a socket: plain HTTP for an open emulator on loopback, HTTPS with a
//! certificate of its own once it authenticates (kubectl, like every client-go program, sends
//! bearer tokens only over TLS).

use crate::Emulator;
use base64::Engine;

/// A self-signed certificate for `127.0.0.1` and `localhost`: the server's, and the
/// certificate authority its kubeconfigs trust.
#[derive(Clone)]
pub struct Certificate {
    /// The certificate, PEM.
    pub cert_pem: String,
    key_pem: String,
}

/// Why the API could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No certificate could be made.
    #[error("cannot make a certificate for the API: {0}")]
    Certificate(String),
    /// The socket could not be used.
    #[error("cannot serve the API: {0}")]
    Io(#[from] std::io::Error),
}

impl Certificate {
    /// A new self-signed certificate for the loopback names.
    pub fn loopback() -> Result<Self, ServeError> {
        let c = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| ServeError::Certificate(e.to_string()))?;
        Ok(Certificate { cert_pem: c.cert.pem(), key_pem: c.signing_key.serialize_pem() })
    }
}

impl Emulator {
    /// Serves the API on `listener` until the server fails: over HTTPS with `tls`, plain HTTP
    /// without.
    pub async fn serve(&self, listener: std::net::TcpListener, tls: Option<&Certificate>) -> Result<(), ServeError> {
        let router = self.router();
        match tls {
            Some(cert) => {
                let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                    cert.cert_pem.clone().into_bytes(),
                    cert.key_pem.clone().into_bytes(),
                )
                .await?;
                axum_server::from_tcp_rustls(listener, config)?.serve(router.into_make_service()).await?;
            }
            None => {
                listener.set_nonblocking(true)?;
                axum::serve(tokio::net::TcpListener::from_std(listener)?, router).await?;
            }
        }
        Ok(())
    }

    /// A kubeconfig for `server` with a bearer token, trusting `ca_pem` when given.
    pub fn kubeconfig_for(server: &str, token: &str, ca_pem: Option<&str>) -> String {
        let ca = ca_pem
            .map(|pem| {
                format!("    certificate-authority-data: {}\n", base64::engine::general_purpose::STANDARD.encode(pem))
            })
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sidecar-emulator\n  cluster:\n    server: {server}\n{ca}\
             users:\n- name: sidecar-emulator\n  user:\n    token: {token}\n\
             contexts:\n- name: sidecar-emulator\n  context:\n    cluster: sidecar-emulator\n    user: sidecar-emulator\n    namespace: default\n\
             current-context: sidecar-emulator\n"
        )
    }
}
