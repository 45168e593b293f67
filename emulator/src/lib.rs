//! An in-process Kubernetes API server.
//!
//! It serves the subset of the Kubernetes API that Sidecar Console and `kubectl` use, with
//! Kubernetes' semantics: discovery, get/list/create/update/delete/patch/watch, resource versions
//! and conflicts, label and field selectors, and `Status` errors shaped as Kubernetes returns them.
//! [`Emulator::router`] is an axum `Router`, usable in-process
//! (`kube::Client::new(router, "default")`) or served on a loopback port.
//!
//! Served now: namespaces, configmaps, secrets, pods and events (core/v1), and
//! CustomResourceDefinitions, whose types are served as soon as they are created (with their
//! `status` subresource and structural pruning). The object store is in memory, or persisted in
//! a data directory ([`Emulator::open`]).

mod api;
mod builtin;
pub mod cluster;
mod crd;
mod discovery;
mod disk;
mod error;
mod events;
mod fields;
pub mod kubectl;
mod logs;
mod logs_api;
mod merge;
mod openapi;
mod protobuf;
pub mod resources;
mod schema;
mod selector;
mod store;
mod table;

pub use disk::DiskError;
pub use error::ApiError;
pub use store::{Deleted, FieldValidation, Propagation, Store, WriteOptions, Written};

use axum::Router;
use std::sync::Arc;

/// A Kubernetes API server and its object store.
#[derive(Clone, Default)]
pub struct Emulator {
    store: Arc<Store>,
}

impl Emulator {
    /// An emulator with an empty, in-memory store and the namespaces a new cluster has.
    pub fn new() -> Self {
        let emulator = Self { store: Arc::new(Store::default()) };
        emulator.seed_namespaces();
        emulator
    }

    /// An in-memory emulator that keeps only the last `history` changes for watches, so that
    /// clients meet 410 Gone soon (see [`Store::with_history`]).
    pub fn with_history(history: usize) -> Self {
        let emulator = Self { store: Arc::new(Store::with_history(history)) };
        emulator.seed_namespaces();
        emulator
    }

    /// An emulator whose store lives in `data_dir`: what was written before is there again
    /// after a restart (or a crash).
    pub fn open(data_dir: &std::path::Path) -> Result<Self, DiskError> {
        let emulator = Self { store: Arc::new(Store::open(data_dir)?) };
        if emulator.store.resource_version() == 0 {
            emulator.seed_namespaces();
        }
        Ok(emulator)
    }

    fn seed_namespaces(&self) {
        for ns in ["default", "kube-system", "kube-public"] {
            let obj = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            if let Err(e) = self.store.create(&resources::NAMESPACES, None, obj, &WriteOptions::default()) {
                tracing::warn!(namespace = ns, error = %e, "could not create a namespace of a new cluster");
            }
        }
    }

    /// Starts the simulated cluster around the API server: nodes, workload controllers, a
    /// scheduler and a kubelet (see [`cluster`]). Needs a running tokio runtime.
    pub fn start_cluster(&self) {
        cluster::start(self.store.clone());
    }

    /// The object store (for seeding and inspection).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The HTTP API.
    pub fn router(&self) -> Router {
        api::router(self.store.clone())
    }

    /// A kubeconfig pointing at this emulator served on `server` (e.g. `http://127.0.0.1:6443`).
    pub fn kubeconfig(server: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sidecar-emulator\n  cluster:\n    server: {server}\n\
             users:\n- name: sidecar-emulator\n  user:\n    token: emulator\n\
             contexts:\n- name: sidecar-emulator\n  context:\n    cluster: sidecar-emulator\n    user: sidecar-emulator\n    namespace: default\n\
             current-context: sidecar-emulator\n"
        )
    }
}
