//! Field ownership (`metadata.managedFields`) and server-side apply.
//!
//! Every write records which manager set which fields, in Kubernetes' `FieldsV1` form
//! (`{"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}}}}}`). An apply
//! sets the fields of its configuration, removes the fields its manager applied before and no
//! longer does (unless another manager owns them), and fails with a conflict when it would
//! change a value another manager set, unless forced.

use crate::merge::{ListKind, ListSemantics};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A field path in `FieldsV1` segments: `f:spec`, `k:{"name":"c"}`, `v:"x"`, `.`.
type Path = Vec<String>;

/// One entry of `managedFields`.
#[derive(Clone, Debug)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: Option<String>,
    fields: BTreeSet<Path>,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager && self.operation == operation && self.subresource.as_deref() == subresource
    }
}

/// A refused apply: the fields other managers own, with their values about to change.
#[derive(Debug, Clone)]
pub struct Conflicts(Vec<(String, String)>);

impl Conflicts {
    /// The message and the causes (field, message) of the 409, in Kubernetes' words.
    pub fn describe(&self) -> (String, Vec<(String, String)>) {
        let n = self.0.len();
        let text = if n == 1 {
            format!("conflict with {}: {}", self.0[0].0, self.0[0].1)
        } else {
            let mut managers: Vec<&String> = self.0.iter().map(|(m, _)| m).collect();
            managers.sort();
            managers.dedup();
            let mut b = String::new();
            for m in managers {
                b.push_str(&format!("\nconflicts with {m}:"));
                for (_, p) in self.0.iter().filter(|(x, _)| x == m) {
                    b.push_str(&format!("\n- {p}"));
                }
            }
            b
        };
        let message = format!("Apply failed with {n} conflict{}: {text}", if n == 1 { "" } else { "s" });
        let causes = self.0.iter().map(|(m, p)| (p.clone(), format!("conflict with {m}"))).collect();
        (message, causes)
    }
}

/// The manager as conflict messages name it: `"kubectl-client-side-apply" using apps/v1`.
fn manager_label(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

/// `.spec.containers[name="c"].image`
fn path_string(p: &[String]) -> String {
    let mut s = String::new();
    for seg in p {
        if let Some(f) = seg.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = seg.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = seg.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        }
    }
    s
}

fn read_entries(obj: Option<&Value>) -> Vec<Entry> {
    let Some(list) = obj.and_then(|o| o.pointer("/metadata/managedFields")).and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let mut fields = BTreeSet::new();
            if let Some(tree) = e.get("fieldsV1") {
                tree_paths(tree, &mut Vec::new(), &mut fields);
            }
            Entry {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: s("time"),
                subresource: e.get("subresource").and_then(Value::as_str).map(str::to_owned),
                fields,
            }
        })
        .collect()
}

fn tree_paths(tree: &Value, prefix: &mut Path, out: &mut BTreeSet<Path>) {
    match tree.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, v) in m {
                prefix.push(k.clone());
                tree_paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

fn to_tree(paths: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut node = &mut root;
        for seg in p {
            node = match node.entry(seg.clone()).or_insert_with(|| json!({})) {
                Value::Object(m) => m,
                _ => unreachable!("tree nodes are objects"),
            };
        }
    }
    Value::Object(root)
}

fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": to_tree(&e.fields)});
            if let Some(sub) = &e.subresource {
                v["subresource"] = json!(sub);
            }
            v
        })
        .collect();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// The leaf fields an object sets. Server-owned metadata is not tracked.
fn fields_of(obj: &Value, lists: &dyn ListSemantics) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    let Some(m) = obj.as_object() else { return out };
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for f in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    if let Some(x) = v.get(f) {
                        walk(
                            x,
                            &mut vec!["f:metadata".into(), format!("f:{f}")],
                            &mut vec!["metadata", f],
                            lists,
                            &mut out,
                        );
                    }
                }
            }
            _ => walk(v, &mut vec![format!("f:{k}")], &mut vec![k.as_str()], lists, &mut out),
        }
    }
    out
}

fn item_key(item: &Value, keys: &[String]) -> String {
    let m: Map<String, Value> = keys.iter().filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone()))).collect();
    format!("k:{}", Value::Object(m))
}

fn walk<'a>(
    v: &'a Value,
    path: &mut Path,
    names: &mut Vec<&'a str>,
    lists: &dyn ListSemantics,
    out: &mut BTreeSet<Path>,
) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                path.push(format!("f:{k}"));
                names.push(k);
                walk(x, path, names, lists, out);
                names.pop();
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => match lists.list_kind(names) {
            ListKind::Map(keys) if !keys.is_empty() => {
                for item in items {
                    path.push(item_key(item, &keys));
                    path.push(".".into());
                    out.insert(path.clone());
                    path.pop();
                    walk(item, path, names, lists, out);
                    path.pop();
                }
            }
            ListKind::Set => {
                for item in items {
                    path.push(format!("v:{item}"));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            _ => {
                out.insert(path.clone());
            }
        },
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The value at a field path, if the object has it.
fn value_at<'a>(mut v: &'a Value, path: &[String]) -> Option<&'a Value> {
    for seg in path {
        v = if let Some(f) = seg.strip_prefix("f:") {
            v.get(f)?
        } else if let Some(k) = seg.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(k).ok()?;
            v.as_array()?.iter().find(|i| key.iter().all(|(k, x)| i.get(k) == Some(x)))?
        } else if let Some(x) = seg.strip_prefix("v:") {
            let x: Value = serde_json::from_str(x).ok()?;
            v.as_array()?.iter().find(|i| **i == x)?
        } else {
            v
        };
    }
    Some(v)
}

/// Removes the field at a path (an item, for a path ending in `.`), and the maps that it
/// leaves empty, as Go's `omitempty` would drop them.
fn remove_at(obj: &mut Value, path: &[String]) {
    let path = match path.last().map(String::as_str) {
        Some(".") => &path[..path.len() - 1],
        _ => path,
    };
    remove_in(obj, path);
}

/// Removes `path` below `node`; returns whether `node` is now an empty map.
fn remove_in(node: &mut Value, path: &[String]) -> bool {
    let Some((seg, rest)) = path.split_first() else { return false };
    if rest.is_empty() {
        if let Some(f) = seg.strip_prefix("f:") {
            if let Some(m) = node.as_object_mut() {
                m.remove(f);
            }
        } else if let Some(k) = seg.strip_prefix("k:") {
            if let (Ok(key), Some(a)) = (serde_json::from_str::<Map<String, Value>>(k), node.as_array_mut()) {
                a.retain(|i| !key.iter().all(|(k, x)| i.get(k) == Some(x)));
            }
        } else if let Some(x) = seg.strip_prefix("v:") {
            if let (Ok(x), Some(a)) = (serde_json::from_str::<Value>(x), node.as_array_mut()) {
                a.retain(|i| *i != x);
            }
        }
    } else if let Some(f) = seg.strip_prefix("f:") {
        let emptied = node.get_mut(f).is_some_and(|child| remove_in(child, rest));
        if emptied {
            if let Some(m) = node.as_object_mut() {
                m.remove(f);
            }
        }
    } else if let Some(k) = seg.strip_prefix("k:") {
        let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) else { return false };
        if let Some(item) =
            node.as_array_mut().and_then(|a| a.iter_mut().find(|i| key.iter().all(|(k, x)| i.get(k) == Some(x))))
        {
            remove_in(item, rest);
        }
    }
    node.as_object().is_some_and(Map::is_empty)
}

/// Who is writing: the manager's name, the API version used, and the subresource.
pub struct Writer<'a> {
    /// `fieldManager`.
    pub manager: &'a str,
    /// `apiVersion` of the request.
    pub api_version: &'a str,
    /// `status` for a write to the status subresource.
    pub subresource: Option<&'a str>,
    /// When.
    pub time: &'a str,
}

/// Records an update (create, replace, patch): the manager now owns the fields whose value it
/// set or changed; other managers lose them; removed fields are nobody's.
pub fn track_update(old: Option<&Value>, new: &mut Value, w: &Writer<'_>, lists: &dyn ListSemantics) {
    let mut entries = read_entries(old);
    let before = old.map(|o| fields_of(o, lists)).unwrap_or_default();
    let after = fields_of(new, lists);
    let changed: BTreeSet<Path> = after
        .iter()
        .filter(|p| old.and_then(|o| value_at(o, p)) != value_at(new, p) || !before.contains(*p))
        .cloned()
        .collect();
    let removed: BTreeSet<&Path> = before.difference(&after).collect();
    for e in &mut entries {
        e.fields.retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| e.same_owner(w.manager, "Update", w.subresource)) {
            Some(e) => {
                e.fields.extend(changed);
                e.time = w.time.to_owned();
                e.api_version = w.api_version.to_owned();
            }
            None => entries.push(Entry {
                manager: w.manager.to_owned(),
                operation: "Update".into(),
                api_version: w.api_version.to_owned(),
                time: w.time.to_owned(),
                subresource: w.subresource.map(str::to_owned),
                fields: changed,
            }),
        }
    }
    write_entries(new, &entries);
}

/// Server-side apply of `config` onto `live` (absent for a new object): the object to store, or
/// the conflicts that refuse it.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    w: &Writer<'_>,
    force: bool,
    lists: &dyn ListSemantics,
) -> Result<Value, Conflicts> {
    let mut entries = read_entries(live);
    let new_set = fields_of(config, lists);
    let others = |entries: &[Entry]| -> Vec<usize> {
        (0..entries.len()).filter(|i| !entries[*i].same_owner(w.manager, "Apply", w.subresource)).collect()
    };
    let mut conflicts = Vec::new();
    let mut conflicting: BTreeSet<Path> = BTreeSet::new();
    if let Some(live) = live {
        for p in &new_set {
            let (Some(now), Some(wanted)) = (value_at(live, p), value_at(config, p)) else { continue };
            if now == wanted || p.last().map(String::as_str) == Some(".") {
                continue;
            }
            for i in others(&entries) {
                if entries[i].fields.contains(p) {
                    conflicts.push((manager_label(&entries[i]), path_string(p)));
                    conflicting.insert(p.clone());
                }
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(Conflicts(conflicts));
    }
    let mut result = live.cloned().unwrap_or_else(|| json!({}));
    // Fields this manager applied before and no longer does go, unless someone else owns them.
    let previous = entries
        .iter()
        .find(|e| e.same_owner(w.manager, "Apply", w.subresource))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    for p in previous.difference(&new_set) {
        let item = p.last().map(String::as_str) == Some(".");
        let prefix = if item { &p[..p.len() - 1] } else { &p[..] };
        let owned_elsewhere = others(&entries).iter().any(|i| entries[*i].fields.iter().any(|q| q.starts_with(prefix)))
            || new_set.iter().any(|q| q.starts_with(prefix) && q.len() > prefix.len());
        if !owned_elsewhere {
            remove_at(&mut result, p);
        }
    }
    // A struct field (`readinessProbe.httpGet`) the manager applied before and no longer does
    // goes whole, with the defaults the server filled in below it: structured-merge-diff counts
    // named fields as members of the last applied set (`EnsureNamedFieldsAreMembers`), so that
    // switching a probe from httpGet to tcpSocket leaves no `httpGet.scheme` behind. Top-level
    // fields (`spec`, `metadata`) stay; not all of what is below them is tracked here.
    let under =
        |set: &BTreeSet<Path>, prefix: &[String]| set.iter().any(|q| q.len() > prefix.len() && q.starts_with(prefix));
    let named: BTreeSet<&[String]> = previous
        .iter()
        .flat_map(|p| (2..p.len()).map(move |n| &p[..n]))
        .filter(|prefix| prefix.last().is_some_and(|s| s.starts_with("f:")))
        .collect();
    for prefix in named {
        let applied_now = under(&new_set, prefix);
        let owned_elsewhere = others(&entries).iter().any(|i| under(&entries[*i].fields, prefix));
        if !applied_now && !owned_elsewhere {
            remove_at(&mut result, prefix);
        }
    }
    merge_config(&mut result, config, lists);
    for i in others(&entries) {
        entries[i].fields.retain(|p| !conflicting.contains(p));
    }
    entries.retain(|e| !e.same_owner(w.manager, "Apply", w.subresource));
    entries.push(Entry {
        manager: w.manager.to_owned(),
        operation: "Apply".into(),
        api_version: w.api_version.to_owned(),
        time: w.time.to_owned(),
        subresource: w.subresource.map(str::to_owned),
        fields: new_set,
    });
    write_entries(&mut result, &entries);
    Ok(result)
}

/// Merges an applied configuration: maps field by field, keyed lists item by item, other lists
/// replaced. (The strategic merge without its directives, which an apply does not use.)
fn merge_config(target: &mut Value, config: &Value, lists: &dyn ListSemantics) {
    // A configuration is plain data; any `$patch` keys in it are not directives here, and
    // strategic merge would only fail on items without keys, which apply lists never have.
    if let Err(e) = crate::merge::strategic_merge(target, config, lists) {
        tracing::debug!(error = %e, "apply configuration merged as a whole");
        *target = config.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::Builtin;

    const T: &str = "2026-01-01T00:00:00Z";

    fn writer(m: &str) -> Writer<'_> {
        Writer { manager: m, api_version: "apps/v1", subresource: None, time: T }
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"app": "x"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}})
    }

    #[test]
    fn updates_record_who_set_what() {
        let mut obj = deployment(1, "nginx");
        track_update(None, &mut obj, &writer("kubectl-create"), &Builtin);
        let mf = &obj["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "kubectl-create");
        assert_eq!(mf["operation"], "Update");
        assert!(mf["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"c\"}"]["f:image"]
            .is_object());
        let old = obj.clone();
        let mut new = obj.clone();
        new["spec"]["replicas"] = json!(3);
        track_update(Some(&old), &mut new, &writer("kubectl-scale"), &Builtin);
        let entries = read_entries(Some(&new));
        assert_eq!(entries.len(), 2);
        let scale = entries.iter().find(|e| e.manager == "kubectl-scale").unwrap();
        assert_eq!(scale.fields.iter().map(|p| path_string(p)).collect::<Vec<_>>(), vec![".spec.replicas"]);
    }

    #[test]
    fn apply_conflicts_with_another_managers_value_unless_forced() {
        let mut live = deployment(1, "nginx");
        track_update(None, &mut live, &writer("kubectl-client-side-apply"), &Builtin);
        let config = deployment(2, "nginx");
        let err = apply(Some(&live), &config, &writer("kubectl"), false, &Builtin).unwrap_err();
        let (message, causes) = err.describe();
        assert_eq!(
            message,
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(causes[0].0, ".spec.replicas");
        let forced = apply(Some(&live), &config, &writer("kubectl"), true, &Builtin).unwrap();
        assert_eq!(forced["spec"]["replicas"], 2);
        // Same values are shared, not conflicts.
        assert!(apply(Some(&live), &deployment(1, "nginx"), &writer("kubectl"), false, &Builtin).is_ok());
    }

    #[test]
    fn apply_removes_what_its_manager_no_longer_applies() {
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}},
            "data": {"x": "1", "y": "2"}});
        let first = apply(None, &config, &writer("mgr"), false, &Builtin).unwrap();
        assert_eq!(first["data"]["y"], "2");
        let second_config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}},
            "data": {"x": "1"}});
        let second = apply(Some(&first), &second_config, &writer("mgr"), false, &Builtin).unwrap();
        assert!(second["data"].get("y").is_none());
        assert!(second["metadata"]["labels"].get("b").is_none());
        assert_eq!(second["data"]["x"], "1");
    }

    #[test]
    fn a_struct_no_longer_applied_goes_with_its_defaults() {
        let probe = |handler: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "envoy",
                    "readinessProbe": handler}]}}}})
        };
        let first =
            apply(None, &probe(json!({"httpGet": {"path": "/ready", "port": 9901}})), &writer("op"), false, &Builtin)
                .unwrap();
        // What the server defaults is nobody's field.
        let mut live = first.clone();
        let c = &mut live["spec"]["template"]["spec"]["containers"][0]["readinessProbe"];
        c["httpGet"]["scheme"] = json!("HTTP");
        c["timeoutSeconds"] = json!(1);
        let out =
            apply(Some(&live), &probe(json!({"tcpSocket": {"port": 9901}})), &writer("op"), false, &Builtin).unwrap();
        let p = &out["spec"]["template"]["spec"]["containers"][0]["readinessProbe"];
        assert_eq!(*p, json!({"tcpSocket": {"port": 9901}, "timeoutSeconds": 1}), "{p}");

        // A struct another manager still owns a field of stays, with that field.
        let mut shared = live.clone();
        let mut entries = read_entries(Some(&shared));
        entries.push(Entry {
            manager: "kubectl-edit".into(),
            operation: "Update".into(),
            api_version: "apps/v1".into(),
            time: T.into(),
            subresource: None,
            fields: [["f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"c\"}", "f:readinessProbe"]
                .iter()
                .map(|s| s.to_string())
                .chain(["f:httpGet".into(), "f:scheme".into()])
                .collect()]
            .into(),
        });
        write_entries(&mut shared, &entries);
        let out =
            apply(Some(&shared), &probe(json!({"tcpSocket": {"port": 9901}})), &writer("op"), false, &Builtin).unwrap();
        let p = &out["spec"]["template"]["spec"]["containers"][0]["readinessProbe"];
        assert_eq!(p["httpGet"], json!({"scheme": "HTTP"}), "{p}");
    }

    #[test]
    fn apply_merges_keyed_items_of_other_managers() {
        let mut live = deployment(1, "nginx");
        track_update(None, &mut live, &writer("operator"), &Builtin);
        let config = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "envoy"}]}}}});
        let out = apply(Some(&live), &config, &writer("me"), false, &Builtin).unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["c", "side"]);
        // Dropping the item from the configuration removes it; the other manager's stays.
        let none = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        let out = apply(Some(&out), &none, &writer("me"), false, &Builtin).unwrap();
        assert_eq!(out["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
    }
}
