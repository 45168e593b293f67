//! What can go wrong when a page asks the server, as a value the pages match on.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use sidecar_api::ErrorBody;

/// An error of a server function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    /// The pipeline or sidecar does not exist (the sentence names it).
    #[error("{0}")]
    NotFound(String),
    /// The service refused or failed: its status code and the API's error body.
    #[error("{}", .body.error)]
    Failed {
        /// The HTTP status the REST API answers for the same error.
        status: u16,
        /// Its sentence and details.
        body: ErrorBody,
    },
    /// The request did not get through (network, encoding).
    #[error("the console could not be reached: {0}")]
    Transport(String),
}

impl FromServerFnError for ConsoleError {
    // Read from text like every answer (`TextJson`), so the browser has one decoder per type.
    type Encoder = crate::api::TextJson;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sidecar_service::ServiceError> for ConsoleError {
    fn from(e: sidecar_service::ServiceError) -> Self {
        let status = e.status_code();
        if status == 404 {
            ConsoleError::NotFound(e.to_string())
        } else {
            ConsoleError::Failed { status, body: e.into_body() }
        }
    }
}
