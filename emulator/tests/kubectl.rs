//! The real `kubectl` binary against the emulator on a loopback port, compared with what
//! Kubernetes prints.

use emulator::Emulator;
use std::path::PathBuf;
use tokio::process::Command;

struct Cluster {
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, Emulator::new().router()).await.expect("serve") });
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, Emulator::kubeconfig(&format!("http://{addr}"))).expect("kubeconfig");
    Cluster { kubeconfig, _dir: dir }
}

impl Cluster {
    /// Runs kubectl; returns (success, stdout, stderr).
    async fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.kubeconfig.with_file_name("cache"))
            .args(args)
            .output()
            .await
            .expect("kubectl must be installed (cargo xtask test installs it)");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args).await;
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    async fn fails(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args).await;
        assert!(!ok, "kubectl {args:?} should fail, printed {out}");
        err
    }
}

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: envoy-config\n  labels:\n    app: envoy\ndata:\n  envoy.yaml: 'admin: {}'\n";

fn write_manifest(c: &Cluster, text: &str) -> String {
    let p = c.kubeconfig.with_file_name("manifest.yaml");
    std::fs::write(&p, text).expect("manifest");
    p.to_string_lossy().into_owned()
}

#[tokio::test]
async fn namespaces_of_a_new_cluster() {
    let c = cluster().await;
    let out = c.ok(&["get", "namespaces", "-o", "name"]).await;
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["namespace/default", "namespace/kube-public", "namespace/kube-system"]
    );
    let out = c.ok(&["api-versions"]).await;
    assert!(out.lines().any(|l| l == "v1"), "{out}");
}

#[tokio::test]
async fn create_get_label_patch_delete_a_configmap() {
    let c = cluster().await;
    let file = write_manifest(&c, CONFIGMAP);
    assert_eq!(c.ok(&["create", "-f", &file]).await.trim(), "configmap/envoy-config created");
    let err = c.fails(&["create", "-f", &file]).await;
    assert!(
        err.contains("Error from server (AlreadyExists)") && err.contains("configmaps \"envoy-config\" already exists"),
        "{err}"
    );

    assert_eq!(c.ok(&["get", "cm", "envoy-config", "-o", "jsonpath={.data.envoy\\.yaml}"]).await, "admin: {}");
    assert_eq!(
        c.ok(&["label", "configmap", "envoy-config", "tier=edge"]).await.trim(),
        "configmap/envoy-config labeled"
    );
    assert_eq!(c.ok(&["get", "cm", "-l", "tier=edge", "-o", "name"]).await.trim(), "configmap/envoy-config");
    assert_eq!(c.ok(&["get", "cm", "-l", "tier!=edge", "-o", "name"]).await.trim(), "");

    c.ok(&["patch", "cm", "envoy-config", "--type=merge", "-p", r#"{"data":{"extra":"1"}}"#]).await;
    c.ok(&[
        "patch",
        "cm",
        "envoy-config",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/extra","value":"2"}]"#,
    ])
    .await;
    assert_eq!(c.ok(&["get", "cm", "envoy-config", "-o", "jsonpath={.data.extra}"]).await, "2");

    let json = c.ok(&["get", "cm", "envoy-config", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["kind"], "ConfigMap");
    assert!(v["metadata"]["uid"].is_string() && v["metadata"]["resourceVersion"].is_string());

    assert_eq!(c.ok(&["delete", "cm", "envoy-config"]).await.trim(), "configmap \"envoy-config\" deleted");
    let err = c.fails(&["get", "cm", "envoy-config"]).await;
    assert_eq!(err.trim(), "Error from server (NotFound): configmaps \"envoy-config\" not found");
}

#[tokio::test]
async fn replace_with_a_stale_resource_version_is_a_conflict() {
    let c = cluster().await;
    let file = write_manifest(&c, CONFIGMAP);
    c.ok(&["create", "-f", &file]).await;
    let stale = c.ok(&["get", "cm", "envoy-config", "-o", "yaml"]).await;
    c.ok(&["label", "cm", "envoy-config", "changed=yes"]).await;
    let file = write_manifest(&c, &stale);
    let err = c.fails(&["replace", "-f", &file]).await;
    assert!(
        err.contains("Error from server (Conflict)")
            && err.contains("Operation cannot be fulfilled on configmaps \"envoy-config\": the object has been modified; please apply your changes to the latest version and try again"),
        "{err}"
    );
}

#[tokio::test]
async fn objects_in_a_missing_namespace_are_refused() {
    let c = cluster().await;
    let file = write_manifest(&c, CONFIGMAP);
    let err = c.fails(&["create", "-n", "logging", "-f", &file]).await;
    assert!(err.contains("namespaces \"logging\" not found"), "{err}");
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: pipelines.core.calyptia.com
spec:
  group: core.calyptia.com
  scope: Namespaced
  names: {plural: pipelines, singular: pipeline, kind: Pipeline, shortNames: [pl]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              image: {type: string}
              replicasCount: {type: integer}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

#[tokio::test]
async fn a_crd_makes_its_resource_usable_by_kubectl() {
    let c = cluster().await;
    let file = write_manifest(&c, CRD);
    assert_eq!(
        c.ok(&["create", "-f", &file]).await.trim(),
        "customresourcedefinition.apiextensions.k8s.io/pipelines.core.calyptia.com created"
    );
    let established = c
        .ok(&[
            "get",
            "crd",
            "pipelines.core.calyptia.com",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
        ])
        .await;
    assert_eq!(established, "True");
    let file = write_manifest(&c, "apiVersion: core.calyptia.com/v1\nkind: Pipeline\nmetadata:\n  name: logs\nspec:\n  image: fluent/fluent-bit:3.0\n  replicasCount: 2\n");
    assert_eq!(c.ok(&["create", "-f", &file]).await.trim(), "pipeline.core.calyptia.com/logs created");
    assert_eq!(c.ok(&["get", "pipelines", "-o", "name"]).await.trim(), "pipeline.core.calyptia.com/logs");
    assert_eq!(c.ok(&["get", "pl", "logs", "-o", "jsonpath={.spec.replicasCount}"]).await, "2");
    c.ok(&["patch", "pipeline", "logs", "--type=merge", "-p", r#"{"spec":{"replicasCount":3}}"#]).await;
    assert_eq!(c.ok(&["get", "pipeline", "logs", "-o", "jsonpath={.metadata.generation}"]).await, "2");
    c.ok(&["delete", "crd", "pipelines.core.calyptia.com"]).await;
    let err = c.fails(&["get", "pipelines"]).await;
    // kubectl's discovery cache may still name the type; either way the server no longer has it.
    assert!(
        err.contains("the server doesn't have a resource type \"pipelines\"")
            || err.contains("Unable to list \"core.calyptia.com/v1, Resource=pipelines\": the server could not find the requested resource"),
        "{err}"
    );
}

#[tokio::test]
async fn strict_validation_refuses_unknown_fields_and_warn_drops_them() {
    let c = cluster().await;
    let file = write_manifest(&c, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndatax:\n  a: b\n");
    let err = c.fails(&["create", "-f", &file]).await;
    assert!(
        err.contains("Error from server (BadRequest)")
            && err.contains("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"datax\""),
        "{err}"
    );
    c.fails(&["get", "cm", "bad"]).await;
    let (ok, out, err) = c.kubectl(&["create", "--validate=warn", "-f", &file]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/bad created");
    assert!(err.contains("Warning: unknown field \"datax\""), "{err}");
}

#[tokio::test]
async fn server_dry_run_and_apply() {
    let c = cluster().await;
    let file = write_manifest(&c, CONFIGMAP);
    assert_eq!(
        c.ok(&["create", "--dry-run=server", "-f", &file]).await.trim(),
        "configmap/envoy-config created (server dry run)"
    );
    c.fails(&["get", "cm", "envoy-config"]).await;
    assert_eq!(c.ok(&["apply", "-f", &file]).await.trim(), "configmap/envoy-config created");
    assert_eq!(c.ok(&["apply", "-f", &file]).await.trim(), "configmap/envoy-config unchanged");
    let file = write_manifest(&c, &CONFIGMAP.replace("admin: {}", "admin: {port: 9901}"));
    assert_eq!(c.ok(&["apply", "-f", &file]).await.trim(), "configmap/envoy-config configured");
    assert_eq!(
        c.ok(&["get", "cm", "envoy-config", "-o", "jsonpath={.data.envoy\\.yaml}"]).await,
        "admin: {port: 9901}"
    );
}
