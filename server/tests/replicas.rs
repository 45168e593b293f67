//! Two console replicas on one cluster, behind a round-robin load balancer, behave as one: a
//! sidecar created through one replica is read through the other at once and shows in a live
//! stream the other serves. (All console state is in the cluster; each replica has its own
//! watch cache.)

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A replica of the console with its own client (over HTTP, as another pod would connect).
async fn replica(kubeconfig: &std::path::Path) -> String {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("config");
    let client = kube::Client::try_from(config.clone()).expect("client");
    let console =
        server::api::ApiState::new(client, "shared cluster").with_connect(server::embedded::connect_with(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router(server::leptos_options(&site, addr), console);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[derive(Clone)]
struct Balancer {
    backends: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    http: reqwest::Client,
}

/// Forwards each request to the next replica in turn, streaming the answer back, and says in
/// `x-served-by` which one answered.
async fn forward(State(lb): State<Balancer>, req: Request) -> Response {
    let i = lb.next.fetch_add(1, Ordering::SeqCst) % lb.backends.len();
    let url = format!("{}{}", lb.backends[i], req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut out = lb.http.request(parts.method, url).body(body);
    for (k, v) in &parts.headers {
        if k != "host" {
            out = out.header(k, v);
        }
    }
    let answer = out.send().await.expect("a replica answers");
    let mut resp = Response::builder().status(answer.status()).header("x-served-by", i.to_string());
    for (k, v) in answer.headers() {
        resp = resp.header(k, v);
    }
    resp.body(Body::from_stream(answer.bytes_stream())).expect("response")
}

#[tokio::test]
async fn two_replicas_behind_a_load_balancer_serve_one_consistent_view() {
    let kubectl = emulator::kubectl::Kubectl::temporary();
    let options = server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), kubectl.kubeconfig());
    let _cluster = server::embedded::start(&options).await.expect("the cluster starts");
    let backends = vec![replica(kubectl.kubeconfig()).await, replica(kubectl.kubeconfig()).await];
    let lb = Balancer { backends: Arc::new(backends), next: Arc::default(), http: reqwest::Client::new() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(forward).with_state(lb);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();

    // A live stream through one replica...
    let stream = http.get(format!("{base}/api/v1/pipelines/logging/app-logs/watch")).send().await.expect("stream");
    let streamed_by = stream.headers()["x-served-by"].to_str().expect("ascii").to_owned();
    let mut events = stream.bytes_stream();
    // ...a sidecar created through the other...
    let created = http
        .post(format!("{base}/api/v1/pipelines/logging/app-logs/sidecars"))
        .json(&serde_json::json!({"name": "replicated", "image": "busybox:1.36"}))
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 201);
    assert_ne!(created.headers()["x-served-by"].to_str().expect("ascii"), streamed_by, "the other replica");
    let id = created.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let t0 = Instant::now();
    // ...is read through both at once...
    for _ in 0..2 {
        let r = http.get(format!("{base}/api/v1/sidecars/{id}")).send().await.expect("get");
        assert_eq!(r.status(), 200, "served by {:?}", r.headers().get("x-served-by"));
    }
    // ...and shows in the first replica's stream.
    let mut seen = String::new();
    let shown = loop {
        match tokio::time::timeout(Duration::from_secs(5), events.next()).await {
            Ok(Some(Ok(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("\"replicated\"") {
                    break t0.elapsed();
                }
            }
            other => panic!("the stream ended or stalled ({other:?}) without the sidecar: {seen}"),
        }
    };
    println!(
        "created through replica {}, streamed by replica {streamed_by} {shown:?} later",
        1 - streamed_by.parse::<i32>().unwrap_or(0)
    );
    assert!(shown < Duration::from_secs(2), "{shown:?}");
}

/// A replica that signs users in, its sessions sealed with `key` (none: kept in memory).
async fn signing_replica(cluster: &server::embedded::Embedded, key: Option<&[u8]>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connect = cluster.connect();
    let mut auth =
        server::auth::Auth::new(server::auth::Mode::Token, addr, vec![], Some(connect.clone())).expect("auth");
    if let Some(k) = key {
        auth = auth.with_session_key(k);
    }
    let console = server::api::ApiState::new(cluster.client.clone(), "shared cluster").with_connect(connect);
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let app = server::router_with_auth(server::leptos_options(&site, addr), console, auth);
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_sign_in_through_one_replica_holds_on_every_replica_sharing_the_session_key() {
    let kubectl = emulator::kubectl::Kubectl::temporary();
    let tokens = emulator::auth::Tokens::parse("root-token,root,1,system:masters\n", "tokens.csv").expect("tokens");
    let options = server::embedded::Options {
        tokens: Some(tokens),
        ..server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), kubectl.kubeconfig())
    };
    let cluster = server::embedded::start(&options).await.expect("the cluster starts");
    let key = b"the replicas' shared session key, 32 bytes or more";
    let a = signing_replica(&cluster, Some(key)).await;
    let b = signing_replica(&cluster, Some(key)).await;
    let stranger = signing_replica(&cluster, Some(b"another key, also 32 bytes long or more")).await;
    let alone = signing_replica(&cluster, None).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let sign_in = |base: String| {
        let http = http.clone();
        async move {
            let r = http.post(format!("{base}/login")).form(&[("token", "root-token")]).send().await.expect("post");
            assert_eq!(r.status(), 303);
            let cookie = r.headers()["set-cookie"].to_str().expect("ascii").to_owned();
            cookie.split(';').next().expect("pair").to_owned()
        }
    };
    let status =
        |base: &str, cookie: &str| http.get(format!("{base}/api/v1/pipelines")).header("cookie", cookie).send();
    let sealed = sign_in(a.clone()).await;
    assert!(!sealed.contains("root-token"), "the cookie is opaque: {sealed}");
    assert_eq!(status(&b, &sealed).await.expect("get").status(), 200, "replica B opens replica A's session");
    assert_eq!(status(&stranger, &sealed).await.expect("get").status(), 401, "another key opens nothing");
    // Without a shared key a session is the replica's own.
    let own = sign_in(alone.clone()).await;
    assert_eq!(status(&alone, &own).await.expect("get").status(), 200);
    assert_eq!(status(&a, &own).await.expect("get").status(), 401);
}
