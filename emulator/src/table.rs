//! `Table` responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns
//! `kubectl get` prints, computed by the server as Kubernetes' printers do.

use crate::resources::*;
use serde_json::{json, Value};

/// Whether the client asked for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|a| a.contains("as=Table"))
}

/// What a row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Include {
    /// Nothing.
    None,
    /// The object's metadata (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl Include {
    /// From the query parameter.
    pub fn parse(q: Option<&str>) -> Self {
        match q {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

struct Column {
    name: String,
    kind: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
}

fn col(name: &str, kind: &'static str, priority: u8) -> Column {
    let format = if name == "Name" { "name" } else { "" };
    Column { name: name.to_owned(), kind, format, priority, description: "" }
}

fn s(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn n(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn len(v: &Value, pointer: &str) -> usize {
    match v.pointer(pointer) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

/// Kubernetes' `duration.HumanDuration`: `45s`, `3m20s`, `2h15m`, `5d3h`, `2y30d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age of a timestamp, as the `AGE` column shows it.
fn since(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => human_duration(jiff::Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

fn age(v: &Value) -> Value {
    json!(since(&s(v, "/metadata/creationTimestamp")))
}

fn none_if_empty(x: String) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x
    }
}

/// Containers and images of a pod template, comma-separated (the `-o wide` columns).
fn containers_images(v: &Value, pointer: &str) -> (Value, Value) {
    let cs = v.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default();
    let names: Vec<String> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<String> = cs.iter().map(|c| s(c, "/image")).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

fn selector(v: &Value) -> Value {
    let mut parts: Vec<String> = v
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    if let Some(exprs) = v.pointer("/spec/selector/matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let values: Vec<&str> =
                e["values"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let op = s(e, "/operator");
            let key = s(e, "/key");
            parts.push(match op.as_str() {
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" => key,
                _ => format!("!{key}"),
            });
        }
    }
    json!(none_if_empty(parts.join(",")))
}

/// `READY`, `STATUS` and `RESTARTS` of a pod, as `kubectl get pods` computes them.
fn pod_cells(p: &Value) -> (Value, Value, Value) {
    let statuses = p.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = len(p, "/spec/containers");
    let mut reason = s(p, "/status/phase");
    if !s(p, "/status/reason").is_empty() {
        reason = s(p, "/status/reason");
    }
    let mut restarts = 0;
    let mut ready = 0;
    let mut last_restart: Option<String> = None;
    let mut init_done = true;
    let inits = p.pointer("/status/initContainerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, c) in inits.iter().enumerate() {
        restarts += n(c, "/restartCount");
        if s(c, "/state/terminated/exitCode") == "0" {
            continue;
        }
        init_done = false;
        let w = s(c, "/state/waiting/reason");
        reason = if c.pointer("/state/terminated").is_some() {
            let r = s(c, "/state/terminated/reason");
            if r.is_empty() {
                format!("Init:ExitCode:{}", s(c, "/state/terminated/exitCode"))
            } else {
                format!("Init:{r}")
            }
        } else if !w.is_empty() && w != "PodInitializing" {
            format!("Init:{w}")
        } else {
            format!("Init:{i}/{}", len(p, "/spec/initContainers"))
        };
        break;
    }
    if init_done {
        let mut has_running = false;
        for c in statuses.iter().rev() {
            restarts += n(c, "/restartCount");
            if let Some(t) = c.pointer("/lastState/terminated/finishedAt").and_then(Value::as_str) {
                if last_restart.as_deref().is_none_or(|l| l < t) {
                    last_restart = Some(t.to_owned());
                }
            }
            let waiting = s(c, "/state/waiting/reason");
            let terminated = s(c, "/state/terminated/reason");
            if !waiting.is_empty() {
                reason = waiting;
            } else if !terminated.is_empty() {
                reason = terminated;
            } else if c.pointer("/state/terminated").is_some() {
                let signal = n(c, "/state/terminated/signal");
                reason = if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{}", n(c, "/state/terminated/exitCode"))
                };
            } else if c["ready"] == json!(true) && c.pointer("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let ready_condition = p
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                .is_some_and(|c| c["status"] == "True");
            reason = if ready_condition { "Running".into() } else { "NotReady".into() };
        }
    }
    if p.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(p, "/status/reason") == "NodeLost" { "Unknown".into() } else { "Terminating".into() };
    }
    let restarts = match last_restart {
        Some(t) if restarts > 0 => json!(format!("{restarts} ({} ago)", since(&t))),
        _ => json!(restarts),
    };
    (json!(format!("{ready}/{total}")), json!(reason), restarts)
}

fn node_status(v: &Value) -> String {
    let ready = v
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| c["status"] == "True");
    let mut status = match ready {
        Some(true) => "Ready".to_owned(),
        Some(false) => "NotReady".to_owned(),
        None => "Unknown".to_owned(),
    };
    if v.pointer("/spec/unschedulable") == Some(&json!(true)) {
        status.push_str(",SchedulingDisabled");
    }
    status
}

fn node_roles(v: &Value) -> String {
    let roles: Vec<&str> = v
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/")).collect())
        .unwrap_or_default();
    none_if_empty(roles.join(","))
}

fn node_address(v: &Value, kind: &str) -> String {
    v.pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| x["type"] == kind))
        .map(|x| s(x, "/address"))
        .unwrap_or_else(|| "<none>".into())
}

fn event_time(e: &Value, field: &str) -> String {
    let t = s(e, field);
    let t = if t.is_empty() { s(e, "/eventTime") } else { t };
    if t.is_empty() {
        "<unknown>".into()
    } else {
        since(&t)
    }
}

/// The value of a simple JSONPath (`.spec.replicas`, `.spec.sidecars[*].name`,
/// `.status.conditions[0].type`) as printer columns use it.
fn json_path(v: &Value, path: &str) -> Vec<Value> {
    let mut current = vec![v.clone()];
    let path = path.trim().trim_start_matches('{').trim_end_matches('}').trim_start_matches('$');
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (field, index) = match part.find('[') {
            Some(i) => (&part[..i], Some(part[i + 1..].trim_end_matches(']'))),
            None => (part, None),
        };
        let mut next = Vec::new();
        for c in current {
            let Some(x) = (if field.is_empty() { Some(c.clone()) } else { c.get(field).cloned() }) else { continue };
            match index {
                None => next.push(x),
                Some("*") => next.extend(x.as_array().cloned().unwrap_or_default()),
                Some(i) => {
                    if let (Ok(i), Some(a)) = (i.parse::<usize>(), x.as_array()) {
                        if let Some(item) = a.get(i) {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

fn printer_cell(v: &Value, c: &Value) -> Value {
    let values = json_path(v, c["jsonPath"].as_str().unwrap_or(""));
    let Some(first) = values.first() else { return Value::Null };
    match c["type"].as_str().unwrap_or("string") {
        "date" => json!(since(first.as_str().unwrap_or(""))),
        "integer" | "number" | "boolean" if values.len() == 1 => first.clone(),
        _ => {
            let parts: Vec<String> = values
                .iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            json!(parts.join(","))
        }
    }
}

/// The columns of a type and the cells of one object.
fn columns(rt: &ResourceType) -> Vec<Column> {
    let mut c = match rt.plural {
        _ if is(rt, &PODS) => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            col("Age", "string", 0),
            col("IP", "string", 1),
            col("Node", "string", 1),
            col("Nominated Node", "string", 1),
            col("Readiness Gates", "string", 1),
        ],
        _ if is(rt, &DEPLOYMENTS) => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        _ if is(rt, &REPLICASETS) => vec![
            col("Name", "string", 0),
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        _ if is(rt, &DAEMONSETS) => vec![
            col("Name", "string", 0),
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            col("Node Selector", "string", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        _ if is(rt, &STATEFULSETS) => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
        ],
        _ if is(rt, &NAMESPACES) => vec![col("Name", "string", 0), col("Status", "string", 0), col("Age", "string", 0)],
        _ if is(rt, &CONFIGMAPS) => vec![col("Name", "string", 0), col("Data", "integer", 0), col("Age", "string", 0)],
        _ if is(rt, &SECRETS) => {
            vec![col("Name", "string", 0), col("Type", "string", 0), col("Data", "integer", 0), col("Age", "string", 0)]
        }
        _ if is(rt, &NODES) => vec![
            col("Name", "string", 0),
            col("Status", "string", 0),
            col("Roles", "string", 0),
            col("Age", "string", 0),
            col("Version", "string", 0),
            col("Internal-IP", "string", 1),
            col("External-IP", "string", 1),
            col("OS-Image", "string", 1),
            col("Kernel-Version", "string", 1),
            col("Container-Runtime", "string", 1),
        ],
        _ if is(rt, &EVENTS) => vec![
            col("Last Seen", "string", 0),
            col("Type", "string", 0),
            col("Reason", "string", 0),
            col("Object", "string", 0),
            col("Subobject", "string", 1),
            col("Source", "string", 1),
            col("Message", "string", 0),
            col("First Seen", "string", 1),
            col("Count", "string", 1),
            col("Name", "string", 1),
        ],
        _ if is(rt, &CRDS) => vec![col("Name", "string", 0), col("Created At", "date", 0)],
        _ => {
            let mut c = vec![col("Name", "string", 0)];
            match rt.printer_columns.as_ref().and_then(Value::as_array) {
                Some(extra) if !extra.is_empty() => {
                    for x in extra {
                        let priority = x["priority"].as_u64().unwrap_or(0).min(255) as u8;
                        c.push(Column {
                            name: x["name"].as_str().unwrap_or("").to_owned(),
                            kind: match x["type"].as_str().unwrap_or("string") {
                                "integer" => "integer",
                                "number" => "number",
                                "boolean" => "boolean",
                                "date" => "date",
                                _ => "string",
                            },
                            format: "",
                            priority,
                            description: "",
                        });
                    }
                }
                _ => c.push(col("Age", "date", 0)),
            }
            c
        }
    };
    if let Some(name) = c.first_mut() {
        if name.name == "Name" {
            name.description = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
        }
    }
    c
}

fn cells(rt: &ResourceType, v: &Value) -> Vec<Value> {
    let name = json!(s(v, "/metadata/name"));
    match rt.plural {
        _ if is(rt, &PODS) => {
            let (ready, status, restarts) = pod_cells(v);
            let gates: Vec<String> = v
                .pointer("/spec/readinessGates")
                .and_then(Value::as_array)
                .map(|g| g.iter().map(|x| s(x, "/conditionType")).collect())
                .unwrap_or_default();
            vec![
                name,
                ready,
                status,
                restarts,
                age(v),
                json!(none_if_empty(s(v, "/status/podIP"))),
                json!(none_if_empty(s(v, "/spec/nodeName"))),
                json!(none_if_empty(s(v, "/status/nominatedNodeName"))),
                json!(none_if_empty(if gates.is_empty() { String::new() } else { format!("0/{}", gates.len()) })),
            ]
        }
        _ if is(rt, &DEPLOYMENTS) => {
            let (c, i) = containers_images(v, "/spec/template/spec/containers");
            let desired = v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))),
                json!(n(v, "/status/updatedReplicas")),
                json!(n(v, "/status/availableReplicas")),
                age(v),
                c,
                i,
                selector(v),
            ]
        }
        _ if is(rt, &REPLICASETS) => {
            let (c, i) = containers_images(v, "/spec/template/spec/containers");
            vec![
                name,
                json!(v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)),
                json!(n(v, "/status/replicas")),
                json!(n(v, "/status/readyReplicas")),
                age(v),
                c,
                i,
                selector(v),
            ]
        }
        _ if is(rt, &DAEMONSETS) => {
            let (c, i) = containers_images(v, "/spec/template/spec/containers");
            let node_selector: Vec<String> = v
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or(""))).collect())
                .unwrap_or_default();
            vec![
                name,
                json!(n(v, "/status/desiredNumberScheduled")),
                json!(n(v, "/status/currentNumberScheduled")),
                json!(n(v, "/status/numberReady")),
                json!(n(v, "/status/updatedNumberScheduled")),
                json!(n(v, "/status/numberAvailable")),
                json!(none_if_empty(node_selector.join(","))),
                age(v),
                c,
                i,
                selector(v),
            ]
        }
        _ if is(rt, &STATEFULSETS) => {
            let (c, i) = containers_images(v, "/spec/template/spec/containers");
            let desired = v.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![name, json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))), age(v), c, i]
        }
        _ if is(rt, &NAMESPACES) => vec![name, json!(s(v, "/status/phase")), age(v)],
        _ if is(rt, &CONFIGMAPS) => vec![name, json!(len(v, "/data") + len(v, "/binaryData")), age(v)],
        _ if is(rt, &SECRETS) => vec![name, json!(s(v, "/type")), json!(len(v, "/data")), age(v)],
        _ if is(rt, &NODES) => vec![
            name,
            json!(node_status(v)),
            json!(node_roles(v)),
            age(v),
            json!(s(v, "/status/nodeInfo/kubeletVersion")),
            json!(node_address(v, "InternalIP")),
            json!(node_address(v, "ExternalIP")),
            json!(none_if_empty(s(v, "/status/nodeInfo/osImage"))),
            json!(none_if_empty(s(v, "/status/nodeInfo/kernelVersion"))),
            json!(none_if_empty(s(v, "/status/nodeInfo/containerRuntimeVersion"))),
        ],
        _ if is(rt, &EVENTS) => {
            let source = {
                let c = s(v, "/source/component");
                let c = if c.is_empty() { s(v, "/reportingComponent") } else { c };
                let host = s(v, "/source/host");
                if host.is_empty() {
                    c
                } else {
                    format!("{c}, {host}")
                }
            };
            vec![
                json!(event_time(v, "/lastTimestamp")),
                json!(s(v, "/type")),
                json!(s(v, "/reason")),
                json!(format!("{}/{}", s(v, "/involvedObject/kind").to_lowercase(), s(v, "/involvedObject/name"))),
                json!(s(v, "/involvedObject/fieldPath")),
                json!(source),
                json!(s(v, "/message").trim().to_owned()),
                json!(event_time(v, "/firstTimestamp")),
                json!(n(v, "/count").max(1).to_string()),
                name,
            ]
        }
        _ if is(rt, &CRDS) => vec![name, json!(s(v, "/metadata/creationTimestamp"))],
        _ => {
            let mut c = vec![name];
            match rt.printer_columns.as_ref().and_then(Value::as_array) {
                Some(extra) if !extra.is_empty() => c.extend(extra.iter().map(|x| printer_cell(v, x))),
                _ => c.push(age(v)),
            }
            c
        }
    }
}

fn row(rt: &ResourceType, v: &Value, include: Include) -> Value {
    let mut row = json!({"cells": cells(rt, v)});
    match include {
        Include::None => {}
        Include::Metadata => {
            row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": v.get("metadata").cloned().unwrap_or(Value::Null)});
        }
        Include::Object => row["object"] = v.clone(),
    }
    row
}

/// A Table of objects of one type.
pub fn table(rt: &ResourceType, items: &[Value], metadata: Value, include: Include) -> Value {
    let defs: Vec<Value> = columns(rt)
        .into_iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format, "description": c.description,
                "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = items.iter().map(|v| row(rt, v, include)).collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubectl_prints_them() {
        for (secs, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (45, "45s"),
            (119, "119s"),
            (200, "3m20s"),
            (240, "4m"),
            (60 * 45, "45m"),
            (3600 * 2 + 60 * 15, "135m"),
            (3600 * 5 + 60 * 15, "5h15m"),
            (3600 * 30, "30h"),
            (86400 * 5 + 3600 * 3, "5d3h"),
            (86400 * 40, "40d"),
            (86400 * 760, "2y30d"),
            (86400 * 365 * 9, "9y"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn pod_status_shows_the_waiting_reason_and_ready_count() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        let (ready, status, restarts) = pod_cells(&pod);
        assert_eq!(ready, "1/2");
        assert_eq!(status, "ImagePullBackOff");
        assert_eq!(restarts, 2);
    }

    #[test]
    fn printer_columns_follow_their_json_paths() {
        let obj = json!({"spec": {"replicasCount": 3, "sidecars": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(printer_cell(&obj, &json!({"jsonPath": ".spec.replicasCount", "type": "integer"})), 3);
        assert_eq!(printer_cell(&obj, &json!({"jsonPath": ".spec.sidecars[*].name", "type": "string"})), "a,b");
        assert_eq!(printer_cell(&obj, &json!({"jsonPath": ".status.phase", "type": "string"})), Value::Null);
    }
}
