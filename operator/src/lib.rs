//! The Pipeline custom resource and the operator that reconciles it: each Pipeline becomes a
//! workload (Deployment, DaemonSet or StatefulSet) of the same name whose pods run the main
//! container and one container per sidecar, with a status that says how far the rollout is.

pub mod controller;
pub mod crd;
pub mod lease;
pub mod presence;
pub mod render;

pub use controller::{run, stop};
pub use crd::{Pipeline, PipelineKind, PipelineSpec, PipelineStatus};
pub use presence::core_operator_namespace;
