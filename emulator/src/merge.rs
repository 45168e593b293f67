//! Strategic merge patch (Kubernetes' `application/strategic-merge-patch+json`) and the list
//! semantics it shares with server-side apply: which lists merge their items by a key
//! (containers by `name`, volume mounts by `mountPath`, ...), which are sets of scalars
//! (`finalizers`), and which are replaced whole.

use serde_json::{Map, Value};

/// How a list field merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced whole.
    Atomic,
    /// Items are objects identified by these fields.
    Map(Vec<String>),
    /// Items are scalars, merged as a set.
    Set,
}

/// The list semantics of a type: by field path (the field names from the object's root, list
/// indexes left out).
pub trait ListSemantics {
    /// How the list at `path` merges.
    fn list_kind(&self, path: &[&str]) -> ListKind;
}

/// Built-in types: the `patchMergeKey`s of Kubernetes' Go types, by field name.
pub struct Builtin;

impl ListSemantics for Builtin {
    fn list_kind(&self, path: &[&str]) -> ListKind {
        let key = |k: &str| ListKind::Map(vec![k.to_owned()]);
        match path.last().copied().unwrap_or("") {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "env"
            | "imagePullSecrets"
            | "resourceClaims" => key("name"),
            "volumeMounts" => key("mountPath"),
            "volumeDevices" => key("devicePath"),
            "ports" if path.len() >= 2 && path[path.len() - 2].ends_with("ontainers") => key("containerPort"),
            "ownerReferences" => key("uid"),
            "conditions" => key("type"),
            "hostAliases" => key("ip"),
            "readinessGates" => key("conditionType"),
            "finalizers" => ListKind::Set,
            _ => ListKind::Atomic,
        }
    }
}

/// Custom types: `x-kubernetes-list-type` and `x-kubernetes-list-map-keys` of the CRD's schema
/// (lists are atomic unless the schema says otherwise, as in Kubernetes).
pub struct Schema<'a>(pub &'a Value);

impl ListSemantics for Schema<'_> {
    fn list_kind(&self, path: &[&str]) -> ListKind {
        if path == ["metadata", "finalizers"] {
            return ListKind::Set;
        }
        if path.len() == 2 && path[0] == "metadata" && path[1] == "ownerReferences" {
            return ListKind::Map(vec!["uid".into()]);
        }
        let mut node = self.0;
        for field in path {
            // Through arrays to their items, then to the property.
            while node.get("type").and_then(Value::as_str) == Some("array") {
                node = match node.get("items") {
                    Some(i) => i,
                    None => return ListKind::Atomic,
                };
            }
            node = match node.pointer(&format!("/properties/{field}")) {
                Some(n) => n,
                None => return ListKind::Atomic,
            };
        }
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => ListKind::Map(
                node.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
            ),
            Some("set") => ListKind::Set,
            _ => ListKind::Atomic,
        }
    }
}

/// Why a strategic merge patch could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// Applies a strategic merge patch to `target`.
pub fn strategic_merge(target: &mut Value, patch: &Value, lists: &dyn ListSemantics) -> Result<(), PatchError> {
    let Some(p) = patch.as_object() else {
        return Err(PatchError("a strategic merge patch must be a JSON object".into()));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let mut path = Vec::new();
    if let Some(t) = target.as_object_mut() {
        merge_map(t, p, &mut path, lists)?;
    }
    Ok(())
}

fn directive(v: &Value) -> Option<&str> {
    v.get("$patch").and_then(Value::as_str)
}

/// A patch value with its directives removed, for a place where nothing is merged into.
fn clean(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().filter(|x| directive(x).is_none()).map(clean).collect()),
        other => other.clone(),
    }
}

fn merge_map<'p>(
    target: &mut Map<String, Value>,
    patch: &'p Map<String, Value>,
    path: &mut Vec<&'p str>,
    lists: &dyn ListSemantics,
) -> Result<(), PatchError> {
    match patch.get("$patch").and_then(Value::as_str) {
        None => {}
        Some("replace") => {
            if let Value::Object(m) = clean(&Value::Object(patch.clone())) {
                *target = m;
            }
            return Ok(());
        }
        Some(other) => return Err(PatchError(format!("unknown patch type: {other} in map"))),
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let doomed = v.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = target.get_mut(field) {
                items.retain(|x| !doomed.contains(x));
            }
            continue;
        }
        if k.starts_with("$setElementOrder/") || k == "$patch" || k == "$retainKeys" {
            continue;
        }
        path.push(k);
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(pm) if directive(v) == Some("delete") => {
                let _ = pm;
                target.remove(k);
            }
            Value::Object(pm) => match target.get_mut(k) {
                Some(Value::Object(tm)) => merge_map(tm, pm, path, lists)?,
                _ => {
                    target.insert(k.clone(), clean(v));
                }
            },
            Value::Array(pa) => {
                let kind = lists.list_kind(path);
                match (kind, target.get_mut(k)) {
                    (ListKind::Map(keys), Some(Value::Array(ta))) if !keys.is_empty() => {
                        merge_keyed(ta, pa, &keys, path, lists)?
                    }
                    (ListKind::Set, Some(Value::Array(ta))) => {
                        for x in pa {
                            if !ta.contains(x) {
                                ta.push(x.clone());
                            }
                        }
                    }
                    _ => {
                        target.insert(k.clone(), clean(v));
                    }
                }
            }
            scalar => {
                target.insert(k.clone(), scalar.clone());
            }
        }
        path.pop();
    }
    if let Some(Value::Array(retain)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        target.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(())
}

fn same_item(a: &Value, b: &Value, keys: &[String]) -> bool {
    keys.iter().all(|k| a.get(k).is_some() && a.get(k) == b.get(k))
}

fn merge_keyed<'p>(
    target: &mut Vec<Value>,
    patch: &'p [Value],
    keys: &[String],
    path: &mut Vec<&'p str>,
    lists: &dyn ListSemantics,
) -> Result<(), PatchError> {
    if patch.iter().any(|p| directive(p) == Some("replace")) {
        *target = patch.iter().filter(|p| directive(p).is_none()).map(clean).collect();
        return Ok(());
    }
    for p in patch {
        if !keys.iter().any(|k| p.get(k).is_some()) {
            return Err(PatchError(format!("map: {p} does not contain declared merge key: {}", keys.join(","))));
        }
        if directive(p) == Some("delete") {
            target.retain(|t| !same_item(p, t, keys));
            continue;
        }
        match (target.iter_mut().find(|t| same_item(p, t, keys)), p.as_object()) {
            (Some(Value::Object(tm)), Some(pm)) => merge_map(tm, pm, path, lists)?,
            _ => target.push(clean(p)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"metadata": {"name": "p", "finalizers": ["a"]}, "spec": {"containers": [
            {"name": "main", "image": "nginx:1", "env": [{"name": "A", "value": "1"}],
             "ports": [{"containerPort": 80}], "args": ["x", "y"]},
            {"name": "side", "image": "envoy:1"}
        ]}})
    }

    #[test]
    fn containers_merge_by_name_and_env_by_name() {
        let mut p = pod();
        let patch = json!({"spec": {"containers": [
            {"name": "main", "image": "nginx:2", "env": [{"name": "B", "value": "2"}], "args": ["z"]},
            {"name": "new", "image": "busybox"}
        ]}});
        strategic_merge(&mut p, &patch, &Builtin).unwrap();
        let cs = p["spec"]["containers"].as_array().unwrap();
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[0]["image"], "nginx:2");
        assert_eq!(cs[0]["env"], json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
        assert_eq!(cs[0]["args"], json!(["z"]), "args are atomic");
        assert_eq!(cs[0]["ports"], json!([{"containerPort": 80}]));
        assert_eq!(cs[1]["image"], "envoy:1");
        assert_eq!(cs[2]["name"], "new");
    }

    #[test]
    fn delete_and_replace_directives() {
        let mut p = pod();
        let patch =
            json!({"metadata": {"finalizers": ["b"]}, "spec": {"containers": [{"name": "side", "$patch": "delete"}]}});
        strategic_merge(&mut p, &patch, &Builtin).unwrap();
        assert_eq!(p["spec"]["containers"].as_array().unwrap().len(), 1);
        assert_eq!(p["metadata"]["finalizers"], json!(["a", "b"]));
        let replace = json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}});
        strategic_merge(&mut p, &replace, &Builtin).unwrap();
        assert_eq!(p["spec"]["containers"], json!([{"name": "only", "image": "i"}]));
        let remove = json!({"$deleteFromPrimitiveList/finalizers": ["a"]});
        strategic_merge(&mut p["metadata"], &remove, &Builtin).unwrap();
        assert_eq!(p["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn an_item_without_its_merge_key_is_refused() {
        let mut p = pod();
        let patch = json!({"spec": {"containers": [{"image": "x"}]}});
        let e = strategic_merge(&mut p, &patch, &Builtin).unwrap_err();
        assert!(e.0.contains("does not contain declared merge key: name"), "{e}");
    }

    #[test]
    fn crd_schemas_declare_their_map_lists() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "sidecars": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"ports": {"type": "array"}}}}}}}});
        let s = Schema(&schema);
        assert_eq!(s.list_kind(&["spec", "sidecars"]), ListKind::Map(vec!["name".into()]));
        assert_eq!(s.list_kind(&["spec", "sidecars", "ports"]), ListKind::Atomic);
        assert_eq!(s.list_kind(&["spec", "other"]), ListKind::Atomic);
    }
}
