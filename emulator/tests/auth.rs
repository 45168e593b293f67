//! Authentication and RBAC as a real API server does them, seen through the real `kubectl`:
//! tokens from a token file, 401 without one, 403 in Kubernetes' words, `auth can-i`,
//! `auth whoami`, `--as` impersonation, and the access reviews the console relies on.

use emulator::auth::Tokens;
use emulator::kubectl::Kubectl;
use emulator::Certificate;
use emulator::Emulator;
use serde_json::json;
use std::net::SocketAddr;

const TOKENS: &str = "admin-token,root,0,system:masters\n\
alice-token,alice,1001\n\
bob-token,bob,1002,\"viewers,logging-team\"\n\
proxy-token,console-proxy,1003\n";

struct Cluster {
    addr: SocketAddr,
    cert: Certificate,
    admin: Kubectl,
    emulator: Emulator,
}

async fn cluster() -> Cluster {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let emulator = Emulator::new().with_tokens(Tokens::parse(TOKENS, "tokens.csv").expect("token file"));
    let cert = Certificate::loopback().expect("certificate");
    let (serving, tls) = (emulator.clone(), cert.clone());
    tokio::spawn(async move { serving.serve(listener, Some(&tls)).await.expect("serve") });
    let admin = Kubectl::temporary();
    let kubeconfig = emulator.admin_kubeconfig(&format!("https://{addr}"), Some(&cert.cert_pem));
    std::fs::write(admin.kubeconfig(), kubeconfig).expect("kubeconfig");
    Cluster { addr, cert, admin, emulator }
}

impl Cluster {
    fn as_user(&self, token: &str) -> Kubectl {
        let k = Kubectl::temporary();
        let kubeconfig = Emulator::kubeconfig_for(&format!("https://{}", self.addr), token, Some(&self.cert.cert_pem));
        std::fs::write(k.kubeconfig(), kubeconfig).expect("kubeconfig");
        k
    }

    async fn apply(&self, manifest: &str) {
        let path = self.admin.kubeconfig().with_file_name("manifest.yaml");
        std::fs::write(&path, manifest).expect("manifest");
        self.admin.ok(&["apply", "-f", &path.to_string_lossy()]).await;
    }

    /// A GET with `curl` and extra headers.
    async fn curl_as(&self, path: &str, token: &str, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let extra: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        self.curl_with("GET", path, None, Some(token), &extra).await
    }

    /// One request with `curl` (its TLS trusting the emulator's certificate).
    async fn curl(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (u16, serde_json::Value) {
        self.curl_with(method, path, body, token, &[]).await
    }

    async fn curl_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
        headers: &[String],
    ) -> (u16, serde_json::Value) {
        let ca = self.admin.kubeconfig().with_file_name("ca.pem");
        std::fs::write(&ca, &self.cert.cert_pem).expect("ca");
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--cacert"]).arg(&ca).args(["-X", method]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        for h in headers {
            cmd.args(["-H", h]);
        }
        if let Some(b) = body {
            cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
        }
        let out = cmd.arg(format!("https://{}{path}", self.addr)).output().await.expect("curl must be installed");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (json, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
    }
}

/// alice may read and write configmaps in `logging` only; bob's group may read pods
/// everywhere; console-proxy may impersonate users and groups.
const RBAC: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: logging}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: config-editor, namespace: logging}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edits-config, namespace: logging}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-editor}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewers-read-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: viewers}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonator}
rules:
- apiGroups: [""]
  resources: ["users", "groups"]
  verbs: ["impersonate"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: proxy-impersonates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonator}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: console-proxy}
"#;

#[tokio::test]
async fn requests_without_a_known_token_are_401() {
    let c = cluster().await;
    let (code, status) = c.curl("GET", "/api/v1/namespaces", None, None).await;
    assert_eq!((code, &status["reason"], &status["message"]), (401, &json!("Unauthorized"), &json!("Unauthorized")));
    let stranger = c.as_user("made-up");
    let err = stranger.fails(&["get", "namespaces"]).await;
    assert!(err.contains("You must be logged in to the server"), "{err}");
    // The emulator's own kubeconfig carries a token of system:masters.
    assert_eq!(c.admin.ok(&["auth", "can-i", "*", "*"]).await.trim(), "yes");
}

#[tokio::test]
async fn rbac_rules_allow_what_they_name_and_the_rest_is_forbidden_in_kubernetes_words() {
    let c = cluster().await;
    c.apply(RBAC).await;
    let alice = c.as_user("alice-token");
    alice.ok(&["create", "configmap", "settings", "-n", "logging", "--from-literal=a=1"]).await;
    assert_eq!(alice.ok(&["get", "configmaps", "-n", "logging", "-o", "name"]).await, "configmap/settings\n");
    let err = alice.fails(&["get", "configmaps", "-n", "default"]).await;
    assert!(
        err.contains(r#"configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default""#),
        "{err}"
    );
    let err = alice.fails(&["get", "configmaps", "-A"]).await;
    assert!(err.contains(r#"cannot list resource "configmaps" in API group "" at the cluster scope"#), "{err}");
    let err = alice.fails(&["delete", "namespace", "logging"]).await;
    assert!(
        err.contains(r#"namespaces "logging" is forbidden: User "alice" cannot delete resource "namespaces" in API group "" in the namespace "logging""#),
        "{err}"
    );
    assert_eq!(alice.ok(&["auth", "can-i", "update", "configmaps", "-n", "logging"]).await.trim(), "yes");
    let (ok, out, _) = alice.run(&["auth", "can-i", "update", "configmaps", "-n", "default"]).await;
    assert!(!ok && out.trim() == "no", "{out}");
    // Groups from the token file count; a subresource is a resource of its own.
    let bob = c.as_user("bob-token");
    assert_eq!(bob.ok(&["auth", "can-i", "list", "pods", "-A"]).await.trim(), "yes");
    assert_eq!(bob.ok(&["auth", "can-i", "get", "pods", "--subresource=log", "-n", "logging"]).await.trim(), "yes");
    let (_, out, _) = bob.run(&["auth", "can-i", "get", "pods", "--subresource=exec", "-n", "logging"]).await;
    assert_eq!(out.trim(), "no");
    let whoami =
        bob.ok(&["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]).await;
    assert_eq!(whoami, r#"bob ["viewers","logging-team","system:authenticated"]"#);
    let rules = alice.ok(&["auth", "can-i", "--list", "-n", "logging"]).await;
    assert!(
        rules
            .lines()
            .any(|l| l.starts_with("configmaps ") && l.contains("[get list watch create update patch delete]")),
        "{rules}"
    );
    // Imperative RBAC objects (sent as protobuf) work as the declared ones do.
    c.admin.ok(&["create", "rolebinding", "alice-views", "-n", "default", "--clusterrole=view", "--user=alice"]).await;
    assert_eq!(alice.ok(&["auth", "can-i", "list", "configmaps", "-n", "default"]).await.trim(), "yes");
    assert_eq!(alice.ok(&["get", "configmaps", "-n", "default", "-o", "name"]).await, "");
    c.admin.ok(&["create", "clusterrole", "lease-reader", "--verb=get", "--resource=leases.coordination.k8s.io"]).await;
    let role = c
        .admin
        .ok(&[
            "get",
            "clusterrole",
            "lease-reader",
            "-o",
            "jsonpath={.rules[0].apiGroups} {.rules[0].resources} {.rules[0].verbs}",
        ])
        .await;
    assert_eq!(role, r#"["coordination.k8s.io"] ["leases"] ["get"]"#);
}

#[tokio::test]
async fn impersonation_needs_the_impersonate_verb_and_then_acts_as_the_user() {
    let c = cluster().await;
    c.apply(RBAC).await;
    let proxy = c.as_user("proxy-token");
    assert_eq!(
        proxy.ok(&["auth", "whoami", "--as", "alice", "-o", "jsonpath={.status.userInfo.username}"]).await,
        "alice"
    );
    assert_eq!(proxy.ok(&["get", "configmaps", "-n", "logging", "--as", "alice", "-o", "name"]).await, "");
    let err = proxy.fails(&["get", "configmaps", "-n", "default", "--as", "alice"]).await;
    assert!(err.contains(r#"User "alice" cannot list resource "configmaps""#), "{err}");
    // Groups come only from the headers: bob's groups are not his when impersonated.
    let (_, out, _) = proxy.run(&["auth", "can-i", "list", "pods", "--as", "bob"]).await;
    assert_eq!(out.trim(), "no");
    assert_eq!(
        proxy.ok(&["auth", "can-i", "list", "pods", "--as", "bob", "--as-group", "viewers"]).await.trim(),
        "yes"
    );
    // Without the impersonate verb, impersonation is refused.
    let alice = c.as_user("alice-token");
    // (kubectl's discovery prints a 403 as "unknown", as it does on any cluster.)
    let err = alice.fails(&["get", "pods", "--as", "bob"]).await;
    assert!(err.contains("Error from server (Forbidden)"), "{err}");
    let (code, status) =
        c.curl_as("/api/v1/namespaces/logging/configmaps", "alice-token", &[("Impersonate-User", "bob")]).await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        r#"users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#
    );
    // Impersonating a group is a right of its own, like a user.
    let (code, _) = c
        .curl_as(
            "/api/v1/namespaces",
            "proxy-token",
            &[("Impersonate-User", "alice"), ("Impersonate-Group", "viewers")],
        )
        .await;
    assert_eq!(code, 403, "alice as herself may not list namespaces");
    let (code, _) = c
        .curl_as("/api/v1/pods", "proxy-token", &[("Impersonate-User", "alice"), ("Impersonate-Group", "viewers")])
        .await;
    assert_eq!(code, 200, "alice in the group viewers may list pods");
}

#[tokio::test]
async fn access_and_token_reviews_answer_from_the_same_rules() {
    let c = cluster().await;
    c.apply(RBAC).await;
    let review = |kind: &str, spec: &str| {
        format!("{{\"apiVersion\": \"authorization.k8s.io/v1\", \"kind\": \"{kind}\", \"spec\": {spec}}}")
    };
    let sar = review(
        "SubjectAccessReview",
        r#"{"user": "alice", "resourceAttributes": {"namespace": "logging", "verb": "delete", "resource": "configmaps"}}"#,
    );
    let out = post(&c, "/apis/authorization.k8s.io/v1/subjectaccessreviews", &sar, "admin-token").await;
    assert_eq!(out["status"]["allowed"], true, "{out}");
    assert_eq!(
        out["status"]["reason"],
        r#"RBAC: allowed by RoleBinding "alice-edits-config/logging" of Role "config-editor" to User "alice""#
    );
    // Asking about others needs the right to; asking about oneself does not.
    let out = post(&c, "/apis/authorization.k8s.io/v1/subjectaccessreviews", &sar, "alice-token").await;
    assert_eq!(out["code"], 403, "{out}");
    let ssar = review(
        "SelfSubjectAccessReview",
        r#"{"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "configmaps"}}"#,
    );
    let out = post(&c, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &ssar, "alice-token").await;
    assert_eq!(out["status"]["allowed"], false, "{out}");
    let tr = r#"{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "bob-token"}}"#;
    let out = post(&c, "/apis/authentication.k8s.io/v1/tokenreviews", tr, "admin-token").await;
    assert_eq!(out["status"]["authenticated"], true, "{out}");
    assert_eq!(out["status"]["user"]["username"], "bob");
    assert_eq!(out["status"]["user"]["uid"], "1002");
    let tr = r#"{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "nope"}}"#;
    let out = post(&c, "/apis/authentication.k8s.io/v1/tokenreviews", tr, "admin-token").await;
    assert_eq!(out["status"]["authenticated"], false, "{out}");
    // Default roles exist, as in a new cluster.
    let roles = c.admin.ok(&["get", "clusterroles", "-o", "name"]).await;
    for r in ["cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery"] {
        assert!(roles.lines().any(|l| l == format!("clusterrole.rbac.authorization.k8s.io/{r}")), "{roles}");
    }
    assert!(c.emulator.authenticates());
}

#[tokio::test]
async fn an_open_emulator_says_that_it_is_open() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let emulator = Emulator::new();
    let router = emulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let k = Kubectl::for_server(addr);
    assert_eq!(k.ok(&["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]).await, "emulator-admin");
    let ssar = r#"{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {"verb": "delete", "resource": "pods"}}}"#;
    let http = http_post(addr, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar).await;
    assert!(http.contains("the emulator has no token file"), "{http}");
}

async fn post(c: &Cluster, path: &str, body: &str, token: &str) -> serde_json::Value {
    c.curl("POST", path, Some(body), Some(token)).await.1
}

/// A plain HTTP/1.1 exchange with an open emulator.
async fn http_post(addr: SocketAddr, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}
