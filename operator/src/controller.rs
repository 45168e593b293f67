//! The reconciler: a kube-rs `Controller` over Pipelines that applies the rendered ConfigMap and
//! workload (server-side apply, so that fields other tools set are left alone), removes a
//! workload of another kind when `spec.kind` changes, reports Warnings as Events and writes
//! `status` from the workload's.

use crate::crd::{Condition, Phase, Pipeline, PipelineStatus};
use crate::render::{self, Rendered};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::{predicates, reflector, watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The field manager of everything the operator writes.
pub const MANAGER: &str = "sidecar-console-operator";

/// Why a reconciliation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes call failed.
    #[error("{0}")]
    Kube(#[from] kube::Error),
    /// The pipeline has no namespace.
    #[error("the pipeline has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    recorder: Recorder,
}

fn workload_api(client: &Client, ns: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("apps", "v1", kind);
    Api::namespaced_with(client.clone(), ns, &ApiResource::from_gvk(&gvk))
}

/// Whether the operators of this process are to stop ([`stop`]).
static STOP: std::sync::LazyLock<tokio::sync::watch::Sender<bool>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(false));
/// How many operators of this process are running.
static RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts a running operator for as long as it lives.
struct Running;

impl Running {
    fn new() -> Self {
        RUNNING.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Asks every operator of this process to finish the reconciliations under way and stop, and
/// waits until they have (`within` at most). A process should call it before its runtime shuts
/// down: a runtime that shuts down under a running controller cancels its reconciliations while
/// the controller still waits for them, which kube-runtime answers with a panic.
pub async fn stop(within: Duration) {
    STOP.send_replace(true);
    let deadline = tokio::time::Instant::now() + within;
    while RUNNING.load(std::sync::atomic::Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs the operator until [`stop`] (or until the future is dropped: a replica that stops
/// leading drops it).
pub async fn run(client: Client) {
    let _running = Running::new();
    let mut stopping = STOP.subscribe();
    if *stopping.borrow_and_update() {
        return;
    }
    let pipelines: Api<Pipeline> = Api::all(client.clone());
    let reporter = Reporter { controller: MANAGER.into(), instance: None };
    let ctx = Arc::new(Context { client: client.clone(), recorder: Recorder::new(client.clone(), reporter) });
    // Reconciled when their spec changes (not after each status write of their own), and when
    // what they own changes. (`for_stream` is behind kube's `unstable-runtime` feature: an API
    // that may still change, used as kube's own examples use it.)
    let (reader, writer) = reflector::store();
    let trigger = watcher(pipelines, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default());
    Controller::for_stream(trigger, reader)
        .owns(Api::<Deployment>::all(client.clone()), watcher::Config::default())
        .owns(Api::<DaemonSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<StatefulSet>::all(client.clone()), watcher::Config::default())
        .owns(Api::<ConfigMap>::all(client), watcher::Config::default().labels(render::PIPELINE_LABEL))
        .graceful_shutdown_on(async move {
            let _ = stopping.changed().await;
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "reconciliation failed");
            }
        })
        .await;
}

fn error_policy(p: Arc<Pipeline>, e: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(pipeline = %p.name_any(), error = %e, "reconciliation failed; retrying");
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(p: Arc<Pipeline>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = p.namespace().ok_or(Error::NoNamespace)?;
    let name = p.name_any();
    let reference = p.object_ref(&());
    // A sidecar written past the console (kubectl) may break the spec's rules; the workload
    // then stays as it last was, and the status names the field.
    if let Some(message) = invalid_sidecars(&p) {
        publish(&ctx, &reference, EventType::Warning, "InvalidSidecar", &message).await;
        write_status(&ctx, &p, failed_status(&p, "InvalidSidecar", &message)).await?;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }
    let Rendered { kind, workload, config_map, warnings } = render::render(&p);
    let apply = PatchParams::apply(MANAGER).force();
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
    config_maps.patch(&render::config_map_name(&name), &apply, &Patch::Apply(&config_map)).await?;
    let result = workload_api(&ctx.client, &ns, kind).patch(&name, &apply, &Patch::Apply(&workload)).await;
    let live = match result {
        Ok(obj) => obj,
        Err(e) => {
            let message = e.to_string();
            publish(&ctx, &reference, EventType::Warning, "WorkloadFailed", &message).await;
            write_status(&ctx, &p, failed_status(&p, "WorkloadFailed", &message)).await?;
            return Err(e.into());
        }
    };
    // A workload of another kind left from before a change of `spec.kind` goes.
    for other in ["Deployment", "DaemonSet", "StatefulSet"].into_iter().filter(|k| *k != kind) {
        let api = workload_api(&ctx.client, &ns, other);
        if let Some(old) = api.get_opt(&name).await? {
            if old.owner_references().iter().any(|o| Some(&o.uid) == p.uid().as_ref()) {
                api.delete(&name, &DeleteParams::background()).await?;
            }
        }
    }
    for w in warnings {
        publish(&ctx, &reference, EventType::Warning, w.reason, &w.message).await;
    }
    write_status(&ctx, &p, status_from(&p, kind, &live.data)).await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

async fn publish(
    ctx: &Context,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let ev =
        Event { type_, reason: reason.into(), note: Some(note.into()), action: "Reconcile".into(), secondary: None };
    if let Err(e) = ctx.recorder.publish(&ev, reference).await {
        tracing::warn!(error = %e, reason, "could not record an event");
    }
}

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn condition(p: &Pipeline, ready: bool, reason: &str, message: String) -> Condition {
    let status = if ready { "True" } else { "False" };
    // The transition time moves only when the status does.
    let last = p
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(now);
    Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason.into(),
        message,
        last_transition_time: last,
        observed_generation: p.metadata.generation,
    }
}

/// The status of a pipeline whose workload could not be written: the replica counts stay as
/// last observed (the workload that runs is the last good one).
fn failed_status(p: &Pipeline, reason: &str, message: &str) -> PipelineStatus {
    PipelineStatus {
        phase: Phase::Failed,
        observed_generation: p.metadata.generation,
        conditions: vec![condition(p, false, reason, message.to_owned())],
        ..p.status.clone().unwrap_or_default()
    }
}

/// The rule violations of the pipeline's sidecars, in one sentence naming each field
/// (`sidecar "x" (spec.sidecars[1]): volumeMounts[0].name: ...`), if any.
pub fn invalid_sidecars(p: &Pipeline) -> Option<String> {
    let problems: Vec<String> = p
        .spec
        .sidecars
        .iter()
        .enumerate()
        .filter_map(|(i, sidecar)| {
            let value = serde_json::to_value(sidecar).ok()?;
            let errors = sidecar_spec::check_value(value).err()?.field_errors().to_vec();
            let listed: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            Some(format!("sidecar \"{}\" (spec.sidecars[{i}]): {}", sidecar.name, listed.join("; ")))
        })
        .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// The pipeline's status from its workload's (`live` is the workload's `data`: spec, status).
pub fn status_from(p: &Pipeline, kind: &str, live: &Value) -> PipelineStatus {
    let n = |ptr: &str| live.pointer(ptr).and_then(Value::as_i64).unwrap_or(0) as i32;
    let (desired, ready, updated) = match kind {
        "DaemonSet" => {
            (n("/status/desiredNumberScheduled"), n("/status/numberReady"), n("/status/updatedNumberScheduled"))
        }
        _ => (
            live.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1) as i32,
            n("/status/readyReplicas"),
            n("/status/updatedReplicas"),
        ),
    };
    let observed = live.pointer("/status/observedGeneration").and_then(Value::as_i64);
    let generation = live.pointer("/metadata/generation").and_then(Value::as_i64);
    let current = observed.is_some() && observed >= generation;
    let started = current && ready >= desired && updated >= desired;
    let (phase, reason, message) = if started {
        (Phase::Started, "AllReplicasReady", format!("{ready}/{desired} replicas ready"))
    } else {
        (Phase::Starting, "ReplicasNotReady", format!("{ready}/{desired} replicas ready, {updated} up to date"))
    };
    PipelineStatus {
        phase,
        observed_generation: p.metadata.generation,
        replicas: desired,
        ready_replicas: ready,
        updated_replicas: updated,
        conditions: vec![condition(p, started, reason, message)],
    }
}

async fn write_status(ctx: &Context, p: &Pipeline, status: PipelineStatus) -> Result<(), Error> {
    if p.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let ns = p.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<Pipeline> = Api::namespaced(ctx.client.clone(), &ns);
    let patch = json!({"status": status});
    api.patch_status(&p.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(())
}
