//! Where the pipeline page's time goes, in process (no network, no client): the page and the
//! JSON through the whole router, and the service calls under them, one request at a time.
//!
//! `cargo bench -p server --bench breakdown` prints the mean of 3,000 requests of each.

use emulator::kubectl::Kubectl;
use serde_json::json;
use std::time::{Duration, Instant};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: u32 = 3000;

async fn time<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..200 {
        f().await;
    }
    let t = Instant::now();
    for _ in 0..N {
        f().await;
    }
    let each = t.elapsed() / N;
    println!("{what:50} {:8.1} µs", each.as_secs_f64() * 1e6);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let kubectl = Kubectl::temporary();
    runtime.block_on(async {
        let cluster = server::embedded::start(&server::embedded::Options::new(
            "127.0.0.1:0".parse().expect("addr"),
            kubectl.kubeconfig(),
        ))
        .await
        .expect("embedded cluster");
        let console = server::api::ApiState::new(cluster.client.clone(), "bench");
        let site = std::env::temp_dir().join("sidecar-console-bench-site");
        let app = server::router(server::leptos_options(&site, "127.0.0.1:3000".parse().expect("addr")), console.clone());
        for i in 0..4 {
            let req = axum::http::Request::post("/api/v1/pipelines/logging/web-access/sidecars")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"name": format!("bench-{i}"), "image": "nginx:1.27", "ports": [{"containerPort": 8080 + i}]}).to_string(),
                ))
                .expect("request");
            let resp = app.clone().oneshot(req).await.expect("create");
            assert!(resp.status().is_success(), "{}", resp.status());
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        // `?n=…` of its own for every request when `distinct` (none is served again).
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let get_as = |uri: &'static str, distinct: bool, found: bool| {
            let (app, counter) = (app.clone(), counter.clone());
            move || {
                let app = app.clone();
                let uri = match distinct {
                    true => format!("{uri}?n={}", counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                    false => uri.to_owned(),
                };
                async move {
                    // As hyper serves a connection: in a task of its own.
                    tokio::spawn(async move {
                        let req = axum::http::Request::get(uri).body(axum::body::Body::empty()).expect("req");
                        let resp = app.oneshot(req).await.expect("resp");
                        assert_eq!(resp.status().is_success(), found, "{}", resp.status());
                        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
                    })
                    .await
                    .expect("request");
                }
            }
        };
        let get_with = |uri: &'static str, distinct: bool| get_as(uri, distinct, true);
        let get = |uri: &'static str| get_with(uri, false);
        // `ROUNDS=20` renders the page 20 × 3,200 times first (a soak: any panic fails the run).
        let rounds: u32 = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(0);
        for _ in 0..rounds {
            time("page /pipelines/logging/web-access (soak)", get_with("/pipelines/logging/web-access", true)).await;
        }
        time("page /pipelines/logging/web-access (served again)", get("/pipelines/logging/web-access")).await;
        time("page /pipelines/logging/web-access (rendered)", get_with("/pipelines/logging/web-access", true)).await;
        time("GET /api/v1/…/sidecars", get("/api/v1/pipelines/logging/web-access/sidecars")).await;
        time("page /validate (no data)", get("/validate")).await;
        // The page frame and a sentence: what every page costs before its own content.
        time("page /nowhere (the frame and a 404)", get_as("/nowhere", false, false)).await;
        time("page /pipelines", get("/pipelines")).await;
        time("GET /healthz", get("/healthz")).await;
        let caller = console.caller(Some(&sidecar_service::Identity::Console)).expect("caller");
        time("service pipeline_state", || async {
            let s = console.sidecars.pipeline_state(&caller, "logging", "web-access").await.expect("state");
            std::hint::black_box(s);
        })
        .await;
        time("service list", || async {
            let s = console.sidecars.list(&caller, "logging", "web-access").await.expect("list");
            std::hint::black_box(s);
        })
        .await;
        let state = console.sidecars.pipeline_state(&caller, "logging", "web-access").await.expect("state");
        time("serde_json::to_string(PipelineState)", || async {
            std::hint::black_box(serde_json::to_string(&state).expect("json"));
        })
        .await;
        std::mem::forget(cluster);
    });
}
