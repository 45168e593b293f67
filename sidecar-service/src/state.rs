//! What the console's pages show, each in one call: a page of the pipeline listing, a pipeline
//! with its sidecars and status, a sidecar with its replicas, events and diagnosis; and the
//! changes that tell a live page to read again.

use super::{
    idents, pipeline_view, pipelines, reference, status, Caller, LogOptions, ServiceError, Sidecars, MAIN_CONTAINER,
};
use crate::brief::Brief;
use crate::cache::Change;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{DynamicObject, ListParams};
use kube::{Api, ResourceExt};
use serde_json::Value;
use sidecar_api::{
    Condition, Health, PipelinePage, PipelineState, PipelineStatus, PipelineView, Replica, Rollout, SidecarEvent,
    SidecarState,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Which pipelines a listing shows.
#[derive(Clone, Debug, Default)]
pub struct PipelineQuery {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only pipelines whose name (or `namespace/name`) contains this, ignoring case.
    pub search: Option<String>,
    /// The page, from 1.
    pub page: usize,
    /// Pipelines per page.
    pub per_page: usize,
}

/// How a pipeline's sidecars fare, over its pods.
pub(crate) fn health(p: &DynamicObject, pods: &[Arc<Pod>]) -> Health {
    crate::brief::health(&crate::brief::sidecars(p), pods)
}

/// Whether `pod` runs the pipeline's current sidecars (names and images).
fn is_current(p: &DynamicObject, pod: &Pod) -> bool {
    let Some(spec) = &pod.spec else { return false };
    let want = idents(p);
    let have: Vec<&k8s_openapi::api::core::v1::Container> =
        spec.containers.iter().filter(|c| c.name != MAIN_CONTAINER).collect();
    let main_image = p.data.pointer("/spec/image").and_then(Value::as_str);
    let main_ok =
        spec.containers.iter().find(|c| c.name == MAIN_CONTAINER).is_none_or(|c| c.image.as_deref() == main_image);
    main_ok
        && have.len() == want.len()
        && want.iter().all(|i| have.iter().any(|c| c.name == i.name && c.image.as_deref() == Some(i.image())))
}

pub(crate) fn replica(p: &DynamicObject, pod: &Pod) -> Replica {
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    Replica {
        name: pod.name_any(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        phase: if pod.metadata.deletion_timestamp.is_some() {
            "Terminating".into()
        } else {
            pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into())
        },
        ready: statuses.map(|cs| cs.iter().filter(|c| c.ready).count()).unwrap_or(0),
        containers: pod.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0),
        restarts: statuses.map(|cs| cs.iter().map(|c| c.restart_count).sum()).unwrap_or(0),
        created_at: pod.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        current: is_current(p, pod),
    }
}

fn pipeline_status(p: &DynamicObject, view: &PipelineView, pods: &[Arc<Pod>]) -> PipelineStatus {
    let d = &p.data;
    let conditions = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let text = |k: &str| c.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
            Condition {
                type_: text("type").unwrap_or_default(),
                status: text("status").unwrap_or_else(|| "Unknown".into()),
                reason: text("reason"),
                message: text("message"),
                last_transition_time: text("lastTransitionTime"),
            }
        })
        .collect();
    let mut replicas: Vec<Replica> = pods.iter().map(|pod| replica(p, pod)).collect();
    replicas.sort_by(|a, b| a.name.cmp(&b.name));
    let live: Vec<&Replica> = replicas.iter().filter(|r| r.phase != "Terminating").collect();
    let updated = live.iter().filter(|r| r.current).count() as i64;
    let ready = live.iter().filter(|r| r.containers > 0 && r.ready == r.containers).count() as i64;
    let available = live.iter().filter(|r| r.current && r.containers > 0 && r.ready == r.containers).count() as i64;
    let desired = view.replicas;
    let kind = match view.kind.as_str() {
        "daemonSet" => "DaemonSet",
        "statefulSet" => "StatefulSet",
        _ => "Deployment",
    };
    PipelineStatus {
        conditions,
        generation: p.metadata.generation.unwrap_or(0),
        observed_generation: d.pointer("/status/observedGeneration").and_then(Value::as_i64),
        rollout: Rollout {
            kind: kind.into(),
            name: view.name.clone(),
            exists: !pods.is_empty() || d.pointer("/status").is_some(),
            desired,
            updated,
            ready,
            available,
            complete: updated == desired && available == desired && replicas.len() as i64 == desired,
        },
        replicas,
    }
}

impl Sidecars {
    /// A page of the pipelines, in order of namespace and name, each with its health. For a
    /// trusted caller the page is cut from the watch cache (its cost is the page's, not the
    /// cluster's); others list with their own client.
    pub async fn pipeline_page(&self, caller: &Caller, q: &PipelineQuery) -> Result<PipelinePage, ServiceError> {
        let per_page = q.per_page.clamp(1, 500);
        let page = q.page.max(1);
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
        let namespace = q.namespace.as_deref().filter(|n| !n.is_empty());
        let keep = |(ns, name): &(String, String)| {
            namespace.is_none_or(|want| want == ns)
                && search
                    .as_deref()
                    .is_none_or(|s| name.to_lowercase().contains(s) || format!("{ns}/{name}").contains(s))
        };
        let skip = (page - 1) * per_page;
        // Which namespaces' pipelines the cache may show this caller: all of them, or those
        // where Kubernetes says they may list pipelines themselves.
        let readable = match &self.cache {
            Some(cache) if cache.namespaces().is_some() => {
                if caller.may_read("list", super::PIPELINES.0, super::PIPELINES.1, "").await {
                    None
                } else {
                    let mut mine = std::collections::BTreeSet::new();
                    for ns in cache.namespaces().unwrap_or_default() {
                        if caller.may_read("list", super::PIPELINES.0, super::PIPELINES.1, &ns).await {
                            mine.insert(ns);
                        }
                    }
                    Some(mine)
                }
            }
            _ => None,
        };
        // Bound nowhere: Kubernetes' refusal, not an empty listing.
        if readable.as_ref().is_some_and(|mine| mine.is_empty()) {
            pipelines(&caller.client, None).list(&ListParams::default().limit(1)).await?;
        }
        let cached = match &self.cache {
            Some(cache) => {
                let allowed = |ns: &str| readable.as_ref().is_none_or(|mine| mine.contains(ns));
                cache.pipelines_page(|k| allowed(&k.0) && keep(k), skip, per_page).and_then(|(items, total)| {
                    let namespaces = cache.namespaces()?.into_iter().filter(|ns| allowed(ns)).collect();
                    Some((items, total, namespaces))
                })
            }
            _ => None,
        };
        let (items, total, namespaces) = match cached {
            Some(found) => found,
            None => {
                let listed = match pipelines(&caller.client, None).list(&ListParams::default()).await {
                    Ok(l) => l.items,
                    // A caller bound in some namespaces lists them one by one.
                    Err(kube::Error::Api(e)) if e.code == 403 && readable.is_some() => {
                        let mut items = Vec::new();
                        for ns in readable.iter().flatten() {
                            items.extend(pipelines(&caller.client, Some(ns)).list(&ListParams::default()).await?.items);
                        }
                        items
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut all = listed;
                all.sort_by_key(|p| (p.namespace().unwrap_or_default(), p.name_any()));
                let mut namespaces: Vec<String> = all.iter().filter_map(|p| p.namespace()).collect();
                namespaces.dedup();
                let matching: Vec<DynamicObject> =
                    all.into_iter().filter(|p| keep(&(p.namespace().unwrap_or_default(), p.name_any()))).collect();
                let total = matching.len();
                let page = matching.iter().skip(skip).take(per_page).map(|p| Arc::new(Brief::of(p))).collect();
                (page, total, namespaces)
            }
        };
        let mut views = Vec::with_capacity(items.len());
        for b in &items {
            let r = sidecar_api::PipelineRef { namespace: b.view.namespace.clone(), name: b.view.name.clone() };
            views.push(b.view_over(&self.pods(caller, &r).await?));
        }
        Ok(PipelinePage { items: views, total, page, pages: total.div_ceil(per_page).max(1), per_page, namespaces })
    }

    /// Pipeline `namespace/name` with its sidecars, status, replicas and rollout.
    pub async fn pipeline_state(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<PipelineState, ServiceError> {
        let p = self.pipeline(caller, namespace, name, false).await?;
        let pods = self.pods(caller, &reference(&p)).await?;
        let mut view = pipeline_view(&p);
        view.health = health(&p, &pods);
        let sidecars = idents(&p).iter().map(|i| self.view(&p, i, &pods)).collect();
        let status = pipeline_status(&p, &view, &pods);
        let rights = caller.rights(namespace).await;
        Ok(PipelineState { pipeline: view, sidecars, status, rights })
    }

    /// Sidecar `id` with its pipeline, its state in each replica, its events and a diagnosis.
    pub async fn sidecar_state(&self, caller: &Caller, id: &str) -> Result<SidecarState, ServiceError> {
        let (p, i) = self.find(caller, id, false).await?;
        let r = reference(&p);
        let pods = self.pods(caller, &r).await?;
        let mut pipeline = pipeline_view(&p);
        pipeline.health = health(&p, &pods);
        let sidecar = self.view(&p, &i, &pods);
        let replicas = status::replicas(&pods, &i.name);
        let events = self.events_of(caller, &r, &pods, &i).await?;
        // A crash loop is explained by the end of the previous run's log.
        let crashed = replicas.iter().find(|x| x.reason.as_deref() == Some("CrashLoopBackOff"));
        let mut tail = Vec::new();
        if let Some(x) = crashed {
            let options =
                LogOptions { replica: Some(x.replica.clone()), previous: true, tail: Some(10), follow: false };
            if let Ok(mut lines) = self.logs(caller, id, &options).await {
                while let Some(Ok(l)) = lines.next().await {
                    tail.push(l.line);
                }
            }
        }
        let diagnosis = super::diagnose::diagnose(&sidecar, &replicas, &events, &tail);
        let rights = caller.rights(&r.namespace).await;
        Ok(SidecarState { pipeline, sidecar, replicas, events, diagnosis, rights })
    }

    /// The events about pipeline `namespace/name`'s pods, newest first.
    pub async fn pipeline_events(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<SidecarEvent>, ServiceError> {
        let p = self.pipeline(caller, namespace, name, false).await?;
        let pods: Vec<String> = self.pods(caller, &reference(&p)).await?.iter().map(|p| p.name_any()).collect();
        let events: Api<Event> = Api::namespaced(caller.client.clone(), namespace);
        let all = events.list(&ListParams::default().fields("involvedObject.kind=Pod")).await?.items;
        Ok(status::pod_events(&all, &pods))
    }

    /// [`Self::pipeline_page`] now and after each change of any pipeline or pod, for as long as
    /// the stream is read.
    pub fn pipeline_pages(&self, caller: Caller, query: PipelineQuery) -> LiveStream<PipelinePage> {
        let me = self.clone();
        live(
            self.changes(),
            |_| true,
            move || {
                let (me, caller, query) = (me.clone(), caller.clone(), query.clone());
                async move { me.pipeline_page(&caller, &query).await }
            },
        )
    }

    /// [`Self::pipeline_state`] now and after each change, for as long as the stream is read; it
    /// ends after an error (the pipeline is gone, say), but not while Kubernetes is out of reach.
    pub fn pipeline_states(&self, caller: Caller, namespace: String, name: String) -> LiveStream<PipelineState> {
        let me = self.clone();
        let key = (namespace.clone(), name.clone());
        live(
            self.changes(),
            move |c| c.concerns(&key),
            move || {
                let (me, caller, namespace, name) = (me.clone(), caller.clone(), namespace.clone(), name.clone());
                async move { me.pipeline_state(&caller, &namespace, &name).await }
            },
        )
    }

    /// [`Self::sidecar_state`] now and after each change of its pipeline, as
    /// [`Self::pipeline_states`]. Events are not watched: they are read again at least every
    /// few seconds.
    pub fn sidecar_states(&self, caller: Caller, id: String) -> LiveStream<SidecarState> {
        let me = self.clone();
        let pipeline = self.index.get(&id);
        live(
            self.changes(),
            move |c| pipeline.as_ref().is_none_or(|p| c.concerns(p)),
            move || {
                let (me, caller, id) = (me.clone(), caller.clone(), id.clone());
                async move { me.sidecar_state(&caller, &id).await }
            },
        )
    }

    /// Changes from now on: the `(namespace, name)` of the pipeline each concerns (the pipeline
    /// or one of its pods); None without a watch cache. A receiver that lags gets `Lagged`:
    /// then anything may have changed.
    pub fn changes(&self) -> Option<broadcast::Receiver<Change>> {
        Some(self.cache.as_ref()?.changes())
    }
}

/// A live stream of states.
pub type LiveStream<T> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, ServiceError>> + Send>>;

/// How long changes are gathered before reading again (a rollout changes many pods at once).
const SETTLE: Duration = Duration::from_millis(150);
/// How often a state is read again without a change (what no watch covers: events).
const REFRESH: Duration = Duration::from_secs(3);

/// `read()` now, then again after each change that `concerns` (and every [`REFRESH`]), sent
/// only when it differs from the last one sent; ends after the first error, except when
/// Kubernetes cannot be reached (502, 503, 504): that is sent once, and the stream goes on
/// reading, its next state sent whatever the last one was (the client learns it is live again).
fn live<T, F, Fut>(
    changes: Option<broadcast::Receiver<Change>>,
    concerns: impl Fn(&Change) -> bool + Send + Sync + 'static,
    read: F,
) -> LiveStream<T>
where
    T: PartialEq + Clone + Send + 'static,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, ServiceError>> + Send,
{
    struct State<T, F, C> {
        changes: Option<broadcast::Receiver<Change>>,
        concerns: C,
        last: Option<T>,
        read: F,
        done: bool,
        /// The last read could not reach Kubernetes.
        failing: bool,
    }
    let start = State { changes, concerns, last: None, read, done: false, failing: false };
    futures::stream::unfold(start, move |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            if st.last.is_some() || st.failing {
                wait_for_change(st.changes.as_mut(), &st.concerns).await;
            }
            match (st.read)().await {
                Ok(now) if st.last.as_ref() == Some(&now) => continue,
                Ok(now) => {
                    st.failing = false;
                    st.last = Some(now.clone());
                    return Some((Ok(now), st));
                }
                Err(e) if e.is_transient() => {
                    st.last = None;
                    if std::mem::replace(&mut st.failing, true) {
                        continue;
                    }
                    return Some((Err(e), st));
                }
                Err(e) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}

async fn wait_for_change(
    changes: Option<&mut broadcast::Receiver<Change>>,
    concerns: &(impl Fn(&Change) -> bool + Send + Sync),
) {
    let Some(rx) = changes else {
        tokio::time::sleep(REFRESH).await;
        return;
    };
    let deadline = tokio::time::sleep(REFRESH);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return,
            got = rx.recv() => match got {
                Ok(k) if !concerns(&k) => continue,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => {
                    (&mut deadline).await;
                    return;
                }
            },
        }
    }
    // Let the rest of a burst arrive, then read once.
    tokio::time::sleep(SETTLE).await;
    while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::{Arc, Mutex};

    /// A live stream whose reads give `answers` in turn (then the last one again).
    fn stream(answers: Vec<Result<u32, ServiceError>>) -> LiveStream<u32> {
        let answers = Arc::new(Mutex::new(answers));
        let (tx, rx) = broadcast::channel(8);
        // Every read is followed by a change, so the stream never waits for REFRESH.
        live(
            Some(rx),
            |_| true,
            move || {
                let (answers, tx) = (answers.clone(), tx.clone());
                async move {
                    let _ = tx.send(Change::Pipeline(("ns".to_owned(), "p".to_owned())));
                    let mut a = answers.lock().expect("answers");
                    if a.len() > 1 {
                        a.remove(0)
                    } else {
                        match &a[0] {
                            Ok(n) => Ok(*n),
                            Err(_) => Err(ServiceError::Unavailable("still down".into())),
                        }
                    }
                }
            },
        )
    }

    fn down() -> ServiceError {
        ServiceError::Unavailable("cannot reach Kubernetes: Connection refused".into())
    }

    #[tokio::test]
    async fn a_cluster_out_of_reach_is_said_once_and_the_stream_goes_on() {
        let s = stream(vec![Ok(1), Err(down()), Err(down()), Err(down()), Ok(1)]);
        let got: Vec<Result<u32, u16>> = s.take(3).map(|r| r.map_err(|e| e.status_code())).collect().await;
        // The same state as before the outage is sent again: the client learns it is live.
        assert_eq!(got, [Ok(1), Err(503), Ok(1)]);
    }

    #[tokio::test]
    async fn an_error_that_is_not_the_clusters_reach_ends_the_stream() {
        let gone = ServiceError::PipelineNotFound { name: "p".into(), namespace: Some("ns".into()) };
        let s = stream(vec![Ok(1), Err(gone), Ok(2)]);
        let got: Vec<Result<u32, u16>> = s.map(|r| r.map_err(|e| e.status_code())).collect().await;
        assert_eq!(got, [Ok(1), Err(404)]);
    }
}
