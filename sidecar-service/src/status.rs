//! A sidecar's state, read from its pipeline's pods: per replica, and summed up for a listing.

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
pub use sidecar_api::{ReplicaStatus, SidecarEvent, Summary, Termination};
use std::sync::Arc;

/// The sidecar `name` in each pod.
pub fn replicas(pods: &[Arc<Pod>], name: &str) -> Vec<ReplicaStatus> {
    let mut out: Vec<ReplicaStatus> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let replica = p.metadata.name.clone().unwrap_or_default();
            let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
            let declared = p.spec.as_ref().and_then(|s| s.containers.iter().find(|c| c.name == name));
            let in_spec = declared.is_some();
            // What the replica is meant to run (the status may spell the image differently,
            // e.g. with `docker.io/` in front).
            let declared_image = declared.and_then(|c| c.image.clone());
            let status: Option<&ContainerStatus> = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.name == name));
            match (in_spec, status) {
                (false, _) => ReplicaStatus {
                    replica,
                    node,
                    state: "Absent".into(),
                    reason: None,
                    message: Some("this replica predates the sidecar and is being replaced".into()),
                    ready: false,
                    restart_count: 0,
                    started_at: None,
                    image: None,
                    last_termination: None,
                },
                (true, None) => ReplicaStatus {
                    replica,
                    node,
                    state: "Waiting".into(),
                    reason: Some(p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into())),
                    message: None,
                    ready: false,
                    restart_count: 0,
                    started_at: None,
                    image: declared_image,
                    last_termination: None,
                },
                (true, Some(c)) => {
                    let state = c.state.as_ref();
                    let (word, reason, message, started_at) = if let Some(r) = state.and_then(|s| s.running.as_ref()) {
                        ("Running", None, None, r.started_at.as_ref().map(|t| t.0.to_string()))
                    } else if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                        ("Waiting", w.reason.clone(), w.message.clone(), None)
                    } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                        ("Terminated", t.reason.clone(), t.message.clone(), None)
                    } else {
                        ("Waiting", None, None, None)
                    };
                    ReplicaStatus {
                        replica,
                        node,
                        state: word.into(),
                        reason,
                        message,
                        ready: c.ready,
                        restart_count: c.restart_count,
                        started_at,
                        image: declared_image,
                        last_termination: c.last_state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| {
                            Termination {
                                exit_code: t.exit_code,
                                reason: t.reason.clone(),
                                message: t.message.clone(),
                                finished_at: t.finished_at.as_ref().map(|f| f.0.to_string()),
                            }
                        }),
                    }
                }
            }
        })
        .collect();
    out.sort_by(|a, b| a.replica.cmp(&b.replica));
    out
}

/// The replicas summed up; those that are not meant to run `image` are still being replaced.
pub fn summarize(replicas: &[ReplicaStatus], image: &str) -> Summary {
    let ready = replicas.iter().filter(|r| r.ready).count();
    let updated = replicas.iter().filter(|r| r.state != "Absent" && r.image.as_deref() == Some(image)).count();
    let mut reasons: Vec<String> = replicas.iter().filter_map(|r| r.reason.clone()).collect();
    // Failures first (what a user must act on), then what passes by itself (Pending,
    // ContainerCreating), each alphabetically.
    reasons.sort_by_key(|r| (!is_failure(r), r.clone()));
    reasons.dedup();
    let state = if replicas.is_empty() {
        "Pending".to_owned()
    } else if let Some(first) = reasons.first() {
        // A failure says more than a rollout in progress.
        first.clone()
    } else if updated < replicas.len() {
        "RollingOut".to_owned()
    } else if ready == replicas.len() {
        "Running".to_owned()
    } else {
        "NotReady".to_owned()
    };
    Summary { ready, replicas: replicas.len(), state, reasons, updated }
}

/// Whether a waiting or termination reason is a failure rather than a step on the way.
fn is_failure(reason: &str) -> bool {
    reason.contains("BackOff")
        || reason.starts_with("Err")
        || reason.starts_with("Invalid")
        || reason.starts_with("CreateContainer")
        || matches!(reason, "Error" | "OOMKilled" | "ContainerCannotRun" | "DeadlineExceeded")
}

/// The events about `pods`, newest first.
pub fn pod_events(all: &[Event], pods: &[String]) -> Vec<SidecarEvent> {
    newest_first(all.iter().filter(|e| {
        e.involved_object.kind.as_deref() == Some("Pod")
            && e.involved_object.name.as_ref().is_some_and(|n| pods.contains(n))
    }))
}

/// The events about the sidecar `name` (those whose `fieldPath` names its container, and mount
/// failures of its volumes), newest first.
pub fn events(all: &[Event], pods: &[String], name: &str, volumes: &[String]) -> Vec<SidecarEvent> {
    let field_path = format!("spec.containers{{{name}}}");
    newest_first(
        all.iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some("Pod"))
            .filter(|e| e.involved_object.name.as_ref().is_some_and(|n| pods.contains(n)))
            .filter(|e| {
                let message = e.message.as_deref().unwrap_or("");
                e.involved_object.field_path.as_deref() == Some(field_path.as_str())
                    || (e.reason.as_deref() == Some("FailedMount")
                        && volumes.iter().any(|v| message.contains(&format!("volume \"{v}\""))))
            }),
    )
}

fn newest_first<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<SidecarEvent> {
    let mut out: Vec<(String, SidecarEvent)> = events
        .map(|e| {
            let when = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
                .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()));
            let order = format!(
                "{}/{:020}",
                when.clone().unwrap_or_default(),
                e.metadata.resource_version.as_deref().and_then(|r| r.parse::<u64>().ok()).unwrap_or(0)
            );
            (
                order,
                SidecarEvent {
                    type_: e.type_.clone().unwrap_or_else(|| "Normal".into()),
                    reason: e.reason.clone().unwrap_or_default(),
                    message: e.message.clone().unwrap_or_default(),
                    replica: e.involved_object.name.clone().unwrap_or_default(),
                    count: e.count.unwrap_or(1),
                    last_seen: when,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0));
    out.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, containers: &[&str], statuses: serde_json::Value) -> Arc<Pod> {
        let cs: Vec<_> = containers.iter().map(|c| json!({"name": c, "image": "x"})).collect();
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"containers": cs},
                "status": {"phase": "Running", "containerStatuses": statuses}}))
            .expect("pod"),
        )
    }

    #[test]
    fn replicas_are_summed_up_with_their_reasons() {
        let running = json!([{"name": "s", "image": "nginx", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}]);
        let pulling = json!([{"name": "s", "image": "nope", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]);
        let pods = vec![pod("p-1", &["main", "s"], running.clone()), pod("p-2", &["main", "s"], pulling)];
        let r = replicas(&pods, "s");
        assert_eq!(r.len(), 2);
        let s = summarize(&r, "x");
        assert_eq!((s.ready, s.replicas, s.state.as_str()), (1, 2, "ImagePullBackOff"));
        let all = vec![pod("p-1", &["main", "s"], running.clone()), pod("p-2", &["main", "s"], running.clone())];
        assert_eq!(summarize(&replicas(&all, "s"), "x").state, "Running");
        let rolling = vec![pod("p-1", &["main", "s"], running), pod("p-0", &["main"], json!([]))];
        let s = summarize(&replicas(&rolling, "s"), "x");
        assert_eq!((s.ready, s.replicas, s.state.as_str()), (1, 2, "RollingOut"));
        assert_eq!(summarize(&[], "x").state, "Pending");
        let creating = json!([{"name": "s", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]);
        let crashing = json!([{"name": "s", "image": "x", "imageID": "", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]);
        let mixed = vec![pod("p-1", &["s"], creating), pod("p-2", &["s"], crashing)];
        let s = summarize(&replicas(&mixed, "s"), "x");
        assert_eq!((s.state.as_str(), s.reasons.len()), ("CrashLoopBackOff", 2), "a failure outranks a step");
    }
}
