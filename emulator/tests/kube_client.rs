//! kube-rs, unmodified, against the emulator in-process.

use emulator::Emulator;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::collections::BTreeMap;

fn client() -> Client {
    Client::new(Emulator::new().router(), "default")
}

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "demo"}},
        "data": data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
    }))
    .unwrap()
}

#[tokio::test]
async fn create_get_list_replace_delete() {
    let api: Api<ConfigMap> = Api::default_namespaced(client());
    let created = api.create(&PostParams::default(), &cm("a", &[("k", "v")])).await.unwrap();
    let rv1 = created.metadata.resource_version.clone().unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));

    let got = api.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "v");

    api.create(&PostParams::default(), &cm("b", &[])).await.unwrap();
    let list = api.list(&ListParams::default().labels("app=demo")).await.unwrap();
    assert_eq!(list.items.len(), 2);
    let list = api.list(&ListParams::default().fields("metadata.name=b")).await.unwrap();
    assert_eq!(list.items.len(), 1);

    let mut changed = api.get("a").await.unwrap();
    changed.data = Some(BTreeMap::from([("k".to_string(), "v2".to_string())]));
    let replaced = api.replace("a", &PostParams::default(), &changed).await.unwrap();
    assert_ne!(replaced.metadata.resource_version.as_deref(), Some(rv1.as_str()));

    api.delete("a", &DeleteParams::default()).await.unwrap();
    let err = api.get("a").await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.reason, "NotFound");
            assert_eq!(s.message, "configmaps \"a\" not found");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn stale_resource_version_conflicts_with_kubernetes_message() {
    let api: Api<ConfigMap> = Api::default_namespaced(client());
    let first = api.create(&PostParams::default(), &cm("c", &[("k", "1")])).await.unwrap();
    let mut newer = first.clone();
    newer.data = Some(BTreeMap::from([("k".to_string(), "2".to_string())]));
    api.replace("c", &PostParams::default(), &newer).await.unwrap();
    // `first` still carries the old resourceVersion.
    let err = api.replace("c", &PostParams::default(), &first).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!("not an API error") };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn create_twice_is_already_exists_and_unknown_namespace_is_not_found() {
    let c = client();
    let api: Api<ConfigMap> = Api::default_namespaced(c.clone());
    api.create(&PostParams::default(), &cm("d", &[])).await.unwrap();
    let kube::Error::Api(s) = api.create(&PostParams::default(), &cm("d", &[])).await.unwrap_err() else { panic!() };
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    let elsewhere: Api<ConfigMap> = Api::namespaced(c, "nowhere");
    let kube::Error::Api(s) = elsewhere.create(&PostParams::default(), &cm("d", &[])).await.unwrap_err() else {
        panic!()
    };
    assert_eq!((s.code, s.message.as_str()), (404, "namespaces \"nowhere\" not found"));
}

#[tokio::test]
async fn merge_and_json_patches() {
    let api: Api<ConfigMap> = Api::default_namespaced(client());
    api.create(&PostParams::default(), &cm("p", &[("a", "1")])).await.unwrap();
    let merged = api.patch("p", &PatchParams::default(), &Patch::Merge(json!({"data": {"b": "2"}}))).await.unwrap();
    assert_eq!(merged.data.as_ref().unwrap().len(), 2);
    let ops: json_patch::Patch = serde_json::from_value(json!([{"op": "remove", "path": "/data/a"}])).unwrap();
    let patched = api.patch("p", &PatchParams::default(), &Patch::<()>::Json(ops)).await.unwrap();
    assert_eq!(patched.data.unwrap().keys().collect::<Vec<_>>(), vec!["b"]);
}

#[tokio::test]
async fn namespaces_are_created_listed_and_deleted_with_their_contents() {
    let c = client();
    let nss: Api<Namespace> = Api::all(c.clone());
    let names: Vec<String> =
        nss.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|n| n.metadata.name).collect();
    assert!(names.contains(&"default".to_string()));
    nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "logging"}})).unwrap())
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "logging");
    cms.create(&PostParams::default(), &cm("x", &[])).await.unwrap();
    nss.delete("logging", &DeleteParams::default()).await.unwrap();
    assert!(cms.get_opt("x").await.unwrap().is_none());
}

#[tokio::test]
async fn watcher_sees_changes_made_by_others() {
    let c = client();
    let api: Api<ConfigMap> = Api::default_namespaced(c.clone());
    api.create(&PostParams::default(), &cm("before", &[])).await.unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let writer = api.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        writer.create(&PostParams::default(), &cm("after", &[])).await.unwrap();
        writer.delete("before", &DeleteParams::default()).await.unwrap();
    });
    let mut seen_init = false;
    let mut applied_after = false;
    let mut deleted_before = false;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(seen_init && applied_after && deleted_before) {
        let ev = tokio::time::timeout_at(deadline, events.try_next()).await.expect("events in time").unwrap().unwrap();
        match ev {
            watcher::Event::InitApply(o) => seen_init |= o.metadata.name.as_deref() == Some("before"),
            watcher::Event::Apply(o) => applied_after |= o.metadata.name.as_deref() == Some("after"),
            watcher::Event::Delete(o) => deleted_before |= o.metadata.name.as_deref() == Some("before"),
            _ => {}
        }
    }
}
