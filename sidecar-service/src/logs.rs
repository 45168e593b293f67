//! Log lines of one container of a pipeline's replicas: of one replica, or of all of them with
//! the replica's name on each line. Following all replicas also follows the replicas that start
//! later (a rollout's new pods), as `stern` does and `kubectl logs -f -l` does not.

use super::{Caller, LogOptions, LogStream, PipelineRef, ServiceError, Sidecars};
use futures::stream::{BoxStream, SelectAll};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::{Api, ResourceExt};
use sidecar_api::LogLine;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::broadcast;

type Lines = BoxStream<'static, Result<LogLine, ServiceError>>;

/// The replicas of `pods` that declare `container`, by name.
fn running(pods: &[Arc<Pod>], container: &str) -> Vec<String> {
    let mut out: Vec<String> = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| pod.spec.as_ref().is_some_and(|s| s.containers.iter().any(|c| c.name == container)))
        .map(|p| p.name_any())
        .collect();
    out.sort();
    out
}

/// Opens one replica's log; None when its container has no log yet (it has not started).
async fn open(api: &Api<Pod>, pod: &str, params: &LogParams, quiet: bool) -> Result<Option<Lines>, ServiceError> {
    let reader = match api.log_stream(pod, params).await {
        Ok(r) => r,
        Err(kube::Error::Api(s)) if s.code == 400 && quiet => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let name = pod.to_owned();
    Ok(Some(
        reader
            .lines()
            .map_ok(move |line| LogLine { replica: name.clone(), line })
            .map_err(|e| ServiceError::Kubernetes { code: None, message: format!("log stream broke: {e}") })
            .boxed(),
    ))
}

pub(crate) async fn container_logs(
    service: &Sidecars,
    caller: &Caller,
    r: &PipelineRef,
    pods: &[Arc<Pod>],
    container: &str,
    what: &str,
    options: &LogOptions,
) -> Result<LogStream, ServiceError> {
    let all = running(pods, container);
    let chosen: Vec<String> =
        all.iter().filter(|n| options.replica.as_deref().is_none_or(|want| want == n.as_str())).cloned().collect();
    if let (Some(want), true) = (&options.replica, chosen.is_empty()) {
        return Err(ServiceError::ReplicaNotFound {
            replica: want.clone(),
            pipeline: r.name.clone(),
            container: what.to_owned(),
        });
    }
    let api: Api<Pod> = Api::namespaced(caller.client.clone(), &r.namespace);
    let params = LogParams {
        container: Some(container.to_owned()),
        follow: options.follow,
        tail_lines: options.tail,
        previous: options.previous,
        ..LogParams::default()
    };
    let mut streams: SelectAll<Lines> = SelectAll::new();
    let mut seen = HashSet::new();
    // A container that has not started (or never ran before) has no log yet: with all replicas
    // the others' lines still come.
    let quiet = options.replica.is_none();
    for pod in chosen {
        if let Some(lines) = open(&api, &pod, &params, quiet).await? {
            streams.push(lines);
            seen.insert(pod);
        }
    }
    let changes = service.changes().filter(|_| options.follow && options.replica.is_none() && !options.previous);
    let Some(changes) = changes else {
        if streams.is_empty() && options.follow {
            // A follower of a replica whose container waits waits too, rather than seeing the
            // stream end at once.
            return Ok(futures::stream::pending().boxed());
        }
        return Ok(streams.boxed());
    };
    let follow = Follow {
        service: service.clone(),
        caller: caller.clone(),
        key: (r.namespace.clone(), r.name.clone()),
        container: container.to_owned(),
        api,
        // New replicas are read from their first line.
        params: LogParams { tail_lines: None, ..params },
        streams,
        seen,
        changes,
    };
    Ok(futures::stream::unfold(follow, |mut f| async move {
        let line = f.next().await?;
        Some((line, f))
    })
    .boxed())
}

/// Following every replica, including those that appear later.
struct Follow {
    service: Sidecars,
    caller: Caller,
    key: (String, String),
    container: String,
    api: Api<Pod>,
    params: LogParams,
    streams: SelectAll<Lines>,
    seen: HashSet<String>,
    changes: broadcast::Receiver<crate::cache::Change>,
}

impl Follow {
    async fn next(&mut self) -> Option<Result<LogLine, ServiceError>> {
        loop {
            let change = if self.streams.is_empty() {
                Some(self.changes.recv().await)
            } else {
                tokio::select! {
                    line = self.streams.next() => match line {
                        Some(l) => return Some(l),
                        None => continue,
                    },
                    change = self.changes.recv() => Some(change),
                }
            };
            match change {
                Some(Ok(c)) if !c.concerns(&self.key) => continue,
                Some(Err(broadcast::error::RecvError::Closed)) => return None,
                _ => {}
            }
            let r = PipelineRef { namespace: self.key.0.clone(), name: self.key.1.clone() };
            let Ok(pods) = self.service.pods(&self.caller, &r).await else { continue };
            for pod in running(&pods, &self.container) {
                if self.seen.contains(&pod) {
                    continue;
                }
                if let Ok(Some(lines)) = open(&self.api, &pod, &self.params, true).await {
                    self.streams.push(lines);
                    self.seen.insert(pod);
                }
            }
        }
    }
}
