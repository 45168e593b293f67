//! Throughput and latency of the emulator through kube-rs, in-process and over loopback, and
//! the memory it needs to hold 10,000 Pipelines of 5 sidecars each.
//!
//! `cargo bench -p emulator --bench api` prints one line per figure. The loopback server runs in
//! a child process (this binary again) so that its resident memory is measured alone.

use emulator::Emulator;
use futures::StreamExt;
use kube::api::{
    ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::{Api, Client};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PIPELINES: usize = 10_000;
const SIDECARS: usize = 5;
const GETS: usize = 20_000;
const WATCH_ROUNDS: usize = 200;

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "pipelines.core.calyptia.com"},
        "spec": {"group": "core.calyptia.com", "scope": "Namespaced",
            "names": {"plural": "pipelines", "singular": "pipeline", "kind": "Pipeline", "listKind": "PipelineList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    })
}

/// A Pipeline with five sidecars of the size real ones have.
fn pipeline(i: usize) -> DynamicObject {
    let sidecars: Vec<Value> = (0..SIDECARS)
        .map(|s| {
            json!({
                "id": format!("00000000-0000-4000-8000-{i:06}{s:06}"),
                "name": format!("sidecar-{s}"),
                "image": "envoyproxy/envoy:v1.31.0",
                "ports": [{"name": "admin", "containerPort": 9901 + s, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                "volumeMounts": [{"name": format!("config-{s}"), "mountPath": "/etc/envoy", "readOnly": true}],
                "volumes": [{"name": format!("config-{s}"), "configMap": {"name": "envoy-config"}}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901 + s}, "periodSeconds": 10},
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
        "metadata": {"name": format!("pipeline-{i}"), "labels": {"app": "bench", "shard": (i % 10).to_string()}},
        "spec": {"kind": "deployment", "replicasCount": 2, "image": "ghcr.io/calyptia/core/calyptia-fluent-bit:24.1.1",
            "config": "[INPUT]\n    Name dummy\n[OUTPUT]\n    Name stdout\n    Match *\n", "sidecars": sidecars}
    }))
    .expect("pipeline")
}

fn pipelines(client: Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("core.calyptia.com", "v1", "Pipeline");
    Api::namespaced_with(client, "default", &ApiResource::from_gvk(&gvk))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(what: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    println!(
        "{what:<34} {:>9.0} req/s   p50 {:>8.1} µs   p99 {:>8.1} µs   ({} requests)",
        samples.len() as f64 / wall.as_secs_f64(),
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.len()
    );
}

async fn timed<F: std::future::Future<Output = ()>>(f: F) -> Duration {
    let t = Instant::now();
    f.await;
    t.elapsed()
}

/// Creates, gets (one client, then 4 concurrent), lists and watches Pipelines.
async fn drive(client: Client, label: &str) {
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk(&GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition")),
    );
    let crd: DynamicObject = serde_json::from_value(crd()).expect("crd");
    crds.create(&PostParams::default(), &crd).await.expect("create CRD");
    let api = pipelines(client);

    let mut samples = Vec::with_capacity(PIPELINES);
    let start = Instant::now();
    for i in 0..PIPELINES {
        let p = pipeline(i);
        samples.push(timed(async { drop(api.create(&PostParams::default(), &p).await.expect("create")) }).await);
    }
    report(&format!("{label}: create"), samples, start.elapsed());

    let mut samples = Vec::with_capacity(GETS);
    let start = Instant::now();
    for i in 0..GETS {
        let name = format!("pipeline-{}", (i * 7919) % PIPELINES);
        samples.push(timed(async { drop(api.get(&name).await.expect("get")) }).await);
    }
    report(&format!("{label}: get (1 client)"), samples, start.elapsed());

    let start = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(GETS / 4);
                for i in 0..GETS / 4 {
                    let name = format!("pipeline-{}", (i * 7919 + t) % PIPELINES);
                    samples.push(timed(async { drop(api.get(&name).await.expect("get")) }).await);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.expect("task"));
    }
    report(&format!("{label}: get (4 concurrent)"), samples, start.elapsed());

    let mut samples = Vec::new();
    let start = Instant::now();
    for _ in 0..5 {
        samples.push(timed(async { drop(api.list(&ListParams::default()).await.expect("list")) }).await);
    }
    report(&format!("{label}: list all {PIPELINES}"), samples, start.elapsed());
    let mut samples = Vec::new();
    let start = Instant::now();
    for shard in 0..10 {
        let lp = ListParams::default().labels(&format!("shard={shard}")).limit(500);
        samples.push(timed(async { drop(api.list(&lp).await.expect("list")) }).await);
    }
    report(&format!("{label}: list by label, 500/page"), samples, start.elapsed());

    // Watch: from a patch to its event arriving.
    let rv =
        api.list(&ListParams::default().limit(1)).await.expect("list").metadata.resource_version.unwrap_or_default();
    let mut events = api.watch(&WatchParams::default(), &rv).await.expect("watch").boxed();
    let mut samples = Vec::with_capacity(WATCH_ROUNDS);
    let start = Instant::now();
    for i in 0..WATCH_ROUNDS {
        let patch = json!({"metadata": {"annotations": {"round": i.to_string()}}});
        let t = Instant::now();
        api.patch(&format!("pipeline-{i}"), &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
        loop {
            match events.next().await {
                Some(Ok(WatchEvent::Modified(_))) => break,
                Some(Ok(_)) => continue,
                other => panic!("watch ended: {other:?}"),
            }
        }
        samples.push(t.elapsed());
    }
    report(&format!("{label}: patch → watch event"), samples, start.elapsed());
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if std::env::var_os("EMULATOR_BENCH_SERVE").is_some() {
        // Child: serve on loopback and say where.
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            println!("{}", listener.local_addr().expect("addr"));
            axum::serve(listener, Emulator::new().router()).await.expect("serve");
        });
        return;
    }
    runtime.block_on(async {
        drive(Client::new(Emulator::new().router(), "default"), "in-process").await;

        let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .env("EMULATOR_BENCH_SERVE", "1")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("server process");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("address");
        let idle = rss_kib(child.id());
        let config = kube::Config::new(format!("http://{}", line.trim()).parse().expect("url"));
        let client = Client::try_from(config).expect("client");
        drive(client, "loopback").await;
        let full = rss_kib(child.id());
        println!(
            "emulator RSS: {:.1} MiB idle, {:.1} MiB holding {PIPELINES} Pipelines of {SIDECARS} sidecars",
            idle as f64 / 1024.0,
            full as f64 / 1024.0
        );
        let _ = child.kill();
        let _ = child.wait();
    });
}
