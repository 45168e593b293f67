//! CustomResourceDefinitions: turning one into served types, and structural pruning of custom
//! objects against its schema.

use crate::error::ApiError;
use crate::resources::{leak, ResourceType, CRDS};
use serde_json::{json, Value};

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The types a CRD serves (one per served version), or why it is invalid.
pub fn types_of(crd: &Value) -> Result<Vec<ResourceType>, ApiError> {
    let name = str_at(crd, "/metadata/name");
    let group = str_at(crd, "/spec/group");
    let plural = str_at(crd, "/spec/names/plural");
    let kind = str_at(crd, "/spec/names/kind");
    let scope = str_at(crd, "/spec/scope");
    let mut causes = Vec::new();
    let mut invalid = |field: &str, reason: &'static str, msg: String| causes.push((field.to_owned(), reason, msg));
    if group.is_empty() {
        invalid("spec.group", "FieldValueRequired", "Required value".into());
    }
    if plural.is_empty() {
        invalid("spec.names.plural", "FieldValueRequired", "Required value".into());
    }
    if kind.is_empty() {
        invalid("spec.names.kind", "FieldValueRequired", "Required value".into());
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        invalid(
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: {name:?}: must be spec.names.plural+\".\"+spec.group"),
        );
    }
    if scope != "Namespaced" && scope != "Cluster" {
        invalid(
            "spec.scope",
            "FieldValueNotSupported",
            format!("Unsupported value: {scope:?}: supported values: \"Cluster\", \"Namespaced\""),
        );
    }
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    if versions.is_empty() {
        invalid(
            "spec.versions",
            "FieldValueInvalid",
            "Invalid value: null: must have exactly one version marked as storage version".into(),
        );
    } else if versions.iter().filter(|v| v["storage"] == json!(true)).count() != 1 {
        invalid(
            "spec.versions",
            "FieldValueInvalid",
            "Invalid value: must have exactly one version marked as storage version".into(),
        );
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(&CRDS, name, causes));
    }
    let singular = match str_at(crd, "/spec/names/singular") {
        "" => kind.to_lowercase(),
        s => s.to_owned(),
    };
    let list_kind = match str_at(crd, "/spec/names/listKind") {
        "" => format!("{kind}List"),
        s => s.to_owned(),
    };
    let short_names: Vec<&'static str> = crd
        .pointer("/spec/names/shortNames")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(leak).collect())
        .unwrap_or_default();
    let short_names: &'static [&'static str] = Box::leak(short_names.into_boxed_slice());
    Ok(versions
        .iter()
        .filter(|v| v["served"] == json!(true))
        .map(|v| ResourceType {
            group: leak(group),
            version: leak(v["name"].as_str().unwrap_or("v1")),
            plural: leak(plural),
            singular: leak(&singular),
            kind: leak(kind),
            list_kind: leak(&list_kind),
            namespaced: scope == "Namespaced",
            short_names,
            generation: true,
            status_subresource: v.pointer("/subresources/status").is_some(),
            schema: v.pointer("/schema/openAPIV3Schema").cloned(),
            categories: Box::leak(
                crd.pointer("/spec/names/categories")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(leak).collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_boxed_slice(),
            ),
            verbs: crate::resources::Verbs::All,
            printer_columns: v.get("additionalPrinterColumns").cloned(),
            // As the API server words it when the CRD gives no `deprecationWarning`.
            deprecation: (v["deprecated"] == json!(true)).then(|| match v["deprecationWarning"].as_str() {
                Some(text) => leak(text),
                None => leak(&format!("{group}/{} {kind} is deprecated", v["name"].as_str().unwrap_or("v1"))),
            }),
        })
        .collect())
}

/// The status the API server gives an accepted CRD.
pub fn established_status(crd: &Value, now: &str) -> Value {
    let storage: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter(|v| v["storage"] == json!(true)).map(|v| v["name"].clone()).collect())
        .unwrap_or_default();
    let condition = |t: &str, reason: &str, message: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(Value::Null),
        "storedVersions": storage,
    })
}

/// Fills in the `default`s of a custom object's structural schema, as the API server does: a
/// field absent from an object that is present gets its schema's default.
pub fn apply_defaults(obj: &mut Value, schema: &Value) {
    match obj {
        Value::Object(map) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
            for (key, sub) in props {
                if key == "metadata" {
                    continue;
                }
                if !map.contains_key(key) {
                    if let Some(d) = sub.get("default") {
                        map.insert(key.clone(), d.clone());
                    }
                }
                if let Some(v) = map.get_mut(key) {
                    apply_defaults(v, sub);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                items.iter_mut().for_each(|i| apply_defaults(i, sub));
            }
        }
        _ => {}
    }
}

/// Removes the fields of a custom object that its schema does not declare, as the API server's
/// structural pruning does, and returns their paths (`spec.foo`, `spec.items[0].bar`).
pub fn prune(obj: &mut Value, schema: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    let Some(map) = obj.as_object_mut() else { return unknown };
    let props = schema.get("properties").and_then(Value::as_object);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        // apiVersion, kind and metadata are the server's, whatever the schema says.
        if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(&key)) {
            Some(s) => {
                if let Some(v) = map.get_mut(&key) {
                    prune_value(v, s, &key, &mut unknown);
                }
            }
            None if preserves(schema) => {}
            None => {
                map.remove(&key);
                unknown.push(key);
            }
        }
    }
    unknown
}

fn preserves(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true))
}

fn prune_value(v: &mut Value, schema: &Value, path: &str, unknown: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            if props.is_none()
                && additional.is_none()
                && (preserves(schema) || schema.get("x-kubernetes-int-or-string").is_some())
            {
                return;
            }
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child = format!("{path}.{key}");
                match props.and_then(|p| p.get(&key)).or(additional) {
                    Some(s) => {
                        if let Some(inner) = map.get_mut(&key) {
                            prune_value(inner, s, &child, unknown);
                        }
                    }
                    None if preserves(schema) => {}
                    None => {
                        map.remove(&key);
                        unknown.push(child);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item, s, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_defaults_fill_absent_fields_of_present_objects() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "kind": {"type": "string", "default": "deployment"},
            "replicasCount": {"type": "integer", "default": 1},
            "items": {"type": "array", "items": {"type": "object", "properties": {"port": {"type": "integer", "default": 80}}}}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string", "default": "NEW"}}}}});
        let mut obj = json!({"spec": {"replicasCount": 3, "items": [{}, {"port": 8080}]}});
        apply_defaults(&mut obj, &schema);
        assert_eq!(
            obj["spec"],
            json!({"replicasCount": 3, "items": [{"port": 80}, {"port": 8080}], "kind": "deployment"})
        );
        assert!(obj.get("status").is_none(), "absent objects stay absent");
    }

    #[test]
    fn prunes_undeclared_fields_and_keeps_preserved_ones() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "image": {"type": "string"},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }});
        let mut obj = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"image": "i", "bogus": 1, "items": [{"name": "n", "extra": true}],
                     "config": {"anything": {"goes": 1}}, "labels": {"a": "b"}},
            "status": {"phase": "x"}, "top": 1});
        let unknown = prune(&mut obj, &schema);
        assert_eq!(unknown, vec!["spec.bogus", "spec.items[0].extra", "top"]);
        assert_eq!(obj["spec"]["config"]["anything"]["goes"], 1);
        assert_eq!(obj["spec"]["labels"]["a"], "b");
        assert!(obj.get("top").is_none());
    }
}
