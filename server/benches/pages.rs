//! The console's pages under load, side by side with the JSON API, in one run.
//!
//! `cargo bench -p server --bench pages` prints:
//! * the pipeline page (server-rendered, a pipeline with 5 sidecars) at 32 connections beside
//!   `GET /api/v1/pipelines/{ns}/{name}/sidecars` for the same data: p50, p99, requests per
//!   second, and the ratio of their costs; the page both as it is served again (the same page
//!   for the same caller, cluster state and second comes from memory, see `server::memo`) and
//!   rendered for every request (each with a query of its own, so that none is served again);
//! * `/pipelines` page 1 and page 200 with 10,000 pipelines in the cluster, beside page 1 with
//!   100 pipelines: p50 and p99 of one connection.

#[path = "../tests/common/mod.rs"]
mod common;

use common::create_object as create;
use emulator::kubectl::Kubectl;
use emulator::Emulator;
use serde_json::json;
use std::time::{Duration, Instant};

// As in the `sidecar-console` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 32;
const RUN: Duration = Duration::from_secs(5);
const SEQUENTIAL: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `connections` clients requesting `url` in a loop for `RUN` (with `?n=1`, `?n=2`, … when
/// `distinct`): p50, p99, requests per second.
async fn load(url: String, connections: usize, distinct: bool) -> (Duration, Duration, f64) {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("client");
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (http, url, counter) = (http.clone(), url.clone(), counter.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while start.elapsed() < RUN {
                    let url = match distinct {
                        true => format!("{url}?n={}", counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
                        false => url.clone(),
                    };
                    let t = Instant::now();
                    let resp = http.get(&url).send().await.expect("request");
                    assert!(resp.status().is_success(), "{url}: {}", resp.status());
                    let _ = resp.bytes().await.expect("body");
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("join"));
    }
    let elapsed = start.elapsed();
    all.sort();
    (percentile(&all, 0.5), percentile(&all, 0.99), all.len() as f64 / elapsed.as_secs_f64())
}

/// `SEQUENTIAL` requests of `url`, one at a time: p50, p99.
async fn one_by_one(http: &reqwest::Client, url: &str) -> (Duration, Duration) {
    let mut times = Vec::new();
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        let resp = http.get(url).send().await.expect("request");
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        let _ = resp.bytes().await.expect("body");
        times.push(t.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

async fn serve(client: kube::Client) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-bench-site");
    let app = server::router(server::leptos_options(&site, addr), server::api::ApiState::new(client, "bench"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A cluster API with `count` pipelines over 10 namespaces (no nodes: listing is what is measured).
async fn many_pipelines(count: usize) -> String {
    let emulator = Emulator::new();
    create(&emulator, "apiextensions.k8s.io/v1", "CustomResourceDefinition", operator::crd::crd_json());
    for n in 0..10 {
        create(&emulator, "v1", "Namespace", json!({"metadata": {"name": format!("team-{n}")}}));
    }
    for i in 0..count {
        let p = json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
            "metadata": {"name": format!("pipeline-{i:05}"), "namespace": format!("team-{}", i % 10)},
            "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 2,
                "sidecars": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}]}});
        create(&emulator, "core.calyptia.com/v1", "Pipeline", p);
    }
    let client = kube::Client::new(emulator.router(), "default");
    let base = serve(client).await;
    // The first page waits for nothing once the watch cache has listed everything.
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let body = http.get(format!("{base}/pipelines")).send().await.expect("request").text().await.expect("body");
        if body.contains(&format!("of {count}")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::mem::forget(emulator);
    base
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let kubectl = Kubectl::temporary();
    let base = runtime.block_on(async {
        let cluster = server::embedded::start(&server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), kubectl.kubeconfig()))
            .await
            .expect("embedded cluster");
        let base = serve(cluster.client.clone()).await;
        let http = reqwest::Client::new();
        // logging/web-access gets 5 sidecars in all.
        for i in 0..4 {
            let resp = http
                .post(format!("{base}/api/v1/pipelines/logging/web-access/sidecars"))
                .json(&json!({"name": format!("bench-{i}"), "image": "nginx:1.27", "ports": [{"containerPort": 8080 + i}]}))
                .send()
                .await
                .expect("create");
            assert!(resp.status().is_success(), "{}", resp.status());
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        std::mem::forget(cluster);
        base
    });
    let page = format!("{base}/pipelines/logging/web-access");
    let api = format!("{base}/api/v1/pipelines/logging/web-access/sidecars");
    let (p50, p99, page_rps) = runtime.block_on(load(page.clone(), CONNECTIONS, false));
    println!(
        "pipeline page (SSR, 5 sidecars, served again), {CONNECTIONS} connections: p50 {:.2} ms, p99 {:.2} ms, {page_rps:.0} req/s",
        ms(p50),
        ms(p99)
    );
    let (p50, p99, rendered_rps) = runtime.block_on(load(page, CONNECTIONS, true));
    println!(
        "pipeline page (SSR, 5 sidecars, rendered every time), {CONNECTIONS} connections: p50 {:.2} ms, p99 {:.2} ms, {rendered_rps:.0} req/s",
        ms(p50),
        ms(p99)
    );
    let (p50, p99, api_rps) = runtime.block_on(load(api, CONNECTIONS, false));
    println!(
        "GET …/sidecars (JSON, same data), {CONNECTIONS} connections: p50 {:.2} ms, p99 {:.2} ms, {api_rps:.0} req/s",
        ms(p50),
        ms(p99)
    );
    println!("cost of the page served again / cost of the JSON: {:.2}", api_rps / page_rps);
    println!("cost of the page rendered every time / cost of the JSON: {:.2}", api_rps / rendered_rps);

    runtime.block_on(async {
        let http = reqwest::Client::new();
        let small = many_pipelines(100).await;
        let (p50, p99) = one_by_one(&http, &format!("{small}/pipelines")).await;
        println!("/pipelines, 100 pipelines, page 1: p50 {:.2} ms, p99 {:.2} ms", ms(p50), ms(p99));
        let large = many_pipelines(10_000).await;
        for page in [1, 200] {
            let (p50, p99) = one_by_one(&http, &format!("{large}/pipelines?page={page}")).await;
            println!("/pipelines, 10,000 pipelines, page {page}: p50 {:.2} ms, p99 {:.2} ms", ms(p50), ms(p99));
        }
    });
    drop(runtime);
}
