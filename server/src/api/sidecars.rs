//! `/api/v1/pipelines…` and `/api/v1/sidecars…`: thin adapters over the service layer.

use super::{json_body, ApiError, ApiState};
use crate::service::{Created, Deleted, PipelineView, SidecarView, StatusView};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/pipelines", get(list_pipelines))
        .route("/pipelines/{namespace}/{name}", get(get_pipeline))
        .route("/pipelines/{namespace}/{name}/sidecars", get(list_sidecars).post(create_sidecar))
        .route("/sidecars/{id}", get(get_sidecar).put(update_sidecar).delete(delete_sidecar))
        .route("/sidecars/{id}/status", get(sidecar_status))
        .route("/sidecars/{id}/events", get(sidecar_events))
        .route("/sidecars/{id}/logs", get(sidecar_logs))
}

/// The client the request acts with.
fn caller(state: &ApiState) -> Result<kube::Client, ApiError> {
    state.client.clone().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the console is not connected to a Kubernetes cluster")
    })
}

/// `?namespace=` and `?name=` of the pipeline listing.
#[derive(Debug, Deserialize)]
struct PipelineQuery {
    namespace: Option<String>,
    name: Option<String>,
}

/// `GET /pipelines`: every pipeline the caller can read; with `?name=` (a bare name or
/// `namespace/name`), the one pipeline it names — 404 when none, 400 when it is in several
/// namespaces.
async fn list_pipelines(
    State(s): State<ApiState>,
    Query(q): Query<PipelineQuery>,
) -> Result<Json<Vec<PipelineView>>, ApiError> {
    let client = caller(&s)?;
    let ns = q.namespace.as_deref().filter(|n| !n.is_empty());
    match q.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => {
            let r = s.sidecars.resolve(&client, ns, name).await?;
            Ok(Json(vec![s.sidecars.get_pipeline(&client, &r.namespace, &r.name).await?]))
        }
        None => Ok(Json(s.sidecars.list_pipelines(&client, ns).await?)),
    }
}

async fn get_pipeline(
    State(s): State<ApiState>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<PipelineView>, ApiError> {
    Ok(Json(s.sidecars.get_pipeline(&caller(&s)?, &ns, &name).await?))
}

async fn list_sidecars(
    State(s): State<ApiState>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<Vec<SidecarView>>, ApiError> {
    Ok(Json(s.sidecars.list(&caller(&s)?, &ns, &name).await?))
}

/// `?dryRun=true` (or Kubernetes' `dryRun=All`).
#[derive(Debug, Default, Deserialize)]
struct Mutation {
    #[serde(rename = "dryRun")]
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
    match spec::check(text) {
        // The spec's own problems are reported by the service with the pipeline's.
        Ok(_) | Err(spec::CheckError::Invalid(_)) => {
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
async fn create_sidecar(
    State(s): State<ApiState>,
    Path((ns, name)): Path<(String, String)>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let dry_run = m.dry_run()?;
    let spec = spec_body(&headers, body)?;
    let created: Created = s.sidecars.create(&caller(&s)?, &ns, &name, spec, dry_run).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/sidecars/{}", created.id)).ok();
    let mut resp = (StatusCode::CREATED, Json(created)).into_response();
    if let Some(l) = location {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(resp)
}

async fn get_sidecar(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(with_etag(s.sidecars.get(&caller(&s)?, &id).await?, StatusCode::OK))
}

/// `PUT /sidecars/{id}`: replaces the spec; `If-Match` with the ETag guards against lost updates.
async fn update_sidecar(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let dry_run = m.dry_run()?;
    let spec = spec_body(&headers, body)?;
    let view = s.sidecars.update(&caller(&s)?, &id, spec, if_match(&headers), dry_run).await?;
    Ok(with_etag(view, StatusCode::OK))
}

async fn delete_sidecar(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(m): Query<Mutation>,
    headers: HeaderMap,
) -> Result<Json<Deleted>, ApiError> {
    let dry_run = m.dry_run()?;
    Ok(Json(s.sidecars.delete(&caller(&s)?, &id, if_match(&headers), dry_run).await?))
}

async fn sidecar_status(State(s): State<ApiState>, Path(id): Path<String>) -> Result<Json<StatusView>, ApiError> {
    Ok(Json(s.sidecars.status(&caller(&s)?, &id).await?))
}

async fn sidecar_events(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::service::status::SidecarEvent>>, ApiError> {
    Ok(Json(s.sidecars.events(&caller(&s)?, &id).await?))
}

/// `?follow=true&replica=POD&tailLines=N`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogQuery {
    #[serde(default)]
    follow: bool,
    replica: Option<String>,
    tail_lines: Option<i64>,
}

/// `GET /sidecars/{id}/logs`: server-sent events, one `line` event per log line
/// (`{"replica", "line"}`); an `error` event if the stream breaks.
async fn sidecar_logs(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> Result<Response, ApiError> {
    if q.tail_lines.is_some_and(|n| n < 0) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "tailLines must not be negative"));
    }
    let lines = s.sidecars.logs(&caller(&s)?, &id, q.replica.as_deref(), q.follow, q.tail_lines).await?;
    let events = lines.map(|item| {
        Ok::<_, std::convert::Infallible>(match item {
            Ok(line) => SseEvent::default().event("line").json_data(&line).unwrap_or_default(),
            Err(e) => SseEvent::default().event("error").data(e.to_string()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}
