//! From a Pipeline patch to every replica running the new sidecar, through the operator and the
//! emulator's simulated cluster (in-process), p50/p99 over 200 patches; then the CPU an idle
//! cluster with those pipelines uses.
//!
//! `cargo bench -p operator --bench rollout` prints the figures.

use emulator::Emulator;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::{reflector, watcher};
use kube::{Api, Client};
use operator::{Pipeline, PipelineSpec};
use serde_json::json;
use std::time::{Duration, Instant};

const ROUNDS: usize = 200;
const REPLICAS: i32 = 3;

fn cpu_seconds() -> f64 {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 / 100.0
}

/// Whether every pod of the pipeline runs `sidecar`, ready, and there are exactly `REPLICAS`.
fn rolled_out(pods: &[std::sync::Arc<Pod>], sidecar: &str) -> bool {
    pods.len() == REPLICAS as usize
        && pods.iter().all(|p| {
            let has = p.spec.as_ref().is_some_and(|s| s.containers.iter().any(|c| c.name == sidecar));
            let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| cs.iter().all(|c| c.ready));
            has && running && ready
        })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let emulator = Emulator::new();
        emulator.start_cluster();
        let client = Client::new(emulator.router(), "default");
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let crd: CustomResourceDefinition = serde_json::from_value(operator::crd::crd_json()).expect("crd");
        crds.create(&PostParams::default(), &crd).await.expect("crd");
        tokio::spawn(operator::run(client.clone()));
        let pipelines: Api<Pipeline> = Api::default_namespaced(client.clone());
        // The pods, followed through a watch (not polled, which would compete for the CPU).
        let (pods, writer) = reflector::store::<Pod>();
        let selector = watcher::Config::default().labels("core.calyptia.com/pipeline=bench");
        // Every event, deletions included (the last step of a rollout is one).
        let mut changes =
            reflector::reflector(writer, watcher(Api::<Pod>::default_namespaced(client.clone()), selector)).boxed();
        let spec = PipelineSpec { image: "fluent/fluent-bit:3.0".into(), replicas_count: REPLICAS, ..PipelineSpec::default() };
        pipelines.create(&PostParams::default(), &Pipeline::new("bench", spec)).await.expect("pipeline");

        let mut samples = Vec::with_capacity(ROUNDS);
        for i in 0..ROUNDS {
            let sidecar = format!("sidecar-{i}");
            let patch = json!({"spec": {"sidecars": [{"name": sidecar, "image": "nginx:1.27"}]}});
            let t = Instant::now();
            pipelines.patch("bench", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
            while !rolled_out(&pods.state(), &sidecar) {
                let next = tokio::time::timeout(Duration::from_secs(30), changes.next()).await;
                assert!(matches!(next, Ok(Some(_))), "round {i} did not roll out");
            }
            samples.push(t.elapsed());
        }
        samples.sort();
        let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
        println!(
            "patch → every replica running the new sidecar ({REPLICAS} replicas, {ROUNDS} rounds): p50 {:.1} ms, p99 {:.1} ms",
            pct(0.5),
            pct(0.99)
        );

        // Idle: nothing changes; the simulation must not spin.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let used = cpu_seconds() - cpu0;
        println!(
            "idle cluster: {:.2}% of one core over {:.0} s ({used:.2} s CPU)",
            100.0 * used / t0.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
    });
}
