//! Reads from watches: the Pipelines and the pipelines' pods as the console's own client sees
//! them, so that a sidecar listing costs no request to Kubernetes. Only callers marked
//! [`super::Caller::trusted`] are answered from here (see there); a caller's own writes are
//! read back even before the watch brings them.
//!
//! The pipelines are kept sorted by namespace and name, and the pods grouped by pipeline, so a
//! page of a listing costs that page, not the whole cluster; every change is announced on a
//! broadcast channel (the pipeline it concerns), which feeds the console's live pages.
//!
//! A pipeline is kept as compact JSON beside its [`Brief`] (what listings show), not as parsed
//! values: a fifth of the memory (about 2 KiB for a pipeline of five sidecars), so that 10,000
//! pipelines fit the console's budget; a read of one pipeline parses that one.
//!
//! A watch that breaks (the cluster went away, the connection was cut) stops the cache from
//! answering until the watch has listed everything again: what it holds may be stale by then,
//! and a page served from it would call itself live. Reads go to Kubernetes meanwhile (and fail
//! in words while it cannot be reached), and every listener is told that anything may have
//! changed, both when the watch breaks and when it is whole again.

use super::brief::Brief;
use super::index::{Index, PipelineKey};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, ResourceExt};
use operator::render::PIPELINE_LABEL;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

type PodsByPipeline = HashMap<PipelineKey, BTreeMap<String, Arc<Pod>>>;

/// What a listener of [`Cache::changes`] is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Pipeline `(namespace, name)` or one of its pods changed.
    Pipeline(PipelineKey),
    /// Anything may have changed: a watch broke, or listed everything again after a break.
    Everything,
}

impl Change {
    /// Whether this change may concern pipeline `key`.
    pub fn concerns(&self, key: &PipelineKey) -> bool {
        match self {
            Change::Pipeline(k) => k == key,
            Change::Everything => true,
        }
    }
}

/// How soon a broken watch is tried again: from 200 ms, doubling, at most 2 s apart, so that
/// the caches catch up within seconds of the cluster coming back (kube-runtime's default waits
/// up to 30 s); back to 200 ms after two minutes of watching without a break.
pub(crate) fn quick_backoff() -> kube::runtime::utils::ResetTimerBackoff<Quick> {
    kube::runtime::utils::ResetTimerBackoff::new(Quick::default(), std::time::Duration::from_secs(120))
}

/// The retry delays of [`quick_backoff`].
#[derive(Default)]
pub(crate) struct Quick {
    tries: u32,
}

impl Iterator for Quick {
    type Item = std::time::Duration;

    fn next(&mut self) -> Option<std::time::Duration> {
        let ms = 200u64.saturating_mul(1 << self.tries.min(4)).min(2000);
        self.tries = self.tries.saturating_add(1);
        Some(std::time::Duration::from_millis(ms))
    }
}

impl kube::runtime::utils::Backoff for Quick {
    fn reset(&mut self) {
        self.tries = 0;
    }
}

/// A pipeline as the cache keeps it.
#[derive(Debug)]
pub struct Kept {
    /// The object, as compact JSON.
    json: Box<str>,
    resource_version: Option<String>,
    /// What listings show of it.
    pub brief: Arc<Brief>,
}

impl Kept {
    fn new(p: &DynamicObject) -> Option<Self> {
        Some(Kept {
            json: serde_json::to_string(p).ok()?.into_boxed_str(),
            resource_version: p.resource_version(),
            brief: Arc::new(Brief::of(p)),
        })
    }

    /// The object itself, parsed again.
    fn object(&self) -> Option<DynamicObject> {
        serde_json::from_str(&self.json).ok()
    }
}

#[derive(Default)]
struct Stores {
    pipelines: BTreeMap<PipelineKey, Arc<Kept>>,
    pods: PodsByPipeline,
}

/// The watch-fed stores.
#[derive(Clone)]
pub struct Cache {
    stores: Arc<RwLock<Stores>>,
    pipelines_ready: Arc<AtomicBool>,
    pods_ready: Arc<AtomicBool>,
    /// How many times the watches (re)started with a full list.
    restarts: Arc<AtomicU64>,
    /// Pipelines as our writes left them, until the watch shows that version (or a later one).
    written: Arc<Mutex<HashMap<PipelineKey, String>>>,
    changes: broadcast::Sender<Change>,
    /// One more with every change announced (after the store took it).
    version: Arc<AtomicU64>,
    /// The version of the last change of everything ([`Change::Everything`]).
    everything: Arc<AtomicU64>,
    /// The version of the last change of each pipeline, by [`slot`] (pipelines that share a
    /// slot share their last change: a page made of one is made again more often, never less).
    slots: Arc<[AtomicU64]>,
}

/// How many [`Cache::slots`] there are.
const SLOTS: usize = 1024;

fn slot(key: &PipelineKey) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % SLOTS as u64) as usize
}

fn key_of_pipeline(p: &DynamicObject) -> PipelineKey {
    (p.namespace().unwrap_or_default(), p.name_any())
}

fn key_of_pod(p: &Pod) -> Option<PipelineKey> {
    Some((p.namespace()?, p.labels().get(PIPELINE_LABEL)?.clone()))
}

fn lock_write(s: &RwLock<Stores>) -> std::sync::RwLockWriteGuard<'_, Stores> {
    s.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Cache {
    /// Whether both watches have listed everything, and neither has broken since (the cache
    /// answers only then).
    pub fn synced(&self) -> bool {
        self.pipelines_ready.load(Ordering::Acquire) && self.pods_ready.load(Ordering::Acquire)
    }

    /// How many times the watches (re)started with a full list: twice at start, one more per
    /// restart after an error or an expired resource version.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Starts the watches with the console's own `client`; the Pipelines' also feeds `index`.
    pub fn follow(client: &Client, resource: ApiResource, index: Index) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let cache = Cache {
            stores: Arc::default(),
            pipelines_ready: Arc::default(),
            restarts: Arc::default(),
            pods_ready: Arc::default(),
            written: Arc::default(),
            changes,
            version: Arc::default(),
            everything: Arc::default(),
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let me = cache.clone();
        tokio::spawn(async move {
            let mut fresh: Option<BTreeMap<PipelineKey, Arc<Kept>>> = None;
            follow_watch(
                || {
                    watcher::watcher(api.clone(), watcher::Config::default())
                        // Nothing here reads who wrote which field; without it a pipeline
                        // takes about half the memory.
                        .modify(|p| p.managed_fields_mut().clear())
                },
                |event| {
                    index.observe(&event);
                    me.pipeline_event(event, &mut fresh);
                },
                || me.broke(&me.pipelines_ready),
            )
            .await;
        });
        let api: Api<Pod> = Api::all(client.clone());
        let me = cache.clone();
        tokio::spawn(async move {
            let mut fresh: Option<PodsByPipeline> = None;
            follow_watch(
                || watcher::watcher(api.clone(), watcher::Config::default().labels(PIPELINE_LABEL)).modify(trim_pod),
                |event| me.pod_event(event, &mut fresh),
                || me.broke(&me.pods_ready),
            )
            .await;
        });
        cache
    }

    /// A cache that follows nothing, its stores synced and empty (tests).
    #[cfg(test)]
    fn detached() -> Self {
        Cache {
            stores: Arc::default(),
            pipelines_ready: Arc::new(AtomicBool::new(true)),
            pods_ready: Arc::new(AtomicBool::new(true)),
            restarts: Arc::default(),
            written: Arc::default(),
            changes: broadcast::channel(16).0,
            version: Arc::default(),
            everything: Arc::default(),
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn announce(&self, key: PipelineKey) {
        self.tell(Change::Pipeline(key));
    }

    fn tell(&self, change: Change) {
        let v = self.version.fetch_add(1, Ordering::AcqRel) + 1;
        match &change {
            Change::Pipeline(key) => self.slots[slot(key)].fetch_max(v, Ordering::AcqRel),
            Change::Everything => self.everything.fetch_max(v, Ordering::AcqRel),
        };
        // Nobody listening is fine.
        let _ = self.changes.send(change);
    }

    /// What the cache holds, as a number that changes with every change it announces; `None`
    /// while it does not answer (not synced, or a watch broke). Two reads that give the same
    /// number saw the same pipelines and pods, so whatever was made from them between the two
    /// may be used again (the console's pages are).
    pub fn version(&self) -> Option<u64> {
        self.synced().then(|| self.version.load(Ordering::Acquire))
    }

    /// As [`Self::version`], for pipeline `namespace/name` and its pods alone: it changes with
    /// every change of them (and of everything), and with some of other pipelines.
    pub fn version_of(&self, namespace: &str, name: &str) -> Option<u64> {
        let key = (namespace.to_owned(), name.to_owned());
        let last = self.slots[slot(&key)].load(Ordering::Acquire);
        self.synced().then(|| last.max(self.everything.load(Ordering::Acquire)))
    }

    /// A watch broke: the cache does not answer from its store until that watch has listed
    /// again, and everybody listening is told.
    fn broke(&self, ready: &AtomicBool) {
        if ready.swap(false, Ordering::AcqRel) {
            self.tell(Change::Everything);
        }
    }

    /// A watch listed everything (again); after a break, everybody listening is told.
    fn whole(&self, ready: &AtomicBool) {
        if !ready.swap(true, Ordering::AcqRel) {
            self.tell(Change::Everything);
        }
    }

    fn pipeline_event(&self, event: Event<DynamicObject>, fresh: &mut Option<BTreeMap<PipelineKey, Arc<Kept>>>) {
        match event {
            Event::Init => {
                self.restarts.fetch_add(1, Ordering::Relaxed);
                *fresh = Some(BTreeMap::new());
            }
            Event::InitApply(p) => {
                if let Some(kept) = Kept::new(&p) {
                    fresh.get_or_insert_with(BTreeMap::new).insert(key_of_pipeline(&p), Arc::new(kept));
                }
            }
            Event::InitDone => {
                let next = fresh.take().unwrap_or_default();
                let old = std::mem::replace(&mut lock_write(&self.stores).pipelines, next.clone());
                self.whole(&self.pipelines_ready);
                // After a relist, whatever differs has changed.
                for (k, p) in &next {
                    if old.get(k).map(|o| &o.resource_version) != Some(&p.resource_version) {
                        self.announce(k.clone());
                    }
                }
                for k in old.keys().filter(|k| !next.contains_key(*k)) {
                    self.announce(k.clone());
                }
            }
            Event::Apply(p) => {
                let key = key_of_pipeline(&p);
                match Kept::new(&p) {
                    Some(kept) => lock_write(&self.stores).pipelines.insert(key.clone(), Arc::new(kept)),
                    // Cannot happen (it was just decoded); then it is not answered from here.
                    None => lock_write(&self.stores).pipelines.remove(&key),
                };
                self.announce(key);
            }
            Event::Delete(p) => {
                let key = key_of_pipeline(&p);
                lock_write(&self.stores).pipelines.remove(&key);
                self.announce(key);
            }
        }
    }

    fn pod_event(&self, event: Event<Pod>, fresh: &mut Option<PodsByPipeline>) {
        match event {
            Event::Init => {
                self.restarts.fetch_add(1, Ordering::Relaxed);
                *fresh = Some(HashMap::new());
            }
            Event::InitApply(p) => {
                if let Some(key) = key_of_pod(&p) {
                    fresh.get_or_insert_with(HashMap::new).entry(key).or_default().insert(p.name_any(), Arc::new(p));
                }
            }
            Event::InitDone => {
                let next = fresh.take().unwrap_or_default();
                let keys: Vec<PipelineKey> = {
                    let mut stores = lock_write(&self.stores);
                    let old = std::mem::replace(&mut stores.pods, next);
                    old.into_keys().chain(stores.pods.keys().cloned()).collect()
                };
                self.whole(&self.pods_ready);
                for k in keys {
                    self.announce(k);
                }
            }
            Event::Apply(p) => {
                if let Some(key) = key_of_pod(&p) {
                    lock_write(&self.stores).pods.entry(key.clone()).or_default().insert(p.name_any(), Arc::new(p));
                    self.announce(key);
                }
            }
            Event::Delete(p) => {
                if let Some(key) = key_of_pod(&p) {
                    let mut stores = lock_write(&self.stores);
                    if let Some(pods) = stores.pods.get_mut(&key) {
                        pods.remove(&p.name_any());
                        if pods.is_empty() {
                            stores.pods.remove(&key);
                        }
                    }
                    drop(stores);
                    self.announce(key);
                }
            }
        }
    }

    fn stores(&self) -> std::sync::RwLockReadGuard<'_, Stores> {
        self.stores.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a write of ours is still ahead of what the watch has shown for `key`.
    fn behind(&self, key: &PipelineKey, seen: Option<&Kept>) -> bool {
        let mut written = self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(ours) = written.get(key) else { return false };
        let caught_up = seen.and_then(|p| p.resource_version.as_deref()).is_some_and(|rv| newer_or_same(rv, ours));
        if caught_up {
            written.remove(key);
        }
        !caught_up
    }

    /// The pipeline `namespace/name`; None when the cache cannot tell (not synced yet, a write of
    /// ours it has not seen, or a pipeline it has not seen — perhaps created a moment ago): then
    /// ask Kubernetes.
    pub fn pipeline(&self, namespace: &str, name: &str) -> Option<Arc<DynamicObject>> {
        if !self.pipelines_ready.load(Ordering::Acquire) {
            return None;
        }
        let key = (namespace.to_owned(), name.to_owned());
        let seen = self.stores().pipelines.get(&key).cloned();
        if self.behind(&key, seen.as_deref()) {
            return None;
        }
        seen?.object().map(Arc::new)
    }

    /// Every pipeline for which `keep` holds, in brief, in order of namespace and name, skipping
    /// `skip` and taking at most `take`; and how many there are in all. None until synced, or while a
    /// write of ours is not in yet (then ask Kubernetes).
    pub fn pipelines_page(
        &self,
        keep: impl Fn(&PipelineKey) -> bool,
        skip: usize,
        take: usize,
    ) -> Option<(Vec<Arc<Brief>>, usize)> {
        if !self.pipelines_ready.load(Ordering::Acquire) || !self.written_all_seen() {
            return None;
        }
        let stores = self.stores();
        let mut total = 0;
        let mut page = Vec::new();
        for (k, p) in &stores.pipelines {
            if keep(k) {
                if total >= skip && page.len() < take {
                    page.push(p.brief.clone());
                }
                total += 1;
            }
        }
        Some((page, total))
    }

    /// The namespaces that hold a pipeline, in order; None until synced.
    pub fn namespaces(&self) -> Option<Vec<String>> {
        if !self.pipelines_ready.load(Ordering::Acquire) {
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for (ns, _) in self.stores().pipelines.keys() {
            if out.last() != Some(ns) {
                out.push(ns.clone());
            }
        }
        Some(out)
    }

    fn written_all_seen(&self) -> bool {
        let keys: Vec<PipelineKey> =
            self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keys().cloned().collect();
        keys.iter().all(|k| {
            let seen = self.stores().pipelines.get(k).cloned();
            !self.behind(k, seen.as_deref())
        })
    }

    /// The pods of pipeline `namespace/name`, or None until the pod watch is synced.
    pub fn pods(&self, namespace: &str, name: &str) -> Option<Vec<Arc<Pod>>> {
        if !self.pods_ready.load(Ordering::Acquire) {
            return None;
        }
        let key = (namespace.to_owned(), name.to_owned());
        Some(self.stores().pods.get(&key).map(|m| m.values().cloned().collect()).unwrap_or_default())
    }

    /// Notes a pipeline as one of our writes left it.
    pub fn wrote(&self, p: &DynamicObject) {
        if let Some(rv) = p.resource_version() {
            let key = key_of_pipeline(p);
            self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key.clone(), rv);
            self.announce(key);
        }
    }

    /// Every change from now on: the pipeline it concerns (itself or one of its pods). A
    /// receiver that lags far behind gets `Lagged` and should treat everything as changed.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

/// Leaves of a pod what the console reads of it (its name and labels, its node, which
/// containers of which images it runs, its status): a pod as Kubernetes sends it, with its
/// volumes, environment, probes and managed fields, takes several times the memory.
pub fn trim_pod(pod: &mut Pod) {
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    let meta = &mut pod.metadata;
    meta.managed_fields = None;
    meta.annotations = None;
    meta.owner_references = None;
    if let Some(spec) = pod.spec.take() {
        pod.spec = Some(PodSpec {
            node_name: spec.node_name,
            containers: spec
                .containers
                .into_iter()
                .map(|c| Container { name: c.name, image: c.image, ..Container::default() })
                .collect(),
            ..PodSpec::default()
        });
    }
}

/// Follows one watch for as long as the console runs: `start` makes a watch that lists
/// everything first, `event` takes what it brings. A watch that fails is dropped (`broke`
/// is called) and started again with a fresh list after a [`Quick`] delay (200 ms, doubling to
/// 2 s; 200 ms again once a list is in), so that the cache is whole again exactly when that
/// list is in: kube-runtime's watcher would resume from the last resource version without
/// telling when it succeeded.
async fn follow_watch<K, S>(start: impl Fn() -> S, mut event: impl FnMut(Event<K>), broke: impl Fn())
where
    S: futures::Stream<Item = Result<Event<K>, watcher::Error>>,
{
    use kube::runtime::utils::Backoff;
    let mut backoff = Quick::default();
    loop {
        let stream = start();
        futures::pin_mut!(stream);
        while let Some(got) = stream.next().await {
            match got {
                Ok(e) => {
                    if matches!(e, Event::InitDone) {
                        backoff.reset();
                    }
                    event(e);
                }
                Err(e) => {
                    tracing::debug!("a watch broke, listing again: {e}");
                    broke();
                    break;
                }
            }
        }
        tokio::time::sleep(backoff.next().unwrap_or(std::time::Duration::from_secs(2))).await;
    }
}

/// Whether resource version `seen` is `ours` or later. Resource versions are opaque in
/// Kubernetes' API; they are integers in every API server (etcd's revision), and when they are
/// not this answers no, so the caller asks Kubernetes.
fn newer_or_same(seen: &str, ours: &str) -> bool {
    match (seen.parse::<u64>(), ours.parse::<u64>()) {
        (Ok(s), Ok(o)) => s >= o,
        _ => seen == ours,
    }
}

#[cfg(test)]
mod tests {
    use super::{newer_or_same, Kept, Quick};
    use kube::runtime::utils::Backoff;
    use std::time::Duration;

    #[test]
    fn a_pipelines_version_changes_with_it_and_with_everything_only() {
        let cache = super::Cache::detached();
        let key = |n: &str| ("logging".to_owned(), n.to_owned());
        // Two pipelines of different slots.
        let other = (0..).map(|i| format!("p{i}")).find(|n| super::slot(&key(n)) != super::slot(&key("web"))).unwrap();
        let (web, rest, all) =
            (cache.version_of("logging", "web"), cache.version_of("logging", &other), cache.version());
        cache.announce(key("web"));
        assert_ne!(cache.version_of("logging", "web"), web, "its own change");
        assert_eq!(cache.version_of("logging", &other), rest, "not another pipeline's");
        assert_ne!(cache.version(), all, "the whole cache changed");
        let (web, rest) = (cache.version_of("logging", "web"), cache.version_of("logging", &other));
        cache.broke(&cache.pods_ready);
        assert_eq!(cache.version_of("logging", "web"), None, "a broken watch: no version at all");
        cache.whole(&cache.pods_ready);
        assert!(
            cache.version_of("logging", "web") > web && cache.version_of("logging", &other) > rest,
            "everything changed"
        );
    }

    #[test]
    fn a_broken_watch_is_tried_again_within_two_seconds() {
        let mut b = Quick::default();
        let ms: Vec<u128> = b.by_ref().take(7).map(|d| d.as_millis()).collect();
        assert_eq!(ms, [200, 400, 800, 1600, 2000, 2000, 2000]);
        b.reset();
        assert_eq!(b.next(), Some(Duration::from_millis(200)));
    }

    #[test]
    fn resource_versions_compare_as_numbers_or_not_at_all() {
        assert!(newer_or_same("12", "9"));
        assert!(newer_or_same("9", "9"));
        assert!(!newer_or_same("9", "12"));
        assert!(!newer_or_same("abc", "12"));
        assert!(newer_or_same("abc", "abc"));
    }

    #[test]
    fn a_kept_pipeline_is_the_object_it_was_with_its_brief() {
        let p: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
            "metadata": {"name": "logs", "namespace": "default", "resourceVersion": "42", "uid": "u-1",
                         "annotations": {"a": "b"}, "creationTimestamp": "2026-01-02T03:04:05Z"},
            "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 2, "sidecars": [
                {"name": "proxy", "image": "envoyproxy/envoy:v1.31", "ports": [{"containerPort": 9901}]},
                {"name": "bad name", "image": "x"}]},
            "status": {"phase": "Running", "readyReplicas": 2, "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .expect("object");
        let kept = Kept::new(&p).expect("kept");
        assert_eq!(kept.object(), Some(p.clone()));
        assert_eq!(kept.resource_version.as_deref(), Some("42"));
        assert_eq!(kept.brief.view.sidecars, ["proxy", "bad name"]);
        // An invalid sidecar makes the pipeline failing, whatever its pods say.
        assert_eq!(kept.brief.view_over(&[]).health, sidecar_api::Health::Failing);
    }

    #[test]
    fn a_trimmed_pod_reads_as_the_pod_it_was() {
        let container = |name: &str, image: &str| {
            serde_json::json!({"name": name, "image": image, "ports": [{"containerPort": 8080}],
                "env": [{"name": "A", "value": "b"}], "volumeMounts": [{"name": "config", "mountPath": "/etc/x"}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                "resources": {"limits": {"memory": "64Mi"}}})
        };
        let status = |name: &str, image: &str, ready: bool| {
            serde_json::json!({"name": name, "image": image, "imageID": "", "ready": ready, "restartCount": 3,
                "state": if ready { serde_json::json!({"running": {"startedAt": "2026-01-02T03:04:05Z"}}) }
                         else { serde_json::json!({"waiting": {"reason": "ImagePullBackOff", "message": "no such tag"}}) },
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}})
        };
        let full: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "logs-abc", "namespace": "default", "labels": {"core.calyptia.com/pipeline": "logs"},
                "annotations": {"x": "y"}, "creationTimestamp": "2026-01-02T03:04:05Z", "resourceVersion": "7",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "logs-1", "uid": "u"}]},
            "spec": {"nodeName": "node-1", "volumes": [{"name": "config", "configMap": {"name": "c"}}],
                "containers": [container("fluent-bit", "fluent/fluent-bit:3.1"), container("proxy", "envoy:1"), container("bad", "nope:0")]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [status("fluent-bit", "fluent/fluent-bit:3.1", true), status("proxy", "envoy:1", true), status("bad", "nope:0", false)]}
        }))
        .expect("pod");
        let mut trimmed = full.clone();
        super::trim_pod(&mut trimmed);
        let size = |p: &k8s_openapi::api::core::v1::Pod| serde_json::to_string(p).map(|t| t.len()).unwrap_or(0);
        assert!(size(&trimmed) < size(&full) * 3 / 4, "{} of {}", size(&trimmed), size(&full));
        let (full, trimmed) = (vec![std::sync::Arc::new(full)], vec![std::sync::Arc::new(trimmed)]);
        for name in ["fluent-bit", "proxy", "bad", "absent"] {
            assert_eq!(crate::status::replicas(&full, name), crate::status::replicas(&trimmed, name), "{name}");
        }
        let p: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
            "metadata": {"name": "logs", "namespace": "default", "uid": "u-1"},
            "spec": {"image": "fluent/fluent-bit:3.1", "sidecars": [{"name": "proxy", "image": "envoy:1"}, {"name": "bad", "image": "nope:0"}]}
        }))
        .expect("pipeline");
        assert_eq!(crate::state::replica(&p, &full[0]), crate::state::replica(&p, &trimmed[0]));
        assert_eq!(crate::state::health(&p, &full), crate::state::health(&p, &trimmed));
    }
}
