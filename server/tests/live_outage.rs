//! A live page never calls itself live while the cluster is away: when the console loses its
//! watch of the cluster, open streams say `unavailable` (the page shows "reconnecting") and
//! reads stop being answered from what the watch last saw; once the cluster is back, the
//! streams send the state again and follow changes.

mod common;

use common::{free_port, record, start_console, start_emulator};
use serde_json::json;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Waits (at most `limit`) until `seen` holds `needle` after byte `from`; the position after it.
async fn wait_for(seen: &Mutex<String>, needle: &str, from: usize, limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        {
            let seen = seen.lock().expect("seen");
            if let Some(at) = seen.get(from..).and_then(|rest| rest.find(needle)) {
                return from + at + needle.len();
            }
            if start.elapsed() > limit {
                panic!("no {needle:?} within {limit:?}; the stream said: {}", seen.get(from..).unwrap_or(""));
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_say_unavailable_while_the_cluster_is_away_and_live_when_it_is_back() {
    let dir = tempfile::tempdir().expect("dir");
    let (cluster_port, console_port) = (free_port(), free_port());
    let emulator = start_emulator(cluster_port, dir.path());
    let kubectl = emulator::kubectl::Kubectl::new(&dir.path().join("kubeconfig"));
    let crd = dir.path().join("crd.json");
    std::fs::write(&crd, operator::crd::crd_json().to_string()).expect("write");
    kubectl.ok(&["apply", "-f", crd.to_str().expect("path")]).await;
    kubectl.ok(&["wait", "--for=condition=Established", "crd/pipelines.core.calyptia.com"]).await;
    let file = dir.path().join("p.json");
    let pipeline = json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
        "metadata": {"name": "logs", "namespace": "default"},
        "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 1,
                 "sidecars": [{"name": "proxy", "image": "envoyproxy/envoy:v1.31"}]}});
    std::fs::write(&file, pipeline.to_string()).expect("write");
    kubectl.ok(&["apply", "-f", file.to_str().expect("path")]).await;

    let _console = start_console(console_port, &dir.path().join("kubeconfig"), 5);
    let console = format!("http://127.0.0.1:{console_port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    while http.get(format!("{console}/readyz")).send().await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(start.elapsed() < Duration::from_secs(30), "the console never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let stream =
        http.get(format!("{console}/api/v1/pipelines/default/logs/watch")).send().await.expect("open the stream");
    assert_eq!(stream.status(), 200);
    let seen = record(stream);
    let at = wait_for(&seen, "event: state", 0, Duration::from_secs(5)).await;

    // The cluster goes away (SIGKILL). The stream says so within seconds, in words.
    drop(emulator);
    let at = wait_for(&seen, "event: unavailable", at, Duration::from_secs(5)).await;
    let said = wait_for(&seen, "\n\n", at, Duration::from_secs(1)).await;
    let words = seen.lock().expect("seen")[at..said].to_owned();
    assert!(words.contains("Kubernetes"), "the stream's words name what is missing: {words}");
    assert!(!words.contains("ServiceError") && !words.contains("hyper"), "no internal names: {words}");
    // And nothing is served as if it were current.
    let page = http.get(format!("{console}/api/v1/pipelines/default/logs")).send().await.expect("read");
    assert_eq!(page.status(), 503, "a read while the cluster is away");
    // The page says so, and offers another try.
    let html = http.get(format!("{console}/pipelines/default/logs")).send().await.expect("page");
    let html = html.text().await.expect("html");
    assert!(html.contains("Could not load pipeline default/logs."), "{html}");
    assert!(html.contains(r#"<a href="" rel="external" class="retry">Try again</a>"#), "{html}");

    // The cluster is back: the stream sends the state again, and follows changes.
    let _emulator = start_emulator(cluster_port, dir.path());
    let at = wait_for(&seen, "event: state", at, Duration::from_secs(5)).await;
    let mut changed = pipeline.clone();
    changed["spec"]["sidecars"][0]["image"] = json!("envoyproxy/envoy:v1.32");
    std::fs::write(&file, changed.to_string()).expect("write");
    kubectl.ok(&["apply", "-f", file.to_str().expect("path")]).await;
    wait_for(&seen, "envoyproxy/envoy:v1.32", at, Duration::from_secs(2)).await;
    let page = http.get(format!("{console}/api/v1/pipelines/default/logs")).send().await.expect("read");
    assert_eq!(page.status(), 200);
}
