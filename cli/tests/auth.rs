//! `sidecarctl` with the user's own Kubernetes identity: `--token`, `SIDECARCTL_TOKEN`, and
//! `sidecarctl login` (a 0600 file), against a console that signs users in and a cluster that
//! authorizes with RBAC — the same answers the REST API gives that user.

use emulator::kubectl::Kubectl;
use std::net::SocketAddr;

const TOKENS: &str = "reader-token,reader,2001\nalice-token,alice,2002\n";

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
kind: RoleBinding
metadata: {name: alice-reads, namespace: logging}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pipeline-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
"#;

struct Setup {
    server: String,
    home: tempfile::TempDir,
    _kubectl: Kubectl,
}

async fn console() -> Setup {
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
    let auth = server::auth::Auth::new(server::auth::Mode::Token, addr, vec![], Some(connect.clone())).expect("auth");
    let site = std::env::temp_dir().join("sidecar-console-test-site");
    let console = server::api::ApiState::new(cluster.client.clone(), "embedded demo cluster").with_connect(connect);
    let app = server::router_with_auth(server::leptos_options(&site, addr), console, auth);
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    Setup { server: format!("http://{addr}"), home: tempfile::tempdir().expect("home"), _kubectl: kubectl }
}

impl Setup {
    /// Runs sidecarctl with `env`; its exit code and output.
    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sidecarctl"));
        cmd.args(args)
            .env("SIDECARCTL_SERVER", &self.server)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env_remove("SIDECARCTL_TOKEN")
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("sidecarctl runs")).await.expect("join");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test]
async fn sidecarctl_acts_with_the_token_it_is_given_or_kept() {
    let s = console().await;
    let (code, _, err) = s.run(&["get", "pipelines"], &[]).await;
    assert_eq!(code, 1);
    assert!(err.starts_with("error: sign in first"), "{err}");

    let (code, out, err) = s.run(&["--token", "reader-token", "get", "pipelines"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("node-metrics") && out.contains("app-logs"), "{out}");

    let (code, out, err) = s.run(&["get", "pipelines"], &[("SIDECARCTL_TOKEN", "alice-token")]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("app-logs") && !out.contains("node-metrics"), "alice sees logging only: {out}");

    let spec = s.home.path().join("probe.json");
    std::fs::write(&spec, r#"{"name": "probe", "image": "busybox:1.36"}"#).expect("spec");
    let spec = spec.to_string_lossy().into_owned();
    let (code, _, err) = s
        .run(
            &["--token", "reader-token", "create", "sidecar", "--pipeline", "logging/audit-logs", "--spec", &spec],
            &[],
        )
        .await;
    assert_eq!(code, 1);
    assert!(
        err.contains(r#"User "reader" cannot update resource "pipelines" in API group "core.calyptia.com" in the namespace "logging""#),
        "{err}"
    );

    // login checks the token and keeps it, readable by its owner only.
    let (code, _, err) = s.run(&["login", "--token", "wrong"], &[]).await;
    assert_eq!(code, 1);
    assert!(err.contains("401"), "{err}");
    let (code, out, err) = s.run(&["login", "--token", "alice-token"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Signed in to"), "{out}");
    let file = s.home.path().join("config/sidecarctl/config.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).expect("kept").permissions().mode() & 0o777, 0o600);
    let (code, out, _) = s.run(&["get", "pipelines"], &[]).await;
    assert_eq!(code, 0);
    assert!(out.contains("app-logs") && !out.contains("node-metrics"), "{out}");
    let (code, _, _) = s.run(&["logout"], &[]).await;
    assert_eq!(code, 0);
    assert!(!file.exists());
}
