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
