//! The HTTP routes: one dispatcher that resolves a Kubernetes API path to a resource type and
//! verb, and thin handlers over the [`Store`].

use crate::auth::{Authn, Identity};
use crate::discovery;
use crate::error::ApiError;
use crate::protobuf::{self, ProtobufError};
use crate::rbac::{self, Attributes};
use crate::resources::{
    is, ResourceType, Verbs, DEPLOYMENTS, EVENTS, EVENTS_V1, NAMESPACES, PODS, REPLICASETS, STATEFULSETS,
};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{
    Change, Deleted, FieldValidation, Preconditions, Propagation, Store, Stored, WriteOptions, Written,
};
use crate::table;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
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

/// The API server's routes, behind authentication and authorization.
pub fn router(store: Arc<Store>, authn: Arc<Authn>) -> Router {
    let gate = axum::middleware::from_fn_with_state((store.clone(), authn), crate::auth::gate);
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
        .layer(gate)
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

/// The verb of a resource request, as RBAC names it.
fn verb(method: &Method, t: &Target, q: &HashMap<String, String>) -> String {
    match (method, t.name.is_some()) {
        (&Method::GET, _) if truthy(q, "watch") => "watch".into(),
        (&Method::GET, true) => "get".into(),
        (&Method::GET, false) => "list".into(),
        (&Method::POST, _) => "create".into(),
        (&Method::PUT, _) => "update".into(),
        (&Method::PATCH, _) => "patch".into(),
        (&Method::DELETE, true) => "delete".into(),
        (&Method::DELETE, false) => "deletecollection".into(),
        (m, _) => m.as_str().to_ascii_lowercase(),
    }
}

/// 403 unless the caller may do what the request asks.
fn authorize(
    s: &Store,
    who: &Identity,
    t: &Target,
    method: &Method,
    q: &HashMap<String, String>,
) -> Result<(), ApiError> {
    if who.user.is_master() {
        return Ok(());
    }
    let name = t.name.as_deref().unwrap_or("");
    // A namespace is its own namespace, so a RoleBinding there can grant reading it.
    let namespace = match &t.namespace {
        Some(ns) => ns.as_str(),
        None if is(t.rt, &NAMESPACES) => name,
        None => "",
    };
    let attrs = Attributes::of(&verb(method, t, q), t.rt, t.subresource.as_deref().unwrap_or(""), name, namespace);
    if rbac::authorize(s, &who.user, &attrs).allowed {
        Ok(())
    } else {
        Err(rbac::forbidden(&who.user, &attrs))
    }
}

#[allow(clippy::too_many_arguments)]
async fn core_dispatch(
    State(s): Shared,
    Extension(who): Extension<Identity>,
    Path((version, rest)): Path<(String, String)>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = resolve(&s, "", &version, &rest)?;
    authorize(&s, &who, &target, &method, &q)?;
    dispatch(s, &who, target, method, q, headers, body).await
}

#[allow(clippy::too_many_arguments)]
async fn group_dispatch(
    State(s): Shared,
    Extension(who): Extension<Identity>,
    Path((group, version, rest)): Path<(String, String, String)>,
    method: Method,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let target = resolve(&s, &group, &version, &rest)?;
    let deprecation = target.rt.deprecation;
    let outcome = match authorize(&s, &who, &target, &method, &q) {
        Ok(()) => dispatch(s, &who, target, method, q, headers, body).await,
        Err(e) => Err(e),
    };
    let mut resp = match outcome {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    // The API server warns on every request to a deprecated version, whatever its outcome.
    if let Some(text) = deprecation {
        warn(&mut resp, text);
    }
    Ok(resp)
}

fn write_options(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
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
    // Without a fieldManager, Kubernetes names the writer after its user agent's first word.
    let field_manager = q.get("fieldManager").filter(|m| !m.is_empty()).cloned().or_else(|| {
        headers
            .get(header::USER_AGENT)
            .and_then(|u| u.to_str().ok())
            .map(|u| u.split('/').next().unwrap_or(u).to_owned())
            .filter(|u| !u.is_empty())
    });
    Ok(WriteOptions { dry_run, field_validation, field_manager, force: truthy(q, "force") })
}

fn written(code: StatusCode, w: Written, out: Convert) -> Response {
    let mut resp = (code, Json(out(&w.object))).into_response();
    for warning in &w.warnings {
        warn(&mut resp, warning);
    }
    resp
}

/// Adds a `Warning: 299 - "text"` header, as the API server sends its warnings.
fn warn(resp: &mut Response, text: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{}\"", text.replace('"', "\\\""))) {
        resp.headers_mut().append(header::WARNING, v);
    }
}

/// A conversion of an object between its stored form and the form of the requested version.
type Convert = fn(&Value) -> Value;

fn same(v: &Value) -> Value {
    v.clone()
}

/// Whether a stored object can be served as it is for `view`: no conversion, same version.
fn as_stored(view: &ResourceType, stored: &Stored) -> bool {
    !is(view, &EVENTS_V1) && stored.view.get("apiVersion").and_then(Value::as_str) == Some(view.api_version().as_str())
}

/// An object with the `apiVersion` of the requested version (one stored object serves every
/// version of a custom type).
fn in_version(view: &ResourceType, mut obj: Value) -> Value {
    obj["apiVersion"] = json!(view.api_version());
    obj
}

/// Where a type's objects are stored, and how they convert to and from it: events.k8s.io/v1
/// Events are core/v1 Events.
fn storage_of(rt: &'static ResourceType) -> (&'static ResourceType, Convert, Convert) {
    if is(rt, &EVENTS_V1) {
        (&EVENTS, crate::events::to_v1, crate::events::to_core)
    } else {
        (rt, same, same)
    }
}

async fn dispatch(
    s: Arc<Store>,
    who: &Identity,
    t: Target,
    method: Method,
    q: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if t.rt.verbs == Verbs::CreateOnly {
        return match (&method, &t.name) {
            (&Method::POST, None) => review(&s, t.rt, who, &headers, &body),
            _ => Err(ApiError::method_not_allowed(method.as_str(), t.rt)),
        };
    }
    let (rt, out, into) = storage_of(t.rt);
    let ns = t.namespace.as_deref();
    let status = match t.subresource.as_deref() {
        None => false,
        Some("status") if rt.status_subresource => true,
        Some("scale") if is(rt, &DEPLOYMENTS) || is(rt, &REPLICASETS) || is(rt, &STATEFULSETS) => {
            return scale(&s, rt, ns, t.name.as_deref().unwrap_or(""), method, &q, &headers, &body)
        }
        Some("log") if is(rt, &PODS) && method == Method::GET => {
            return crate::logs_api::pod_log(&s, ns.unwrap_or("default"), t.name.as_deref().unwrap_or(""), &q)
        }
        Some(_) => return Err(ApiError::no_such_path()),
    };
    let table = table::wanted(headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or(""))
        .then(|| table::Include::parse(q.get("includeObject").map(String::as_str)));
    match (method, t.name.as_deref()) {
        (Method::GET, None) => list_or_watch(s, t.rt, t.namespace, q, table).await,
        (Method::POST, None) => {
            let opts = write_options(&q, &headers)?;
            let w = s.create(rt, ns, into(&request_body(&headers, &body)?), &opts)?;
            Ok(written(StatusCode::CREATED, w, out))
        }
        (Method::GET, Some(name)) => {
            let stored = s.get_stored(rt, ns, name)?;
            Ok(match table {
                Some(include) => Json(table::table(t.rt, &[out(&stored.value())], json!({}), include)).into_response(),
                // The stored text as it is, when it is in the requested shape.
                None if as_stored(t.rt, &stored) => {
                    ([(header::CONTENT_TYPE, "application/json")], stored.json.clone()).into_response()
                }
                None => Json(in_version(t.rt, out(&stored.value()))).into_response(),
            })
        }
        (Method::PUT, Some(name)) => {
            let opts = write_options(&q, &headers)?;
            let obj = into(&request_body(&headers, &body)?);
            Ok(written(StatusCode::OK, s.update(rt, ns, name, obj, status, &opts)?, out))
        }
        (Method::PATCH, Some(name)) => {
            let opts = write_options(&q, &headers)?;
            if media_type(&headers) == Some("application/apply-patch+yaml") {
                let config = into(&body_json(&body)?);
                let (w, created) = s.apply(rt, ns, name, config, status, &opts)?;
                let code = if created { StatusCode::CREATED } else { StatusCode::OK };
                return Ok(written(code, w, out));
            }
            let patched = into(&patch(&s, rt, ns, name, &headers, &body, out)?);
            Ok(written(StatusCode::OK, s.update(rt, ns, name, patched, status, &opts)?, out))
        }
        (Method::DELETE, Some(name)) if !status => {
            let (opts, propagation, pre) = delete_options(&q, &headers, &body)?;
            let deleted = s.delete(rt, ns, name, &pre, &opts, propagation)?;
            Ok(delete_response(rt, name, deleted, out))
        }
        (Method::DELETE, None) => {
            let (opts, propagation, pre) = delete_options(&q, &headers, &body)?;
            let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?;
            let fields = FieldSelector::parse(
                q.get("fieldSelector").map_or("", String::as_str),
                crate::resources::field_labels(rt),
            )?;
            let (items, _) = s.list(rt, ns, &labels, &fields);
            let mut gone = Vec::new();
            for item in items {
                let name = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                let ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
                match s.delete(rt, ns, name, &pre, &opts, propagation) {
                    Ok(Deleted::Gone(v) | Deleted::Pending(v)) => gone.push(out(&v)),
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(Json(json!({"kind": t.rt.list_kind, "apiVersion": t.rt.api_version(), "metadata": {}, "items": gone}))
                .into_response())
        }
        (m, _) => Err(ApiError::method_not_allowed(m.as_str(), rt)),
    }
}

/// The `autoscaling/v1` Scale of a workload.
fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let mut selector: Vec<String> = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    selector.sort();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector.join(",")},
    })
}

/// `GET`, `PUT` and `PATCH` of a workload's `scale` subresource (`kubectl scale`).
#[allow(clippy::too_many_arguments)]
fn scale(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    method: Method,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let current = scale_of(&s.get(rt, ns, name)?);
    let wanted = match method {
        Method::GET => return Ok(Json(current).into_response()),
        Method::PUT => body_json(body)?,
        Method::PATCH => {
            let mut obj = current.clone();
            apply_patch(&mut obj, media_type(headers).unwrap_or(""), body, true)?;
            obj
        }
        m => return Err(ApiError::method_not_allowed(m.as_str(), rt)),
    };
    let replicas = wanted.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::invalid(
            rt,
            name,
            vec![(
                "spec.replicas".into(),
                "FieldValueInvalid",
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let rv = wanted.pointer("/metadata/resourceVersion").and_then(Value::as_str);
    let w = s.update_scale(rt, ns, name, replicas, rv, &write_options(q, headers)?)?;
    Ok(Json(scale_of(&w.object)).into_response())
}

/// A review (access, rules, token, self-subject): answered, never stored.
fn review(
    s: &Store,
    rt: &'static ResourceType,
    who: &Identity,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let obj = request_body(headers, body)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body of the request must be a JSON object"));
    }
    Ok((StatusCode::CREATED, Json(crate::reviews::answer(s, rt, who, obj)?)).into_response())
}

/// The object of a create or replace: JSON, or protobuf for the kinds kubectl's imperative
/// commands send that way.
fn request_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    match media_type(headers).unwrap_or("application/json") {
        "application/json" | "*/*" | "" => body_json(body),
        protobuf::MEDIA_TYPE => protobuf::decode(body).map_err(|e| match e {
            // Named, so that the client knows what to send as JSON instead.
            unread @ ProtobufError::Kind(_) => {
                let mut e = ApiError::unsupported_media_type(protobuf::MEDIA_TYPE);
                e.message = format!("{}: {unread}", e.message);
                e
            }
            other => ApiError::bad_request(format!("the request body could not be decoded: {other}")),
        }),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// The request's media type without parameters (`application/json; charset=utf-8` →
/// `application/json`).
fn media_type(headers: &HeaderMap) -> Option<&str> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(content_type.split(';').next().unwrap_or("").trim())
}

fn body_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// The stored object with a JSON patch, merge patch or strategic merge patch applied (not yet
/// written), in the requested version's shape.
fn patch(
    s: &Store,
    rt: &'static ResourceType,
    ns: Option<&str>,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
    out: Convert,
) -> Result<Value, ApiError> {
    let mut obj = out(&s.get(rt, ns, name)?);
    // Custom types have no merge keys in Go types, so Kubernetes refuses strategic merge.
    let strategic = rt.schema.is_none();
    apply_patch(&mut obj, media_type(headers).unwrap_or(""), body, strategic)?;
    Ok(obj)
}

/// Applies a JSON patch, merge patch or (where `strategic`: a built-in type, whose merge keys
/// are known) strategic merge patch of media type `mime` to `obj`, or says why not as the API
/// server would.
pub fn apply_patch(obj: &mut Value, mime: &str, body: &[u8], strategic: bool) -> Result<(), ApiError> {
    let patch = body_json(body)?;
    match mime {
        "application/json-patch+json" => {
            let ops: json_patch::Patch =
                serde_json::from_value(patch).map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(obj, &ops)
                .map_err(|e| ApiError::unprocessable(format!("the JSON patch could not be applied: {e}")))?;
        }
        "application/merge-patch+json" => json_patch::merge(obj, &patch),
        "application/strategic-merge-patch+json" if !strategic => return Err(ApiError::new_unsupported_patch(mime)),
        "application/strategic-merge-patch+json" => crate::merge::strategic_merge(obj, &patch, &crate::merge::Builtin)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    Ok(())
}

/// `DeleteOptions` from the body and the query: dry run, propagation, preconditions.
fn delete_options(
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(WriteOptions, Propagation, Preconditions), ApiError> {
    let mut opts = write_options(q, headers)?;
    let options = if body.is_empty() { Value::Null } else { body_json(body)? };
    if options.get("dryRun").and_then(Value::as_array).is_some_and(|d| d.iter().any(|x| x == "All")) {
        opts.dry_run = true;
    }
    let policy = q
        .get("propagationPolicy")
        .map(String::as_str)
        .or_else(|| options.get("propagationPolicy").and_then(Value::as_str));
    let propagation = match policy {
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some("Background") => Propagation::Background,
        None if options.get("orphanDependents") == Some(&json!(true)) || truthy(q, "orphanDependents") => {
            Propagation::Orphan
        }
        None => Propagation::Background,
        Some(other) => {
            return Err(ApiError::invalid_options(
                "DeleteOptions.meta.k8s.io",
                "propagationPolicy",
                &format!(
                "Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            ),
            ))
        }
    };
    let pre = Preconditions {
        uid: options.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned),
        resource_version: options.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_owned),
    };
    Ok((opts, propagation, pre))
}

fn delete_response(rt: &'static ResourceType, name: &str, deleted: Deleted, out: Convert) -> Response {
    let gone = match deleted {
        // Still there, waiting for finalizers: the object, as Kubernetes answers.
        Deleted::Pending(obj) => return Json(out(&obj)).into_response(),
        Deleted::Gone(obj) => obj,
    };
    // Kubernetes answers a finished delete with a Status, except for types whose deletion is
    // usually graceful (pods, namespaces), which answer with the object.
    if is(rt, &PODS) || is(rt, &NAMESPACES) {
        return Json(out(&gone)).into_response();
    }
    let mut details = json!({"name": name, "kind": rt.plural});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    if let Some(uid) = gone.pointer("/metadata/uid") {
        details["uid"] = uid.clone();
    }
    Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}))
        .into_response()
}

fn truthy(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

/// Lists or watches `view` (the requested type; its objects may be stored as another's).
async fn list_or_watch(
    s: Arc<Store>,
    view: &'static ResourceType,
    ns: Option<String>,
    q: HashMap<String, String>,
    table: Option<table::Include>,
) -> Result<Response, ApiError> {
    let (rt, out, _) = storage_of(view);
    let labels = LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?;
    let fields =
        FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str), crate::resources::field_labels(rt))?;
    if truthy(&q, "watch") {
        return watch(s, view, ns, q, labels, fields, table);
    }
    let (items, rv) = s.list_stored(rt, ns.as_deref(), &labels, &fields);
    // Paging: the continue token is the position after the last item returned.
    let offset: usize = match q.get("continue").filter(|t| !t.is_empty()) {
        Some(token) => token.parse().map_err(|_| ApiError::bad_request("invalid continue token"))?,
        None => 0,
    };
    let mut items: Vec<Arc<Stored>> = items.into_iter().skip(offset).collect();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0) {
        if items.len() > limit {
            let remaining = items.len() - limit;
            items.truncate(limit);
            metadata["continue"] = json!((offset + limit).to_string());
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if let Some(include) = table {
        let items: Vec<Value> = items.iter().map(|i| in_version(view, out(&i.value()))).collect();
        return Ok(Json(table::table(view, &items, metadata, include)).into_response());
    }
    // The list is written around the stored texts, which are not parsed again.
    let head = json!({"kind": view.list_kind, "apiVersion": view.api_version(), "metadata": metadata});
    let head = serde_json::to_vec(&head).unwrap_or_default();
    let mut body = Vec::with_capacity(head.len() + items.iter().map(|i| i.json.len() + 1).sum::<usize>() + 16);
    body.extend_from_slice(&head[..head.len() - 1]);
    body.extend_from_slice(b",\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        if as_stored(view, item) {
            body.extend_from_slice(&item.json);
        } else {
            body.extend(serde_json::to_vec(&in_version(view, out(&item.value()))).unwrap_or_default());
        }
    }
    body.extend_from_slice(b"]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

fn watch(
    s: Arc<Store>,
    view: &'static ResourceType,
    ns: Option<String>,
    q: HashMap<String, String>,
    labels: LabelSelector,
    fields: FieldSelector,
    table: Option<table::Include>,
) -> Result<Response, ApiError> {
    let (rt, out, _) = storage_of(view);
    // One watch event: the object in the requested version (the stored text when it is), or a
    // one-row Table.
    let render = move |kind: &str, obj: &Stored| -> Bytes {
        match table {
            None if as_stored(view, obj) => {
                let mut line = Vec::with_capacity(obj.json.len() + 40);
                line.extend_from_slice(format!("{{\"type\":\"{kind}\",\"object\":").as_bytes());
                line.extend_from_slice(&obj.json);
                line.extend_from_slice(b"}\n");
                Bytes::from(line)
            }
            None => event_line(kind, &in_version(view, out(&obj.value()))),
            Some(include) => {
                let obj = in_version(view, out(&obj.value()));
                let rv = obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null);
                event_line(kind, &table::table(view, &[obj], json!({"resourceVersion": rv}), include))
            }
        }
    };
    let from = q.get("resourceVersion").filter(|v| !v.is_empty() && *v != "0");
    // A streaming list (`sendInitialEvents=true`, what newer clients ask for instead of a list):
    // the current objects, then a bookmark marking the end of them, then the changes.
    let streaming_list = truthy(&q, "sendInitialEvents");
    let from = if streaming_list { None } else { from };
    // Without a resource version a watch starts with the current objects, as Kubernetes does.
    let (initial, rv) = match from {
        Some(v) => (
            Vec::new(),
            v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version {v:?}")))?,
        ),
        None => s.list_stored(rt, ns.as_deref(), &labels, &fields),
    };
    // A version older than the history is not refused: like Kubernetes, the watch opens and
    // its one event is an ERROR with 410 Expired, which clients answer by listing again.
    let (backlog, mut live) = match s.watch_from(rv) {
        Ok(x) => x,
        Err(e) if e.code == 410 => {
            let line = event_line("ERROR", &e.status());
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(line) });
            return Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response());
        }
        Err(e) => return Err(e),
    };
    let bookmarks = truthy(&q, "allowWatchBookmarks");
    let timeout = q.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).map(Duration::from_secs);
    let relevant = move |c: &Change| {
        c.resource.group == rt.group
            && c.resource.plural == rt.plural
            && ns
                .as_deref()
                .is_none_or(|n| c.object.view.pointer("/metadata/namespace").and_then(Value::as_str) == Some(n))
            && labels.matches(&c.object.view)
            && fields.matches(&c.object.view)
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut last_rv = rv;
        for obj in initial {
            if tx.send(Ok(render("ADDED", &obj))).await.is_err() {
                return;
            }
        }
        if streaming_list {
            let end = json!({"kind": view.kind, "apiVersion": view.api_version(), "metadata": {
                "resourceVersion": rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
            if tx.send(Ok(event_line("BOOKMARK", &end))).await.is_err() {
                return;
            }
        }
        for c in backlog.iter().filter(|c| relevant(c)) {
            last_rv = c.rv;
            if tx.send(Ok(render(c.kind.as_str(), &c.object))).await.is_err() {
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
                    let bookmark = json!({"kind": view.kind, "apiVersion": view.api_version(), "metadata": {"resourceVersion": s.resource_version().to_string()}});
                    event_line("BOOKMARK", &bookmark)
                }
                _ = tx.closed() => return,
                msg = live.recv() => match msg {
                    Ok(c) if c.rv <= seen || !relevant(&c) => continue,
                    Ok(c) => {
                        last_rv = c.rv;
                        render(c.kind.as_str(), &c.object)
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
