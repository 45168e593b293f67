//! The embedded cluster as a user meets it through the real `kubectl`: demo pipelines running,
//! a sidecar patched into a Pipeline reaching every replica, removed again, troubleshooting
//! (image pull failures, events, logs), and a deleted pipeline taking its workload with it.

use emulator::kubectl::Kubectl;

async fn embedded() -> Kubectl {
    let k = Kubectl::temporary();
    let addr = "127.0.0.1:0".parse().expect("addr");
    server::embedded::start(&server::embedded::Options::new(addr, k.kubeconfig()))
        .await
        .expect("the embedded cluster starts");
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

#[tokio::test]
async fn with_a_token_file_the_embedded_cluster_authenticates_over_https_and_its_kubeconfig_is_private() {
    let k = Kubectl::temporary();
    let tokens = emulator::auth::Tokens::parse("viewer-token,vera,1,\n", "tokens.csv").expect("tokens");
    let options = server::embedded::Options {
        tokens: Some(tokens),
        ..server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), k.kubeconfig())
    };
    let cluster = server::embedded::start(&options).await.expect("the embedded cluster starts");
    assert!(cluster.server.starts_with("https://127.0.0.1:"), "{}", cluster.server);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(k.kubeconfig()).expect("kubeconfig").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // The kubeconfig's own token may do everything; the console's in-process client too.
    assert!(k.ok(&["get", "pipelines", "-A", "-o", "name"]).await.contains("pipeline.core.calyptia.com/app-logs"));
    assert_eq!(k.ok(&["auth", "can-i", "delete", "pipelines", "-A"]).await.trim(), "yes");
    let pipelines: kube::Api<kube::api::DynamicObject> =
        kube::Api::all_with(cluster.client.clone(), &kube::api::ApiResource::erase::<operator::Pipeline>(&()));
    assert!(!pipelines.list(&Default::default()).await.expect("the console lists").items.is_empty());
    // Another user's token gets what RBAC grants: nothing here.
    let text = std::fs::read_to_string(k.kubeconfig()).expect("read");
    let admin = cluster.emulator.admin_token().expect("admin token").to_owned();
    let vera = Kubectl::temporary();
    std::fs::write(vera.kubeconfig(), text.replace(&admin, "viewer-token")).expect("write");
    let err = vera.fails(&["get", "pipelines", "-n", "logging"]).await;
    assert!(
        err.contains(r#"pipelines.core.calyptia.com is forbidden: User "vera" cannot list resource "pipelines" in API group "core.calyptia.com" in the namespace "logging""#),
        "{err}"
    );
}
