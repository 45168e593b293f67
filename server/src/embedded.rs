//! The embedded default: the Kubernetes API emulator in-process with its simulated cluster, the
//! Pipeline CRD, the operator and demo data, and its API served on a loopback port so that
//! `kubectl` sees the same cluster as the console.

use axum::http::{header, HeaderName, HeaderValue};
use emulator::auth::Tokens;
use emulator::resources::ResourceType;
use emulator::{Certificate, Emulator, WriteOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A running embedded cluster.
pub struct Embedded {
    /// The emulator.
    pub emulator: Emulator,
    /// A client for it, in-process.
    pub client: kube::Client,
    /// Where its API listens.
    pub addr: SocketAddr,
    /// Its API's URL (`https://…` when it authenticates).
    pub server: String,
    /// The kubeconfig written for it.
    pub kubeconfig: PathBuf,
}

/// Why the embedded cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The data directory could not be opened.
    #[error("cannot open the cluster's data in {0}: {1}")]
    Data(PathBuf, String),
    /// The API port could not be opened.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    /// Only loopback: the embedded cluster's API is for this machine.
    #[error("the embedded cluster listens on loopback only, not {0}")]
    NotLoopback(SocketAddr),
    /// The kubeconfig could not be written.
    #[error("cannot write {0}: {1}")]
    Kubeconfig(PathBuf, std::io::Error),
    /// Seeding failed.
    #[error("cannot set up the cluster: {0}")]
    Seed(String),
}

/// How to start the embedded cluster.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where its objects are kept across restarts; in memory when absent.
    pub data_dir: Option<PathBuf>,
    /// Where its API listens (loopback).
    pub listen: SocketAddr,
    /// Where to write a kubeconfig for it.
    pub kubeconfig: PathBuf,
    /// Whether the Pipeline operator runs in-process.
    pub operator: bool,
    /// Another Pipeline CRD than ours (Calyptia Core's, say).
    pub pipeline_crd: Option<Value>,
    /// Bearer tokens (a kube-apiserver token file): with them the API authenticates, authorizes
    /// with RBAC and is served over HTTPS; without, it is open to anyone on loopback.
    pub tokens: Option<Tokens>,
}

impl Options {
    /// An in-memory cluster with the operator, our CRD and no authentication.
    pub fn new(listen: SocketAddr, kubeconfig: &Path) -> Self {
        Options {
            data_dir: None,
            listen,
            kubeconfig: kubeconfig.to_owned(),
            operator: true,
            pipeline_crd: None,
            tokens: None,
        }
    }
}

/// Starts the cluster, its API, the operator (when asked), and seeds demo data into a new
/// cluster.
pub async fn start(options: &Options) -> Result<Embedded, EmbeddedError> {
    let listen = options.listen;
    if !listen.ip().is_loopback() {
        return Err(EmbeddedError::NotLoopback(listen));
    }
    let emulator = match &options.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| EmbeddedError::Data(dir.to_owned(), e.to_string()))?;
            Emulator::open(dir).map_err(|e| EmbeddedError::Data(dir.to_owned(), e.to_string()))?
        }
        None => Emulator::new(),
    };
    let emulator = match &options.tokens {
        Some(tokens) => emulator.with_tokens(tokens.clone()),
        None => emulator,
    };
    emulator.start_cluster();
    install_crd(&emulator, options.pipeline_crd.clone().unwrap_or_else(operator::crd::crd_json))?;
    seed_demo(&emulator)?;
    // The console and the operator are the cluster's own components: members of system:masters.
    let counted = tower::ServiceBuilder::new().map_result(crate::ops::count_call).service(emulator.admin_router());
    let client = kube::Client::new(counted, "default");
    if options.operator {
        tokio::spawn(operator::run(client.clone()));
    }
    let listener = std::net::TcpListener::bind(listen).map_err(|e| EmbeddedError::Listen(listen, e))?;
    let addr = listener.local_addr().map_err(|e| EmbeddedError::Listen(listen, e))?;
    let cert = match emulator.authenticates() {
        true => Some(Certificate::loopback().map_err(|e| EmbeddedError::Seed(e.to_string()))?),
        false => None,
    };
    let server = match &cert {
        Some(_) => format!("https://{addr}"),
        None => format!("http://{addr}"),
    };
    let kubeconfig = &options.kubeconfig;
    write_private(kubeconfig, &emulator.admin_kubeconfig(&server, cert.as_ref().map(|c| c.cert_pem.as_str())))
        .map_err(|e| EmbeddedError::Kubeconfig(kubeconfig.to_owned(), e))?;
    let serving = emulator.clone();
    tokio::spawn(async move {
        if let Err(e) = serving.serve(listener, cert.as_ref()).await {
            tracing::error!(error = %e, "the embedded cluster's API stopped");
        }
    });
    Ok(Embedded { emulator, client, addr, server, kubeconfig: kubeconfig.to_owned() })
}

/// Writes a file only its owner may read (a kubeconfig carries credentials).
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(path)?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

impl Embedded {
    /// Clients of this cluster for users (in-process, with their token or impersonated).
    pub fn connect(&self) -> sidecar_service::access::Connect {
        let emulator = self.emulator.clone();
        std::sync::Arc::new(move |identity: &sidecar_service::Identity| {
            use sidecar_service::Identity;
            let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
            let bearer = |t: &str| HeaderValue::from_str(&format!("Bearer {t}")).map_err(|e| e.to_string());
            match identity {
                Identity::Console => return Ok(kube::Client::new(emulator.admin_router(), "default")),
                Identity::Token(t) => headers.push((header::AUTHORIZATION, bearer(t)?)),
                Identity::Impersonated { user, groups } => {
                    if let Some(t) = emulator.admin_token() {
                        headers.push((header::AUTHORIZATION, bearer(t)?));
                    }
                    let value = |v: &str| HeaderValue::from_str(v).map_err(|e| e.to_string());
                    headers.push((HeaderName::from_static("impersonate-user"), value(user)?));
                    for g in groups {
                        headers.push((HeaderName::from_static("impersonate-group"), value(g)?));
                    }
                }
            }
            let router =
                emulator.router().layer(axum::middleware::map_request(move |mut req: axum::extract::Request| {
                    for (k, v) in &headers {
                        req.headers_mut().append(k.clone(), v.clone());
                    }
                    async move { req }
                }));
            Ok(kube::Client::new(router, "default"))
        })
    }
}

/// Clients for users of the cluster of `config` (a kubeconfig's or in-cluster): their bearer
/// token instead of the console's credentials, or the console's credentials impersonating them.
pub fn connect_with(config: kube::Config) -> sidecar_service::access::Connect {
    std::sync::Arc::new(move |identity: &sidecar_service::Identity| {
        use sidecar_service::Identity;
        let mut c = config.clone();
        match identity {
            Identity::Console => {}
            Identity::Token(t) => {
                c.auth_info = kube::config::AuthInfo { token: Some(t.clone().into()), ..Default::default() };
            }
            Identity::Impersonated { user, groups } => {
                c.auth_info.impersonate = Some(user.clone());
                c.auth_info.impersonate_groups = Some(groups.clone());
            }
        }
        kube::Client::try_from(c).map_err(|e| format!("cannot make a Kubernetes client: {e}"))
    })
}

fn find(emulator: &Emulator, api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    emulator.store().registry.all().into_iter().find(|t| t.api_version() == api_version && t.kind == kind)
}

/// Creates an object unless one of that name exists.
fn ensure(emulator: &Emulator, obj: Value) -> Result<(), EmbeddedError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or("");
    let rt = find(emulator, api_version, kind).ok_or_else(|| EmbeddedError::Seed(format!("{kind} is not served")))?;
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if emulator.store().get(rt, ns, name).is_ok() {
        return Ok(());
    }
    let opts = WriteOptions { field_manager: Some("sidecar-console".into()), ..WriteOptions::default() };
    emulator.store().create(rt, ns, obj.clone(), &opts).map(drop).map_err(|e| EmbeddedError::Seed(e.to_string()))
}

/// The Pipeline CRD (ours is generated from the operator's type); one kept from an older run is
/// brought up to date.
fn install_crd(emulator: &Emulator, crd: Value) -> Result<(), EmbeddedError> {
    let rt = find(emulator, "apiextensions.k8s.io/v1", "CustomResourceDefinition")
        .ok_or_else(|| EmbeddedError::Seed("CustomResourceDefinitions are not served".into()))?;
    let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    match emulator.store().get(rt, None, name) {
        Ok(mut live) if live.get("spec") != crd.get("spec") => {
            live["spec"] = crd["spec"].clone();
            let opts = WriteOptions { field_manager: Some("sidecar-console".into()), ..WriteOptions::default() };
            emulator
                .store()
                .update(rt, None, name, live, false, &opts)
                .map(drop)
                .map_err(|e| EmbeddedError::Seed(e.to_string()))
        }
        Ok(_) => Ok(()),
        Err(_) => ensure(emulator, crd),
    }
}

/// A marker that the demo data was seeded once (so that what a user deletes stays deleted).
const SEEDED: &str = "sidecar-console-demo";

fn seed_demo(emulator: &Emulator) -> Result<(), EmbeddedError> {
    let marker = find(emulator, "v1", "ConfigMap").ok_or_else(|| EmbeddedError::Seed("no ConfigMaps".into()))?;
    if emulator.store().get(marker, Some("kube-system"), SEEDED).is_ok() {
        return Ok(());
    }
    for obj in crate::demo::objects() {
        ensure(emulator, obj)?;
    }
    ensure(
        emulator,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": SEEDED, "namespace": "kube-system"},
            "data": {"seeded": "the demo pipelines were created once; delete this to have them again"}}),
    )
}
