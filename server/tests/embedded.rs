//! The embedded cluster as a user meets it through the real `kubectl`: demo pipelines running,
//! a sidecar patched into a Pipeline reaching every replica, removed again, troubleshooting
//! (image pull failures, events, logs), and a deleted pipeline taking its workload with it.

use emulator::kubectl::Kubectl;

async fn embedded() -> Kubectl {
    let k = Kubectl::temporary();
    let addr = "127.0.0.1:0".parse().expect("addr");
    server::embedded::start(None, addr, k.kubeconfig(), true, None).await.expect("the embedded cluster starts");
    k
}

const CONTAINERS: &str = "jsonpath={range .items[*]}{.spec.containers[*].name}{\"\\n\"}{end}";

#[tokio::test]
async fn a_sidecar_patched_into_a_pipeline_reaches_every_replica_and_leaves_again() {
    let k = embedded().await;
    let out = k.ok(&["get", "pipelines", "-A"]).await;
    for name in ["app-logs", "audit-logs", "web-access", "node-metrics", "traces"] {
        assert!(out.contains(name), "{name} in {out}");
    }
    let header: Vec<&str> = out.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, vec!["NAMESPACE", "NAME", "KIND", "REPLICAS", "SIDECARS", "PHASE", "AGE"]);

    let sel = "core.calyptia.com/pipeline=audit-logs";
    k.until(&["get", "pods", "-n", "logging", "-l", sel, "-o", CONTAINERS], "fluent-bit\nfluent-bit").await;
    let patch = r#"[{"op":"add","path":"/spec/sidecars/-","value":{"name":"exporter","image":"prom/statsd-exporter:v0.26.0","ports":[{"containerPort":9102}]}}]"#;
    k.ok(&["patch", "pipeline", "audit-logs", "-n", "logging", "--type=json", "-p", patch]).await;
    k.until(&["get", "pods", "-n", "logging", "-l", sel, "-o", CONTAINERS], "fluent-bit exporter\nfluent-bit exporter")
        .await;
    k.ok(&["rollout", "status", "statefulset/audit-logs", "-n", "logging", "--timeout=30s"]).await;
    k.until(&["get", "pipeline", "audit-logs", "-n", "logging", "-o", "jsonpath={.status.phase}"], "STARTED").await;
    let logs = k.ok(&["logs", "audit-logs-0", "-n", "logging", "-c", "exporter"]).await;
    assert!(logs.contains("Accepting connections"), "{logs}");

    k.ok(&[
        "patch",
        "pipeline",
        "audit-logs",
        "-n",
        "logging",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/sidecars/0"}]"#,
    ])
    .await;
    k.until(&["get", "pods", "-n", "logging", "-l", sel, "-o", CONTAINERS], "fluent-bit\nfluent-bit").await;

    k.ok(&["delete", "pipeline", "audit-logs", "-n", "logging"]).await;
    k.until(&["get", "statefulsets,pods", "-n", "logging", "-l", sel, "-o", "name"], "").await;
}

#[tokio::test]
async fn troubleshooting_shows_what_a_real_cluster_shows() {
    let k = embedded().await;
    // The demo pipeline whose sidecar image cannot be pulled.
    k.until(
        &[
            "get",
            "pods",
            "-n",
            "observability",
            "-l",
            "core.calyptia.com/pipeline=traces",
            "-o",
            "jsonpath={.items[0].status.containerStatuses[1].state.waiting.reason}",
        ],
        "ImagePullBackOff",
    )
    .await;
    let pods = k.ok(&["get", "pods", "-n", "observability"]).await;
    assert!(pods.contains("ImagePullBackOff"), "{pods}");
    let events = k.ok(&["get", "events", "-n", "observability"]).await;
    assert!(
        events.contains("Failed to pull image \"registry.example.com/observability/otel-agent:0.104.0\""),
        "{events}"
    );
    k.until(&["get", "pipeline", "traces", "-n", "observability", "-o", "jsonpath={.status.phase}"], "STARTING").await;

    // A sidecar mounting a ConfigMap that does not exist yet.
    let patch = r#"{"spec":{"sidecars":[{"name":"proxy","image":"envoyproxy/envoy:v1.31.0","volumeMounts":[{"name":"cfg","mountPath":"/etc/envoy"}],"volumes":[{"name":"cfg","configMap":{"name":"late-config"}}]}]}}"#;
    k.ok(&["patch", "pipeline", "web-access", "-n", "logging", "--type=merge", "-p", patch]).await;
    let sel = "core.calyptia.com/pipeline=web-access";
    k.until(
        &[
            "get",
            "pods",
            "-n",
            "logging",
            "-l",
            sel,
            "-o",
            "jsonpath={.items[*].status.containerStatuses[1].state.waiting.reason}",
        ],
        "ContainerCreating",
    )
    .await;
    let events = k.ok(&["get", "events", "-n", "logging", "--field-selector", "reason=FailedMount"]).await;
    assert!(events.contains("configmap \"late-config\" not found"), "{events}");
    k.ok(&["create", "configmap", "late-config", "-n", "logging", "--from-literal=envoy.yaml=admin: {}"]).await;
    k.until(&["get", "pods", "-n", "logging", "-l", sel, "-o", "jsonpath={.items[*].status.phase}"], "Running").await;
}
