//! The service layer: the one home of sidecar semantics. Resolving pipelines, listing sidecars
//! with their state, creating, updating and deleting them with every check done before anything
//! is written, optimistic concurrency, IDs, events and logs. REST handlers, server functions and
//! the CLI go through here.
//!
//! Each call takes the Kubernetes client to act with from its caller (the caller's identity), so
//! nothing here holds one global client; the ID [`index::Index`] is only a hint that is read again
//! with the caller's client.

pub mod access;
pub mod brief;
pub mod cache;
pub mod diagnose;
pub mod error;
pub mod index;
mod logs;
pub mod meta;
pub mod schema;
mod state;
pub mod status;

pub use state::{LiveStream, PipelineQuery};

pub use access::Identity;
pub use error::ServiceError;
use error::{is_conflict, is_not_found};
use futures::Stream;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams};
use kube::{Api, Client, ResourceExt};
use meta::Entry;
use operator::render::{CONFIG_VOLUME, MAIN_CONTAINER, PIPELINE_LABEL};
use operator::Pipeline;
use serde_json::Value;
use sidecar_spec::{FieldError, FieldPath};
use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// The field manager of the console's writes.
pub const MANAGER: &str = "sidecar-console";

/// How often a write is tried again after a 409 that did not concern the sidecar at hand.
const ATTEMPTS: usize = 16;

pub use sidecar_api::{Created, Deleted, LogLine, PipelineRef, PipelineView, SidecarView, StatusView};

/// A stream of log lines.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<LogLine, ServiceError>> + Send>>;

/// A sidecar found in a pipeline.
#[derive(Clone, Debug, PartialEq)]
struct Ident {
    id: String,
    name: String,
    created_at: String,
    updated_at: String,
    spec: Value,
}

impl Ident {
    fn image(&self) -> &str {
        self.spec.get("image").and_then(Value::as_str).unwrap_or_default()
    }
}

/// The sidecars of a Pipeline's data (`spec.sidecars`).
pub(crate) fn sidecar_values(data: &Value) -> Vec<Value> {
    data.pointer("/spec/sidecars").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn idents(p: &DynamicObject) -> Vec<Ident> {
    let entries = meta::entries(p.metadata.annotations.as_ref());
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let born = p.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
    sidecar_values(&p.data)
        .into_iter()
        .filter_map(|spec| {
            let name = spec.get("name")?.as_str()?.to_owned();
            let entry = entries.get(&name).cloned().unwrap_or_else(|| Entry {
                id: meta::derived_id(&uid, &name),
                created_at: born.clone(),
                updated_at: born.clone(),
            });
            Some(Ident { id: entry.id, name, created_at: entry.created_at, updated_at: entry.updated_at, spec })
        })
        .collect()
}

/// A pipeline listing read one view at a time: from the watch cache each view is made as it is
/// read, so that a listing of the whole cluster is never built in memory at once.
pub struct Listing(ListingItems);

enum ListingItems {
    Cached { items: std::vec::IntoIter<Arc<brief::Brief>>, cache: cache::Cache },
    Built(std::vec::IntoIter<PipelineView>),
}

impl Iterator for Listing {
    type Item = PipelineView;

    fn next(&mut self) -> Option<PipelineView> {
        match &mut self.0 {
            ListingItems::Built(views) => views.next(),
            ListingItems::Cached { items, cache } => {
                let b = items.next()?;
                let pods = cache.pods(&b.view.namespace, &b.view.name).unwrap_or_default();
                Some(b.view_over(&pods))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            ListingItems::Built(views) => views.size_hint(),
            ListingItems::Cached { items, .. } => items.size_hint(),
        }
    }
}

fn reference(p: &DynamicObject) -> PipelineRef {
    PipelineRef { namespace: p.namespace().unwrap_or_default(), name: p.name_any() }
}

/// A namespace or pipeline name with characters no Kubernetes name has (`ä`, `a b`, `a/b`) is
/// the caller's mistake, said as such: 400, before any request (it would not even make a valid
/// URL). A name of the right characters that merely does not exist (`myPipeline`) stays a 404.
fn check_names(namespace: Option<&str>, name: Option<&str>) -> Result<(), ServiceError> {
    let impossible = |s: &str| !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if let Some(ns) = namespace.filter(|ns| impossible(ns)) {
        let why = sidecar_spec::names::dns1123_label(ns).into_iter().next().unwrap_or_default();
        return Err(ServiceError::BadRequest(format!("namespace {ns:?} is not a valid namespace name: it {why}")));
    }
    if let Some(n) = name.filter(|n| impossible(n)) {
        let why = sidecar_spec::names::dns1123_subdomain(n).into_iter().next().unwrap_or_default();
        return Err(ServiceError::BadRequest(format!("pipeline {n:?} is not a valid pipeline name: it {why}")));
    }
    Ok(())
}

fn pipelines(client: &Client, namespace: Option<&str>) -> Api<DynamicObject> {
    let resource = ApiResource::erase::<Pipeline>(&());
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

fn pipeline_view(p: &DynamicObject) -> PipelineView {
    let d = &p.data;
    let text = |ptr: &str| d.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
    PipelineView {
        namespace: p.namespace().unwrap_or_default(),
        name: p.name_any(),
        kind: text("/spec/kind").unwrap_or_else(|| "deployment".into()),
        replicas_count: d.pointer("/spec/replicasCount").and_then(Value::as_i64).unwrap_or(1),
        // A DaemonSet's replicas are its nodes: the operator reports how many.
        replicas: d
            .pointer("/status/replicas")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| d.pointer("/spec/replicasCount").and_then(Value::as_i64).unwrap_or(1)),
        image: text("/spec/image").unwrap_or_default(),
        sidecars: idents(p).into_iter().map(|i| i.name).collect(),
        // Ours reports `status.phase`; Calyptia Core's operator `status.status`.
        phase: text("/status/phase").or_else(|| text("/status/status")).filter(|s| !s.is_empty()),
        message: text("/status/message").filter(|s| !s.is_empty()).or_else(|| {
            let conditions = d.pointer("/status/conditions").and_then(Value::as_array)?;
            let ready = conditions.iter().find(|c| c["type"] == "Ready")?;
            ready["message"].as_str().filter(|m| !m.is_empty()).map(str::to_owned)
        }),
        ready_replicas: d.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0),
        created_at: p.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        // Needs the pods; filled in where they are at hand.
        health: sidecar_api::Health::NoSidecars,
    }
}

/// Writes `sidecars` and their entries into a copy of `p`; entries of sidecars that are gone are
/// dropped.
fn with_sidecars(p: &DynamicObject, sidecars: Vec<Value>, mut entries: BTreeMap<String, Entry>) -> DynamicObject {
    let mut next = p.clone();
    entries.retain(|name, _| sidecars.iter().any(|s| s.get("name").and_then(Value::as_str) == Some(name)));
    if let Some(spec) = next.data.get_mut("spec").and_then(Value::as_object_mut) {
        if sidecars.is_empty() {
            spec.remove("sidecars");
        } else {
            spec.insert("sidecars".into(), Value::Array(sidecars));
        }
    }
    let annotations = next.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if entries.is_empty() {
        annotations.remove(meta::ANNOTATION);
    } else {
        annotations.insert(meta::ANNOTATION.into(), serde_json::to_string(&entries).unwrap_or_default());
    }
    // The status is the operator's; a replace of the main resource ignores it anyway.
    if let Some(o) = next.data.as_object_mut() {
        o.remove("status");
    }
    next
}

/// The entries of `p` as they stand (annotated or derived), by name.
fn current_entries(p: &DynamicObject) -> BTreeMap<String, Entry> {
    idents(p)
        .into_iter()
        .map(|i| (i.name, Entry { id: i.id, created_at: i.created_at, updated_at: i.updated_at }))
        .collect()
}

/// A failed write as the caller should read it: fields of sidecar number `index` that the
/// cluster's schema refused become field errors (422), the rest stays Kubernetes' answer.
fn refused(e: kube::Error, index: usize) -> ServiceError {
    let fields = schema::refused_fields(&e, index);
    if fields.is_empty() {
        e.into()
    } else {
        ServiceError::Invalid(fields)
    }
}

fn strip_etag(tag: &str) -> &str {
    tag.trim().trim_start_matches("W/").trim_matches('"')
}

/// Who is asking: their Kubernetes client, and what may be answered from the console's watch
/// cache for them.
#[derive(Clone)]
pub struct Caller {
    /// The client that acts with the caller's identity.
    pub client: Client,
    /// Whether the caller may read whatever the console's own identity reads (the console
    /// itself), so that every read can come from the watch cache.
    pub trusted: bool,
    /// For others: their access reviews, which decide what the cache may answer.
    access: Option<Arc<access::Access>>,
}

impl Caller {
    /// What the caller may do with the pipelines of `namespace`.
    pub async fn rights(&self, namespace: &str) -> sidecar_api::Rights {
        let right = |allowed: bool, what: &str| sidecar_api::Right {
            allowed,
            reason: (!allowed).then(|| format!("Kubernetes does not allow you to {what} in namespace \"{namespace}\"")),
        };
        let (change, config_maps, logs) = match (&self.access, self.trusted) {
            (Some(a), false) => (
                a.may(&self.client, "update", PIPELINES.0, PIPELINES.1, namespace).await,
                a.may(&self.client, "list", "", "configmaps", namespace).await,
                a.may(&self.client, "get", "", "pods/log", namespace).await,
            ),
            _ => (true, true, true),
        };
        sidecar_api::Rights {
            change: right(change, "change pipelines (update pipelines.core.calyptia.com)"),
            config_maps: right(config_maps, "list ConfigMaps"),
            logs: right(logs, "read logs (get pods/log)"),
        }
    }

    /// The console itself, with `client`.
    pub fn console(client: Client) -> Self {
        Caller { client, trusted: true, access: None }
    }

    /// Whether the cache may answer this caller about `resource` in `namespace` (empty: all).
    async fn may_read(&self, verb: &str, group: &str, resource: &str, namespace: &str) -> bool {
        match (&self.access, self.trusted) {
            (_, true) => true,
            (Some(a), false) => a.may(&self.client, verb, group, resource, namespace).await,
            (None, false) => false,
        }
    }
}

/// The API group and resource of Pipelines, as access reviews name them.
const PIPELINES: (&str, &str) = ("core.calyptia.com", "pipelines");

/// A console: the service, the cluster it manages, and how requests become callers. Cheap to
/// clone; the REST API and the pages' server functions share one.
#[derive(Clone, Default)]
pub struct Console {
    /// The service layer.
    pub sidecars: Sidecars,
    /// The console's own client, when a cluster is configured.
    pub client: Option<Client>,
    /// Which cluster, for people: a kubeconfig context's name, or "embedded demo cluster".
    pub cluster: String,
    /// How a user's identity becomes a client; without it only the console's own identity is
    /// served.
    pub connect: Option<access::Connect>,
    /// The clients of the identities served lately.
    pub callers: Arc<access::Callers>,
}

impl Console {
    /// A console over `client`'s cluster, called `cluster`; its caches follow that cluster.
    pub fn new(client: Client, cluster: impl Into<String>) -> Self {
        Console {
            sidecars: Sidecars::new(&client),
            client: Some(client),
            cluster: cluster.into(),
            ..Console::default()
        }
    }

    /// The same console, acting for users with the clients `connect` makes.
    pub fn with_connect(mut self, connect: access::Connect) -> Self {
        self.connect = Some(connect);
        self
    }

    /// Who a request with `identity` acts as. Without one it is not served (401): the console
    /// never lends its own rights to a request nobody is behind.
    pub fn caller(&self, identity: Option<&Identity>) -> Result<Caller, ServiceError> {
        let own = || {
            self.client
                .clone()
                .ok_or_else(|| ServiceError::Unavailable("the console is not connected to a Kubernetes cluster".into()))
        };
        match identity {
            None => Err(ServiceError::Unauthenticated),
            Some(Identity::Console) => Ok(Caller::console(own()?)),
            Some(other) => {
                own()?;
                let connect = self.connect.as_ref().ok_or(ServiceError::Unauthenticated)?;
                let (client, access) = self.callers.get(other, connect).map_err(ServiceError::Unavailable)?;
                Ok(Caller { client, trusted: false, access: Some(access) })
            }
        }
    }
}

/// The service. Cheap to clone.
#[derive(Clone, Default)]
pub struct Sidecars {
    index: index::Index,
    writers: Writers,
    cache: Option<cache::Cache>,
    schema: schema::ClusterSchema,
}

/// One writer per pipeline at a time within this process: writers of one console then never
/// race each other for a resourceVersion (which starves some of them under load); writers
/// elsewhere are still caught by the resourceVersion check and retried.
#[derive(Clone, Default)]
struct Writers(Arc<Mutex<HashMap<index::PipelineKey, Arc<tokio::sync::Mutex<()>>>>>);

impl Writers {
    async fn lock(&self, namespace: &str, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            all.entry((namespace.to_owned(), name.to_owned())).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// A short pause before retrying after a 409, longer with each attempt, a little random so
/// that writers elsewhere do not retry in step.
async fn back_off(attempt: usize) {
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 8);
    tokio::time::sleep(std::time::Duration::from_millis((attempt as u64 * 4).min(40) + jitter)).await;
}

impl Sidecars {
    /// A service whose ID index follows the Pipelines `watcher` can see (the console's own
    /// client; the index is only a hint, see the module's documentation).
    pub fn new(watcher: &Client) -> Self {
        let index = index::Index::default();
        let cache = cache::Cache::follow(watcher, ApiResource::erase::<Pipeline>(&()), index.clone());
        let schema = schema::ClusterSchema::follow(watcher);
        Sidecars { index, cache: Some(cache), schema, ..Sidecars::default() }
    }

    /// The watch cache's state: whether it has synced, and how many times its watches
    /// (re)started. `None` without a cache.
    pub fn cache_state(&self) -> Option<(bool, u64)> {
        self.cache.as_ref().map(|c| (c.synced(), c.restarts()))
    }

    /// The watch cache's [`cache::Cache::version`]: the same number twice means the pipelines
    /// and pods it answers from did not change in between. `None` without a cache, or while
    /// it does not answer.
    pub fn cache_version(&self) -> Option<u64> {
        self.cache.as_ref().and_then(cache::Cache::version)
    }

    /// [`Self::cache_version`] for pipeline `namespace/name` and its pods alone
    /// ([`cache::Cache::version_of`]).
    pub fn cache_version_of(&self, namespace: &str, name: &str) -> Option<u64> {
        self.cache.as_ref().and_then(|c| c.version_of(namespace, name))
    }

    /// What the cluster's Pipeline CRD stores of a sidecar (its item schema), once known: the
    /// editor checks drafts against it and offers only the fields it declares.
    pub fn sidecar_schema(&self) -> Option<Arc<Value>> {
        self.schema.sidecar_items()
    }

    /// [`Self::sidecar_schema`] when it is not our own CRD's (a cluster that runs Calyptia
    /// Core's): only then can a valid spec hold a field the cluster would drop.
    pub fn foreign_sidecar_schema(&self) -> Option<Arc<Value>> {
        static OURS: std::sync::LazyLock<Option<Value>> = std::sync::LazyLock::new(|| {
            sidecar_spec::fit::sidecar_item_schema(
                &operator::crd::crd_json(),
                &<Pipeline as kube::Resource>::version(&()),
            )
        });
        self.schema.sidecar_items().filter(|s| OURS.as_ref() != Some(s.as_ref()))
    }

    /// The pipelines the caller can list (all namespaces, or one), in order of namespace and
    /// name.
    pub async fn list_pipelines(&self, caller: &Caller, namespace: Option<&str>) -> Result<Listing, ServiceError> {
        check_names(namespace, None)?;
        // A filter no namespace can match is a mistake to name, not an empty list.
        if let Some(why) = namespace.and_then(|ns| sidecar_spec::names::dns1123_label(ns).into_iter().next()) {
            let ns = namespace.unwrap_or_default();
            return Err(ServiceError::BadRequest(format!("namespace {ns:?} is not a valid namespace name: it {why}")));
        }
        if let Some(listing) = self.cached_listing(caller, namespace).await {
            return Ok(listing);
        }
        let items = match pipelines(&caller.client, namespace).list(&ListParams::default()).await {
            Ok(list) => list.items,
            // Bound in some namespaces only: the pipelines of those (as the console's pages
            // show them), not a refusal of everything.
            Err(kube::Error::Api(e)) if e.code == 403 && namespace.is_none() => {
                let known = self.cache.as_ref().and_then(cache::Cache::namespaces).unwrap_or_default();
                let mut readable = Vec::new();
                for ns in known {
                    if caller.may_read("list", PIPELINES.0, PIPELINES.1, &ns).await {
                        readable.push(ns);
                    }
                }
                // Bound nowhere: Kubernetes' refusal stands.
                if readable.is_empty() {
                    return Err(kube::Error::Api(e).into());
                }
                let mut items = Vec::new();
                for ns in readable {
                    items.extend(pipelines(&caller.client, Some(&ns)).list(&ListParams::default()).await?.items);
                }
                items
            }
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::with_capacity(items.len());
        for p in &items {
            out.push(self.healthy_view(caller, p).await?);
        }
        out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(Listing(ListingItems::Built(out.into_iter())))
    }

    /// The listing from the watch cache, when it is synced and Kubernetes says the caller may
    /// list those pipelines and their pods themselves.
    async fn cached_listing(&self, caller: &Caller, namespace: Option<&str>) -> Option<Listing> {
        let cache = self.cache.as_ref()?;
        if !cache.synced() || !caller.may_read("list", PIPELINES.0, PIPELINES.1, namespace.unwrap_or("")).await {
            return None;
        }
        let (items, _) = cache.pipelines_page(|k| namespace.is_none_or(|ns| ns == k.0), 0, usize::MAX)?;
        let mut namespaces: Vec<String> = items.iter().map(|b| b.view.namespace.clone()).collect();
        namespaces.dedup();
        for ns in &namespaces {
            if !caller.may_read("list", "", "pods", ns).await {
                return None;
            }
        }
        Some(Listing(ListingItems::Cached { items: items.into_iter(), cache: cache.clone() }))
    }

    /// The view of `p` with its health, read from its pods.
    async fn healthy_view(&self, caller: &Caller, p: &DynamicObject) -> Result<PipelineView, ServiceError> {
        let mut v = pipeline_view(p);
        v.health = state::health(p, &self.pods(caller, &reference(p)).await?);
        Ok(v)
    }

    /// Finds a pipeline: `namespace/name`, a name in `namespace`, or a bare name that must be in
    /// exactly one namespace.
    pub async fn resolve(
        &self,
        caller: &Caller,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<PipelineView, ServiceError> {
        let (namespace, name) = match name.split_once('/') {
            Some((ns, n)) => {
                if namespace.is_some_and(|given| given != ns) {
                    return Err(ServiceError::BadRequest(format!(
                        "pipeline \"{name}\" names namespace \"{ns}\", but namespace \"{}\" was given too",
                        namespace.unwrap_or_default()
                    )));
                }
                (Some(ns), n)
            }
            None => (namespace, name),
        };
        if name.is_empty() {
            return Err(ServiceError::BadRequest("a pipeline name is required".into()));
        }
        check_names(namespace, Some(name))?;
        if let Some(ns) = namespace {
            let p = self.pipeline(caller, ns, name, false).await?;
            return self.healthy_view(caller, &p).await;
        }
        let found = pipelines(&caller.client, None)
            .list(&ListParams::default().fields(&format!("metadata.name={name}")))
            .await?;
        match found.items.as_slice() {
            [] => Err(ServiceError::PipelineNotFound { name: name.into(), namespace: None }),
            [one] => self.healthy_view(caller, one).await,
            many => Err(ServiceError::Ambiguous {
                name: name.into(),
                namespaces: many.iter().filter_map(|p| p.namespace()).collect(),
            }),
        }
    }

    /// A pipeline: from the watch cache for a trusted caller unless `fresh` (a read-modify-write
    /// needs the current version), else from Kubernetes.
    async fn pipeline(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        fresh: bool,
    ) -> Result<Arc<DynamicObject>, ServiceError> {
        check_names(Some(namespace), Some(name))?;
        let not_found = || ServiceError::PipelineNotFound { name: name.into(), namespace: Some(namespace.into()) };
        if let (Some(cache), false) = (&self.cache, fresh) {
            if caller.may_read("get", PIPELINES.0, PIPELINES.1, namespace).await {
                if let Some(p) = cache.pipeline(namespace, name) {
                    return Ok(p);
                }
            }
        }
        pipelines(&caller.client, Some(namespace)).get(name).await.map(Arc::new).map_err(|e| {
            if is_not_found(&e) {
                not_found()
            } else {
                e.into()
            }
        })
    }

    /// One pipeline.
    pub async fn get_pipeline(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<PipelineView, ServiceError> {
        let p = self.pipeline(caller, namespace, name, false).await?;
        self.healthy_view(caller, &p).await
    }

    pub(crate) async fn pods(&self, caller: &Caller, p: &PipelineRef) -> Result<Vec<Arc<Pod>>, ServiceError> {
        if let Some(cache) = &self.cache {
            if caller.may_read("list", "", "pods", &p.namespace).await {
                if let Some(pods) = cache.pods(&p.namespace, &p.name) {
                    return Ok(pods);
                }
            }
        }
        let api: Api<Pod> = Api::namespaced(caller.client.clone(), &p.namespace);
        let listed = api.list(&ListParams::default().labels(&format!("{PIPELINE_LABEL}={}", p.name))).await?;
        // Trimmed as the cache keeps them, so that every read sees the same fields.
        Ok(listed
            .items
            .into_iter()
            .map(|mut pod| {
                cache::trim_pod(&mut pod);
                Arc::new(pod)
            })
            .collect())
    }

    fn view(&self, p: &DynamicObject, i: &Ident, pods: &[Arc<Pod>]) -> SidecarView {
        SidecarView {
            id: i.id.clone(),
            name: i.name.clone(),
            pipeline: reference(p),
            created_at: i.created_at.clone(),
            updated_at: i.updated_at.clone(),
            etag: meta::etag(&i.spec),
            image: i.image().to_owned(),
            spec: i.spec.clone(),
            status: status::summarize(&status::replicas(pods, &i.name), i.image()),
            warnings: Vec::new(),
            problems: match sidecar_spec::check_value(i.spec.clone()) {
                Ok(_) => Vec::new(),
                Err(e) => e.field_errors().iter().map(|f| format!("{}: {}", f.field, f.message)).collect(),
            },
        }
    }

    /// The sidecars of a pipeline, with their state.
    pub async fn list(&self, caller: &Caller, namespace: &str, name: &str) -> Result<Vec<SidecarView>, ServiceError> {
        let p = self.pipeline(caller, namespace, name, false).await?;
        let pods = self.pods(caller, &reference(&p)).await?;
        Ok(idents(&p).iter().map(|i| self.view(&p, i, &pods)).collect())
    }

    /// Where sidecar `id` is: the index's pipeline read for the caller (see [`Self::pipeline`]
    /// for `fresh`), else every pipeline the caller can list.
    async fn find(&self, caller: &Caller, id: &str, fresh: bool) -> Result<(Arc<DynamicObject>, Ident), ServiceError> {
        if let Some((ns, name)) = self.index.get(id) {
            match self.pipeline(caller, &ns, &name, fresh).await {
                Ok(p) => {
                    if let Some(i) = idents(&p).into_iter().find(|i| i.id == id) {
                        return Ok((p, i));
                    }
                }
                Err(ServiceError::PipelineNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let all = pipelines(&caller.client, None).list(&ListParams::default()).await?;
        for p in all.items {
            if let Some(i) = idents(&p).into_iter().find(|i| i.id == id) {
                self.index.put(&p);
                return Ok((Arc::new(p), i));
            }
        }
        Err(ServiceError::SidecarNotFound(id.into()))
    }

    /// One sidecar.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<SidecarView, ServiceError> {
        let (p, i) = self.find(caller, id, false).await?;
        let pods = self.pods(caller, &reference(&p)).await?;
        Ok(self.view(&p, &i, &pods))
    }

    /// Checks a spec for pipeline `p`, where it replaces the sidecar named `replacing` (or is
    /// added): the spec's own rules, the rules across the pipeline's sidecars, and the ConfigMaps
    /// it mounts. Returns the defaulted spec, or every problem.
    async fn check(
        &self,
        caller: &Caller,
        p: &DynamicObject,
        spec: Value,
        replacing: Option<&str>,
    ) -> Result<Value, ServiceError> {
        // Fields the cluster would drop are named with the spec's own problems.
        let cluster = self.schema.sidecar_items();
        let undeclared = cluster.as_deref().map(|s| sidecar_spec::fit::undeclared_fields(&spec, s)).unwrap_or_default();
        let checked = match sidecar_spec::check_value(spec) {
            Ok(c) => c,
            Err(sidecar_spec::CheckError::Invalid(mut errors)) if !undeclared.is_empty() => {
                errors.extend(undeclared);
                return Err(ServiceError::Invalid(errors));
            }
            Err(e) => return Err(e.into()),
        };
        let mut value = serde_json::to_value(&checked).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        // What is left undeclared now are defaults filled in here, which the cluster's own
        // defaulting supplies anyway.
        if let Some(s) = cluster.as_deref() {
            sidecar_spec::fit::prune_undeclared(&mut value, s);
        }
        let root = FieldPath::root();
        let mut errors = undeclared;
        let others: Vec<Value> = sidecar_values(&p.data)
            .into_iter()
            .filter(|s| replacing.is_none_or(|r| s.get("name").and_then(Value::as_str) != Some(r)))
            .collect();
        if others.iter().any(|s| s.get("name").and_then(Value::as_str) == Some(checked.name.as_str())) {
            errors.push(FieldError {
                field: root.child("name"),
                kind: sidecar_spec::ErrorKind::Duplicate,
                message: format!(
                    "pipeline {}/{} already has a sidecar named \"{}\"",
                    p.namespace().unwrap_or_default(),
                    p.name_any(),
                    checked.name
                ),
                value: Some(Value::String(checked.name.clone())),
            });
        }
        if checked.name == MAIN_CONTAINER {
            errors.push(FieldError::invalid(
                root.child("name"),
                checked.name.clone(),
                format!("\"{MAIN_CONTAINER}\" is the name of the pipeline's main container"),
            ));
        }
        let ns = p.namespace().unwrap_or_default();
        for (i, volume) in value.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let vname = volume.get("name").and_then(Value::as_str).unwrap_or_default();
            let cm = volume.pointer("/configMap/name").and_then(Value::as_str).unwrap_or_default();
            let path = root.child("volumes").index(i);
            if vname == CONFIG_VOLUME {
                errors.push(FieldError::invalid(
                    path.child("name"),
                    vname,
                    format!("\"{CONFIG_VOLUME}\" is the volume of the pipeline's own configuration"),
                ));
            }
            for other in &others {
                let clash = other.get("volumes").and_then(Value::as_array).into_iter().flatten().find(|v| {
                    v.get("name").and_then(Value::as_str) == Some(vname)
                        && v.pointer("/configMap/name").and_then(Value::as_str) != Some(cm)
                });
                if let Some(v) = clash {
                    errors.push(FieldError::invalid(
                        path.child("name"),
                        vname,
                        format!(
                            "sidecar \"{}\" mounts a volume of this name from configmap \"{}\"; one name must mean one ConfigMap",
                            other.get("name").and_then(Value::as_str).unwrap_or_default(),
                            v.pointer("/configMap/name").and_then(Value::as_str).unwrap_or_default()
                        ),
                    ));
                }
            }
            let optional = volume.pointer("/configMap/optional").and_then(Value::as_bool).unwrap_or(false);
            if !optional && !cm.is_empty() {
                match Api::<ConfigMap>::namespaced(caller.client.clone(), &ns).get_metadata(cm).await {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => errors.push(FieldError::not_found(
                        path.child("configMap").child("name"),
                        cm,
                        format!("configmap \"{cm}\" not found in namespace \"{ns}\""),
                    )),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }

    /// Writes `next` (with `fieldValidation=Strict`: a field the cluster's schema does not
    /// declare is refused, never dropped) and returns it with the API server's warnings.
    async fn replace(
        &self,
        caller: &Caller,
        next: &DynamicObject,
        dry_run: bool,
    ) -> Result<(DynamicObject, Vec<String>), kube::Error> {
        let pp = PostParams { dry_run, field_manager: Some(MANAGER.into()) };
        let resource = ApiResource::erase::<Pipeline>(&());
        let (written, warnings) = schema::replace_strict(&caller.client, &resource, next, &pp).await?;
        if !dry_run {
            self.index.put(&written);
            if let Some(cache) = &self.cache {
                cache.wrote(&written);
            }
        }
        Ok((written, warnings))
    }

    /// Adds a sidecar to a pipeline.
    pub async fn create(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        spec: Value,
        dry_run: bool,
    ) -> Result<Created, ServiceError> {
        let id = meta::new_id();
        let created_at = meta::now();
        let _writer = self.writers.lock(namespace, name).await;
        for attempt in 0..ATTEMPTS {
            let p = self.pipeline(caller, namespace, name, true).await?;
            let value = self.check(caller, &p, spec.clone(), None).await?;
            let sidecar_name = value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let mut entries = current_entries(&p);
            entries.insert(
                sidecar_name.clone(),
                Entry { id: id.clone(), created_at: created_at.clone(), updated_at: created_at.clone() },
            );
            let mut sidecars = sidecar_values(&p.data);
            let index = sidecars.len();
            sidecars.push(value);
            match self.replace(caller, &with_sidecars(&p, sidecars, entries), dry_run).await {
                Ok((_, warnings)) => {
                    return Ok(Created {
                        id,
                        name: sidecar_name,
                        pipeline: reference(&p),
                        created_at,
                        dry_run,
                        warnings,
                    });
                }
                Err(e) if is_conflict(&e) => back_off(attempt).await,
                Err(e) => return Err(refused(e, index)),
            }
        }
        Err(busy(name))
    }

    /// Reads sidecar `id` again for a retry after a 409: it must not have changed since `base`.
    async fn unchanged(
        &self,
        caller: &Caller,
        id: &str,
        base: &Ident,
        proposed: Option<&Value>,
    ) -> Result<(Arc<DynamicObject>, Ident), ServiceError> {
        match self.find(caller, id, true).await {
            Ok((p, i)) if i.spec == base.spec && i.name == base.name => Ok((p, i)),
            Ok((p, i)) => {
                let pods = self.pods(caller, &reference(&p)).await.unwrap_or_default();
                Err(ServiceError::Conflict {
                    message: format!("sidecar \"{id}\" was changed by someone else meanwhile; nothing was written"),
                    current: serde_json::to_value(self.view(&p, &i, &pods)).ok().map(Box::new),
                    proposed: proposed.cloned().map(Box::new),
                })
            }
            Err(ServiceError::SidecarNotFound(_)) => Err(ServiceError::Conflict {
                message: format!("sidecar \"{id}\" was deleted by someone else meanwhile; nothing was written"),
                current: None,
                proposed: proposed.cloned().map(Box::new),
            }),
            Err(e) => Err(e),
        }
    }

    /// Checks `If-Match` against the sidecar as read.
    fn precondition(
        &self,
        p: &DynamicObject,
        i: &Ident,
        if_match: Option<&str>,
        proposed: Option<&Value>,
    ) -> Result<(), ServiceError> {
        let Some(tag) = if_match else { return Ok(()) };
        let now = meta::etag(&i.spec);
        if tag.split(',').map(strip_etag).any(|t| t == "*" || t == now) {
            return Ok(());
        }
        Err(ServiceError::Conflict {
            message: format!(
                "sidecar \"{}\" has changed since it was read (ETag \"{}\", now \"{now}\"); nothing was written",
                i.id,
                strip_etag(tag)
            ),
            current: serde_json::to_value(self.view(p, i, &[])).ok().map(Box::new),
            proposed: proposed.cloned().map(Box::new),
        })
    }

    /// Replaces sidecar `id`'s spec (its ID stays, even when the name changes).
    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        spec: Value,
        if_match: Option<&str>,
        dry_run: bool,
    ) -> Result<SidecarView, ServiceError> {
        let (mut p, mut current) = self.find(caller, id, true).await?;
        self.precondition(&p, &current, if_match, Some(&spec))?;
        let base = current.clone();
        let _writer = self.writers.lock(&p.namespace().unwrap_or_default(), &p.name_any()).await;
        for attempt in 0..ATTEMPTS {
            let value = self.check(caller, &p, spec.clone(), Some(&current.name)).await?;
            let new_name = value.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let changed = value != current.spec;
            let mut entries = current_entries(&p);
            entries.remove(&current.name);
            let updated_at = if changed { meta::now() } else { current.updated_at.clone() };
            entries.insert(
                new_name.clone(),
                Entry {
                    id: current.id.clone(),
                    created_at: current.created_at.clone(),
                    updated_at: updated_at.clone(),
                },
            );
            let sidecars: Vec<Value> = sidecar_values(&p.data)
                .into_iter()
                .map(|s| {
                    if s.get("name").and_then(Value::as_str) == Some(current.name.as_str()) {
                        value.clone()
                    } else {
                        s
                    }
                })
                .collect();
            let index = sidecars.iter().position(|s| s == &value).unwrap_or_default();
            match self.replace(caller, &with_sidecars(&p, sidecars, entries), dry_run).await {
                Ok((written, warnings)) => {
                    let i = Ident {
                        id: current.id.clone(),
                        name: new_name,
                        created_at: current.created_at.clone(),
                        updated_at,
                        spec: value,
                    };
                    let pods = self.pods(caller, &reference(&written)).await?;
                    return Ok(SidecarView { warnings, ..self.view(&written, &i, &pods) });
                }
                Err(e) if is_conflict(&e) => {
                    back_off(attempt).await;
                    (p, current) = self.unchanged(caller, id, &base, Some(&spec)).await?;
                }
                Err(e) => return Err(refused(e, index)),
            }
        }
        Err(busy(&p.name_any()))
    }

    /// Removes sidecar `id` from its pipeline.
    pub async fn delete(
        &self,
        caller: &Caller,
        id: &str,
        if_match: Option<&str>,
        dry_run: bool,
    ) -> Result<Deleted, ServiceError> {
        let (mut p, mut current) = self.find(caller, id, true).await?;
        self.precondition(&p, &current, if_match, None)?;
        let base = current.clone();
        let _writer = self.writers.lock(&p.namespace().unwrap_or_default(), &p.name_any()).await;
        for attempt in 0..ATTEMPTS {
            let sidecars: Vec<Value> = sidecar_values(&p.data)
                .into_iter()
                .filter(|s| s.get("name").and_then(Value::as_str) != Some(current.name.as_str()))
                .collect();
            match self.replace(caller, &with_sidecars(&p, sidecars, current_entries(&p)), dry_run).await {
                Ok((_, warnings)) => {
                    return Ok(Deleted { deleted: true, id: id.into(), deleted_at: meta::now(), dry_run, warnings })
                }
                Err(e) if is_conflict(&e) => {
                    back_off(attempt).await;
                    (p, current) = self.unchanged(caller, id, &base, None).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy(&p.name_any()))
    }

    /// The ConfigMaps of a pipeline's namespace, with their keys: what a sidecar of that
    /// pipeline can mount. The pipeline must exist.
    pub async fn config_maps(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<sidecar_api::ConfigMapView>, ServiceError> {
        self.pipeline(caller, namespace, name, false).await?;
        let list = Api::<ConfigMap>::namespaced(caller.client.clone(), namespace).list(&ListParams::default()).await?;
        let mut maps: Vec<sidecar_api::ConfigMapView> = list
            .items
            .into_iter()
            .map(|cm| {
                let mut keys: Vec<String> = cm.data.iter().flat_map(|d| d.keys().cloned()).collect();
                keys.extend(cm.binary_data.iter().flat_map(|d| d.keys().cloned()));
                keys.sort();
                sidecar_api::ConfigMapView { name: cm.metadata.name.unwrap_or_default(), keys }
            })
            .collect();
        maps.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(maps)
    }

    /// Sidecar `id` in each replica.
    pub async fn status(&self, caller: &Caller, id: &str) -> Result<StatusView, ServiceError> {
        let (p, i) = self.find(caller, id, false).await?;
        let pods = self.pods(caller, &reference(&p)).await?;
        let replicas = status::replicas(&pods, &i.name);
        let summary = status::summarize(&replicas, i.image());
        Ok(StatusView { id: i.id, name: i.name, pipeline: reference(&p), summary, replicas })
    }

    /// The events about sidecar `id`'s containers, newest first.
    pub async fn events(&self, caller: &Caller, id: &str) -> Result<Vec<sidecar_api::SidecarEvent>, ServiceError> {
        let (p, i) = self.find(caller, id, false).await?;
        let r = reference(&p);
        let pods = self.pods(caller, &r).await?;
        self.events_of(caller, &r, &pods, &i).await
    }

    async fn events_of(
        &self,
        caller: &Caller,
        r: &PipelineRef,
        pods: &[Arc<Pod>],
        i: &Ident,
    ) -> Result<Vec<sidecar_api::SidecarEvent>, ServiceError> {
        let pods: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
        let events: Api<Event> = Api::namespaced(caller.client.clone(), &r.namespace);
        let all = events.list(&ListParams::default().fields("involvedObject.kind=Pod")).await?.items;
        let volumes: Vec<String> = i
            .spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        Ok(status::events(&all, &pods, &i.name, &volumes))
    }

    /// Sidecar `id`'s log lines: of one replica or of all, the last `tail` lines of each, then
    /// new lines as they come when `follow`; of the previous run with `previous`.
    pub async fn logs(&self, caller: &Caller, id: &str, options: &LogOptions) -> Result<LogStream, ServiceError> {
        let (p, i) = self.find(caller, id, false).await?;
        let r = reference(&p);
        let pods = self.pods(caller, &r).await?;
        logs::container_logs(self, caller, &r, &pods, &i.name, &format!("sidecar \"{}\"", i.name), options).await
    }

    /// The log lines of pipeline `namespace/name`'s main container, as [`Self::logs`].
    pub async fn pipeline_logs(
        &self,
        caller: &Caller,
        namespace: &str,
        name: &str,
        options: &LogOptions,
    ) -> Result<LogStream, ServiceError> {
        let p = self.pipeline(caller, namespace, name, false).await?;
        let r = reference(&p);
        let pods = self.pods(caller, &r).await?;
        logs::container_logs(self, caller, &r, &pods, MAIN_CONTAINER, "its main container", options).await
    }
}

/// Which log lines to read.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// Only this replica (pod); all when None.
    pub replica: Option<String>,
    /// Keep the stream open for new lines.
    pub follow: bool,
    /// The last N lines of each replica.
    pub tail: Option<i64>,
    /// The previous run of the container (after a restart).
    pub previous: bool,
}

fn busy(pipeline: &str) -> ServiceError {
    ServiceError::Conflict {
        message: format!("pipeline \"{pipeline}\" kept changing while writing; nothing was written, try again"),
        current: None,
        proposed: None,
    }
}
