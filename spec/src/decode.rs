//! Strict decoding, driven by the generated JSON Schema: every unknown field and every value of
//! the wrong JSON type is reported with its path, and the rest of the document still decodes so
//! that validation can report its own findings in the same pass.

use crate::quantity::{Amount, QuantityError};
use crate::{json_schema, CheckError, FieldError, FieldPath, SidecarSpec, SyntaxError};
use serde_json::{Map, Value};

/// Kubernetes volume sources other than `configMap`: named so that using one gets a clear
/// sentence instead of "unknown field".
const OTHER_VOLUME_SOURCES: &[&str] = &[
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "gitRepo",
    "glusterfs",
    "hostPath",
    "image",
    "iscsi",
    "nfs",
    "persistentVolumeClaim",
    "photonPersistentDisk",
    "portworxVolume",
    "projected",
    "quobyte",
    "rbd",
    "scaleIO",
    "secret",
    "storageos",
    "vsphereVolume",
];

/// Decodes JSON text into a spec, strictly, without defaulting or validating it.
pub fn decode(text: &str) -> Result<SidecarSpec, CheckError> {
    let value: Value = serde_json::from_str(text).map_err(SyntaxError::from)?;
    match decode_value(value) {
        (Some(spec), errors) if errors.is_empty() => Ok(spec),
        (_, errors) => Err(CheckError::Invalid(errors)),
    }
}

/// Decodes what can be decoded. The spec is `None` only when the document is not an object.
pub(crate) fn decode_value(mut value: Value) -> (Option<SidecarSpec>, Vec<FieldError>) {
    if !value.is_object() {
        let msg = format!("the spec must be a JSON object, got {}", describe(&value));
        return (None, vec![FieldError::wrong_type(FieldPath::root(), value, msg)]);
    }
    let schema = json_schema();
    let mut walker = Walker { defs: schema.get("$defs").and_then(Value::as_object), errors: Vec::new() };
    walker.walk(schema, None, &mut value, &FieldPath::root());
    match serde_json::from_value::<SidecarSpec>(value) {
        Ok(spec) => (Some(spec), walker.errors),
        Err(e) => {
            // The walk removes everything serde would refuse; reaching this is a bug, reported
            // rather than hidden.
            let mut errors = walker.errors;
            errors.push(FieldError::wrong_type(
                FieldPath::root(),
                Value::Null,
                format!("could not decode the spec: {e}"),
            ));
            (None, errors)
        }
    }
}

struct Walker<'s> {
    defs: Option<&'s Map<String, Value>>,
    errors: Vec<FieldError>,
}

impl<'s> Walker<'s> {
    /// Follows `$ref`s; returns the schema and, for a definition, its name.
    fn resolve(&self, mut schema: &'s Value, mut name: Option<&'s str>) -> (&'s Value, Option<&'s str>) {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let Some(def) = r.strip_prefix("#/$defs/") else { break };
            match self.defs.and_then(|d| d.get_key_value(def)) {
                Some((k, s)) => {
                    schema = s;
                    name = Some(k.as_str());
                }
                None => break,
            }
        }
        (schema, name)
    }

    /// Whether `value` has a JSON type that `schema` allows (used to choose an `anyOf` branch).
    fn accepts(&self, schema: &'s Value, value: &Value) -> bool {
        let (schema, _) = self.resolve(schema, None);
        if schema.get("format").and_then(Value::as_str) == Some("quantity") {
            return value.is_string() || value.is_number();
        }
        if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
            return branches.iter().any(|b| self.accepts(b, value));
        }
        let types = types_of(schema);
        types.is_empty() || types.iter().any(|t| type_matches(t, value))
    }

    /// Checks `value` against `schema`, recording errors. Returns false when the value must be
    /// removed because it cannot be decoded.
    fn walk(&mut self, schema: &'s Value, name: Option<&'s str>, value: &mut Value, path: &FieldPath) -> bool {
        let (schema, name) = self.resolve(schema, name);
        if schema.get("format").and_then(Value::as_str) == Some("quantity") {
            return self.quantity(value, path);
        }
        if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
            let chosen = branches.iter().find(|b| self.accepts(b, value));
            return match chosen {
                Some(b) => self.walk(b, None, value, path),
                None => {
                    let expected: Vec<&str> = branches
                        .iter()
                        .flat_map(|b| types_of(self.resolve(b, None).0))
                        .filter(|t| *t != "null")
                        .collect();
                    self.type_error(&expected, value, path);
                    false
                }
            };
        }
        let types = types_of(schema);
        if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
            let expected: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
            self.type_error(&expected, value, path);
            return false;
        }
        match value {
            Value::Number(n) => self.integer_range(schema, n, path),
            Value::Object(map) => {
                self.object(schema, name, map, path);
                true
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    let mut all_ok = true;
                    for (i, item) in items.iter_mut().enumerate() {
                        all_ok &= self.walk(item_schema, None, item, &path.index(i));
                    }
                    // Dropping one element would shift the indices of the others in later
                    // messages, so an array with an undecodable element is left out whole.
                    if !all_ok {
                        items.clear();
                    }
                }
                true
            }
            _ => true,
        }
    }

    fn object(&mut self, schema: &'s Value, name: Option<&'s str>, map: &mut Map<String, Value>, path: &FieldPath) {
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            let child = if props.is_some() { path.child(&key) } else { path.key(&key) };
            let Some(v) = map.get_mut(&key) else { continue };
            // Kubernetes decodes `null` as "not set".
            if v.is_null() {
                map.remove(&key);
                continue;
            }
            let keep = if let Some(prop) = props.and_then(|p| p.get(&key)) {
                self.walk(prop, None, v, &child)
            } else if let Some(extra) = additional.filter(|a| a.is_object()) {
                self.walk(extra, None, v, &child)
            } else {
                self.unknown(name, props, &key, child);
                false
            };
            if !keep {
                map.remove(&key);
            }
        }
    }

    fn unknown(&mut self, name: Option<&str>, props: Option<&Map<String, Value>>, key: &str, path: FieldPath) {
        if name == Some("Volume") && OTHER_VOLUME_SOURCES.contains(&key) {
            self.errors.push(FieldError::forbidden(
                path,
                format!("pipeline sidecars support only ConfigMap volumes (use \"configMap\"), not \"{key}\""),
            ));
            return;
        }
        let mut message = format!("unknown field \"{key}\"");
        if let Some(s) = props.and_then(|p| suggest(key, p.keys().map(String::as_str))) {
            message.push_str(&format!(", did you mean \"{s}\"?"));
        }
        self.errors.push(FieldError::unknown_field(path, message));
    }

    fn integer_range(&mut self, schema: &Value, n: &serde_json::Number, path: &FieldPath) -> bool {
        let (lo, hi, what) = match schema.get("format").and_then(Value::as_str) {
            Some("int32") => (i32::MIN as i64, i32::MAX as i64, "a 32-bit integer"),
            Some("int64") => (i64::MIN, i64::MAX, "a 64-bit integer"),
            _ => return true,
        };
        match n.as_i64() {
            Some(v) if v >= lo && v <= hi => true,
            _ => {
                self.errors.push(FieldError::wrong_type(
                    path.clone(),
                    Value::Number(n.clone()),
                    format!("must be {what}, got {n}"),
                ));
                false
            }
        }
    }

    fn quantity(&mut self, value: &Value, path: &FieldPath) -> bool {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.type_error(&["string", "number"], other, path);
                return false;
            }
        };
        match Amount::parse(&text) {
            Ok(_) => true,
            Err(e) => {
                let msg = match e {
                    QuantityError::Format => format!("invalid quantity \"{text}\": {e}"),
                    QuantityError::Suffix => format!("invalid quantity \"{text}\": {e}"),
                };
                self.errors.push(FieldError::invalid(path.clone(), value.clone(), msg));
                false
            }
        }
    }

    fn type_error(&mut self, expected: &[&str], value: &Value, path: &FieldPath) {
        let names: Vec<&str> = expected.iter().map(|t| article(t)).collect();
        let message = format!("must be {}, got {}", names.join(" or "), describe(value));
        self.errors.push(FieldError::wrong_type(path.clone(), value.clone(), message));
    }
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn article(t: &str) -> &'static str {
    match t {
        "object" => "an object",
        "array" => "an array",
        "string" => "a string",
        "boolean" => "a boolean",
        "number" => "a number",
        "integer" => "an integer",
        _ => "a value",
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({})", Value::String(s.clone())),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The known field `key` was most likely meant to be.
fn suggest<'a>(key: &str, known: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    if let Some(k) = known.clone().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some(k);
    }
    let limit = (key.chars().count() / 3).clamp(1, 3);
    known
        .map(|k| (edit_distance(&key.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = ["httpGet", "tcpSocket", "exec", "grpc"];
        assert_eq!(suggest("httpget", known.iter().copied()), Some("httpGet"));
        assert_eq!(suggest("tcpSockt", known.iter().copied()), Some("tcpSocket"));
        assert_eq!(suggest("banana", known.iter().copied()), None);
    }
}
