//! Which cluster the console manages: the one of `--kubeconfig` / `KUBECONFIG` when given (here a
//! separate `sidecar-console emulator`), and it says so; its operator runs there unless
//! Calyptia Core's does.

mod common;

use common::{free_port, wait_for_port, Running};
use emulator::kubectl::Kubectl;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn console(args: &[&str], kubeconfig_env: Option<&std::path::Path>) -> (Running, u16, String) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sidecar-console"));
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--ephemeral", "--cluster-listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(k) = kubeconfig_env {
        cmd.env("KUBECONFIG", k);
    }
    let mut child = cmd.spawn().expect("start the console");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    wait_for_port(port);
    // What it said at start, up to the line saying where it listens.
    let mut said = String::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        said.push_str(&line);
        said.push('\n');
        if line.starts_with("Sidecar Console listening") {
            break;
        }
    }
    (running, port, said)
}

async fn pipelines(port: u16) -> serde_json::Value {
    reqwest::get(format!("http://127.0.0.1:{port}/api/v1/pipelines")).await.expect("get").json().await.expect("json")
}

#[tokio::test]
async fn a_given_kubeconfigs_cluster_is_managed_instead_of_the_embedded_one() {
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let api_port = free_port();
    let _cluster = Running(
        Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
            .args(["emulator", "--listen", &format!("127.0.0.1:{api_port}"), "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator"),
    );
    wait_for_port(api_port);
    let kubectl = Kubectl::new(&kubeconfig);
    let crd = dir.path().join("crd.json");
    std::fs::write(&crd, operator::crd::crd_json().to_string()).expect("write");
    kubectl.ok(&["apply", "-f", crd.to_str().expect("path")]).await;
    kubectl.ok(&["wait", "--for=condition=Established", "crd/pipelines.core.calyptia.com"]).await;
    let p = dir.path().join("p.json");
    std::fs::write(&p, r#"{"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": "only-here", "namespace": "default"},
        "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 1}}"#).expect("write");
    kubectl.ok(&["apply", "-f", p.to_str().expect("path")]).await;

    // --kubeconfig: that cluster, not the demo data of the embedded one; the operator runs there.
    let (_console, port, said) = console(&["--kubeconfig", kubeconfig.to_str().expect("path")], None);
    assert!(said.contains(&format!("Managing the cluster of {}", kubeconfig.display())), "{said}");
    assert!(said.contains("the Pipeline operator runs in this process"), "{said}");
    let listed = pipelines(port).await;
    let names: Vec<&str> = listed.as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["only-here"]);
    kubectl.until(&["get", "deployment", "only-here", "-o", "jsonpath={.metadata.name}"], "only-here").await;

    // KUBECONFIG works the same; with Calyptia Core's operator in that cluster, ours stays off.
    kubectl.ok(&["create", "namespace", "calyptia-core"]).await;
    kubectl
        .ok(&[
            "create",
            "deployment",
            "calyptia-core-controller-manager",
            "-n",
            "calyptia-core",
            "--image=ghcr.io/calyptia/core-operator:v2",
        ])
        .await;
    let (_console2, port2, said) = console(&[], Some(&kubeconfig));
    assert!(said.contains("Calyptia Core's operator runs in namespace \"calyptia-core\""), "{said}");
    assert!(!said.contains("the Pipeline operator runs in this process"), "{said}");
    assert_eq!(pipelines(port2).await.as_array().map(Vec::len), Some(1));

    // --embedded: the embedded cluster with its demo data, whatever KUBECONFIG says.
    let (_console3, port3, said) = console(&["--embedded"], Some(&kubeconfig));
    assert!(said.contains("Embedded cluster"), "{said}");
    assert!(pipelines(port3).await.as_array().is_some_and(|l| l.len() >= 5));
}
