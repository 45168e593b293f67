//! The console at scale, beside itself at a small size, in one run.
//!
//! `cargo bench -p server --bench scale` starts a `sidecar-console emulator` (API only) with
//! 100, then 10,000 pipelines of 5 sidecars each, and a console managing it in kubeconfig mode
//! (no operator in it: what is measured is the console), each a process of its own, and prints
//! for each size: the time from the console's start to `/readyz` (its watch caches synced), the
//! console's and the emulator's resident memory, and p50/p99 of one client for
//! `GET /api/v1/pipelines` (all of them), the `/pipelines` page, a pipeline's page, a sidecar
//! found by its ID, and a write (a sidecar's image changed). `SCALE_SIZES=100,1000` changes
//! the sizes.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{free_port, wait_for_port, Running};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIDECARS: usize = 5;
const NAMESPACES: usize = 10;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// `n` requests made by `make` one at a time: p50, p99 (each must succeed).
async fn timed(n: usize, mut make: impl FnMut(usize) -> reqwest::RequestBuilder) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let resp = make(i).send().await.expect("request");
        let status = resp.status();
        let _ = resp.bytes().await.expect("body");
        assert!(status.is_success(), "{status}");
        times.push(t.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn pipeline(i: usize) -> Value {
    let sidecars: Vec<Value> = (0..SIDECARS)
        .map(|s| {
            json!({"name": format!("sidecar-{s}"), "image": format!("example.com/sidecar-{s}:1.0"),
            "ports": [{"containerPort": 9000 + s}]})
        })
        .collect();
    json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
        "metadata": {"name": format!("pipeline-{i:05}"), "namespace": format!("team-{}", i % NAMESPACES)},
        "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 2, "sidecars": sidecars}})
}

/// Posts `body` to the emulator, retrying a busy moment.
async fn post(http: &reqwest::Client, url: &str, body: &Value) {
    let resp = http.post(url).json(body).send().await.expect("post");
    assert!(resp.status().is_success() || resp.status() == 409, "{url}: {}", resp.status());
}

struct Figures {
    size: usize,
    ready: Duration,
    ready_rss: f64,
    console_rss: f64,
    console_peak: f64,
    emulator_rss: f64,
    rows: Vec<(&'static str, Duration, Duration)>,
}

async fn measure(size: usize) -> Figures {
    let dir = tempfile::tempdir().expect("dir");
    let api_port = free_port();
    let emulator = Running(
        Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
            .args(["emulator", "--no-cluster", "--listen", &format!("127.0.0.1:{api_port}"), "--kubeconfig"])
            .arg(dir.path().join("kubeconfig"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator"),
    );
    wait_for_port(api_port);
    let cluster = format!("http://127.0.0.1:{api_port}");
    let http = reqwest::Client::new();
    post(
        &http,
        &format!("{cluster}/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
        &operator::crd::crd_json(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..NAMESPACES {
        post(&http, &format!("{cluster}/api/v1/namespaces"), &json!({"metadata": {"name": format!("team-{n}")}})).await;
    }
    // Seeded by 8 writers at once.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (http, cluster) = (http.clone(), cluster.clone());
            tokio::spawn(async move {
                for i in (w..size).step_by(8) {
                    let ns = format!("team-{}", i % NAMESPACES);
                    post(
                        &http,
                        &format!("{cluster}/apis/core.calyptia.com/v1/namespaces/{ns}/pipelines"),
                        &pipeline(i),
                    )
                    .await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("seed");
    }

    let port = free_port();
    // What the console says goes to a file, for when a figure looks wrong.
    let log_path = std::env::temp_dir().join(format!("sidecar-console-scale-{size}.log"));
    let log = std::fs::File::create(&log_path).expect("log file");
    println!("console of {size} pipelines: its log in {}", log_path.display());
    let started = Instant::now();
    let console = Running(
        Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--ephemeral", "--operator", "off", "--kubeconfig"])
            .arg(dir.path().join("kubeconfig"))
            .env_remove("KUBECONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the console"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let ready = loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                break started.elapsed();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the console never got ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let ready_rss = rss_mib(console.0.id(), "VmRSS:");
    // Every pipeline is in the caches: the listing has them all.
    let all: Value =
        http.get(format!("{base}/api/v1/pipelines")).send().await.expect("list").json().await.expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(size));
    let middle = size / 2;
    let (ns, name) = (format!("team-{}", middle % NAMESPACES), format!("pipeline-{middle:05}"));
    let sidecars: Value = http
        .get(format!("{base}/api/v1/pipelines/{ns}/{name}/sidecars"))
        .send()
        .await
        .expect("sidecars")
        .json()
        .await
        .expect("json");
    let id = sidecars[2]["id"].as_str().expect("an ID").to_owned();

    let listing_runs = if size > 1000 { 20 } else { 100 };
    let mut rows = Vec::new();
    let (p50, p99) = timed(listing_runs, |_| http.get(format!("{base}/api/v1/pipelines"))).await;
    rows.push(("GET /api/v1/pipelines (all)", p50, p99));
    let (p50, p99) = timed(200, |_| http.get(format!("{base}/pipelines"))).await;
    rows.push(("/pipelines page 1", p50, p99));
    let (p50, p99) = timed(200, |_| http.get(format!("{base}/pipelines/{ns}/{name}"))).await;
    rows.push(("a pipeline's page", p50, p99));
    let (p50, p99) = timed(200, |_| http.get(format!("{base}/api/v1/sidecars/{id}"))).await;
    rows.push(("GET /api/v1/sidecars/{id}", p50, p99));
    let (p50, p99) = timed(50, |i| {
        http.put(format!("{base}/api/v1/sidecars/{id}"))
            .json(&json!({"name": "sidecar-2", "image": format!("example.com/sidecar-2:1.{i}"), "ports": [{"containerPort": 9002}]}))
    })
    .await;
    rows.push(("PUT /api/v1/sidecars/{id} (a write)", p50, p99));
    let figures = Figures {
        size,
        ready,
        ready_rss,
        console_rss: rss_mib(console.0.id(), "VmRSS:"),
        console_peak: rss_mib(console.0.id(), "VmHWM:"),
        emulator_rss: rss_mib(emulator.0.id(), "VmRSS:"),
        rows,
    };
    drop(console);
    drop(emulator);
    figures
}

fn main() {
    let sizes: Vec<usize> = std::env::var("SCALE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100, 10_000]);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let all: Vec<Figures> = sizes.iter().map(|&n| runtime.block_on(measure(n))).collect();
    println!(
        "\n{:<40}{}",
        "pipelines (5 sidecars each)",
        all.iter().map(|f| format!("{:>22}", f.size)).collect::<String>()
    );
    let line = |label: &str, cell: &dyn Fn(&Figures) -> String| {
        println!("{label:<40}{}", all.iter().map(|f| format!("{:>22}", cell(f))).collect::<String>());
    };
    line("start to caches synced", &|f| format!("{:.0} ms", ms(f.ready)));
    line("console RSS when synced", &|f| format!("{:.0} MiB", f.ready_rss));
    line("console RSS after the requests (peak)", &|f| format!("{:.0} MiB ({:.0})", f.console_rss, f.console_peak));
    line("emulator RSS", &|f| format!("{:.0} MiB", f.emulator_rss));
    for (i, (label, _, _)) in all[0].rows.iter().enumerate() {
        line(&format!("{label} p50/p99"), &|f| format!("{:.2}/{:.2} ms", ms(f.rows[i].1), ms(f.rows[i].2)));
    }
    if let [small, .., large] = all.as_slice() {
        println!("\nratios, {} beside {} pipelines (p50):", large.size, small.size);
        for (i, (label, _, _)) in small.rows.iter().enumerate() {
            println!("  {label}: {:.2}", ms(large.rows[i].1) / ms(small.rows[i].1));
        }
    }
}
