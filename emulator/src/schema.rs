//! Validation of custom objects against their CRD's structural schema, as the API server does on
//! every write (create, update, each patch type, apply): types, `required`, `enum`,
//! `minimum`/`maximum`, `pattern`, `minLength`/`maxLength`, `minItems`/`maxItems`, and unique
//! keys of `x-kubernetes-list-type: map` lists, in Kubernetes' words.

use serde_json::Value;

/// A problem: the field's path, the cause's reason (`FieldValueInvalid`, ...), its message.
pub type Cause = (String, &'static str, String);

/// Every problem of `obj` under `schema` (the CRD version's `openAPIV3Schema`). `metadata`,
/// `apiVersion` and `kind` are the server's own and not judged here.
pub fn validate(obj: &Value, schema: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let Some(map) = obj.as_object() else { return causes };
    let props = schema.get("properties").and_then(Value::as_object);
    for name in required(schema) {
        if matches!(name, "metadata" | "apiVersion" | "kind") {
            continue;
        }
        if !map.contains_key(name) {
            causes.push((name.to_owned(), "FieldValueRequired", "Required value".to_owned()));
        }
    }
    for (key, v) in map {
        if matches!(key.as_str(), "metadata" | "apiVersion" | "kind") {
            continue;
        }
        if let Some(s) = props.and_then(|p| p.get(key)) {
            check(v, s, key, &mut causes);
        }
    }
    causes
}

fn required(schema: &Value) -> impl Iterator<Item = &str> {
    schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// The JSON type of a value as the schema names it.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(actual: &str, wanted: &str) -> bool {
    actual == wanted || (wanted == "number" && actual == "integer")
}

/// A value as Kubernetes prints it in "Invalid value: ..." (JSON for strings and numbers).
fn shown(v: &Value) -> String {
    v.to_string()
}

fn check(v: &Value, schema: &Value, path: &str, causes: &mut Vec<Cause>) {
    let invalid = |causes: &mut Vec<Cause>, value: String, why: String| {
        causes.push((path.to_owned(), "FieldValueInvalid", format!("Invalid value: {value}: {why}")));
    };
    // A null the schema does not allow is a type error below.
    if v.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let actual = type_of(v);
    if int_or_string {
        if !matches!(actual, "integer" | "string") {
            invalid(
                causes,
                format!("\"{actual}\""),
                format!("{path} in body must be of type integer,string: \"{actual}\""),
            );
        }
        return;
    }
    if let Some(wanted) = schema.get("type").and_then(Value::as_str) {
        if !type_ok(actual, wanted) {
            invalid(causes, format!("\"{actual}\""), format!("{path} in body must be of type {wanted}: \"{actual}\""));
            return;
        }
    } else if v.is_null() {
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(v) {
            let list: Vec<String> = options.iter().map(shown).collect();
            causes.push((
                path.to_owned(),
                "FieldValueNotSupported",
                format!("Unsupported value: {}: supported values: {}", shown(v), list.join(", ")),
            ));
        }
    }
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                let exclusive = schema.get("exclusiveMinimum") == Some(&Value::Bool(true));
                if x < min || (exclusive && x == min) {
                    let rel = if exclusive { "greater than" } else { "greater than or equal to" };
                    invalid(causes, shown(v), format!("{path} in body should be {rel} {}", number(min)));
                }
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                let exclusive = schema.get("exclusiveMaximum") == Some(&Value::Bool(true));
                if x > max || (exclusive && x == max) {
                    let rel = if exclusive { "less than" } else { "less than or equal to" };
                    invalid(causes, shown(v), format!("{path} in body should be {rel} {}", number(max)));
                }
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if len > max {
                    causes.push((
                        path.to_owned(),
                        "FieldValueTooLong",
                        format!("Too long: may not be more than {max} bytes"),
                    ));
                }
            }
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if len < min {
                    invalid(causes, shown(v), format!("{path} in body should be at least {min} chars long"));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                if let Ok(re) = regex::Regex::new(pattern) {
                    if !re.is_match(s) {
                        invalid(causes, shown(v), format!("{path} in body should match '{pattern}'"));
                    }
                }
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if n > max {
                    causes.push((
                        path.to_owned(),
                        "FieldValueTooMany",
                        format!("Too many: {n}: must have at most {max} items"),
                    ));
                }
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if n < min {
                    invalid(causes, n.to_string(), format!("{path} in body should have at least {min} items"));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, &format!("{path}[{i}]"), causes);
                }
            }
            if schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map") {
                let keys: Vec<&str> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut seen: Vec<Vec<&Value>> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let key: Vec<&Value> = keys.iter().map(|k| item.get(*k).unwrap_or(&Value::Null)).collect();
                    if seen.contains(&key) {
                        let shown: Vec<String> = keys.iter().zip(&key).map(|(k, v)| format!("\"{k}\":{v}")).collect();
                        causes.push((
                            format!("{path}[{i}]"),
                            "FieldValueDuplicate",
                            format!("Duplicate value: map[string]interface {{}}{{{}}}", shown.join(", ")),
                        ));
                    } else {
                        seen.push(key);
                    }
                }
            }
        }
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for name in required(schema) {
                if !map.contains_key(name) {
                    causes.push((format!("{path}.{name}"), "FieldValueRequired", "Required value".to_owned()));
                }
            }
            for (key, inner) in map {
                if let Some(s) = props.and_then(|p| p.get(key)).or(additional) {
                    check(inner, s, &format!("{path}.{key}"), causes);
                }
            }
        }
        _ => {}
    }
}

/// A bound as Kubernetes prints it: `0`, not `0.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["kind", "replicasCount"], "properties": {
            "kind": {"type": "string", "enum": ["deployment", "daemonSet", "statefulSet"]},
            "replicasCount": {"type": "integer", "minimum": 0, "maximum": 100},
            "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
            "port": {"x-kubernetes-int-or-string": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "sidecars": {"type": "array", "maxItems": 2, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "ratio": {"type": "number"}}}}
        }}}})
    }

    fn messages(obj: Value) -> Vec<String> {
        validate(&obj, &schema()).into_iter().map(|(f, _, m)| format!("{f}: {m}")).collect()
    }

    #[test]
    fn a_valid_object_has_no_problem() {
        assert!(messages(json!({"apiVersion": "x", "metadata": {}, "spec": {"kind": "deployment", "replicasCount": 2,
            "name": "abc", "port": "http", "labels": {"a": "b"}, "sidecars": [{"name": "a", "ratio": 1}, {"name": "b", "ratio": 0.5}]}}))
        .is_empty());
    }

    #[test]
    fn problems_are_named_in_kubernetes_words() {
        assert_eq!(
            messages(json!({"spec": {"kind": "deployment", "replicasCount": "two"}})),
            [
                r#"spec.replicasCount: Invalid value: "string": spec.replicasCount in body must be of type integer: "string""#
            ]
        );
        assert_eq!(messages(json!({"spec": {"kind": "deployment"}})), ["spec.replicasCount: Required value"]);
        assert_eq!(
            messages(json!({"spec": {"kind": "job", "replicasCount": -1}})),
            [
                r#"spec.kind: Unsupported value: "job": supported values: "deployment", "daemonSet", "statefulSet""#,
                "spec.replicasCount: Invalid value: -1: spec.replicasCount in body should be greater than or equal to 0"
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"kind": "deployment", "replicasCount": 1, "name": "ABCDEFG"}})),
            [
                "spec.name: Too long: may not be more than 5 bytes",
                r#"spec.name: Invalid value: "ABCDEFG": spec.name in body should match '^[a-z]+$'"#
            ]
        );
        assert_eq!(
            messages(json!({"spec": {"kind": "deployment", "replicasCount": 1, "port": true, "labels": {"a": 1}}})),
            [
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#
            ]
        );
        assert_eq!(
            messages(
                json!({"spec": {"kind": "deployment", "replicasCount": 1, "sidecars": [{"name": "a"}, {"name": "a"}, {}]}})
            ),
            [
                "spec.sidecars: Too many: 3: must have at most 2 items",
                "spec.sidecars[2].name: Required value",
                r#"spec.sidecars[1]: Duplicate value: map[string]interface {}{"name":"a"}"#
            ]
        );
    }
}
