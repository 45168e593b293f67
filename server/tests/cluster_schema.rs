//! A cluster whose Pipeline CRD has Calyptia Core's shape (the fixture): through the REST API,
//! every field it would drop is refused by name with nothing written — whether the console has
//! read the CRD's schema or only the API server's strict decoding tells — what it accepts is
//! stored as sent, and the API server's warnings reach the caller.

mod common;

use common::create_object;
use emulator::Emulator;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn calyptia_core_crd() -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/calyptia-core-pipelines-crd.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    serde_yaml_ng::from_str(&text).expect("yaml")
}

struct Api {
    base: String,
    emulator: Emulator,
    http: reqwest::Client,
}

/// A console over an emulator serving `crd`; `follow` = the console reads the CRD's schema.
async fn start(crd: Value, follow: bool) -> Api {
    let emulator = Emulator::new();
    create_object(&emulator, "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd);
    create_object(&emulator, "v1", "Namespace", json!({"metadata": {"name": "logging"}}));
    create_object(
        &emulator,
        "core.calyptia.com/v1",
        "Pipeline",
        json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": "app-logs", "namespace": "logging"},
            "spec": {"kind": "deployment", "replicasCount": 2, "image": "fluent/fluent-bit:3.1", "hpa": {"maxReplicas": 4}}}),
    );
    create_object(
        &emulator,
        "v1",
        "ConfigMap",
        json!({"metadata": {"name": "envoy-config", "namespace": "logging"}, "data": {"envoy.yaml": "{}"}}),
    );
    let client = kube::Client::new(emulator.router(), "default");
    let console = if follow {
        server::api::ApiState::new(client, "test cluster")
    } else {
        // No watch of the CRD: only the API server's strict decoding can tell.
        sidecar_service::Console { client: Some(client), cluster: "test cluster".into(), ..Default::default() }
    };
    if follow {
        for _ in 0..100 {
            if console.sidecars.sidecar_schema().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(console.sidecars.sidecar_schema().is_some(), "the console follows the CRD");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(server::leptos_options(&site, addr), console);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Api { base: format!("http://{addr}/api/v1"), emulator, http: reqwest::Client::new() }
}

impl Api {
    fn stored(&self) -> Value {
        let rt = self.emulator.store().registry.find("core.calyptia.com", "v1", "pipelines").expect("served");
        self.emulator.store().get(rt, Some("logging"), "app-logs").expect("pipeline")
    }

    async fn post(&self, spec: &Value, dry_run: bool) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let q = if dry_run { "?dryRun=true" } else { "" };
        let resp = self
            .http
            .post(format!("{}/pipelines/logging/app-logs/sidecars{q}", self.base))
            .json(spec)
            .send()
            .await
            .expect("send");
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.json().await.expect("json"))
    }
}

/// Whether every field of `sent` is in `stored` with the same value.
fn kept(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| b.get(k).is_some_and(|w| kept(v, w))),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(v, w)| kept(v, w)),
        (a, b) => a == b,
    }
}

fn dropped_fields() -> Value {
    json!({"name": "exporter", "image": "prom/statsd-exporter:v0.26.0",
        "ports": [{"containerPort": 9102, "hostPort": 9102}],
        "volumeMounts": [{"name": "cfg", "mountPath": "/etc/x", "mountPropagation": "None"}],
        "volumes": [{"name": "cfg", "configMap": {"name": "envoy-config"}}]})
}

async fn refuses_by_name(api: &Api) {
    let before = api.stored();
    for dry_run in [true, false] {
        let (status, _, body) = api.post(&dropped_fields(), dry_run).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let named: Vec<(&str, &str)> = body["details"]
            .as_array()
            .expect("details")
            .iter()
            .map(|d| (d["field"].as_str().unwrap_or(""), d["message"].as_str().unwrap_or("")))
            .collect();
        for field in ["ports[0].hostPort", "volumeMounts[0].mountPropagation"] {
            assert!(
                named.contains(&(field, "this cluster's Pipeline schema does not accept this field")),
                "{field} is named: {body}"
            );
        }
    }
    assert_eq!(api.stored(), before, "nothing was written");
}

#[tokio::test]
async fn fields_the_cluster_would_drop_are_refused_by_name_before_writing() {
    refuses_by_name(&start(calyptia_core_crd(), true).await).await;
}

#[tokio::test]
async fn without_the_schema_the_strict_write_still_refuses_them_by_name() {
    refuses_by_name(&start(calyptia_core_crd(), false).await).await;
}

#[tokio::test]
async fn what_the_cluster_accepts_is_stored_as_sent_and_the_pipeline_keeps_its_fields() {
    let api = start(calyptia_core_crd(), true).await;
    let envoy: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/../examples/envoy-sidecar.json", env!("CARGO_MANIFEST_DIR")))
            .expect("example"),
    )
    .expect("json");
    let (status, _, body) = api.post(&envoy, false).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let view: Value = api
        .http
        .get(format!("{}/sidecars/{}", api.base, body["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = api.stored();
    assert_eq!(stored["spec"]["sidecars"][0], view["spec"], "stored as the console answered it");
    assert!(kept(&envoy, &view["spec"]), "every field sent is kept (defaults are added): {}", view["spec"]);
    assert_eq!(stored["spec"]["hpa"], json!({"maxReplicas": 4}), "the pipeline's own fields are untouched");
}

#[tokio::test]
async fn the_api_servers_warnings_reach_the_caller() {
    let mut crd = calyptia_core_crd();
    crd["spec"]["versions"][0]["deprecated"] = json!(true);
    let api = start(crd, true).await;
    let (status, headers, body) = api.post(&json!({"name": "debug", "image": "busybox:1.36"}), false).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["warnings"], json!(["core.calyptia.com/v1 Pipeline is deprecated"]), "{body}");
    let warning = headers.get("warning").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(warning, r#"299 - "core.calyptia.com/v1 Pipeline is deprecated""#);
}

/// Every field of our sidecar schema that Calyptia Core's does not declare: the list the docs
/// give (docs/spec.md, "The cluster's Pipeline schema").
#[test]
fn the_fields_calyptia_cores_schema_lacks_are_exactly_these() {
    let ours = sidecar_spec::fit::sidecar_item_schema(&operator::crd::crd_json(), "v1").expect("ours");
    let theirs = sidecar_spec::fit::sidecar_item_schema(&calyptia_core_crd(), "v1").expect("theirs");
    fn leaves(schema: &Value, path: String, out: &mut Vec<String>) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                out.push(p.clone());
                leaves(s, p, out);
            }
        }
        if let Some(items) = schema.get("items") {
            leaves(items, format!("{path}[]"), out);
        }
    }
    let mut all = Vec::new();
    leaves(&ours, String::new(), &mut all);
    let mut lacking: Vec<String> = all.into_iter().filter(|p| !sidecar_spec::fit::declares(&theirs, p)).collect();
    // A field under one that is lacking is lacking too; name the outermost.
    lacking.dedup_by(|b, a| b.starts_with(a.as_str()));
    assert_eq!(
        lacking,
        ["ports[].hostIP", "ports[].hostPort", "volumeMounts[].mountPropagation", "volumeMounts[].subPathExpr"]
    );
}
