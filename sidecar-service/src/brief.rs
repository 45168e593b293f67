//! A pipeline in brief: what a listing shows of it, and per sidecar what its health depends on.
//! The watch cache makes it once per change, so that a listing of the whole cluster neither
//! keeps every pipeline as parsed values nor builds and checks every view at each read.

use super::{idents, pipeline_view, status};
use k8s_openapi::api::core::v1::Pod;
use kube::api::DynamicObject;
use sidecar_api::{Health, PipelineView};
use std::sync::Arc;

/// A pipeline as listings show it, without its health (that depends on its pods).
#[derive(Clone, Debug, PartialEq)]
pub struct Brief {
    /// Its view; `health` is filled in with the pods at hand.
    pub view: PipelineView,
    /// Its sidecars, as far as its health goes.
    pub sidecars: Vec<SidecarBrief>,
}

/// A sidecar, as far as its pipeline's health goes.
#[derive(Clone, Debug, PartialEq)]
pub struct SidecarBrief {
    name: String,
    image: String,
    /// Whether its spec passes the spec's checks (the operator rolls out no other).
    valid: bool,
}

impl Brief {
    /// `p` in brief.
    pub fn of(p: &DynamicObject) -> Self {
        let made = Brief { view: pipeline_view(p), sidecars: sidecars(p) };
        // A copy holds no spare capacity: the vectors above reuse the larger buffers they were
        // collected from, about three times the memory, for as long as the cache keeps them.
        made.clone()
    }

    /// Its view, with its health over `pods`.
    pub fn view_over(&self, pods: &[Arc<Pod>]) -> PipelineView {
        PipelineView { health: health(&self.sidecars, pods), ..self.view.clone() }
    }
}

/// The sidecars of `p`, in brief.
pub fn sidecars(p: &DynamicObject) -> Vec<SidecarBrief> {
    idents(p)
        .into_iter()
        .map(|i| SidecarBrief {
            image: i.image().to_owned(),
            valid: sidecar_spec::check_value(i.spec.clone()).is_ok(),
            name: i.name,
        })
        .collect()
}

/// How a pipeline's `sidecars` fare, over its pods.
pub fn health(sidecars: &[SidecarBrief], pods: &[Arc<Pod>]) -> Health {
    if sidecars.is_empty() {
        return Health::NoSidecars;
    }
    // A spec that breaks the rules is not rolled out (see the operator): failing, not rolling.
    if sidecars.iter().any(|s| !s.valid) {
        return Health::Failing;
    }
    let live = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).count();
    if live == 0 {
        return Health::Pending;
    }
    let mut rolling = false;
    for s in sidecars {
        let summary = status::summarize(&status::replicas(pods, &s.name), &s.image);
        match sidecar_api::state_tone(&summary) {
            sidecar_api::Tone::Bad => return Health::Failing,
            sidecar_api::Tone::Good => {}
            _ => rolling = true,
        }
    }
    if rolling || live < pods.len() {
        Health::RollingOut
    } else {
        Health::Running
    }
}
