//! Slow and hostile clients: a head that never ends, a body that never comes whole or is too
//! large, and a thousand idle kept-alive connections do not stop the console from serving
//! others, and are let go of.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A console with short limits (1 s for a head, 2 s for a body) on a loopback port.
async fn console() -> String {
    let dir = std::env::temp_dir().join("sidecar-console-test-site");
    let kubectl = emulator::kubectl::Kubectl::temporary();
    let addr = "127.0.0.1:0".parse().expect("addr");
    let cluster = server::embedded::start(&server::embedded::Options::new(addr, kubectl.kubeconfig()))
        .await
        .expect("the embedded cluster starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = server::router(
        server::leptos_options(&dir, addr),
        server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster"),
    );
    let limits = server::serving::Limits {
        header_read: Duration::from_secs(1),
        body: Duration::from_secs(2),
        answer: Duration::from_secs(30),
    };
    tokio::spawn(server::serving::serve(listener, app, None, limits, std::future::pending()));
    std::mem::forget(kubectl); // Lives as long as the test process.
    addr.to_string()
}

/// Reads until the server closes the connection (or 10 s pass): what it sent.
async fn read_to_close(conn: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// A plain GET from a new client: its status.
async fn healthz(addr: &str) -> u16 {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    client.get(format!("http://{addr}/healthz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test]
async fn a_head_that_never_ends_is_cut_off_while_others_are_served() {
    let addr = console().await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut conn = TcpStream::connect(&addr).await.expect("connect");
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("write");
        slow.push(conn);
    }
    assert_eq!(healthz(&addr).await, 200, "others are served while heads dawdle");
    for conn in &mut slow {
        assert!(read_to_close(conn).await.is_some(), "a head that never ends is cut off");
    }
    // A connection that sends nothing at all is let go of too.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    assert!(read_to_close(&mut silent).await.is_some(), "a silent connection is closed");
}

#[tokio::test]
async fn a_body_that_never_comes_whole_is_a_408_in_words() {
    let addr = console().await;
    let mut conn = TcpStream::connect(&addr).await.expect("connect");
    conn.write_all(
        b"POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\"",
    )
    .await
    .expect("write");
    let answer = read_to_close(&mut conn).await.expect("an answer within the deadline");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the request body did not arrive in time"), "{answer}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_sent() {
    let addr = console().await;
    // Declared too large: refused on the head alone, for the API and the pages' forms alike.
    for path in ["/api/v1/validate", "/login"] {
        let mut conn = TcpStream::connect(&addr).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            2 * 1024 * 1024
        );
        conn.write_all(head.as_bytes()).await.expect("write");
        let answer = read_to_close(&mut conn).await.expect("an answer without the body");
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("larger than the limit of 1048576 bytes"), "{path}: {answer}");
    }
    // Not declared (chunked): cut off once the limit is passed.
    let body = format!("{{\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let client = reqwest::Client::new();
    let chunks = futures::stream::iter(
        body.into_bytes().chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let resp = client
        .post(format!("http://{addr}/api/v1/validate"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn a_thousand_idle_kept_alive_connections_do_not_stop_the_console() {
    let addr = console().await;
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let mut conn = TcpStream::connect(&addr).await.expect("connect");
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let mut buf = [0u8; 512];
        let n = conn.read(&mut buf).await.expect("read");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
        idle.push(conn); // kept alive, and now idle
    }
    for _ in 0..20 {
        assert_eq!(healthz(&addr).await, 200, "a new client is served beside 1,000 idle connections");
    }
    let api = reqwest::get(format!("http://{addr}/api/v1/pipelines")).await.expect("list");
    assert_eq!(api.status(), 200);
    // Idle past the limit for a head, each is let go of.
    for conn in &mut idle {
        assert!(read_to_close(conn).await.is_some(), "an idle connection is closed");
    }
}

#[tokio::test]
async fn bodies_that_are_not_text_or_nest_without_end_are_a_400_in_words() {
    let addr = console().await;
    let client = reqwest::Client::new();
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("/api/v1/validate", vec![b'{', 0xff, 0xfe, b'}'], "the request body is not UTF-8"),
        ("/api/v1/validate", deep.clone().into_bytes(), "recursion limit exceeded"),
        ("/api/v1/pipelines/logging/app-logs/sidecars", deep.into_bytes(), "recursion limit exceeded"),
    ];
    for (path, body, says) in cases {
        let resp = client
            .post(format!("http://{addr}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("an answer");
        assert_eq!(resp.status(), 400, "{path}");
        let body: serde_json::Value = resp.json().await.expect("JSON");
        assert!(body["error"].as_str().is_some_and(|e| e.contains(says)), "{path}: {body}");
    }
}
