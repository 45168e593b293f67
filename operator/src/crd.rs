//! The Pipeline custom resource (`core.calyptia.com/v1`), typed; its CRD is generated from
//! this type (`deploy/crds/`, checked by a test so the two cannot drift).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of workload runs a pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PipelineKind {
    /// A Deployment of `replicasCount` pods.
    #[default]
    #[serde(rename = "deployment")]
    Deployment,
    /// A DaemonSet: one pod per node.
    #[serde(rename = "daemonSet")]
    DaemonSet,
    /// A StatefulSet of `replicasCount` ordered pods.
    #[serde(rename = "statefulSet")]
    StatefulSet,
}

fn one() -> i32 {
    1
}

/// A data pipeline: its main container and the sidecars that run beside it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "core.calyptia.com",
    version = "v1",
    kind = "Pipeline",
    namespaced,
    status = "PipelineStatus",
    shortname = "pl",
    printcolumn = r#"{"name": "Kind", "type": "string", "jsonPath": ".spec.kind"}"#,
    printcolumn = r#"{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicasCount"}"#,
    printcolumn = r#"{"name": "Sidecars", "type": "string", "jsonPath": ".spec.sidecars[*].name"}"#,
    printcolumn = r#"{"name": "Phase", "type": "string", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PipelineSpec {
    /// The workload kind (`deployment` when omitted).
    #[serde(default)]
    pub kind: PipelineKind,
    /// How many replicas (Deployment, StatefulSet).
    #[serde(default = "one")]
    pub replicas_count: i32,
    /// The image of the pipeline's main container (a Fluent Bit image).
    pub image: String,
    /// The pipeline's configuration, mounted into the main container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub config: String,
    /// The sidecars: extra containers in every replica's pod, identified by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub sidecars: Vec<sidecar_spec::SidecarSpec>,
}

/// A pipeline's phase, as the operator reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Phase {
    /// Not reconciled yet.
    #[default]
    New,
    /// The workload exists; not every replica is ready with the current template.
    Starting,
    /// Every replica is ready with the current template.
    Started,
    /// The workload could not be made.
    Failed,
}

/// What the operator observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// The phase.
    #[serde(default)]
    pub phase: Phase,
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Replicas wanted.
    #[serde(default)]
    pub replicas: i32,
    /// Replicas ready.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Replicas running the current template.
    #[serde(default)]
    pub updated_replicas: i32,
    /// Conditions (`Ready`), with reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A condition, as Kubernetes' `metav1.Condition`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A CamelCase reason.
    pub reason: String,
    /// A sentence.
    #[serde(default)]
    pub message: String,
    /// When the status last changed.
    pub last_transition_time: String,
    /// The generation it was set for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// The CRD as a YAML document, with the schema made acceptable to the API server (the spec
/// crate's `x-required` markers become `required` lists).
pub fn crd_yaml() -> String {
    let mut crd = serde_json::to_value(<Pipeline as kube::CustomResourceExt>::crd()).unwrap_or(Value::Null);
    sidecar_spec::mark_required(&mut crd);
    // The sidecar types' serde defaults are not the API server's to fill in: the spec crate
    // applies Kubernetes' defaults itself, and `name: ''` in stored objects would be noise.
    if let Some(sidecars) =
        crd.pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/sidecars")
    {
        strip_defaults(sidecars);
    }
    serde_yaml_ng::to_string(&crd).unwrap_or_default()
}

/// The CRD as JSON (what [`crd_yaml`] writes).
pub fn crd_json() -> Value {
    serde_yaml_ng::from_str(&crd_yaml()).unwrap_or(Value::Null)
}

fn strip_defaults(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            obj.remove("default");
            obj.values_mut().for_each(strip_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}
