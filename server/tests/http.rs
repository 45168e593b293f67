//! The REST API and the pages, through a real HTTP server on a loopback port.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;

async fn start() -> String {
    start_on(&std::env::temp_dir().join("sidecar-console-test-site")).await
}

async fn start_on(site: &std::path::Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let app = server::router(server::leptos_options(site, addr), server::api::ApiState::default());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

async fn post_json(base: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let resp = Client::new()
        .post(format!("{base}/api/v1/validate"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

/// A site whose build is in the folder `pkg/0123abcd` (named in `pkg/build.txt`): the site,
/// and the build's folder.
fn site_with_build() -> (tempfile::TempDir, std::path::PathBuf) {
    let site = tempfile::tempdir().expect("temporary site");
    let build = site.path().join("pkg/0123abcd");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(site.path().join("pkg/build.txt"), "0123abcd\n").unwrap();
    (site, build)
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("example")
}

#[tokio::test]
async fn valid_spec_returns_200_with_the_defaulted_spec() {
    let base = start().await;
    let (status, body) = post_json(&base, example("probe-sidecar.json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "probe-sidecar");
    assert_eq!(body["readinessProbe"]["timeoutSeconds"], 1);
    assert_eq!(body["startupProbe"]["successThreshold"], 1);
}

#[tokio::test]
async fn invalid_spec_returns_422_with_every_error() {
    let base = start().await;
    let spec = json!({"name": "x", "image": "", "ports": [{"containerPort": 70000}], "livenessProbe": {"httpget": {}}});
    let (status, body) = post_json(&base, spec.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().starts_with("invalid sidecar spec"), "{body}");
    let details = body["details"].as_array().unwrap();
    let has = |field: &str, kind: &str| details.iter().any(|d| d["field"] == field && d["kind"] == kind);
    assert!(has("image", "Required"), "{body}");
    assert!(has("ports[0].containerPort", "Invalid"), "{body}");
    assert!(has("livenessProbe.httpget", "UnknownField"), "{body}");
    for d in details {
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn malformed_json_returns_400_with_line_and_column() {
    let base = start().await;
    let (status, body) = post_json(&base, "{\n \"name\": \"a\",,\n}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!((body["line"].as_u64(), body["column"].as_u64()), (Some(2), Some(14)), "{body}");
    assert!(body["error"].as_str().unwrap().contains("line 2, column 14"), "{body}");
}

#[tokio::test]
async fn non_json_content_type_returns_415() {
    let base = start().await;
    for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut req = Client::new().post(format!("{base}/api/v1/validate")).body(example("my-sidecar.json"));
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("application/json"));
    }
    // A charset parameter is fine.
    let resp = Client::new()
        .post(format!("{base}/api/v1/validate"))
        .header("content-type", "application/json; charset=utf-8")
        .body(example("my-sidecar.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn body_over_one_mebibyte_returns_413() {
    let base = start().await;
    let big = format!("{{\"name\": \"a\", \"image\": \"{}\"}}", "x".repeat(1024 * 1024));
    let (status, body) = post_json(&base, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].as_str().unwrap().contains("larger than"), "{body}");
    // Just under the limit is read (and judged on its merits).
    let mut near =
        format!("{{\"name\": \"a\", \"image\": \"nginx:1\", \"args\": [\"{}\"]}}", "x".repeat(1024 * 1024 - 100));
    near.truncate(1024 * 1024 - 2);
    near.push_str("\"]}");
    assert!(near.len() <= 1024 * 1024);
    let (status, _) = post_json(&base, near).await;
    assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn wrong_method_returns_405() {
    let base = start().await;
    let resp = Client::new().get(format!("{base}/api/v1/validate")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn schema_is_served() {
    let base = start().await;
    let resp = Client::new().get(format!("{base}/api/v1/schema/sidecar.json")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().contains("json"));
    let schema: Value = resp.json().await.unwrap();
    assert_eq!(&schema, sidecar_spec::json_schema());
    assert!(schema["properties"]["livenessProbe"].is_object());
}

#[tokio::test]
async fn the_console_opens_on_its_pipelines_and_the_playground_has_its_own_page() {
    let base = start().await;
    let plain = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = plain.get(&base).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()["location"], "/pipelines");
    let resp = Client::new().get(format!("{base}/validate")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<title>Check a spec — Sidecar Console</title>"), "{html}");
    assert!(html.contains("Check a sidecar spec"), "{html}");
    assert!(html.contains("/pkg/sidecar-console.js"), "the page loads the hydration script");
    assert!(html.contains("data-verdict=\"valid\""), "the first example is checked on the server too");
}

#[tokio::test]
async fn a_build_is_served_from_a_folder_of_its_own_that_browsers_may_keep() {
    let (site, build) = site_with_build();
    std::fs::write(build.join("sidecar-console.js"), "export default 1;").unwrap();
    std::fs::write(build.join("chunk_1.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(site.path().join("pkg/sidecar-console.css"), "body {}").unwrap();
    let base = start_on(site.path()).await;
    let html = Client::new().get(format!("{base}/validate")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("/pkg/0123abcd/sidecar-console.js"), "the page loads this build's script: {html}");
    for file in ["sidecar-console.js", "chunk_1.wasm"] {
        let resp = Client::new().get(format!("{base}/pkg/0123abcd/{file}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{file}");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=31536000, immutable", "{file}");
    }
    assert_eq!(
        Client::new()
            .get(format!("{base}/pkg/0123abcd/chunk_2.wasm"))
            .send()
            .await
            .unwrap()
            .headers()
            .get("cache-control"),
        None,
        "what is not there is not kept"
    );
    // The stylesheet keeps its plain address (the sign-in page has it too), asked for anew.
    let css = Client::new().get(format!("{base}/pkg/sidecar-console.css")).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers().get("cache-control").is_none());
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let base = start().await;
    let resp = Client::new()
        .get(format!("{base}/api/v1/schema/sidecar.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
}

#[tokio::test]
async fn the_builds_own_brotli_copies_are_sent_to_clients_that_accept_brotli() {
    let (site, build) = site_with_build();
    std::fs::create_dir_all(site.path().join("monaco/1.0.0")).unwrap();
    let raw = vec![7u8; 4096];
    // Not real brotli: what matters is that the file is sent as it is, not compressed again.
    let copy = b"the build's brotli copy".to_vec();
    std::fs::write(build.join("chunk_1.wasm"), &raw).unwrap();
    std::fs::write(build.join("chunk_1.wasm.br"), &copy).unwrap();
    std::fs::write(site.path().join("monaco/1.0.0/entry.js"), "x".repeat(4096)).unwrap();
    std::fs::write(site.path().join("monaco/1.0.0/entry.js.br"), &copy).unwrap();
    let base = start_on(site.path()).await;
    for path in ["pkg/0123abcd/chunk_1.wasm", "monaco/1.0.0/entry.js"] {
        let resp =
            Client::new().get(format!("{base}/{path}")).header("accept-encoding", "gzip, br").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-encoding"], "br", "{path}");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=31536000, immutable", "{path}");
        let mime = if path.ends_with(".wasm") { "application/wasm" } else { "text/javascript" };
        assert_eq!(resp.headers()["content-type"], mime, "{path}");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), copy.as_slice(), "{path}");
    }
    // A client without brotli gets the file itself, compressed on the fly as it asks.
    let resp = Client::new().get(format!("{base}/pkg/0123abcd/chunk_1.wasm")).send().await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), raw.as_slice());
    let resp = Client::new()
        .get(format!("{base}/pkg/0123abcd/chunk_1.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_pages_chunks_come_as_one_download_compressed_together() {
    let (site, build) = site_with_build();
    let one: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let two = b"\0asm\x01\0\0\0".to_vec();
    std::fs::write(build.join("chunk_1.wasm"), &one).unwrap();
    std::fs::write(build.join("chunk_2.wasm"), &two).unwrap();
    let base = start_on(site.path()).await;
    // Each chunk, the largest first: its name's length (two bytes, little-endian), its name,
    // its length (four bytes, little-endian), its bytes.
    let mut expected = Vec::new();
    for (name, chunk) in [("chunk_1", &one), ("chunk_2", &two)] {
        expected.extend_from_slice(&(name.len() as u16).to_le_bytes());
        expected.extend_from_slice(name.as_bytes());
        expected.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        expected.extend_from_slice(chunk);
    }
    let url = format!("{base}/pkg/0123abcd/bundle?chunks=chunk_2,chunk_1");
    for _ in 0..2 {
        let resp = Client::new().get(&url).header("accept-encoding", "gzip, br").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-encoding"], "br");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(resp.headers()["vary"], "accept-encoding");
        let packed = resp.bytes().await.unwrap();
        let mut body = Vec::new();
        brotli::BrotliDecompress(&mut packed.as_ref(), &mut body).expect("brotli");
        assert_eq!(body, expected);
    }
    let resp = Client::new().get(&url).send().await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), expected.as_slice());
    // What is not a chunk of this build is refused with a sentence that names it.
    for (query, status, says) in [
        ("chunk_1,chunk_9", StatusCode::NOT_FOUND, "chunk \"chunk_9\" is not a chunk of this build"),
        ("..%2Fbuild.txt", StatusCode::BAD_REQUEST, "\"../build.txt\" is not the name of a chunk"),
        ("chunk_1,chunk_1", StatusCode::BAD_REQUEST, "chunk \"chunk_1\" is named twice"),
        ("", StatusCode::BAD_REQUEST, "name the chunks of the bundle"),
    ] {
        let resp = Client::new().get(format!("{base}/pkg/0123abcd/bundle?chunks={query}")).send().await.unwrap();
        assert_eq!(resp.status(), status, "{query}");
        assert!(resp.headers().get("cache-control").is_none(), "{query}");
        assert!(resp.text().await.unwrap().contains(says), "{query}");
    }
}

#[tokio::test]
async fn without_a_cluster_the_sidecar_api_answers_503() {
    let base = start().await;
    let resp = Client::new().get(format!("{base}/api/v1/pipelines")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "the console is not connected to a Kubernetes cluster");
}
