//! The documented sidecar commands, typed as a user types them: the real `sidecarctl` binary
//! against a console on the embedded cluster, checked with the real `kubectl`.

use emulator::kubectl::Kubectl;
use std::path::PathBuf;
use std::time::Duration;

struct Setup {
    server: String,
    kubectl: Kubectl,
    dir: tempfile::TempDir,
}

async fn console() -> Setup {
    console_with(None).await
}

/// A console on an embedded cluster that serves `pipeline_crd` (ours when `None`).
async fn console_with(pipeline_crd: Option<&serde_json::Value>) -> Setup {
    let kubectl = Kubectl::temporary();
    let addr = "127.0.0.1:0".parse().expect("addr");
    let options = server::embedded::Options {
        pipeline_crd: pipeline_crd.cloned(),
        ..server::embedded::Options::new(addr, kubectl.kubeconfig())
    };
    let cluster = server::embedded::start(&options).await.expect("the embedded cluster starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(
        server::leptos_options(&site, addr),
        server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster"),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Setup { server: format!("http://{addr}"), kubectl, dir: tempfile::tempdir().expect("temp dir") }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Setup {
    async fn sidecarctl(&self, args: &[&str]) -> Out {
        let bin = env!("CARGO_BIN_EXE_sidecarctl");
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let server = self.server.clone();
        let dir = self.dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new(bin)
                .args(&args)
                .env("SIDECARCTL_SERVER", server)
                .current_dir(dir)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("sidecarctl runs");
            Out {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .expect("join")
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.sidecarctl(args).await;
        assert_eq!(out.code, 0, "sidecarctl {args:?} failed: {}", out.stderr);
        out.stdout
    }

    /// Runs a command that must fail with exit 1 and the sentence `says`, changing nothing.
    async fn refused(&self, args: &[&str], says: &str) {
        let before = self.pipeline_spec().await;
        let out = self.sidecarctl(args).await;
        assert_eq!(out.code, 1, "sidecarctl {args:?} should exit 1; printed {} / {}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "sidecarctl {args:?} said {:?}, not {says:?}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "one sentence: {}", out.stderr);
        assert_eq!(self.pipeline_spec().await, before, "sidecarctl {args:?} changed the pipeline");
    }

    /// The pipeline's spec as the cluster holds it (its resource version also moves when the
    /// operator writes the status, which a refused command has no say in).
    async fn pipeline_spec(&self) -> String {
        self.kubectl.run(&["get", "pipeline", "my-pipeline", "-n", "logging", "-o", "jsonpath={.spec}"]).await.1
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    /// Waits until every replica of my-pipeline runs exactly `containers` (and there are 2).
    async fn replicas_run(&self, containers: &str) {
        let args = [
            "get",
            "pods",
            "-n",
            "logging",
            "-l",
            "core.calyptia.com/pipeline=my-pipeline",
            "-o",
            "jsonpath={range .items[*]}{.spec.containers[*].name}{\"\\n\"}{end}",
        ];
        let mut last = String::new();
        for _ in 0..600 {
            last = self.kubectl.run(&args).await.1;
            let lines: Vec<&str> = last.lines().collect();
            if lines.len() == 2 && lines.iter().all(|l| *l == containers) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the replicas run {last:?}, not {containers:?} each");
    }
}

fn example(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "examples", name].iter().collect();
    p.display().to_string()
}

/// The IDs in a table's first column, header aside.
fn ids(table: &str) -> Vec<String> {
    table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_commands_work_end_to_end() {
    let s = console().await;
    let pipeline = s.file(
        "pipeline.json",
        r#"{"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
            "metadata": {"name": "my-pipeline", "namespace": "logging"},
            "spec": {"kind": "deployment", "replicasCount": 2, "image": "fluent/fluent-bit:3.1",
                     "config": "[INPUT]\n    Name dummy\n"}}"#,
    );
    s.kubectl.ok(&["apply", "-f", &pipeline]).await;

    // Create the three documented sidecars (envoy's ConfigMap is in the namespace already).
    let mut created = Vec::new();
    for spec in ["my-sidecar.json", "envoy-sidecar.json", "probe-sidecar.json"] {
        let out = s.ok(&["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &example(spec)]).await;
        assert!(out.starts_with("ID"), "{out}");
        assert!(out.lines().next().is_some_and(|h| h.contains("CREATED AT")), "{out}");
        let id = ids(&out).pop().expect("an ID");
        assert_eq!(id.len(), 36, "a UUID: {id}");
        created.push(id);
    }
    let [my, envoy, probe] = [created[0].clone(), created[1].clone(), created[2].clone()];

    let listed = s.ok(&["get", "sidecar", "--pipeline", "my-pipeline"]).await;
    let header: Vec<&str> = listed.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, ["ID", "NAME", "IMAGE", "READY", "STATUS", "AGE"]);
    assert_eq!(ids(&listed), [my.clone(), envoy.clone(), probe.clone()], "{listed}");
    s.replicas_run("fluent-bit my-sidecar envoy-sidecar probe-sidecar").await;

    // Update envoy's image: same ID, new image in every replica.
    let newer = std::fs::read_to_string(example("envoy-sidecar.json"))
        .expect("example")
        .replace("envoyproxy/envoy:v1.28-latest", "envoyproxy/envoy:v1.29-latest");
    let newer = s.file("envoy-newer.json", &newer);
    let out = s.ok(&["update", "sidecar", "--sidecar", &envoy, "--spec", &newer]).await;
    assert!(out.contains(&envoy), "{out}");
    let listed = s.ok(&["get", "sidecar", "--pipeline", "logging/my-pipeline", "-o", "json"]).await;
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed[1]["id"], envoy.as_str());
    assert_eq!(listed[1]["image"], "envoyproxy/envoy:v1.29-latest");
    s.kubectl
        .until(
            &[
                "get",
                "deployment",
                "my-pipeline",
                "-n",
                "logging",
                "-o",
                "jsonpath={.spec.template.spec.containers[?(@.name==\"envoy-sidecar\")].image}",
            ],
            "envoyproxy/envoy:v1.29-latest",
        )
        .await;

    // Troubleshooting: describe (spec, replicas, events), logs, the pipeline listing.
    let described = s.ok(&["describe", "sidecar", "--sidecar", &probe]).await;
    for part in [
        "Name:     probe-sidecar",
        "Pipeline: logging/my-pipeline",
        "readinessProbe:",
        "Replicas:",
        "Events:",
        "Started container probe-sidecar",
    ] {
        assert!(described.contains(part), "describe lacks {part:?}: {described}");
    }
    let logs = s.ok(&["logs", "sidecar", "--sidecar", &my, "--tail", "1"]).await;
    let lines: Vec<&str> = logs.lines().collect();
    // One line from each replica (a third may be rolling in from the update above).
    assert!(lines.len() >= 2, "one line from each replica: {logs}");
    assert!(lines.iter().all(|l| l.starts_with("[my-pipeline-")), "{logs}");
    let pipelines = s.ok(&["get", "pipeline", "-n", "logging"]).await;
    assert!(
        pipelines.lines().any(|l| l.contains("my-pipeline") && l.contains("my-sidecar,envoy-sidecar,probe-sidecar")),
        "{pipelines}"
    );
    assert!(s.ok(&["completion", "bash"]).await.contains("sidecarctl"));

    // The pipeline's own status and logs, as the troubleshooting advice starts.
    let described = s.ok(&["describe", "pipeline", "my-pipeline"]).await;
    for part in ["Name:      my-pipeline", "Namespace: logging", "Conditions:", "Replicas:", "Sidecars:", "Events:"] {
        assert!(described.contains(part), "describe pipeline lacks {part:?}: {described}");
    }
    let sidecars = described.split("Sidecars:").nth(1).unwrap_or_default();
    for name in ["my-sidecar", "envoy-sidecar", "probe-sidecar"] {
        assert!(sidecars.contains(name), "describe pipeline lists sidecar {name}: {described}");
    }
    let as_json: serde_json::Value =
        serde_json::from_str(&s.ok(&["describe", "pipeline", "logging/my-pipeline", "-o", "json"]).await)
            .expect("json");
    assert_eq!(as_json["pipeline"]["name"], "my-pipeline");
    assert!(as_json["status"]["replicas"].as_array().is_some_and(|r| !r.is_empty()));
    let main_logs = s.ok(&["logs", "pipeline", "my-pipeline", "--tail", "1"]).await;
    assert!(main_logs.lines().all(|l| l.starts_with("[my-pipeline-")) && !main_logs.is_empty(), "{main_logs}");
    s.refused(&["describe", "pipeline", "nope"], "pipeline \"nope\" not found in any namespace").await;

    // Failure paths: one sentence, exit 1, nothing changed.
    s.refused(
        &["create", "sidecar", "--pipeline", "myPipeline", "--spec", &example("my-sidecar.json")],
        "pipeline \"myPipeline\" not found in any namespace",
    )
    .await;
    let missing = s.file(
        "missing-config.json",
        &std::fs::read_to_string(example("envoy-sidecar.json"))
            .expect("example")
            .replace("\"envoy-sidecar\"", "\"proxy\"")
            .replace("envoy-config", "no-such-config"),
    );
    let missing_text = std::fs::read_to_string(&missing).expect("read");
    assert!(missing_text.contains("no-such-config"), "the example changed shape: {missing_text}");
    s.refused(
        &["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &missing],
        "configmap \"no-such-config\" not found in namespace \"logging\"",
    )
    .await;
    let bad_port = s.file(
        "bad-port.json",
        &std::fs::read_to_string(example("probe-sidecar.json"))
            .expect("example")
            .replace("\"name\": \"probe-sidecar\"", "\"name\": \"probe-two\"")
            .replacen("\"port\": 80,", "\"port\": 70000,", 1),
    );
    s.refused(
        &["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &bad_port],
        "livenessProbe.httpGet.port: must be between 1 and 65535, got 70000",
    )
    .await;
    s.refused(
        &["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &example("envoy-sidecar.json")],
        "already has a sidecar named \"envoy-sidecar\"",
    )
    .await;
    let not_json = s.file("sidecar.yaml", "name: x\nimage: nginx\n");
    s.refused(&["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &not_json], "must end in .json").await;
    let malformed = s.file("malformed.json", "{\"name\": \"x\",\n\"image\": }");
    s.refused(&["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &malformed], "line 2").await;
    s.refused(
        &["update", "sidecar", "--sidecar", "0b7f2d1c-0000-4000-8000-000000000000", "--spec", &newer],
        "sidecar \"0b7f2d1c-0000-4000-8000-000000000000\" not found",
    )
    .await;
    s.refused(&["delete", "sidecar", "--sidecar", &my], "refusing to delete sidecar \"my-sidecar\"").await;

    // On a terminal, delete asks; "n" keeps the sidecar. (`script` gives the command a terminal.)
    let asked = {
        let line = format!("{} delete sidecar --sidecar {my}", env!("CARGO_BIN_EXE_sidecarctl"));
        let server = s.server.clone();
        tokio::task::spawn_blocking(move || {
            let mut child = std::process::Command::new("script")
                .args(["-qec", &line, "/dev/null"])
                .env("SIDECARCTL_SERVER", server)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("script (util-linux) runs");
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(b"n\n").expect("answer");
            let out = child.wait_with_output().expect("wait");
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .await
        .expect("join")
    };
    assert!(asked.contains("(y/N)") && asked.contains("Nothing was deleted"), "{asked}");
    assert!(ids(&s.ok(&["get", "sidecar", "--pipeline", "my-pipeline"]).await).contains(&my));

    // Delete my-sidecar: gone from every replica.
    let out = s.ok(&["delete", "sidecar", "--sidecar", &my, "--yes"]).await;
    assert!(out.contains("deleted"), "{out}");
    s.replicas_run("fluent-bit envoy-sidecar probe-sidecar").await;
    assert_eq!(ids(&s.ok(&["get", "sidecar", "--pipeline", "my-pipeline"]).await), [envoy, probe]);

    // Deleting the pipeline deletes its sidecars.
    s.kubectl.ok(&["delete", "pipeline", "my-pipeline", "-n", "logging"]).await;
    let out = s.sidecarctl(&["get", "sidecar", "--pipeline", "my-pipeline"]).await;
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr.trim(), "error: pipeline \"my-pipeline\" not found in any namespace");

    // Usage errors exit 2.
    assert_eq!(s.sidecarctl(&["create", "sidecar", "--pipeline", "x"]).await.code, 2);
}

/// Calyptia Core's Pipeline CRD, as far as its published facts go (see the fixture's header).
fn calyptia_core_crd() -> serde_json::Value {
    let p: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "server", "tests", "fixtures", "calyptia-core-pipelines-crd.yaml"]
            .iter()
            .collect();
    serde_yaml_ng::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("yaml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_calyptia_core_cluster_every_field_is_stored_as_sent_or_named() {
    let s = console_with(Some(&calyptia_core_crd())).await;
    let pipeline = s.file(
        "pipeline.json",
        r#"{"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
            "metadata": {"name": "my-pipeline", "namespace": "logging"},
            "spec": {"kind": "deployment", "replicasCount": 2, "image": "fluent/fluent-bit:3.1",
                     "config": "[INPUT]\n    Name dummy\n", "hpa": {"minReplicas": 2}}}"#,
    );
    s.kubectl.ok(&["apply", "-f", &pipeline]).await;

    // The seed's three examples are accepted and stored exactly as the console answered them.
    let mut created = Vec::new();
    for spec in ["my-sidecar.json", "envoy-sidecar.json", "probe-sidecar.json"] {
        let out = s.ok(&["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &example(spec)]).await;
        created.push(ids(&out).pop().expect("an ID"));
    }
    s.replicas_run("fluent-bit my-sidecar envoy-sidecar probe-sidecar").await;
    let listed: serde_json::Value =
        serde_json::from_str(&s.ok(&["get", "sidecar", "--pipeline", "my-pipeline", "-o", "json"]).await)
            .expect("json");
    let stored: serde_json::Value = serde_json::from_str(
        &s.kubectl.ok(&["get", "pipeline", "my-pipeline", "-n", "logging", "-o", "jsonpath={.spec.sidecars}"]).await,
    )
    .expect("json");
    for (i, view) in listed.as_array().expect("a list").iter().enumerate() {
        assert_eq!(view["spec"], stored[i], "sidecar {i} is stored as the console answered it");
    }
    let hpa = s.kubectl.ok(&["get", "pipeline", "my-pipeline", "-n", "logging", "-o", "jsonpath={.spec.hpa}"]).await;
    assert_eq!(hpa.trim(), r#"{"minReplicas":2}"#, "the pipeline's own fields are kept");

    // Fields this cluster would drop are named, and nothing is written; a dry run says so too.
    let dropped = s.file(
        "dropped.json",
        r#"{"name": "exporter", "image": "prom/statsd-exporter:v0.26.0",
            "ports": [{"containerPort": 9102, "hostPort": 9102}],
            "volumeMounts": [{"name": "envoy-config", "mountPath": "/etc/x", "mountPropagation": "None"}],
            "volumes": [{"name": "envoy-config", "configMap": {"name": "envoy-config"}}]}"#,
    );
    for dry in [true, false] {
        let mut args = vec!["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &dropped];
        if dry {
            args.push("--dry-run");
        }
        let before = s.pipeline_spec().await;
        let out = s.sidecarctl(&args).await;
        assert_eq!(out.code, 1, "{} / {}", out.stdout, out.stderr);
        for field in ["ports[0].hostPort", "volumeMounts[0].mountPropagation"] {
            assert!(
                out.stderr.contains(&format!("{field}: this cluster's Pipeline schema does not accept this field")),
                "{field} is named: {}",
                out.stderr
            );
        }
        assert_eq!(s.pipeline_spec().await, before, "nothing was written");
    }

    // Calyptia Core's operator reports `status.status`; the listing shows it.
    s.kubectl
        .ok(&[
            "patch",
            "pipeline",
            "my-pipeline",
            "-n",
            "logging",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status": {"status": "STARTED", "message": "deployment ready"}}"#,
        ])
        .await;
    let pipelines = s.ok(&["get", "pipeline", "-n", "logging"]).await;
    assert!(pipelines.lines().any(|l| l.contains("my-pipeline") && l.contains("STARTED")), "{pipelines}");
    let described = s.ok(&["describe", "pipeline", "logging/my-pipeline"]).await;
    assert!(described.contains("Phase:     STARTED"), "{described}");
    assert!(described.contains("Message:   deployment ready"), "{described}");

    // A preStop sleep for graceful draining is stored and reaches every replica's container.
    let draining = s.file(
        "draining.json",
        r#"{"name": "drain", "image": "nginx:1.27", "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}"#,
    );
    s.ok(&["create", "sidecar", "--pipeline", "my-pipeline", "--spec", &draining]).await;
    let stored = s
        .kubectl
        .ok(&["get", "pipeline", "my-pipeline", "-n", "logging", "-o", "jsonpath={.spec.sidecars[3].lifecycle}"])
        .await;
    assert_eq!(stored.trim(), r#"{"preStop":{"sleep":{"seconds":5}}}"#);
    s.replicas_run("fluent-bit my-sidecar envoy-sidecar probe-sidecar drain").await;
    let seconds = s
        .kubectl
        .ok(&[
            "get",
            "pods",
            "-n",
            "logging",
            "-l",
            "core.calyptia.com/pipeline=my-pipeline",
            "-o",
            "jsonpath={range .items[*]}{.spec.containers[?(@.name==\"drain\")].lifecycle.preStop.sleep.seconds}{\" \"}{end}",
        ])
        .await;
    assert_eq!(seconds.trim(), "5 5", "in every replica");
    let drain_id = ids(&s.ok(&["get", "sidecar", "--pipeline", "my-pipeline"]).await).pop().expect("an ID");
    s.ok(&["delete", "sidecar", "--sidecar", &drain_id, "--yes"]).await;

    // Update and delete work as documented.
    let newer = std::fs::read_to_string(example("envoy-sidecar.json"))
        .expect("example")
        .replace("envoyproxy/envoy:v1.28-latest", "envoyproxy/envoy:v1.29-latest");
    let newer = s.file("envoy-newer.json", &newer);
    s.ok(&["update", "sidecar", "--sidecar", &created[1], "--spec", &newer]).await;
    s.ok(&["delete", "sidecar", "--sidecar", &created[0], "--yes"]).await;
    s.replicas_run("fluent-bit envoy-sidecar probe-sidecar").await;
}
