//! The wire types of the Sidecar Console API: what `/api/v1` answers, what the console's pages
//! and their live streams carry, and what `sidecarctl` decodes. Serde both ways, no Kubernetes
//! types, builds for `wasm32-unknown-unknown`. With the `openapi` feature each type also
//! describes itself for the server's OpenAPI document.

mod words;

pub use words::{reason_words, state_tone, state_words, Tone};

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A pipeline, by namespace and name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PipelineRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// How a pipeline's sidecars fare over its replicas, in one word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Health {
    /// The pipeline has no sidecars.
    #[default]
    NoSidecars,
    /// Every sidecar runs, ready, in every replica.
    Running,
    /// A rollout is on its way (or replicas are starting).
    RollingOut,
    /// At least one sidecar fails somewhere (cannot be pulled, crash loop, missing ConfigMap...).
    Failing,
    /// No replica runs yet.
    Pending,
}

/// A pipeline as listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipelineView {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `deployment`, `daemonSet` or `statefulSet`.
    pub kind: String,
    /// Replicas asked for (`spec.replicasCount`).
    pub replicas_count: i64,
    /// Replicas the workload has to run (for a DaemonSet, one per node).
    pub replicas: i64,
    /// The main container's image.
    pub image: String,
    /// The names of its sidecars.
    pub sidecars: Vec<String>,
    /// The operator's phase, if reported: ours (`status.phase`: `NEW`, `STARTING`, `STARTED`,
    /// `FAILED`) or Calyptia Core's (`status.status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// What the operator last said about the pipeline (Calyptia Core's `status.message`, or
    /// the message of our `Ready` condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Ready replicas, as the operator reports them.
    pub ready_replicas: i64,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Its sidecars over its replicas, in one word.
    #[serde(default)]
    pub health: Health,
}

impl PipelineView {
    /// `namespace/name`.
    pub fn reference(&self) -> PipelineRef {
        PipelineRef { namespace: self.namespace.clone(), name: self.name.clone() }
    }
}

/// Pipelines per page of a listing, unless asked otherwise.
pub const PER_PAGE: usize = 50;

/// One page of a pipeline listing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipelinePage {
    /// The pipelines of this page, by namespace and name.
    pub items: Vec<PipelineView>,
    /// Pipelines that match, over all pages.
    pub total: usize,
    /// This page, from 1.
    pub page: usize,
    /// Pages in all (at least 1).
    pub pages: usize,
    /// Pipelines per page.
    pub per_page: usize,
    /// Every namespace that has a pipeline (for the namespace filter).
    pub namespaces: Vec<String>,
}

/// A sidecar's state over the replicas.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Replicas running it ready.
    pub ready: usize,
    /// Replicas.
    pub replicas: usize,
    /// One word: `Running`, a waiting reason shared by the replicas (`ImagePullBackOff`),
    /// `RollingOut`, `NotReady`, `Pending` (no pods yet).
    pub state: String,
    /// Every distinct waiting or termination reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Replicas that run the current version of the sidecar (the rest are being replaced).
    #[serde(default)]
    pub updated: usize,
}

/// A sidecar as read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SidecarView {
    /// Its stable ID.
    pub id: String,
    /// Its container name.
    pub name: String,
    /// The pipeline it belongs to.
    pub pipeline: PipelineRef,
    /// When it was created.
    pub created_at: String,
    /// When its spec last changed.
    pub updated_at: String,
    /// Changes with the spec; send it back in `If-Match`.
    pub etag: String,
    /// Its image.
    pub image: String,
    /// The spec, as stored (defaulted).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub spec: Value,
    /// Its state over the replicas.
    pub status: Summary,
    /// What the Kubernetes API server warned about the write that answered this view (its
    /// `Warning` headers); absent on reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The spec's rule violations (`volumeMounts[0].name: ...`), for a sidecar written past the
    /// console (kubectl); the operator does not roll it out until they are fixed. Absent when
    /// the spec is valid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl SidecarView {
    /// The container ports of its spec, as `9901/TCP` (or `admin 9901/TCP`) texts.
    pub fn ports(&self) -> Vec<String> {
        self.spec
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = p.get("containerPort")?.as_i64()?;
                let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                Some(match p.get("name").and_then(Value::as_str) {
                    Some(name) => format!("{port}/{proto} ({name})"),
                    None => format!("{port}/{proto}"),
                })
            })
            .collect()
    }
}

/// What a create answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The new sidecar's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The pipeline.
    pub pipeline: PipelineRef,
    /// When it was created.
    pub created_at: String,
    /// Whether this was a dry run (nothing stored).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// What the Kubernetes API server warned about this write (its `Warning` headers); absent
    /// when it said nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a delete answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    /// Always true.
    pub deleted: bool,
    /// The ID.
    pub id: String,
    /// When.
    pub deleted_at: String,
    /// Whether this was a dry run (nothing stored).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// What the Kubernetes API server warned about this write (its `Warning` headers); absent
    /// when it said nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How a container's previous run ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Termination {
    /// Its exit code.
    pub exit_code: i32,
    /// `Error`, `OOMKilled`, `Completed`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The kubelet's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// One replica's container for a sidecar.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    /// The pod.
    pub replica: String,
    /// Its node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `Running`, `Waiting`, `Terminated`, or `Absent` (a pod from before the sidecar was added,
    /// still being replaced).
    pub state: String,
    /// Why it waits or ended (`ImagePullBackOff`, `CrashLoopBackOff`, `ContainerCreating`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The kubelet's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Whether it passes its readiness probe.
    pub ready: bool,
    /// How often it restarted.
    pub restart_count: i32,
    /// When the running container started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The image the replica runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// How its previous run ended, if it ran before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_termination: Option<Termination>,
}

/// A sidecar's state per replica.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// The ID.
    pub id: String,
    /// The name.
    pub name: String,
    /// The pipeline.
    pub pipeline: PipelineRef,
    /// Summed up.
    pub summary: Summary,
    /// Each replica.
    pub replicas: Vec<ReplicaStatus>,
}

/// An event about a sidecar's container (or a pipeline's pod).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SidecarEvent {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// CamelCase reason (`Pulling`, `Failed`, `BackOff`, `FailedMount`...).
    pub reason: String,
    /// The message.
    pub message: String,
    /// The pod.
    pub replica: String,
    /// How often it happened.
    pub count: i32,
    /// When it last happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// One line of a container's log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogLine {
    /// The pod it came from.
    pub replica: String,
    /// The line, without its newline.
    pub line: String,
}

/// A condition of a pipeline's status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `Progressing`...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// CamelCase reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// One replica (pod) of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    /// The pod's name.
    pub name: String,
    /// Its node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The pod's phase (`Pending`, `Running`...), or `Terminating`.
    pub phase: String,
    /// Containers ready.
    pub ready: usize,
    /// Containers.
    pub containers: usize,
    /// Restarts over its containers.
    pub restarts: i32,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Whether it runs the workload's current template.
    pub current: bool,
}

/// How far the workload's rollout is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    /// `Deployment`, `DaemonSet` or `StatefulSet`.
    pub kind: String,
    /// Its name (the pipeline's).
    pub name: String,
    /// Whether the workload exists yet.
    pub exists: bool,
    /// Replicas wanted.
    pub desired: i64,
    /// Replicas on the current template.
    pub updated: i64,
    /// Replicas ready.
    pub ready: i64,
    /// Replicas available.
    pub available: i64,
    /// Whether the rollout is complete (every replica updated and available, old ones gone).
    pub complete: bool,
}

/// A pipeline's status: the operator's, and what its workload and pods say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// Its conditions.
    pub conditions: Vec<Condition>,
    /// The generation of the spec.
    #[serde(default)]
    pub generation: i64,
    /// The generation the operator has acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Its replicas.
    pub replicas: Vec<Replica>,
    /// The workload's rollout.
    pub rollout: Rollout,
}

/// Everything the pipeline page shows, at one moment; a live stream sends it anew on each change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PipelineState {
    /// The pipeline.
    pub pipeline: PipelineView,
    /// Its sidecars with their state.
    pub sidecars: Vec<SidecarView>,
    /// Its status, replicas and rollout.
    pub status: PipelineStatus,
    /// What the caller may do with it.
    #[serde(default)]
    pub rights: Rights,
}

/// Whether the caller may do one thing, and if not, why (from their access review).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Right {
    /// Whether Kubernetes allows it.
    pub allowed: bool,
    /// Why not, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Default for Right {
    fn default() -> Self {
        Right { allowed: true, reason: None }
    }
}

/// What the caller may do with a pipeline, as Kubernetes answers their access reviews: the
/// console shows what they may not do disabled, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Rights {
    /// Add, change and delete its sidecars (`update` of the Pipeline).
    pub change: Right,
    /// List the ConfigMaps of its namespace (the editor's picker).
    pub config_maps: Right,
    /// Read its pods' logs (`get` of `pods/log`).
    pub logs: Right,
}

/// How grave a finding of a diagnosis is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Severity {
    /// It fails: act.
    Error,
    /// It is on its way (a rollout, a start).
    #[default]
    Progress,
    /// All is well.
    Ok,
}

/// A finding about a sidecar, in plain words, with what to do about it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// How grave.
    pub severity: Severity,
    /// Kubernetes' reason (`ImagePullBackOff`, `FailedMount`, `CrashLoopBackOff`, `Unhealthy`...),
    /// or `RollingOut`, `Running`.
    pub reason: String,
    /// One sentence: what is the matter.
    pub title: String,
    /// What Kubernetes said (the kubelet's message, a probe's output), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// What to check or do, each a sentence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// A command that fixes it, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The replicas it concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<String>,
    /// Last lines of the previous run's log (for a crash loop).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
}

/// Everything the sidecar page shows, at one moment; a live stream sends it anew on each change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SidecarState {
    /// The pipeline it belongs to.
    pub pipeline: PipelineView,
    /// The sidecar.
    pub sidecar: SidecarView,
    /// It in each replica.
    pub replicas: Vec<ReplicaStatus>,
    /// Events about its container, newest first.
    pub events: Vec<SidecarEvent>,
    /// What is the matter, in plain words; empty when nothing is.
    pub diagnosis: Vec<Diagnosis>,
    /// What the caller may do with its pipeline.
    #[serde(default)]
    pub rights: Rights,
}

/// One field problem in an [`ErrorBody`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Detail {
    /// Path in Kubernetes' style (`ports[0].containerPort`).
    pub field: String,
    /// `Required`, `Invalid`, `Duplicate`, ...
    pub kind: String,
    /// A sentence about the problem.
    pub message: String,
    /// The offending value, where it helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub value: Option<Value>,
}

/// A ConfigMap a sidecar can mount: its name and its keys (the file names it provides).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfigMapView {
    /// Its name.
    pub name: String,
    /// The keys of `data` and `binaryData`, sorted.
    pub keys: Vec<String>,
}

/// An error as the API returns it: `{"error": "...", "details": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// One sentence saying what is wrong.
    pub error: String,
    /// Per-field problems, when the request body was a spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail>,
    /// Line of a JSON syntax error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column of a JSON syntax error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// In a conflict: the sidecar as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub current: Option<Box<Value>>,
    /// In a conflict: what the request asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub proposed: Option<Box<Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_without_the_newer_fields_still_decodes() {
        let old = r#"{"namespace":"logging","name":"app-logs","kind":"deployment","replicasCount":2,
            "replicas":2,"image":"fluent/fluent-bit:3.1","sidecars":["envoy"],"readyReplicas":2}"#;
        let p: PipelineView = serde_json::from_str(old).expect("decodes");
        assert_eq!((p.name.as_str(), p.health), ("app-logs", Health::NoSidecars));
    }

    #[test]
    fn ports_read_as_number_protocol_and_name() {
        let s = SidecarView {
            spec: serde_json::json!({"ports": [{"containerPort": 9901, "name": "admin", "protocol": "TCP"},
                {"containerPort": 10000}]}),
            ..SidecarView::default()
        };
        assert_eq!(s.ports(), ["9901/TCP (admin)", "10000/TCP"]);
    }

    #[test]
    fn states_read_in_plain_words() {
        let running = Summary { ready: 2, replicas: 2, state: "Running".into(), ..Summary::default() };
        assert_eq!(state_words(&running), "Running");
        let pull = Summary { ready: 0, replicas: 2, state: "ImagePullBackOff".into(), ..Summary::default() };
        assert_eq!(state_words(&pull), "Image cannot be pulled");
        let rolling = Summary { ready: 1, replicas: 3, state: "RollingOut".into(), updated: 2, ..Summary::default() };
        assert_eq!(state_words(&rolling), "Rolling out, 2 of 3 replicas");
    }
}
