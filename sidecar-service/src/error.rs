//! What can go wrong in the service layer, as typed values; the REST layer maps each to a
//! status code and the sentence of its `Display`.

use serde_json::Value;
use sidecar_api::{Detail, ErrorBody};
use sidecar_spec::{CheckError, FieldError};

/// A service failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No pipeline of that name (in that namespace, or in any).
    #[error("{}", match namespace {
        Some(ns) => format!("pipeline \"{name}\" not found in namespace \"{ns}\""),
        None => format!("pipeline \"{name}\" not found in any namespace"),
    })]
    PipelineNotFound {
        /// The name asked for.
        name: String,
        /// The namespace asked for, if one was.
        namespace: Option<String>,
    },
    /// A bare pipeline name found in several namespaces.
    #[error("pipeline \"{name}\" exists in several namespaces ({}); name one as NAMESPACE/{name}", namespaces.join(", "))]
    Ambiguous {
        /// The name asked for.
        name: String,
        /// Where it was found.
        namespaces: Vec<String>,
    },
    /// No sidecar with that ID.
    #[error("sidecar \"{0}\" not found")]
    SidecarNotFound(String),
    /// The pipeline has no replica of that name running the container asked for.
    #[error("replica \"{replica}\" of pipeline \"{pipeline}\" does not run {container}")]
    ReplicaNotFound {
        /// The replica (pod) asked for.
        replica: String,
        /// Its pipeline.
        pipeline: String,
        /// The container, in words (`its main container`, `sidecar "x"`).
        container: String,
    },
    /// The spec is not JSON.
    #[error("{0}")]
    Syntax(sidecar_spec::SyntaxError),
    /// The spec, or the pipeline with it, breaks rules; every problem is listed.
    #[error("{}", invalid_sentence(.0))]
    Invalid(Vec<FieldError>),
    /// Someone else changed the sidecar since the caller read it.
    #[error("{message}")]
    Conflict {
        /// What happened.
        message: String,
        /// The sidecar as it is now (absent when it was deleted).
        current: Option<Box<Value>>,
        /// What the caller asked for (absent for a delete).
        proposed: Option<Box<Value>>,
    },
    /// The request is not well-formed (outside the spec).
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no identity the console can act for.
    #[error("sign in first: this console acts only with your own Kubernetes identity (a bearer token, or a session from /login)")]
    Unauthenticated,
    /// The console has no cluster to act on.
    #[error("{0}")]
    Unavailable(String),
    /// Kubernetes refused the caller (401/403) or failed.
    #[error("{message}")]
    Kubernetes {
        /// The status Kubernetes answered, when it answered.
        code: Option<u16>,
        /// Its message.
        message: String,
    },
}

fn invalid_sentence(errors: &[FieldError]) -> String {
    match errors {
        [one] => sentence(one),
        many => format!(
            "invalid sidecar spec: {} problems: {}",
            many.len(),
            many.iter().map(sentence).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// A missing ConfigMap's message names it and its namespace already; others need their path.
fn sentence(e: &FieldError) -> String {
    if e.kind == sidecar_spec::ErrorKind::NotFound && e.field.as_str().ends_with("configMap.name") {
        e.message.clone()
    } else {
        e.to_string()
    }
}

impl From<CheckError> for ServiceError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Syntax(s) => ServiceError::Syntax(s),
            CheckError::Invalid(errors) => ServiceError::Invalid(errors),
        }
    }
}

impl From<kube::Error> for ServiceError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => ServiceError::Kubernetes {
                code: Some(s.code),
                message: format!("Kubernetes answered {}: {}", s.code, s.message),
            },
            kube::Error::BuildRequest(e) => ServiceError::BadRequest(format!("the request cannot be made: {e}")),
            other => {
                // The innermost cause is the sentence a person understands ("Connection refused
                // (os error 111)"), not the client's wrapper type.
                let mut cause: &dyn std::error::Error = &other;
                while let Some(next) = cause.source() {
                    cause = next;
                }
                let why = cause.to_string();
                let lower = why.to_lowercase();
                let timed_out = lower.contains("timed out") || lower.contains("elapsed");
                // Reached, but not to be trusted (a certificate of another authority): 502.
                let untrusted = ["certificate", "tls", "handshake"].iter().any(|w| lower.contains(w));
                if timed_out {
                    ServiceError::Kubernetes {
                        code: Some(504),
                        message: format!("Kubernetes did not answer in time: {why}"),
                    }
                } else if untrusted {
                    ServiceError::Kubernetes { code: None, message: format!("cannot reach Kubernetes securely: {why}") }
                } else if matches!(other, kube::Error::HyperError(_) | kube::Error::Service(_)) {
                    ServiceError::Unavailable(format!("cannot reach Kubernetes: {why}"))
                } else {
                    ServiceError::Kubernetes {
                        code: None,
                        message: format!("Kubernetes answered something unreadable: {why}"),
                    }
                }
            }
        }
    }
}

impl ServiceError {
    /// The HTTP status that says what went wrong: 404 for what does not exist, 400 for a request
    /// that cannot be read, 422 for a spec that breaks rules, 409 for a conflict, Kubernetes'
    /// own 4xx, 503 when it cannot be reached, 504 when it did not answer in time, else 502.
    pub fn status_code(&self) -> u16 {
        self.status()
    }

    /// Kubernetes could not be reached or did not answer (502, 503, 504): trying again later
    /// may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.status(), 502..=504)
    }

    fn status(&self) -> u16 {
        match self {
            ServiceError::PipelineNotFound { .. }
            | ServiceError::SidecarNotFound(_)
            | ServiceError::ReplicaNotFound { .. } => 404,
            ServiceError::Ambiguous { .. } | ServiceError::BadRequest(_) | ServiceError::Syntax(_) => 400,
            ServiceError::Invalid(_) => 422,
            ServiceError::Conflict { .. } => 409,
            ServiceError::Unauthenticated => 401,
            ServiceError::Unavailable(_) => 503,
            ServiceError::Kubernetes { code: Some(c), .. } if (400..500).contains(c) || *c == 504 => *c,
            ServiceError::Kubernetes { .. } => 502,
        }
    }

    /// The error as the API's wire type: its sentence, and per field problems, the position of a
    /// syntax error, or both versions of a conflict.
    pub fn into_body(self) -> ErrorBody {
        let error = self.to_string();
        match self {
            ServiceError::Syntax(s) => {
                ErrorBody { error, line: Some(s.line), column: Some(s.column), ..ErrorBody::default() }
            }
            ServiceError::Invalid(errors) => {
                ErrorBody { error, details: errors.iter().map(detail).collect(), ..ErrorBody::default() }
            }
            ServiceError::Conflict { current, proposed, .. } => {
                ErrorBody { error, current, proposed, ..ErrorBody::default() }
            }
            _ => ErrorBody { error, ..ErrorBody::default() },
        }
    }
}

/// A field problem as the API's wire type.
pub fn detail(e: &FieldError) -> Detail {
    Detail {
        field: e.field.as_str().to_owned(),
        kind: e.kind.as_str().to_owned(),
        message: e.message.clone(),
        value: e.value.clone(),
    }
}

/// Whether a Kubernetes error is a 404.
pub(crate) fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether a Kubernetes error is a 409 (a stale resourceVersion).
pub(crate) fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}
