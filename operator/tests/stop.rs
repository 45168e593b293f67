//! Stopping the operators of a process (as the console does before its runtime shuts down): a
//! running operator finishes and returns, and none starts afterwards. A file of its own: the stop
//! is for the whole process.

use emulator::Emulator;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::PostParams;
use kube::{Api, Client};
use operator::{Pipeline, PipelineSpec};
use std::time::Duration;

#[tokio::test]
async fn a_running_operator_stops_when_asked_and_none_starts_after() {
    let client = Client::new(Emulator::new().router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(operator::crd::crd_json()).expect("crd");
    crds.create(&PostParams::default(), &crd).await.expect("crd accepted");
    let running = tokio::spawn(operator::run(client.clone()));
    let pipelines: Api<Pipeline> = Api::default_namespaced(client.clone());
    let p = Pipeline::new("logs", PipelineSpec { image: "fluent/fluent-bit:3.0".into(), ..PipelineSpec::default() });
    pipelines.create(&PostParams::default(), &p).await.expect("create");
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let mut reconciled = false;
    for _ in 0..400 {
        if deployments.get_opt("logs").await.expect("get").is_some() {
            reconciled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(reconciled, "the operator runs: the pipeline got its workload");
    assert!(!running.is_finished());

    operator::stop(Duration::from_secs(5)).await;
    tokio::time::timeout(Duration::from_secs(1), running).await.expect("it stopped").expect("without a panic");
    let late = tokio::spawn(operator::run(client.clone()));
    tokio::time::timeout(Duration::from_secs(1), late).await.expect("one started after returns at once").expect("ok");
}
