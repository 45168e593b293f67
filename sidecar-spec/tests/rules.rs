//! A valid and an invalid case for every rule, with the field path and kind asserted.

use serde_json::{json, Value};
use sidecar_spec::{check, check_value, CheckError, ErrorKind, SidecarSpec};

fn base() -> Value {
    json!({"name": "sc", "image": "busybox:1.36"})
}

/// The base spec with `patch` merged in (RFC 7386: null removes).
fn with(patch: Value) -> Value {
    let mut v = base();
    merge(&mut v, patch);
    v
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

fn errors(v: Value) -> Vec<(String, ErrorKind)> {
    match check_value(v) {
        Ok(_) => Vec::new(),
        Err(CheckError::Invalid(errs)) => errs.into_iter().map(|e| (e.field.as_str().to_owned(), e.kind)).collect(),
        Err(e) => panic!("unexpected {e}"),
    }
}

#[track_caller]
fn valid(v: Value) -> SidecarSpec {
    match check_value(v.clone()) {
        Ok(s) => s,
        Err(e) => panic!("expected valid, got {:?} for {v}", e.field_errors()),
    }
}

#[track_caller]
fn invalid(v: Value, field: &str, kind: ErrorKind) {
    let errs = errors(v.clone());
    assert!(errs.iter().any(|(f, k)| f == field && *k == kind), "expected {kind} at {field}, got {errs:?} for {v}");
}

#[test]
fn documented_examples_are_valid() {
    for ex in sidecar_spec::examples::ALL {
        check(ex.json).unwrap_or_else(|e| panic!("{}: {:?}", ex.file, e.field_errors()));
    }
}

#[test]
fn name() {
    valid(with(json!({"name": "a-1"})));
    valid(with(json!({"name": "a".repeat(63)})));
    invalid(with(json!({"name": null})), "name", ErrorKind::Required);
    invalid(with(json!({"name": ""})), "name", ErrorKind::Required);
    invalid(with(json!({"name": "My_Sidecar"})), "name", ErrorKind::Invalid);
    invalid(with(json!({"name": "-a"})), "name", ErrorKind::Invalid);
    invalid(with(json!({"name": "a.b"})), "name", ErrorKind::Invalid);
    invalid(with(json!({"name": "a".repeat(64)})), "name", ErrorKind::Invalid);
}

#[test]
fn image() {
    invalid(with(json!({"image": null})), "image", ErrorKind::Required);
    invalid(with(json!({"image": ""})), "image", ErrorKind::Required);
    invalid(with(json!({"image": " nginx"})), "image", ErrorKind::Invalid);
    invalid(with(json!({"image": "nginx\n"})), "image", ErrorKind::Invalid);
}

#[test]
fn image_pull_policy() {
    for p in ["Always", "IfNotPresent", "Never"] {
        valid(with(json!({"imagePullPolicy": p})));
    }
    invalid(with(json!({"imagePullPolicy": "always"})), "imagePullPolicy", ErrorKind::NotSupported);
    invalid(with(json!({"imagePullPolicy": "Sometimes"})), "imagePullPolicy", ErrorKind::NotSupported);
}

#[test]
fn pull_policy_defaults() {
    let policy = |image: &str| valid(with(json!({"image": image}))).image_pull_policy;
    assert_eq!(policy("nginx"), "Always");
    assert_eq!(policy("nginx:latest"), "Always");
    assert_eq!(policy("nginx:1.25"), "IfNotPresent");
    assert_eq!(valid(with(json!({"image": "nginx", "imagePullPolicy": ""}))).image_pull_policy, "Always");
    assert_eq!(valid(with(json!({"image": "nginx", "imagePullPolicy": "Never"}))).image_pull_policy, "Never");
}

#[test]
fn ports() {
    let s = valid(with(
        json!({"ports": [{"containerPort": 80}, {"name": "metrics", "containerPort": 9090, "protocol": "UDP", "hostPort": 9090}]}),
    ));
    assert_eq!(s.ports[0].protocol, "TCP");
    assert_eq!(valid(with(json!({"ports": [{"containerPort": 80, "protocol": ""}]}))).ports[0].protocol, "TCP");
    invalid(with(json!({"ports": [{"name": "a"}]})), "ports[0].containerPort", ErrorKind::Required);
    invalid(with(json!({"ports": [{"containerPort": 0}]})), "ports[0].containerPort", ErrorKind::Required);
    invalid(
        with(json!({"ports": [{"containerPort": 80}, {"containerPort": 70000}]})),
        "ports[1].containerPort",
        ErrorKind::Invalid,
    );
    invalid(with(json!({"ports": [{"containerPort": -1}]})), "ports[0].containerPort", ErrorKind::Invalid);
    invalid(
        with(json!({"ports": [{"containerPort": 80, "hostPort": 65536}]})),
        "ports[0].hostPort",
        ErrorKind::Invalid,
    );
    invalid(with(json!({"ports": [{"containerPort": 80, "hostPort": -5}]})), "ports[0].hostPort", ErrorKind::Invalid);
    invalid(
        with(json!({"ports": [{"containerPort": 80, "protocol": "HTTP"}]})),
        "ports[0].protocol",
        ErrorKind::NotSupported,
    );
    invalid(
        with(json!({"ports": [{"containerPort": 80, "protocol": "tcp"}]})),
        "ports[0].protocol",
        ErrorKind::NotSupported,
    );
    invalid(
        with(json!({"ports": [{"containerPort": 80, "name": "a"}, {"containerPort": 81, "name": "a"}]})),
        "ports[1].name",
        ErrorKind::Duplicate,
    );
    invalid(
        with(json!({"ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 80}]})),
        "ports[1].hostPort",
        ErrorKind::Duplicate,
    );
    valid(with(
        json!({"ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 80, "protocol": "UDP"}]}),
    ));
    for bad in ["HTTP", "123", "-web", "web-", "we--b", "a-very-long-port-name", "we_b", ""] {
        if bad.is_empty() {
            continue; // an empty name means "no name"
        }
        invalid(with(json!({"ports": [{"containerPort": 80, "name": bad}]})), "ports[0].name", ErrorKind::Invalid);
    }
    for good in ["web", "h2c", "a-b-c", "x123456789abcde"] {
        valid(with(json!({"ports": [{"containerPort": 80, "name": good}]})));
    }
}

#[test]
fn volumes() {
    let cm = |name: &str| json!({"name": name, "configMap": {"name": "cfg"}});
    let s = valid(with(json!({"volumes": [cm("config")]})));
    assert_eq!(s.volumes[0].config_map.as_ref().unwrap().default_mode, Some(0o644));
    assert_eq!(
        valid(with(json!({"volumes": [{"name": "c", "configMap": {"name": "cfg", "defaultMode": 0}}]}))).volumes[0]
            .config_map
            .as_ref()
            .unwrap()
            .default_mode,
        Some(0),
        "an explicit 0 mode is kept, as Kubernetes keeps it"
    );
    invalid(with(json!({"volumes": [{"configMap": {"name": "cfg"}}]})), "volumes[0].name", ErrorKind::Required);
    invalid(with(json!({"volumes": [cm("Config")]})), "volumes[0].name", ErrorKind::Invalid);
    invalid(with(json!({"volumes": [cm("a"), cm("a")]})), "volumes[1].name", ErrorKind::Duplicate);
    invalid(with(json!({"volumes": [{"name": "a"}]})), "volumes[0]", ErrorKind::Required);
    // A source other than configMap is the one error, not also "no source".
    assert_eq!(
        errors(with(json!({"volumes": [{"name": "a", "emptyDir": {}}]}))),
        vec![("volumes[0].emptyDir".to_owned(), ErrorKind::Forbidden)]
    );
    invalid(with(json!({"volumes": [{"name": "a", "emptyDir": {}}]})), "volumes[0].emptyDir", ErrorKind::Forbidden);
    invalid(
        with(json!({"volumes": [{"name": "a", "configMap": {"name": "c"}, "hostPath": {"path": "/"}}]})),
        "volumes[0].hostPath",
        ErrorKind::Forbidden,
    );
    invalid(
        with(json!({"volumes": [{"name": "a", "secret": {"secretName": "s"}}]})),
        "volumes[0].secret",
        ErrorKind::Forbidden,
    );
    invalid(
        with(json!({"volumes": [{"name": "a", "configMap": {}}]})),
        "volumes[0].configMap.name",
        ErrorKind::Required,
    );
    invalid(
        with(json!({"volumes": [{"name": "a", "configMap": {"name": "c", "defaultMode": 512}}]})),
        "volumes[0].configMap.defaultMode",
        ErrorKind::Invalid,
    );
    invalid(
        with(json!({"volumes": [{"name": "a", "configMap": {"name": "c", "defaultMode": -1}}]})),
        "volumes[0].configMap.defaultMode",
        ErrorKind::Invalid,
    );
    valid(with(json!({"volumes": [{"name": "a", "configMap": {"name": "c", "defaultMode": 511, "optional": true}}]})));
    let item = |key: &str, path: &str, mode: i64| {
        with(
            json!({"volumes": [{"name": "a", "configMap": {"name": "c", "items": [{"key": key, "path": path, "mode": mode}]}}]}),
        )
    };
    valid(item("k", "dir/file.yaml", 0o400));
    invalid(item("", "f", 0o400), "volumes[0].configMap.items[0].key", ErrorKind::Required);
    invalid(item("k", "", 0o400), "volumes[0].configMap.items[0].path", ErrorKind::Required);
    invalid(item("k", "/abs", 0o400), "volumes[0].configMap.items[0].path", ErrorKind::Invalid);
    invalid(item("k", "a/../b", 0o400), "volumes[0].configMap.items[0].path", ErrorKind::Invalid);
    invalid(item("k", "..a", 0o400), "volumes[0].configMap.items[0].path", ErrorKind::Invalid);
    valid(item("k", "a..b", 0o400));
    invalid(item("k", "f", 0o1000), "volumes[0].configMap.items[0].mode", ErrorKind::Invalid);
}

#[test]
fn volume_mounts() {
    let vols = json!([{"name": "cfg", "configMap": {"name": "c"}}]);
    let mount = |m: Value| with(json!({"volumes": vols.clone(), "volumeMounts": [m]}));
    valid(mount(
        json!({"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true, "subPath": "a/b", "mountPropagation": "HostToContainer"}),
    ));
    invalid(mount(json!({"mountPath": "/x"})), "volumeMounts[0].name", ErrorKind::Required);
    invalid(mount(json!({"name": "nope", "mountPath": "/x"})), "volumeMounts[0].name", ErrorKind::NotFound);
    invalid(mount(json!({"name": "cfg"})), "volumeMounts[0].mountPath", ErrorKind::Required);
    invalid(
        with(
            json!({"volumes": vols.clone(), "volumeMounts": [{"name": "cfg", "mountPath": "/x"}, {"name": "cfg", "mountPath": "/x"}]}),
        ),
        "volumeMounts[1].mountPath",
        ErrorKind::Invalid,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "subPath": "/abs"})),
        "volumeMounts[0].subPath",
        ErrorKind::Invalid,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "subPath": "../up"})),
        "volumeMounts[0].subPath",
        ErrorKind::Invalid,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "subPathExpr": "../$(POD)"})),
        "volumeMounts[0].subPathExpr",
        ErrorKind::Invalid,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "subPath": "a", "subPathExpr": "b"})),
        "volumeMounts[0].subPathExpr",
        ErrorKind::Invalid,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "mountPropagation": "Shared"})),
        "volumeMounts[0].mountPropagation",
        ErrorKind::NotSupported,
    );
    invalid(
        mount(json!({"name": "cfg", "mountPath": "/x", "mountPropagation": "Bidirectional"})),
        "volumeMounts[0].mountPropagation",
        ErrorKind::Forbidden,
    );
    valid(mount(json!({"name": "cfg", "mountPath": "/x", "mountPropagation": "None"})));
}

fn probe(kind: &str, p: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(kind.to_owned(), p);
    with(Value::Object(m))
}

#[test]
fn probes() {
    for kind in ["livenessProbe", "readinessProbe", "startupProbe"] {
        valid(probe(kind, json!({"exec": {"command": ["true"]}})));
        valid(probe(kind, json!({"tcpSocket": {"port": "http"}})));
        valid(probe(kind, json!({"grpc": {"port": 9000, "service": "health"}})));
        valid(probe(
            kind,
            json!({"httpGet": {"port": 8080, "scheme": "HTTPS", "httpHeaders": [{"name": "X-A", "value": "1"}]}}),
        ));
        invalid(probe(kind, json!({})), kind, ErrorKind::Required);
        invalid(probe(kind, json!({"periodSeconds": 5})), kind, ErrorKind::Required);
        invalid(
            probe(kind, json!({"exec": {"command": ["x"]}, "tcpSocket": {"port": 1}})),
            &format!("{kind}.tcpSocket"),
            ErrorKind::Forbidden,
        );
        invalid(probe(kind, json!({"exec": {"command": []}})), &format!("{kind}.exec.command"), ErrorKind::Required);
        invalid(probe(kind, json!({"exec": {}})), &format!("{kind}.exec.command"), ErrorKind::Required);
        invalid(probe(kind, json!({"httpGet": {"port": 70000}})), &format!("{kind}.httpGet.port"), ErrorKind::Invalid);
        invalid(probe(kind, json!({"httpGet": {"port": 0}})), &format!("{kind}.httpGet.port"), ErrorKind::Invalid);
        invalid(probe(kind, json!({"httpGet": {}})), &format!("{kind}.httpGet.port"), ErrorKind::Invalid);
        invalid(probe(kind, json!({"tcpSocket": {}})), &format!("{kind}.tcpSocket.port"), ErrorKind::Invalid);
        invalid(
            probe(kind, json!({"httpGet": {"port": "Not_A_Name"}})),
            &format!("{kind}.httpGet.port"),
            ErrorKind::Invalid,
        );
        invalid(
            probe(kind, json!({"httpGet": {"port": 80, "scheme": "FTP"}})),
            &format!("{kind}.httpGet.scheme"),
            ErrorKind::NotSupported,
        );
        invalid(
            probe(kind, json!({"httpGet": {"port": 80, "httpHeaders": [{"name": "Bad Header", "value": "x"}]}})),
            &format!("{kind}.httpGet.httpHeaders[0].name"),
            ErrorKind::Invalid,
        );
        invalid(
            probe(kind, json!({"tcpSocket": {"port": 65536}})),
            &format!("{kind}.tcpSocket.port"),
            ErrorKind::Invalid,
        );
        invalid(
            probe(kind, json!({"tcpSocket": {"port": "-x"}})),
            &format!("{kind}.tcpSocket.port"),
            ErrorKind::Invalid,
        );
        invalid(probe(kind, json!({"grpc": {"port": 0}})), &format!("{kind}.grpc.port"), ErrorKind::Invalid);
        invalid(probe(kind, json!({"grpc": {"port": 65536}})), &format!("{kind}.grpc.port"), ErrorKind::Invalid);
        for field in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]
        {
            let mut p = json!({"exec": {"command": ["x"]}});
            p[field] = json!(-1);
            invalid(probe(kind, p), &format!("{kind}.{field}"), ErrorKind::Invalid);
        }
    }
    invalid(
        probe("livenessProbe", json!({"exec": {"command": ["x"]}, "successThreshold": 2})),
        "livenessProbe.successThreshold",
        ErrorKind::Invalid,
    );
    invalid(
        probe("startupProbe", json!({"exec": {"command": ["x"]}, "successThreshold": 3})),
        "startupProbe.successThreshold",
        ErrorKind::Invalid,
    );
    valid(probe("readinessProbe", json!({"exec": {"command": ["x"]}, "successThreshold": 3})));
    valid(probe("livenessProbe", json!({"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 30})));
    invalid(
        probe("livenessProbe", json!({"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 0})),
        "livenessProbe.terminationGracePeriodSeconds",
        ErrorKind::Invalid,
    );
    invalid(
        probe("startupProbe", json!({"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": -1})),
        "startupProbe.terminationGracePeriodSeconds",
        ErrorKind::Invalid,
    );
    invalid(
        probe("readinessProbe", json!({"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 30})),
        "readinessProbe.terminationGracePeriodSeconds",
        ErrorKind::Invalid,
    );
}

fn hook(which: &str, h: Value) -> Value {
    with(json!({"lifecycle": {which: h}}))
}

/// The cases of Kubernetes' `TestValidateContainers` / `TestValidateLifecycle` for lifecycle
/// handlers (`pkg/apis/core/validation/validation_test.go`), for both hooks.
#[test]
fn lifecycle_hooks() {
    for which in ["postStart", "preStop"] {
        let at = |rest: &str| format!("lifecycle.{which}{rest}");
        // "valid lifecycle": one handler of each kind.
        valid(hook(which, json!({"exec": {"command": ["ls", "-l"]}})));
        valid(hook(which, json!({"httpGet": {"host": "127.0.0.1", "port": 80, "path": "/healthz"}})));
        valid(hook(which, json!({"tcpSocket": {"port": 8080}})));
        valid(hook(which, json!({"sleep": {"seconds": 1}})));
        valid(hook(which, json!({"sleep": {"seconds": 30}})));
        // "invalid lifecycle, no exec command."
        invalid(hook(which, json!({"exec": {}})), &at(".exec.command"), ErrorKind::Required);
        // "invalid lifecycle, no http path." (Kubernetes defaults an empty path to "/" first.)
        let spec = valid(hook(which, json!({"httpGet": {"port": 80}})));
        let http = spec
            .lifecycle
            .and_then(|l| if which == "preStop" { l.pre_stop } else { l.post_start })
            .and_then(|h| h.http_get);
        assert_eq!(http.map(|h| (h.path, h.scheme)), Some(("/".into(), "HTTP".into())));
        // "invalid lifecycle, no http port." / "invalid lifecycle, no tcp socket port."
        invalid(hook(which, json!({"httpGet": {"path": "/"}})), &at(".httpGet.port"), ErrorKind::Invalid);
        invalid(hook(which, json!({"tcpSocket": {}})), &at(".tcpSocket.port"), ErrorKind::Invalid);
        // "invalid lifecycle, zero tcp socket port." / out of range / a malformed port name.
        invalid(hook(which, json!({"tcpSocket": {"port": 0}})), &at(".tcpSocket.port"), ErrorKind::Invalid);
        invalid(hook(which, json!({"httpGet": {"port": 65536}})), &at(".httpGet.port"), ErrorKind::Invalid);
        invalid(hook(which, json!({"httpGet": {"port": "Not_A_Name"}})), &at(".httpGet.port"), ErrorKind::Invalid);
        // "invalid lifecycle, no http scheme." (an unsupported one)
        invalid(
            hook(which, json!({"httpGet": {"port": 80, "scheme": "FTP"}})),
            &at(".httpGet.scheme"),
            ErrorKind::NotSupported,
        );
        invalid(
            hook(which, json!({"httpGet": {"port": 80, "httpHeaders": [{"name": "Bad Header", "value": "x"}]}})),
            &at(".httpGet.httpHeaders[0].name"),
            ErrorKind::Invalid,
        );
        // "invalid lifecycle, no action."
        invalid(hook(which, json!({})), &at(""), ErrorKind::Required);
        // More than one handler.
        invalid(
            hook(which, json!({"exec": {"command": ["true"]}, "sleep": {"seconds": 5}})),
            &at(".sleep"),
            ErrorKind::Forbidden,
        );
        // "invalid lifecycle, sleep": zero, negative, longer than the grace period.
        for seconds in [0, -1, 31] {
            invalid(hook(which, json!({"sleep": {"seconds": seconds}})), &at(".sleep.seconds"), ErrorKind::Invalid);
        }
        // Fields a hook does not have.
        invalid(hook(which, json!({"grpc": {"port": 9000}})), &at(".grpc"), ErrorKind::UnknownField);
        invalid(
            hook(which, json!({"sleep": {"seconds": 5, "millis": 1}})),
            &at(".sleep.millis"),
            ErrorKind::UnknownField,
        );
    }
    let e = errors(hook("preStop", json!({"sleep": {"seconds": 0}})));
    assert_eq!(e.len(), 1, "{e:?}");
    match check_value(hook("preStop", json!({"sleep": {"seconds": 0}}))) {
        Err(CheckError::Invalid(errs)) => {
            assert_eq!(errs[0].message, "must be greater than 0 and less than terminationGracePeriodSeconds (30)")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn probe_defaults_and_explicit_zero() {
    for p in [
        json!({"httpGet": {"port": 80}}),
        json!({"httpGet": {"port": 80, "path": "", "scheme": ""}, "timeoutSeconds": 0, "periodSeconds": 0, "successThreshold": 0, "failureThreshold": 0}),
    ] {
        let s = valid(probe("livenessProbe", p));
        let l = s.liveness_probe.unwrap();
        assert_eq!((l.timeout_seconds, l.period_seconds, l.success_threshold, l.failure_threshold), (1, 10, 1, 3));
        let h = l.http_get.unwrap();
        assert_eq!((h.path.as_str(), h.scheme.as_str()), ("/", "HTTP"));
    }
    let s =
        valid(probe("readinessProbe", json!({"tcpSocket": {"port": 1}, "timeoutSeconds": 5, "failureThreshold": 7})));
    let r = s.readiness_probe.unwrap();
    assert_eq!((r.timeout_seconds, r.failure_threshold), (5, 7));
}

fn env(e: Value) -> Value {
    with(json!({"env": [e]}))
}

#[test]
fn env_vars() {
    valid(env(json!({"name": "A", "value": "1"})));
    valid(env(json!({"name": "weird name.with-chars!", "value": "1"})));
    invalid(env(json!({"value": "1"})), "env[0].name", ErrorKind::Required);
    invalid(env(json!({"name": "A=B"})), "env[0].name", ErrorKind::Invalid);
    invalid(env(json!({"name": "tab\there"})), "env[0].name", ErrorKind::Invalid);
    invalid(env(json!({"name": "A", "valueFrom": {}})), "env[0].valueFrom", ErrorKind::Invalid);
    invalid(
        env(json!({"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})),
        "env[0].valueFrom",
        ErrorKind::Invalid,
    );
    invalid(
        env(
            json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}, "secretKeyRef": {"name": "s", "key": "k"}}}),
        ),
        "env[0].valueFrom",
        ErrorKind::Invalid,
    );
    // fieldRef
    let s = valid(env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})));
    assert_eq!(s.env[0].value_from.as_ref().unwrap().field_ref.as_ref().unwrap().api_version, "v1");
    for ok in [
        "metadata.namespace",
        "status.podIP",
        "spec.nodeName",
        "metadata.labels['app']",
        "metadata.annotations['a.b/c']",
        "spec.host",
    ] {
        valid(env(json!({"name": "A", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": ok}}})));
    }
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {}}})),
        "env[0].valueFrom.fieldRef.fieldPath",
        ErrorKind::Required,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}})),
        "env[0].valueFrom.fieldRef.fieldPath",
        ErrorKind::NotSupported,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}})),
        "env[0].valueFrom.fieldRef.fieldPath",
        ErrorKind::NotSupported,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.whatever"}}})),
        "env[0].valueFrom.fieldRef.fieldPath",
        ErrorKind::Invalid,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name['x']"}}})),
        "env[0].valueFrom.fieldRef.fieldPath",
        ErrorKind::Invalid,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['bad key']"}}})),
        "env[0].valueFrom.fieldRef",
        ErrorKind::Invalid,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}})),
        "env[0].valueFrom.fieldRef.apiVersion",
        ErrorKind::Invalid,
    );
    // resourceFieldRef
    for ok in ["limits.cpu", "requests.memory", "limits.ephemeral-storage", "requests.hugepages-2Mi"] {
        valid(env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": ok}}})));
    }
    valid(env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}})));
    valid(env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1000m"}}})));
    valid(env(
        json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}),
    ));
    invalid(
        env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {}}})),
        "env[0].valueFrom.resourceFieldRef.resource",
        ErrorKind::Required,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}})),
        "env[0].valueFrom.resourceFieldRef.resource",
        ErrorKind::NotSupported,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "2"}}})),
        "env[0].valueFrom.resourceFieldRef.divisor",
        ErrorKind::Invalid,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1m"}}})),
        "env[0].valueFrom.resourceFieldRef.divisor",
        ErrorKind::Invalid,
    );
    invalid(
        env(json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1x"}}})),
        "env[0].valueFrom.resourceFieldRef.divisor",
        ErrorKind::Invalid,
    );
    // configMapKeyRef / secretKeyRef
    for src in ["configMapKeyRef", "secretKeyRef"] {
        let sel = |name: &str, key: &str| env(json!({"name": "A", "valueFrom": {src: {"name": name, "key": key}}}));
        valid(sel("my-config.v1", "KEY_name.x-1"));
        invalid(sel("", "k"), &format!("env[0].valueFrom.{src}.name"), ErrorKind::Invalid);
        invalid(sel("Bad_Name", "k"), &format!("env[0].valueFrom.{src}.name"), ErrorKind::Invalid);
        invalid(sel("cfg", ""), &format!("env[0].valueFrom.{src}.key"), ErrorKind::Required);
        invalid(sel("cfg", "bad key"), &format!("env[0].valueFrom.{src}.key"), ErrorKind::Invalid);
        invalid(sel("cfg", ".."), &format!("env[0].valueFrom.{src}.key"), ErrorKind::Invalid);
        invalid(sel("cfg", "..a"), &format!("env[0].valueFrom.{src}.key"), ErrorKind::Invalid);
    }
}

fn res(r: Value) -> Value {
    with(json!({"resources": r}))
}

#[test]
fn resources() {
    let s = valid(res(json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": 0.25}})));
    let r = s.resources.unwrap();
    assert_eq!(r.requests["cpu"].to_string(), "250m");
    assert_eq!(r.requests["memory"].to_string(), "128Mi", "requests default to limits");
    valid(res(json!({"limits": {"example.com/gpu": "2"}})));
    valid(res(json!({"limits": {"ephemeral-storage": "1Gi", "hugepages-2Mi": "4Mi", "memory": "1Gi"}})));
    invalid(res(json!({"limits": {"cpu": "abc"}})), "resources.limits[cpu]", ErrorKind::Invalid);
    invalid(res(json!({"requests": {"memory": "12 Mi"}})), "resources.requests[memory]", ErrorKind::Invalid);
    invalid(res(json!({"limits": {"cpu": "1Kb"}})), "resources.limits[cpu]", ErrorKind::Invalid);
    invalid(res(json!({"limits": {"cpu": true}})), "resources.limits[cpu]", ErrorKind::Type);
    invalid(res(json!({"limits": {"cpu": "-1"}})), "resources.limits[cpu]", ErrorKind::Invalid);
    invalid(res(json!({"requests": {"memory": "-1Mi"}})), "resources.requests[memory]", ErrorKind::Invalid);
    invalid(
        res(json!({"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})),
        "resources.requests[cpu]",
        ErrorKind::Invalid,
    );
    valid(res(json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1000m"}})));
    invalid(res(json!({"limits": {"gpu": "1"}})), "resources.limits[gpu]", ErrorKind::Invalid);
    let errs = errors(res(json!({"limits": {"gpu": "1"}})));
    assert!(errs.iter().all(|(f, _)| f == "resources.limits[gpu]"), "a defaulted request repeats nothing: {errs:?}");
    invalid(res(json!({"requests": {"gpu": "1"}})), "resources.requests[gpu]", ErrorKind::Invalid);
    invalid(res(json!({"limits": {"pods": "1"}})), "resources.limits[pods]", ErrorKind::Invalid);
    invalid(res(json!({"limits": {"bad name!": "1"}})), "resources.limits[bad name!]", ErrorKind::Invalid);
    invalid(
        res(json!({"limits": {"example.com/gpu": "1.5"}})),
        "resources.limits[example.com/gpu]",
        ErrorKind::Invalid,
    );
    invalid(
        res(json!({"limits": {"example.com/gpu": "2"}, "requests": {"example.com/gpu": "1"}})),
        "resources.requests[example.com/gpu]",
        ErrorKind::Invalid,
    );
    invalid(
        res(json!({"requests": {"example.com/gpu": "1"}})),
        "resources.limits[example.com/gpu]",
        ErrorKind::Required,
    );
    invalid(res(json!({"limits": {"hugepages-2Mi": "4Mi"}})), "resources", ErrorKind::Forbidden);
    invalid(
        res(json!({"limits": {"hugepages-2Mi": "3Mi", "memory": "1Gi"}})),
        "resources.limits[hugepages-2Mi]",
        ErrorKind::Invalid,
    );
    invalid(
        res(json!({"limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi"}, "requests": {"hugepages-2Mi": "2Mi"}})),
        "resources.requests[hugepages-2Mi]",
        ErrorKind::Invalid,
    );
    invalid(res(json!({"claims": []})), "resources.claims", ErrorKind::UnknownField);
}

#[test]
fn unknown_fields_name_their_path_and_suggest() {
    let v = probe("livenessProbe", json!({"httpget": {"port": 80}}));
    let Err(CheckError::Invalid(errs)) = check_value(v) else { panic!() };
    assert_eq!(errs.len(), 1, "the missing handler is a consequence of the typo: {errs:?}");
    assert_eq!(errs[0].field.as_str(), "livenessProbe.httpget");
    assert_eq!(errs[0].kind, ErrorKind::UnknownField);
    assert!(errs[0].message.contains("did you mean \"httpGet\""), "{}", errs[0].message);
    invalid(with(json!({"securityContext": {"privileged": true}})), "securityContext", ErrorKind::UnknownField);
    invalid(
        with(json!({"ports": [{"containerPort": 80, "portName": "x"}]})),
        "ports[0].portName",
        ErrorKind::UnknownField,
    );
}

#[test]
fn wrong_types_name_their_path() {
    invalid(with(json!({"name": 5})), "name", ErrorKind::Type);
    invalid(with(json!({"command": "sleep"})), "command", ErrorKind::Type);
    invalid(with(json!({"command": ["a", 1]})), "command[1]", ErrorKind::Type);
    invalid(with(json!({"ports": [{"containerPort": "80"}]})), "ports[0].containerPort", ErrorKind::Type);
    invalid(with(json!({"ports": [{"containerPort": 80.5}]})), "ports[0].containerPort", ErrorKind::Type);
    invalid(with(json!({"ports": [{"containerPort": 4294967296u64}]})), "ports[0].containerPort", ErrorKind::Type);
    invalid(with(json!({"ports": {"containerPort": 80}})), "ports", ErrorKind::Type);
    invalid(with(json!({"ports": ["80"]})), "ports[0]", ErrorKind::Type);
    invalid(probe("livenessProbe", json!({"httpGet": {"port": 80.5}})), "livenessProbe.httpGet.port", ErrorKind::Type);
    invalid(
        probe("livenessProbe", json!({"httpGet": {"port": 80}, "periodSeconds": "10"})),
        "livenessProbe.periodSeconds",
        ErrorKind::Type,
    );
    invalid(
        with(json!({"volumeMounts": [{"name": "a", "mountPath": "/a", "readOnly": "yes"}]})),
        "volumeMounts[0].readOnly",
        ErrorKind::Type,
    );
    let errs = errors(json!([1, 2]));
    assert_eq!(errs, vec![(String::new(), ErrorKind::Type)]);
    // No "required" beside the wrong type at the same place.
    let errs = errors(with(json!({"ports": [{"containerPort": "80"}]})));
    assert_eq!(errs, vec![("ports[0].containerPort".to_owned(), ErrorKind::Type)]);
}

#[test]
fn every_error_is_reported_at_once() {
    let v = json!({
        "name": "Bad_Name",
        "image": "",
        "imagePullPolicy": "Sometimes",
        "ports": [{"containerPort": 70000}, {"containerPort": 80, "protocol": "ICMP"}],
        "volumeMounts": [{"name": "missing", "mountPath": "/x"}],
        "livenessProbe": {"httpGet": {"port": 70000}},
        "bogus": 1
    });
    let errs = errors(v);
    let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
    for f in [
        "bogus",
        "name",
        "image",
        "imagePullPolicy",
        "ports[0].containerPort",
        "ports[1].protocol",
        "volumeMounts[0].name",
        "livenessProbe.httpGet.port",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let Err(CheckError::Syntax(e)) = check("{\n  \"name\": \"a\",\n  \"image\" \"x\"\n}") else { panic!() };
    assert_eq!((e.line, e.column), (3, 11));
    assert!(e.to_string().starts_with("invalid JSON at line 3, column 11"), "{e}");
}

#[test]
fn nulls_count_as_omitted() {
    valid(with(json!({"command": null, "ports": null, "livenessProbe": null})));
}

#[test]
fn a_null_map_value_is_a_wrong_type_not_a_dropped_key() {
    let mut v = base();
    v["resources"] = json!({"limits": {}, "requests": {"cpu": null}});
    let errs = errors(v.clone());
    assert_eq!(errs, vec![("resources.requests[cpu]".to_owned(), ErrorKind::Type)], "for {v}");
    let Err(e) = check_value(v) else { panic!() };
    assert!(e.field_errors()[0].message.contains("got null"), "{:?}", e.field_errors());
}

#[test]
fn defaulted_output_is_kubernetes_shaped() {
    let s = check(sidecar_spec::examples::ALL[2].json).unwrap();
    let out = serde_json::to_value(&s).unwrap();
    assert_eq!(out["readinessProbe"]["httpGet"]["scheme"], "HTTP");
    assert_eq!(out["readinessProbe"]["periodSeconds"], 10);
    assert_eq!(out["startupProbe"]["failureThreshold"], 3);
    assert_eq!(out["ports"][0]["protocol"], "TCP");
    // The defaulted output checks again to itself.
    assert_eq!(check_value(out).unwrap(), s);
}

#[test]
fn schema_describes_the_types() {
    let schema = sidecar_spec::json_schema();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    let props = schema["properties"].as_object().unwrap();
    for f in [
        "name",
        "image",
        "imagePullPolicy",
        "command",
        "args",
        "env",
        "resources",
        "ports",
        "volumeMounts",
        "volumes",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
    ] {
        assert!(props.contains_key(f), "{f}");
    }
    assert!(schema["required"].as_array().unwrap().contains(&json!("name")));
}

#[test]
fn a_configmap_volume_names_a_configmap_kubernetes_could_have() {
    for bad in ["×ø", "Config", "a_b", "-cfg"] {
        let v = with(json!({"volumes": [{"name": "c", "configMap": {"name": bad}}]}));
        invalid(v, "volumes[0].configMap.name", ErrorKind::Invalid);
    }
    valid(with(json!({"volumes": [{"name": "c", "configMap": {"name": "envoy.config-1"}}]})));
}
