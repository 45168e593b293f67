//! The object store: every object as JSON, one resource-version counter for the whole store (as
//! etcd's revision), and a history of changes for watches.

use crate::crd;
use crate::disk::{Disk, DiskError};
use crate::error::ApiError;
use crate::fields::{self, Writer};
use crate::merge::{self, ListSemantics};
use crate::resources::{is, Registry, ResourceType, CRDS, NAMESPACES};
use crate::selector::{FieldSelector, LabelSelector};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// How many changes are kept for watches that start from an older resource version; older ones
/// get 410 Gone, as from a compacted etcd.
const HISTORY: usize = 4096;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted.
    Deleted,
}

impl ChangeKind {
    /// The watch event type.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One change, as watches report it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The store's resource version after the change.
    pub rv: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// The object's type.
    pub resource: &'static ResourceType,
    /// The object as it is after the change (before it, for a deletion).
    pub object: Arc<Stored>,
}

/// An object as the store keeps it: its JSON text, served as it is by reads and watches, and a
/// small view of it (metadata and the fields selectors use) for selectors and the garbage
/// collector, so that neither has to parse the whole object.
#[derive(Debug)]
pub struct Stored {
    /// The object, serialized.
    pub json: Bytes,
    /// `apiVersion`, `metadata` without `managedFields` and annotations, and the fields field
    /// selectors name (`spec.nodeName`, `status.phase`, `involvedObject`, `reason`, `type`).
    pub view: Value,
}

impl Stored {
    /// Serializes an object for the store.
    pub fn new(obj: &Value) -> Arc<Self> {
        Arc::new(Self { json: Bytes::from(serde_json::to_vec(obj).unwrap_or_default()), view: view(obj) })
    }

    /// The object, parsed.
    pub fn value(&self) -> Value {
        // The bytes were serialized from a Value by this store; they parse.
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

fn view(obj: &Value) -> Value {
    let mut v = serde_json::Map::new();
    for (k, x) in obj.as_object().into_iter().flatten() {
        match (k.as_str(), x) {
            ("metadata", Value::Object(m)) => {
                let meta: serde_json::Map<String, Value> = m
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "managedFields" | "annotations"))
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect();
                v.insert(k.clone(), Value::Object(meta));
            }
            ("involvedObject" | "regarding", _) => drop(v.insert(k.clone(), x.clone())),
            // The scalar fields of `spec` and `status` that field selectors name.
            ("spec" | "status", Value::Object(m)) => {
                let small: serde_json::Map<String, Value> = m
                    .iter()
                    .filter(|(k, x)| {
                        matches!(
                            k.as_str(),
                            "nodeName"
                                | "restartPolicy"
                                | "schedulerName"
                                | "serviceAccountName"
                                | "unschedulable"
                                | "phase"
                                | "podIP"
                                | "nominatedNodeName"
                                | "replicas"
                        ) && !x.is_object()
                            && !x.is_array()
                    })
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .collect();
                if !small.is_empty() {
                    v.insert(k.clone(), Value::Object(small));
                }
            }
            (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) => drop(v.insert(k.clone(), x.clone())),
            (_, Value::Object(m)) if m.len() <= 4 && m.values().all(|x| !x.is_object() && !x.is_array()) => {
                // Small flat objects such as an event's `source`.
                v.insert(k.clone(), x.clone());
            }
            _ => {}
        }
    }
    Value::Object(v)
}

type Key = (&'static str, &'static str, String, String);

fn key(rt: &'static ResourceType, ns: &str, name: &str) -> Key {
    (rt.group, rt.plural, ns.to_owned(), name.to_owned())
}

#[derive(Default)]
struct State {
    rv: u64,
    objects: BTreeMap<Key, Arc<Stored>>,
    history: VecDeque<Change>,
    /// Where the object with a uid is.
    uids: HashMap<String, Key>,
    /// The objects whose `ownerReferences` name a uid.
    dependents: HashMap<String, BTreeSet<Key>>,
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

impl State {
    /// Stores an object, keeping the uid and owner indexes current.
    fn insert(&mut self, k: Key, obj: Arc<Stored>) {
        self.unindex(&k);
        if let Some(uid) = meta_str(&obj.view, "uid") {
            self.uids.insert(uid.to_owned(), k.clone());
        }
        for owner in owner_uids(&obj.view) {
            self.dependents.entry(owner.to_owned()).or_default().insert(k.clone());
        }
        self.objects.insert(k, obj);
    }

    /// Removes an object and its index entries.
    fn remove(&mut self, k: &Key) -> Option<Arc<Stored>> {
        self.unindex(k);
        self.objects.remove(k)
    }

    fn unindex(&mut self, k: &Key) {
        let Some(old) = self.objects.get(k).cloned() else { return };
        if let Some(uid) = meta_str(&old.view, "uid") {
            self.uids.remove(uid);
        }
        for owner in owner_uids(&old.view) {
            if let Some(set) = self.dependents.get_mut(owner) {
                set.remove(k);
                if set.is_empty() {
                    self.dependents.remove(owner);
                }
            }
        }
    }

    fn dependents_of(&self, uid: &str) -> Vec<Key> {
        self.dependents.get(uid).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

/// How a delete treats the objects the deleted one owns (`propagationPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Delete the owner now; the garbage collector deletes its dependents afterwards.
    #[default]
    Background,
    /// Delete the dependents first; the owner stays (with `deletionTimestamp` and the
    /// `foregroundDeletion` finalizer) until they are gone.
    Foreground,
    /// Delete the owner and leave its dependents, without the owner reference.
    Orphan,
}

/// The finalizer of a foreground deletion.
const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an orphaning deletion.
const ORPHAN: &str = "orphan";

fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn set_finalizers(obj: &mut Value, fins: &[String]) {
    match obj["metadata"].as_object_mut() {
        Some(m) if fins.is_empty() => {
            m.remove("finalizers");
        }
        Some(m) => {
            m.insert("finalizers".into(), json!(fins));
        }
        None => {}
    }
}

/// Whether a delete left the object in place (finalizers pending) or removed it.
#[derive(Debug)]
pub enum Deleted {
    /// Removed; the object as it last was.
    Gone(Value),
    /// Marked with `deletionTimestamp`; finalizers still to run.
    Pending(Value),
}

/// The objects of the emulated cluster.
pub struct Store {
    state: Mutex<State>,
    changes: broadcast::Sender<Change>,
    /// How many changes are kept for watches.
    history: usize,
    /// The types served (CRDs add to it).
    pub registry: Registry,
    /// Where writes are made durable; `None` for an ephemeral store.
    disk: Option<Disk>,
    /// Container logs (kept in memory, as a node keeps them on its disk).
    pub logs: crate::logs::Logs,
}

fn disk_key(k: &Key) -> String {
    format!("{}/{}/{}/{}", k.0, k.1, k.2, k.3)
}

impl Default for Store {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::default()),
            changes: broadcast::channel(HISTORY).0,
            history: HISTORY,
            registry: Registry::default(),
            disk: None,
            logs: crate::logs::Logs::default(),
        }
    }
}

/// What to do with fields a custom resource's schema does not declare (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and say so in `Warning` headers (the server's default).
    #[default]
    Warn,
    /// Refuse the request.
    Strict,
}

/// Options of a write.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: check and answer, but store nothing.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `fieldManager`: who is writing, for `managedFields` (`unknown` when not said).
    pub field_manager: Option<String>,
    /// `force`: an apply takes over fields other managers own.
    pub force: bool,
}

impl WriteOptions {
    fn writer<'a>(&'a self, api_version: &'a str, sub: Option<&'a str>, time: &'a str) -> Writer<'a> {
        Writer { manager: self.field_manager.as_deref().unwrap_or("unknown"), api_version, subresource: sub, time }
    }
}

/// The list semantics of a type, for strategic merge and apply.
pub fn list_semantics(rt: &ResourceType) -> Box<dyn ListSemantics + '_> {
    match &rt.schema {
        Some(schema) => Box::new(merge::Schema(schema)),
        None => Box::new(merge::Builtin),
    }
}

/// How a write records field ownership.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tracking {
    /// As an update by the request's field manager.
    Update,
    /// Already recorded (an apply).
    Done,
}

/// The result of a write: the object as stored, and warnings for the client.
#[derive(Debug)]
pub struct Written {
    /// The object.
    pub object: Value,
    /// Warnings (`Warning` headers).
    pub warnings: Vec<String>,
}

/// Preconditions of a delete (`DeleteOptions.preconditions`).
#[derive(Debug, Default, Clone)]
pub struct Preconditions {
    /// The object must have this uid.
    pub uid: Option<String>,
    /// The object must be at this resource version.
    pub resource_version: Option<String>,
}

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Object names: DNS-1123 subdomains, except namespaces, which are labels, and RBAC objects,
/// which are path segments.
fn name_errors(rt: &ResourceType, name: &str) -> Vec<String> {
    let label = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
    };
    let mut errs = Vec::new();
    // RBAC objects are named like path segments (`system:basic-user`), as in Kubernetes.
    if rt.group == "rbac.authorization.k8s.io" {
        if name == "." || name == ".." {
            errs.push(format!("Invalid value: {name:?}: may not be '{name}'"));
        }
        for bad in ["/", "%"] {
            if name.contains(bad) {
                errs.push(format!("Invalid value: {name:?}: may not contain '{bad}'"));
            }
        }
    } else if std::ptr::eq(rt, &NAMESPACES) {
        if name.len() > 63 || !label(name) {
            errs.push(format!("Invalid value: {name:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
        }
    } else if name.len() > 253 || !name.split('.').all(label) {
        errs.push(format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
    }
    errs
}

impl Store {
    /// A store persisted in `dir`, with what it held when last closed (or killed).
    pub fn open(dir: &std::path::Path) -> Result<Self, DiskError> {
        let disk = Disk::open(dir)?;
        let (rows, rv) = disk.load()?;
        let store = Store { disk: Some(disk), ..Store::default() };
        let mut objects = Vec::new();
        for (k, bytes) in rows {
            let obj: Value = serde_json::from_slice(&bytes).map_err(|e| DiskError::corrupt(&k, e))?;
            let view = view(&obj);
            let crd_types = if k.starts_with("apiextensions.k8s.io/customresourcedefinitions/") {
                Some(crd::types_of(&obj).map_err(|e| DiskError::corrupt(&k, e))?)
            } else {
                None
            };
            objects.push((k, Arc::new(Stored { json: Bytes::from(bytes), view }), crd_types));
        }
        // CRDs first, so that their objects' types are known.
        for (_, _, types) in &mut objects {
            for t in types.take().into_iter().flatten() {
                store.registry.register(t);
            }
        }
        let types = store.registry.all();
        let mut state = store.lock();
        state.rv = rv;
        for (k, obj, _) in objects {
            let mut parts = k.splitn(4, '/');
            let (Some(g), Some(p), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(DiskError::corrupt(&k, "malformed key"));
            };
            let Some(t) = types.iter().find(|t| t.group == g && t.plural == p) else {
                tracing::warn!(key = %k, "stored object of a type no longer served; left out");
                continue;
            };
            state.insert((t.group, t.plural, ns.to_owned(), name.to_owned()), obj);
        }
        drop(state);
        Ok(store)
    }

    /// Makes a change set durable before it is applied in memory and acknowledged.
    fn persist(&self, puts: &[(&Key, &[u8])], deletes: &[Key], rv: u64) -> Result<(), ApiError> {
        let Some(disk) = &self.disk else { return Ok(()) };
        let puts: Vec<(String, Vec<u8>)> = puts.iter().map(|(k, v)| (disk_key(k), v.to_vec())).collect();
        let deletes: Vec<String> = deletes.iter().map(disk_key).collect();
        disk.write(&puts, &deletes, rv).map_err(|e| ApiError::internal(e.to_string()))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every write is one insert or
        // remove), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, state: &mut State, kind: ChangeKind, resource: &'static ResourceType, object: Arc<Stored>) {
        let change = Change { rv: state.rv, kind, resource, object };
        if state.history.len() >= self.history {
            state.history.pop_front();
        }
        state.history.push_back(change.clone());
        // No receiver is fine: nobody is watching.
        let _ = self.changes.send(change);
    }

    /// An in-memory store that keeps only the last `history` changes for watches (and lets a
    /// watcher fall that far behind before it gets 410 Gone): how clients' recovery from an
    /// expired resource version is exercised.
    pub fn with_history(history: usize) -> Self {
        let history = history.max(1);
        Self { changes: broadcast::channel(history).0, history, ..Self::default() }
    }

    /// The current resource version of the whole store.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Drops the fields an object's type does not have (built-in types: through their typed
    /// form; custom types: structural pruning against the CRD's schema), as `fieldValidation`
    /// says: silently, with warnings, or refusing the request.
    fn prune(&self, rt: &ResourceType, obj: &mut Value, opts: &WriteOptions) -> Result<Vec<String>, ApiError> {
        let unknown = match crate::builtin::normalize(rt, obj) {
            Some(Ok((typed, unknown))) => {
                *obj = typed;
                unknown
            }
            Some(Err(e)) => {
                return Err(ApiError::bad_request(format!(
                    "{} in version \"{}\" cannot be handled as a {}: {e}",
                    rt.kind,
                    rt.api_version(),
                    rt.kind
                )))
            }
            None => match &rt.schema {
                Some(schema) => {
                    let unknown = crd::prune(obj, schema);
                    crd::apply_defaults(obj, schema);
                    unknown
                }
                None => Vec::new(),
            },
        };
        if unknown.is_empty() || opts.field_validation == FieldValidation::Ignore {
            return Ok(Vec::new());
        }
        let fields: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
        if opts.field_validation == FieldValidation::Strict {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rt.kind,
                rt.api_version(),
                rt.kind,
                fields.join(", ")
            )));
        }
        Ok(fields)
    }

    /// Creates an object. `ns` is the namespace of the request path (namespaced types only).
    pub fn create(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        self.create_tracked(rt, ns, obj, opts, Tracking::Update)
    }

    fn create_tracked(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Written, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body of the request must be a JSON object"));
        }
        check_kind(rt, &mut obj)?;
        let warnings = self.prune(rt, &mut obj, opts)?;
        schema_check(rt, &obj, meta_str(&obj, "name").unwrap_or_default(), false)?;
        let state = self.lock();
        let name = match meta_str(&obj, "name") {
            Some(n) => n.to_owned(),
            None => match meta_str(&obj, "generateName") {
                Some(prefix) => format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..5]),
                None => {
                    return Err(ApiError::invalid(
                        rt,
                        "",
                        vec![(
                            "metadata.name".into(),
                            "FieldValueRequired",
                            "Required value: name or generateName is required".into(),
                        )],
                    ))
                }
            },
        };
        let errs = name_errors(rt, &name);
        if !errs.is_empty() {
            return Err(ApiError::invalid(
                rt,
                &name,
                errs.into_iter().map(|m| ("metadata.name".into(), "FieldValueInvalid", m)).collect(),
            ));
        }
        crate::builtin::admit(rt, &mut obj).map_err(|causes| ApiError::invalid(rt, &name, causes))?;
        let namespace = self.namespace_for(&state, rt, ns, &obj)?;
        let k = key(rt, &namespace, &name);
        if state.objects.contains_key(&k) {
            return Err(ApiError::already_exists(rt, &name));
        }
        let new_types = if std::ptr::eq(rt, &CRDS) { Some(crd::types_of(&obj)?) } else { None };
        let meta =
            obj["metadata"].as_object_mut().ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        meta.insert("name".into(), json!(name));
        if rt.namespaced {
            meta.insert("namespace".into(), json!(namespace));
        }
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        if rt.generation {
            meta.insert("generation".into(), json!(1));
        }
        if std::ptr::eq(rt, &NAMESPACES) {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
        } else if std::ptr::eq(rt, &CRDS) {
            obj["status"] = crd::established_status(&obj, &now());
        } else if rt.schema.is_some() && rt.status_subresource {
            // A custom object's status is written through /status only.
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        if tracking == Tracking::Update {
            let (av, time) = (rt.api_version(), now());
            fields::track_update(None, &mut obj, &opts.writer(&av, None, &time), list_semantics(rt).as_ref());
        }
        if opts.dry_run {
            return Ok(Written { object: obj, warnings });
        }
        self.commit(state, ChangeKind::Added, rt, k, obj, new_types, warnings)
    }

    /// Writes one object: the next resource version, on disk first, then in memory and to
    /// watchers; then serves the types a CRD write defines.
    #[allow(clippy::too_many_arguments)]
    fn commit(
        &self,
        mut state: MutexGuard<'_, State>,
        kind: ChangeKind,
        rt: &'static ResourceType,
        k: Key,
        mut obj: Value,
        new_types: Option<Vec<ResourceType>>,
        warnings: Vec<String>,
    ) -> Result<Written, ApiError> {
        let rv = state.rv + 1;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let stored = Stored::new(&obj);
        self.persist(&[(&k, &stored.json)], &[], rv)?;
        state.rv = rv;
        state.insert(k.clone(), stored.clone());
        self.record(&mut state, kind, rt, stored);
        drop(state);
        for t in new_types.into_iter().flatten() {
            self.registry.register(t);
        }
        if obj.pointer("/metadata/ownerReferences").is_some() || obj.pointer("/metadata/deletionTimestamp").is_some() {
            self.collect_garbage(vec![k]);
        }
        Ok(Written { object: obj, warnings })
    }

    /// The namespace an object goes to, checking that it exists and agrees with the body.
    fn namespace_for(
        &self,
        state: &State,
        rt: &'static ResourceType,
        ns: Option<&str>,
        obj: &Value,
    ) -> Result<String, ApiError> {
        if !rt.namespaced {
            return Ok(String::new());
        }
        let ns = ns.unwrap_or("default");
        if let Some(body_ns) = meta_str(obj, "namespace") {
            if body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        if !state.objects.contains_key(&key(&NAMESPACES, "", ns)) {
            return Err(ApiError::not_found(&NAMESPACES, ns));
        }
        Ok(ns.to_owned())
    }

    /// Reads one object.
    pub fn get(&self, rt: &'static ResourceType, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        Ok(self.get_stored(rt, ns, name)?.value())
    }

    /// Reads one object as stored (its JSON text and view).
    pub fn get_stored(&self, rt: &'static ResourceType, ns: Option<&str>, name: &str) -> Result<Arc<Stored>, ApiError> {
        let ns = if rt.namespaced { ns.unwrap_or("default") } else { "" };
        self.lock().objects.get(&key(rt, ns, name)).cloned().ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// Lists objects (of one namespace, or all), with the store's resource version.
    pub fn list(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> (Vec<Value>, u64) {
        let (items, rv) = self.list_stored(rt, ns, labels, fields);
        let items = items
            .iter()
            .map(|s| {
                let mut v = s.value();
                // One stored object serves every version of a custom type.
                v["apiVersion"] = json!(rt.api_version());
                v
            })
            .collect();
        (items, rv)
    }

    /// Lists objects as stored, in key order, with the store's resource version.
    pub fn list_stored(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> (Vec<Arc<Stored>>, u64) {
        let state = self.lock();
        let start = (rt.group, rt.plural, ns.unwrap_or("").to_owned(), String::new());
        let items = state
            .objects
            .range(start..)
            .take_while(|((g, p, n, _), _)| *g == rt.group && *p == rt.plural && ns.is_none_or(|ns| ns == n))
            .map(|(_, v)| v)
            .filter(|v| labels.matches(&v.view) && fields.matches(&v.view))
            .cloned()
            .collect();
        (items, state.rv)
    }

    /// Replaces an object, or with `status` only its status (the `/status` subresource).
    ///
    /// A `metadata.resourceVersion` in the body must be the current one (409 Conflict
    /// otherwise); without one the update is unconditional, as Kubernetes allows for these types.
    /// Where status is a subresource, a write to the object keeps the stored status, and a
    /// write to `/status` keeps everything else.
    pub fn update(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        obj: Value,
        status: bool,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let sub = status.then_some("status");
        self.update_tracked(rt, ns, name, obj, sub, opts, Tracking::Update)
    }

    /// A write through the `scale` subresource: only `spec.replicas` changes, and its manager
    /// is recorded with the subresource.
    pub fn update_scale(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        replicas: i64,
        resource_version: Option<&str>,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let mut obj = self.get(rt, ns, name)?;
        if let Some(rv) = resource_version.filter(|rv| !rv.is_empty()) {
            if Some(rv) != meta_str(&obj, "resourceVersion") {
                return Err(ApiError::conflict(rt, name));
            }
        }
        obj["spec"]["replicas"] = json!(replicas);
        self.update_tracked(rt, ns, name, obj, Some("scale"), opts, Tracking::Update)
    }

    /// Server-side apply of `config` by `opts.field_manager`: creates the object if it does not
    /// exist; 409 Conflict when it would change fields other managers own, unless `opts.force`.
    pub fn apply(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        config: Value,
        status: bool,
        opts: &WriteOptions,
    ) -> Result<(Written, bool), ApiError> {
        if opts.field_manager.as_deref().unwrap_or("").is_empty() {
            return Err(ApiError::invalid_options(
                "PatchOptions.meta.k8s.io",
                "fieldManager",
                "Required value: is required for apply patch",
            ));
        }
        let mut config = config;
        check_kind(rt, &mut config)?;
        if let Some(body_name) = meta_str(&config, "name") {
            if body_name != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
        }
        // An apply is one atomic change, as in Kubernetes: if the object changed between the
        // read and the write, it is applied again to the new version (unless the configuration
        // itself names a resourceVersion, which must then hold).
        let pinned = meta_str(&config, "resourceVersion").is_some();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let live = match self.get(rt, ns, name) {
                Ok(v) => Some(v),
                Err(e) if e.code == 404 && !status => None,
                Err(e) => return Err(e),
            };
            let (av, time) = (rt.api_version(), now());
            let w = opts.writer(&av, status.then_some("status"), &time);
            let mut result = fields::apply(live.as_ref(), &config, &w, opts.force, list_semantics(rt).as_ref())
                .map_err(|c| ApiError::apply_conflicts(rt, name, c.describe()))?;
            let outcome = match live {
                None => {
                    result["metadata"]["name"] = json!(name);
                    self.create_tracked(rt, ns, result, opts, Tracking::Done).map(|w| (w, true))
                }
                Some(_) => {
                    let sub = status.then_some("status");
                    self.update_tracked(rt, ns, name, result, sub, opts, Tracking::Done).map(|w| (w, false))
                }
            };
            match outcome {
                Err(e) if e.code == 409 && !pinned && attempts < 10 => continue,
                other => return other,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_tracked(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
        sub: Option<&str>,
        opts: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Written, ApiError> {
        let status = sub == Some("status");
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body of the request must be a JSON object"));
        }
        check_kind(rt, &mut obj)?;
        if let Some(body_name) = meta_str(&obj, "name") {
            if body_name != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
        }
        let warnings = self.prune(rt, &mut obj, opts)?;
        schema_check(rt, &obj, name, status)?;
        if !status {
            crate::builtin::admit(rt, &mut obj).map_err(|causes| ApiError::invalid(rt, name, causes))?;
        }
        let state = self.lock();
        let namespace = self.namespace_for(&state, rt, ns, &obj)?;
        let k = key(rt, &namespace, name);
        let current = state.objects.get(&k).ok_or_else(|| ApiError::not_found(rt, name))?.value();
        if let Some(rv) = meta_str(&obj, "resourceVersion") {
            if Some(rv) != meta_str(&current, "resourceVersion") {
                return Err(ApiError::conflict(rt, name));
            }
        }
        if status {
            let new_status = obj.get("status").cloned();
            obj = current.clone();
            match new_status {
                Some(st) => obj["status"] = st,
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        } else if rt.status_subresource {
            match current.get("status") {
                Some(st) => obj["status"] = st.clone(),
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        // Fields the server owns survive whatever the client sent.
        for field in [
            "uid",
            "creationTimestamp",
            "generation",
            "namespace",
            "name",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match current["metadata"].get(field) {
                Some(v) => obj["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        let new_types = if std::ptr::eq(rt, &CRDS) {
            obj["status"] = current.get("status").cloned().unwrap_or(Value::Null);
            Some(crd::types_of(&obj)?)
        } else {
            None
        };
        if tracking == Tracking::Update {
            let (av, time) = (rt.api_version(), now());
            let w = opts.writer(&av, sub, &time);
            fields::track_update(Some(&current), &mut obj, &w, list_semantics(rt).as_ref());
        } else if let Some(mf) = obj.pointer("/metadata/managedFields").cloned() {
            obj["metadata"]["managedFields"] = mf;
        }
        if obj == current {
            // Kubernetes does not write (nor bump the resource version) for a no-op update.
            return Ok(Written { object: current, warnings });
        }
        if rt.generation && without_meta_and_status(&obj) != without_meta_and_status(&current) {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
            obj["metadata"]["generation"] = json!(generation);
        }
        if current.pointer("/metadata/deletionTimestamp").is_some() {
            let before = finalizers(&current);
            let added: Vec<String> = finalizers(&obj).into_iter().filter(|f| !before.contains(f)).collect();
            if !added.is_empty() {
                return Err(ApiError::invalid(
                    rt,
                    name,
                    vec![(
                        "metadata.finalizers".into(),
                        "FieldValueForbidden",
                        format!("Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
                    )],
                ));
            }
            if finalizers(&obj).is_empty() {
                // The last finalizer is gone: the deletion completes.
                if opts.dry_run {
                    return Ok(Written { object: obj, warnings });
                }
                let object = self.remove_now(state, rt, k)?;
                return Ok(Written { object, warnings });
            }
        }
        if opts.dry_run {
            return Ok(Written { object: obj, warnings });
        }
        self.commit(state, ChangeKind::Modified, rt, k, obj, new_types, warnings)
    }

    /// Deletes an object. Without finalizers it is removed at once (a namespace with what is in
    /// it, a CRD with its objects and type) and the garbage collector then deletes what it owned;
    /// with finalizers (its own, or `foregroundDeletion` / `orphan` that `propagation` adds) it
    /// gets a `deletionTimestamp` and stays until they are removed.
    pub fn delete(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        pre: &Preconditions,
        opts: &WriteOptions,
        propagation: Propagation,
    ) -> Result<Deleted, ApiError> {
        let state = self.lock();
        let namespace = if rt.namespaced { ns.unwrap_or("default") } else { "" };
        let k = key(rt, namespace, name);
        let current = state.objects.get(&k).ok_or_else(|| ApiError::not_found(rt, name))?.value();
        check_preconditions(rt, name, &current, pre)?;
        let mut fins = finalizers(&current);
        let gc_finalizer = match propagation {
            Propagation::Foreground => Some(FOREGROUND),
            Propagation::Orphan => Some(ORPHAN),
            Propagation::Background => None,
        };
        let mut added = false;
        if let Some(f) = gc_finalizer {
            if !fins.iter().any(|x| x == f) {
                fins.push(f.to_owned());
                added = true;
            }
        }
        let deleting = current.pointer("/metadata/deletionTimestamp").is_some();
        if fins.is_empty() || is(rt, &NAMESPACES) {
            if opts.dry_run {
                return Ok(Deleted::Gone(current));
            }
            let gone = self.remove_now(state, rt, k)?;
            return Ok(Deleted::Gone(gone));
        }
        if deleting && !added {
            return Ok(Deleted::Pending(current));
        }
        let mut obj = current.clone();
        set_finalizers(&mut obj, &fins);
        if !deleting {
            obj["metadata"]["deletionTimestamp"] = json!(now());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            if let Some(g) = obj["metadata"]["generation"].as_i64() {
                obj["metadata"]["generation"] = json!(g + 1);
            }
        }
        if opts.dry_run {
            return Ok(Deleted::Pending(obj));
        }
        let w = self.commit(state, ChangeKind::Modified, rt, k.clone(), obj, None, Vec::new())?;
        // The garbage collector may have finished the deletion already (nothing to wait for).
        let now_there = self.lock().objects.get(&k).map(|s| s.value());
        Ok(match now_there {
            Some(obj) => Deleted::Pending(obj),
            None => Deleted::Gone(w.object),
        })
    }

    /// Removes an object now (with a namespace's objects, a CRD's objects and type), then lets
    /// the garbage collector delete what depended on it.
    fn remove_now(
        &self,
        mut state: MutexGuard<'_, State>,
        rt: &'static ResourceType,
        k: Key,
    ) -> Result<Value, ApiError> {
        let current = state.objects.get(&k).map(|s| s.value()).ok_or_else(|| ApiError::not_found(rt, &k.3))?;
        let (crd_group, crd_plural) = if is(rt, &CRDS) {
            (
                current.pointer("/spec/group").and_then(Value::as_str).unwrap_or("").to_owned(),
                current.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or("").to_owned(),
            )
        } else {
            (String::new(), String::new())
        };
        let types = self.registry.all();
        let find = |g: &str, p: &str| types.iter().copied().find(|t| t.group == g && t.plural == p);
        let mut doomed: Vec<Key> = state
            .objects
            .keys()
            .filter(|(g, p, n, _)| {
                (is(rt, &NAMESPACES) && *n == k.3) || (!crd_plural.is_empty() && *g == crd_group && *p == crd_plural)
            })
            .cloned()
            .collect();
        doomed.push(k.clone());
        self.persist(&[], &doomed, state.rv + doomed.len() as u64)?;
        let mut removed = Vec::new();
        let mut candidates = Vec::new();
        for d in &doomed {
            if let Some(obj) = state.remove(d) {
                if let Some(uid) = meta_str(&obj.view, "uid") {
                    candidates.extend(state.dependents_of(uid));
                }
                candidates.extend(owner_uids(&obj.view).filter_map(|u| state.uids.get(u).cloned()));
                removed.push((if *d == k { Some(rt) } else { find(d.0, d.1) }, obj));
            }
        }
        let mut last = current;
        for (t, gone) in removed {
            state.rv += 1;
            // Watchers see the object as it was, at the resource version of its deletion.
            let mut gone = gone.value();
            gone["metadata"]["resourceVersion"] = json!(state.rv.to_string());
            if let Some(t) = t {
                self.record(&mut state, ChangeKind::Deleted, t, Stored::new(&gone));
            }
            last = gone;
        }
        drop(state);
        if !crd_plural.is_empty() {
            self.registry.unregister(&crd_group, &crd_plural);
        }
        self.collect_garbage(candidates);
        Ok(last)
    }

    /// The garbage collector, run after each write that may concern it, until nothing is left
    /// to do: an object whose owners are all gone is deleted (in the background); an owner
    /// deleted in the foreground has its dependents deleted and goes when they have; an owner
    /// deleted with `orphan` has its dependents' references to it removed.
    fn collect_garbage(&self, mut queue: Vec<Key>) {
        let types = self.registry.all();
        let find = |k: &Key| types.iter().copied().find(|t| t.group == k.0 && t.plural == k.1);
        let opts = WriteOptions::default();
        let mut steps = 0;
        while let Some(k) = queue.pop() {
            steps += 1;
            if steps > 1_000_000 {
                tracing::error!("garbage collection did not settle; stopped");
                return;
            }
            let Some(rt) = find(&k) else { continue };
            let state = self.lock();
            let Some(obj) = state.objects.get(&k).map(|s| s.view.clone()) else { continue };
            let uid = meta_str(&obj, "uid").unwrap_or_default().to_owned();
            let deps = state.dependents_of(&uid);
            let refs: Vec<&str> = owner_uids(&obj).collect();
            let dangling: Vec<String> =
                refs.iter().filter(|u| !state.uids.contains_key(**u)).map(|u| (*u).to_owned()).collect();
            let all_gone = !refs.is_empty() && dangling.len() == refs.len();
            drop(state);
            let ns = (!k.2.is_empty()).then_some(k.2.as_str());
            let fins = finalizers(&obj);
            let deleting = obj.pointer("/metadata/deletionTimestamp").is_some();
            if deleting && fins.iter().any(|f| f == ORPHAN) {
                for d in &deps {
                    self.gc_patch(d, find(d), |o| remove_owner(o, &uid));
                }
                self.gc_patch(&k, Some(rt), |o| drop_finalizer(o, ORPHAN));
                continue;
            }
            if deleting && fins.iter().any(|f| f == FOREGROUND) {
                if deps.is_empty() {
                    self.gc_patch(&k, Some(rt), |o| drop_finalizer(o, FOREGROUND));
                } else {
                    for d in deps {
                        if let Some(drt) = find(&d) {
                            let dns = (!d.2.is_empty()).then_some(d.2.as_str());
                            let _ =
                                self.delete(drt, dns, &d.3, &Preconditions::default(), &opts, Propagation::Foreground);
                        }
                    }
                }
                continue;
            }
            if all_gone && !deleting {
                let _ = self.delete(rt, ns, &k.3, &Preconditions::default(), &opts, Propagation::Background);
            } else if !dangling.is_empty() && !all_gone {
                self.gc_patch(&k, Some(rt), |o| {
                    for u in &dangling {
                        remove_owner(o, u);
                    }
                });
            }
        }
    }

    /// A change the garbage collector makes to one object (ignoring one that went meanwhile).
    fn gc_patch(&self, k: &Key, rt: Option<&'static ResourceType>, change: impl FnOnce(&mut Value)) {
        let Some(rt) = rt else { return };
        let Some(mut obj) = self.lock().objects.get(k).map(|s| s.value()) else { return };
        change(&mut obj);
        let ns = (!k.2.is_empty()).then_some(k.2.as_str());
        if let Err(e) = self.update(rt, ns, &k.3, obj, false, &WriteOptions::default()) {
            tracing::warn!(object = %k.3, error = %e, "garbage collector could not update an object");
        }
    }

    /// The changes after `rv` still in the history, and a receiver for the ones to come, taken
    /// together so that none is missed. 410 Gone when `rv` is older than the history.
    pub fn watch_from(&self, rv: u64) -> Result<(Vec<Change>, broadcast::Receiver<Change>), ApiError> {
        let state = self.lock();
        let oldest = state.history.front().map_or(state.rv, |c| c.rv.saturating_sub(1));
        if rv < oldest {
            return Err(ApiError::expired(rv, oldest));
        }
        let backlog = state.history.iter().filter(|c| c.rv > rv).cloned().collect();
        Ok((backlog, self.changes.subscribe()))
    }
}

fn check_preconditions(rt: &ResourceType, name: &str, current: &Value, pre: &Preconditions) -> Result<(), ApiError> {
    if let Some(uid) = &pre.uid {
        let actual = meta_str(current, "uid").unwrap_or_default();
        if actual != uid {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
            ));
        }
    }
    if let Some(rv) = &pre.resource_version {
        let actual = meta_str(current, "resourceVersion").unwrap_or_default();
        if actual != rv {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"),
            ));
        }
    }
    Ok(())
}

fn remove_owner(obj: &mut Value, uid: &str) {
    if let Some(refs) = obj.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
        if refs.is_empty() {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("ownerReferences");
            }
        }
    }
}

fn drop_finalizer(obj: &mut Value, f: &str) {
    let fins: Vec<String> = finalizers(obj).into_iter().filter(|x| x != f).collect();
    set_finalizers(obj, &fins);
}

fn without_meta_and_status(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

/// Fills in or checks `apiVersion` and `kind`.
fn check_kind(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    let api_version = rt.api_version();
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => obj["kind"] = json!(rt.kind),
        Some(k) if k == rt.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(
                format!(
                    "the API version in the data ({}) does not match the expected API version ({api_version})",
                    obj.get("apiVersion").and_then(Value::as_str).unwrap_or("")
                ) + &format!(" or kind {k} is not {}", rt.kind),
            ))
        }
    }
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => obj["apiVersion"] = json!(api_version),
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
    }
    if obj.get("metadata").is_none_or(Value::is_null) {
        obj["metadata"] = json!({});
    }
    Ok(())
}

/// A custom object's fields against its CRD's schema (see [`crate::schema`]): those of the
/// status for a write to `/status`, the others for a write to the object (whose status the
/// server keeps as it was).
fn schema_check(rt: &ResourceType, obj: &Value, name: &str, status: bool) -> Result<(), ApiError> {
    let Some(schema) = &rt.schema else { return Ok(()) };
    let causes: Vec<_> = crate::schema::validate(obj, schema)
        .into_iter()
        .filter(|(field, _, _)| (field == "status" || field.starts_with("status.")) == status)
        .collect();
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(rt, name, causes))
    }
}
