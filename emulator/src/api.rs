//! The HTTP routes: one dispatcher that resolves a Kubernetes API path to a resource type and
//! verb, and thin handlers over the [`Store`].

use crate::discovery;
use crate::error::ApiError;
use crate::resources::{ResourceType, NAMESPACES, PODS};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, FieldValidation, Preconditions, Store, WriteOptions, Written};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
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
    Router::new()
        .route("/version", get(|| async { Json(discovery::version()) }))
        .route("/api", get(|| async { Json(discovery::core_versions()) }))
        .route("/apis", get(|State(s): Shared| async move { Json(discovery::groups(&s.registry.all())) }))
        .route("/openapi/v3", get(|State(s): Shared| async move { Json(crate::openapi::root(&s.registry.all())) }))
        .route("/openapi/v3/{*gv}", get(openapi_gv))
        .route("/api/{version}", get(core_discovery))
        .route("/apis/{group}/{version}", get(group_discovery))
        .route("/api/{version}/{*rest}", any(core_dispatch))
        .route("/apis/{group}/{version}/{*rest}", any(group_dispatch))
        .fallback(|| async { ApiError::no_such_path() })
        .with_state(store)
}

async fn openapi_gv(State(s): Shared, Path(gv): Path<String>) -> Result<Json<Value>, ApiError> {
    crate::openapi::group_version(&s.registry.all(), &gv).map(Json).ok_or_else(ApiError::no_such_path)
}

async fn core_discovery(State(s): Shared, Path(version): Path<String>) -> Result<Json<Value>, ApiError> {
    discovery::resources(&s.registry.all(), "", &version).map(Json).ok_or_else(ApiError::no_such_path)
}

async fn group_discovery(
    State(s): Shared,
    Path((group, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    discovery::resources(&s.registry.all(), &group, &version).map(Json).ok_or_else(ApiError::no_such_path)
}

/// A request, resolved.
struct Target {
    rt: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

/// Resolves the path below `/api/{version}` or `/apis/{group}/{version}`.
fn resolve(s: &Store, group: &str, version: &str, rest: &str) -> Result<Target, ApiError> {
    let segs: Vec<&str> = rest.split('/').filter(|x| !x.is_empty()).collect();
    let find = |plural: &str| s.registry.find(group, version, plural);
    // `namespaces/{ns}/{plural}/...` when {plural} is a namespaced type; otherwise a
    // cluster-scoped path (which includes `namespaces/{name}` itself).
    if let ["namespaces", ns, plural, more @ ..] = segs.as_slice() {
        if let Some(rt) = find(plural).filter(|rt| rt.namespaced) {
            if more.len() <= 2 {
                return Ok(Target {
                    rt,
                    namespace: Some((*ns).to_owned()),
                    name: more.first().map(|x| (*x).to_owned()),
                    subresource: more.get(1).map(|x| (*x).to_owned()),
                });
            }
        }
    }
    match segs.as_slice() {
        [plural, more @ ..] if more.len() <= 2 => {
            let rt = find(plural).ok_or_else(ApiError::no_such_path)?;
            if rt.namespaced && !more.is_empty() {
                return Err(ApiError::no_such_path());
            }
            Ok(Target {
                rt,
                namespace: None,
                name: more.first().map(|x| (*x).to_owned()),
                subresource: more.get(1).map(|x| (*x).to_owned()),
            })
        }
        _ => Err(ApiError::no_such_path()),
    }
}

async fn core_dispatch(
    State(s): Shared,
    Path((version, rest)): Path<(String, String)>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = resolve(&s, "", &version, &rest)?;
    dispatch(s, target, method, q, headers, body).await
}

async fn group_dispatch(
    State(s): Shared,
    Path((group, version, rest)): Path<(String, String, String)>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = resolve(&s, &group, &version, &rest)?;
    dispatch(s, target, method, q, headers, body).await
}

fn write_options(q: &HashMap<String, String>) -> Result<WriteOptions, ApiError> {
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported dry run value {other:?}: only \"All\" is supported"
            )))
        }
    };
    let field_validation = match q.get("fieldValidation").map(String::as_str) {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Ignore") => FieldValidation::Ignore,
        Some("Strict") => FieldValidation::Strict,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got {other:?}"
            )))
        }
    };
    Ok(WriteOptions { dry_run, field_validation })
}

fn written(code: StatusCode, w: Written) -> Response {
    let mut resp = (code, Json(w.object)).into_response();
    for warning in w.warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{}\"", warning.replace('"', "\\\""))) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

async fn dispatch(
    s: Arc<Store>,
    t: Target,
    method: Method,
    q: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rt = t.rt;
    let ns = t.namespace.as_deref();
    let status = match t.subresource.as_deref() {
        None => false,
        Some("status") if rt.status_subresource => true,
        Some(_) => return Err(ApiError::no_such_path()),
    };
    match (method, t.name.as_deref()) {
        (Method::GET, None) => list_or_watch(s, rt, t.namespace, q).await,
        (Method::POST, None) => {
            let opts = write_options(&q)?;
            let w = s.create(rt, ns, json_request(&headers, &body)?, &opts)?;
            Ok(written(StatusCode::CREATED, w))
        }
        (Method::GET, Some(name)) => Ok(Json(s.get(rt, ns, name)?).into_response()),
        (Method::PUT, Some(name)) => {
            let opts = write_options(&q)?;
            Ok(written(StatusCode::OK, s.update(rt, ns, name, json_request(&headers, &body)?, status, &opts)?))
        }
        (Method::PATCH, Some(name)) => {
            let opts = write_options(&q)?;
            let patched = patch(&s, rt, ns, name, &headers, &body)?;
            Ok(written(StatusCode::OK, s.update(rt, ns, name, patched, status, &opts)?))
        }
        (Method::DELETE, Some(name)) if !status => {
            let opts = write_options(&q)?;
            delete(&s, rt, ns, name, &body, &opts)
        }
        (m, _) => Err(ApiError::method_not_allowed(m.as_str(), rt)),
    }
}

/// The JSON body of a create or replace. Protobuf (which kubectl tries first for built-in types)
/// is refused with 415.
fn json_request(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let mime = media_type(headers).unwrap_or("application/json");
    if mime != "application/json" && mime != "*/*" && !mime.is_empty() {
        return Err(ApiError::unsupported_media_type(mime));
    }
    body_json(body)
}

/// The request's media type without parameters (`application/json; charset=utf-8` →
/// `application/json`).
fn media_type(headers: &HeaderMap) -> Option<&str> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(content_type.split(';').next().unwrap_or("").trim())
}

fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// The stored object with a JSON patch or a merge patch applied (not yet written).
fn patch(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, ApiError> {
    let mime = media_type(headers).unwrap_or("");
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
    Ok(obj)
}

fn delete(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    body: &Bytes,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let options = if body.is_empty() { Value::Null } else { body_json(body)? };
    let pre = Preconditions {
        uid: options.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned),
        resource_version: options.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_owned),
    };
    let gone = s.delete(rt, ns, name, &pre, opts)?;
    // Kubernetes answers a finished delete with a Status, and one that is still under way
    // (graceful pods, namespaces) with the object.
    if std::ptr::eq(rt, &PODS) || std::ptr::eq(rt, &NAMESPACES) {
        return Ok(Json(gone).into_response());
    }
    let mut details = json!({"name": name, "kind": rt.plural});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
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
    let (items, rv) = s.list(rt, ns.as_deref(), &labels, &fields);
    // Paging: the continue token is the position after the last item returned.
    let offset: usize = match q.get("continue").filter(|t| !t.is_empty()) {
        Some(token) => token.parse().map_err(|_| ApiError::bad_request("invalid continue token"))?,
        None => 0,
    };
    let mut items: Vec<Value> = items.into_iter().skip(offset).collect();
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
        "kind": rt.list_kind,
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
        c.resource.group == rt.group
            && c.resource.plural == rt.plural
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
