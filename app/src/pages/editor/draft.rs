//! The draft of a sidecar spec, shared by the form and the JSON view: JSON text, read and
//! written by field paths in the validator's notation (`ports[1].containerPort`,
//! `resources.limits[cpu]`). The form changes only the fields it shows; everything else in the
//! JSON stays as it is. No browser code here: it is tested natively.

use serde_json::{Map, Value};
use sidecar_spec::{CheckError, FieldError, Spans, SyntaxError};

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A field of an object (also a bracketed map key: `limits[cpu]`).
    Key(String),
    /// An element of an array.
    Index(usize),
}

/// `ports[1].containerPort` → `ports`, 1, `containerPort`; `[cpu]` is a key, `[1]` an index.
pub fn segments(path: &str) -> Vec<Seg> {
    sidecar_spec::segments(path)
        .into_iter()
        .map(|s| match s {
            sidecar_spec::Segment::Bracket(b) => b.parse().map(Seg::Index).unwrap_or_else(|_| Seg::Key(b.to_owned())),
            sidecar_spec::Segment::Field(f) => Seg::Key(f.to_owned()),
        })
        .collect()
}

/// The value at `path`, if there is one.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    segments(path).iter().try_fold(v, |v, s| match s {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

/// The value at `path` as the text of a form field: strings as they are, numbers and booleans
/// printed, nothing as "".
pub fn text(v: &Value, path: &str) -> String {
    match get(v, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// An array of strings at `path` as lines.
pub fn lines(v: &Value, path: &str) -> String {
    get(v, path)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect::<Vec<_>>())
        .unwrap_or_default()
        .join("\n")
}

/// Sets (or with `None`, removes) the value at `path`, creating the objects and array slots on
/// the way. Objects left empty by a removal are removed too.
pub fn set(v: &mut Value, path: &str, new: Option<Value>) {
    let segs = segments(path);
    match new {
        Some(x) => put(v, &segs, x),
        None => {
            take(v, &segs);
        }
    }
}

fn put(v: &mut Value, segs: &[Seg], x: Value) {
    let Some((first, rest)) = segs.split_first() else {
        *v = x;
        return;
    };
    let child = match first {
        Seg::Key(k) => {
            if !v.is_object() {
                *v = Value::Object(Map::new());
            }
            let Value::Object(m) = v else { return };
            m.entry(k.clone()).or_insert(Value::Null)
        }
        Seg::Index(i) => {
            if !v.is_array() {
                *v = Value::Array(Vec::new());
            }
            let Value::Array(a) = v else { return };
            while a.len() <= *i {
                a.push(Value::Object(Map::new()));
            }
            &mut a[*i]
        }
    };
    put(child, rest, x);
}

/// Removes the value at `segs`; answers whether `v` is now an empty object (to prune it).
fn take(v: &mut Value, segs: &[Seg]) -> bool {
    let Some((first, rest)) = segs.split_first() else { return false };
    match (first, v) {
        (Seg::Key(k), Value::Object(m)) => {
            if rest.is_empty() {
                m.shift_remove(k.as_str());
            } else if let Some(child) = m.get_mut(k.as_str()) {
                if take(child, rest) {
                    m.shift_remove(k.as_str());
                }
            }
            m.is_empty()
        }
        (Seg::Index(i), Value::Array(a)) => {
            if let Some(child) = a.get_mut(*i) {
                if !rest.is_empty() {
                    take(child, rest);
                }
            }
            false
        }
        _ => false,
    }
}

/// Removes element `i` of the array at `path` (and the array when it is left empty).
pub fn remove_at(v: &mut Value, path: &str, i: usize) {
    let empty = match get_mut(v, path) {
        Some(Value::Array(a)) if i < a.len() => {
            a.remove(i);
            a.is_empty()
        }
        _ => false,
    };
    if empty {
        set(v, path, None);
    }
}

/// Appends `x` to the array at `path` (created when missing).
pub fn push(v: &mut Value, path: &str, x: Value) {
    match get_mut(v, path) {
        Some(Value::Array(a)) => a.push(x),
        _ => set(v, path, Some(Value::Array(vec![x]))),
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    segments(path).iter().try_fold(v, |v, s| match s {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

/// A text field's value for the JSON: trimmed; empty means "not set".
pub fn string(s: &str) -> Option<Value> {
    let t = s.trim();
    (!t.is_empty()).then(|| Value::String(t.to_owned()))
}

/// A number field's value: a whole number when it is one exactly as typed, else the text (so
/// that the validator names the field and the form keeps what was typed).
pub fn number(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if n.to_string() == t => Some(Value::from(n)),
        _ => Some(Value::String(t.to_owned())),
    }
}

/// Lines of a list field as an array of strings; no lines means "not set".
pub fn list(s: &str) -> Option<Value> {
    let items: Vec<Value> =
        s.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| Value::String(l.to_owned())).collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// The fields the form shows (with `*` for any array index), and defaults the JSON may carry
/// without them needing a mention.
const SHOWN: &[&str] = &[
    "name",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "env[*].name",
    "env[*].value",
    "env[*].valueFrom.configMapKeyRef.name",
    "env[*].valueFrom.configMapKeyRef.key",
    "env[*].valueFrom.secretKeyRef.name",
    "env[*].valueFrom.secretKeyRef.key",
    "ports[*].containerPort",
    "ports[*].name",
    "ports[*].protocol",
    "volumes[*].name",
    "volumes[*].configMap.name",
    "volumes[*].configMap.items",
    "volumeMounts[*].name",
    "volumeMounts[*].mountPath",
    "volumeMounts[*].readOnly",
    "resources.requests.cpu",
    "resources.requests.memory",
    "resources.limits.cpu",
    "resources.limits.memory",
    "lifecycle.preStop.sleep.seconds",
];

/// Fields of a probe the form shows.
const PROBE_SHOWN: &[&str] = &[
    "httpGet.port",
    "httpGet.path",
    "tcpSocket.port",
    "exec.command",
    "grpc.port",
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "successThreshold",
    "failureThreshold",
];

/// Kubernetes' defaults that a stored spec carries; not worth a mention when they are the value.
fn is_default(path: &str, v: &Value) -> bool {
    (path.ends_with("httpGet.scheme") && v == "HTTP") || (path.ends_with("configMap.defaultMode") && v == 420)
}

/// The fields set in the JSON that the form does not show, by path (`env[0].valueFrom.fieldRef`):
/// they are kept as they are.
pub fn unshown(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(v, String::new(), String::new(), &mut out);
    out
}

/// `pattern` is `path` with indices as `*`, to compare with [`SHOWN`].
fn walk(v: &Value, path: String, pattern: String, out: &mut Vec<String>) {
    let shown = |p: &str| {
        SHOWN.contains(&p)
            || ["livenessProbe", "readinessProbe", "startupProbe"].iter().any(|probe| {
                p.strip_prefix(probe).and_then(|r| r.strip_prefix('.')).is_some_and(|r| PROBE_SHOWN.contains(&r))
            })
    };
    // Whether something below `pattern` is shown (then look inside), or it is itself.
    let is_prefix = |p: &str| {
        p.is_empty()
            || SHOWN.iter().any(|s| s.starts_with(p) && matches!(s.as_bytes().get(p.len()), Some(b'.' | b'[')))
            || ["livenessProbe", "readinessProbe", "startupProbe"].iter().any(|probe| {
                p == *probe
                    || p.strip_prefix(probe).and_then(|r| r.strip_prefix('.')).is_some_and(|r| {
                        PROBE_SHOWN.iter().any(|s| s.starts_with(r) && matches!(s.as_bytes().get(r.len()), Some(b'.')))
                    })
            })
    };
    if !path.is_empty() && shown(&pattern) {
        return;
    }
    match v {
        Value::Object(m) if is_prefix(&pattern) => {
            for (k, x) in m {
                let (p, q) = if path.is_empty() {
                    (k.clone(), k.clone())
                } else if pattern.starts_with("resources.") {
                    (format!("{path}[{k}]"), format!("{pattern}.{k}"))
                } else {
                    (format!("{path}.{k}"), format!("{pattern}.{k}"))
                };
                walk(x, p, q, out);
            }
        }
        Value::Array(a) if is_prefix(&format!("{pattern}[*]")) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{path}[{i}]"), format!("{pattern}[*]"), out);
            }
        }
        _ if !path.is_empty() && !is_default(&path, v) => out.push(path),
        _ => {}
    }
}

/// A problem of the draft, placed in its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field (`livenessProbe.httpGet.port`); empty for the whole spec or a syntax error.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Where: 1-based lines, 1-based UTF-16 columns, end exclusive.
    pub start: (usize, usize),
    /// See `start`.
    pub end: (usize, usize),
}

/// The draft checked: its JSON (when it parses), and its problems with their places.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The parsed JSON, or why the text is not JSON.
    pub json: Result<Value, SyntaxError>,
    /// The validator's findings (empty for a syntax error).
    pub errors: Vec<FieldError>,
    /// Every problem, syntax or field, placed in the text.
    pub problems: Vec<Problem>,
}

impl Checked {
    /// Whether the draft is a valid spec.
    pub fn is_valid(&self) -> bool {
        self.json.is_ok() && self.errors.is_empty()
    }

    /// The field errors at exactly `path`.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.field.as_str() == path)
    }
}

/// Parses, validates (the same `sidecar-spec` rules as the server, and the cluster's Pipeline
/// schema when it is not ours) and places each problem.
pub fn check(text: &str, cluster: Option<&Value>) -> Checked {
    let json: Result<Value, SyntaxError> = serde_json::from_str(text).map_err(SyntaxError::from);
    match &json {
        Err(e) => {
            let start = syntax_position(text, e.line, e.column);
            let end = (start.0, start.1 + 1);
            let problems = vec![Problem { path: String::new(), message: e.message.clone(), start, end }];
            Checked { json, errors: Vec::new(), problems }
        }
        Ok(v) => {
            let mut errors = match sidecar_spec::check_value(v.clone()) {
                Ok(_) => Vec::new(),
                Err(CheckError::Invalid(errors)) => errors,
                Err(CheckError::Syntax(_)) => Vec::new(),
            };
            if let Some(schema) = cluster {
                errors.extend(sidecar_spec::fit::undeclared_fields(v, schema));
            }
            let spans = Spans::parse(text);
            let problems = errors
                .iter()
                .map(|e| {
                    let range = spans.as_ref().map(|s| s.range(e.field.as_str())).unwrap_or(0..1);
                    let a = sidecar_spec::position(text, range.start);
                    let b = sidecar_spec::position(text, range.end);
                    Problem {
                        path: e.field.as_str().to_owned(),
                        message: e.message.clone(),
                        start: (a.line, a.column),
                        end: (b.line, b.column),
                    }
                })
                .collect();
            Checked { json, errors, problems }
        }
    }
}

/// serde_json counts columns in bytes; editors in UTF-16 units.
fn syntax_position(text: &str, line: usize, column: usize) -> (usize, usize) {
    let line_text = text.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    let mut byte = column.saturating_sub(1).min(line_text.len());
    while byte > 0 && !line_text.is_char_boundary(byte) {
        byte -= 1;
    }
    (line.max(1), line_text[..byte].encode_utf16().count() + 1)
}

/// A spec as the server stores it: with Kubernetes' defaults (`protocol: TCP`, probe timings),
/// so that comparing two specs shows what differs, not who wrote the defaults. A spec that does
/// not pass the validator is returned as it is.
pub fn stored_form(v: &Value) -> Value {
    sidecar_spec::check_value(v.clone()).ok().and_then(|s| serde_json::to_value(s).ok()).unwrap_or_else(|| v.clone())
}

/// Pretty JSON, as the editor shows a draft.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The top-level fields whose values differ between two specs (`image`, `ports`), in the order
/// of `a` then new ones of `b`.
pub fn changed_fields(a: &Value, b: &Value) -> Vec<String> {
    let empty = Map::new();
    let (ma, mb) = (a.as_object().unwrap_or(&empty), b.as_object().unwrap_or(&empty));
    let mut out: Vec<String> =
        ma.iter().filter(|(k, v)| mb.get(k.as_str()) != Some(v)).map(|(k, _)| k.clone()).collect();
    out.extend(mb.keys().filter(|k| !ma.contains_key(k.as_str())).cloned());
    out
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// In both.
    Same(String),
    /// Only in the old text.
    Removed(String),
    /// Only in the new text.
    Added(String),
}

/// A line diff of two texts (Myers' algorithm; spec texts are short, so without a deadline).
pub fn diff(old: &str, new: &str) -> Vec<Line> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // `Replace` joins a deletion and an insertion side by side, so removed lines come first.
    let mut hook = similar::algorithms::Replace::new(similar::algorithms::Capture::new());
    // Capture's hook cannot fail.
    let _ = similar::algorithms::myers::diff(&mut hook, &a, 0..a.len(), &b, 0..b.len());
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    for op in hook.into_inner().into_ops() {
        let (tag, old, new) = op.as_tag_tuple();
        let (removed, added) = match tag {
            similar::DiffTag::Equal => {
                out.extend(a[old].iter().map(|s| Line::Same((*s).to_owned())));
                continue;
            }
            similar::DiffTag::Delete => (old, 0..0),
            similar::DiffTag::Insert => (0..0, new),
            similar::DiffTag::Replace => (old, new),
        };
        out.extend(a[removed].iter().map(|s| Line::Removed((*s).to_owned())));
        out.extend(b[added].iter().map(|s| Line::Added((*s).to_owned())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn setting_a_field_creates_its_parents_and_keeps_the_rest() {
        let mut v =
            json!({"name": "a", "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]});
        set(&mut v, "ports[0].containerPort", Some(json!(80)));
        set(&mut v, "resources.limits[memory]", Some(json!("64Mi")));
        set(&mut v, "env[0].name", Some(json!("POD_NAME")));
        assert_eq!(
            v,
            json!({"name": "a", "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "ports": [{"containerPort": 80}], "resources": {"limits": {"memory": "64Mi"}}})
        );
        set(&mut v, "resources.limits[memory]", None);
        assert!(v.get("resources").is_none(), "empty parents go: {v}");
        remove_at(&mut v, "ports", 0);
        assert!(v.get("ports").is_none());
        assert_eq!(text(&v, "env[0].valueFrom.fieldRef.fieldPath"), "metadata.name");
    }

    #[test]
    fn numbers_stay_as_typed_when_they_are_not_numbers() {
        assert_eq!(number("8080"), Some(json!(8080)));
        assert_eq!(number("080"), Some(json!("080")));
        assert_eq!(number("http"), Some(json!("http")));
        assert_eq!(number(" "), None);
        assert_eq!(list("a\n\n b \n"), Some(json!(["a", "b"])));
    }

    #[test]
    fn fields_the_form_does_not_show_are_listed() {
        let v = json!({"name": "a", "image": "x", "env": [{"name": "P", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
            "ports": [{"containerPort": 1, "hostPort": 2}], "resources": {"limits": {"nvidia.com/gpu": "1", "cpu": "1"}},
            "livenessProbe": {"httpGet": {"port": 1, "scheme": "HTTP", "httpHeaders": []}, "periodSeconds": 3},
            "volumes": [{"name": "v", "configMap": {"name": "c", "defaultMode": 420}}]});
        assert_eq!(
            unshown(&v),
            [
                "env[0].valueFrom.fieldRef",
                "ports[0].hostPort",
                "resources.limits[nvidia.com/gpu]",
                "livenessProbe.httpGet.httpHeaders"
            ]
        );
    }

    #[test]
    fn fields_the_clusters_schema_would_drop_are_problems_too() {
        let schema = serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}, "image": {"type": "string"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {"containerPort": {"type": "integer"}}}}}});
        let text = r#"{"name": "p", "image": "nginx:1", "ports": [{"containerPort": 80, "hostPort": 80}]}"#;
        assert!(check(text, None).is_valid());
        let c = check(text, Some(&schema));
        let found: Vec<(&str, &str)> = c.problems.iter().map(|p| (p.path.as_str(), p.message.as_str())).collect();
        assert_eq!(found, [("ports[0].hostPort", "this cluster's Pipeline schema does not accept this field")]);
    }

    #[test]
    fn problems_are_placed_on_their_values() {
        let text = "{\n  \"name\": \"p\",\n  \"image\": \"nginx:1\",\n  \"livenessProbe\": {\"httpGet\": {\"port\": 70000}}\n}";
        let c = check(text, None);
        let p = c.problems.iter().find(|p| p.path == "livenessProbe.httpGet.port").expect("port problem");
        assert_eq!((p.start, p.end), ((4, 41), (4, 46)), "the 70000");
        let bad = check("{\n  \"name\": \n}", None);
        assert_eq!(bad.problems[0].start.0, 3);
        assert!(!bad.is_valid());
    }

    #[test]
    fn a_diff_marks_changed_lines() {
        let d = diff("a\nb\n", "a\nc\n");
        assert_eq!(d, [Line::Same("a".into()), Line::Removed("b".into()), Line::Added("c".into())]);
        let d = diff("a\nb\nc", "x\na\nc\ny");
        let want = [
            Line::Added("x".into()),
            Line::Same("a".into()),
            Line::Removed("b".into()),
            Line::Same("c".into()),
            Line::Added("y".into()),
        ];
        assert_eq!(d, want);
        assert_eq!(diff("", "a"), [Line::Added("a".into())]);
        assert_eq!(changed_fields(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3, "c": 4})), ["b", "c"]);
    }
}
