//! What a browser is told and refused: every HTML response carries a Content-Security-Policy
//! (the pages' with the nonce of their inline scripts), `nosniff`, a referrer policy and no
//! framing; a cross-site POST is refused on every route — the REST API and the pages' server
//! functions alike.

mod common;

use leptos::server_fn::ServerFn;
use reqwest::Client;

#[tokio::test]
async fn every_html_response_carries_a_content_security_policy_matching_its_scripts() {
    let (base, _k) = common::embedded_console(None).await;
    let http = Client::new();
    for path in ["/pipelines", "/validate", "/pipelines/logging/app-logs", "/no/such/page"] {
        let r = http.get(format!("{base}{path}")).send().await.expect("get");
        let h = r.headers().clone();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"))
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"), "{csp}");
        let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_owned();
        let html = r.text().await.expect("html");
        // Every inline script carries this response's nonce; no other is allowed to run.
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{path}: {html}");
    }
    let again = http.get(format!("{base}/pipelines")).send().await.expect("get");
    let first = again.headers()["content-security-policy"].to_str().expect("ascii").to_owned();
    let second = http.get(format!("{base}/pipelines")).send().await.expect("get");
    assert_ne!(first, second.headers()["content-security-policy"].to_str().expect("ascii"), "a nonce per response");
}

#[tokio::test]
async fn cross_site_writes_are_refused_on_every_route() {
    let (base, k) = common::embedded_console(None).await;
    let http = Client::new();
    let spec = serde_json::json!({"name": "csrf", "image": "busybox:1.36"});
    let cross =
        |url: String| http.post(url).header("Origin", "https://evil.example").header("Sec-Fetch-Site", "cross-site");
    let r =
        cross(format!("{base}/api/v1/pipelines/logging/audit-logs/sidecars")).json(&spec).send().await.expect("post");
    assert_eq!(r.status(), 403);
    // A server function, posted the way a cross-site <form> would.
    let path = <app::api::DeleteSidecar as ServerFn>::PATH;
    let r = cross(format!("{base}{path}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("id=anything")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let sidecars = k.ok(&["get", "pipeline", "audit-logs", "-n", "logging", "-o", "jsonpath={.spec.sidecars}"]).await;
    assert!(!sidecars.contains("csrf"), "{sidecars}");
    // The same request from the console's own pages goes through.
    let r = http
        .post(format!("{base}/api/v1/pipelines/logging/audit-logs/sidecars"))
        .header("Origin", &base)
        .header("Sec-Fetch-Site", "same-origin")
        .json(&spec)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
}
