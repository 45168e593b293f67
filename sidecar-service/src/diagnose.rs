//! A sidecar's troubles in plain words: what is the matter, what Kubernetes said, what to check,
//! and the command that fixes it where there is one. Pure: it reads the sidecar, its replicas
//! and its events, nothing else.

use sidecar_api::{Diagnosis, ReplicaStatus, Severity, SidecarEvent, SidecarView};

/// The registry an image is pulled from (`docker.io` when it names none).
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first,
        _ => "docker.io",
    }
}

fn replicas_with(replicas: &[ReplicaStatus], reasons: &[&str]) -> Vec<String> {
    replicas
        .iter()
        .filter(|r| r.reason.as_deref().is_some_and(|x| reasons.contains(&x)))
        .map(|r| r.replica.clone())
        .collect()
}

fn image_pull(s: &SidecarView, replicas: &[ReplicaStatus], events: &[SidecarEvent]) -> Option<Diagnosis> {
    let affected = replicas_with(replicas, &["ImagePullBackOff", "ErrImagePull"]);
    if affected.is_empty() {
        return None;
    }
    let image = replicas
        .iter()
        .find(|r| affected.contains(&r.replica))
        .and_then(|r| r.image.clone())
        .unwrap_or_else(|| s.image.clone());
    // The kubelet's own words: the newest "Failed to pull" event says why, the waiting message
    // only that it backs off.
    let detail = events
        .iter()
        .find(|e| e.reason == "Failed" && e.message.contains("pull"))
        .map(|e| e.message.clone())
        .or_else(|| replicas.iter().find(|r| affected.contains(&r.replica)).and_then(|r| r.message.clone()));
    let said = detail.as_deref().unwrap_or("").to_ascii_lowercase();
    let registry = registry_of(&image);
    let mut hints = Vec::new();
    if said.contains("not found") || said.contains("manifest unknown") || said.contains("notfound") {
        hints.push(format!(
            "The registry says this image does not exist: check the repository and the tag in \"{image}\" (a typo, or a tag that was never pushed)."
        ));
    }
    if said.contains("unauthorized") || said.contains("denied") || said.contains("authentication required") {
        hints.push(format!(
            "The registry refused the cluster: a private image needs an imagePullSecret for {registry} in the pipeline's namespace."
        ));
    }
    if said.contains("timeout") || said.contains("no such host") || said.contains("connection refused") {
        hints.push(format!("The nodes cannot reach {registry}: check its name and the cluster's network or proxy."));
    }
    for generic in [
        format!("Check that the tag exists in {registry}."),
        format!("Check that the cluster's nodes can reach {registry}."),
        "If the image is private, check the pull secret.".to_owned(),
    ] {
        if hints.len() < 3 {
            hints.push(generic);
        }
    }
    Some(Diagnosis {
        severity: Severity::Error,
        reason: "ImagePullBackOff".into(),
        title: format!("The cluster cannot pull the image {image}"),
        detail,
        hints,
        command: None,
        replicas: affected,
        log_tail: Vec::new(),
    })
}

/// `configmap "NAME" not found` in a FailedMount message.
fn missing_configmap(message: &str) -> Option<&str> {
    let rest = message.split("configmap \"").nth(1)?;
    let name = rest.split('"').next()?;
    rest.contains("not found").then_some(name)
}

fn failed_mount(namespace: &str, replicas: &[ReplicaStatus], events: &[SidecarEvent]) -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = Vec::new();
    // Only while a replica still waits: an old event says nothing once the mount succeeded.
    let waiting: Vec<String> = replicas.iter().filter(|r| r.state == "Waiting").map(|r| r.replica.clone()).collect();
    for e in events.iter().filter(|e| e.reason == "FailedMount" && waiting.contains(&e.replica)) {
        let Some(cm) = missing_configmap(&e.message) else { continue };
        if let Some(d) = out.iter_mut().find(|d| d.title.contains(&format!("\"{cm}\""))) {
            if !d.replicas.contains(&e.replica) {
                d.replicas.push(e.replica.clone());
            }
            continue;
        }
        out.push(Diagnosis {
            severity: Severity::Error,
            reason: "FailedMount".into(),
            title: format!("ConfigMap \"{cm}\" does not exist in namespace \"{namespace}\""),
            detail: Some(e.message.clone()),
            hints: vec![
                format!("The sidecar mounts ConfigMap \"{cm}\"; its replicas wait until it exists in namespace \"{namespace}\"."),
                "Create it (the command below), or point the volume at a ConfigMap that exists, or mark the volume optional."
                    .into(),
            ],
            command: Some(format!("kubectl create configmap {cm} -n {namespace} --from-file=PATH")),
            replicas: vec![e.replica.clone()],
            log_tail: Vec::new(),
        });
    }
    out
}

fn crash_loop(replicas: &[ReplicaStatus], log_tail: &[String]) -> Option<Diagnosis> {
    let affected = replicas_with(replicas, &["CrashLoopBackOff", "Error", "OOMKilled"]);
    let first = replicas.iter().find(|r| affected.contains(&r.replica))?;
    let last = first.last_termination.as_ref();
    let code = last.map(|t| t.exit_code);
    let oom =
        last.and_then(|t| t.reason.as_deref()) == Some("OOMKilled") || first.reason.as_deref() == Some("OOMKilled");
    let title = match code {
        Some(c) => format!("The sidecar keeps crashing: its last run exited with code {c}"),
        None => "The sidecar keeps crashing".to_owned(),
    };
    let mut hints = vec![format!("It restarted {} times in replica {}.", first.restart_count, first.replica)];
    if oom {
        hints.push("It ran out of memory (OOMKilled): raise resources.limits.memory.".into());
    } else {
        hints.push("Read the last lines of the previous run (below) for the error; check its command, arguments and configuration.".into());
    }
    Some(Diagnosis {
        severity: Severity::Error,
        reason: "CrashLoopBackOff".into(),
        title,
        detail: last.and_then(|t| t.message.clone()).or_else(|| first.message.clone()),
        hints,
        command: None,
        replicas: affected,
        log_tail: log_tail.to_vec(),
    })
}

fn probes(events: &[SidecarEvent]) -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = Vec::new();
    for e in events.iter().filter(|e| e.reason == "Unhealthy") {
        let probe = ["Liveness", "Readiness", "Startup"].into_iter().find(|p| e.message.starts_with(p));
        let Some(probe) = probe else { continue };
        if out.iter().any(|d| d.title.starts_with(probe)) {
            continue;
        }
        let field = format!("{}Probe", probe.to_ascii_lowercase());
        out.push(Diagnosis {
            severity: Severity::Error,
            reason: "Unhealthy".into(),
            title: format!("{probe} probe fails"),
            detail: Some(e.message.clone()),
            hints: vec![format!(
                "Check {field} in the spec: the port, the path, and whether initialDelaySeconds gives the sidecar time to start."
            )],
            command: None,
            replicas: vec![e.replica.clone()],
            log_tail: Vec::new(),
        });
    }
    out
}

/// What is the matter with sidecar `s`, failures first; a rollout in progress or "all is well"
/// when nothing fails. `log_tail` is the last lines of a crashed run's log, if one crashed.
pub fn diagnose(
    s: &SidecarView,
    replicas: &[ReplicaStatus],
    events: &[SidecarEvent],
    log_tail: &[String],
) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    out.extend(image_pull(s, replicas, events));
    out.extend(failed_mount(&s.pipeline.namespace, replicas, events));
    out.extend(crash_loop(replicas, log_tail));
    if !replicas.iter().all(|r| r.ready) {
        out.extend(probes(events));
    }
    let other: Vec<&ReplicaStatus> = replicas
        .iter()
        .filter(|r| {
            r.reason.as_deref().is_some_and(|x| {
                x.starts_with("CreateContainer") || x.starts_with("Invalid") || x == "ContainerCannotRun"
            })
        })
        .collect();
    if let Some(r) = other.first() {
        out.push(Diagnosis {
            severity: Severity::Error,
            reason: r.reason.clone().unwrap_or_default(),
            title: format!(
                "The container cannot start: {}",
                sidecar_api::reason_words(r.reason.as_deref().unwrap_or(""))
            ),
            detail: r.message.clone(),
            hints: vec!["Check the spec's env references (ConfigMap and Secret keys) and its image name.".into()],
            command: None,
            replicas: other.iter().map(|r| r.replica.clone()).collect(),
            log_tail: Vec::new(),
        });
    }
    if !out.is_empty() {
        return out;
    }
    let st = &s.status;
    if st.replicas == 0 {
        out.push(Diagnosis {
            severity: Severity::Progress,
            reason: "Pending".into(),
            title: "No replica of the pipeline runs yet".into(),
            ..Diagnosis::default()
        });
    } else if st.updated < st.replicas || st.ready < st.replicas {
        out.push(Diagnosis {
            severity: Severity::Progress,
            reason: "RollingOut".into(),
            title: format!(
                "Rolling out: {} of {} replicas run this version, {} ready",
                st.updated, st.replicas, st.ready
            ),
            hints: vec!["This moves on by itself; the replicas are replaced one after another.".into()],
            ..Diagnosis::default()
        });
    } else {
        out.push(Diagnosis {
            severity: Severity::Ok,
            reason: "Running".into(),
            title: match st.replicas {
                1 => "Running and ready in its one replica".to_owned(),
                n => format!("Running and ready in all {n} replicas"),
            },
            ..Diagnosis::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sidecar_api::{PipelineRef, Summary, Termination};

    fn sidecar(image: &str, summary: Summary) -> SidecarView {
        SidecarView {
            name: "otel".into(),
            image: image.into(),
            pipeline: PipelineRef { namespace: "observability".into(), name: "traces".into() },
            status: summary,
            ..SidecarView::default()
        }
    }

    fn waiting(replica: &str, reason: &str, message: &str) -> ReplicaStatus {
        ReplicaStatus {
            replica: replica.into(),
            state: "Waiting".into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            image: Some("registry.example.com/otel-agent:0.104.0".into()),
            ..ReplicaStatus::default()
        }
    }

    #[test]
    fn an_image_that_cannot_be_pulled_names_the_image_the_kubelet_and_the_registry() {
        let image = "registry.example.com/otel-agent:0.104.0";
        let r = vec![waiting("traces-1", "ImagePullBackOff", "Back-off pulling image")];
        let ev = vec![SidecarEvent {
            type_: "Warning".into(),
            reason: "Failed".into(),
            message: format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = not found"),
            replica: "traces-1".into(),
            count: 1,
            last_seen: None,
        }];
        let d = diagnose(&sidecar(image, Summary::default()), &r, &ev, &[]);
        assert_eq!(d[0].reason, "ImagePullBackOff");
        assert!(d[0].title.contains(image));
        assert!(d[0].detail.as_deref().unwrap_or("").contains("NotFound"));
        assert!(d[0].hints[0].contains("does not exist"), "{:?}", d[0].hints);
        assert!(d[0].hints.iter().any(|h| h.contains("registry.example.com")));
    }

    #[test]
    fn a_missing_configmap_names_it_its_namespace_and_the_command() {
        let r = vec![waiting("traces-1", "ContainerCreating", "")];
        let ev = vec![SidecarEvent {
            type_: "Warning".into(),
            reason: "FailedMount".into(),
            message: "MountVolume.SetUp failed for volume \"cfg\" : configmap \"otel-config\" not found".into(),
            replica: "traces-1".into(),
            count: 3,
            last_seen: None,
        }];
        let d = diagnose(&sidecar("otel:1", Summary::default()), &r, &ev, &[]);
        assert_eq!(d[0].title, "ConfigMap \"otel-config\" does not exist in namespace \"observability\"");
        assert_eq!(
            d[0].command.as_deref(),
            Some("kubectl create configmap otel-config -n observability --from-file=PATH")
        );
    }

    #[test]
    fn a_crash_loop_gives_the_exit_code_and_the_last_lines() {
        let mut r = waiting("traces-1", "CrashLoopBackOff", "back-off 20s");
        r.restart_count = 4;
        r.last_termination =
            Some(Termination { exit_code: 137, reason: Some("Error".into()), ..Termination::default() });
        let d = diagnose(&sidecar("otel:1", Summary::default()), &[r], &[], &["fatal: no config".into()]);
        assert!(d[0].title.contains("code 137"));
        assert_eq!(d[0].log_tail, ["fatal: no config"]);
    }

    #[test]
    fn registries_are_read_from_the_image() {
        assert_eq!(registry_of("nginx:1.27"), "docker.io");
        assert_eq!(registry_of("envoyproxy/envoy:v1"), "docker.io");
        assert_eq!(registry_of("ghcr.io/a/b:1"), "ghcr.io");
        assert_eq!(registry_of("localhost:5000/a"), "localhost:5000");
    }

    #[test]
    fn all_well_and_rolling_out_are_said_too() {
        let running = Summary { ready: 2, replicas: 2, updated: 2, state: "Running".into(), ..Summary::default() };
        let ok = ReplicaStatus { ready: true, state: "Running".into(), ..ReplicaStatus::default() };
        let d = diagnose(&sidecar("nginx:1", running), &[ok.clone(), ok.clone()], &[], &[]);
        assert_eq!((d[0].severity, d[0].title.as_str()), (Severity::Ok, "Running and ready in all 2 replicas"));
        let one = Summary { ready: 1, replicas: 1, updated: 1, state: "Running".into(), ..Summary::default() };
        let d = diagnose(&sidecar("nginx:1", one), std::slice::from_ref(&ok), &[], &[]);
        assert_eq!(d[0].title, "Running and ready in its one replica");
        let rolling = Summary { ready: 1, replicas: 2, updated: 1, state: "RollingOut".into(), ..Summary::default() };
        let d = diagnose(&sidecar("nginx:1", rolling), &[ok], &[], &[]);
        assert_eq!(d[0].reason, "RollingOut");
    }
}
