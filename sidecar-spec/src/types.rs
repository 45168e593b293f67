//! The spec's types. Field names and shapes are those of the Kubernetes container API; the JSON
//! Schema is derived from these definitions, and strict decoding is driven by that schema, so the
//! three cannot drift apart.

use crate::Quantity;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A pipeline sidecar: an extra container that runs beside the pipeline's main container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Pipeline sidecar")]
pub struct SidecarSpec {
    /// Name of the sidecar container: a DNS-1123 label, unique within the pipeline.
    #[serde(default)]
    #[schemars(extend("x-required" = true), length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// Container image reference, e.g. `envoyproxy/envoy:v1.28-latest`.
    #[serde(default)]
    #[schemars(extend("x-required" = true), length(min = 1))]
    pub image: String,
    /// When to pull the image: `Always`, `IfNotPresent` or `Never`. Defaults to `Always` for an
    /// untagged or `:latest` image, else `IfNotPresent`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["Always", "IfNotPresent", "Never"]))]
    pub image_pull_policy: String,
    /// Entrypoint array; the image's ENTRYPOINT when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments to the entrypoint; the image's CMD when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Compute resources: `limits` and `requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Ports the sidecar exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Where declared volumes are mounted in the sidecar.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Volumes the sidecar needs; only ConfigMap volumes are supported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Restarts the sidecar when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Says when the sidecar is ready to serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Holds the other probes back until the sidecar has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    /// Actions the kubelet runs right after the sidecar starts and before it is stopped (a
    /// `preStop` sleep lets a proxy drain its connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

/// Hooks around a container's life.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lifecycle {
    /// Runs right after the container is created; when it fails, the container is killed and
    /// started again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_start: Option<LifecycleHandler>,
    /// Runs before the container is stopped (a rollout, a scale-down, a pod deletion); the stop
    /// waits for it, within the pod's grace period of 30 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_stop: Option<LifecycleHandler>,
}

/// One hook: exactly one of its actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleHandler {
    /// Runs a command in the sidecar; a non-zero exit status is a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    /// An HTTP GET; a status outside 200-399 is a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    /// A TCP connection (kept for compatibility; Kubernetes does not run it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    /// Waits, without needing a `sleep` binary in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sleep: Option<SleepAction>,
}

/// A pause.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SleepAction {
    /// Seconds to wait: 1 to 30 (the pod's grace period).
    #[serde(default)]
    #[schemars(extend("x-required" = true), range(min = 1, max = 30))]
    pub seconds: i64,
}

/// An environment variable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVar {
    /// Variable name: printable ASCII characters other than `=`.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub name: String,
    /// Literal value; may not be combined with `valueFrom`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// Where the value comes from instead of `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

/// The source of an environment variable's value: exactly one of the fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVarSource {
    /// A field of the pod (downward API), e.g. `metadata.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_ref: Option<ObjectFieldSelector>,
    /// A resource of the container, e.g. `limits.memory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_field_ref: Option<ResourceFieldSelector>,
    /// A key of a ConfigMap in the pipeline's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeySelector>,
    /// A key of a Secret in the pipeline's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeySelector>,
}

/// Selects a field of the pod.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectFieldSelector {
    /// Schema version of `fieldPath`; defaults to `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Path of the field, e.g. `metadata.name` or `metadata.labels['app']`.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub field_path: String,
}

/// Selects a resource of a container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceFieldSelector {
    /// Container name; this sidecar when omitted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container_name: String,
    /// The resource, e.g. `limits.cpu` or `requests.memory`.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub resource: String,
    /// Unit the value is expressed in; `1` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisor: Option<Quantity>,
}

/// Selects a key of a ConfigMap or Secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySelector {
    /// Name of the ConfigMap or Secret.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub name: String,
    /// The key to select.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub key: String,
    /// Whether the object or key may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// Compute resources.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRequirements {
    /// Maximum amounts, e.g. `{"cpu": "500m", "memory": "128Mi"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, Quantity>,
    /// Minimum amounts; each defaults to its limit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Quantity>,
}

/// A port the sidecar exposes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerPort {
    /// An IANA service name, unique within the sidecar.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Port number, 1-65535.
    #[serde(default)]
    #[schemars(extend("x-required" = true), range(min = 1, max = 65535))]
    pub container_port: i32,
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["TCP", "UDP", "SCTP"]))]
    pub protocol: String,
    /// Port on the node, 1-65535; 0 (as absent) for none.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0, max = 65535))]
    pub host_port: i32,
    /// Node address to bind `hostPort` to.
    #[serde(default, rename = "hostIP", skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
}

/// Mounts a declared volume into the sidecar.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeMount {
    /// Name of a volume declared in `volumes`.
    #[serde(default)]
    #[schemars(extend("x-required" = true), length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// Absolute path in the container; unique within the sidecar.
    #[serde(default)]
    #[schemars(extend("x-required" = true), regex(pattern = "^/"))]
    pub mount_path: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Path inside the volume to mount instead of its root (relative, no `..`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_path: String,
    /// Like `subPath`, with `$(VAR)` expanded from the environment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_path_expr: String,
    /// `None`, `HostToContainer` or `Bidirectional` (the last needs a privileged container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["None", "HostToContainer"]))]
    pub mount_propagation: Option<String>,
}

/// A volume; sidecars support ConfigMap volumes only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Volume {
    /// Volume name: a DNS-1123 label, unique within the sidecar.
    #[serde(default)]
    #[schemars(extend("x-required" = true), length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// The ConfigMap whose keys become files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-required" = true))]
    pub config_map: Option<ConfigMapVolumeSource>,
}

/// A ConfigMap in the pipeline's namespace, projected as files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapVolumeSource {
    /// Name of the ConfigMap.
    #[serde(default)]
    #[schemars(extend("x-required" = true), length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))]
    pub name: String,
    /// Which keys to project, and where; all keys when omitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<KeyToPath>,
    /// File mode bits, 0-0777 (decimal 0-511 in JSON); 0644 when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 511))]
    pub default_mode: Option<i32>,
    /// Whether the ConfigMap may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// Projects one ConfigMap key to a file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyToPath {
    /// The key in the ConfigMap.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub key: String,
    /// Relative file path inside the volume (no `..`).
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub path: String,
    /// File mode bits, 0-0777 (decimal 0-511 in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 511))]
    pub mode: Option<i32>,
}

/// A health check: exactly one of `exec`, `httpGet`, `tcpSocket`, `grpc`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// Runs a command in the sidecar; exit status 0 is success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    /// An HTTP GET; a status from 200 to 399 is success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    /// A TCP connection; connecting is success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    /// A gRPC health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<GrpcAction>,
    /// Seconds after start before the first probe.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0))]
    pub initial_delay_seconds: i32,
    /// Seconds before a probe times out; 1 when omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0))]
    pub timeout_seconds: i32,
    /// Seconds between probes; 10 when omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0))]
    pub period_seconds: i32,
    /// Successes in a row that count as success after a failure; 1 when omitted (and must be 1
    /// for liveness and startup probes).
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0))]
    pub success_threshold: i32,
    /// Failures in a row that count as failure; 3 when omitted.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0))]
    pub failure_threshold: i32,
    /// Grace period when the probe fails; not allowed on a readiness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub termination_grace_period_seconds: Option<i64>,
}

/// Runs a command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecAction {
    /// The command line; not run in a shell.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub command: Vec<String>,
}

/// An HTTP GET request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpGetAction {
    /// Path to request; `/` when omitted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Port number (1-65535) or port name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-required" = true))]
    pub port: Option<IntOrString>,
    /// Host to connect to; the pod IP when omitted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// `HTTP` (default) or `HTTPS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["HTTP", "HTTPS"]))]
    pub scheme: String,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<HttpHeader>,
}

/// An HTTP header.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHeader {
    /// Header name: letters, digits and `-`.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub name: String,
    /// Header value.
    #[serde(default)]
    #[schemars(extend("x-required" = true))]
    pub value: String,
}

/// A TCP connection attempt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcpSocketAction {
    /// Port number (1-65535) or port name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-required" = true))]
    pub port: Option<IntOrString>,
    /// Host to connect to; the pod IP when omitted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
}

/// A gRPC health check.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrpcAction {
    /// Port number, 1-65535.
    #[serde(default)]
    #[schemars(extend("x-required" = true), range(min = 1, max = 65535))]
    pub port: i32,
    /// Service name sent in the health check request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A port given by number or by name, as Kubernetes' `IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A port number.
    Int(i32),
    /// A port name.
    String(String),
}

impl JsonSchema for IntOrString {
    fn schema_name() -> Cow<'static, str> {
        "IntOrString".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A port number (1-65535) or a port name.",
            "anyOf": [{"type": "integer", "format": "int32"}, {"type": "string"}],
            "x-kubernetes-int-or-string": true
        })
    }
}
