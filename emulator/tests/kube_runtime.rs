//! kube-rs' runtime, unmodified, against the emulator: watchers recovering from 410 Gone,
//! reflectors, a Controller that owns what it creates, and every patch type.

use emulator::Emulator;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "demo"}}, "data": {"v": value}}))
        .expect("configmap")
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_watcher_recovers_from_410_gone_by_listing_again() {
    // A history of 8 changes: a watcher that falls behind by more gets 410 Gone.
    let client = Client::new(Emulator::with_history(8).router(), "default");
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    api.create(&PostParams::default(), &cm("counter", "0")).await.expect("create");
    let store = reflector::store::Writer::<ConfigMap>::default();
    let reader = store.as_reader();
    let stream = reflector::reflector(store, watcher(api.clone(), watcher::Config::default().any_semantic()))
        .applied_objects()
        .boxed();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let mut stream = stream;
    // Read the first event, then stop reading while 100 changes happen.
    let first = stream.next().await.expect("an event").expect("no error");
    assert_eq!(first.data.as_ref().and_then(|d| d.get("v")).map(String::as_str), Some("0"));
    for i in 1..=100 {
        let patch = json!({"data": {"v": i.to_string()}});
        api.patch("counter", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
    }
    let consumer = tokio::spawn(async move {
        while let Some(ev) = stream.next().await {
            if let Ok(obj) = ev {
                seen2.lock().expect("lock").push(obj.data.and_then(|d| d.get("v").cloned()).unwrap_or_default());
            }
        }
    });
    eventually("the reflector to hold the last value", || {
        let reader = reader.clone();
        async move {
            reader
                .get(&reflector::ObjectRef::new("counter").within("default"))
                .and_then(|o| o.data.clone())
                .and_then(|d| d.get("v").cloned())
                .as_deref()
                == Some("100")
        }
    })
    .await;
    consumer.abort();
    // It did not see every change (they expired), but it caught up.
    assert!(seen.lock().expect("lock").len() < 100);
}

#[tokio::test]
async fn bookmarks_arrive_on_a_quiet_watch() {
    let client = Client::new(Emulator::new().router(), "default");
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let list = api.list(&ListParams::default()).await.expect("list");
    let rv = list.metadata.resource_version.unwrap_or_default();
    let wp = kube::api::WatchParams::default().timeout(10);
    let mut events = api.watch(&wp, &rv).await.expect("watch").boxed();
    let ev = tokio::time::timeout(Duration::from_secs(8), events.next()).await.expect("a bookmark within 8 s");
    assert!(matches!(ev, Some(Ok(kube::api::WatchEvent::Bookmark(_)))), "{ev:?}");
}

/// A controller that keeps, for each ConfigMap labelled `app=demo`, a copy named `NAME-copy`
/// owned by it.
async fn reconcile(obj: Arc<ConfigMap>, api: Arc<Api<ConfigMap>>) -> Result<Action, kube::Error> {
    if obj.name_any().ends_with("-copy") {
        return Ok(Action::await_change());
    }
    let owner = obj.controller_owner_ref(&()).expect("owner reference");
    let copy: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": format!("{}-copy", obj.name_any()), "ownerReferences": [owner]},
        "data": obj.data,
    }))
    .expect("copy");
    let pp = PatchParams::apply("copier").force();
    api.patch(&format!("{}-copy", obj.name_any()), &pp, &Patch::Apply(&copy)).await?;
    Ok(Action::await_change())
}

#[tokio::test]
async fn a_controller_runs_unmodified_and_what_it_owns_is_collected() {
    let client = Client::new(Emulator::new().router(), "default");
    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let ctx = Arc::new(api.clone());
    let controller = Controller::new(api.clone(), watcher::Config::default().labels("app=demo"))
        .owns(api.clone(), watcher::Config::default())
        .run(reconcile, |_, _: &kube::Error, _| Action::requeue(Duration::from_secs(1)), ctx)
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);
    api.create(&PostParams::default(), &cm("settings", "a")).await.expect("create");
    eventually("the copy", || async { api.get_opt("settings-copy").await.ok().flatten().is_some() }).await;
    // A change reaches the copy.
    api.patch("settings", &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "b"}}))).await.expect("patch");
    eventually("the changed copy", || async {
        api.get_opt("settings-copy")
            .await
            .ok()
            .flatten()
            .and_then(|c| c.data)
            .and_then(|d| d.get("v").cloned())
            .as_deref()
            == Some("b")
    })
    .await;
    let copy = api.get("settings-copy").await.expect("copy");
    let managers: Vec<String> =
        copy.metadata.managed_fields.unwrap_or_default().into_iter().filter_map(|m| m.manager).collect();
    assert_eq!(managers, vec!["copier"]);
    // Deleting the owner collects the copy.
    api.delete("settings", &DeleteParams::default()).await.expect("delete");
    eventually("the copy to be collected", || async { api.get_opt("settings-copy").await.ok().flatten().is_none() })
        .await;
    handle.abort();
}

#[tokio::test]
async fn every_patch_type_and_apply_conflicts() {
    let client = Client::new(Emulator::new().router(), "default");
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}
    }))
    .expect("deployment");
    let applied =
        deployments.patch("web", &PatchParams::apply("team-a"), &Patch::Apply(&d)).await.expect("apply creates");
    assert_eq!(applied.metadata.generation, Some(1));
    // Strategic merge adds a container by name.
    let sidecar = json!({"spec": {"template": {"spec": {"containers": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0"}]}}}});
    let patched =
        deployments.patch("web", &PatchParams::default(), &Patch::Strategic(&sidecar)).await.expect("strategic");
    let names: Vec<String> = patched
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers.into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["nginx", "envoy"]);
    // JSON patch and merge patch.
    let ops: json_patch::Patch =
        serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])).expect("ops");
    deployments.patch("web", &PatchParams::default(), &Patch::<()>::Json(ops)).await.expect("json patch");
    // The replicas now belong to the JSON patch's manager: team-a applying 1 again conflicts.
    let err = deployments.patch("web", &PatchParams::apply("team-a"), &Patch::Apply(&d)).await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(s.message.starts_with("Apply failed with 1 conflict: conflict with"), "{}", s.message);
            assert!(s.message.ends_with(".spec.replicas"), "{}", s.message);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let forced =
        deployments.patch("web", &PatchParams::apply("team-a").force(), &Patch::Apply(&d)).await.expect("forced");
    assert_eq!(forced.spec.and_then(|s| s.replicas), Some(1));
    // Apply without a field manager is refused, as by Kubernetes.
    let pods: Api<Pod> = Api::default_namespaced(client);
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    let pp = PatchParams { field_manager: None, ..Default::default() };
    let err = pods.patch("p", &pp, &Patch::Apply(&pod)).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("fieldManager: Required value")),
        "{err:?}"
    );
}
