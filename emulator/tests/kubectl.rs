//! The real `kubectl` binary against the emulator on a loopback port, compared with what
//! Kubernetes prints.

use emulator::kubectl::Kubectl;
use emulator::Emulator;
use std::path::PathBuf;
use tokio::process::Command;

struct Cluster {
    kubectl: Kubectl,
    kubeconfig: PathBuf,
    emulator: Emulator,
}

impl std::ops::Deref for Cluster {
    type Target = Kubectl;
    fn deref(&self) -> &Kubectl {
        &self.kubectl
    }
}

async fn cluster() -> Cluster {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let emulator = Emulator::new();
    let router = emulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let kubectl = Kubectl::for_server(addr);
    let kubeconfig = kubectl.kubeconfig().to_owned();
    Cluster { kubectl, kubeconfig, emulator }
}

impl Cluster {
    async fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        self.kubectl.run(args).await
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

    // kubectl 1.35 and later add " from default namespace".
    let out = c.ok(&["delete", "cm", "envoy-config"]).await;
    assert!(out.starts_with("configmap \"envoy-config\" deleted"), "{out}");
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

#[tokio::test]
async fn imperative_creates_are_understood_in_protobuf() {
    let c = cluster().await;
    assert_eq!(c.ok(&["create", "namespace", "demo"]).await.trim(), "namespace/demo created");
    assert_eq!(
        c.ok(&["create", "configmap", "envoy", "-n", "demo", "--from-literal=envoy.yaml=admin: {}"]).await.trim(),
        "configmap/envoy created"
    );
    assert_eq!(c.ok(&["get", "cm", "envoy", "-n", "demo", "-o", "jsonpath={.data.envoy\\.yaml}"]).await, "admin: {}");
    assert_eq!(
        c.ok(&["create", "secret", "generic", "token", "--from-literal=t=s3cr3t"]).await.trim(),
        "secret/token created"
    );
    // The server defaults the type and stores data base64-encoded, as Kubernetes does.
    assert_eq!(c.ok(&["get", "secret", "token", "-o", "jsonpath={.type} {.data.t}"]).await, "Opaque czNjcjN0");
    let err = c.fails(&["create", "namespace", "demo"]).await;
    assert!(err.contains("Error from server (AlreadyExists): namespaces \"demo\" already exists"), "{err}");
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.27\n        ports: [{containerPort: 80}]\n";

/// A Deployment owning a ReplicaSet owning two pods, as a cluster's controllers would make them.
async fn owned_chain(c: &Cluster) {
    c.ok(&["apply", "-f", &write_manifest(c, DEPLOYMENT)]).await;
    let uid = c.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.uid}"]).await;
    let owner = |kind: &str, name: &str, uid: &str| {
        format!("  ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, name: {name}, uid: \"{uid}\", controller: true, blockOwnerDeletion: true}}]\n")
    };
    let rs = format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  labels: {{app: web}}\n{}spec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: nginx, image: nginx:1.27}}]}}\n", owner("Deployment", "web", &uid));
    c.ok(&["create", "-f", &write_manifest(c, &rs)]).await;
    let rs_uid = c.ok(&["get", "rs", "web-1", "-o", "jsonpath={.metadata.uid}"]).await;
    for i in 1..=2 {
        let pod = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-{i}\n  labels: {{app: web}}\n{}spec: {{containers: [{{name: nginx, image: nginx:1.27}}]}}\n", owner("ReplicaSet", "web-1", &rs_uid));
        c.ok(&["create", "-f", &write_manifest(c, &pod)]).await;
    }
}

fn names(out: &str) -> Vec<&str> {
    out.split_whitespace().collect()
}

#[tokio::test]
async fn deleting_an_owner_collects_its_dependents_by_propagation_policy() {
    let c = cluster().await;
    // Background (the default): the owner goes at once, its dependents after it.
    owned_chain(&c).await;
    let out = c.ok(&["delete", "deployment", "web"]).await;
    assert!(out.starts_with("deployment.apps \"web\" deleted"), "{out}");
    assert_eq!(c.ok(&["get", "rs,pods", "-o", "name"]).await, "");
    // Foreground: kubectl waits until the dependents and then the owner are gone.
    owned_chain(&c).await;
    c.ok(&["delete", "deployment", "web", "--cascade=foreground"]).await;
    assert_eq!(c.ok(&["get", "deploy,rs,pods", "-o", "name"]).await, "");
    // Orphan: the dependents stay, without the reference to their owner.
    owned_chain(&c).await;
    c.ok(&["delete", "deployment", "web", "--cascade=orphan"]).await;
    assert_eq!(
        names(&c.ok(&["get", "rs,pods", "-o", "name"]).await),
        vec!["replicaset.apps/web-1", "pod/web-1-1", "pod/web-1-2"]
    );
    assert_eq!(c.ok(&["get", "rs", "web-1", "-o", "jsonpath={.metadata.ownerReferences}"]).await, "");
    // The pods still belong to the ReplicaSet.
    c.ok(&["delete", "rs", "web-1"]).await;
    assert_eq!(c.ok(&["get", "pods", "-o", "name"]).await, "");
}

#[tokio::test]
async fn finalizers_hold_a_deletion_until_removed() {
    let c = cluster().await;
    let file = write_manifest(&c, &CONFIGMAP.replace("  labels:", "  finalizers: [example.com/keep]\n  labels:"));
    c.ok(&["create", "-f", &file]).await;
    c.ok(&["delete", "cm", "envoy-config", "--wait=false"]).await;
    let ts = c.ok(&["get", "cm", "envoy-config", "-o", "jsonpath={.metadata.deletionTimestamp}"]).await;
    assert!(ts.ends_with('Z'), "deletionTimestamp is set: {ts:?}");
    let err = c
        .fails(&[
            "patch",
            "cm",
            "envoy-config",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]"#,
        ])
        .await;
    assert!(err.contains("no new finalizers can be added if the object is being deleted"), "{err}");
    c.ok(&["patch", "cm", "envoy-config", "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]).await;
    let err = c.fails(&["get", "cm", "envoy-config"]).await;
    assert!(err.contains("configmaps \"envoy-config\" not found"), "{err}");
}

#[tokio::test]
async fn get_prints_the_columns_kubernetes_prints() {
    let c = cluster().await;
    owned_chain(&c).await;
    let out = c.ok(&["get", "pods"]).await;
    let header: Vec<&str> = out.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let row: Vec<&str> = out.lines().nth(1).unwrap_or("").split_whitespace().collect();
    assert_eq!(&row[..4], &["web-1-1", "0/1", "Pending", "0"]);
    let out = c.ok(&["get", "pods", "-o", "wide"]).await;
    assert!(out.starts_with("NAME") && out.lines().next().unwrap_or("").contains("NOMINATED NODE"), "{out}");
    let out = c.ok(&["get", "deploy", "-o", "wide"]).await;
    let header: Vec<&str> = out.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    assert!(out.lines().nth(1).unwrap_or("").contains("nginx:1.27"), "{out}");
    let out = c.ok(&["get", "all"]).await;
    for want in ["pod/web-1-1", "deployment.apps/web", "replicaset.apps/web-1"] {
        assert!(out.contains(want), "get all lists {want}: {out}");
    }
    c.ok(&["create", "-f", &write_manifest(&c, CONFIGMAP)]).await;
    let out = c.ok(&["get", "cm,ns"]).await;
    assert!(out.contains("DATA") && out.contains("STATUS") && out.contains("Active"), "{out}");
    let yaml = c.ok(&["get", "deploy", "web", "-o", "yaml"]).await;
    assert!(yaml.starts_with("apiVersion: apps/v1\nkind: Deployment\n"), "{yaml}");
    assert!(!yaml.contains("managedFields"), "kubectl hides managed fields: {yaml}");
    let out = c.ok(&["get", "pods", "--show-labels", "-A"]).await;
    assert!(out.lines().next().unwrap_or("").starts_with("NAMESPACE") && out.contains("app=web"), "{out}");
}

#[tokio::test]
async fn get_watch_receives_the_change_made_by_another_command() {
    let c = cluster().await;
    c.ok(&["create", "-f", &write_manifest(&c, CONFIGMAP)]).await;
    let mut watch = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["get", "cm", "envoy-config", "-w", "-o", "jsonpath={.metadata.labels.app}{\"\\n\"}"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl");
    let stdout = watch.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await;
    assert_eq!(first.expect("first line").expect("read").as_deref(), Some("envoy"));
    c.ok(&["label", "cm", "envoy-config", "app=proxy", "--overwrite"]).await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await;
    assert_eq!(next.expect("the change arrives").expect("read").as_deref(), Some("proxy"));
}

#[tokio::test]
async fn strategic_merge_patches_merge_containers_by_name() {
    let c = cluster().await;
    c.ok(&["apply", "-f", &write_manifest(&c, DEPLOYMENT)]).await;
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"envoy","image":"envoyproxy/envoy:v1.31.0"}]}}}}"#;
    assert_eq!(c.ok(&["patch", "deploy", "web", "-p", patch]).await.trim(), "deployment.apps/web patched");
    let images = c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}"]).await;
    assert_eq!(images, "nginx:1.27 envoyproxy/envoy:v1.31.0");
    let delete = r#"{"spec":{"template":{"spec":{"containers":[{"name":"envoy","$patch":"delete"}]}}}}"#;
    c.ok(&["patch", "deploy", "web", "--type=strategic", "-p", delete]).await;
    let names = c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].name}"]).await;
    assert_eq!(names, "nginx");
    // The generation counts spec changes: create, add, remove.
    assert_eq!(c.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"]).await, "3");
    // Custom resources have no merge keys: Kubernetes refuses strategic merge for them.
    c.ok(&["create", "-f", &write_manifest(&c, CRD)]).await;
    let file = write_manifest(&c, "apiVersion: core.calyptia.com/v1\nkind: Pipeline\nmetadata:\n  name: logs\nspec:\n  image: fluent/fluent-bit:3.0\n");
    c.ok(&["create", "-f", &file]).await;
    let err = c.fails(&["patch", "pipeline", "logs", "-p", r#"{"spec":{"replicasCount":2}}"#]).await;
    assert!(err.contains("UnsupportedMediaType") || err.contains("unknown format"), "{err}");
}

#[tokio::test]
async fn server_side_apply_owns_fields_and_reports_conflicts() {
    let c = cluster().await;
    let file = write_manifest(&c, DEPLOYMENT);
    assert_eq!(c.ok(&["apply", "--server-side", "-f", &file]).await.trim(), "deployment.apps/web serverside-applied");
    let managers = c
        .ok(&["get", "deploy", "web", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}"])
        .await;
    assert_eq!(managers, "kubectl");
    // Another manager changes a field kubectl applied.
    c.ok(&["scale", "deploy", "web", "--replicas=5"]).await;
    let err = c.fails(&["apply", "--server-side", "-f", &file]).await;
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\"")
            || err.contains("Apply failed with 1 conflict: conflict with \"kubectl-scale\""),
        "{err}"
    );
    assert!(err.contains(".spec.replicas"), "{err}");
    c.ok(&["apply", "--server-side", "--force-conflicts", "-f", &file]).await;
    assert_eq!(c.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]).await, "2");
    // A field dropped from the applied configuration is removed.
    let fewer = DEPLOYMENT.replace("  labels: {app: web}\n", "");
    c.ok(&["apply", "--server-side", "-f", &write_manifest(&c, &fewer)]).await;
    assert_eq!(c.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.labels}"]).await, "");
    // Custom resources too, with the CRD's map lists.
    c.ok(&["apply", "--server-side", "-f", &write_manifest(&c, CRD)]).await;
    let pipeline = "apiVersion: core.calyptia.com/v1\nkind: Pipeline\nmetadata:\n  name: logs\nspec:\n  image: fluent/fluent-bit:3.0\n  replicasCount: 2\n";
    assert_eq!(
        c.ok(&["apply", "--server-side", "-f", &write_manifest(&c, pipeline)]).await.trim(),
        "pipeline.core.calyptia.com/logs serverside-applied"
    );
}

#[tokio::test]
async fn logs_events_access_reviews_and_api_resources() {
    let c = cluster().await;
    owned_chain(&c).await;
    for i in 0..5 {
        c.emulator.store().logs.append(("default".into(), "web-1-1".into(), "nginx".into()), format!("line {i}"));
    }
    assert_eq!(c.ok(&["logs", "web-1-1"]).await, "line 0\nline 1\nline 2\nline 3\nline 4\n");
    assert_eq!(c.ok(&["logs", "web-1-1", "-c", "nginx", "--tail=2"]).await, "line 3\nline 4\n");
    let err = c.fails(&["logs", "web-1-1", "-c", "envoy"]).await;
    assert!(err.contains("container envoy is not valid for pod web-1-1"), "{err}");
    let err = c.fails(&["logs", "web-1-1", "--previous"]).await;
    assert!(err.contains("previous terminated container \"nginx\" in pod \"web-1-1\" not found"), "{err}");
    let event = "apiVersion: v1\nkind: Event\nmetadata:\n  name: web-1-1.pulled\ninvolvedObject: {kind: Pod, name: web-1-1, namespace: default}\nreason: Pulled\nmessage: Successfully pulled image \"nginx:1.27\"\ntype: Normal\nsource: {component: kubelet}\nlastTimestamp: \"2026-01-01T00:00:00Z\"\n";
    c.ok(&["create", "-f", &write_manifest(&c, event)]).await;
    let out = c.ok(&["get", "events"]).await;
    let header: Vec<&str> = out.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, vec!["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    assert!(out.contains("pod/web-1-1") && out.contains("Successfully pulled image"), "{out}");
    let v1 = c.ok(&["get", "events.v1.events.k8s.io", "-o", "jsonpath={.items[0].note}"]).await;
    assert_eq!(v1, "Successfully pulled image \"nginx:1.27\"");
    assert_eq!(c.ok(&["auth", "can-i", "delete", "pods"]).await.trim(), "yes");
    let out = c.ok(&["api-resources", "--api-group=apps", "-o", "name"]).await;
    assert_eq!(names(&out), vec!["daemonsets.apps", "deployments.apps", "replicasets.apps", "statefulsets.apps"]);
}

#[tokio::test]
async fn pod_specs_are_validated_with_the_container_rules() {
    let c = cluster().await;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: Main\n    image: nginx\n    ports: [{containerPort: 70000}]\n";
    let err = c.fails(&["create", "-f", &write_manifest(&c, pod)]).await;
    assert!(err.contains("The Pod \"p\" is invalid"), "{err}");
    assert!(err.contains("spec.containers[0].name: Invalid value: \"Main\""), "{err}");
    assert!(err.contains("spec.containers[0].ports[0].containerPort: Invalid value: 70000"), "{err}");
    let bad_template = DEPLOYMENT.replace("image: nginx:1.27", "image: \"\"");
    let err = c.fails(&["apply", "-f", &write_manifest(&c, &bad_template)]).await;
    assert!(err.contains("spec.template.spec.containers[0].image: Required value"), "{err}");
    let mismatch = DEPLOYMENT.replace("metadata: {labels: {app: web}}", "metadata: {labels: {app: other}}");
    let err = c.fails(&["apply", "-f", &write_manifest(&c, &mismatch)]).await;
    assert!(err.contains("`selector` does not match template `labels`"), "{err}");
    // Defaults are filled in as Kubernetes does.
    c.ok(&["run", "web", "--image=nginx:1.27"]).await;
    let out = c
        .ok(&[
            "get",
            "pod",
            "web",
            "-o",
            "jsonpath={.spec.containers[0].imagePullPolicy} {.spec.restartPolicy} {.status.phase}",
        ])
        .await;
    assert_eq!(out, "IfNotPresent Always Pending");
}

/// A CRD with the guards Kubernetes' schema validation enforces.
const GUARDED_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: pipelines.core.calyptia.com
spec:
  group: core.calyptia.com
  scope: Namespaced
  names: {plural: pipelines, singular: pipeline, kind: Pipeline}
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
            required: [replicasCount]
            properties:
              kind: {type: string, enum: [deployment, daemonSet, statefulSet]}
              image: {type: string, maxLength: 40}
              replicasCount: {type: integer, minimum: 0}
              sidecars:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, required: [name], properties: {name: {type: string}, image: {type: string}}}
          status: {type: object, properties: {status: {type: string}}}
"#;

#[tokio::test]
async fn a_crds_schema_guards_every_kind_of_write_in_kubernetes_words() {
    let c = cluster().await;
    c.ok(&["create", "-f", &write_manifest(&c, GUARDED_CRD)]).await;
    let good = "apiVersion: core.calyptia.com/v1\nkind: Pipeline\nmetadata:\n  name: x\nspec:\n  kind: deployment\n  replicasCount: 1\n";
    c.ok(&["create", "-f", &write_manifest(&c, good)]).await;
    let version = || c.ok(&["get", "pipeline", "x", "-o", "jsonpath={.metadata.resourceVersion}"]);
    let before = version().await;

    // A merge patch, a JSON patch, a replace and a server-side apply: each refused, nothing stored.
    let err = c.fails(&["patch", "pipeline", "x", "--type=merge", "-p", r#"{"spec":{"replicasCount":"two"}}"#]).await;
    assert!(
        err.contains(r#"The Pipeline "x" is invalid: spec.replicasCount: Invalid value: "string": spec.replicasCount in body must be of type integer: "string""#),
        "{err}"
    );
    let err = c
        .fails(&[
            "patch",
            "pipeline",
            "x",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/kind","value":"job"}]"#,
        ])
        .await;
    assert!(
        err.contains(
            r#"spec.kind: Unsupported value: "job": supported values: "deployment", "daemonSet", "statefulSet""#
        ),
        "{err}"
    );
    let negative = good.replace("replicasCount: 1", "replicasCount: -1");
    let err = c.fails(&["replace", "-f", &write_manifest(&c, &negative)]).await;
    assert!(
        err.contains(
            "spec.replicasCount: Invalid value: -1: spec.replicasCount in body should be greater than or equal to 0"
        ),
        "{err}"
    );
    // An apply that creates an object without a required field (an apply to x would keep the
    // replicasCount another manager owns).
    let missing = "apiVersion: core.calyptia.com/v1\nkind: Pipeline\nmetadata:\n  name: second\nspec:\n  kind: deployment\n  image: fluent/fluent-bit:3.1\n";
    let err = c.fails(&["apply", "--server-side", "-f", &write_manifest(&c, missing)]).await;
    assert!(err.contains(r#"The Pipeline "second" is invalid: spec.replicasCount: Required value"#), "{err}");
    let wrong = good.replace("replicasCount: 1", "replicasCount: many");
    let err = c.fails(&["apply", "--server-side", "--force-conflicts", "-f", &write_manifest(&c, &wrong)]).await;
    assert!(err.contains("spec.replicasCount in body must be of type integer"), "{err}");
    let twice = format!("{good}  sidecars:\n  - name: a\n  - name: a\n");
    let err = c.fails(&["replace", "-f", &write_manifest(&c, &twice)]).await;
    assert!(err.contains(r#"spec.sidecars[1]: Duplicate value: map[string]interface {}{"name":"a"}"#), "{err}");
    let long = good
        .replace("replicasCount: 1", "replicasCount: 1\n  image: registry.example.com/a/very/long/repository/name:1.0");
    let err = c.fails(&["replace", "-f", &write_manifest(&c, &long)]).await;
    assert!(err.contains("spec.image: Too long: may not be more than 40 bytes"), "{err}");
    assert_eq!(version().await, before, "nothing was stored");

    // The status subresource is checked against the status schema.
    let err = c
        .fails(&["patch", "pipeline", "x", "--subresource=status", "--type=merge", "-p", r#"{"status":{"status":7}}"#])
        .await;
    assert!(
        err.contains(
            r#"status.status: Invalid value: "integer": status.status in body must be of type string: "integer""#
        ),
        "{err}"
    );
    c.ok(&["patch", "pipeline", "x", "--type=merge", "-p", r#"{"spec":{"replicasCount":2}}"#]).await;
}
