//! Operating the console: health and readiness, Prometheus metrics, HTTPS with a given
//! certificate (and `Secure` cookies), JSON logs — with no token in any log line.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

#[tokio::test]
async fn health_readiness_and_metrics_answer_without_sign_in() {
    let (base, _k) = common::embedded_console(None).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/healthz")).send().await.expect("get").text().await.expect("text"), "ok");
    let start = Instant::now();
    loop {
        let r = http.get(format!("{base}/readyz")).send().await.expect("get");
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(r.text().await.expect("text").starts_with("not ready: "));
        assert!(start.elapsed() < Duration::from_secs(20), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = {
        let list: serde_json::Value = http
            .get(format!("{base}/api/v1/pipelines/logging/app-logs/sidecars"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        list[0]["id"].as_str().expect("id").to_owned()
    };
    assert_eq!(http.get(format!("{base}/api/v1/sidecars/{id}")).send().await.expect("get").status(), 200);
    let mut stream = http.get(format!("{base}/api/v1/pipelines/watch")).send().await.expect("stream");
    stream.chunk().await.expect("first event");
    let text = http.get(format!("{base}/metrics")).send().await.expect("get").text().await.expect("text");
    assert!(
        text.contains(
            r#"sidecar_console_http_requests_total{method="GET",route="/api/v1/sidecars/{id}",status="200"}"#
        ),
        "{text}"
    );
    assert!(text.contains("sidecar_console_http_request_duration_seconds_bucket{"), "{text}");
    assert!(text.contains(r#"sidecar_console_kubernetes_requests_total{outcome="200"}"#), "{text}");
    assert!(!text.contains("sidecar_console_sse_clients 0"), "a stream is open: {text}");
    assert!(text.lines().any(|l| l.starts_with("sidecar_console_watch_restarts ")), "{text}");
    assert!(!text.contains(&id), "routes, not paths: {text}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn over_tls_with_json_logs_no_token_reaches_a_log_line_and_cookies_are_secure() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    std::fs::write(dir.path().join("tls.crt"), cert.cert.pem()).expect("write");
    std::fs::write(dir.path().join("tls.key"), cert.signing_key.serialize_pem()).expect("write");
    let secret = "tok-3f1d9a0c-never-logged";
    std::fs::write(dir.path().join("tokens.csv"), format!("{secret},carol,4001\n")).expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let child = Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
        .args([
            "--ephemeral",
            "--embedded",
            "--cluster-listen",
            "127.0.0.1:0",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--auth", "token", "--log-format", "json", "--tls-cert"])
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .arg("--token-auth-file")
        .arg(dir.path().join("tokens.csv"))
        .arg("--write-kubeconfig")
        .arg(dir.path().join("kubeconfig"))
        .env("RUST_LOG", "debug")
        .env_remove("KUBECONFIG")
        // Files, not pipes: a chatty debug log must not fill a pipe nobody reads yet.
        .stdout(std::fs::File::create(dir.path().join("out.log")).expect("log file"))
        .stderr(std::fs::File::create(dir.path().join("err.log")).expect("log file"))
        .spawn()
        .expect("start");
    let mut running = Running(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "the console did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ca = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).expect("ca");
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("https://127.0.0.1:{port}");
    let r = http.get(format!("{base}/api/v1/pipelines")).bearer_auth(secret).send().await.expect("get");
    assert_eq!(r.status(), 403, "carol has no rights: Kubernetes says so");
    let r = http.post(format!("{base}/login")).form(&[("token", secret)]).send().await.expect("post");
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let session = cookie.split(';').next().expect("pair").to_owned();
    http.get(format!("{base}/pipelines")).header("cookie", &session).send().await.expect("get");
    http.get(format!("{base}/api/v1/pipelines?token={secret}")).send().await.expect("get");
    // Stop it and read everything it wrote.
    let _ = Command::new("kill").arg("-TERM").arg(running.0.id().to_string()).status();
    let _ = running.0.wait();
    let out = std::fs::read_to_string(dir.path().join("out.log")).expect("read");
    let err = std::fs::read_to_string(dir.path().join("err.log")).expect("read");
    assert!(err.lines().count() > 3, "{err}");
    for line in err.lines() {
        let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
    let session_id = session.split('=').nth(1).expect("id");
    for text in [&out, &err] {
        let leak: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leak.is_empty(), "a token in the logs: {leak:?}");
        assert!(!text.contains(session_id), "a session in the logs: {text}");
    }
}

#[tokio::test]
async fn one_client_cannot_hold_live_streams_without_end() {
    let kubectl = emulator::kubectl::Kubectl::temporary();
    let options = server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), kubectl.kubeconfig());
    let cluster = server::embedded::start(&options).await.expect("the cluster starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(
        server::leptos_options(&site, addr),
        server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster"),
    );
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/pipelines/watch");
    let mut open = Vec::new();
    for _ in 0..server::ops::STREAMS_PER_CLIENT {
        let mut r = http.get(&url).send().await.expect("stream");
        assert_eq!(r.status(), 200);
        r.chunk().await.expect("first event");
        open.push(r);
    }
    let refused = http.get(&url).send().await.expect("get");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert!(
        body["error"].as_str().unwrap_or("").starts_with("this client holds as many live streams as it may"),
        "{body}"
    );
    // Other requests are served meanwhile, and a closed stream frees its slot.
    assert_eq!(http.get(format!("http://{addr}/api/v1/pipelines")).send().await.expect("get").status(), 200);
    drop(open.pop());
    let start = Instant::now();
    loop {
        let r = http.get(&url).send().await.expect("stream");
        if r.status() == 200 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "the slot was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
