//! The demo data of the embedded cluster: a few namespaces and pipelines of each kind, some
//! with sidecars (one healthy, one whose image cannot be pulled), and the ConfigMaps they use.

use serde_json::{json, Value};

const FLUENT_BIT: &str = "ghcr.io/calyptia/core/calyptia-fluent-bit:24.1.1";

const ENVOY_YAML: &str = "admin:\n  address:\n    socket_address: {address: 0.0.0.0, port_value: 9901}\nstatic_resources:\n  listeners:\n  - name: ingress\n    address:\n      socket_address: {address: 0.0.0.0, port_value: 10000}\n    filter_chains:\n    - filters:\n      - name: envoy.filters.network.tcp_proxy\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\n          stat_prefix: ingress\n          cluster: fluent-bit\n  clusters:\n  - name: fluent-bit\n    load_assignment:\n      cluster_name: fluent-bit\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address: {address: 127.0.0.1, port_value: 2020}\n";

const NGINX_CONF: &str = "server {\n  listen 8080;\n  location /healthz { return 200 'ok'; }\n  location / { proxy_pass http://127.0.0.1:2020; }\n}\n";

const CONFIG: &str = "[INPUT]\n    Name   dummy\n    Tag    demo\n[OUTPUT]\n    Name   stdout\n    Match  *\n";

fn pipeline(ns: &str, name: &str, kind: &str, replicas: i32, sidecars: Value) -> Value {
    json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/part-of": "sidecar-console-demo"}},
        "spec": {"kind": kind, "replicasCount": replicas, "image": FLUENT_BIT, "config": CONFIG, "sidecars": sidecars}})
}

/// The objects, in the order they are created.
pub fn objects() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "logging"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "observability"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "envoy-config", "namespace": "logging"},
            "data": {"envoy.yaml": ENVOY_YAML}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nginx-config", "namespace": "logging"},
            "data": {"default.conf": NGINX_CONF}}),
        pipeline(
            "logging",
            "app-logs",
            "deployment",
            2,
            json!([{
                "name": "envoy-proxy", "image": "envoyproxy/envoy:v1.31.0",
                "command": ["/usr/local/bin/envoy", "-c", "/etc/envoy/envoy.yaml"],
                "ports": [{"name": "proxy", "containerPort": 10000}, {"name": "admin", "containerPort": 9901}],
                "volumeMounts": [{"name": "envoy-config", "mountPath": "/etc/envoy", "readOnly": true}],
                "volumes": [{"name": "envoy-config", "configMap": {"name": "envoy-config"}}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}, "periodSeconds": 10},
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
            }]),
        ),
        pipeline(
            "logging",
            "web-access",
            "deployment",
            1,
            json!([{
                "name": "nginx", "image": "nginx:1.27",
                "ports": [{"name": "http", "containerPort": 8080}],
                "volumeMounts": [{"name": "nginx-config", "mountPath": "/etc/nginx/conf.d", "readOnly": true}],
                "volumes": [{"name": "nginx-config", "configMap": {"name": "nginx-config"}}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}
            }]),
        ),
        pipeline("logging", "audit-logs", "statefulSet", 2, json!([])),
        pipeline(
            "observability",
            "node-metrics",
            "daemonSet",
            1,
            json!([{
                "name": "statsd-exporter", "image": "prom/statsd-exporter:v0.26.0",
                "args": ["--statsd.listen-udp=:9125"],
                "ports": [{"name": "metrics", "containerPort": 9102}, {"name": "statsd", "containerPort": 9125, "protocol": "UDP"}]
            }]),
        ),
        pipeline(
            "observability",
            "traces",
            "deployment",
            1,
            json!([{
                "name": "otel-agent", "image": "registry.example.com/observability/otel-agent:0.104.0",
                "ports": [{"name": "otlp", "containerPort": 4317}]
            }]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_sidecar_is_a_valid_spec() {
        for p in objects().iter().filter(|o| o["kind"] == "Pipeline") {
            for s in p["spec"]["sidecars"].as_array().into_iter().flatten() {
                if let Err(e) = sidecar_spec::check_value(s.clone()) {
                    panic!("{}: {e:?}", p["metadata"]["name"]);
                }
            }
        }
    }
}
