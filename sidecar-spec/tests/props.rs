//! Decoding never panics, whatever the input, and its verdicts are stable.

use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "[a-zA-Z0-9 ._/:-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        // Keys are drawn mostly from the spec's own field names so the walk goes deep.
        let key = prop_oneof![
            prop::sample::select(vec![
                "name",
                "image",
                "imagePullPolicy",
                "command",
                "args",
                "env",
                "value",
                "valueFrom",
                "fieldRef",
                "fieldPath",
                "resourceFieldRef",
                "resource",
                "divisor",
                "configMapKeyRef",
                "secretKeyRef",
                "key",
                "resources",
                "limits",
                "requests",
                "cpu",
                "memory",
                "ports",
                "containerPort",
                "protocol",
                "hostPort",
                "volumeMounts",
                "mountPath",
                "subPath",
                "subPathExpr",
                "mountPropagation",
                "volumes",
                "configMap",
                "items",
                "path",
                "mode",
                "defaultMode",
                "emptyDir",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "exec",
                "httpGet",
                "port",
                "scheme",
                "httpHeaders",
                "tcpSocket",
                "grpc",
                "successThreshold",
                "terminationGracePeriodSeconds",
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        let text = v.to_string();
        let first = sidecar_spec::check(&text);
        // Same input, same verdict.
        prop_assert_eq!(first, sidecar_spec::check(&text));
    }

    #[test]
    fn every_value_is_found_at_its_path(v in arb_json(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let spans = sidecar_spec::Spans::parse(&text).expect("JSON text scans");
        // Compared with the text read back, not `v`: floats need not survive printing exactly.
        let read: Value = serde_json::from_str(&text).expect("JSON text parses");
        let mut leaves = Vec::new();
        paths(&read, String::new(), &mut leaves);
        for (path, want) in leaves {
            // Keys of this generator have no dots or brackets, so every path is unambiguous.
            let found: Value = serde_json::from_str(&text[spans.range(&path)]).expect("a value's range is JSON");
            prop_assert_eq!(&found, want, "at {}", path);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = sidecar_spec::check(&s);
        if let Some(spans) = sidecar_spec::Spans::parse(&s) {
            let r = spans.range("a[0].b");
            prop_assert!(r.end <= s.len());
        }
        let _ = sidecar_spec::position(&s, s.len() / 2);
    }

    #[test]
    fn valid_specs_stay_valid_after_a_round_trip(port in 1i32..=65535, name in "[a-z][a-z0-9-]{0,20}[a-z0-9]") {
        let v = json!({"name": name, "image": "nginx:1.25", "ports": [{"containerPort": port}],
                       "livenessProbe": {"tcpSocket": {"port": port}}});
        let spec = sidecar_spec::check_value(v).expect("valid");
        let again = sidecar_spec::check_value(serde_json::to_value(&spec).unwrap()).expect("still valid");
        prop_assert_eq!(spec, again);
    }

    #[test]
    fn quantities_never_panic(s in "[+-]?[0-9.]{0,25}[eEinumkKMGTP]{0,2}[-+]?[0-9]{0,4}") {
        if let Ok(a) = sidecar_spec::quantity::Amount::parse(&s) {
            // The canonical form parses to the same value.
            let b = sidecar_spec::quantity::Amount::parse(&a.canonical()).expect("canonical parses");
            prop_assert_eq!(a.cmp_value(&b), std::cmp::Ordering::Equal, "{} -> {}", s, a.canonical());
        }
    }
}

/// Every value of `v` below the top, with its path in the validator's notation.
fn paths<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                out.push((p.clone(), x));
                paths(x, p, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let p = format!("{at}[{i}]");
                out.push((p.clone(), x));
                paths(x, p, out);
            }
        }
        _ => {}
    }
}
