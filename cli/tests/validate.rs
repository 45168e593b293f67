//! `sidecarctl validate`, run as a user runs it.

use assert_cmd::Command;
use std::path::PathBuf;

fn sidecarctl() -> Command {
    Command::cargo_bin("sidecarctl").expect("binary built")
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn documented_examples_are_valid() {
    for name in ["my-sidecar.json", "envoy-sidecar.json", "probe-sidecar.json"] {
        let out = sidecarctl().arg("validate").arg(example(name)).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("valid sidecar spec"), "{}", text(&out.stdout));
    }
}

#[test]
fn json_output_is_the_defaulted_spec() {
    let out = sidecarctl().args(["validate", "-o", "json"]).arg(example("probe-sidecar.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["readinessProbe"]["periodSeconds"], 10);
    assert_eq!(v["readinessProbe"]["httpGet"]["scheme"], "HTTP");
}

#[test]
fn yaml_output() {
    let out = sidecarctl().args(["validate", "-o", "yaml"]).arg(example("envoy-sidecar.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("name: envoy-sidecar"), "{s}");
    assert!(s.contains("defaultMode: 420"), "{s}");
}

#[test]
fn invalid_spec_prints_one_line_per_error_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f =
        write(&dir, "bad.json", r#"{"name": "Bad", "image": "nginx", "livenessProbe": {"httpGet": {"port": 70000}}}"#);
    let out = sidecarctl().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("name: must be a lowercase RFC 1123 label"), "{err}");
    assert!(err.contains("livenessProbe.httpGet.port: must be between 1 and 65535, got 70000"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn invalid_spec_as_json_lists_errors_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "bad.json", r#"{"name": "ok", "image": "nginx", "ports": [{"containerPort": 0}], "extra": 1}"#);
    let out = sidecarctl().args(["validate", "-o", "json"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errs = v.as_array().unwrap();
    assert!(errs.iter().any(|e| e["field"] == "extra" && e["kind"] == "UnknownField"), "{v}");
    assert!(errs.iter().any(|e| e["field"] == "ports[0].containerPort" && e["kind"] == "Required"), "{v}");
    for e in errs {
        assert!(e["message"].is_string());
    }
}

#[test]
fn stdin_is_read_for_dash() {
    let spec = std::fs::read_to_string(example("my-sidecar.json")).unwrap();
    let out = sidecarctl().args(["validate", "-"]).write_stdin(spec).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = sidecarctl().args(["validate", "-"]).write_stdin("{\"name\": 1}").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("name: must be a string"));
}

#[test]
fn syntax_errors_give_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "broken.json", "{\n  \"name\": \"a\",\n  \"image\": \n}");
    let out = sidecarctl().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("invalid JSON at line 4, column 1"), "{err}");
}

#[test]
fn file_name_must_end_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir, "spec.yaml", "{}");
    let out = sidecarctl().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("must end in .json"), "{}", text(&out.stderr));
}

#[test]
fn unreadable_file_is_named() {
    let out = sidecarctl().args(["validate", "/nonexistent/spec.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/spec.json"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sidecarctl().arg("validate").output().unwrap().status.code(), Some(2));
    assert_eq!(sidecarctl().arg("frobnicate").output().unwrap().status.code(), Some(2));
    assert_eq!(sidecarctl().args(["validate", "x.json", "-o", "xml"]).output().unwrap().status.code(), Some(2));
}
