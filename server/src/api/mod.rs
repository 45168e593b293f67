//! The REST API (`/api/v1`). Handlers are thin: they translate HTTP to calls of the `spec` crate
//! and of the service layer, and errors to status codes.

mod sidecars;

use crate::service::ServiceError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use spec::{CheckError, FieldError};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the handlers work with: the service, and the cluster client of the caller.
#[derive(Clone, Default)]
pub struct ApiState {
    /// The service layer.
    pub sidecars: crate::service::Sidecars,
    /// The client requests act with, when a cluster is configured. (Authentication will hand
    /// each caller their own.)
    pub client: Option<kube::Client>,
}

impl ApiState {
    /// The API over `client`'s cluster, its ID index following that cluster's Pipelines.
    pub fn new(client: kube::Client) -> Self {
        ApiState { sidecars: crate::service::Sidecars::new(&client), client: Some(client) }
    }
}

/// The `/api/v1` routes, and their OpenAPI document (built from the same handlers, so that the
/// two cannot drift).
pub fn routes() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(validate))
        .routes(routes!(schema))
        .merge(sidecars::routes())
        .split_for_parts()
}

/// The document's frame; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Sidecar Console API", description = "Pipeline sidecars: list, create, update, delete, troubleshoot."),
    servers((url = "/api/v1")),
    tags((name = "pipelines"), (name = "sidecars"), (name = "specs"))
)]
struct ApiDoc;

/// The `/api/v1` routes.
pub fn router<S: Clone + Send + Sync + 'static>(state: ApiState) -> Router<S> {
    let (routes, doc) = routes();
    let doc = std::sync::Arc::new(doc);
    routes
        .route("/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no such API endpoint: {}", uri.path()))
}

/// An error as the API returns it: `{"error": "...", "details": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// One sentence saying what is wrong.
    pub error: String,
    /// Per-field problems, when the request body was a spec.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail>,
    /// Line of a JSON syntax error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Column of a JSON syntax error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// In a conflict: the sidecar as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Box<serde_json::Value>>,
    /// In a conflict: what the request asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub proposed: Option<Box<serde_json::Value>>,
}

/// One field problem in an [`ApiError`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Detail {
    /// Path in Kubernetes' style (`ports[0].containerPort`).
    pub field: String,
    /// `Required`, `Invalid`, `Duplicate`, ...
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// A sentence about the problem.
    pub message: String,
    /// The offending value, where it helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
}

impl From<&FieldError> for Detail {
    fn from(e: &FieldError) -> Self {
        Detail {
            field: e.field.as_str().to_owned(),
            kind: e.kind.as_str(),
            message: e.message.clone(),
            value: e.value.clone(),
        }
    }
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            details: Vec::new(),
            line: None,
            column: None,
            current: None,
            proposed: None,
        }
    }
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Syntax(s) => ApiError {
                line: Some(s.line),
                column: Some(s.column),
                ..ApiError::new(StatusCode::BAD_REQUEST, s.to_string())
            },
            CheckError::Invalid(errors) => {
                let error = match errors.as_slice() {
                    [one] => format!("invalid sidecar spec: {one}"),
                    many => format!("invalid sidecar spec: {} errors", many.len()),
                };
                ApiError {
                    details: errors.iter().map(Detail::from).collect(),
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error)
                }
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let error = e.to_string();
        match e {
            ServiceError::PipelineNotFound { .. } | ServiceError::SidecarNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, error)
            }
            ServiceError::Ambiguous { .. } | ServiceError::BadRequest(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, error)
            }
            ServiceError::Syntax(s) => CheckError::Syntax(s).into(),
            ServiceError::Invalid(errors) => ApiError {
                details: errors.iter().map(Detail::from).collect(),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error)
            },
            ServiceError::Conflict { current, proposed, .. } => {
                ApiError { current, proposed, ..ApiError::new(StatusCode::CONFLICT, error) }
            }
            ServiceError::Kubernetes { code, .. } => {
                let status = match code {
                    Some(401) => StatusCode::UNAUTHORIZED,
                    Some(403) => StatusCode::FORBIDDEN,
                    Some(404) => StatusCode::NOT_FOUND,
                    Some(c) if (400..500).contains(&c) => StatusCode::from_u16(c).unwrap_or(StatusCode::BAD_GATEWAY),
                    _ => StatusCode::BAD_GATEWAY,
                };
                ApiError::new(status, error)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

/// The body of a request that must be JSON: checks the content type and the size.
fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        let got = if content_type.is_empty() { "none".to_owned() } else { format!("\"{content_type}\"") };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the request body must be JSON (Content-Type: application/json); got {got}"),
        ));
    }
    body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, format!("the request body is larger than the limit of {BODY_LIMIT} bytes"))
        } else {
            ApiError::new(status, format!("could not read the request body: {rejection}"))
        }
    })
}

/// `POST /api/v1/validate`: the spec in the body; 200 with the defaulted spec, or 422 with every
/// error.
#[utoipa::path(post, path = "/validate", tag = "specs",
    request_body(content = Object, description = "A sidecar spec", content_type = "application/json"),
    responses((status = 200, description = "The spec with Kubernetes' defaults", body = Object),
        (status = 400, body = ApiError), (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, body = ApiError)))]
async fn validate(
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<spec::SidecarSpec>, ApiError> {
    let body = json_body(&headers, body)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("the request body is not UTF-8: {e}")))?;
    Ok(Json(spec::check(text)?))
}

/// `GET /api/v1/schema/sidecar.json`: the JSON Schema of a sidecar spec.
#[utoipa::path(get, path = "/schema/sidecar.json", tag = "specs",
    responses((status = 200, description = "JSON Schema", content_type = "application/schema+json", body = Object)))]
async fn schema() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/schema+json")], Json(spec::json_schema()))
}
