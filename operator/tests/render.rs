//! The rendering of each pipeline kind, compared with reviewed golden files
//! (`tests/golden/*.json`; `UPDATE_GOLDEN=1` rewrites them after a deliberate change).

use operator::render::{render, Warning};
use operator::{Pipeline, PipelineKind, PipelineSpec};
use serde_json::{json, Value};

fn pipeline(kind: PipelineKind) -> Pipeline {
    let sidecars = vec![
        sidecar_spec::check(sidecar_spec::examples::ALL[1].json).expect("the envoy example is valid"),
        sidecar_spec::check(
            r#"{"name": "exporter", "image": "prom/statsd-exporter:v0.26.0", "ports": [{"containerPort": 9102}]}"#,
        )
        .expect("valid"),
    ];
    let mut p = Pipeline::new(
        "logs",
        PipelineSpec {
            kind,
            replicas_count: 3,
            image: "ghcr.io/calyptia/core/calyptia-fluent-bit:24.1.1".into(),
            config: "[INPUT]\n    Name dummy\n".into(),
            sidecars,
        },
    );
    p.metadata.namespace = Some("demo".into());
    p.metadata.uid = Some("5b3ad5f4-1111-4222-8333-444455556666".into());
    p
}

fn golden(name: &str, value: &Value) {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = serde_json::to_string_pretty(value).expect("json") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(want == text, "{name} differs from tests/golden/{name}.json:\n{text}");
}

#[test]
fn each_kind_renders_its_workload() {
    for (kind, file) in [
        (PipelineKind::Deployment, "deployment"),
        (PipelineKind::DaemonSet, "daemonset"),
        (PipelineKind::StatefulSet, "statefulset"),
    ] {
        let r = render(&pipeline(kind));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        golden(file, &r.workload);
        if kind == PipelineKind::Deployment {
            golden("configmap", &r.config_map);
        }
    }
}

#[test]
fn every_sidecar_is_a_container_and_its_volumes_are_the_pods() {
    let r = render(&pipeline(PipelineKind::Deployment));
    let names: Vec<&str> = r.workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["fluent-bit", "envoy-sidecar", "exporter"]);
    let volumes: Vec<&str> = r.workload["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(volumes[0], "pipeline-config");
    assert!(r.workload["spec"]["template"]["spec"]["containers"][1].get("volumes").is_none());
    assert_eq!(r.workload["metadata"]["ownerReferences"][0]["kind"], json!("Pipeline"));
    assert_eq!(r.workload["metadata"]["ownerReferences"][0]["controller"], json!(true));
}

#[test]
fn a_volume_name_clash_is_reported_and_the_first_kept() {
    let mut p = pipeline(PipelineKind::Deployment);
    let clash = sidecar_spec::check(
        r#"{"name": "other", "image": "busybox", "volumeMounts": [{"name": "pipeline-config", "mountPath": "/x"}],
            "volumes": [{"name": "pipeline-config", "configMap": {"name": "mine"}}]}"#,
    )
    .expect("valid on its own");
    p.spec.sidecars.push(clash);
    let r = render(&p);
    assert_eq!(
        r.warnings,
        vec![Warning {
            reason: "VolumeNameClash",
            message: "sidecar \"other\": volume \"pipeline-config\" is already defined with another source; the first definition is used".into()
        }]
    );
    assert_eq!(r.workload["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], "logs-config");
}
