//! The operator against the emulator, in the style of kube-rs' controller-rs: a Pipeline becomes
//! a workload with one container per sidecar; changes follow; the workload goes with the pipeline.

use emulator::Emulator;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator::{Pipeline, PipelineKind, PipelineSpec};
use serde_json::json;
use std::time::Duration;

async fn cluster() -> Client {
    let client = Client::new(Emulator::new().router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(operator::crd::crd_json()).expect("crd");
    crds.create(&PostParams::default(), &crd).await.expect("the generated CRD is accepted");
    tokio::spawn(operator::run(client.clone()));
    client
}

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..400 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn containers(d: &Deployment) -> Vec<String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn sidecars_become_containers_of_the_workload_and_follow_changes() {
    let client = cluster().await;
    let pipelines: Api<Pipeline> = Api::default_namespaced(client.clone());
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let p = Pipeline::new(
        "logs",
        PipelineSpec { image: "fluent/fluent-bit:3.0".into(), replicas_count: 2, ..PipelineSpec::default() },
    );
    pipelines.create(&PostParams::default(), &p).await.expect("create");
    let d = eventually("the deployment", || async { deployments.get_opt("logs").await.ok().flatten() }).await;
    assert_eq!(containers(&d), vec!["fluent-bit"]);
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(2));
    let cm: Api<ConfigMap> = Api::default_namespaced(client.clone());
    assert!(cm.get_opt("logs-config").await.expect("get").is_some());

    // A sidecar added with a plain merge patch, as kubectl would.
    let patch = json!({"spec": {"sidecars": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0",
        "ports": [{"containerPort": 9901}]}]}});
    pipelines.patch("logs", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
    eventually("the sidecar in the template", || async {
        let d = deployments.get("logs").await.ok()?;
        (containers(&d) == vec!["fluent-bit", "envoy"]).then_some(())
    })
    .await;
    // Its status says how far the rollout is.
    let status = eventually("a status", || async { pipelines.get("logs").await.ok()?.status }).await;
    assert_eq!(status.observed_generation, pipelines.get("logs").await.expect("get").metadata.generation);
    assert!(!status.conditions.is_empty());

    // Removing it removes the container.
    pipelines
        .patch("logs", &PatchParams::default(), &Patch::Merge(json!({"spec": {"sidecars": null}})))
        .await
        .expect("patch");
    eventually("the sidecar gone", || async {
        let d = deployments.get("logs").await.ok()?;
        (containers(&d) == vec!["fluent-bit"]).then_some(())
    })
    .await;

    // Another kind replaces the workload.
    pipelines
        .patch("logs", &PatchParams::default(), &Patch::Merge(json!({"spec": {"kind": "daemonSet"}})))
        .await
        .expect("patch");
    let daemonsets: Api<DaemonSet> = Api::default_namespaced(client.clone());
    eventually("the daemonset", || async { daemonsets.get_opt("logs").await.ok().flatten() }).await;
    eventually("the deployment gone", || async { deployments.get_opt("logs").await.ok()?.is_none().then_some(()) })
        .await;

    // Deleting the pipeline collects what it owned.
    pipelines.delete("logs", &DeleteParams::default()).await.expect("delete");
    eventually("the workload collected", || async { daemonsets.get_opt("logs").await.ok()?.is_none().then_some(()) })
        .await;
    eventually("the config collected", || async { cm.get_opt("logs-config").await.ok()?.is_none().then_some(()) })
        .await;
}

/// The readiness probe of the workload's `envoy` container.
async fn readiness(deployments: &Api<Deployment>) -> Option<serde_json::Value> {
    let d = deployments.get("logs").await.ok()?;
    let c = d.spec?.template.spec?.containers.into_iter().find(|c| c.name == "envoy")?;
    Some(serde_json::to_value(c.readiness_probe).unwrap_or_default())
}

#[tokio::test]
async fn a_probe_switched_to_another_handler_or_removed_leaves_nothing_of_the_old_one() {
    let client = cluster().await;
    let pipelines: Api<Pipeline> = Api::default_namespaced(client.clone());
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let sidecar = |probe: serde_json::Value| json!({"spec": {"sidecars": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0", "readinessProbe": probe}]}});
    let p = Pipeline::new("logs", PipelineSpec { image: "fluent/fluent-bit:3.0".into(), ..PipelineSpec::default() });
    pipelines.create(&PostParams::default(), &p).await.expect("create");
    let patch = |v: serde_json::Value| {
        let pipelines = pipelines.clone();
        async move { pipelines.patch("logs", &PatchParams::default(), &Patch::Merge(&v)).await.expect("patch") }
    };
    patch(sidecar(json!({"httpGet": {"path": "/ready", "port": 9901}}))).await;
    // The server fills in the scheme and the timings.
    eventually("the httpGet probe, defaulted", || async {
        let p = readiness(&deployments).await?;
        (p["httpGet"]["scheme"] == "HTTP" && p["timeoutSeconds"] == 1).then_some(())
    })
    .await;

    patch(sidecar(json!({"tcpSocket": {"port": 9901}}))).await;
    let p = eventually("the tcpSocket probe", || async {
        let p = readiness(&deployments).await?;
        p.get("tcpSocket").is_some().then_some(p)
    })
    .await;
    assert!(p.get("httpGet").is_none(), "nothing of the httpGet probe is left: {p}");
    assert_eq!(p["tcpSocket"]["port"], 9901);

    patch(json!({"spec": {"sidecars": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}]}})).await;
    eventually("no probe", || async { readiness(&deployments).await?.is_null().then_some(()) }).await;
}

#[tokio::test]
async fn a_volume_name_clash_is_an_event_on_the_pipeline() {
    let client = cluster().await;
    let pipelines: Api<Pipeline> = Api::default_namespaced(client.clone());
    let sidecar = json!({"name": "other", "image": "busybox",
        "volumeMounts": [{"name": "pipeline-config", "mountPath": "/x"}],
        "volumes": [{"name": "pipeline-config", "configMap": {"name": "mine"}}]});
    let p: Pipeline = serde_json::from_value(json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline",
        "metadata": {"name": "clash"}, "spec": {"image": "fluent/fluent-bit:3.0", "sidecars": [sidecar]}}))
    .expect("pipeline");
    assert_eq!(p.spec.kind, PipelineKind::Deployment);
    pipelines.create(&PostParams::default(), &p).await.expect("create");
    let events: Api<Event> = Api::default_namespaced(client);
    let ev = eventually("the warning event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| e.reason.as_deref() == Some("VolumeNameClash"))
    })
    .await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_eq!(ev.involved_object.name.as_deref(), Some("clash"));
    assert!(ev.message.unwrap_or_default().contains("already defined with another source"));
}

#[tokio::test]
async fn calyptia_cores_operator_is_found_in_any_namespace() {
    let client = Client::new(Emulator::new().router(), "default");
    assert_eq!(operator::core_operator_namespace(&client).await.expect("list"), None);
    // A Deployment of another name is not it.
    let other: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "controller-manager", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "m"}},
                 "template": {"metadata": {"labels": {"app": "m"}}, "spec": {"containers": [{"name": "m", "image": "busybox"}]}}}
    }))
    .expect("deployment");
    Api::<Deployment>::default_namespaced(client.clone()).create(&PostParams::default(), &other).await.expect("create");
    assert_eq!(operator::core_operator_namespace(&client).await.expect("list"), None);
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": "calyptia-core"}})).expect("namespace");
    Api::all(client.clone()).create(&PostParams::default(), &ns).await.expect("namespace");
    let mut core = other.clone();
    core.metadata.name = Some(operator::presence::CORE_OPERATOR_DEPLOYMENT.into());
    core.metadata.namespace = Some("calyptia-core".into());
    Api::<Deployment>::namespaced(client.clone(), "calyptia-core")
        .create(&PostParams::default(), &core)
        .await
        .expect("create");
    assert_eq!(operator::core_operator_namespace(&client).await.expect("list").as_deref(), Some("calyptia-core"));
}
