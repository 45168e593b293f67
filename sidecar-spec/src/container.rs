//! The same rules for any Kubernetes container, not only a sidecar: what an API server that
//! stores pods and pod templates (the emulator) checks and defaults with this crate.

use crate::{check_value, CheckError, ErrorKind, FieldError, SidecarSpec};
use serde_json::{json, Map, Value};

/// Checks one container of a pod spec with the sidecar rules that hold for every container.
///
/// Fields a sidecar does not have (`securityContext`, `lifecycle`, secret references, ...) are
/// not judged here; volume mounts are checked against the pod's `volume_names`. Returns the
/// container with Kubernetes' defaults filled in (`imagePullPolicy`, port protocols, probe
/// periods, ...), or the problems found, with paths relative to the container.
pub fn check_container(container: &Value, volume_names: &[&str]) -> Result<Value, Vec<FieldError>> {
    let Some(fields) = container.as_object() else {
        return Err(vec![FieldError::wrong_type(crate::FieldPath::root(), container.clone(), "must be an object")]);
    };
    let mut sidecar: Map<String, Value> = fields.clone();
    // The pod's volumes, whatever their source, so that mounts can name them.
    sidecar.insert(
        "volumes".into(),
        Value::Array(volume_names.iter().map(|n| json!({"name": n, "configMap": {"name": n}})).collect()),
    );
    // First pass: find the fields a sidecar does not have; second: judge the rest.
    let unknown: Vec<String> = match check_value(Value::Object(sidecar.clone())) {
        Err(CheckError::Invalid(errors)) => {
            errors.iter().filter(|e| e.kind == ErrorKind::UnknownField).map(|e| e.field.as_str().to_owned()).collect()
        }
        _ => Vec::new(),
    };
    let mut known = Value::Object(sidecar);
    for path in &unknown {
        remove_path(&mut known, path);
    }
    match check_value(known) {
        Ok(spec) => Ok(with_defaults(container, &spec)),
        Err(CheckError::Syntax(_)) => Ok(container.clone()),
        Err(CheckError::Invalid(errors)) => Err(errors
            .into_iter()
            .filter(|e| !e.field.as_str().starts_with("volumes"))
            // A rule about an object that had a field outside the sidecar subset (an env var
            // from a secret) says nothing about the container.
            .filter(|e| {
                let f = e.field.as_str();
                !unknown.iter().any(|u| u.starts_with(f) && matches!(u.as_bytes().get(f.len()), Some(b'.' | b'[')))
            })
            .collect())
        .and_then(|errors: Vec<FieldError>| if errors.is_empty() { Ok(container.clone()) } else { Err(errors) }),
    }
}

/// Removes the field at a path such as `env[0].valueFrom.secretKeyRef`.
fn remove_path(value: &mut Value, path: &str) {
    let mut segments: Vec<&str> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            segments.push(&rest[..i]);
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                segments.push(&rest[..=end]);
                rest = &rest[end + 1..];
            }
        } else {
            segments.push(rest);
        }
    }
    let Some((last, parents)) = segments.split_last() else { return };
    let mut node = value;
    for seg in parents {
        let next = match seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(i) => i.parse::<usize>().ok().and_then(|i| node.get_mut(i)),
            None if seg.is_empty() => Some(node),
            None => node.get_mut(*seg),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Some(m) = node.as_object_mut() {
        m.remove(*last);
    }
}

/// The container with the defaulted spec's values filled in where it has none.
fn with_defaults(container: &Value, spec: &SidecarSpec) -> Value {
    let mut defaulted = serde_json::to_value(spec).unwrap_or(Value::Null);
    if let Some(m) = defaulted.as_object_mut() {
        m.remove("volumes");
    }
    let mut out = container.clone();
    fill(&mut out, &defaulted);
    out
}

fn fill(target: &mut Value, defaults: &Value) {
    match (target, defaults) {
        (Value::Object(t), Value::Object(d)) => {
            for (k, v) in d {
                match t.get_mut(k) {
                    Some(existing) => fill(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(d)) if t.len() == d.len() => {
            for (a, b) in t.iter_mut().zip(d) {
                fill(a, b);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_filled_and_other_fields_kept() {
        let c = json!({"name": "web", "image": "nginx", "ports": [{"containerPort": 80}],
            "securityContext": {"runAsNonRoot": true},
            "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}]});
        let out = check_container(&c, &["data"]).unwrap();
        assert_eq!(out["imagePullPolicy"], "Always");
        assert_eq!(out["ports"][0]["protocol"], "TCP");
        assert_eq!(out["securityContext"]["runAsNonRoot"], true);
        assert_eq!(out["env"][0]["valueFrom"]["secretKeyRef"]["name"], "s");
    }

    #[test]
    fn container_rules_hold_with_their_paths() {
        let c = json!({"name": "Web", "image": "", "ports": [{"containerPort": 70000}],
            "volumeMounts": [{"name": "nope", "mountPath": "/x"}]});
        let errs = check_container(&c, &["data"]).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"name"), "{fields:?}");
        assert!(fields.contains(&"image"), "{fields:?}");
        assert!(fields.contains(&"ports[0].containerPort"), "{fields:?}");
        assert!(fields.contains(&"volumeMounts[0].name"), "{fields:?}");
    }
}
