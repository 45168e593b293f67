//! Errors as Kubernetes returns them: `Status` objects with a reason and a code.

use crate::resources::ResourceType;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A failed API call, rendered as a Kubernetes `Status`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Machine-readable reason (`NotFound`, `Conflict`, ...).
    pub reason: &'static str,
    /// The sentence Kubernetes would give.
    pub message: String,
    /// `details` of the Status, if any.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: None }
    }

    fn with_details(mut self, rt: &ResourceType, name: &str) -> Self {
        let mut d = json!({"name": name, "kind": rt.plural});
        if !rt.group.is_empty() {
            d["group"] = json!(rt.group);
        }
        self.details = Some(d);
        self
    }

    /// `configmaps "x" not found`
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", rt.qualified())).with_details(rt, name)
    }

    /// `configmaps "x" already exists`
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", rt.qualified())).with_details(rt, name)
    }

    /// The optimistic-concurrency conflict, in Kubernetes' words.
    pub fn conflict(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.qualified()
            ),
        )
        .with_details(rt, name)
    }

    /// A precondition (uid or resourceVersion) of a delete did not hold.
    pub fn precondition_failed(rt: &ResourceType, name: &str, what: String) -> Self {
        Self::new(409, "Conflict", format!("Operation cannot be fulfilled on {} \"{name}\": {what}", rt.qualified()))
            .with_details(rt, name)
    }

    /// 422 with causes: `ConfigMap "x" is invalid: metadata.name: Required value: ...`.
    pub fn invalid(rt: &ResourceType, name: &str, causes: Vec<(String, &'static str, String)>) -> Self {
        let text: Vec<String> = causes.iter().map(|(f, _, m)| format!("{f}: {m}")).collect();
        let joined = if text.len() == 1 { text[0].clone() } else { format!("[{}]", text.join(", ")) };
        let mut e = Self::new(422, "Invalid", format!("{} \"{name}\" is invalid: {joined}", qualified_kind(rt)))
            .with_details(rt, name);
        if let Some(d) = e.details.as_mut() {
            d["kind"] = json!(rt.kind);
            d["causes"] = causes
                .into_iter()
                .map(|(field, reason, message)| json!({"reason": reason, "message": message, "field": field}))
                .collect();
        }
        e
    }

    /// 409 for a server-side apply that would take fields from other managers.
    pub fn apply_conflicts(rt: &ResourceType, name: &str, (message, causes): (String, Vec<(String, String)>)) -> Self {
        let mut e = Self::new(409, "Conflict", message).with_details(rt, name);
        if let Some(d) = e.details.as_mut() {
            d["causes"] = causes
                .into_iter()
                .map(|(field, message)| json!({"reason": "FieldManagerConflict", "message": message, "field": field}))
                .collect();
        }
        e
    }

    /// 422 for invalid request options: `PatchOptions.meta.k8s.io "" is invalid: fieldManager: ...`.
    pub fn invalid_options(kind: &str, field: &str, message: &str) -> Self {
        let mut e = Self::new(422, "Invalid", format!("{kind} \"\" is invalid: {field}: {message}"));
        e.details = Some(json!({"group": "meta.k8s.io", "kind": kind.split('.').next().unwrap_or(kind),
            "causes": [{"reason": "FieldValueRequired", "message": message, "field": field}]}));
        e
    }

    /// 401: no credentials, or credentials nobody issued.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 in Kubernetes' words: `pods "x" is forbidden: User "alice" cannot ...`; without a
    /// resource, `forbidden: ...`.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: String) -> Self {
        let qualified = if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") };
        let message = match (qualified.is_empty(), name.is_empty()) {
            (true, _) => format!("forbidden: {why}"),
            (false, true) => format!("{qualified} is forbidden: {why}"),
            (false, false) => format!("{qualified} \"{name}\" is forbidden: {why}"),
        };
        let mut e = Self::new(403, "Forbidden", message);
        let mut d = json!({"kind": resource});
        if !name.is_empty() {
            d["name"] = json!(name);
        }
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        e.details = Some(d);
        e
    }

    /// 500: the store could not write.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 404 for a path that serves nothing.
    pub fn no_such_path() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource")
    }

    /// 405 for a verb a resource does not support.
    pub fn method_not_allowed(verb: &str, rt: &ResourceType) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({verb} {})", rt.plural),
        )
    }

    /// 415 for a body in a format the server does not read.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type:?})"),
        )
    }

    /// 415 for a strategic merge patch of a custom object, which has no merge keys.
    pub fn new_unsupported_patch(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type:?})"),
        )
    }

    /// 422 for a patch that does not apply to the object.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// 410 Gone: a watch from a resource version the server no longer has.
    pub fn expired(rv: u64, oldest: u64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {rv} ({oldest})"))
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.status())).into_response()
    }
}

/// A kind as the API server names it in messages: `Pod`, `Deployment.apps`,
/// `Pipeline.core.calyptia.com`.
fn qualified_kind(rt: &ResourceType) -> String {
    if rt.group.is_empty() {
        rt.kind.to_owned()
    } else {
        format!("{}.{}", rt.kind, rt.group)
    }
}
