//! The REST API (`/api/v1`). Handlers are thin: they translate HTTP to calls of the `spec` crate
//! and of the service layer, and errors to status codes.

mod document;
mod sidecars;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sidecar_api::ErrorBody;
use sidecar_service::ServiceError;
use sidecar_spec::CheckError;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted.
pub use crate::serving::BODY_LIMIT;

/// What the handlers work with: the console (its service, its cluster, its callers).
pub type ApiState = sidecar_service::Console;

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
    let doc = std::sync::Arc::new(document::refine(&doc));
    routes
        .route("/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no such API endpoint: {}", uri.path()))
}

/// The caller of a request: its identity (put there by the authentication layer) made into a
/// Kubernetes client; 401 when it has none.
pub struct Who(pub sidecar_service::Caller);

impl axum::extract::FromRequestParts<ApiState> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &ApiState) -> Result<Self, ApiError> {
        Ok(Who(state.caller(parts.extensions.get::<sidecar_service::Identity>())?))
    }
}

/// axum's `Query`, a bad query a 400 in the API's shape naming the parameter.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(Query(q.0)),
            Err(r) => {
                let text = r.body_text();
                let why = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
                Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid query parameter: {why}")))
            }
        }
    }
}

/// axum's `Path`, a bad segment (not UTF-8 once decoded) a 400 in the API's shape.
pub struct Path<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(Path(p.0)),
            Err(r) => Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid path: {}", r.body_text()))),
        }
    }
}

/// An error as the API returns it: a status code and `{"error": "...", "details": [...]}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody { error: error.into(), ..ErrorBody::default() } }
    }
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Invalid(errors) => {
                let error = match errors.as_slice() {
                    [one] => format!("invalid sidecar spec: {one}"),
                    many => format!("invalid sidecar spec: {} errors", many.len()),
                };
                let mut body = ServiceError::Invalid(errors).into_body();
                body.error = error;
                ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, body }
            }
            syntax => ServiceError::from(syntax).into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::BAD_GATEWAY);
        ApiError { status, body: e.into_body() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(&self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Whether reading the body failed because the client took too long to send it.
fn timed_out(rejection: &BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(rejection);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
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
        } else if timed_out(&rejection) {
            ApiError::new(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time".to_owned())
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
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn validate(
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<sidecar_spec::SidecarSpec>, ApiError> {
    let body = json_body(&headers, body)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("the request body is not UTF-8: {e}")))?;
    Ok(Json(sidecar_spec::check(text)?))
}

/// `GET /api/v1/schema/sidecar.json`: the JSON Schema of a sidecar spec.
#[utoipa::path(get, path = "/schema/sidecar.json", tag = "specs",
    responses((status = 200, description = "JSON Schema", content_type = "application/schema+json", body = Object)))]
async fn schema() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/schema+json")], Json(sidecar_spec::json_schema()))
}
