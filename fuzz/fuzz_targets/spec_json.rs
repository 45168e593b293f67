//! Structure-aware: JSON built from the spec's own field names (and others), so that the
//! fuzzer reaches deep into validation; as `spec_bytes`, also for the path-to-range mapping.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};

const FIELDS: &[&str] = &[
    "name", "image", "imagePullPolicy", "command", "args", "env", "value", "valueFrom", "fieldRef",
    "fieldPath", "resourceFieldRef", "resource", "divisor", "configMapKeyRef", "secretKeyRef", "key",
    "optional", "ports", "containerPort", "protocol", "hostPort", "volumeMounts", "mountPath",
    "readOnly", "subPath", "subPathExpr", "mountPropagation", "volumes", "configMap", "items", "path",
    "mode", "defaultMode", "resources", "limits", "requests", "cpu", "memory", "readinessProbe",
    "livenessProbe", "startupProbe", "exec", "httpGet", "port", "host", "scheme", "httpHeaders",
    "tcpSocket", "grpc", "service", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
    "failureThreshold", "successThreshold", "terminationGracePeriodSeconds", "lifecycle",
    "postStart", "preStop", "sleep", "seconds", "workingDir",
];

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Other(String),
}

impl Json {
    fn value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::Number((*i).into()),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Json::value).collect()),
            Json::Object(members) => {
                let mut m = Map::new();
                for (k, v) in members {
                    let k = match k {
                        Key::Known(i) => FIELDS[*i as usize % FIELDS.len()].to_owned(),
                        Key::Other(s) => s.clone(),
                    };
                    m.insert(k, v.value());
                }
                Value::Object(m)
            }
        }
    }
}

fuzz_target!(|json: Json| {
    let value = json.value();
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let checked = sidecar_spec::check(&text);
    // The same answer from the value as from its text.
    let from_value = sidecar_spec::check_value(value);
    assert_eq!(checked.is_ok(), from_value.is_ok());
    if let (Some(spans), Err(sidecar_spec::CheckError::Invalid(errors))) = (sidecar_spec::Spans::parse(&text), &checked) {
        for e in errors {
            let r = spans.range(e.field.as_str());
            assert!(r.start <= r.end && r.end <= text.len());
        }
    }
});
