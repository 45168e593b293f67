//! The sidecar REST API through a real HTTP server on a loopback port, over the emulator: every
//! endpoint and status code, optimistic concurrency, and many clients at once.

mod common;

use common::Rng;

use common::create_object;
use emulator::Emulator;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;

struct Api {
    base: String,
    http: Client,
    emulator: Emulator,
}

fn pipeline(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": name, "namespace": ns},
        "spec": {"image": "fluent/fluent-bit:3.1", "replicasCount": 2}})
}

async fn start() -> Api {
    let emulator = Emulator::new();
    create_object(&emulator, "apiextensions.k8s.io/v1", "CustomResourceDefinition", operator::crd::crd_json());
    for ns in ["logging", "observability"] {
        create_object(&emulator, "v1", "Namespace", json!({"metadata": {"name": ns}}));
    }
    create_object(&emulator, "core.calyptia.com/v1", "Pipeline", pipeline("logging", "app-logs"));
    create_object(
        &emulator,
        "v1",
        "ConfigMap",
        json!({"metadata": {"name": "envoy-config", "namespace": "logging"}, "data": {"envoy.yaml": "{}"}}),
    );
    let client = kube::Client::new(emulator.router(), "default");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(server::leptos_options(&site, addr), server::api::ApiState::new(client, "test cluster"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Api { base: format!("http://{addr}/api/v1"), http: Client::new(), emulator }
}

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("example");
    serde_json::from_str(&text).expect("json")
}

fn sidecar(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image})
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.call(reqwest::Method::GET, path, None, &[]).await;
        (s, v)
    }

    async fn create(&self, spec: &Value) -> (StatusCode, Value) {
        let (s, _, v) = self.call(reqwest::Method::POST, "/pipelines/logging/app-logs/sidecars", Some(spec), &[]).await;
        (s, v)
    }

    async fn put(&self, id: &str, spec: &Value, if_match: Option<&str>) -> (StatusCode, Value) {
        let tag = if_match.map(|t| format!("\"{t}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
        let (s, _, v) = self.call(reqwest::Method::PUT, &format!("/sidecars/{id}"), Some(spec), &headers).await;
        (s, v)
    }

    async fn names(&self) -> BTreeMap<String, String> {
        let (_, list) = self.get("/pipelines/logging/app-logs/sidecars").await;
        list.as_array()
            .into_iter()
            .flatten()
            .map(|s| (s["id"].as_str().unwrap_or("").to_owned(), s["image"].as_str().unwrap_or("").to_owned()))
            .collect()
    }

    fn resource_version(&self) -> String {
        let rt = self.emulator.store().registry.all().into_iter().find(|t| t.kind == "Pipeline").expect("served");
        let p = self.emulator.store().get(rt, Some("logging"), "app-logs").expect("pipeline");
        p["metadata"]["resourceVersion"].as_str().unwrap_or("").to_owned()
    }
}

#[tokio::test]
async fn pipelines_are_listed_resolved_and_missing_ones_named() {
    let api = start().await;
    create_object(&api.emulator, "core.calyptia.com/v1", "Pipeline", pipeline("observability", "app-logs"));
    create_object(&api.emulator, "core.calyptia.com/v1", "Pipeline", pipeline("observability", "traces"));
    let (s, list) = api.get("/pipelines").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    let (s, one) = api.get("/pipelines?name=traces").await;
    assert_eq!((s, one[0]["namespace"].as_str()), (StatusCode::OK, Some("observability")));
    let (s, err) = api.get("/pipelines?name=app-logs").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        err["error"],
        "pipeline \"app-logs\" exists in several namespaces (logging, observability); name one as NAMESPACE/app-logs"
    );
    let (s, one) = api.get("/pipelines?name=logging/app-logs").await;
    assert_eq!((s, one[0]["namespace"].as_str()), (StatusCode::OK, Some("logging")));
    let (s, err) = api.get("/pipelines?name=nope").await;
    assert_eq!(
        (s, err["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("pipeline \"nope\" not found in any namespace"))
    );
    let (s, err) = api.get("/pipelines/logging/nope").await;
    assert_eq!(
        (s, err["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("pipeline \"nope\" not found in namespace \"logging\""))
    );
    let (s, p) = api.get("/pipelines/logging/app-logs").await;
    assert_eq!((s, p["replicasCount"].as_i64()), (StatusCode::OK, Some(2)));
    let (s, err) = api.get("/nothing-here").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(err["error"].as_str().is_some_and(|e| e.contains("/nothing-here")), "{err}");
}

#[tokio::test]
async fn a_pipelines_configmaps_are_listed_with_their_keys() {
    let api = start().await;
    let (status, body) = api.get("/pipelines/logging/app-logs/configmaps").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let maps: Vec<sidecar_api::ConfigMapView> = serde_json::from_value(body).expect("typed");
    let envoy = maps.iter().find(|m| m.name == "envoy-config").expect("envoy-config listed");
    assert_eq!(envoy.keys, ["envoy.yaml"]);
    assert!(maps.windows(2).all(|w| w[0].name <= w[1].name), "sorted by name");
    let (status, body) = api.get("/pipelines/logging/nope/configmaps").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "pipeline \"nope\" not found in namespace \"logging\"");
}

#[tokio::test]
async fn every_sidecar_endpoint_and_status_code() {
    let api = start().await;
    // Create: 201, Location, {id, createdAt}.
    let (s, headers, created) = api
        .call(reqwest::Method::POST, "/pipelines/logging/app-logs/sidecars", Some(&example("envoy-sidecar.json")), &[])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(created["createdAt"].is_string());
    assert_eq!(headers.get("location").and_then(|l| l.to_str().ok()), Some(format!("/api/v1/sidecars/{id}").as_str()));
    // Dry run: 201, nothing stored.
    let before = api.resource_version();
    let (s, _, dry) = api
        .call(
            reqwest::Method::POST,
            "/pipelines/logging/app-logs/sidecars?dryRun=true",
            Some(&example("my-sidecar.json")),
            &[],
        )
        .await;
    assert_eq!((s, dry["dryRun"].as_bool()), (StatusCode::CREATED, Some(true)));
    assert_eq!(api.resource_version(), before);
    assert_eq!(api.names().await.len(), 1);
    // Errors: 400 syntax, 415 not JSON, 422 invalid (all problems), 422 missing ConfigMap, 404 pipeline, 413.
    let raw = |body: &'static str, ct: &'static str| {
        api.http
            .post(format!("{}/pipelines/logging/app-logs/sidecars", api.base))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = raw("{\"name\": ", "application/json").await.expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.expect("json");
    assert_eq!((e["line"].as_u64(), e["column"].as_u64().is_some()), (Some(1), true));
    assert_eq!(raw("{}", "text/plain").await.expect("send").status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, e) = api.create(&json!({"name": "Bad_Name", "image": "", "ports": [{"containerPort": 70000}]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = e["details"].as_array().into_iter().flatten().filter_map(|d| d["field"].as_str()).collect();
    assert!(fields.contains(&"name") && fields.contains(&"image") && fields.contains(&"ports[0].containerPort"), "{e}");
    let mut missing = example("envoy-sidecar.json");
    missing["name"] = json!("proxy");
    missing["volumes"][0]["name"] = json!("absent-config");
    missing["volumeMounts"][0]["name"] = json!("absent-config");
    missing["volumes"][0]["configMap"]["name"] = json!("absent");
    let (s, e) = api.create(&missing).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"], "configmap \"absent\" not found in namespace \"logging\"");
    assert_eq!(e["details"][0]["field"], "volumes[0].configMap.name");
    missing["volumes"][0]["configMap"]["optional"] = json!(true);
    let (s, e) = api.create(&missing).await;
    assert_eq!(s, StatusCode::CREATED, "an optional ConfigMap may be absent: {e}");
    let (s, e) = api.create(&example("envoy-sidecar.json")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["details"][0]["kind"], "Duplicate");
    let (s, e) = api.create(&sidecar("fluent-bit", "nginx")).await;
    assert_eq!((s, e["details"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
    let (s, _, _) =
        api.call(reqwest::Method::POST, "/pipelines/logging/nope/sidecars", Some(&sidecar("a", "nginx")), &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let huge = json!({"name": "big", "image": "nginx", "args": ["x".repeat(2 * 1024 * 1024)]});
    assert_eq!(api.create(&huge).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    // Read: 200 with ETag; 404.
    let (s, headers, got) = api.call(reqwest::Method::GET, &format!("/sidecars/{id}"), None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    let etag = got["etag"].as_str().expect("etag").to_owned();
    assert_eq!(headers.get("etag").and_then(|t| t.to_str().ok()), Some(format!("\"{etag}\"").as_str()));
    assert_eq!(got["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(api.get("/sidecars/no-such-id").await.0, StatusCode::NOT_FOUND);

    // Update: stale ETag → 409 with both versions; current ETag → 200, ID kept across a rename.
    let mut renamed = example("envoy-sidecar.json");
    renamed["name"] = json!("envoy");
    renamed["image"] = json!("envoyproxy/envoy:v1.29-latest");
    let (s, e) = api.put(&id, &renamed, Some("0000")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!((e["current"]["name"].as_str(), e["proposed"]["name"].as_str()), (Some("envoy-sidecar"), Some("envoy")));
    let before = api.resource_version();
    let (s, dry) = api.put(&format!("{id}?dryRun=true"), &renamed, Some(&etag)).await;
    assert_eq!((s, dry["name"].as_str()), (StatusCode::OK, Some("envoy")));
    assert_eq!(api.resource_version(), before, "a dry run writes nothing");
    let (s, updated) = api.put(&id, &renamed, Some(&etag)).await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!((updated["id"].as_str(), updated["name"].as_str()), (Some(id.as_str()), Some("envoy")));
    assert_ne!(updated["etag"].as_str(), Some(etag.as_str()));
    assert_eq!(api.get(&format!("/sidecars/{id}")).await.1["image"], "envoyproxy/envoy:v1.29-latest");
    let (s, e) = api.put(&id, &json!({"name": "envoy", "image": "x", "ports": [{"containerPort": 0}]}), None).await;
    assert_eq!(
        (s, e["details"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ports[0].containerPort"))
    );

    // Status, events, logs of a pipeline without pods yet.
    let (s, st) = api.get(&format!("/sidecars/{id}/status")).await;
    assert_eq!((s, st["summary"]["state"].as_str()), (StatusCode::OK, Some("Pending")));
    let (s, ev) = api.get(&format!("/sidecars/{id}/events")).await;
    assert_eq!((s, ev.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let (s, headers, _) = api.call(reqwest::Method::GET, &format!("/sidecars/{id}/logs"), None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers.get("content-type").and_then(|c| c.to_str().ok()), Some("text/event-stream"));
    assert_eq!(api.get(&format!("/sidecars/{id}/logs?tailLines=-1")).await.0, StatusCode::BAD_REQUEST);

    // Delete: dry run keeps it; then {deleted, deletedAt}; then 404.
    let (s, _, d) = api.call(reqwest::Method::DELETE, &format!("/sidecars/{id}?dryRun=true"), None, &[]).await;
    assert_eq!((s, d["dryRun"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(api.get(&format!("/sidecars/{id}")).await.0, StatusCode::OK);
    let (s, _, d) = api.call(reqwest::Method::DELETE, &format!("/sidecars/{id}"), None, &[]).await;
    assert_eq!((s, d["deleted"].as_bool(), d["deletedAt"].is_string()), (StatusCode::OK, Some(true), true));
    assert_eq!(api.get(&format!("/sidecars/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(reqwest::Method::DELETE, &format!("/sidecars/{id}"), None, &[]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_updates_of_sixteen_sidecars_at_once_all_succeed() {
    let api = std::sync::Arc::new(start().await);
    let mut ids = Vec::new();
    for i in 0..16 {
        let (s, c) = api.create(&sidecar(&format!("s{i}"), "nginx:1.26")).await;
        assert_eq!(s, StatusCode::CREATED);
        ids.push(c["id"].as_str().expect("id").to_owned());
    }
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (api, id) = (api.clone(), id.clone());
            tokio::spawn(async move { api.put(&id, &sidecar(&format!("s{i}"), "nginx:1.27"), None).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join"), StatusCode::OK);
    }
    let now = api.names().await;
    assert_eq!(now.len(), 16);
    assert!(now.values().all(|image| image == "nginx:1.27"), "{now:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_updates_with_one_etag_one_wins_the_other_conflicts() {
    let api = std::sync::Arc::new(start().await);
    let (_, c) = api.create(&sidecar("s", "nginx:1.26")).await;
    let id = c["id"].as_str().expect("id").to_owned();
    let etag = api.get(&format!("/sidecars/{id}")).await.1["etag"].as_str().expect("etag").to_owned();
    for round in 0..5 {
        let etag = if round == 0 {
            etag.clone()
        } else {
            api.get(&format!("/sidecars/{id}")).await.1["etag"].as_str().expect("etag").to_owned()
        };
        let a = {
            let (api, id, e) = (api.clone(), id.clone(), etag.clone());
            tokio::spawn(async move { api.put(&id, &sidecar("s", &format!("a:{round}")), Some(&e)).await })
        };
        let b = {
            let (api, id, e) = (api.clone(), id.clone(), etag.clone());
            tokio::spawn(async move { api.put(&id, &sidecar("s", &format!("b:{round}")), Some(&e)).await })
        };
        let (a, b) = (a.await.expect("join"), b.await.expect("join"));
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.1, b.1);
        let winner = if a.0 == StatusCode::OK { &a.1 } else { &b.1 };
        let loser = if a.0 == StatusCode::OK { &b.1 } else { &a.1 };
        assert_eq!(api.get(&format!("/sidecars/{id}")).await.1["image"], winner["image"]);
        assert_eq!(loser["current"]["image"], winner["image"], "the 409 shows what won");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_mixed_operations_from_eight_clients_lose_nothing() {
    let api = std::sync::Arc::new(start().await);
    let clients: Vec<_> = (0..8u64)
        .map(|c| {
            let api = api.clone();
            tokio::spawn(async move {
                // What this client's acknowledged operations say its sidecars are: id → image.
                let mut mine: BTreeMap<String, String> = BTreeMap::new();
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c + 1));
                for op in 0..125 {
                    let choice = if mine.is_empty() { 0 } else { rng.below(4) };
                    match choice {
                        0 => {
                            let image = format!("nginx:{c}.{op}");
                            let (s, v) = api.create(&sidecar(&format!("c{c}-{op}"), &image)).await;
                            assert_eq!(s, StatusCode::CREATED, "{v}");
                            mine.insert(v["id"].as_str().expect("id").to_owned(), image);
                        }
                        1 | 2 => {
                            let id = mine.keys().nth(rng.below(mine.len())).cloned().expect("one");
                            let got = api.get(&format!("/sidecars/{id}")).await.1;
                            let image = format!("busybox:{c}.{op}");
                            let (s, v) = api
                                .put(&id, &sidecar(got["name"].as_str().expect("name"), &image), got["etag"].as_str())
                                .await;
                            assert_eq!(s, StatusCode::OK, "{v}");
                            mine.insert(id, image);
                        }
                        _ => {
                            let id = mine.keys().nth(rng.below(mine.len())).cloned().expect("one");
                            let (s, _, v) =
                                api.call(reqwest::Method::DELETE, &format!("/sidecars/{id}"), None, &[]).await;
                            assert_eq!(s, StatusCode::OK, "{v}");
                            mine.remove(&id);
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut expected = BTreeMap::new();
    for c in clients {
        expected.extend(c.await.expect("a client failed"));
    }
    assert_eq!(api.names().await, expected);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_served() {
    let api = start().await;
    let (s, doc) = api.get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("item").keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let expected = [
        "DELETE /sidecars/{id}",
        "GET /pipelines",
        "GET /pipelines/watch",
        "GET /pipelines/{namespace}/{name}",
        "GET /pipelines/{namespace}/{name}/configmaps",
        "GET /pipelines/{namespace}/{name}/events",
        "GET /pipelines/{namespace}/{name}/logs",
        "GET /pipelines/{namespace}/{name}/sidecars",
        "GET /pipelines/{namespace}/{name}/status",
        "GET /pipelines/{namespace}/{name}/watch",
        "GET /schema/sidecar.json",
        "GET /sidecars/{id}",
        "GET /sidecars/{id}/events",
        "GET /sidecars/{id}/logs",
        "GET /sidecars/{id}/state",
        "GET /sidecars/{id}/status",
        "GET /sidecars/{id}/watch",
        "POST /pipelines/{namespace}/{name}/sidecars",
        "POST /validate",
        "PUT /sidecars/{id}",
    ];
    assert_eq!(documented, expected);
    // Each documented operation is served: it answers, but not with the unknown-endpoint 404 or a 405.
    for op in &documented {
        let (method, path) = op.split_once(' ').expect("op");
        // A live stream of a pipeline that exists never ends: ask for one that does not.
        if path == "/pipelines/watch" {
            // Every page is a pipeline listing; it exists (and never ends).
            continue;
        }
        let name = if path.ends_with("/watch") { "no-such-pipeline" } else { "app-logs" };
        let path = path.replace("{namespace}", "logging").replace("{name}", name).replace("{id}", "x");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let (s, _, body) = api.call(method, &path, Some(&json!({"name": "a", "image": "nginx"})), &[]).await;
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{op}");
        assert!(!body.to_string().contains("no such API endpoint"), "{op} is documented but not served");
    }
    // The schemas the operations name are in the document.
    for schema in [
        "SidecarView",
        "PipelineView",
        "Created",
        "Deleted",
        "StatusView",
        "ErrorBody",
        "PipelineState",
        "SidecarState",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} missing");
    }
}

#[tokio::test]
async fn the_openapi_document_is_as_strict_as_the_api_and_links_its_operations() {
    let api = start().await;
    let (_, doc) = api.get("/openapi.json").await;
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    // Request bodies are the sidecar spec, with its rules, not any object.
    let create = op("/pipelines/{namespace}/{name}/sidecars", "post");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SidecarSpec"
    );
    let spec = &doc["components"]["schemas"]["SidecarSpec"];
    assert_eq!(spec["properties"]["name"]["maxLength"], 63);
    assert!(spec["properties"]["name"]["pattern"].is_string());
    // Optional fields may be null, as the API takes them.
    assert_eq!(
        spec["properties"]["ports"]["anyOf"][0]["items"]["$ref"],
        "#/components/schemas/SidecarSpec.ContainerPort"
    );
    assert_eq!(spec["properties"]["ports"]["anyOf"][1]["type"], "null");
    assert!(doc["components"]["schemas"]["SidecarSpec.ContainerPort"].is_object());
    // Names follow Kubernetes' rules; the errors every operation can answer are listed.
    let params = create["parameters"].as_array().expect("parameters");
    let namespace = params.iter().find(|p| p["name"] == "namespace").expect("namespace");
    assert_eq!(namespace["schema"]["maxLength"], 63);
    for status in ["400", "401", "403", "408", "413", "415", "422", "502", "503", "504"] {
        assert!(create["responses"][status].is_object(), "create documents {status}");
    }
    // A created sidecar's ID leads to what can be done with it.
    let links = &create["responses"]["201"]["links"];
    for target in ["get_sidecar", "update_sidecar", "delete_sidecar"] {
        assert_eq!(links[target]["operationId"], target);
        assert_eq!(links[target]["parameters"]["id"], "$response.body#/id");
    }
    assert_eq!(
        op("/pipelines", "get")["responses"]["200"]["links"]["create_sidecar"]["parameters"]["namespace"],
        "$response.body#/0/namespace"
    );
    // A live stream's schema describes its events: a `line`'s data is JSON of a LogLine.
    let events =
        &op("/sidecars/{id}/logs", "get")["responses"]["200"]["content"]["text/event-stream"]["schema"]["oneOf"];
    assert_eq!(events[0]["properties"]["event"]["const"], "line");
    assert_eq!(events[0]["properties"]["data"]["contentSchema"]["$ref"], "#/components/schemas/LogLine");
    assert_eq!(events[1]["properties"]["event"]["const"], "error");
}

#[tokio::test]
async fn bad_query_values_and_unknown_replicas_are_answered_in_the_apis_words() {
    let api = start().await;
    let (s, body) = api.get("/pipelines/logging/app-logs/logs?tailLines=9223372036854775808").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().is_some_and(|e| e.starts_with("invalid query parameter: tailLines")), "{body}");
    let (s, body) = api.get("/pipelines/logging/app-logs/logs?replica=no-such-pod").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "replica \"no-such-pod\" of pipeline \"app-logs\" does not run its main container");
    let long = "a".repeat(64);
    let (s, body) = api.get(&format!("/pipelines?namespace={long}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let api = start().await;
    let (_, headers, _) = api.call(reqwest::Method::GET, "/pipelines", None, &[]).await;
    assert!(headers.get("x-request-id").is_some_and(|v| v.len() >= 32), "{headers:?}");
    let (_, headers, _) = api.call(reqwest::Method::GET, "/pipelines", None, &[("x-request-id", "abc-123")]).await;
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), Some("abc-123"));
}

#[tokio::test]
async fn a_sidecar_added_by_another_tool_has_a_stable_derived_id() {
    let api = start().await;
    // As `kubectl patch` would: straight into spec.sidecars, no annotation.
    let rt = api.emulator.store().registry.all().into_iter().find(|t| t.kind == "Pipeline").expect("served");
    let mut p = api.emulator.store().get(rt, Some("logging"), "app-logs").expect("pipeline");
    p["spec"]["sidecars"] = json!([{"name": "exporter", "image": "prom/statsd-exporter:v0.26.0"}]);
    api.emulator
        .store()
        .update(rt, Some("logging"), "app-logs", p, false, &emulator::WriteOptions::default())
        .expect("update");
    let (_, list) = api.get("/pipelines/logging/app-logs/sidecars").await;
    let id = list[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(api.get("/pipelines/logging/app-logs/sidecars").await.1[0]["id"], id.as_str(), "stable");
    let (s, got) = api.get(&format!("/sidecars/{id}")).await;
    assert_eq!((s, got["name"].as_str()), (StatusCode::OK, Some("exporter")));
    // Renamed through the console, it keeps that ID.
    let (s, renamed) = api.put(&id, &sidecar("statsd", "prom/statsd-exporter:v0.26.0"), None).await;
    assert_eq!(
        (s, renamed["id"].as_str(), renamed["name"].as_str()),
        (StatusCode::OK, Some(id.as_str()), Some("statsd"))
    );
    assert_eq!(api.get(&format!("/sidecars/{id}")).await.1["name"], "statsd");
}

#[tokio::test]
async fn names_with_characters_kubernetes_never_allows_are_a_400_naming_them() {
    let api = start().await;
    for path in ["/pipelines?namespace=%C3%A4", "/pipelines/%C3%A4/app-logs/sidecars", "/pipelines?name=logging/a%20b"]
    {
        let (status, body) = api.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains("is not a valid"), "{path}: {error}");
    }
    let (_, body) = api.get("/pipelines?namespace=%C3%A4").await;
    assert!(
        body["error"].as_str().unwrap_or_default().starts_with("namespace \"ä\" is not a valid namespace name"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_a_503_in_words_a_person_understands() {
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let config = kube::Config::new(format!("http://{closed}").parse().expect("url"));
    let client = kube::Client::try_from(config).expect("client");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let console = sidecar_service::Console { client: Some(client), cluster: "gone".into(), ..Default::default() };
    let app = server::router(server::leptos_options(&site, addr), console);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let resp = Client::new().get(format!("http://{addr}/api/v1/pipelines")).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.expect("json");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("cannot reach Kubernetes: "), "{error}");
    assert!(error.to_lowercase().contains("connection refused"), "{error}");
    assert!(!error.contains("ServiceError") && !error.contains("client error"), "no internal type names: {error}");
}

#[tokio::test]
async fn a_listing_larger_than_one_piece_or_empty_is_one_valid_json_array_in_order() {
    let api = start().await;
    for i in 0..400 {
        create_object(
            &api.emulator,
            "core.calyptia.com/v1",
            "Pipeline",
            pipeline("observability", &format!("p-{i:03}")),
        );
    }
    let expected: Vec<String> = std::iter::once("logging/app-logs".to_owned())
        .chain((0..400).map(|i| format!("observability/p-{i:03}")))
        .collect();
    // From Kubernetes at first, from the watch cache once it has synced: the same answer.
    for _ in 0..2 {
        let (s, list) = api.get("/pipelines").await;
        assert_eq!(s, StatusCode::OK);
        let names: Vec<String> = list
            .as_array()
            .expect("an array")
            .iter()
            .map(|p| format!("{}/{}", p["namespace"].as_str().unwrap_or(""), p["name"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(names, expected);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let (s, list) = api.get("/pipelines?namespace=nothing-here").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list, json!([]));
    // Compressed as a browser asks for it, the stream ends cleanly too.
    for encoding in ["gzip", "br"] {
        let resp = api
            .http
            .get(format!("{}/pipelines", api.base))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("list");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some(encoding));
        assert!(resp.bytes().await.is_ok_and(|b| !b.is_empty()), "{encoding}: the body broke off");
    }
}
