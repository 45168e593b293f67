//! The cluster around the API server: nodes, the workload controllers (Deployment →
//! ReplicaSet → Pods, DaemonSet → a pod per node, StatefulSet → ordinal pods), a scheduler and a
//! kubelet that gives containers their statuses, events and logs.
//!
//! Everything is driven by the store's change feed and by timers for what takes time (an image
//! that keeps failing to pull, a readiness delay, a crash-loop back-off); an idle cluster does
//! nothing.

use crate::resources::*;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{ChangeKind, Preconditions, Propagation, Store, Stored, WriteOptions};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// The nodes of the simulated cluster.
pub const NODES_NAMES: [&str; 3] = ["node-1", "node-2", "node-3"];

/// Images the simulated nodes can pull, by repository (registry `docker.io` and `library/`
/// left out). Others fail with `ErrImagePull`, then `ImagePullBackOff`.
pub const IMAGES: &[&str] = &[
    "nginx",
    "envoyproxy/envoy",
    "fluent/fluent-bit",
    "cr.fluentbit.io/fluent/fluent-bit",
    "ghcr.io/calyptia/core/calyptia-fluent-bit",
    "calyptia/core",
    "otel/opentelemetry-collector",
    "otel/opentelemetry-collector-contrib",
    "prom/statsd-exporter",
    "prom/node-exporter",
    "prom/prometheus",
    "prom/blackbox-exporter",
    "quay.io/prometheus/node-exporter",
    "busybox",
    "alpine",
    "redis",
    "curlimages/curl",
    "grafana/agent",
    "hashicorp/consul",
    "datadog/agent",
];

/// The repository of an image reference: `docker.io/library/nginx:1.27` → `nginx`.
pub fn repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A tag is after the last ':' unless that ':' belongs to a registry port.
    let repo = match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    repo.strip_prefix("library/").unwrap_or(repo)
}

type Key = (&'static ResourceType, String, String);

/// Runs the cluster simulation on `store` until the process ends.
pub fn start(store: Arc<Store>) {
    seed_nodes(&store);
    let (timer_tx, timer_rx) = mpsc::unbounded_channel();
    let sim = Sim {
        store,
        timers: timer_tx,
        images: IMAGES.iter().map(|s| (*s).to_owned()).collect(),
        parsed: Mutex::default(),
    };
    tokio::spawn(sim.run(timer_rx));
}

fn seed_nodes(store: &Store) {
    for (i, name) in NODES_NAMES.iter().enumerate() {
        if store.get(&NODES, None, name).is_ok() {
            continue;
        }
        let node = json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", i + 11)}, {"type": "Hostname", "address": name}],
                "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 13 (trixie)", "kernelVersion": "6.12.0",
                    "containerRuntimeVersion": "containerd://2.0.0", "operatingSystem": "linux", "architecture": "amd64",
                    "kubeProxyVersion": "", "machineID": "", "systemUUID": "", "bootID": ""}}});
        if let Err(e) = store.create(&NODES, None, node, &WriteOptions::default()) {
            tracing::warn!(node = name, error = %e, "could not add a node");
        }
    }
}

struct Sim {
    store: Arc<Store>,
    timers: mpsc::UnboundedSender<Key>,
    images: Vec<String>,
    /// Parsed objects by uid, with the resource version they were parsed at (see `parse`).
    parsed: Mutex<HashMap<String, (String, Arc<Value>)>>,
}

fn opts(manager: &str) -> WriteOptions {
    WriteOptions { field_manager: Some(manager.to_owned()), ..WriteOptions::default() }
}

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The value with every object's keys in order, so that equal templates hash the same.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, x)| (k.clone(), canonical(x))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn short_hash(v: &Value) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in serde_json::to_vec(&canonical(v)).unwrap_or_default() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    // Kubernetes' pod-template-hash alphabet: no vowels, no ambiguous characters.
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10).map(|i| ALPHABET[((h >> (i * 6)) % ALPHABET.len() as u64) as usize] as char).collect()
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let u = uuid::Uuid::new_v4();
    u.as_bytes()[..5].iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

fn owner_ref(owner: &Value, rt: &ResourceType) -> Value {
    json!({"apiVersion": rt.api_version(), "kind": rt.kind, "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true})
}

fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid && r["controller"] == true))
}

impl Sim {
    async fn run(self, mut timers: mpsc::UnboundedReceiver<Key>) {
        loop {
            let (_, mut changes) = match self.store.watch_from(self.store.resource_version()) {
                Ok(x) => x,
                Err(_) => return,
            };
            self.resync();
            loop {
                let key = tokio::select! {
                    c = changes.recv() => match c {
                        Ok(c) => {
                            let view = &c.object.view;
                            let ns = s(view, "/metadata/namespace").to_owned();
                            let name = s(view, "/metadata/name").to_owned();
                            self.on_change(c.resource, c.kind, ns, name, view);
                            continue;
                        }
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    },
                    k = timers.recv() => match k {
                        Some(k) => k,
                        None => return,
                    },
                };
                self.reconcile_at(&key, true);
            }
        }
    }

    /// Everything once: after a start, or after falling behind the change feed.
    fn resync(&self) {
        for rt in [&DEPLOYMENTS, &REPLICASETS, &DAEMONSETS, &STATEFULSETS, &PODS] {
            let (items, _) = self.store.list_stored(rt, None, &LabelSelector::default(), &FieldSelector::default());
            for i in items {
                let key = (rt, s(&i.view, "/metadata/namespace").to_owned(), s(&i.view, "/metadata/name").to_owned());
                self.reconcile_at(&key, true);
            }
        }
    }

    fn on_change(&self, rt: &'static ResourceType, kind: ChangeKind, ns: String, name: String, view: &Value) {
        if kind == ChangeKind::Deleted {
            self.parsed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(s(view, "/metadata/uid"));
        }
        if is(rt, &DEPLOYMENTS) || is(rt, &REPLICASETS) || is(rt, &DAEMONSETS) || is(rt, &STATEFULSETS) {
            if kind != ChangeKind::Deleted {
                self.reconcile(&(rt, ns.clone(), name));
            }
        } else if is(rt, &PODS) {
            if kind != ChangeKind::Deleted {
                self.reconcile(&(rt, ns.clone(), name.clone()));
            } else {
                self.store.logs.forget_pod(&ns, &name);
            }
        } else if is(rt, &CONFIGMAPS) && kind == ChangeKind::Added {
            // Pods waiting for this ConfigMap can start.
            let (pods, _) =
                self.store.list_stored(&PODS, Some(&ns), &LabelSelector::default(), &FieldSelector::default());
            for p in pods {
                if s(&p.view, "/status/phase") == "Pending" {
                    self.reconcile(&(&PODS, ns.clone(), s(&p.view, "/metadata/name").to_owned()));
                }
            }
        } else if is(rt, &NODES) && kind != ChangeKind::Modified {
            let (sets, _) =
                self.store.list_stored(&DAEMONSETS, None, &LabelSelector::default(), &FieldSelector::default());
            for d in sets {
                self.reconcile(&(
                    &DAEMONSETS,
                    s(&d.view, "/metadata/namespace").to_owned(),
                    s(&d.view, "/metadata/name").to_owned(),
                ));
            }
        }
        // Workloads follow their pods' readiness.
        if is(rt, &PODS) || is(rt, &REPLICASETS) {
            for owner in view.pointer("/metadata/ownerReferences").and_then(Value::as_array).into_iter().flatten() {
                let owner_rt = match owner["kind"].as_str() {
                    Some("ReplicaSet") => &REPLICASETS,
                    Some("Deployment") => &DEPLOYMENTS,
                    Some("DaemonSet") => &DAEMONSETS,
                    Some("StatefulSet") => &STATEFULSETS,
                    _ => continue,
                };
                self.reconcile(&(owner_rt, ns.clone(), owner["name"].as_str().unwrap_or("").to_owned()));
            }
        }
    }

    fn after(&self, delay: Duration, key: Key) {
        let tx = self.timers.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(key);
        });
    }

    fn reconcile(&self, key: &Key) {
        self.reconcile_at(key, false);
    }

    /// Reconciles one object; `tick` when a timer asked for it (time-driven transitions such as
    /// a back-off happen only then, not on every change).
    fn reconcile_at(&self, key: &Key, tick: bool) {
        let (rt, ns, name) = key;
        let Ok(stored) = self.store.get_stored(rt, Some(ns), name) else { return };
        let obj = self.parse(&stored);
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            return;
        }
        if is(rt, &DEPLOYMENTS) {
            self.deployment(&obj);
        } else if is(rt, &REPLICASETS) {
            self.replica_set(&obj);
        } else if is(rt, &DAEMONSETS) {
            self.daemon_set(&obj);
        } else if is(rt, &STATEFULSETS) {
            self.stateful_set(&obj);
        } else if is(rt, &PODS) {
            self.kubelet(&obj, tick);
        }
    }

    fn children(&self, rt: &'static ResourceType, owner: &Value) -> Vec<Arc<Value>> {
        let ns = s(owner, "/metadata/namespace");
        let uid = s(owner, "/metadata/uid");
        let (items, _) = self.store.list_stored(rt, Some(ns), &LabelSelector::default(), &FieldSelector::default());
        items.iter().filter(|i| owned_by(&i.view, uid)).map(|i| self.parse(i)).collect()
    }

    /// An object of the store, parsed once per version: the controllers read the same
    /// ReplicaSets and pods on every change of a rollout, and parsing them each time was most of
    /// its cost.
    fn parse(&self, stored: &Stored) -> Arc<Value> {
        let uid = s(&stored.view, "/metadata/uid");
        let rv = s(&stored.view, "/metadata/resourceVersion");
        let mut parsed = self.parsed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, v)) = parsed.get(uid) {
            if at == rv {
                return v.clone();
            }
        }
        let v = Arc::new(stored.value());
        parsed.insert(uid.to_owned(), (rv.to_owned(), v.clone()));
        v
    }

    fn event(
        &self,
        about: &Value,
        kind: &str,
        reason: &str,
        message: String,
        component: &str,
        field_path: Option<&str>,
    ) {
        let ns = s(about, "/metadata/namespace");
        let ns = if ns.is_empty() { "default" } else { ns };
        let name = s(about, "/metadata/name");
        let mut involved = json!({"kind": about["kind"], "namespace": ns, "name": name, "uid": about["metadata"]["uid"],
            "apiVersion": about["apiVersion"], "resourceVersion": about["metadata"]["resourceVersion"]});
        if let Some(fp) = field_path {
            involved["fieldPath"] = json!(fp);
        }
        let host = s(about, "/spec/nodeName");
        let t = now();
        let mut source = json!({"component": component});
        if component == "kubelet" && !host.is_empty() {
            source["host"] = json!(host);
        }
        let ev = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.{}", &uuid::Uuid::new_v4().simple().to_string()[..16]), "namespace": ns},
            "involvedObject": involved, "reason": reason, "message": message, "type": kind,
            "source": source, "firstTimestamp": t, "lastTimestamp": t, "count": 1,
            "reportingComponent": component, "reportingInstance": host});
        if let Err(e) = self.store.create(&EVENTS, Some(ns), ev, &WriteOptions::default()) {
            tracing::debug!(error = %e, "could not record an event");
        }
    }

    /// An event the kubelet records about one container of a pod.
    fn container_event(&self, pod: &Value, kind: &str, reason: &str, message: String, field_path: &str) {
        self.event(pod, kind, reason, message, "kubelet", Some(field_path));
    }

    fn write_status(&self, rt: &'static ResourceType, obj: &Value, status: Value, manager: &str) {
        if obj.get("status") == Some(&status) {
            return;
        }
        let mut next = obj.clone();
        next["status"] = status;
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        if let Err(e) = self.store.update(rt, ns, s(obj, "/metadata/name"), next, true, &opts(manager)) {
            tracing::debug!(error = %e, "status not written");
        }
    }

    fn pod_from_template(
        &self,
        owner: &Value,
        rt: &ResourceType,
        name: &str,
        extra_labels: Value,
        node: Option<&str>,
    ) -> Value {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": owner.pointer("/spec/template/metadata").cloned().unwrap_or(json!({})),
            "spec": owner.pointer("/spec/template/spec").cloned().unwrap_or(json!({}))});
        pod["metadata"]["name"] = json!(name);
        pod["metadata"]["ownerReferences"] = json!([owner_ref(owner, rt)]);
        for (k, v) in extra_labels.as_object().into_iter().flatten() {
            pod["metadata"]["labels"][k] = v.clone();
        }
        if let Some(n) = node {
            pod["spec"]["nodeName"] = json!(n);
        }
        pod
    }

    fn create_pod(&self, owner: &Value, pod: Value, manager: &str) {
        let ns = s(owner, "/metadata/namespace");
        match self.store.create(&PODS, Some(ns), pod, &opts(manager)) {
            Ok(w) => self.event(
                owner,
                "Normal",
                "SuccessfulCreate",
                format!("Created pod: {}", s(&w.object, "/metadata/name")),
                manager,
                None,
            ),
            Err(e) => self.event(owner, "Warning", "FailedCreate", format!("Error creating: {e}"), manager, None),
        }
    }

    fn delete_pod(&self, owner: &Value, pod: &Value, manager: &str) {
        let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str);
        let name = s(pod, "/metadata/name");
        // The kubelet runs each running container's preStop hook before it stops it.
        for c in pod.pointer("/spec/containers").and_then(Value::as_array).into_iter().flatten() {
            let running = pod
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|st| st["name"] == c["name"] && st.pointer("/state/running").is_some());
            if let (true, Some(why)) = (running, hook_failure(pod, c, "preStop")) {
                let field_path = format!("spec.containers{{{}}}", s(c, "/name"));
                self.container_event(pod, "Warning", "FailedPreStopHook", why, &field_path);
            }
        }
        let gone =
            self.store.delete(&PODS, ns, name, &Preconditions::default(), &opts(manager), Propagation::Background);
        if gone.is_ok() {
            self.event(owner, "Normal", "SuccessfulDelete", format!("Deleted pod: {name}"), manager, None);
        }
    }

    fn pod_counts(pods: &[Arc<Value>]) -> (i64, i64) {
        let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
        (pods.len() as i64, ready)
    }

    // --- Deployment: one ReplicaSet per template; the current one gets the replicas. ---
    fn deployment(&self, d: &Value) {
        let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = short_hash(&template);
        let name = s(d, "/metadata/name");
        let replicas = d.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let sets = self.children(&REPLICASETS, d);
        let current_name = format!("{name}-{hash}");
        if !sets.iter().any(|r| s(r, "/metadata/name") == current_name) {
            // Created empty; the rollout below sizes it.
            let mut rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": current_name, "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                    "annotations": {"deployment.kubernetes.io/revision": (max_revision(&sets) + 1).to_string()},
                    "ownerReferences": [owner_ref(d, &DEPLOYMENTS)]},
                "spec": {"replicas": 0, "selector": d.pointer("/spec/selector").cloned().unwrap_or(json!({})),
                    "template": template}});
            rs["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] = json!(hash);
            let ns = d.pointer("/metadata/namespace").and_then(Value::as_str);
            if let Err(e) = self.store.create(&REPLICASETS, ns, rs, &opts("deployment-controller")) {
                tracing::debug!(error = %e, "replica set not created");
            }
        }
        let sets = self.children(&REPLICASETS, d);
        let current = sets.iter().find(|r| s(r, "/metadata/name") == current_name).cloned();
        let targets = rollout(d, replicas, &current_name, &sets);
        for rs in &sets {
            let rs_name = s(rs, "/metadata/name");
            let want = targets.get(rs_name).copied().unwrap_or(0);
            let have = rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            if have != want {
                let mut next = Value::clone(rs);
                next["spec"]["replicas"] = json!(want);
                let ns = rs.pointer("/metadata/namespace").and_then(Value::as_str);
                if self.store.update(&REPLICASETS, ns, rs_name, next, false, &opts("deployment-controller")).is_ok() {
                    let verb = if want > have { "up" } else { "down" };
                    self.event(
                        d,
                        "Normal",
                        "ScalingReplicaSet",
                        format!("Scaled {verb} replica set {rs_name} from {have} to {want}"),
                        "deployment-controller",
                        None,
                    );
                }
            }
        }
        // Old, empty ReplicaSets beyond `revisionHistoryLimit` go, oldest first.
        let limit = d.pointer("/spec/revisionHistoryLimit").and_then(Value::as_i64).unwrap_or(10).max(0) as usize;
        let mut empty: Vec<&Arc<Value>> = sets
            .iter()
            .filter(|rs| s(rs, "/metadata/name") != current_name)
            .filter(|rs| targets.get(s(rs, "/metadata/name")).copied().unwrap_or(0) == 0)
            .filter(|rs| rs.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0) == 0)
            .collect();
        empty.sort_by_key(|rs| {
            rs.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
                .and_then(Value::as_str)
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
        });
        if empty.len() > limit {
            for rs in &empty[..empty.len() - limit] {
                let ns = rs.pointer("/metadata/namespace").and_then(Value::as_str);
                let _ = self.store.delete(
                    &REPLICASETS,
                    ns,
                    s(rs, "/metadata/name"),
                    &Preconditions::default(),
                    &opts("deployment-controller"),
                    Propagation::Background,
                );
            }
        }
        let n = |rs: &Value, f: &str| rs.pointer(&format!("/status/{f}")).and_then(Value::as_i64).unwrap_or(0);
        // The statuses after this round's scaling and clean-up.
        let sets = self.children(&REPLICASETS, d);
        let total: i64 = sets.iter().map(|r| n(r, "replicas")).sum();
        let (updated, ready) = current.as_ref().map_or((0, 0), |c| (n(c, "replicas"), n(c, "readyReplicas")));
        let all_ready: i64 = sets.iter().map(|r| n(r, "readyReplicas")).sum();
        let available = all_ready;
        let progressing_done = updated == replicas && total == replicas && ready == replicas;
        let t = d
            .pointer("/status/conditions/0/lastTransitionTime")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(now);
        let status = json!({
            "observedGeneration": d["metadata"]["generation"],
            "replicas": total, "updatedReplicas": updated, "readyReplicas": all_ready, "availableReplicas": available,
            "unavailableReplicas": (replicas - available).max(0),
            "conditions": [
                {"type": "Available", "status": if available >= replicas { "True" } else { "False" },
                 "reason": if available >= replicas { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                 "message": if available >= replicas { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." },
                 "lastUpdateTime": t, "lastTransitionTime": t},
                {"type": "Progressing", "status": "True",
                 "reason": if progressing_done { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" },
                 "message": if progressing_done { format!("ReplicaSet \"{current_name}\" has successfully progressed.") } else { format!("ReplicaSet \"{current_name}\" is progressing.") },
                 "lastUpdateTime": t, "lastTransitionTime": t}
            ]
        });
        let mut status = status;
        if let Some(m) = status.as_object_mut() {
            if m["unavailableReplicas"] == 0 {
                m.remove("unavailableReplicas");
            }
        }
        self.write_status(&DEPLOYMENTS, d, status, "deployment-controller");
    }

    // --- ReplicaSet: `replicas` pods from the template. ---
    fn replica_set(&self, rs: &Value) {
        let name = s(rs, "/metadata/name");
        let replicas = rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let pods = self.children(&PODS, rs);
        let have = pods.len() as i64;
        for _ in have..replicas {
            let pod = self.pod_from_template(rs, &REPLICASETS, &format!("{name}-{}", random_suffix()), json!({}), None);
            self.create_pod(rs, pod, "replicaset-controller");
        }
        if have > replicas {
            // Not-ready pods go first, then the newest.
            let mut doomed = pods.clone();
            doomed.sort_by_key(|p| (pod_ready(p), std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_owned())));
            for p in doomed.iter().take((have - replicas) as usize) {
                self.delete_pod(rs, p, "replicaset-controller");
            }
        }
        let pods = self.children(&PODS, rs);
        let (count, ready) = Self::pod_counts(&pods);
        let status = json!({"replicas": count, "fullyLabeledReplicas": count, "readyReplicas": ready,
            "availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"]});
        self.write_status(&REPLICASETS, rs, status, "replicaset-controller");
    }

    // --- DaemonSet: one pod per node, replaced when the template changes. ---
    fn daemon_set(&self, ds: &Value) {
        let hash = short_hash(&ds.pointer("/spec/template").cloned().unwrap_or(json!({})));
        let name = s(ds, "/metadata/name");
        let pods = self.children(&PODS, ds);
        let nodes: Vec<String> = {
            let (items, _) = self.store.list_stored(&NODES, None, &LabelSelector::default(), &FieldSelector::default());
            items.iter().map(|n| s(&n.view, "/metadata/name").to_owned()).collect()
        };
        for p in &pods {
            let stale = s(p, "/metadata/labels/controller-revision-hash") != hash;
            if stale || !nodes.iter().any(|n| n == s(p, "/spec/nodeName")) {
                self.delete_pod(ds, p, "daemonset-controller");
            }
        }
        let pods = self.children(&PODS, ds);
        for node in &nodes {
            if !pods.iter().any(|p| s(p, "/spec/nodeName") == node) {
                let pod = self.pod_from_template(
                    ds,
                    &DAEMONSETS,
                    &format!("{name}-{}", random_suffix()),
                    json!({"controller-revision-hash": hash}),
                    Some(node),
                );
                self.create_pod(ds, pod, "daemonset-controller");
            }
        }
        let pods = self.children(&PODS, ds);
        let (count, ready) = Self::pod_counts(&pods);
        let updated = pods.iter().filter(|p| s(p, "/metadata/labels/controller-revision-hash") == hash).count();
        let status = json!({"desiredNumberScheduled": nodes.len(), "currentNumberScheduled": count,
            "numberReady": ready, "updatedNumberScheduled": updated, "numberAvailable": ready,
            "numberMisscheduled": 0, "observedGeneration": ds["metadata"]["generation"]});
        self.write_status(&DAEMONSETS, ds, status, "daemonset-controller");
    }

    // --- StatefulSet: pods NAME-0 … NAME-(n-1), replaced when the template changes. ---
    fn stateful_set(&self, sts: &Value) {
        let revision = format!(
            "{}-{}",
            s(sts, "/metadata/name"),
            short_hash(&sts.pointer("/spec/template").cloned().unwrap_or(json!({})))
        );
        let name = s(sts, "/metadata/name");
        let replicas = sts.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
        let pods = self.children(&PODS, sts);
        for p in &pods {
            let ordinal =
                s(p, "/metadata/name").rsplit('-').next().and_then(|o| o.parse::<i64>().ok()).unwrap_or(i64::MAX);
            if ordinal >= replicas || s(p, "/metadata/labels/controller-revision-hash") != revision {
                self.delete_pod(sts, p, "statefulset-controller");
            }
        }
        let pods = self.children(&PODS, sts);
        for i in 0..replicas {
            let pod_name = format!("{name}-{i}");
            if !pods.iter().any(|p| s(p, "/metadata/name") == pod_name) {
                let labels = json!({"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name,
                    "apps.kubernetes.io/pod-index": i.to_string()});
                let pod = self.pod_from_template(sts, &STATEFULSETS, &pod_name, labels, None);
                self.create_pod(sts, pod, "statefulset-controller");
            }
        }
        let pods = self.children(&PODS, sts);
        let (count, ready) = Self::pod_counts(&pods);
        let updated = pods.iter().filter(|p| s(p, "/metadata/labels/controller-revision-hash") == revision).count();
        let status = json!({"replicas": count, "readyReplicas": ready, "currentReplicas": updated,
            "updatedReplicas": updated, "availableReplicas": ready, "currentRevision": revision,
            "updateRevision": revision, "collisionCount": 0, "observedGeneration": sts["metadata"]["generation"]});
        self.write_status(&STATEFULSETS, sts, status, "statefulset-controller");
    }
}

/// The highest `deployment.kubernetes.io/revision` of a Deployment's ReplicaSets.
fn max_revision(sets: &[Arc<Value>]) -> i64 {
    sets.iter()
        .filter_map(|rs| rs.pointer("/metadata/annotations/deployment.kubernetes.io~1revision"))
        .filter_map(|r| r.as_str().and_then(|r| r.parse::<i64>().ok()))
        .max()
        .unwrap_or(0)
}

/// `maxSurge` / `maxUnavailable` as a number of pods: an integer, or a percentage of
/// `replicas` rounded up (surge) or down (unavailable), 25% when absent.
fn pods_of(v: Option<&Value>, replicas: i64, round_up: bool) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(p)) if p.ends_with('%') => {
            let pct: i64 = p.trim_end_matches('%').parse().unwrap_or(25);
            let x = replicas * pct;
            if round_up {
                (x + 99) / 100
            } else {
                x / 100
            }
        }
        _ => pods_of(Some(&json!("25%")), replicas, round_up),
    }
}

/// The replicas each ReplicaSet of a Deployment should have now, as Kubernetes' deployment
/// controller decides one step of a rollout: the new one grows while the total stays within
/// `replicas + maxSurge`; old ones shrink while `replicas - maxUnavailable` pods stay available
/// (unavailable old pods go first). `Recreate` empties the old ones before the new one grows.
fn rollout(d: &Value, replicas: i64, new_name: &str, sets: &[Arc<Value>]) -> HashMap<String, i64> {
    let spec_of = |rs: &Value| rs.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    let status = |rs: &Value, f: &str| rs.pointer(&format!("/status/{f}")).and_then(Value::as_i64).unwrap_or(0);
    let mut targets: HashMap<String, i64> =
        sets.iter().map(|rs| (s(rs, "/metadata/name").to_owned(), spec_of(rs))).collect();
    let olds: Vec<&Arc<Value>> = sets.iter().filter(|rs| s(rs, "/metadata/name") != new_name).collect();
    let new_spec = targets.get(new_name).copied().unwrap_or(0);
    if s(d, "/spec/strategy/type") == "Recreate" {
        for o in &olds {
            targets.insert(s(o, "/metadata/name").to_owned(), 0);
        }
        let old_pods: i64 = olds.iter().map(|o| status(o, "replicas")).sum();
        targets.insert(new_name.to_owned(), if old_pods == 0 { replicas } else { new_spec.min(replicas) });
        return targets;
    }
    let surge = pods_of(d.pointer("/spec/strategy/rollingUpdate/maxSurge"), replicas, true);
    let mut unavailable = pods_of(d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), replicas, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    let total: i64 = sets.iter().map(|rs| spec_of(rs)).sum();
    let mut new_target = new_spec.min(replicas);
    if new_spec < replicas {
        new_target = (new_spec + (replicas + surge - total).max(0)).min(replicas);
    }
    targets.insert(new_name.to_owned(), new_target);
    let available: i64 = sets.iter().map(|rs| status(rs, "availableReplicas").min(spec_of(rs))).sum();
    let mut removable = (available - (replicas - unavailable)).max(0);
    for o in &olds {
        let have = spec_of(o);
        let healthy = status(o, "availableReplicas").min(have);
        let down = (have - healthy) + healthy.min(removable);
        removable -= healthy.min(removable);
        targets.insert(s(o, "/metadata/name").to_owned(), have - down);
    }
    targets
}

fn pod_ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

impl Sim {
    fn least_loaded_node(&self) -> String {
        let (pods, _) = self.store.list_stored(&PODS, None, &LabelSelector::default(), &FieldSelector::default());
        let mut load: HashMap<&str, usize> = NODES_NAMES.iter().map(|n| (*n, 0)).collect();
        for p in &pods {
            if let Some(c) = load.get_mut(s(&p.view, "/spec/nodeName")) {
                *c += 1;
            }
        }
        NODES_NAMES.iter().min_by_key(|n| load[**n]).map(|n| (*n).to_owned()).unwrap_or_default()
    }

    fn image_known(&self, image: &str) -> bool {
        let repo = repository(image);
        self.images.iter().any(|i| i == repo)
    }

    /// The scheduler and the kubelet for one pod.
    fn kubelet(&self, pod: &Value, tick: bool) {
        let ns = s(pod, "/metadata/namespace").to_owned();
        let name = s(pod, "/metadata/name").to_owned();
        let key: Key = (&PODS, ns.clone(), name.clone());
        let mut pod = pod.clone();
        if s(&pod, "/spec/nodeName").is_empty() {
            let node = self.least_loaded_node();
            let mut next = pod.clone();
            next["spec"]["nodeName"] = json!(node);
            match self.store.update(&PODS, Some(&ns), &name, next, false, &opts("default-scheduler")) {
                Ok(w) => {
                    self.event(
                        &w.object,
                        "Normal",
                        "Scheduled",
                        format!("Successfully assigned {ns}/{name} to {node}"),
                        "default-scheduler",
                        None,
                    );
                    pod = w.object;
                }
                Err(_) => return,
            }
        }
        let node = s(&pod, "/spec/nodeName").to_owned();
        let node_index = NODES_NAMES.iter().position(|n| *n == node).unwrap_or(0);
        // Volumes first: a missing ConfigMap keeps every container from being created.
        let missing: Vec<(String, String)> = pod
            .pointer("/spec/volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let cm = v.get("configMap")?;
                let cm_name = cm["name"].as_str()?;
                let optional = cm["optional"] == true;
                (!optional && self.store.get(&CONFIGMAPS, Some(&ns), cm_name).is_err())
                    .then(|| (v["name"].as_str().unwrap_or("").to_owned(), cm_name.to_owned()))
            })
            .collect();
        let previous: HashMap<String, Value> = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| (c["name"].as_str().unwrap_or("").to_owned(), c.clone()))
            .collect();
        let started_at =
            pod.pointer("/status/startTime").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(now);
        let mut statuses = Vec::new();
        let mut emitted = BTreeSet::new();
        let containers = pod.pointer("/spec/containers").and_then(Value::as_array).cloned().unwrap_or_default();
        for c in &containers {
            let cname = c["name"].as_str().unwrap_or("").to_owned();
            let image = c["image"].as_str().unwrap_or("").to_owned();
            let field_path = format!("spec.containers{{{cname}}}");
            let prev = previous.get(&cname);
            let prev_reason =
                prev.and_then(|p| p.pointer("/state/waiting/reason")).and_then(Value::as_str).unwrap_or("");
            let was_running = prev.is_some_and(|p| p.pointer("/state/running").is_some());
            let base = json!({"name": cname, "image": image, "imageID": "", "restartCount": prev.and_then(|p| p["restartCount"].as_i64()).unwrap_or(0), "started": false, "ready": false});
            let mut st = base.clone();
            let waiting_for_time = matches!(prev_reason, "ErrImagePull" | "CrashLoopBackOff");
            if waiting_for_time
                && !tick
                && missing.is_empty()
                && (prev_reason == "CrashLoopBackOff" || !self.image_known(&image))
            {
                // Nothing happens to a failing container until its next attempt.
                if let Some(p) = prev {
                    statuses.push(p.clone());
                    continue;
                }
            }
            if !missing.is_empty() {
                st["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
                if emitted.insert("mount") && prev_reason != "ContainerCreating" {
                    for (vol, cm) in &missing {
                        self.event(
                            &pod,
                            "Warning",
                            "FailedMount",
                            format!("MountVolume.SetUp failed for volume \"{vol}\" : configmap \"{cm}\" not found"),
                            "kubelet",
                            None,
                        );
                    }
                }
            } else if !self.image_known(&image) {
                match prev_reason {
                    "ErrImagePull" | "ImagePullBackOff" => {
                        st["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}});
                        if prev_reason == "ErrImagePull" {
                            self.container_event(
                                &pod,
                                "Normal",
                                "BackOff",
                                format!("Back-off pulling image \"{image}\""),
                                &field_path,
                            );
                            self.container_event(
                                &pod,
                                "Warning",
                                "Failed",
                                "Error: ImagePullBackOff".into(),
                                &field_path,
                            );
                        }
                    }
                    _ => {
                        let reference =
                            if image.contains('/') { image.clone() } else { format!("docker.io/library/{image}") };
                        let why = format!("failed to pull and unpack image \"{reference}\": failed to resolve reference \"{reference}\": {reference}: not found");
                        st["state"] = json!({"waiting": {"reason": "ErrImagePull", "message": format!("rpc error: code = NotFound desc = {why}")}});
                        self.container_event(
                            &pod,
                            "Normal",
                            "Pulling",
                            format!("Pulling image \"{image}\""),
                            &field_path,
                        );
                        self.container_event(
                            &pod,
                            "Warning",
                            "Failed",
                            format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = {why}"),
                            &field_path,
                        );
                        self.container_event(&pod, "Warning", "Failed", "Error: ErrImagePull".into(), &field_path);
                        self.after(Duration::from_secs(2), key.clone());
                    }
                }
            } else if let Some(hook) = fails(c).then_some(None).or_else(|| hook_failure(&pod, c, "postStart").map(Some))
            {
                let restarts = prev.and_then(|p| p["restartCount"].as_i64()).unwrap_or(-1) + 1;
                st["restartCount"] = json!(restarts.max(0));
                st["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={cname} pod={name}", backoff(restarts).as_secs())}});
                // A failed postStart hook has the kubelet kill the container (SIGKILL: 137).
                let exit_code = if hook.is_some() { 137 } else { 1 };
                st["lastState"] = json!({"terminated": {"exitCode": exit_code, "reason": "Error", "startedAt": now(), "finishedAt": now()}});
                if let (Some(why), true) = (&hook, prev_reason != "CrashLoopBackOff" || restarts > 0) {
                    self.container_event(&pod, "Normal", "Created", format!("Created container: {cname}"), &field_path);
                    self.container_event(&pod, "Normal", "Started", format!("Started container {cname}"), &field_path);
                    self.container_event(&pod, "Warning", "FailedPostStartHook", why.clone(), &field_path);
                    self.container_event(&pod, "Normal", "Killing", "FailedPostStartHook".into(), &field_path);
                }
                if prev_reason != "CrashLoopBackOff" || restarts > 0 {
                    self.container_event(
                        &pod,
                        "Warning",
                        "BackOff",
                        format!(
                            "Back-off restarting failed container {cname} in pod {name}_{ns}({})",
                            s(&pod, "/metadata/uid")
                        ),
                        &field_path,
                    );
                }
                if restarts < 6 {
                    // The next restart attempt.
                    self.after(backoff(restarts), key.clone());
                }
                // Each attempt is a new container instance: the last one's log becomes
                // `kubectl logs --previous`.
                let log = (ns.clone(), name.clone(), cname.clone());
                if prev_reason == "CrashLoopBackOff" {
                    self.store.logs.restart(log.clone());
                }
                if hook.is_none() {
                    self.store.logs.append(log, format!("{}: exited with status 1", command_line(c)));
                }
            } else {
                let started =
                    prev.and_then(|p| p.pointer("/state/running/startedAt")).cloned().unwrap_or_else(|| json!(now()));
                let delay = c.pointer("/readinessProbe/initialDelaySeconds").and_then(Value::as_u64).unwrap_or(0);
                let running_for = started
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map_or(0, |t| (jiff::Timestamp::now().as_second() - t.as_second()).max(0) as u64);
                let ready = running_for >= delay;
                st["state"] = json!({"running": {"startedAt": started}});
                st["started"] = json!(true);
                st["ready"] = json!(ready);
                st["imageID"] = json!(format!(
                    "docker.io/{}@sha256:{}",
                    repository(&image),
                    short_hash(&json!(image)).repeat(6).chars().take(64).collect::<String>()
                ));
                st["containerID"] = json!(format!("containerd://{}", uuid::Uuid::new_v4().simple()));
                if !was_running {
                    if prev.and_then(|p| p.get("containerID")).is_some() {
                        st["containerID"] = prev.map(|p| p["containerID"].clone()).unwrap_or_default();
                    }
                    self.container_event(
                        &pod,
                        "Normal",
                        "Pulled",
                        format!("Container image \"{image}\" already present on machine"),
                        &field_path,
                    );
                    self.container_event(&pod, "Normal", "Created", format!("Created container: {cname}"), &field_path);
                    self.container_event(&pod, "Normal", "Started", format!("Started container {cname}"), &field_path);
                    for line in startup_log(&image, &cname) {
                        self.store.logs.append((ns.clone(), name.clone(), cname.clone()), line);
                    }
                } else if let Some(id) = prev.and_then(|p| p.get("containerID")) {
                    st["containerID"] = id.clone();
                    st["imageID"] = prev.map(|p| p["imageID"].clone()).unwrap_or_default();
                }
                if !ready {
                    self.after(Duration::from_secs(delay.saturating_sub(running_for)), key.clone());
                }
            }
            statuses.push(st);
        }
        let all_ready = !statuses.is_empty() && statuses.iter().all(|c| c["ready"] == true);
        let all_running = !statuses.is_empty() && statuses.iter().all(|c| c.pointer("/state/running").is_some());
        let phase = if all_running { "Running" } else { "Pending" };
        let cond = |t: &str, ok: bool| {
            let old = pod
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c["type"] == t))
                .cloned();
            let status = if ok { "True" } else { "False" };
            let since = old
                .filter(|o| o["status"] == status)
                .and_then(|o| o.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now()));
            let mut c = json!({"type": t, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
            if !ok && (t == "Ready" || t == "ContainersReady") {
                let waiting: Vec<&str> =
                    statuses.iter().filter(|c| c["ready"] != true).filter_map(|c| c["name"].as_str()).collect();
                c["reason"] = json!("ContainersNotReady");
                c["message"] = json!(format!("containers with unready status: [{}]", waiting.join(" ")));
            }
            c
        };
        let mut status = json!({
            "phase": phase,
            "conditions": [cond("PodReadyToStartContainers", missing.is_empty()), cond("Initialized", true), cond("Ready", all_ready), cond("ContainersReady", all_ready), cond("PodScheduled", true)],
            "hostIP": format!("10.0.0.{}", node_index + 11),
            "hostIPs": [{"ip": format!("10.0.0.{}", node_index + 11)}],
            "startTime": started_at,
            "containerStatuses": statuses,
            "qosClass": pod.pointer("/status/qosClass").cloned().unwrap_or(json!("BestEffort")),
        });
        if missing.is_empty() {
            let ip = pod.pointer("/status/podIP").cloned().unwrap_or_else(|| {
                let b = uuid::Uuid::new_v4();
                json!(format!("10.244.{}.{}", node_index, 2 + b.as_bytes()[0] % 250))
            });
            status["podIP"] = ip.clone();
            status["podIPs"] = json!([{"ip": ip}]);
        }
        self.write_status(&PODS, &pod, status, "kubelet");
    }
}

/// Crash-loop back-off: 10 s doubling to 5 min.
fn backoff(restarts: i64) -> Duration {
    Duration::from_secs((10u64 << restarts.clamp(0, 5)).min(300))
}

fn command_line(c: &Value) -> String {
    let words: Vec<&str> = ["command", "args"]
        .iter()
        .flat_map(|f| c.get(*f).and_then(Value::as_array).into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    words.join(" ")
}

/// Commands that exit at once with a failure, as the simulated runtime treats them.
fn fails(c: &Value) -> bool {
    let line = command_line(c);
    let first = c.pointer("/command/0").and_then(Value::as_str).unwrap_or("");
    matches!(first, "false" | "/bin/false") || line.contains("exit 1")
}

/// Why container `c`'s lifecycle hook `which` (`postStart`, `preStop`) fails, in the kubelet's
/// words: an `exec` of a failing command (as [`fails`] judges one), an `httpGet` or `tcpSocket`
/// to a port name the container does not declare. A `sleep` always succeeds.
fn hook_failure(pod: &Value, c: &Value, which: &str) -> Option<String> {
    let hook = c.pointer(&format!("/lifecycle/{which}"))?;
    let target = format!(
        "for Container \"{}\" in Pod \"{}_{}({})\"",
        s(c, "/name"),
        s(pod, "/metadata/name"),
        s(pod, "/metadata/namespace"),
        s(pod, "/metadata/uid")
    );
    if let Some(exec) = hook.get("exec") {
        let words: Vec<&str> = exec["command"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let as_container = json!({"command": words});
        return fails(&as_container).then(|| {
            format!(
                "Exec lifecycle hook ({words:?}) {target} failed - error: command '{}' exited with 1: , message: \"\"",
                words.join(" ")
            )
        });
    }
    let declared = |name: &str| c["ports"].as_array().into_iter().flatten().any(|p| p["name"] == name);
    let ip = pod.pointer("/status/podIP").and_then(Value::as_str).unwrap_or("127.0.0.1");
    if let Some(http) = hook.get("httpGet") {
        let port = http["port"].as_str()?;
        return (!declared(port)).then(|| {
            format!("HTTP lifecycle hook ({}) {target} failed - error: port {port:?} not found in container's ports, message: \"\"", s(http, "/path"))
        });
    }
    if let Some(tcp) = hook.get("tcpSocket") {
        let port = tcp["port"].as_str()?;
        return (!declared(port))
            .then(|| format!("TCP lifecycle hook {target} failed - error: dial tcp {ip}: unknown port {port:?}"));
    }
    None
}

/// What a container of this image prints when it starts.
fn startup_log(image: &str, name: &str) -> Vec<String> {
    let repo = repository(image);
    let t = jiff::Timestamp::now().strftime("%Y/%m/%d %H:%M:%S").to_string();
    if repo.ends_with("nginx") {
        vec![
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration".into(),
            "/docker-entrypoint.sh: Configuration complete; ready for start up".into(),
            format!("{t} [notice] 1#1: using the \"epoll\" event method"),
            format!("{t} [notice] 1#1: start worker processes"),
        ]
    } else if repo.contains("envoy") {
        vec![
            format!("[{t}][1][info][main] [source/server/server.cc:430] initializing epoch 0 (base id=0, hot restart version=11.104)"),
            format!("[{t}][1][info][main] [source/server/server.cc:950] all clusters initialized. initializing init manager"),
            format!("[{t}][1][info][main] [source/server/server.cc:1010] starting main dispatch loop"),
        ]
    } else if repo.contains("fluent-bit") || repo.contains("calyptia") {
        vec![
            "Fluent Bit v3.0.7".into(),
            format!("[{t}] [ info] [fluent bit] version=3.0.7, commit=73e72bdf9b, pid=1"),
            format!("[{t}] [ info] [storage] ver=1.5.2, type=memory, sync=normal, checksum=off, max_chunks_up=128"),
            format!("[{t}] [ info] [sp] stream processor started"),
        ]
    } else if repo.contains("opentelemetry-collector") {
        vec![
            format!("{t} info service@v0.104.0/service.go:115 Setting up own telemetry..."),
            format!("{t} info service@v0.104.0/service.go:255 Everything is ready. Begin running and processing data."),
        ]
    } else if repo.starts_with("prom/") || repo.contains("exporter") {
        vec![
            format!("ts={t} caller=main.go:245 level=info msg=\"Starting {name}\""),
            format!("ts={t} caller=main.go:321 level=info msg=\"Accepting connections\""),
        ]
    } else {
        vec![format!("{name} started")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_of_image_references() {
        assert_eq!(repository("nginx"), "nginx");
        assert_eq!(repository("nginx:1.27"), "nginx");
        assert_eq!(repository("docker.io/library/nginx:1.27"), "nginx");
        assert_eq!(repository("envoyproxy/envoy:v1.31.0"), "envoyproxy/envoy");
        assert_eq!(repository("localhost:5000/team/app"), "localhost:5000/team/app");
        assert_eq!(
            repository("ghcr.io/calyptia/core/calyptia-fluent-bit:24.1.1@sha256:abc"),
            "ghcr.io/calyptia/core/calyptia-fluent-bit"
        );
    }

    #[test]
    fn a_rolling_update_keeps_within_surge_and_availability() {
        let d = json!({"spec": {"replicas": 4}});
        let rs = |name: &str, spec: i64, avail: i64| {
            Arc::new(
                json!({"metadata": {"name": name}, "spec": {"replicas": spec}, "status": {"replicas": spec, "availableReplicas": avail}}),
            )
        };
        // 25% of 4: one more pod at most, one fewer available at most.
        let t = rollout(&d, 4, "new", &[rs("old", 4, 4), rs("new", 0, 0)]);
        assert_eq!((t["new"], t["old"]), (1, 3));
        // The new pod is available: one more up, one old down (4 pods, 3 available at least).
        let t = rollout(&d, 4, "new", &[rs("old", 3, 3), rs("new", 1, 1)]);
        assert_eq!((t["new"], t["old"]), (2, 2));
        // New pods not available yet: no old one goes.
        let t = rollout(&d, 4, "new", &[rs("old", 2, 2), rs("new", 3, 1)]);
        assert_eq!((t["new"], t["old"]), (3, 2));
        let t = rollout(&d, 4, "new", &[rs("old", 0, 0), rs("new", 4, 4)]);
        assert_eq!((t["new"], t["old"]), (4, 0));
        let recreate = json!({"spec": {"replicas": 2, "strategy": {"type": "Recreate"}}});
        let t = rollout(&recreate, 2, "new", &[rs("old", 2, 2), rs("new", 0, 0)]);
        assert_eq!((t["new"], t["old"]), (0, 0));
    }

    #[test]
    fn failing_commands_and_back_off() {
        assert!(fails(&json!({"command": ["false"]})));
        assert!(fails(&json!({"command": ["sh", "-c"], "args": ["exit 1"]})));
        assert!(!fails(&json!({"command": ["envoy", "-c", "/etc/envoy/envoy.yaml"]})));
        assert_eq!(backoff(0), Duration::from_secs(10));
        assert_eq!(backoff(3), Duration::from_secs(80));
        assert_eq!(backoff(9), Duration::from_secs(300));
    }
}
