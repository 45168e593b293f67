//! `sidecar-console emulator --data-dir`: acknowledged writes survive `kill -9`.

mod common;

use common::{free_port, start_emulator};
use reqwest::Client;
use serde_json::{json, Value};

const CRD: &str = r#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
 "metadata": {"name": "pipelines.core.calyptia.com"},
 "spec": {"group": "core.calyptia.com", "scope": "Namespaced",
   "names": {"plural": "pipelines", "singular": "pipeline", "kind": "Pipeline"},
   "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
     "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}}"#;

/// GETs one object.
async fn get(http: &Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// POSTs `body` and returns the created object.
async fn post(http: &Client, url: String, body: Value) -> Value {
    let resp = http.post(url).header("content-type", "application/json").json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()
}

#[tokio::test]
async fn acknowledged_objects_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = Client::new();
    let child = start_emulator(port, dir.path());

    post(
        &http,
        format!("{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
        serde_json::from_str(CRD).unwrap(),
    )
    .await;
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        let cm = post(
            &http,
            format!("{base}/api/v1/namespaces/default/configmaps"),
            json!({"metadata": {"name": format!("cm-{i}")}, "data": {"i": i.to_string()}}),
        )
        .await;
        acknowledged.push(cm);
    }
    let pipeline = post(
        &http,
        format!("{base}/apis/core.calyptia.com/v1/namespaces/default/pipelines"),
        json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": "logs"}, "spec": {"image": "fluent/fluent-bit:3.0"}}),
    )
    .await;
    let last_rv: u64 = pipeline["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();

    drop(child);
    let _child = start_emulator(port, dir.path());
    // A new client: the old one's pooled connections went with the killed process.
    let http = Client::new();

    for cm in &acknowledged {
        let name = cm["metadata"]["name"].as_str().unwrap();
        let got = get(&http, format!("{base}/api/v1/namespaces/default/configmaps/{name}")).await;
        assert_eq!(got["metadata"]["resourceVersion"], cm["metadata"]["resourceVersion"], "{name}");
        assert_eq!(got["metadata"]["uid"], cm["metadata"]["uid"]);
        assert_eq!(got["data"], cm["data"]);
    }
    let got = get(&http, format!("{base}/apis/core.calyptia.com/v1/namespaces/default/pipelines/logs")).await;
    assert_eq!(got["spec"]["image"], "fluent/fluent-bit:3.0");
    // New writes continue after the last acknowledged resource version.
    let cm =
        post(&http, format!("{base}/api/v1/namespaces/default/configmaps"), json!({"metadata": {"name": "after"}}))
            .await;
    let rv: u64 = cm["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(rv > last_rv, "{rv} > {last_rv}");
}
