//! The sidecar listing under load, and `sidecarctl` against `kubectl`, in one run on the
//! embedded cluster with its demo data.
//!
//! `cargo bench -p cli --bench console` prints: `GET /api/v1/pipelines/logging/app-logs/sidecars`
//! at 1 and 64 connections (p50, p99, requests per second) beside an endpoint that does no work,
//! then the wall time of
//! `sidecarctl get sidecar --pipeline app-logs` beside `kubectl get pipeline app-logs -o json`.

use emulator::kubectl::Kubectl;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;
const RUN: Duration = Duration::from_secs(5);
const COMMAND_RUNS: usize = 30;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_wall(mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..COMMAND_RUNS)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed()
        })
        .collect();
    times.sort();
    percentile(&times, 0.5)
}

/// `connections` clients requesting `url` in a loop for `RUN`: p50, p99, requests per second.
async fn load(url: String, connections: usize) -> (Duration, Duration, f64) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).build().expect("client");
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while start.elapsed() < RUN {
                    let t = Instant::now();
                    let resp = http.get(&url).send().await.expect("request");
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

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let kubectl = Kubectl::temporary();
    let base = runtime.block_on(async {
        let cluster = server::embedded::start(&server::embedded::Options::new(
            "127.0.0.1:0".parse().expect("addr"),
            kubectl.kubeconfig(),
        ))
        .await
        .expect("embedded cluster");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let site = std::env::temp_dir().join("sidecar-console-bench-site");
        let app = server::router(
            server::leptos_options(&site, addr),
            server::api::ApiState::new(cluster.client, "embedded demo cluster"),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        // Let the demo pipelines roll out.
        tokio::time::sleep(Duration::from_secs(3)).await;
        format!("http://{addr}")
    });
    // The same load on an endpoint that does no work (the JSON 404 of an unknown path): what
    // the HTTP stack and the load generator cost on this machine, side by side.
    for (what, path) in [
        ("unknown path (baseline)", "/api/v1/nothing-here"),
        ("GET …/sidecars", "/api/v1/pipelines/logging/app-logs/sidecars"),
    ] {
        for connections in [1, CONNECTIONS] {
            let (p50, p99, rps) = runtime.block_on(load(format!("{base}{path}"), connections));
            println!(
                "{what}, {connections} connection{}: p50 {:.2} ms, p99 {:.2} ms, {rps:.0} req/s",
                if connections == 1 { "" } else { "s" },
                ms(p50),
                ms(p99)
            );
        }
    }

    let sidecarctl = env!("CARGO_BIN_EXE_sidecarctl");
    let ours = median_wall(|| {
        let out = std::process::Command::new(sidecarctl)
            .args(["--server", &base, "get", "sidecar", "--pipeline", "app-logs"])
            .output()
            .expect("sidecarctl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    let theirs = median_wall(|| {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubectl.kubeconfig())
            .args(["get", "pipeline", "app-logs", "-n", "logging", "-o", "json"])
            .output()
            .expect("kubectl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    println!(
        "wall time, median of {COMMAND_RUNS}: sidecarctl get sidecar {:.1} ms, kubectl get pipeline -o json {:.1} ms: ratio {:.2}",
        ms(ours),
        ms(theirs),
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    drop(runtime);
}
