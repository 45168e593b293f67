//! What a Pipeline becomes: a ConfigMap with its configuration and a workload whose pod template
//! runs the main container and one container per sidecar. Pure functions, so that the rendering
//! is tested without a cluster.

use crate::crd::{Pipeline, PipelineKind};
use kube::{Resource, ResourceExt};
use serde_json::{json, Map, Value};

/// The label that ties a workload's pods to their pipeline.
pub const PIPELINE_LABEL: &str = "core.calyptia.com/pipeline";
/// The main container's name.
pub const MAIN_CONTAINER: &str = "fluent-bit";
/// The volume holding the pipeline's configuration.
pub const CONFIG_VOLUME: &str = "pipeline-config";

/// The name of the ConfigMap that holds a pipeline's configuration.
pub fn config_map_name(pipeline: &str) -> String {
    format!("{pipeline}-config")
}

/// A problem a user must see, reported as a Warning event on the Pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// A CamelCase reason.
    pub reason: &'static str,
    /// A sentence.
    pub message: String,
}

/// The rendered objects.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    /// `apps/v1` kind: `Deployment`, `DaemonSet` or `StatefulSet`.
    pub kind: &'static str,
    /// The workload, as an apply configuration.
    pub workload: Value,
    /// The ConfigMap with the pipeline's configuration.
    pub config_map: Value,
    /// What the user must be told.
    pub warnings: Vec<Warning>,
}

/// The `apps/v1` kind of a pipeline kind.
pub fn workload_kind(kind: PipelineKind) -> &'static str {
    match kind {
        PipelineKind::Deployment => "Deployment",
        PipelineKind::DaemonSet => "DaemonSet",
        PipelineKind::StatefulSet => "StatefulSet",
    }
}

/// Renders a pipeline. Sidecar volumes are added to the pod once; a volume whose name another
/// sidecar (or the pipeline's own configuration volume) already uses with a different source
/// is left out and reported.
pub fn render(p: &Pipeline) -> Rendered {
    let name = p.name_any();
    let namespace = p.namespace().unwrap_or_else(|| "default".into());
    let owner = p.controller_owner_ref(&()).map(|o| serde_json::to_value(o).unwrap_or(Value::Null));
    let owners: Vec<Value> = owner.into_iter().collect();
    let labels = json!({PIPELINE_LABEL: name, "app.kubernetes.io/managed-by": "sidecar-console"});
    let mut warnings = Vec::new();

    let mut volumes: Vec<Value> = vec![json!({"name": CONFIG_VOLUME, "configMap": {"name": config_map_name(&name)}})];
    let mut containers = vec![json!({
        "name": MAIN_CONTAINER,
        "image": p.spec.image,
        "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": "/fluent-bit/etc/pipeline", "readOnly": true}],
    })];
    for sidecar in &p.spec.sidecars {
        let mut c = serde_json::to_value(sidecar).unwrap_or(Value::Null);
        if let Some(m) = c.as_object_mut() {
            m.remove("volumes");
        }
        for v in &sidecar.volumes {
            let v = serde_json::to_value(v).unwrap_or(Value::Null);
            match volumes.iter().find(|x| x["name"] == v["name"]) {
                None => volumes.push(v),
                Some(existing) if *existing == v => {}
                Some(_) => warnings.push(Warning {
                    reason: "VolumeNameClash",
                    message: format!(
                        "sidecar {:?}: volume {} is already defined with another source; the first definition is used",
                        sidecar.name, v["name"]
                    ),
                }),
            }
        }
        containers.push(c);
    }
    let mut spec = Map::new();
    spec.insert("selector".into(), json!({"matchLabels": {PIPELINE_LABEL: name}}));
    spec.insert(
        "template".into(),
        json!({"metadata": {"labels": labels}, "spec": {"containers": containers, "volumes": volumes}}),
    );
    let kind = workload_kind(p.spec.kind);
    match p.spec.kind {
        PipelineKind::Deployment => {
            spec.insert("replicas".into(), json!(p.spec.replicas_count));
        }
        PipelineKind::StatefulSet => {
            spec.insert("replicas".into(), json!(p.spec.replicas_count));
            spec.insert("serviceName".into(), json!(name));
        }
        PipelineKind::DaemonSet => {}
    }
    let metadata = json!({"name": name, "namespace": namespace, "labels": labels, "ownerReferences": owners});
    let workload = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec});
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": config_map_name(&name), "namespace": namespace, "labels": labels, "ownerReferences": owners},
        "data": {"pipeline.conf": p.spec.config},
    });
    Rendered { kind, workload, config_map, warnings }
}
