//! The pages' server functions: each a thin call of the service with the request's caller.
//! The same service answers the REST API; nothing about a sidecar is decided here.

use crate::error::ConsoleError;
use leptos::prelude::*;
use sidecar_api::{Deleted, PipelinePage, PipelineState, SidecarState};

/// The console and the caller of the request being served.
#[cfg(feature = "ssr")]
fn console() -> Result<(sidecar_service::Console, sidecar_service::Caller), ConsoleError> {
    let console = use_context::<sidecar_service::Console>()
        .ok_or_else(|| ConsoleError::Transport("the console's service is not available".into()))?;
    let caller = console.caller()?;
    Ok((console, caller))
}

pub use sidecar_api::PER_PAGE;

/// A page of the pipelines, filtered by namespace and a search text.
#[server]
pub async fn list_pipelines(
    namespace: Option<String>,
    search: Option<String>,
    page: usize,
) -> Result<PipelinePage, ConsoleError> {
    let (console, caller) = console()?;
    let q = sidecar_service::PipelineQuery { namespace, search, page, per_page: PER_PAGE };
    Ok(console.sidecars.pipeline_page(&caller, &q).await?)
}

/// Every namespace that holds a pipeline.
#[server]
pub async fn list_namespaces() -> Result<Vec<String>, ConsoleError> {
    let (console, caller) = console()?;
    let q = sidecar_service::PipelineQuery { per_page: 1, ..Default::default() };
    Ok(console.sidecars.pipeline_page(&caller, &q).await?.namespaces)
}

/// A pipeline with its sidecars and status.
#[server]
pub async fn load_pipeline(namespace: String, name: String) -> Result<PipelineState, ConsoleError> {
    let (console, caller) = console()?;
    Ok(console.sidecars.pipeline_state(&caller, &namespace, &name).await?)
}

/// A sidecar with its replicas, events and diagnosis.
#[server]
pub async fn load_sidecar(id: String) -> Result<SidecarState, ConsoleError> {
    let (console, caller) = console()?;
    Ok(console.sidecars.sidecar_state(&caller, &id).await?)
}

/// Removes a sidecar from its pipeline, if it is still as the page showed it (`etag`).
#[server]
pub async fn delete_sidecar(id: String, etag: Option<String>) -> Result<Deleted, ConsoleError> {
    let (console, caller) = console()?;
    Ok(console.sidecars.delete(&caller, &id, etag.as_deref(), false).await?)
}

/// Which cluster the console manages, for the page frame.
#[server]
pub async fn cluster_name() -> Result<String, ConsoleError> {
    let (console, _) = console()?;
    Ok(console.cluster.clone())
}
