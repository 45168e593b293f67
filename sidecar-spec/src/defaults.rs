//! Kubernetes' defaulting for the fields of a sidecar, applied before validation.
//!
//! As in Kubernetes, a zero or empty value in a non-pointer field counts as omitted: a probe's
//! `timeoutSeconds: 0` becomes 1. Pointer fields keep an explicit zero: `defaultMode: 0` stays 0.

use crate::image::default_pull_policy;
use crate::{Probe, SidecarSpec};

/// Fills in the values Kubernetes would.
pub fn apply_defaults(spec: &mut SidecarSpec) {
    if spec.image_pull_policy.is_empty() {
        spec.image_pull_policy = default_pull_policy(&spec.image).to_owned();
    }
    for port in &mut spec.ports {
        if port.protocol.is_empty() {
            port.protocol = "TCP".to_owned();
        }
    }
    for env in &mut spec.env {
        if let Some(field_ref) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            if field_ref.api_version.is_empty() {
                field_ref.api_version = "v1".to_owned();
            }
        }
    }
    if let Some(resources) = &mut spec.resources {
        // Requests default to limits (Kubernetes does this when it admits the pod).
        for (name, limit) in &resources.limits {
            resources.requests.entry(name.clone()).or_insert_with(|| limit.clone());
        }
    }
    for volume in &mut spec.volumes {
        if let Some(cm) = &mut volume.config_map {
            cm.default_mode.get_or_insert(0o644);
        }
    }
    for probe in [&mut spec.liveness_probe, &mut spec.readiness_probe, &mut spec.startup_probe].into_iter().flatten() {
        default_probe(probe);
    }
    if let Some(l) = &mut spec.lifecycle {
        for hook in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
            if let Some(http) = &mut hook.http_get {
                default_http_get(http);
            }
        }
    }
}

fn default_http_get(http: &mut crate::HttpGetAction) {
    if http.path.is_empty() {
        http.path = "/".to_owned();
    }
    if http.scheme.is_empty() {
        http.scheme = "HTTP".to_owned();
    }
}

fn default_probe(p: &mut Probe) {
    for (field, default) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if *field == 0 {
            *field = default;
        }
    }
    if let Some(http) = &mut p.http_get {
        default_http_get(http);
    }
}
