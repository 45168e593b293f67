//! The console acts with the caller's own Kubernetes identity: against an embedded cluster
//! that authenticates bearer tokens and authorizes with RBAC, a read-only user reads but is
//! refused every write in Kubernetes' words, a user bound in one namespace never sees another
//! namespace's pipelines through any endpoint, page or stream, requests without identity are
//! 401, and signing in keeps the token behind a cookie with the right flags.

use emulator::kubectl::Kubectl;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;

const TOKENS: &str = "reader-token,reader,2001\nalice-token,alice,2002\ndora-token,dora,2003\n";

/// reader may read pipelines, pods, events and ConfigMaps everywhere; alice may change
/// pipelines and read the rest in `logging` only.
const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pipeline-reader}
rules:
- apiGroups: ["core.calyptia.com"]
  resources: ["pipelines"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["pods", "pods/log", "events", "configmaps"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: reader-reads}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pipeline-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pipeline-editor}
rules:
- apiGroups: ["core.calyptia.com"]
  resources: ["pipelines"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: [""]
  resources: ["pods", "pods/log", "events", "configmaps"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edits, namespace: logging}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pipeline-editor}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pipelines-only, namespace: logging}
rules:
- apiGroups: ["core.calyptia.com"]
  resources: ["pipelines"]
  verbs: ["get", "list", "watch", "update"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dora-pipelines, namespace: logging}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pipelines-only}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: dora}
"#;

struct Setup {
    base: String,
    http: Client,
    kubectl: Kubectl,
}

async fn console() -> Setup {
    console_with(server::auth::Mode::Token, vec![]).await
}

async fn console_with(mode: server::auth::Mode, trusted: Vec<server::auth::Cidr>) -> Setup {
    let kubectl = Kubectl::temporary();
    let tokens = emulator::auth::Tokens::parse(TOKENS, "tokens.csv").expect("tokens");
    let options = server::embedded::Options {
        tokens: Some(tokens),
        ..server::embedded::Options::new("127.0.0.1:0".parse().expect("addr"), kubectl.kubeconfig())
    };
    let cluster = server::embedded::start(&options).await.expect("the embedded cluster starts");
    let manifest = kubectl.kubeconfig().with_file_name("rbac.yaml");
    std::fs::write(&manifest, RBAC).expect("manifest");
    kubectl.ok(&["apply", "-f", &manifest.to_string_lossy()]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connect = cluster.connect();
    let auth = server::auth::Auth::new(mode, addr, trusted, Some(connect.clone())).expect("auth");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let console = server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster").with_connect(connect);
    let app = server::router_with_auth(server::leptos_options(&site, addr), console, auth);
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Setup { base: format!("http://{addr}"), http, kubectl }
}

impl Setup {
    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .expect("get");
        let code = r.status();
        (code, r.json().await.unwrap_or(Value::Null))
    }

    async fn names(&self, token: &str) -> Vec<String> {
        let (code, list) = self.get("/api/v1/pipelines", token).await;
        assert_eq!(code, 200, "{list}");
        list.as_array()
            .expect("a list")
            .iter()
            .map(|p| format!("{}/{}", p["namespace"].as_str().unwrap_or(""), p["name"].as_str().unwrap_or("")))
            .collect()
    }

    /// The ID of the first sidecar of a pipeline (read by reader, who may read everything).
    async fn sidecar_of(&self, ns: &str, name: &str) -> String {
        let (_, list) = self.get(&format!("/api/v1/pipelines/{ns}/{name}/sidecars"), "reader-token").await;
        list[0]["id"].as_str().unwrap_or_else(|| panic!("a sidecar in {list}")).to_owned()
    }

    /// The first `state` event of an SSE stream.
    async fn first_event(&self, path: &str, token: &str) -> Value {
        let mut r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let mut text = String::new();
        while let Some(chunk) = r.chunk().await.expect("chunk") {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(data) = text.split("\n\n").find_map(|e| e.lines().find_map(|l| l.strip_prefix("data:"))) {
                if text.contains("\n\n") {
                    return serde_json::from_str(data.trim()).expect("json");
                }
            }
        }
        panic!("no event in {text}");
    }
}

#[tokio::test]
async fn without_an_identity_nothing_is_served_and_pages_ask_to_sign_in() {
    let c = console().await;
    let r = c.http.get(format!("{}/api/v1/pipelines", c.base)).send().await.expect("get");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: Value = r.json().await.expect("json");
    assert!(body["error"].as_str().unwrap_or("").starts_with("sign in first"), "{body}");
    let r = c.http.get(format!("{}/pipelines/logging/app-logs?tab=status", c.base)).send().await.expect("get");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=/pipelines/logging/app-logs%3Ftab%3Dstatus");
    let (code, _) = c.get("/api/v1/pipelines", "not-a-token").await;
    assert_eq!(code, 401, "a token Kubernetes does not know is refused by Kubernetes");
    // The sign-in page: one labelled field and a button, and not even which cluster this is
    // (the page frame that names it is only rendered for a signed-in caller).
    let page =
        c.http.get(format!("{}/login?next=/pipelines", c.base)).send().await.expect("get").text().await.expect("text");
    assert!(!page.contains("embedded demo cluster"), "{page}");
    assert!(page.contains(r#"<label for="token">Kubernetes token</label>"#), "{page}");
    assert!(page.contains(r#"<button type="submit">Sign in</button>"#), "{page}");
}

#[tokio::test]
async fn a_read_only_user_reads_everything_and_every_write_is_forbidden_in_kubernetes_words() {
    let c = console().await;
    let names = c.names("reader-token").await;
    assert_eq!(names.len(), 5, "{names:?}");
    let spec = json!({"name": "probe", "image": "busybox:1.36"});
    let r = c
        .http
        .post(format!("{}/api/v1/pipelines/logging/audit-logs/sidecars", c.base))
        .header(AUTHORIZATION, "Bearer reader-token")
        .json(&spec)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.expect("json");
    let error = body["error"].as_str().unwrap_or("");
    assert!(
        error.contains(r#"pipelines.core.calyptia.com "audit-logs" is forbidden: User "reader" cannot update resource "pipelines" in API group "core.calyptia.com" in the namespace "logging""#),
        "{body}"
    );
    let id = c.sidecar_of("logging", "app-logs").await;
    let r = c
        .http
        .delete(format!("{}/api/v1/sidecars/{id}", c.base))
        .header(AUTHORIZATION, "Bearer reader-token")
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 403);
    // Nothing was written.
    let containers =
        c.kubectl.ok(&["get", "pipeline", "audit-logs", "-n", "logging", "-o", "jsonpath={.spec.sidecars}"]).await;
    assert!(!containers.contains("probe"), "{containers}");
}

#[tokio::test]
async fn a_user_bound_in_one_namespace_never_sees_another_through_any_endpoint() {
    let c = console().await;
    let names = c.names("alice-token").await;
    assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("logging/")), "{names:?}");
    let other = c.sidecar_of("observability", "node-metrics").await;
    let (code, body) = c.get(&format!("/api/v1/sidecars/{other}"), "alice-token").await;
    assert_eq!(code, 403, "{body}");
    assert!(!body.to_string().contains("statsd"), "nothing of the sidecar is told: {body}");
    let (code, _) = c.get(&format!("/api/v1/sidecars/{other}/state"), "alice-token").await;
    assert_eq!(code, 403);
    let (code, _) = c.get("/api/v1/pipelines/observability/node-metrics", "alice-token").await;
    assert_eq!(code, 403);
    let r = c
        .http
        .get(format!("{}/api/v1/sidecars/{other}/watch", c.base))
        .header(AUTHORIZATION, "Bearer alice-token")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    // The live listing and the page show her namespace only.
    let page = c.first_event("/api/v1/pipelines/watch", "alice-token").await;
    let items: Vec<&str> =
        page["items"].as_array().expect("items").iter().filter_map(|p| p["namespace"].as_str()).collect();
    assert!(!items.is_empty() && items.iter().all(|ns| *ns == "logging"), "{page}");
    assert_eq!(page["namespaces"], json!(["logging"]));
    let html = c
        .http
        .get(format!("{}/pipelines", c.base))
        .header(AUTHORIZATION, "Bearer alice-token")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(html.contains("app-logs") && !html.contains("node-metrics") && !html.contains("observability"), "{html}");
    // Her own namespace she may change.
    let spec = json!({"name": "probe", "image": "busybox:1.36"});
    let r = c
        .http
        .post(format!("{}/api/v1/pipelines/logging/audit-logs/sidecars", c.base))
        .header(AUTHORIZATION, "Bearer alice-token")
        .json(&spec)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    // A client's own impersonation headers never reach the cluster.
    let r = c
        .http
        .get(format!("{}/api/v1/pipelines", c.base))
        .header(AUTHORIZATION, "Bearer alice-token")
        .header("Impersonate-User", "reader")
        .header("Impersonate-Group", "system:masters")
        .send()
        .await
        .expect("get");
    let list: Value = r.json().await.expect("json");
    assert!(list.as_array().expect("list").iter().all(|p| p["namespace"] == "logging"), "{list}");
}

#[tokio::test]
async fn signing_in_keeps_the_token_behind_a_strict_http_only_cookie_until_signing_out() {
    let c = console().await;
    let login = |token: &'static str| {
        c.http
            .post(format!("{}/login", c.base))
            .form(&[("token", token), ("next", "/pipelines/logging/app-logs")])
            .send()
    };
    let r = login("wrong").await.expect("post");
    assert_eq!(r.status(), 401);
    assert!(r.headers().get(SET_COOKIE).is_none());
    let page = r.text().await.expect("text");
    assert!(page.contains(r#"role="alert">Kubernetes did not accept this token.</p>"#), "{page}");
    let r = login("alice-token").await.expect("post");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/pipelines/logging/app-logs");
    let cookie = r.headers()[SET_COOKIE].to_str().expect("ascii").to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("alice-token"), "the cookie is opaque: {cookie}");
    let session = cookie.split(';').next().expect("pair").to_owned();
    let list: Value = c
        .http
        .get(format!("{}/api/v1/pipelines", c.base))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(list.as_array().expect("list").iter().all(|p| p["namespace"] == "logging"), "{list}");
    let html = c
        .http
        .get(format!("{}/pipelines", c.base))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains(r#"class="user">alice</span>"#) && html.contains(r#"<form method="post" action="/logout""#),
        "the frame names her: {html}"
    );
    let r = c.http.post(format!("{}/logout", c.base)).header(COOKIE, &session).send().await.expect("post");
    assert_eq!(r.status(), 303);
    assert!(r.headers()[SET_COOKIE].to_str().expect("ascii").contains("Max-Age=0"));
    let r = c.http.get(format!("{}/api/v1/pipelines", c.base)).header(COOKIE, &session).send().await.expect("get");
    assert_eq!(r.status(), 401, "the session is gone");
    // Sign-in attempts are limited per address.
    let mut last = StatusCode::OK;
    for _ in 0..server::auth::ATTEMPTS_PER_MINUTE {
        last = login("wrong").await.expect("post").status();
    }
    assert_eq!(last, 429);
}

#[test]
fn auth_none_refuses_to_start_on_an_address_others_can_reach() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sidecar-console"))
        .args(["--ephemeral", "--auth", "none", "--listen", "0.0.0.0:0"])
        .env_remove("KUBECONFIG")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--auth none lets everyone who reaches the console act with its own Kubernetes credentials, so it is allowed only on a loopback address, not 0.0.0.0:0"), "{err}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_named_user_is_impersonated_and_others_cannot_name_one() {
    let trusted = vec!["127.0.0.1/32".parse().expect("cidr")];
    let c = console_with(server::auth::Mode::Proxy, trusted).await;
    let as_user = |user: &str, groups: Option<&str>| {
        let mut r = c.http.get(format!("{}/api/v1/pipelines", c.base)).header("X-Forwarded-User", user);
        if let Some(g) = groups {
            r = r.header("X-Forwarded-Groups", g);
        }
        r.send()
    };
    // The console impersonates alice: Kubernetes applies her rights (logging only).
    let list: Value = as_user("alice", None).await.expect("get").json().await.expect("json");
    let namespaces: Vec<&str> = list.as_array().expect("list").iter().filter_map(|p| p["namespace"].as_str()).collect();
    assert!(!namespaces.is_empty() && namespaces.iter().all(|ns| *ns == "logging"), "{list}");
    let r = as_user("nobody-bound", None).await.expect("get");
    assert_eq!(r.status(), 403, "a user with no rights gets Kubernetes' refusal, not the console's rights");
    // Without the proxy's header there is no identity.
    let r = c.http.get(format!("{}/api/v1/pipelines", c.base)).send().await.expect("get");
    assert_eq!(r.status(), 401);

    // From an address that is not the proxy, the same header is not believed.
    let elsewhere = console_with(server::auth::Mode::Proxy, vec!["10.0.0.0/8".parse().expect("cidr")]).await;
    let r = elsewhere
        .http
        .get(format!("{}/api/v1/pipelines", elsewhere.base))
        .header("X-Forwarded-User", "alice")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn without_the_right_to_list_configmaps_the_editor_opens_and_says_why() {
    let c = console().await;
    let r = c
        .http
        .get(format!("{}/pipelines/logging/app-logs/sidecars/new", c.base))
        .header(AUTHORIZATION, "Bearer dora-token")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    assert!(
        html.contains("Kubernetes does not allow you to list ConfigMaps in namespace &quot;logging&quot;")
            || html.contains("Kubernetes does not allow you to list ConfigMaps in namespace \"logging\""),
        "{html}"
    );
    let (code, _) = c.get("/api/v1/pipelines/logging/app-logs/configmaps", "dora-token").await;
    assert_eq!(code, 403, "the REST API answers Kubernetes' refusal");
}

#[tokio::test]
async fn a_page_served_again_is_served_to_the_same_caller_only() {
    let c = console().await;
    let page = |token: &'static str| {
        let r = c.http.get(format!("{}/pipelines", c.base)).header(AUTHORIZATION, format!("Bearer {token}")).send();
        async move { r.await.expect("get").text().await.expect("body") }
    };
    // Asked for in turn, within the same second and cache state (the pages are kept for that
    // long): each sees what Kubernetes lets them see.
    for _ in 0..5 {
        let reader = page("reader-token").await;
        let alice = page("alice-token").await;
        assert!(reader.contains(">traces</a>") && reader.contains(">app-logs</a>"), "reader sees every namespace");
        assert!(alice.contains(">app-logs</a>") && !alice.contains(">traces</a>"), "alice sees only logging");
    }
}
