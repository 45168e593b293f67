//! Reads from watches: the Pipelines and the pipelines' pods as the console's own client sees
//! them, so that a sidecar listing costs no request to Kubernetes. Only callers marked
//! [`super::Caller::trusted`] are answered from here (see there); a caller's own writes are
//! read back even before the watch brings them.

use super::index::{Index, PipelineKey};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, ResourceExt};
use operator::render::PIPELINE_LABEL;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The watch-fed stores.
#[derive(Clone)]
pub struct Cache {
    resource: ApiResource,
    pipelines: Store<DynamicObject>,
    pods: Store<Pod>,
    /// Pipelines as our writes left them, until the watch shows that version (or a later one).
    written: Arc<Mutex<HashMap<PipelineKey, String>>>,
}

impl Cache {
    /// Starts the watches with the console's own `client`; the Pipelines' also feeds `index`.
    pub fn follow(client: &Client, resource: ApiResource, index: Index) -> Self {
        let writer = reflector::store::Writer::new(resource.clone());
        let pipelines = writer.as_reader();
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff());
        tokio::spawn(stream.for_each(move |event| {
            if let Ok(event) = &event {
                index.observe(event);
            }
            futures::future::ready(())
        }));
        let (pods, writer) = reflector::store();
        let api: Api<Pod> = Api::all(client.clone());
        let stream = reflector::reflector(
            writer,
            watcher(api, watcher::Config::default().labels(PIPELINE_LABEL)).default_backoff(),
        );
        tokio::spawn(stream.for_each(|_| async {}));
        Cache { resource, pipelines, pods, written: Arc::default() }
    }

    /// The pipeline `namespace/name`; None when the cache cannot tell (not synced yet, a write of
    /// ours it has not seen, or a pipeline it has not seen — perhaps created a moment ago): then
    /// ask Kubernetes.
    pub fn pipeline(&self, namespace: &str, name: &str) -> Option<Arc<DynamicObject>> {
        if !matches!(self.pipelines.wait_until_ready().now_or_never(), Some(Ok(()))) {
            return None;
        }
        let key = (namespace.to_owned(), name.to_owned());
        let seen = self.pipelines.get(&ObjectRef::new_with(name, self.resource.clone()).within(namespace));
        let mut written = self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ours) = written.get(&key) {
            let caught_up = seen.as_ref().and_then(|p| p.resource_version()).is_some_and(|rv| newer_or_same(&rv, ours));
            if !caught_up {
                return None;
            }
            written.remove(&key);
        }
        seen
    }

    /// The pods of pipeline `namespace/name`, or None until the pod watch is synced.
    pub fn pods(&self, namespace: &str, name: &str) -> Option<Vec<Arc<Pod>>> {
        self.pods.wait_until_ready().now_or_never()?.ok()?;
        Some(self.pods.state_filter(|p| {
            p.metadata.namespace.as_deref() == Some(namespace)
                && p.labels().get(PIPELINE_LABEL).map(String::as_str) == Some(name)
        }))
    }

    /// Notes a pipeline as one of our writes left it.
    pub fn wrote(&self, p: &DynamicObject) {
        if let Some(rv) = p.resource_version() {
            let key = (p.namespace().unwrap_or_default(), p.name_any());
            self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, rv);
        }
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
    use super::newer_or_same;

    #[test]
    fn resource_versions_compare_as_numbers_or_not_at_all() {
        assert!(newer_or_same("12", "9"));
        assert!(newer_or_same("9", "9"));
        assert!(!newer_or_same("9", "12"));
        assert!(!newer_or_same("abc", "12"));
        assert!(newer_or_same("abc", "abc"));
    }
}
