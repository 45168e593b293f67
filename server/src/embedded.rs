//! The embedded default: the Kubernetes API emulator in-process with its simulated cluster, the
//! Pipeline CRD, the operator and demo data, and its API served on a loopback port so that
//! `kubectl` sees the same cluster as the console.

use emulator::resources::ResourceType;
use emulator::{Emulator, WriteOptions};
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
    /// Only loopback: the emulator has no authentication.
    #[error("the embedded cluster has no authentication and listens on loopback only, not {0}")]
    NotLoopback(SocketAddr),
    /// The kubeconfig could not be written.
    #[error("cannot write {0}: {1}")]
    Kubeconfig(PathBuf, std::io::Error),
    /// Seeding failed.
    #[error("cannot set up the cluster: {0}")]
    Seed(String),
}

/// Starts the cluster (persisted in `data_dir`, or in memory), its API on `listen`, the operator
/// (when `operator`), and seeds demo data into a new cluster. The Pipeline CRD is ours unless
/// `pipeline_crd` gives another (Calyptia Core's, say).
pub async fn start(
    data_dir: Option<&Path>,
    listen: SocketAddr,
    kubeconfig: &Path,
    operator: bool,
    pipeline_crd: Option<&Value>,
) -> Result<Embedded, EmbeddedError> {
    if !listen.ip().is_loopback() {
        return Err(EmbeddedError::NotLoopback(listen));
    }
    let emulator = match data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| EmbeddedError::Data(dir.to_owned(), e.to_string()))?;
            Emulator::open(dir).map_err(|e| EmbeddedError::Data(dir.to_owned(), e.to_string()))?
        }
        None => Emulator::new(),
    };
    emulator.start_cluster();
    install_crd(&emulator, pipeline_crd.cloned().unwrap_or_else(operator::crd::crd_json))?;
    seed_demo(&emulator)?;
    let client = kube::Client::new(emulator.router(), "default");
    if operator {
        tokio::spawn(operator::run(client.clone()));
    }
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| EmbeddedError::Listen(listen, e))?;
    let addr = listener.local_addr().map_err(|e| EmbeddedError::Listen(listen, e))?;
    std::fs::write(kubeconfig, Emulator::kubeconfig(&format!("http://{addr}")))
        .map_err(|e| EmbeddedError::Kubeconfig(kubeconfig.to_owned(), e))?;
    let router = emulator.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the embedded cluster's API stopped");
        }
    });
    Ok(Embedded { emulator, client, addr, kubeconfig: kubeconfig.to_owned() })
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
