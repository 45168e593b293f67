//! The simulated cluster seen through the real `kubectl`: workloads become pods that run, roll
//! and go; images the nodes cannot pull and missing ConfigMaps show as on a real cluster.

use emulator::kubectl::Kubectl;
use emulator::Emulator;

async fn cluster() -> Kubectl {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let emulator = Emulator::new();
    emulator.start_cluster();
    let router = emulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    Kubectl::for_server(addr)
}

async fn apply(k: &Kubectl, manifest: &str) {
    let p = k.kubeconfig().with_file_name("manifest.yaml");
    std::fs::write(&p, manifest).expect("manifest");
    k.ok(&["apply", "-f", &p.to_string_lossy()]).await;
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.27\n";

#[tokio::test]
async fn a_deployment_runs_its_replicas_and_rolls_them_on_a_template_change() {
    let c = cluster().await;
    assert_eq!(c.ok(&["get", "nodes", "-o", "name"]).await.lines().count(), 3);
    apply(&c, DEPLOYMENT).await;
    c.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    c.until(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"], "Running Running Running")
        .await;
    // A sidecar added to the template reaches every replica.
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"envoy","image":"envoyproxy/envoy:v1.31.0"}]}}}}"#;
    c.ok(&["patch", "deployment", "web", "-p", patch]).await;
    c.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    c.until(
        &["get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.containers[*].name}{\"\\n\"}{end}"],
        "nginx envoy\nnginx envoy\nnginx envoy",
    )
    .await;
    let out = c.ok(&["get", "pods", "-l", "app=web"]).await;
    assert!(out.lines().skip(1).all(|l| l.split_whitespace().nth(1) == Some("2/2")), "{out}");
    let pod = c.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    let logs = c.ok(&["logs", &pod, "-c", "envoy"]).await;
    assert!(logs.contains("starting main dispatch loop"), "{logs}");
    let events = c.ok(&["get", "events", "--field-selector", &format!("involvedObject.name={pod}")]).await;
    for reason in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(events.contains(reason), "{reason} in {events}");
    }
    // Deleting the deployment takes its replica sets and pods.
    c.ok(&["delete", "deployment", "web"]).await;
    c.until(&["get", "rs,pods", "-o", "name"], "").await;
}

#[tokio::test]
async fn unpullable_images_and_missing_configmaps_show_as_on_a_real_cluster() {
    let c = cluster().await;
    apply(&c, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/team/app:1.0\n").await;
    c.until(
        &["get", "pod", "broken", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"],
        "ErrImagePull",
    )
    .await;
    c.until(
        &["get", "pod", "broken", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"],
        "ImagePullBackOff",
    )
    .await;
    let out = c.ok(&["get", "pods"]).await;
    assert!(out.contains("ImagePullBackOff"), "{out}");
    let events = c.ok(&["get", "events"]).await;
    assert!(events.contains("Failed to pull image \"registry.example.com/team/app:1.0\""), "{events}");
    let (ok, _, err) = c.run(&["logs", "broken"]).await;
    assert!(!ok && err.contains("is waiting to start: trying and failing to pull image"), "{err}");

    apply(&c, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: proxy\nspec:\n  containers:\n  - name: envoy\n    image: envoyproxy/envoy:v1.31.0\n    volumeMounts: [{name: config, mountPath: /etc/envoy}]\n  volumes:\n  - name: config\n    configMap: {name: envoy-config}\n").await;
    c.until(
        &["get", "pod", "proxy", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"],
        "ContainerCreating",
    )
    .await;
    let events = c.ok(&["get", "events", "--field-selector", "involvedObject.name=proxy"]).await;
    assert!(
        events.contains("MountVolume.SetUp failed for volume \"config\" : configmap \"envoy-config\" not found"),
        "{events}"
    );
    c.ok(&["create", "configmap", "envoy-config", "--from-literal=envoy.yaml=admin: {}"]).await;
    c.until(&["get", "pod", "proxy", "-o", "jsonpath={.status.phase}"], "Running").await;

    // A command that exits at once crash-loops.
    apply(&c, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: crash\nspec:\n  containers:\n  - name: app\n    image: busybox\n    command: [sh, -c, exit 1]\n").await;
    c.until(
        &["get", "pod", "crash", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"],
        "CrashLoopBackOff",
    )
    .await;
    let out = c.ok(&["get", "pod", "crash"]).await;
    assert!(out.contains("CrashLoopBackOff"), "{out}");
    // Its last run's output, as the kubelet keeps it.
    assert_eq!(c.ok(&["logs", "crash"]).await, "sh -c exit 1: exited with status 1\n");
}

#[tokio::test]
async fn failing_lifecycle_hooks_are_recorded_as_a_kubelet_records_them() {
    let c = cluster().await;
    // A postStart hook that fails: the kubelet kills the container, which then crash-loops.
    apply(&c, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hooked\nspec:\n  containers:\n  - name: app\n    image: nginx:1.27\n    lifecycle:\n      postStart: {exec: {command: [/bin/false]}}\n").await;
    c.until(
        &["get", "pod", "hooked", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"],
        "CrashLoopBackOff",
    )
    .await;
    let events = c.ok(&["get", "events", "--field-selector", "involvedObject.name=hooked"]).await;
    assert!(events.contains("FailedPostStartHook"), "{events}");
    assert!(
        events.contains("Exec lifecycle hook ([\"/bin/false\"]) for Container \"app\" in Pod \"hooked_default("),
        "{events}"
    );

    // A preStop hook that fails is recorded when the controller stops the pod (a scale-down).
    let deployment = DEPLOYMENT.replace("replicas: 3", "replicas: 1").replace(
        "        image: nginx:1.27\n",
        "        image: nginx:1.27\n        lifecycle:\n          preStop: {exec: {command: [sh, -c, exit 1]}}\n",
    );
    apply(&c, &deployment).await;
    c.until(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"], "Running").await;
    let pod = c.ok(&["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]).await;
    c.ok(&["scale", "deployment", "web", "--replicas=0"]).await;
    c.until(&["get", "pods", "-l", "app=web", "-o", "name"], "").await;
    let events = c.ok(&["get", "events", "--field-selector", &format!("involvedObject.name={pod}")]).await;
    assert!(events.contains("FailedPreStopHook"), "{events}");

    // A preStop sleep is no failure.
    let sleeping = DEPLOYMENT.replace("replicas: 3", "replicas: 1").replace(
        "        image: nginx:1.27\n",
        "        image: nginx:1.27\n        lifecycle:\n          preStop: {sleep: {seconds: 5}}\n",
    );
    apply(&c, &sleeping).await;
    c.ok(&["scale", "deployment", "web", "--replicas=1"]).await;
    c.until(
        &[
            "get",
            "pods",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.containers[0].lifecycle.preStop.sleep.seconds}",
        ],
        "5",
    )
    .await;
}
