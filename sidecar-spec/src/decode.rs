//! Strict decoding, driven by the generated JSON Schema: every unknown field and every value of
//! the wrong JSON type is reported with its path, and the rest of the document still decodes so
//! that validation can report its own findings in the same pass.

use crate::quantity::Amount;
use crate::schema::decoding_schema;
use crate::{CheckError, FieldError, FieldPath, SidecarSpec, SyntaxError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

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
    let mut errors = walk(compiled(), &mut value);
    match serde_json::from_value::<SidecarSpec>(value) {
        Ok(spec) => (Some(spec), errors),
        Err(e) => {
            // The walk removes everything serde would refuse; reaching this is a bug, reported
            // rather than hidden.
            errors.push(FieldError::wrong_type(
                FieldPath::root(),
                Value::Null,
                format!("could not decode the spec: {e}"),
            ));
            (None, errors)
        }
    }
}

/// JSON types as bits, for quick checks.
const OBJECT: u8 = 1;
const ARRAY: u8 = 2;
const STRING: u8 = 4;
const BOOLEAN: u8 = 8;
const NUMBER: u8 = 16;
const INTEGER: u8 = 32;
const NULL: u8 = 64;

/// The JSON Schema, compiled once into a tree that is cheap to walk (looking names up in the
/// schema's JSON maps at every node would cost more than parsing the spec).
struct Compiled {
    nodes: Vec<Node>,
    root: usize,
}

enum Node {
    /// No constraint.
    Any,
    /// A Kubernetes quantity: a string or a number of the quantity grammar.
    Quantity,
    /// One of several schemas (chosen by JSON type).
    AnyOf(Vec<usize>),
    Typed {
        /// Allowed JSON types (0: any), and their names in the schema's order for messages.
        types: u8,
        names: Vec<&'static str>,
        /// Range and name for `format: int32 | int64`.
        int_range: Option<(i64, i64, &'static str)>,
        object: Option<Shape>,
        items: Option<usize>,
    },
}

struct Shape {
    /// The definition's name (`Volume`), when the object is one.
    def: Option<String>,
    /// Declared properties; `None` for a map.
    props: Option<Vec<(String, usize)>>,
    /// The schema of a map's values.
    values: Option<usize>,
}

/// The schema keywords [`Compiler`] reads; the browser's build keeps only these
/// (`sidecar.decode.json`, written by a test).
#[cfg(test)]
pub(crate) const KEYWORDS: &[&str] =
    &["type", "$ref", "$defs", "anyOf", "properties", "additionalProperties", "items", "format"];

fn compiled() -> &'static Compiled {
    static COMPILED: LazyLock<Compiled> = LazyLock::new(|| compile(decoding_schema()));
    &COMPILED
}

fn compile(schema: &Value) -> Compiled {
    let mut c =
        Compiler { defs: schema.get("$defs").and_then(Value::as_object), nodes: Vec::new(), by_def: HashMap::new() };
    let root = c.compile(schema, None);
    Compiled { nodes: c.nodes, root }
}

/// Reports what `schema` refuses in `value` and removes it, so that serde decodes the rest.
fn walk(schema: &'static Compiled, value: &mut Value) -> Vec<FieldError> {
    let mut walker = Walker { schema, path: String::new(), errors: Vec::new() };
    walker.walk(schema.root, value);
    walker.errors
}

struct Compiler<'s> {
    defs: Option<&'s Map<String, Value>>,
    nodes: Vec<Node>,
    by_def: HashMap<&'s str, usize>,
}

impl<'s> Compiler<'s> {
    fn compile(&mut self, schema: &'s Value, def: Option<&'s str>) -> usize {
        if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            if let Some(&id) = self.by_def.get(name) {
                return id;
            }
            if let Some((key, target)) = self.defs.and_then(|d| d.get_key_value(name)) {
                return self.compile(target, Some(key.as_str()));
            }
            return self.push(Node::Any);
        }
        // Reserve the slot first so that a definition referring to itself terminates.
        let id = self.push(Node::Any);
        if let Some(d) = def {
            self.by_def.insert(d, id);
        }
        let node = if schema.get("format").and_then(Value::as_str) == Some("quantity") {
            Node::Quantity
        } else if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
            Node::AnyOf(branches.iter().map(|b| self.compile(b, None)).collect())
        } else {
            let names: Vec<&'static str> = match schema.get("type") {
                Some(Value::String(t)) => vec![type_name(t)],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(type_name).collect(),
                _ => Vec::new(),
            };
            let types = names.iter().fold(0, |acc, n| acc | type_bit(n));
            let int_range = match schema.get("format").and_then(Value::as_str) {
                Some("int32") => Some((i32::MIN as i64, i32::MAX as i64, "a 32-bit integer")),
                Some("int64") => Some((i64::MIN, i64::MAX, "a 64-bit integer")),
                _ => None,
            };
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.iter().map(|(k, v)| (k.clone(), self.compile(v, None))).collect::<Vec<_>>());
            let values = schema.get("additionalProperties").filter(|a| a.is_object()).map(|a| self.compile(a, None));
            let object =
                (props.is_some() || values.is_some()).then(|| Shape { def: def.map(str::to_owned), props, values });
            let items = schema.get("items").map(|i| self.compile(i, None));
            Node::Typed { types, names, int_range, object, items }
        };
        self.nodes[id] = node;
        id
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }
}

fn type_name(t: &str) -> &'static str {
    match t {
        "object" => "object",
        "array" => "array",
        "string" => "string",
        "boolean" => "boolean",
        "number" => "number",
        "integer" => "integer",
        "null" => "null",
        _ => "value",
    }
}

fn type_bit(t: &str) -> u8 {
    match t {
        "object" => OBJECT,
        "array" => ARRAY,
        "string" => STRING,
        "boolean" => BOOLEAN,
        "number" => NUMBER,
        "integer" => INTEGER,
        "null" => NULL,
        _ => 0,
    }
}

fn bits_of(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Number(n) if n.is_i64() || n.is_u64() => NUMBER | INTEGER,
        Value::Number(_) => NUMBER,
        Value::String(_) => STRING,
        Value::Array(_) => ARRAY,
        Value::Object(_) => OBJECT,
    }
}

struct Walker {
    schema: &'static Compiled,
    /// The current path, grown and shrunk in place; copied only into an error.
    path: String,
    errors: Vec<FieldError>,
}

impl Walker {
    fn node(&self, id: usize) -> &'static Node {
        &self.schema.nodes[id]
    }

    fn here(&self) -> FieldPath {
        FieldPath::from(self.path.as_str())
    }

    /// Whether `value` has a JSON type the node allows (used to choose an `anyOf` branch).
    fn accepts(&self, id: usize, value: &Value) -> bool {
        match self.node(id) {
            Node::Any => true,
            Node::Quantity => value.is_string() || value.is_number(),
            Node::AnyOf(branches) => branches.iter().any(|b| self.accepts(*b, value)),
            Node::Typed { types, .. } => *types == 0 || types & bits_of(value) != 0,
        }
    }

    fn expected(&self, id: usize, out: &mut Vec<&'static str>) {
        match self.node(id) {
            Node::Any => {}
            Node::Quantity => out.extend(["string", "number"]),
            Node::AnyOf(branches) => branches.iter().for_each(|b| self.expected(*b, out)),
            Node::Typed { names, .. } => out.extend(names.iter().filter(|n| **n != "null")),
        }
    }

    /// Checks `value` against node `id`, recording errors. Returns false when the value must be
    /// removed because it cannot be decoded.
    fn walk(&mut self, id: usize, value: &mut Value) -> bool {
        match self.node(id) {
            Node::Any => true,
            Node::Quantity => self.quantity(value),
            Node::AnyOf(branches) => match branches.iter().find(|b| self.accepts(**b, value)) {
                Some(b) => self.walk(*b, value),
                None => {
                    self.type_error(id, value);
                    false
                }
            },
            Node::Typed { types, int_range, object, items, .. } => {
                if *types != 0 && types & bits_of(value) == 0 {
                    self.type_error(id, value);
                    return false;
                }
                match value {
                    Value::Number(n) => match int_range {
                        Some((lo, hi, what)) => self.integer_range(n, *lo, *hi, what),
                        None => true,
                    },
                    Value::Object(map) => {
                        if let Some(shape) = object {
                            self.object(shape, map);
                        }
                        true
                    }
                    Value::Array(elements) => {
                        if let Some(item) = items {
                            let mut all_ok = true;
                            let len = self.path.len();
                            for (i, element) in elements.iter_mut().enumerate() {
                                let _ = write!(self.path, "[{i}]");
                                all_ok &= self.walk(*item, element);
                                self.path.truncate(len);
                            }
                            // Dropping one element would shift the indices of the others in
                            // later messages, so an array with an undecodable element is left
                            // out whole.
                            if !all_ok {
                                elements.clear();
                            }
                        }
                        true
                    }
                    _ => true,
                }
            }
        }
    }

    fn object(&mut self, shape: &'static Shape, map: &mut Map<String, Value>) {
        map.retain(|key, v| {
            // Kubernetes decodes a field's `null` as "not set". A map's `null` value is kept, so
            // it is reported as a wrong type rather than silently dropped with its key.
            if v.is_null() && shape.props.is_some() {
                return false;
            }
            let len = self.path.len();
            match &shape.props {
                Some(_) if len == 0 => self.path.push_str(key),
                Some(_) => {
                    self.path.push('.');
                    self.path.push_str(key);
                }
                None => {
                    let _ = write!(self.path, "[{key}]");
                }
            }
            let target = match &shape.props {
                Some(props) => props.iter().find(|(name, _)| name == key).map(|(_, id)| *id),
                None => shape.values,
            };
            let keep = match target {
                Some(id) => self.walk(id, v),
                None => {
                    self.unknown(shape, key);
                    false
                }
            };
            self.path.truncate(len);
            keep
        });
    }

    fn unknown(&mut self, shape: &Shape, key: &str) {
        if shape.def.as_deref() == Some("Volume") && OTHER_VOLUME_SOURCES.contains(&key) {
            self.errors.push(FieldError::forbidden(
                self.here(),
                format!("pipeline sidecars support only ConfigMap volumes (use \"configMap\"), not \"{key}\""),
            ));
            return;
        }
        let mut message = format!("unknown field \"{key}\"");
        let known = shape.props.iter().flatten().map(|(name, _)| name.as_str());
        if let Some(s) = suggest(key, known) {
            message.push_str(&format!(", did you mean \"{s}\"?"));
        }
        self.errors.push(FieldError::unknown_field(self.here(), message));
    }

    fn integer_range(&mut self, n: &serde_json::Number, lo: i64, hi: i64, what: &str) -> bool {
        match n.as_i64() {
            Some(v) if v >= lo && v <= hi => true,
            _ => {
                let msg = format!("must be {what}, got {n}");
                self.errors.push(FieldError::wrong_type(self.here(), Value::Number(n.clone()), msg));
                false
            }
        }
    }

    fn quantity(&mut self, value: &Value) -> bool {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                let message = format!("must be a string or a number, got {}", describe(other));
                self.errors.push(FieldError::wrong_type(self.here(), other.clone(), message));
                return false;
            }
        };
        match Amount::parse(&text) {
            Ok(_) => true,
            Err(e) => {
                self.errors.push(FieldError::invalid(
                    self.here(),
                    value.clone(),
                    format!("invalid quantity \"{text}\": {e}"),
                ));
                false
            }
        }
    }

    fn type_error(&mut self, id: usize, value: &Value) {
        let mut expected = Vec::new();
        self.expected(id, &mut expected);
        let names: Vec<&str> = expected.iter().map(|t| article(t)).collect();
        let message = format!("must be {}, got {}", names.join(" or "), describe(value));
        self.errors.push(FieldError::wrong_type(self.here(), value.clone(), message));
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

    /// The browser decodes with `sidecar.decode.json`, the server with the whole schema: the
    /// same documents must give the same findings and the same decoded rest.
    #[test]
    fn the_browsers_part_of_the_schema_decodes_as_the_whole_schema() {
        let whole: &'static Compiled = Box::leak(Box::new(compile(crate::json_schema())));
        let part: Value = serde_json::from_str(include_str!("../sidecar.decode.json")).expect("the part parses");
        let part: &'static Compiled = Box::leak(Box::new(compile(&part)));
        let mut documents: Vec<String> = crate::examples::ALL.iter().map(|e| e.json.to_owned()).collect();
        documents.extend(crate::presets::ALL.iter().map(|p| p.json.to_owned()));
        documents.extend(
            [
                r#"{"name": "a", "image": "b", "bogus": 1, "ports": [{"containerPort": "80"}, {"containerPort": 1e3}]}"#,
                r#"{"name": 5, "image": ["b"], "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": 1}}}]}"#,
                r#"{"name": "a", "image": "b", "resources": {"limits": {"cpu": true, "memory": "1Gi"}}}"#,
                r#"{"name": "a", "image": "b", "livenessProbe": {"httpGet": {"port": 70000, "path": 3}, "periodSeconds": 99999999999}}"#,
                r#"{"name": "a", "image": "b", "volumeMounts": [{"name": "v", "mountPath": "/x", "readOnly": "yes"}], "command": "sh"}"#,
                r#"{"name": "a", "image": "b", "securityContext": {"runAsUser": -1, "capabilities": {"add": [1]}}, "stdin": null}"#,
            ]
            .map(str::to_owned),
        );
        for text in documents {
            let value: Value = serde_json::from_str(&text).expect("test documents parse");
            let (mut a, mut b) = (value.clone(), value);
            assert_eq!(walk(whole, &mut a), walk(part, &mut b), "findings for {text}");
            assert_eq!(a, b, "what is left of {text}");
        }
    }
}
