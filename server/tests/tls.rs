//! A cluster behind TLS, as every real one is: the console reads and writes its Pipelines with
//! the kubeconfig's certificate authority (rustls), and refuses a server it cannot verify.

use base64::Engine;
mod common;

use emulator::Emulator;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubeconfig(server: &str, ca_pem: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: tls\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
         contexts:\n- name: tls\n  context: {{cluster: tls, user: nobody}}\ncurrent-context: tls\nusers:\n- name: nobody\n  user: {{}}\n"
    )
}

fn console(kubeconfig: &std::path::Path) -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let child = Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--operator", "off", "--kubeconfig"])
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the console");
    let running = Running(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "the console did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (running, port)
}

#[tokio::test]
async fn a_cluster_behind_tls_is_managed_with_its_certificate_authority() {
    let emulator = Emulator::new();
    common::create_object(&emulator, "apiextensions.k8s.io/v1", "CustomResourceDefinition", operator::crd::crd_json());
    common::create_object(&emulator, "v1", "Namespace", json!({"metadata": {"name": "logging"}}));
    common::create_object(
        &emulator,
        "core.calyptia.com/v1",
        "Pipeline",
        json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": "secure", "namespace": "logging"},
            "spec": {"image": "fluent/fluent-bit:3.1"}}),
    );
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("cert");
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(cert_pem.clone().into_bytes(), key_pem.into_bytes())
        .await
        .expect("tls config");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = axum_server::from_tcp_rustls(listener, config).expect("tls listener");
    let router = emulator.router();
    tokio::spawn(async move { server.serve(router.into_make_service()).await });
    let dir = tempfile::tempdir().expect("dir");

    // With the cluster's certificate authority: reads and writes work.
    let trusted = dir.path().join("trusted.kubeconfig");
    std::fs::write(&trusted, kubeconfig(&format!("https://{addr}"), &cert_pem)).expect("write");
    let (_console, port) = console(&trusted);
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let listed: Value = reqwest::get(format!("{base}/pipelines")).await.expect("get").json().await.expect("json");
    assert_eq!(listed[0]["name"], "secure", "{listed}");
    let created = reqwest::Client::new()
        .post(format!("{base}/pipelines/logging/secure/sidecars"))
        .json(&json!({"name": "proxy", "image": "envoyproxy/envoy:v1.31.0"}))
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 201);

    // With another authority, the server is not trusted: an error, no data.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let untrusted = dir.path().join("untrusted.kubeconfig");
    std::fs::write(&untrusted, kubeconfig(&format!("https://{addr}"), &other.cert.pem())).expect("write");
    let (_console2, port2) = console(&untrusted);
    let resp = reqwest::get(format!("http://127.0.0.1:{port2}/api/v1/pipelines")).await.expect("get");
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.expect("json");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("cannot reach Kubernetes securely: ") && !error.contains("ServiceError"), "{body}");
}
