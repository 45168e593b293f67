//! Decoding built-in objects the way the API server does: into their typed form (from
//! k8s-openapi) and back, which drops fields the type does not have; those fields are reported
//! for `fieldValidation`.

use crate::resources::*;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenReview};
use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// The object re-encoded through its type, and the paths of the fields that were dropped
/// (`datax`, `spec.containers[0].imagePullPolcy`). `None` for a type that is not built in.
pub fn normalize(rt: &ResourceType, obj: &Value) -> Option<Result<(Value, Vec<String>), String>> {
    type Through = fn(&Value) -> Result<(Value, Vec<String>), String>;
    let through: Through = match rt.plural {
        _ if is(rt, &CONFIGMAPS) => through::<ConfigMap>,
        _ if is(rt, &SECRETS) => through::<Secret>,
        _ if is(rt, &PODS) => through::<Pod>,
        _ if is(rt, &NODES) => through::<Node>,
        _ if is(rt, &NAMESPACES) => through::<Namespace>,
        _ if is(rt, &EVENTS) => through::<Event>,
        _ if is(rt, &EVENTS_V1) => through::<k8s_openapi::api::events::v1::Event>,
        _ if is(rt, &DEPLOYMENTS) => through::<Deployment>,
        _ if is(rt, &REPLICASETS) => through::<ReplicaSet>,
        _ if is(rt, &DAEMONSETS) => through::<DaemonSet>,
        _ if is(rt, &STATEFULSETS) => through::<StatefulSet>,
        _ if is(rt, &CRDS) => through::<CustomResourceDefinition>,
        _ if is(rt, &SELF_SUBJECT_ACCESS_REVIEWS) => through::<SelfSubjectAccessReview>,
        _ if is(rt, &SUBJECT_ACCESS_REVIEWS) => through::<SubjectAccessReview>,
        _ if is(rt, &SELF_SUBJECT_RULES_REVIEWS) => through::<SelfSubjectRulesReview>,
        _ if is(rt, &SELF_SUBJECT_REVIEWS) => through::<SelfSubjectReview>,
        _ if is(rt, &TOKEN_REVIEWS) => through::<TokenReview>,
        _ if is(rt, &ROLES) => through::<Role>,
        _ if is(rt, &CLUSTER_ROLES) => through::<ClusterRole>,
        _ if is(rt, &ROLE_BINDINGS) => through::<RoleBinding>,
        _ if is(rt, &CLUSTER_ROLE_BINDINGS) => through::<ClusterRoleBinding>,
        _ if is(rt, &LEASES) => through::<Lease>,
        _ if is(rt, &SERVICES) => through::<Service>,
        _ if is(rt, &SERVICE_ACCOUNTS) => through::<ServiceAccount>,
        _ if is(rt, &INGRESSES) => through::<Ingress>,
        _ => return None,
    };
    Some(through(obj))
}

fn through<T: DeserializeOwned + Serialize>(obj: &Value) -> Result<(Value, Vec<String>), String> {
    let mut unknown = Vec::new();
    let typed: T =
        serde_ignored::deserialize(obj, |path| unknown.push(kubernetes_path(&path))).map_err(|e| e.to_string())?;
    let value = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    unknown.sort();
    Ok((value, unknown))
}

/// `spec.containers.0.x` as Kubernetes writes it: `spec.containers[0].x`.
fn kubernetes_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", kubernetes_path(parent)),
        Path::Map { parent, key } => {
            let p = kubernetes_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            kubernetes_path(parent)
        }
    }
}

/// Kubernetes' defaulting and validation of built-in objects, where kubectl users notice them:
/// pod specs (in pods and in workload templates, containers checked with the sidecar spec's
/// rules), workload selectors, and the defaults the API server fills in.
pub fn admit(rt: &ResourceType, obj: &mut Value) -> Result<(), Vec<(String, &'static str, String)>> {
    let mut errors = Vec::new();
    let template = if is(rt, &PODS) {
        Some("spec")
    } else if is(rt, &DEPLOYMENTS) || is(rt, &REPLICASETS) || is(rt, &DAEMONSETS) || is(rt, &STATEFULSETS) {
        Some("spec.template.spec")
    } else {
        None
    };
    if let Some(prefix) = template {
        let pointer = format!("/{}", prefix.replace('.', "/"));
        match obj.pointer_mut(&pointer) {
            Some(spec) => pod_spec(spec, prefix, &mut errors),
            None => errors.push((prefix.to_owned(), "FieldValueRequired", "Required value".to_owned())),
        }
    }
    if is(rt, &SECRETS) && obj.get("type").and_then(Value::as_str).is_none_or(str::is_empty) {
        obj["type"] = json!("Opaque");
    }
    if is(rt, &PODS) {
        default(obj, "/spec/enableServiceLinks", json!(true));
        default(obj, "/spec/priority", json!(0));
        default(obj, "/spec/preemptionPolicy", json!("PreemptLowerPriority"));
        if obj.get("status").is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty())) {
            let qos = qos_class(obj);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
    }
    if template.is_some() && !is(rt, &PODS) {
        workload(rt, obj, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Sets a field if it is absent (or null).
fn default(obj: &mut Value, pointer: &str, value: Value) {
    if obj.pointer(pointer).is_none_or(Value::is_null) {
        let (parent, field) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        if let Some(Value::Object(m)) = obj.pointer_mut(parent) {
            m.insert(field.to_owned(), value);
        }
    }
}

fn qos_class(pod: &Value) -> &'static str {
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        any |= requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty());
        let full = limits.is_some_and(|l| l.contains_key("cpu") && l.contains_key("memory"));
        let same = requests.is_none_or(|r| r.iter().all(|(k, v)| limits.and_then(|l| l.get(k)) == Some(v)));
        guaranteed &= full && same;
    }
    if guaranteed {
        "Guaranteed"
    } else if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

fn cause(kind: sidecar_spec::ErrorKind, value: Option<&Value>, message: &str) -> (&'static str, String) {
    use sidecar_spec::ErrorKind as K;
    let v = value.map(|v| v.to_string()).unwrap_or_else(|| "null".into());
    match kind {
        K::Required => ("FieldValueRequired", "Required value".into()),
        K::Duplicate => ("FieldValueDuplicate", format!("Duplicate value: {v}")),
        K::NotSupported if message.starts_with("Unsupported value") => ("FieldValueNotSupported", message.into()),
        K::NotSupported => ("FieldValueNotSupported", format!("Unsupported value: {v}: {message}")),
        K::Forbidden => ("FieldValueForbidden", format!("Forbidden: {message}")),
        K::NotFound => ("FieldValueNotFound", format!("Not found: {v}")),
        K::TooLong => ("FieldValueTooLong", format!("Too long: {message}")),
        K::Invalid | K::Type | K::UnknownField => ("FieldValueInvalid", format!("Invalid value: {v}: {message}")),
    }
}

fn pod_spec(spec: &mut Value, prefix: &str, errors: &mut Vec<(String, &'static str, String)>) {
    let volumes: Vec<String> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v["name"].as_str()).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let field = format!("{prefix}.volumes[{i}].name");
        if !seen.insert(v.clone()) {
            errors.push((field, "FieldValueDuplicate", format!("Duplicate value: {v:?}")));
        } else if let Some(m) = sidecar_spec::names::dns1123_label(v).first() {
            errors.push((field, "FieldValueInvalid", format!("Invalid value: {v:?}: {m}")));
        }
    }
    let names: Vec<&str> = volumes.iter().map(String::as_str).collect();
    let mut container_names = std::collections::HashSet::new();
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            if list == "containers" {
                errors.push((format!("{prefix}.containers"), "FieldValueRequired", "Required value".into()));
            }
            continue;
        };
        if containers.is_empty() && list == "containers" {
            errors.push((format!("{prefix}.containers"), "FieldValueRequired", "Required value".into()));
        }
        for (i, c) in containers.iter_mut().enumerate() {
            let at = format!("{prefix}.{list}[{i}]");
            if let Some(name) = c.get("name").and_then(Value::as_str) {
                if !name.is_empty() && !container_names.insert(name.to_owned()) {
                    errors.push((format!("{at}.name"), "FieldValueDuplicate", format!("Duplicate value: {name:?}")));
                }
            }
            match sidecar_spec::check_container(c, &names) {
                Ok(defaulted) => *c = defaulted,
                Err(errs) => {
                    for e in errs {
                        let (reason, message) = cause(e.kind, e.value.as_ref(), &e.message);
                        errors.push((format!("{at}.{}", e.field.as_str()), reason, message));
                    }
                }
            }
            default(c, "/terminationMessagePath", json!("/dev/termination-log"));
            default(c, "/terminationMessagePolicy", json!("File"));
            default(c, "/resources", json!({}));
        }
    }
    default(spec, "/restartPolicy", json!("Always"));
    default(spec, "/terminationGracePeriodSeconds", json!(30));
    default(spec, "/dnsPolicy", json!("ClusterFirst"));
    default(spec, "/securityContext", json!({}));
    default(spec, "/schedulerName", json!("default-scheduler"));
}

fn workload(rt: &ResourceType, obj: &mut Value, errors: &mut Vec<(String, &'static str, String)>) {
    if !is(rt, &DAEMONSETS) {
        default(obj, "/spec/replicas", json!(1));
    }
    if !is(rt, &REPLICASETS) {
        default(obj, "/spec/revisionHistoryLimit", json!(10));
    }
    if is(rt, &DEPLOYMENTS) {
        default(obj, "/spec/progressDeadlineSeconds", json!(600));
        default(obj, "/spec/strategy", json!({}));
        default(obj, "/spec/strategy/type", json!("RollingUpdate"));
        if obj.pointer("/spec/strategy/type") == Some(&json!("RollingUpdate")) {
            default(obj, "/spec/strategy/rollingUpdate", json!({"maxSurge": "25%", "maxUnavailable": "25%"}));
        }
    } else if is(rt, &DAEMONSETS) {
        default(
            obj,
            "/spec/updateStrategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
        );
    } else if is(rt, &STATEFULSETS) {
        default(obj, "/spec/podManagementPolicy", json!("OrderedReady"));
        default(obj, "/spec/updateStrategy", json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
        default(
            obj,
            "/spec/persistentVolumeClaimRetentionPolicy",
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
        );
    }
    let selector = obj.pointer("/spec/selector/matchLabels").and_then(Value::as_object).cloned();
    let has_expressions = obj.pointer("/spec/selector/matchExpressions").is_some();
    let labels = obj.pointer("/spec/template/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default();
    match selector {
        None if !has_expressions => {
            errors.push(("spec.selector".into(), "FieldValueRequired", "Required value".into()));
        }
        Some(sel) if sel.iter().any(|(k, v)| labels.get(k) != Some(v)) => {
            let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            errors.push((
                "spec.template.metadata.labels".into(),
                "FieldValueInvalid",
                format!(
                    "Invalid value: map[string]string{{{}}}: `selector` does not match template `labels`",
                    shown.join(", ")
                ),
            ));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_of_built_in_types_are_found_with_their_paths() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolcy": "Always"}]}, "bogus": 1});
        let (value, unknown) = normalize(&PODS, &pod).unwrap().unwrap();
        assert_eq!(unknown, vec!["bogus", "spec.containers[0].imagePullPolcy"]);
        assert!(value.get("bogus").is_none());
        assert_eq!(value["spec"]["containers"][0]["image"], "i");
    }
}
