//! Which pipeline holds a sidecar ID, from a watch of all Pipelines (the cache's, see
//! `super::cache`): an ID lookup is one map read. The index is a hint only: whatever it says is read again with the caller's client, and a
//! miss falls back to a listing with the caller's client, so it never shows anyone what they
//! could not read, and a lagging watch costs a slower lookup, not a wrong answer.

use super::meta;
use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// A pipeline, by namespace and name.
pub type PipelineKey = (String, String);

#[derive(Default)]
struct Maps {
    by_id: HashMap<String, PipelineKey>,
    by_pipeline: HashMap<PipelineKey, Vec<String>>,
}

impl Maps {
    fn remove(&mut self, key: &PipelineKey) {
        for id in self.by_pipeline.remove(key).unwrap_or_default() {
            if self.by_id.get(&id) == Some(key) {
                self.by_id.remove(&id);
            }
        }
    }

    fn put(&mut self, p: &DynamicObject) {
        let key = (p.namespace().unwrap_or_default(), p.name_any());
        self.remove(&key);
        let ids = ids_of(p);
        for id in &ids {
            self.by_id.insert(id.clone(), key.clone());
        }
        self.by_pipeline.insert(key, ids);
    }
}

/// The IDs of a pipeline's sidecars (annotated or derived).
pub fn ids_of(p: &DynamicObject) -> Vec<String> {
    let entries = meta::entries(p.metadata.annotations.as_ref());
    let uid = p.metadata.uid.clone().unwrap_or_default();
    super::sidecar_values(&p.data)
        .iter()
        .filter_map(|s| s.get("name").and_then(|n| n.as_str()))
        .map(|name| entries.get(name).map(|e| e.id.clone()).unwrap_or_else(|| meta::derived_id(&uid, name)))
        .collect()
}

/// The index; cloning shares it.
#[derive(Clone, Default)]
pub struct Index {
    maps: Arc<RwLock<Maps>>,
    /// The maps being rebuilt by a (re)list, swapped in when it is complete.
    fresh: Arc<Mutex<Option<Maps>>>,
}

impl Index {
    /// Takes in one event of a watch of all Pipelines.
    pub fn observe(&self, event: &Event<DynamicObject>) {
        let mut fresh = self.fresh.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match event {
            Event::Init => *fresh = Some(Maps::default()),
            Event::InitApply(p) => fresh.get_or_insert_with(Maps::default).put(p),
            Event::InitDone => {
                if let Some(m) = fresh.take() {
                    *self.maps.write().unwrap_or_else(std::sync::PoisonError::into_inner) = m;
                }
            }
            Event::Apply(p) => self.put(p),
            Event::Delete(p) => self
                .maps
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&(p.namespace().unwrap_or_default(), p.name_any())),
        }
    }

    /// The pipeline that held `id` when last seen.
    pub fn get(&self, id: &str) -> Option<PipelineKey> {
        self.maps.read().unwrap_or_else(std::sync::PoisonError::into_inner).by_id.get(id).cloned()
    }

    /// Records what a write just made (the watch will say the same a moment later).
    pub fn put(&self, p: &DynamicObject) {
        self.maps.write().unwrap_or_else(std::sync::PoisonError::into_inner).put(p);
    }
}
