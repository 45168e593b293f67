//! CustomResourceDefinitions through kube-rs: a CRD's type is served once it is created, with a
//! status subresource, generation semantics and structural pruning.

use emulator::Emulator;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResource, CustomResourceExt, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(group = "core.calyptia.com", version = "v1", kind = "Pipeline", namespaced, status = "PipelineStatus")]
#[serde(rename_all = "camelCase")]
struct PipelineSpec {
    image: String,
    #[serde(default)]
    replicas_count: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
struct PipelineStatus {
    phase: String,
}

async fn with_crd() -> Client {
    let client = Client::new(Emulator::new().router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let created = crds.create(&PostParams::default(), &Pipeline::crd()).await.expect("CRD created");
    let conditions = created.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(conditions.iter().any(|c| c.type_ == "Established" && c.status == "True"), "{conditions:?}");
    client
}

fn pipeline(name: &str, image: &str) -> Pipeline {
    Pipeline::new(name, PipelineSpec { image: image.into(), replicas_count: 1 })
}

#[tokio::test]
async fn custom_objects_are_served_once_the_crd_exists() {
    let client = with_crd().await;
    let api: Api<Pipeline> = Api::default_namespaced(client.clone());
    let p = api.create(&PostParams::default(), &pipeline("logs", "fluent/fluent-bit:3.0")).await.unwrap();
    assert_eq!(p.metadata.generation, Some(1));
    assert_eq!(api.get("logs").await.unwrap().spec.image, "fluent/fluent-bit:3.0");
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 1);
    let discovered = kube::discovery::Discovery::new(client).run().await.unwrap();
    assert!(discovered.groups().any(|g| g.name() == "core.calyptia.com"));
}

#[tokio::test]
async fn status_is_a_subresource_and_generation_follows_spec() {
    let client = with_crd().await;
    let api: Api<Pipeline> = Api::default_namespaced(client);
    let mut p = pipeline("logs", "fluent/fluent-bit:3.0");
    p.status = Some(PipelineStatus { phase: "ignored on create".into() });
    let created = api.create(&PostParams::default(), &p).await.unwrap();
    assert_eq!(created.status, None, "status is not written with the object");

    let status = json!({"status": {"phase": "STARTED"}});
    let after_status = api.patch_status("logs", &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
    assert_eq!(after_status.status.as_ref().unwrap().phase, "STARTED");
    assert_eq!(after_status.metadata.generation, Some(1), "a status change is not a new generation");

    let spec =
        json!({"spec": {"image": "fluent/fluent-bit:3.1"}, "status": {"phase": "not through the main resource"}});
    let after_spec = api.patch("logs", &PatchParams::default(), &Patch::Merge(&spec)).await.unwrap();
    assert_eq!(after_spec.metadata.generation, Some(2));
    assert_eq!(after_spec.spec.image, "fluent/fluent-bit:3.1");
    assert_eq!(after_spec.status.unwrap().phase, "STARTED");
}

#[tokio::test]
async fn undeclared_fields_are_pruned_or_refused_when_strict() {
    let client = with_crd().await;
    let gvk = GroupVersionKind::gvk("core.calyptia.com", "v1", "Pipeline");
    let api: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &ApiResource::from_gvk(&gvk));
    let mut obj = DynamicObject::new("extra", &ApiResource::from_gvk(&gvk));
    obj.data = json!({"spec": {"image": "x:1", "bogus": true}});
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    // Pruned, and defaulted from the schema (`replicasCount` has `default: 0`) as Kubernetes does.
    assert_eq!(created.data["spec"], json!({"image": "x:1", "replicasCount": 0}));

    let body = json!({"apiVersion": "core.calyptia.com/v1", "kind": "Pipeline", "metadata": {"name": "strict"}, "spec": {"image": "x:1", "bogus": true}});
    let url = format!("{}?fieldValidation=Strict", Pipeline::url_path(&(), Some("default")));
    let req = http::Request::post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    let err = client.request_text(req).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!("{err:?}") };
    assert_eq!(s.code, 400);
    assert!(s.message.contains("strict decoding error: unknown field \"spec.bogus\""), "{}", s.message);
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let client = with_crd().await;
    let api: Api<Pipeline> = Api::default_namespaced(client);
    let pp = PostParams { dry_run: true, ..Default::default() };
    let answered = api.create(&pp, &pipeline("dry", "x:1")).await.unwrap();
    assert_eq!(answered.spec.image, "x:1");
    assert!(api.get_opt("dry").await.unwrap().is_none());
}

#[tokio::test]
async fn deleting_the_crd_removes_its_objects_and_its_type() {
    let client = with_crd().await;
    let api: Api<Pipeline> = Api::default_namespaced(client.clone());
    api.create(&PostParams::default(), &pipeline("logs", "x:1")).await.unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.delete("pipelines.core.calyptia.com", &Default::default()).await.unwrap();
    let err = api.list(&Default::default()).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!("{err:?}") };
    assert_eq!(s.code, 404);
}

#[tokio::test]
async fn a_crd_named_wrongly_is_invalid() {
    let client = Client::new(Emulator::new().router(), "default");
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    let mut crd = Pipeline::crd();
    crd.metadata.name = Some("wrong".into());
    let kube::Error::Api(s) = crds.create(&PostParams::default(), &crd).await.unwrap_err() else { panic!() };
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(s.message.contains("metadata.name"), "{}", s.message);
}
