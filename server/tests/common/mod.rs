//! Helpers the integration tests share.

use emulator::Emulator;
use serde_json::Value;

/// Creates `obj` (of `api_version`/`kind`) in the emulator's store, as a setup step.
#[allow(dead_code)] // Not every test file that shares this module seeds objects.
pub fn create_object(emulator: &Emulator, api_version: &str, kind: &str, obj: Value) {
    let rt = emulator
        .store()
        .registry
        .all()
        .into_iter()
        .find(|t| t.api_version() == api_version && t.kind == kind)
        .expect("served");
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_owned);
    emulator.store().create(rt, ns.as_deref(), obj, &emulator::WriteOptions::default()).expect("created");
}

/// A console on a new embedded cluster (operator and demo data; the Pipeline CRD ours unless
/// `pipeline_crd` gives another), over real HTTP on a loopback port: its base URL, and a
/// kubectl for that cluster.
#[allow(dead_code)] // Not every test file that shares this module starts a console.
pub async fn embedded_console(pipeline_crd: Option<&Value>) -> (String, emulator::kubectl::Kubectl) {
    let kubectl = emulator::kubectl::Kubectl::temporary();
    let addr = "127.0.0.1:0".parse().expect("addr");
    let options = server::embedded::Options {
        pipeline_crd: pipeline_crd.cloned(),
        ..server::embedded::Options::new(addr, kubectl.kubeconfig())
    };
    let cluster = server::embedded::start(&options).await.expect("the embedded cluster starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(
        server::leptos_options(&site, addr),
        server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster"),
    );
    let limits = server::serving::Limits::default();
    tokio::spawn(server::serving::serve(listener, app, None, limits, std::future::pending()));
    (format!("http://{addr}"), kubectl)
}

/// A loopback port nothing listens on now.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port()
}

/// A child process, killed (SIGKILL: no chance to flush anything) when dropped, also when an
/// assertion fails.
#[allow(dead_code)]
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (30 s at most) until something listens on `port`.
#[allow(dead_code)]
pub fn wait_for_port(port: u16) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "nothing listens on {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `sidecar-console emulator` on `port`, its kubeconfig `dir/kubeconfig` and its objects in
/// `dir/data` (kept across restarts).
#[allow(dead_code)]
pub fn start_emulator(port: u16, dir: &std::path::Path) -> Running {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
        .args(["emulator", "--listen", &format!("127.0.0.1:{port}"), "--kubeconfig"])
        .arg(dir.join("kubeconfig"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the emulator");
    let running = Running(child);
    wait_for_port(port);
    running
}

/// The console on `port`, managing the cluster of `kubeconfig` (its operator on or off as it
/// decides), giving up on an answer after `request_timeout` seconds; once it listens.
#[allow(dead_code)]
pub fn start_console(port: u16, kubeconfig: &std::path::Path, request_timeout: u64) -> Running {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--ephemeral", "--cluster-listen", "127.0.0.1:0"])
        .args(["--request-timeout", &request_timeout.to_string(), "--kubeconfig"])
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the console");
    let running = Running(child);
    wait_for_port(port);
    running
}

/// Everything `stream` (a server-sent-events answer) brings, as text, gathered in the background.
#[allow(dead_code)]
pub fn record(stream: reqwest::Response) -> std::sync::Arc<std::sync::Mutex<String>> {
    use futures::StreamExt;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        let mut body = stream.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            s.lock().expect("seen").push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    seen
}

/// xorshift: reproducible choices without a dependency (a run is repeated by its seed).
#[allow(dead_code)]
pub struct Rng(pub u64);

#[allow(dead_code)]
impl Rng {
    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
