//! The console's pages as a browser without JavaScript gets them: server-rendered with their
//! data, the right status codes, and the live streams they open, over the embedded cluster with
//! its demo data.

mod common;

use emulator::kubectl::Kubectl;
use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::time::Duration;

struct Console {
    base: String,
    http: Client,
    _kubectl: Kubectl,
}

async fn start() -> Console {
    let (base, kubectl) = common::embedded_console(None).await;
    Console { base, http: Client::new(), _kubectl: kubectl }
}

impl Console {
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await.expect("request");
        (resp.status(), resp.text().await.expect("body"))
    }

    async fn json(&self, path: &str) -> Value {
        self.http.get(format!("{}/api/v1{path}", self.base)).send().await.expect("request").json().await.expect("json")
    }

    /// The ID of the demo sidecar `name` of `pipeline`, once the pipeline's replicas are listed.
    async fn sidecar(&self, pipeline: &str, name: &str) -> Value {
        for _ in 0..100 {
            let list = self.json(&format!("/pipelines/{pipeline}/sidecars")).await;
            if let Some(s) = list.as_array().into_iter().flatten().find(|s| s["name"] == name) {
                if s["status"]["replicas"].as_u64().unwrap_or(0) > 0 {
                    return s.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no sidecar {name} in {pipeline}");
    }
}

#[tokio::test]
async fn pages_carry_their_data_without_javascript() {
    let c = start().await;
    let (status, html) = c.page("/pipelines").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("embedded demo cluster"), "the frame says which cluster");
    for name in ["app-logs", "audit-logs", "web-access", "node-metrics", "traces"] {
        assert!(html.contains(&format!("/{name}\">{name}</a>")), "{name} is listed with a link");
    }
    let (_, html) = c.page("/pipelines?namespace=observability").await;
    assert!(html.contains("traces") && !html.contains("app-logs"), "the filter is applied on the server");

    let (status, html) = c.page("/pipelines/logging/app-logs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>app-logs · logging — Sidecar Console</title>"));
    assert!(html.contains("envoy-proxy") && html.contains("envoyproxy/envoy:v1.31.0"));
    assert!(html.contains("aria-label=\"Delete envoy-proxy\""));

    let otel = c.sidecar("observability/traces", "otel-agent").await;
    let id = otel["id"].as_str().expect("id");
    for _ in 0..100 {
        let (status, html) = c.page(&format!("/pipelines/observability/traces/sidecars/{id}?tab=troubleshoot")).await;
        assert_eq!(status, StatusCode::OK);
        if html.contains("ImagePullBackOff") {
            assert!(html.contains("otel-agent"));
            assert!(html.contains("Image cannot be pulled"));
            assert!(html
                .contains("The cluster cannot pull the image registry.example.com/observability/otel-agent:0.104.0"));
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the troubleshoot tab never showed the diagnosis");
}

#[tokio::test]
async fn unknown_pipelines_and_sidecars_answer_404_pages_that_say_which() {
    let c = start().await;
    let (status, html) = c.page("/pipelines/logging/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Pipeline \"nope\" not found in namespace \"logging\""), "{html}");
    let (status, html) = c.page("/pipelines/logging/app-logs/sidecars/no-such-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Sidecar \"no-such-id\" not found"));
    let (status, _) = c.page("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The pages' own calls say the same, with the status the REST API would answer, and a body
    // the browser reads back as the error it is.
    let path = <app::api::LoadSidecar as leptos::server_fn::ServerFn>::PATH;
    let r = c
        .http
        .post(format!("{}{path}", c.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("id=no-such-id")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let error: app::error::ConsoleError = serde_json::from_str(&r.text().await.expect("body")).expect("an error");
    assert!(matches!(&error, app::error::ConsoleError::NotFound(s) if s.contains("no-such-id")), "{error:?}");
}

/// Reads server-sent events until one named `name` arrives; its data.
#[tokio::test]
async fn the_editor_renders_its_draft_without_javascript() {
    let c = start().await;
    let (status, html) = c.page("/pipelines/logging/app-logs/sidecars/new?preset=envoy").await;
    assert_eq!(status, StatusCode::OK);
    for text in
        ["Add a sidecar to logging/app-logs", "Start from preset", "envoy-sidecar", "/etc/envoy", "Review changes"]
    {
        assert!(html.contains(text), "{text} is on the add page");
    }
    // The volume picker lists the namespace's ConfigMaps with their keys.
    assert!(html.contains("envoy-config (envoy.yaml)"), "the picker names the ConfigMap and its keys");
    // No page refers to Monaco's files: the browser imports them when a JSON view opens.
    assert!(!html.contains("/monaco/"));
    let envoy = c.sidecar("logging/app-logs", "envoy-proxy").await;
    let id = envoy["id"].as_str().expect("id");
    let (status, html) = c.page(&format!("/pipelines/logging/app-logs/sidecars/{id}?tab=json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Edit sidecar envoy-proxy") && html.contains("Sidecar spec (JSON)"));
    assert!(html.contains("envoyproxy/envoy:v1.31.0"), "the stored spec is the draft");
    // A sidecar of another pipeline, or a pipeline that does not exist: 404 pages that say so.
    let (status, html) = c.page(&format!("/pipelines/logging/web-access/sidecars/{id}?tab=form")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("is not a sidecar of pipeline logging/web-access"));
    let (status, html) = c.page("/pipelines/logging/nope/sidecars/new").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("\"nope\" not found in namespace \"logging\""));
}

async fn next_event(
    body: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    name: &str,
) -> Value {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let kind = event.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim).unwrap_or("");
            let data: String = event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            if kind == name {
                return serde_json::from_str(&data).expect("json data");
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await.expect("an event in time");
        buf.push_str(&String::from_utf8_lossy(&chunk.expect("stream open").expect("chunk")));
    }
}

#[tokio::test]
async fn a_pipelines_live_stream_sends_each_change() {
    let c = start().await;
    let resp = c.http.get(format!("{}/api/v1/pipelines/logging/web-access/watch", c.base)).send().await.expect("watch");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let first = next_event(&mut body, &mut buf, "state").await;
    assert_eq!(first["pipeline"]["name"], "web-access");
    let before = first["sidecars"].as_array().map(Vec::len).unwrap_or(0);

    let created = c
        .http
        .post(format!("{}/api/v1/pipelines/logging/web-access/sidecars", c.base))
        .json(&serde_json::json!({"name": "watched", "image": "nginx:1.27"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), StatusCode::CREATED);
    loop {
        let state = next_event(&mut body, &mut buf, "state").await;
        let names: Vec<&str> =
            state["sidecars"].as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
        if names.contains(&"watched") {
            assert_eq!(names.len(), before + 1);
            break;
        }
    }

    let missing = c.http.get(format!("{}/api/v1/pipelines/logging/nope/watch", c.base)).send().await.expect("watch");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The `nonce="…"` values of `html`'s scripts and links, and the one its policy names.
fn nonces(html: &str, policy: &str) -> (Vec<String>, String) {
    let all = html.split("nonce=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_owned).collect();
    let named = policy.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    (all, named)
}

#[tokio::test]
async fn a_page_asked_for_again_has_a_nonce_of_its_own_and_shows_a_change_at_once() {
    let c = start().await;
    c.sidecar("logging/web-access", "nginx").await;
    let url = format!("{}/pipelines/logging/web-access", c.base);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..4 {
        let r = c.http.get(&url).send().await.expect("get");
        let policy = r.headers()["content-security-policy"].to_str().expect("policy").to_owned();
        let html = r.text().await.expect("body");
        let (all, named) = nonces(&html, &policy);
        assert!(
            !all.is_empty() && all.iter().all(|n| *n == named),
            "every script carries the policy's nonce {named}: {all:?}"
        );
        assert!(seen.insert(named), "each response has a nonce of its own");
    }
    // A sidecar added or removed shows on the very next page, not after the page expires.
    let created = c
        .http
        .post(format!("{}/api/v1/pipelines/logging/web-access/sidecars", c.base))
        .json(&serde_json::json!({"name": "memo-check", "image": "busybox:1.36"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    assert!(c.page("/pipelines/logging/web-access").await.1.contains("memo-check"), "the new sidecar is listed");
    let deleted = c.http.delete(format!("{}/api/v1/sidecars/{id}", c.base)).send().await.expect("delete");
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert!(!c.page("/pipelines/logging/web-access").await.1.contains("memo-check"), "the deleted sidecar is gone");
}

/// Building a router finds the app's routes by rendering the app once, and Leptos suppresses
/// the resource loads of the whole process meanwhile. A page rendered at that moment by another
/// router of the same process (a second console in one process, as in these tests) must still
/// load its data, not wait for a resource that never loads.
#[tokio::test]
async fn pages_render_while_another_router_is_built() {
    let c = start().await;
    let building = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let builder = {
        let building = building.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                // Consoles of a cluster nobody serves: only their routers are wanted.
                let config = kube::Config::new("http://127.0.0.1:1".parse().expect("url"));
                let client = kube::Client::try_from(config).expect("client");
                let site = std::env::temp_dir().join("sidecar-console-test-site");
                let addr = "127.0.0.1:1".parse().expect("addr");
                let mut built = 0;
                while building.load(std::sync::atomic::Ordering::Relaxed) {
                    let console = server::api::ApiState::new(client.clone(), "nowhere");
                    drop(server::router(server::leptos_options(&site, addr), console));
                    built += 1;
                    tokio::task::yield_now().await;
                }
                built
            })
        })
    };
    let mut answered = 0;
    for n in 0..60 {
        // A query of its own, so that each page is rendered, not served again from memory.
        let path = if n % 2 == 0 { "/pipelines" } else { "/pipelines/logging/app-logs" };
        let page = tokio::time::timeout(Duration::from_secs(10), c.page(&format!("{path}?n={n}"))).await;
        match page {
            Ok((StatusCode::OK, html)) if html.contains("app-logs") => answered += 1,
            Ok((code, html)) => panic!("{path} answered {code} while a router was built: {html}"),
            Err(_) => panic!("{path} did not answer within 10 s while a router was built"),
        }
    }
    building.store(false, std::sync::atomic::Ordering::Relaxed);
    let built = builder.join().expect("the builder thread");
    assert_eq!(answered, 60);
    assert!(built > 0, "routers were built meanwhile");
}
