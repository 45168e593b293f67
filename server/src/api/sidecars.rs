//! `/api/v1/pipelines…` and `/api/v1/sidecars…`: thin adapters over the service layer.

use super::{json_body, ApiError, ApiState, Path, Query, Who};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use sidecar_api::ErrorBody;
use sidecar_api::{Created, Deleted, PipelineState, PipelineView, SidecarState, SidecarView, StatusView};
use sidecar_service::LogOptions;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_pipelines))
        .routes(routes!(get_pipeline))
        .routes(routes!(list_sidecars, create_sidecar))
        .routes(routes!(get_sidecar, update_sidecar, delete_sidecar))
        .routes(routes!(sidecar_status))
        .routes(routes!(sidecar_events))
        .routes(routes!(sidecar_logs))
        .routes(routes!(pipeline_status))
        .routes(routes!(pipeline_events))
        .routes(routes!(pipeline_config_maps))
        .routes(routes!(pipeline_logs))
        .routes(routes!(pipeline_watch))
        .routes(routes!(pipelines_watch))
        .routes(routes!(sidecar_state))
        .routes(routes!(sidecar_watch))
}

/// `?namespace=` and `?name=` of the pipeline listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PipelineQuery {
    /// Only this namespace.
    namespace: Option<String>,
    /// The one pipeline of this name (a bare name, or `namespace/name`).
    name: Option<String>,
}

#[utoipa::path(get, path = "/pipelines", tag = "pipelines", params(PipelineQuery),
    responses((status = 200, body = [PipelineView]), (status = 400, description = "A bare name in several namespaces, or a name no namespace or pipeline can have", body = ErrorBody),
        (status = 404, description = "No pipeline of that name", body = ErrorBody),
        (status = 503, description = "Kubernetes cannot be reached", body = ErrorBody)))]
/// `GET /pipelines`: every pipeline the caller can read; with `?name=` (a bare name or
/// `namespace/name`), the one pipeline it names — 404 when none, 400 when it is in several
/// namespaces.
async fn list_pipelines(
    State(s): State<ApiState>,
    Who(caller): Who,
    Query(q): Query<PipelineQuery>,
) -> Result<Response, ApiError> {
    let client = caller;
    let ns = q.namespace.as_deref().filter(|n| !n.is_empty());
    match q.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => Ok(Json(vec![s.sidecars.resolve(&client, ns, name).await?]).into_response()),
        None => Ok(json_array(s.sidecars.list_pipelines(&client, ns).await?)),
    }
}

/// A JSON array written as the body is sent, in pieces of about 32 KiB, never whole in memory.
fn json_array<T: serde::Serialize + Send + 'static>(items: impl Iterator<Item = T> + Send + 'static) -> Response {
    const PIECE: usize = 32 * 1024;
    #[derive(PartialEq)]
    enum Step {
        Start,
        Middle,
        Done,
    }
    let pieces = futures::stream::unfold((items, Step::Start), |(mut items, step)| async move {
        if step == Step::Done {
            return None;
        }
        let mut buf = Vec::with_capacity(PIECE + 1024);
        let mut comma = step == Step::Middle;
        if !comma {
            buf.push(b'[');
        }
        loop {
            if buf.len() >= PIECE {
                return Some((Ok::<_, std::convert::Infallible>(Bytes::from(buf)), (items, Step::Middle)));
            }
            let Some(item) = items.next() else {
                buf.push(b']');
                return Some((Ok(Bytes::from(buf)), (items, Step::Done)));
            };
            if std::mem::replace(&mut comma, true) {
                buf.push(b',');
            }
            // A view always serializes (plain fields); should one not, the array stays valid.
            if serde_json::to_writer(&mut buf, &item).is_err() {
                buf.extend_from_slice(b"null");
            }
        }
    });
    // Fused: a compressing layer may ask once more after the end.
    ([(header::CONTENT_TYPE, "application/json")], axum::body::Body::from_stream(pieces.fuse())).into_response()
}

/// One pipeline.
#[utoipa::path(get, path = "/pipelines/{namespace}/{name}", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = PipelineView), (status = 404, body = ErrorBody)))]
async fn get_pipeline(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<PipelineView>, ApiError> {
    Ok(Json(s.sidecars.get_pipeline(&caller, &ns, &name).await?))
}

/// The sidecars of a pipeline, with their state over the replicas.
#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/sidecars", tag = "sidecars",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = [SidecarView]), (status = 404, body = ErrorBody)))]
async fn list_sidecars(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Vec<SidecarView>>, ApiError> {
    Ok(Json(s.sidecars.list(&caller, &ns, &name).await?))
}

/// `?dryRun=true` (or Kubernetes' `dryRun=All`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Mutation {
    /// `true`: check and answer as if done, but write nothing.
    #[serde(rename = "dryRun")]
    #[param(rename = "dryRun")]
    dry_run: Option<String>,
}

impl Mutation {
    fn dry_run(&self) -> Result<bool, ApiError> {
        match self.dry_run.as_deref() {
            None | Some("false") | Some("") => Ok(false),
            Some("true") | Some("All") => Ok(true),
            Some(other) => {
                Err(ApiError::new(StatusCode::BAD_REQUEST, format!("dryRun must be true or false, got \"{other}\"")))
            }
        }
    }
}

/// The spec in a request body, as JSON (a syntax error answers 400 with line and column).
fn spec_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let body = json_body(headers, body)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("the request body is not UTF-8: {e}")))?;
    match sidecar_spec::check(text) {
        // The spec's own problems are reported by the service with the pipeline's.
        Ok(_) | Err(sidecar_spec::CheckError::Invalid(_)) => {
            serde_json::from_str(text).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
}

fn with_etag(view: SidecarView, status: StatusCode) -> Response {
    let tag = HeaderValue::from_str(&format!("\"{}\"", view.etag)).ok();
    let mut resp = (status, Json(view)).into_response();
    if let Some(tag) = tag {
        resp.headers_mut().insert(header::ETAG, tag);
    }
    resp
}

/// `POST /pipelines/{namespace}/{name}/sidecars`: 201 `{id, createdAt}` and `Location`.
#[utoipa::path(post, path = "/pipelines/{namespace}/{name}/sidecars", tag = "sidecars",
    params(("namespace" = String, Path), ("name" = String, Path), Mutation),
    request_body(content = Object, description = "A sidecar spec (schema: /api/v1/schema/sidecar.json)", content_type = "application/json"),
    responses((status = 201, body = Created, headers(("Location" = String))), (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Every problem of the spec, across the pipeline's sidecars, and missing ConfigMaps", body = ErrorBody)))]
async fn create_sidecar(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let dry_run = m.dry_run()?;
    let spec = spec_body(&headers, body)?;
    let created: Created = s.sidecars.create(&caller, &ns, &name, spec, dry_run).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/sidecars/{}", created.id)).ok();
    let warnings = created.warnings.clone();
    let mut resp = (StatusCode::CREATED, Json(created)).into_response();
    if let Some(l) = location {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(with_warnings(resp, &warnings))
}

/// The API server's warnings about a write, passed on as it sends them (`Warning: 299 - "..."`),
/// besides the response body's `warnings`.
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""))) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

/// One sidecar, with its ETag.
#[utoipa::path(get, path = "/sidecars/{id}", tag = "sidecars", params(("id" = String, Path)),
    responses((status = 200, body = SidecarView, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
async fn get_sidecar(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(s.sidecars.get(&caller, &id).await?, StatusCode::OK))
}

/// `PUT /sidecars/{id}`: replaces the spec; `If-Match` with the ETag guards against lost updates.
#[utoipa::path(put, path = "/sidecars/{id}", tag = "sidecars",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"), Mutation),
    request_body(content = Object, description = "A sidecar spec (schema: /api/v1/schema/sidecar.json)", content_type = "application/json"),
    responses((status = 200, body = SidecarView, headers(("ETag" = String))), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Changed by someone else: both versions", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_sidecar(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let dry_run = m.dry_run()?;
    let spec = spec_body(&headers, body)?;
    let view = s.sidecars.update(&caller, &id, spec, if_match(&headers), dry_run).await?;
    let warnings = view.warnings.clone();
    Ok(with_warnings(with_etag(view, StatusCode::OK), &warnings))
}

/// Removes a sidecar from its pipeline (and so from every replica).
#[utoipa::path(delete, path = "/sidecars/{id}", tag = "sidecars",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The ETag the deletion is based on"), Mutation),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_sidecar(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let dry_run = m.dry_run()?;
    let deleted = s.sidecars.delete(&caller, &id, if_match(&headers), dry_run).await?;
    let warnings = deleted.warnings.clone();
    Ok(with_warnings(Json(deleted).into_response(), &warnings))
}

/// The sidecar in each replica.
#[utoipa::path(get, path = "/sidecars/{id}/status", tag = "sidecars", params(("id" = String, Path)),
    responses((status = 200, body = StatusView), (status = 404, body = ErrorBody)))]
async fn sidecar_status(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, ApiError> {
    Ok(Json(s.sidecars.status(&caller, &id).await?))
}

/// Events about the sidecar's containers, newest first.
#[utoipa::path(get, path = "/sidecars/{id}/events", tag = "sidecars", params(("id" = String, Path)),
    responses((status = 200, body = [sidecar_api::SidecarEvent]), (status = 404, body = ErrorBody)))]
async fn sidecar_events(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
) -> Result<Json<Vec<sidecar_api::SidecarEvent>>, ApiError> {
    Ok(Json(s.sidecars.events(&caller, &id).await?))
}

/// `?follow=true&replica=POD&tailLines=N`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
struct LogQuery {
    /// Keep the stream open for new lines.
    #[serde(default)]
    follow: bool,
    /// Only this replica (pod).
    replica: Option<String>,
    /// The last N lines of each replica.
    tail_lines: Option<i64>,
    /// The previous run of the container (after a restart).
    #[serde(default)]
    previous: bool,
}

impl LogQuery {
    fn options(self) -> Result<LogOptions, ApiError> {
        if self.tail_lines.is_some_and(|n| n < 0) {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "tailLines must not be negative"));
        }
        Ok(LogOptions { replica: self.replica, follow: self.follow, tail: self.tail_lines, previous: self.previous })
    }
}

/// Log lines as server-sent events: one `line` event per line, an `error` event if it breaks.
fn log_events(lines: sidecar_service::LogStream) -> Response {
    let events = lines.map(|item| {
        Ok::<_, std::convert::Infallible>(match item {
            Ok(line) => SseEvent::default().event("line").json_data(&line).unwrap_or_default(),
            Err(e) => SseEvent::default().event("error").data(e.to_string()),
        })
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

#[utoipa::path(get, path = "/sidecars/{id}/logs", tag = "sidecars", params(("id" = String, Path), LogQuery),
    responses((status = 200, description = "Server-sent events: `line` events with a LogLine as data; an `error` event if the stream breaks",
        content_type = "text/event-stream", body = sidecar_api::LogLine), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// `GET /sidecars/{id}/logs`: server-sent events, one `line` event per log line
/// (`{"replica", "line"}`); an `error` event if the stream breaks.
async fn sidecar_logs(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let lines = s.sidecars.logs(&caller, &id, &q.options()?).await?;
    Ok(log_events(lines))
}

/// A pipeline with its sidecars, status, replicas and rollout.
#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/status", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = PipelineState), (status = 404, body = ErrorBody)))]
async fn pipeline_status(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<PipelineState>, ApiError> {
    Ok(Json(s.sidecars.pipeline_state(&caller, &ns, &name).await?))
}

/// The ConfigMaps a sidecar of the pipeline can mount (those of its namespace), with their keys.
#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/configmaps", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = [sidecar_api::ConfigMapView]), (status = 404, body = ErrorBody)))]
async fn pipeline_config_maps(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Vec<sidecar_api::ConfigMapView>>, ApiError> {
    Ok(Json(s.sidecars.config_maps(&caller, &ns, &name).await?))
}

/// Events about a pipeline's pods, newest first.
#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/events", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = [sidecar_api::SidecarEvent]), (status = 404, body = ErrorBody)))]
async fn pipeline_events(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Vec<sidecar_api::SidecarEvent>>, ApiError> {
    Ok(Json(s.sidecars.pipeline_events(&caller, &ns, &name).await?))
}

#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/logs", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path), LogQuery),
    responses((status = 200, description = "Server-sent events: `line` events with a LogLine as data; an `error` event if the stream breaks",
        content_type = "text/event-stream", body = sidecar_api::LogLine), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// `GET /pipelines/{namespace}/{name}/logs`: the main container's log lines, as
/// `/sidecars/{id}/logs`.
async fn pipeline_logs(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let lines = s.sidecars.pipeline_logs(&caller, &ns, &name, &q.options()?).await?;
    Ok(log_events(lines))
}

/// A live stream as server-sent events: a `state` event with the whole state now and after
/// each change; an `error` event (an ErrorBody) ends it.
fn live_events<T: serde::Serialize + Send + 'static>(states: sidecar_service::LiveStream<T>) -> Response {
    let events = states.map(move |item| {
        Ok::<_, std::convert::Infallible>(match item {
            Ok(state) => SseEvent::default().event("state").json_data(&state).unwrap_or_default(),
            Err(e) => {
                let status = e.status_code();
                // Kubernetes out of reach: the stream goes on, and says so meanwhile.
                let name = if e.is_transient() { "unavailable" } else { "error" };
                let mut body = serde_json::to_value(e.into_body()).unwrap_or_default();
                body["status"] = status.into();
                SseEvent::default().event(name).data(body.to_string())
            }
        })
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

#[utoipa::path(get, path = "/pipelines/{namespace}/{name}/watch", tag = "pipelines",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "Server-sent events: a `state` event (a PipelineState) now and after each change; an `error` event ends the stream; `unavailable` (an ErrorBody) says Kubernetes cannot be reached, and states follow once it can",
        content_type = "text/event-stream", body = PipelineState), (status = 404, body = ErrorBody)))]
/// `GET /pipelines/{namespace}/{name}/watch`: the pipeline's state, live.
async fn pipeline_watch(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // A pipeline that does not exist answers 404 at once, not a stream that ends.
    s.sidecars.get_pipeline(&caller, &ns, &name).await?;
    Ok(live_events(s.sidecars.pipeline_states(caller, ns, name)))
}

/// `?namespace=&q=&page=` of the live pipeline listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// Only this namespace.
    namespace: Option<String>,
    /// Only pipelines whose name (or `namespace/name`) contains this, ignoring case.
    q: Option<String>,
    /// The page, from 1.
    page: Option<usize>,
    /// Pipelines per page (at most 500; 50 when absent, as the console's pages).
    #[serde(rename = "perPage")]
    #[param(rename = "perPage")]
    per_page: Option<usize>,
}

#[utoipa::path(get, path = "/pipelines/watch", tag = "pipelines", params(PageQuery),
    responses((status = 200, description = "Server-sent events: a `state` event (a PipelinePage) now and after each change; `unavailable` (an ErrorBody) says Kubernetes cannot be reached, and states follow once it can",
        content_type = "text/event-stream", body = sidecar_api::PipelinePage)))]
/// `GET /pipelines/watch`: a page of the pipeline listing, live.
async fn pipelines_watch(
    State(s): State<ApiState>,
    Who(caller): Who,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let query = sidecar_service::PipelineQuery {
        namespace: q.namespace.filter(|n| !n.is_empty()),
        search: q.q.filter(|n| !n.is_empty()),
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(sidecar_api::PER_PAGE),
    };
    Ok(live_events(s.sidecars.pipeline_pages(caller, query)))
}

/// A sidecar with its pipeline, replicas, events and diagnosis.
#[utoipa::path(get, path = "/sidecars/{id}/state", tag = "sidecars", params(("id" = String, Path)),
    responses((status = 200, body = SidecarState), (status = 404, body = ErrorBody)))]
async fn sidecar_state(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
) -> Result<Json<SidecarState>, ApiError> {
    Ok(Json(s.sidecars.sidecar_state(&caller, &id).await?))
}

#[utoipa::path(get, path = "/sidecars/{id}/watch", tag = "sidecars", params(("id" = String, Path)),
    responses((status = 200, description = "Server-sent events: a `state` event (a SidecarState) now and after each change; an `error` event ends the stream; `unavailable` (an ErrorBody) says Kubernetes cannot be reached, and states follow once it can",
        content_type = "text/event-stream", body = SidecarState), (status = 404, body = ErrorBody)))]
/// `GET /sidecars/{id}/watch`: the sidecar's state, live.
async fn sidecar_watch(
    State(s): State<ApiState>,
    Who(caller): Who,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.sidecars.get(&caller, &id).await?;
    Ok(live_events(s.sidecars.sidecar_states(caller, id)))
}
