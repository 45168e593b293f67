//! A sidecar written past the console (kubectl) that breaks the spec's rules but not the CRD's
//! schema: the console lists it as invalid with the spec's own error and its pages still work;
//! the operator reports a failed condition naming the field and keeps the last good workload.

mod common;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_sidecar_is_named_and_the_last_good_workload_keeps_running() {
    let (base, kubectl) = common::embedded_console(None).await;
    let containers = || {
        kubectl.ok(&[
            "get",
            "deployment",
            "app-logs",
            "-n",
            "logging",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        ])
    };
    kubectl.until(&["get", "pipeline", "app-logs", "-n", "logging", "-o", "jsonpath={.status.phase}"], "STARTED").await;
    let before = containers().await;

    let broken = r#"[{"op":"add","path":"/spec/sidecars/-","value":{"name":"broken","image":"nginx:1.27","volumeMounts":[{"name":"nope","mountPath":"/etc/x"}]}}]"#;
    kubectl.ok(&["patch", "pipeline", "app-logs", "-n", "logging", "--type=json", "-p", broken]).await;

    // The operator: FAILED, the Ready condition names the field, the workload is as it was.
    kubectl.until(&["get", "pipeline", "app-logs", "-n", "logging", "-o", "jsonpath={.status.phase}"], "FAILED").await;
    let message = kubectl
        .ok(&[
            "get",
            "pipeline",
            "app-logs",
            "-n",
            "logging",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}",
        ])
        .await;
    assert!(message.contains("sidecar \"broken\" (spec.sidecars["), "{message}");
    assert!(message.contains("volumeMounts[0].name"), "{message}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(containers().await, before, "the last good workload keeps running");

    // The console: the listing and the pages answer, the sidecar carries its problem.
    let http = reqwest::Client::new();
    let list: serde_json::Value = http
        .get(format!("{base}/api/v1/pipelines/logging/app-logs/sidecars"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let broken = list.as_array().unwrap().iter().find(|s| s["name"] == "broken").expect("listed").clone();
    let problems = broken["problems"].as_array().expect("problems");
    assert!(problems.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with("volumeMounts[0].name: "))), "{broken}");
    assert!(list.as_array().unwrap().iter().filter(|s| s["name"] != "broken").all(|s| s.get("problems").is_none()));
    let page = http.get(format!("{base}/pipelines/logging/app-logs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("class=\"invalid\"") && html.contains("volumeMounts[0].name: "), "{html}");
    let id = broken["id"].as_str().unwrap();
    let page = http.get(format!("{base}/pipelines/logging/app-logs/sidecars/{id}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("This spec breaks the sidecar rules"));
    let pipelines = http.get(format!("{base}/api/v1/pipelines")).send().await.unwrap();
    assert_eq!(pipelines.status(), 200);
    let pipelines: serde_json::Value = pipelines.json().await.unwrap();
    let app_logs = pipelines.as_array().unwrap().iter().find(|p| p["name"] == "app-logs").expect("listed");
    assert_eq!(app_logs["health"], "Failing", "an invalid sidecar is failing, not rolling out: {app_logs}");

    // Fixing it (here: deleting it through the console) brings the pipeline back.
    assert_eq!(http.delete(format!("{base}/api/v1/sidecars/{id}")).send().await.unwrap().status(), 200);
    kubectl.until(&["get", "pipeline", "app-logs", "-n", "logging", "-o", "jsonpath={.status.phase}"], "STARTED").await;
}
