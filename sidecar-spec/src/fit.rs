//! Whether a spec fits a cluster's Pipeline schema.
//!
//! The API server keeps of a custom object only what the CRD's structural schema declares: it
//! prunes the rest without a word, or refuses the write under `fieldValidation=Strict`. A cluster
//! that runs another operator's Pipeline CRD (Calyptia Core's has no `ports[].hostPort`, for
//! one) would drop such fields of a sidecar. These functions read the schema of a sidecar item
//! (`spec.sidecars.items` of the CRD's `openAPIV3Schema`) the way the API server does.

use crate::{FieldError, FieldPath};
use serde_json::Value;

/// What the console says about a field the cluster's schema does not declare.
pub const UNDECLARED: &str = "this cluster's Pipeline schema does not accept this field";

fn preserves(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// The schema of `key` inside an object of `schema`: its property, else `additionalProperties`;
/// `Ok(None)` when the object keeps any field unchecked, `Err` when the field is not declared.
fn child<'a>(schema: &'a Value, key: &str) -> Result<Option<&'a Value>, ()> {
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    if props.is_none()
        && additional.is_none()
        && (preserves(schema) || schema.get("x-kubernetes-int-or-string").is_some())
    {
        return Ok(None);
    }
    match props.and_then(|p| p.get(key)).or(additional) {
        Some(s) => Ok(Some(s)),
        None if preserves(schema) => Ok(None),
        None => Err(()),
    }
}

/// Every field of `spec` that `item_schema` does not declare, as an error naming its path.
pub fn undeclared_fields(spec: &Value, item_schema: &Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    walk(spec, item_schema, &FieldPath::root(), &mut |path| {
        found.push(FieldError::unknown_field(path, UNDECLARED));
    });
    found
}

/// Removes from `spec` what `item_schema` does not declare (values the console filled in itself,
/// which the cluster would prune anyway).
pub fn prune_undeclared(spec: &mut Value, item_schema: &Value) {
    match spec {
        Value::Object(map) => {
            map.retain(|key, _| child(item_schema, key).is_ok());
            for (key, v) in map.iter_mut() {
                if let Ok(Some(s)) = child(item_schema, key) {
                    prune_undeclared(v, s);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = item_schema.get("items") {
                items.iter_mut().for_each(|i| prune_undeclared(i, s));
            }
        }
        _ => {}
    }
}

fn walk(v: &Value, schema: &Value, path: &FieldPath, report: &mut dyn FnMut(FieldPath)) {
    match v {
        Value::Object(map) => {
            for (key, inner) in map {
                match child(schema, key) {
                    Ok(Some(s)) => walk(inner, s, &path.child(key), report),
                    Ok(None) => {}
                    Err(()) => report(path.child(key)),
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, s, &path.index(i), report);
                }
            }
        }
        _ => {}
    }
}

/// Whether `item_schema` declares the field at `path` (validator notation, `ports[].hostPort`
/// or `ports[0].hostPort`): what a form may offer.
pub fn declares(item_schema: &Value, path: &str) -> bool {
    let mut schema = item_schema;
    for segment in crate::segments(path) {
        let next = match segment {
            // An index into a list, or a key of a map (`resources.limits[cpu]`).
            crate::Segment::Bracket(key) => match schema.get("items") {
                Some(items) => Ok(Some(items)),
                None => child(schema, key),
            },
            crate::Segment::Field(key) => child(schema, key),
        };
        match next {
            Ok(Some(s)) => schema = s,
            Ok(None) => return true,
            Err(()) => return false,
        }
    }
    true
}

/// The sidecar item schema in a Pipeline CRD (`apiextensions.k8s.io/v1`), for `version`: what
/// the cluster stores of a sidecar. `None` when the CRD has no such version or schema.
pub fn sidecar_item_schema(crd: &Value, version: &str) -> Option<Value> {
    let versions = crd.pointer("/spec/versions")?.as_array()?;
    let v = versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version))?;
    let root = v.pointer("/schema/openAPIV3Schema")?;
    let spec = match child(root, "spec") {
        Ok(Some(s)) => s,
        // Whatever the pipeline carries is kept.
        Ok(None) => return Some(serde_json::json!({"x-kubernetes-preserve-unknown-fields": true})),
        // No spec at all: nothing of a sidecar is kept.
        Err(()) => return Some(serde_json::json!({"type": "object", "properties": {}})),
    };
    Some(match child(spec, "sidecars") {
        Ok(Some(s)) => {
            s.get("items").cloned().unwrap_or_else(|| serde_json::json!({"x-kubernetes-preserve-unknown-fields": true}))
        }
        Ok(None) => serde_json::json!({"x-kubernetes-preserve-unknown-fields": true}),
        Err(()) => serde_json::json!({"type": "object", "properties": {}}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn calyptia_like() -> Value {
        json!({"type": "object", "properties": {
            "name": {"type": "string"}, "image": {"type": "string"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "containerPort": {"type": "integer"}, "name": {"type": "string"}, "protocol": {"type": "string"}}}},
            "env": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}}},
            "resources": {"type": "object", "properties": {"limits": {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": true}}}},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }})
    }

    #[test]
    fn names_each_undeclared_field_by_its_path() {
        let spec = json!({"name": "a", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081}],
            "resources": {"limits": {"cpu": "1"}}, "extra": {"anything": 1}, "stdin": true});
        let found: Vec<String> =
            undeclared_fields(&spec, &calyptia_like()).iter().map(|e| e.field.to_string()).collect();
        assert_eq!(found, ["ports[1].hostPort", "stdin"]);
        assert!(undeclared_fields(&spec, &json!({"x-kubernetes-preserve-unknown-fields": true})).is_empty());
    }

    #[test]
    fn pruning_keeps_exactly_the_declared_fields() {
        let mut spec =
            json!({"name": "a", "ports": [{"containerPort": 81, "hostPort": 8081, "protocol": "TCP"}], "stdin": true});
        prune_undeclared(&mut spec, &calyptia_like());
        assert_eq!(spec, json!({"name": "a", "ports": [{"containerPort": 81, "protocol": "TCP"}]}));
    }

    #[test]
    fn declares_answers_for_form_fields() {
        let s = calyptia_like();
        assert!(declares(&s, "ports[].protocol"));
        assert!(declares(&s, "ports[0].containerPort"));
        assert!(!declares(&s, "ports[].hostPort"));
        assert!(!declares(&s, "lifecycle.preStop.sleep.seconds"));
        assert!(declares(&s, "resources.limits.cpu"));
    }

    #[test]
    fn the_item_schema_is_read_from_the_crd_version() {
        let crd = json!({"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"sidecars": {"type": "array", "items": calyptia_like()}}}}}}}]}});
        assert_eq!(sidecar_item_schema(&crd, "v1"), Some(calyptia_like()));
        assert_eq!(sidecar_item_schema(&crd, "v2"), None);
    }
}
