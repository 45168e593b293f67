//! The HTTP routes: thin handlers over the [`Store`].

use crate::discovery;
use crate::error::ApiError;
use crate::resources::{self, ResourceType, NAMESPACES};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, Preconditions, Store};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

type Params = Query<HashMap<String, String>>;
type Shared = State<Arc<Store>>;

/// The API server's routes.
pub fn router(store: Arc<Store>) -> Router {
    let collection = get(collection_get).post(collection_post);
    let item = get(item_get).put(item_put).patch(item_patch).delete(item_delete);
    Router::new()
        .route("/version", get(|| async { Json(discovery::version()) }))
        .route("/api", get(|| async { Json(discovery::core_versions()) }))
        .route("/apis", get(|| async { Json(discovery::groups()) }))
        .route("/api/{version}", get(core_resources))
        .route("/api/v1/namespaces", get(namespaces_get).post(namespaces_post))
        .route(
            "/api/v1/namespaces/{name}",
            get(namespace_get).put(namespace_put).patch(namespace_patch).delete(namespace_delete),
        )
        .route("/api/v1/{plural}", get(all_namespaces_get))
        .route("/api/v1/namespaces/{ns}/{plural}", collection)
        .route("/api/v1/namespaces/{ns}/{plural}/{name}", item)
        .fallback(|| async { ApiError::no_such_path() })
        .with_state(store)
}

async fn core_resources(Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    discovery::resources("", &version).map(Json).ok_or_else(ApiError::no_such_path)
}

fn resource(plural: &str) -> Result<&'static ResourceType, ApiError> {
    resources::find("", "v1", plural).ok_or_else(ApiError::no_such_path)
}

fn namespaced(plural: &str) -> Result<&'static ResourceType, ApiError> {
    let rt = resource(plural)?;
    if rt.namespaced {
        Ok(rt)
    } else {
        Err(ApiError::no_such_path())
    }
}

/// The JSON body of a create or replace. Protobuf (which kubectl tries first for built-in types)
/// is refused with 415, upon which clients fall back to JSON, as with a server that does not
/// speak protobuf.
fn json_request(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime != "application/json" && mime != "*/*" && !mime.is_empty() {
        return Err(ApiError::unsupported_media_type(mime));
    }
    body_json(body)
}

fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

// ---- namespaces (cluster-scoped) ----

async fn namespaces_get(State(s): Shared, Query(q): Params) -> Result<Response, ApiError> {
    list_or_watch(s, &NAMESPACES, None, q).await
}

async fn namespaces_post(State(s): Shared, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let obj = s.create(&NAMESPACES, None, json_request(&headers, &body)?)?;
    Ok((StatusCode::CREATED, Json(obj)).into_response())
}

async fn namespace_get(State(s): Shared, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.get(&NAMESPACES, None, &name)?))
}

async fn namespace_put(
    State(s): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.update(&NAMESPACES, None, &name, json_request(&headers, &body)?)?))
}

async fn namespace_patch(
    State(s): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    patch(&s, &NAMESPACES, None, &name, &headers, &body).map(Json)
}

async fn namespace_delete(State(s): Shared, Path(name): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    delete(&s, &NAMESPACES, None, &name, &body)
}

// ---- namespaced types ----

async fn all_namespaces_get(
    State(s): Shared,
    Path(plural): Path<String>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    let rt = namespaced(&plural)?;
    list_or_watch(s, rt, None, q).await
}

async fn collection_get(
    State(s): Shared,
    Path((ns, plural)): Path<(String, String)>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    let rt = namespaced(&plural)?;
    list_or_watch(s, rt, Some(ns), q).await
}

async fn collection_post(
    State(s): Shared,
    Path((ns, plural)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rt = namespaced(&plural)?;
    let obj = s.create(rt, Some(&ns), json_request(&headers, &body)?)?;
    Ok((StatusCode::CREATED, Json(obj)).into_response())
}

async fn item_get(
    State(s): Shared,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let rt = namespaced(&plural)?;
    Ok(Json(s.get(rt, Some(&ns), &name)?))
}

async fn item_put(
    State(s): Shared,
    Path((ns, plural, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let rt = namespaced(&plural)?;
    Ok(Json(s.update(rt, Some(&ns), &name, json_request(&headers, &body)?)?))
}

async fn item_patch(
    State(s): Shared,
    Path((ns, plural, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let rt = namespaced(&plural)?;
    patch(&s, rt, Some(&ns), &name, &headers, &body).map(Json)
}

async fn item_delete(
    State(s): Shared,
    Path((ns, plural, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rt = namespaced(&plural)?;
    delete(&s, rt, Some(&ns), &name, &body)
}

// ---- shared verbs ----

/// Applies a JSON patch or a merge patch to the stored object and writes the result.
fn patch(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let mut obj = s.get(rt, ns, name)?;
    let patch = body_json(body)?;
    match mime {
        "application/json-patch+json" => {
            let ops: json_patch::Patch =
                serde_json::from_value(patch).map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut obj, &ops)
                .map_err(|e| ApiError::bad_request(format!("the JSON patch could not be applied: {e}")))?;
        }
        // Strategic merge is merge patch with list merge keys; the types served so far have no
        // keyed lists that clients patch, so merge semantics are what they get.
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            json_patch::merge(&mut obj, &patch)
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    s.update(rt, ns, name, obj)
}

fn delete(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let options = if body.is_empty() { Value::Null } else { body_json(body)? };
    let pre = Preconditions {
        uid: options.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned),
        resource_version: options.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_owned),
    };
    let gone = s.delete(rt, ns, name, &pre)?;
    // Kubernetes answers a finished delete with a Status, and one that is still under way
    // (graceful pods, namespaces) with the object.
    if std::ptr::eq(rt, &resources::PODS) || std::ptr::eq(rt, &NAMESPACES) {
        return Ok(Json(gone).into_response());
    }
    let mut details = json!({"name": name, "kind": rt.plural});
    if let Some(uid) = gone.pointer("/metadata/uid") {
        details["uid"] = uid.clone();
    }
    Ok(Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}))
        .into_response())
}

fn truthy(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

async fn list_or_watch(
    s: Arc<Store>,
    rt: &'static ResourceType,
    ns: Option<String>,
    q: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str), &[])?;
    if truthy(&q, "watch") {
        return watch(s, rt, ns, q, labels, fields);
    }
    let (mut items, rv) = s.list(rt, ns.as_deref(), &labels, &fields);
    // Paging: the continue token is the position after the last item returned.
    if let Some(token) = q.get("continue").filter(|t| !t.is_empty()) {
        let start: usize = token.parse().map_err(|_| ApiError::bad_request("invalid continue token"))?;
        items = items.into_iter().skip(start).collect();
    }
    let offset: usize = q.get("continue").and_then(|t| t.parse().ok()).unwrap_or(0);
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0) {
        if items.len() > limit {
            let remaining = items.len() - limit;
            items.truncate(limit);
            metadata["continue"] = json!((offset + limit).to_string());
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    Ok(Json(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": metadata,
        "items": items,
    }))
    .into_response())
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn watch(
    s: Arc<Store>,
    rt: &'static ResourceType,
    ns: Option<String>,
    q: HashMap<String, String>,
    labels: LabelSelector,
    fields: FieldSelector,
) -> Result<Response, ApiError> {
    let from = q.get("resourceVersion").filter(|v| !v.is_empty() && *v != "0");
    // Without a resource version a watch starts with the current objects, as Kubernetes does.
    let (initial, rv) = match from {
        Some(v) => (
            Vec::new(),
            v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version {v:?}")))?,
        ),
        None => s.list(rt, ns.as_deref(), &labels, &fields),
    };
    let (backlog, mut live) = s.watch_from(rv)?;
    let bookmarks = truthy(&q, "allowWatchBookmarks");
    let timeout = q.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).map(Duration::from_secs);
    let relevant = move |c: &Change| {
        std::ptr::eq(c.resource, rt)
            && ns.as_deref().is_none_or(|n| c.object.pointer("/metadata/namespace").and_then(Value::as_str) == Some(n))
            && labels.matches(&c.object)
            && fields.matches(&c.object)
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut last_rv = rv;
        for obj in initial {
            if tx.send(Ok(event_line("ADDED", &obj))).await.is_err() {
                return;
            }
        }
        for c in backlog.iter().filter(|c| relevant(c)) {
            last_rv = c.rv;
            if tx.send(Ok(event_line(c.kind.as_str(), &c.object))).await.is_err() {
                return;
            }
        }
        let seen = backlog.last().map_or(rv, |c| c.rv);
        loop {
            let tick = tokio::time::sleep(Duration::from_secs(5));
            let until_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let line = tokio::select! {
                _ = until_deadline => return,
                _ = tick, if bookmarks => {
                    let bookmark = json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": {"resourceVersion": s.resource_version().to_string()}});
                    event_line("BOOKMARK", &bookmark)
                }
                _ = tx.closed() => return,
                msg = live.recv() => match msg {
                    Ok(c) if c.rv <= seen || !relevant(&c) => continue,
                    Ok(c) => {
                        last_rv = c.rv;
                        event_line(c.kind.as_str(), &c.object)
                    }
                    Err(RecvError::Lagged(_)) => {
                        let _ = tx.send(Ok(event_line("ERROR", &ApiError::expired(last_rv, s.resource_version()).status()))).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
            };
            if tx.send(Ok(line)).await.is_err() {
                return;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response())
}
