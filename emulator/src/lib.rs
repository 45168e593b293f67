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
pub mod auth;
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
pub mod protobuf;
pub mod rbac;
pub mod resources;
mod reviews;
mod schema;
mod selector;
mod serve;
mod store;
mod table;

pub use api::apply_patch;
pub use disk::DiskError;
pub use error::ApiError;
pub use serve::{Certificate, ServeError};
pub use store::{Deleted, FieldValidation, Propagation, Store, WriteOptions, Written};

use auth::{Authn, Tokens};
use axum::http::{header, HeaderValue};
use axum::Router;
use std::sync::Arc;

/// A Kubernetes API server and its object store.
#[derive(Clone, Default)]
pub struct Emulator {
    store: Arc<Store>,
    authn: Arc<Authn>,
}

impl Emulator {
    /// An emulator with an empty, in-memory store and the namespaces a new cluster has.
    pub fn new() -> Self {
        let emulator = Self { store: Arc::new(Store::default()), authn: Arc::default() };
        emulator.seed_namespaces();
        emulator
    }

    /// An in-memory emulator that keeps only the last `history` changes for watches, so that
    /// clients meet 410 Gone soon (see [`Store::with_history`]).
    pub fn with_history(history: usize) -> Self {
        let emulator = Self { store: Arc::new(Store::with_history(history)), authn: Arc::default() };
        emulator.seed_namespaces();
        emulator
    }

    /// An emulator whose store lives in `data_dir`: what was written before is there again
    /// after a restart (or a crash).
    pub fn open(data_dir: &std::path::Path) -> Result<Self, DiskError> {
        let emulator = Self { store: Arc::new(Store::open(data_dir)?), authn: Arc::default() };
        if emulator.store.resource_version() == 0 {
            emulator.seed_namespaces();
        } else {
            emulator.seed_roles();
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
        self.seed_roles();
    }

    /// The default ClusterRoles and ClusterRoleBindings, where missing (a cluster kept from a
    /// version without them gets them too).
    fn seed_roles(&self) {
        for (rt, obj) in rbac::default_objects() {
            let name = obj.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
            if self.store.get(rt, None, &name).is_ok() {
                continue;
            }
            if let Err(e) = self.store.create(rt, None, obj, &WriteOptions::default()) {
                tracing::warn!(name, error = %e, "could not create a default role of a new cluster");
            }
        }
    }

    /// The emulator, authenticating with the bearer tokens of a token file (kube-apiserver's
    /// `--token-auth-file`) and authorizing with RBAC; requests without a known token are 401.
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.authn = Arc::new(Authn::Tokens(tokens));
        self
    }

    /// Whether requests are authenticated (a token file is configured).
    pub fn authenticates(&self) -> bool {
        matches!(*self.authn, Authn::Tokens(_))
    }

    /// The token of `system:masters` its own kubeconfig carries, when it authenticates.
    pub fn admin_token(&self) -> Option<&str> {
        self.authn.admin_token()
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
        api::router(self.store.clone(), self.authn.clone())
    }

    /// The HTTP API as a member of `system:masters`: every request carries the admin token
    /// (for in-process clients of the cluster's own components).
    pub fn admin_router(&self) -> Router {
        let router = self.router();
        let Some(value) = self.admin_token().and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) else {
            return router;
        };
        router.layer(axum::middleware::map_request(move |mut req: axum::extract::Request| {
            req.headers_mut().insert(header::AUTHORIZATION, value.clone());
            async move { req }
        }))
    }

    /// A kubeconfig for this emulator served on `server`, with the admin token when it
    /// authenticates (and then `server` is HTTPS with the certificate `ca_pem`).
    pub fn admin_kubeconfig(&self, server: &str, ca_pem: Option<&str>) -> String {
        Self::kubeconfig_for(server, self.admin_token().unwrap_or("emulator"), ca_pem)
    }

    /// A kubeconfig pointing at an open emulator on `server` (e.g. `http://127.0.0.1:6443`).
    pub fn kubeconfig(server: &str) -> String {
        Self::kubeconfig_for(server, "emulator", None)
    }
}
