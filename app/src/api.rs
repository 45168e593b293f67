//! The pages' server functions: each a thin call of the service with the request's caller.
//! The same service answers the REST API; nothing about a sidecar is decided here.
//!
//! Each names its endpoint (`/api/NAME`). Leptos' default appends a hash of the crate's folder,
//! so a browser build and a server build from two checkouts of the same code would not find
//! each other (every call a 404); a named endpoint is the same wherever the code is built.

use crate::error::ConsoleError;
use leptos::prelude::*;
use leptos::server_fn;
use sidecar_api::{Deleted, PipelinePage, PipelineState, SidecarState};

/// The console and the caller of the request being served.
#[cfg(feature = "ssr")]
fn console() -> Result<(Shared, sidecar_service::Caller), ConsoleError> {
    let console = use_context::<Shared>()
        .ok_or_else(|| ConsoleError::Transport("the console's service is not available".into()))?;
    // The authentication layer put the request's identity (if any) in its extensions (read in
    // place: the request's parts are not cloned for it).
    let identity =
        with_context::<http::request::Parts, _>(|p| p.extensions.get::<sidecar_service::Identity>().cloned()).flatten();
    let caller = console.caller(identity.as_ref())?;
    Ok((console, caller))
}

/// The console the server provides to its pages, shared (one count more per request, not a copy
/// of its clients and caches).
#[cfg(feature = "ssr")]
pub type Shared = std::sync::Arc<sidecar_service::Console>;

/// `result`, with the status of its error on the response when the browser called the function
/// itself: a missing sidecar answers 404 and a refused write 403 or 409, as the REST API's would,
/// not a 500 for everything. While a page is rendered the function runs inside the page's
/// request, whose status is the page's own business (its not-found page sets 404).
#[cfg(feature = "ssr")]
fn answer<T>(result: Result<T, ConsoleError>) -> Result<T, ConsoleError> {
    let Err(e) = &result else { return result };
    let status = match e {
        ConsoleError::NotFound(_) => http::StatusCode::NOT_FOUND,
        ConsoleError::Failed { status, .. } => {
            http::StatusCode::from_u16(*status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
        }
        ConsoleError::Transport(_) => return result,
    };
    let own_call = with_context::<http::request::Parts, _>(|p| p.uri.path().starts_with("/api/")).unwrap_or(false);
    if let (true, Some(r)) = (own_call, use_context::<leptos_axum::ResponseOptions>()) {
        r.set_status(status);
    }
    result
}

pub use sidecar_api::PER_PAGE;

/// JSON, as Leptos' own `Json`, read in the browser from text rather than from bytes: the page's
/// resources and live streams read the same types from text, and reading each type one way
/// keeps one copy of its decoder in the WebAssembly instead of two.
pub struct TextJson;

impl server_fn::ContentType for TextJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl server_fn::FormatType for TextJson {
    const FORMAT_TYPE: server_fn::Format = server_fn::Format::Text;
}

impl<T: serde::Serialize> server_fn::Encodes<T> for TextJson {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(server_fn::Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> server_fn::Decodes<T> for TextJson {
    type Error = serde_json::Error;

    fn decode(bytes: server_fn::Bytes) -> Result<T, Self::Error> {
        // JSON is UTF-8; what is not is reported as the syntax error it is.
        let text = std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

/// The server functions' answers: [`TextJson`] in the body of a `POST`'s response.
pub type JsonAnswer = server_fn::codec::Post<TextJson>;

/// A page of the pipelines, filtered by namespace and a search text.
#[server(endpoint = "list_pipelines", output = JsonAnswer)]
pub async fn list_pipelines(
    namespace: Option<String>,
    search: Option<String>,
    page: usize,
) -> Result<PipelinePage, ConsoleError> {
    answer(
        async {
            let (console, caller) = console()?;
            let q = sidecar_service::PipelineQuery { namespace, search, page, per_page: PER_PAGE };
            Ok(console.sidecars.pipeline_page(&caller, &q).await?)
        }
        .await,
    )
}

/// Every namespace that holds a pipeline.
#[server(endpoint = "list_namespaces", output = JsonAnswer)]
pub async fn list_namespaces() -> Result<Vec<String>, ConsoleError> {
    answer(
        async {
            let (console, caller) = console()?;
            let q = sidecar_service::PipelineQuery { per_page: 1, ..Default::default() };
            Ok(console.sidecars.pipeline_page(&caller, &q).await?.namespaces)
        }
        .await,
    )
}

/// A pipeline with its sidecars and status.
#[server(endpoint = "load_pipeline", output = JsonAnswer)]
pub async fn load_pipeline(namespace: String, name: String) -> Result<PipelineState, ConsoleError> {
    answer(
        async {
            let (console, caller) = console()?;
            Ok(console.sidecars.pipeline_state(&caller, &namespace, &name).await?)
        }
        .await,
    )
}

/// A sidecar with its replicas, events and diagnosis.
#[server(endpoint = "load_sidecar", output = JsonAnswer)]
pub async fn load_sidecar(id: String) -> Result<SidecarState, ConsoleError> {
    answer(
        async {
            let (console, caller) = console()?;
            Ok(console.sidecars.sidecar_state(&caller, &id).await?)
        }
        .await,
    )
}

/// Removes a sidecar from its pipeline, if it is still as the page showed it (`etag`).
#[server(endpoint = "delete_sidecar", output = JsonAnswer)]
pub async fn delete_sidecar(id: String, etag: Option<String>) -> Result<Deleted, ConsoleError> {
    answer(
        async {
            let (console, caller) = console()?;
            Ok(console.sidecars.delete(&caller, &id, etag.as_deref(), false).await?)
        }
        .await,
    )
}

/// What the page frame shows: the cluster, and who is signed in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Which cluster the console manages.
    pub cluster: String,
    /// The signed-in user, when the console has sign-in.
    pub user: Option<String>,
}

/// The page frame's facts, at once and without a call: the server reads them from the request,
/// the browser from the frame the server rendered (they do not change while a page is open).
/// A resource for them cost every page about a fifth of its rendering on the server (its task,
/// its suspense and its data in the page), for two words.
pub fn frame_facts() -> Frame {
    #[cfg(feature = "ssr")]
    {
        let unknown = || Frame { cluster: "no cluster".to_owned(), user: None };
        let Some(cluster) = with_context::<Shared, _>(|c| c.cluster.clone()) else { return unknown() };
        let (signed_in, user) = with_context::<http::request::Parts, _>(|p| {
            let user = p.extensions.get::<sidecar_service::access::UserName>().map(|u| u.0.clone());
            (p.extensions.get::<sidecar_service::Identity>().is_some(), user)
        })
        .unwrap_or_default();
        // Which cluster is nobody's business before signing in.
        if !signed_in {
            return unknown();
        }
        Frame { cluster, user }
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let doc = document();
        let text = |selector: &str| doc.query_selector(selector).ok().flatten().and_then(|e| e.text_content());
        Frame { cluster: text(".topbar .cluster").unwrap_or_default(), user: text(".topbar .user") }
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    Frame::default()
}

/// What the sidecar editor starts from: the pipeline, the sidecar being edited (none when one is
/// added), and the ConfigMaps a sidecar of that pipeline can mount.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EditorSeed {
    /// The pipeline.
    pub pipeline: sidecar_api::PipelineView,
    /// The sidecar as stored, with its ETag.
    pub sidecar: Option<sidecar_api::SidecarView>,
    /// The ConfigMaps of the pipeline's namespace, with their keys.
    pub config_maps: Vec<sidecar_api::ConfigMapView>,
    /// What the cluster's Pipeline CRD stores of a sidecar, when it is not our CRD (Calyptia
    /// Core's): drafts are checked against it, and the form offers only what it declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_schema: Option<serde_json::Value>,
    /// What the user may do with the pipeline (applying needs `change`).
    #[serde(default)]
    pub rights: sidecar_api::Rights,
}

/// Loads what the editor needs; `id` is the sidecar to edit, `None` to add one.
#[server(endpoint = "load_editor", output = JsonAnswer)]
pub async fn load_editor(namespace: String, name: String, id: Option<String>) -> Result<EditorSeed, ConsoleError> {
    answer(editor_seed(namespace, name, id).await)
}

/// What [`load_editor`] answers.
#[cfg(feature = "ssr")]
async fn editor_seed(namespace: String, name: String, id: Option<String>) -> Result<EditorSeed, ConsoleError> {
    let (console, caller) = console()?;
    let pipeline = console.sidecars.get_pipeline(&caller, &namespace, &name).await?;
    let sidecar = match id {
        Some(id) => Some(own_sidecar(&console, &caller, &namespace, &name, &id).await?),
        None => None,
    };
    let rights = caller.rights(&namespace).await;
    // Without the right to list them, the picker is empty and says why (the editor still works).
    let config_maps = if rights.config_maps.allowed {
        console.sidecars.config_maps(&caller, &namespace, &name).await?
    } else {
        Vec::new()
    };
    let cluster_schema = console.sidecars.foreign_sidecar_schema().map(|s| s.as_ref().clone());
    Ok(EditorSeed { pipeline, sidecar, config_maps, cluster_schema, rights })
}

/// Sidecar `id`, which must belong to pipeline `namespace/name` (a link may be edited by hand).
#[cfg(feature = "ssr")]
async fn own_sidecar(
    console: &sidecar_service::Console,
    caller: &sidecar_service::Caller,
    namespace: &str,
    name: &str,
    id: &str,
) -> Result<sidecar_api::SidecarView, ConsoleError> {
    let s = console.sidecars.get(caller, id).await?;
    if s.pipeline.namespace != namespace || s.pipeline.name != name {
        return Err(ConsoleError::NotFound(format!(
            "sidecar \"{id}\" is not a sidecar of pipeline {namespace}/{name}"
        )));
    }
    Ok(s)
}

/// What a write of a draft answers.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    /// The sidecar's ID.
    pub id: String,
    /// What the Kubernetes API server warned about the write.
    pub warnings: Vec<String>,
}

/// Writes a draft: adds it to pipeline `namespace/name` (`id` is `None`) or replaces sidecar
/// `id` if it is still at `etag`. With `dry_run` the server checks everything (the spec, the
/// rules across the pipeline's sidecars, the ConfigMaps, the cluster's Pipeline schema) and
/// writes nothing. Answers the sidecar's ID and Kubernetes' warnings.
#[server(endpoint = "save_sidecar", output = JsonAnswer)]
pub async fn save_sidecar(
    namespace: String,
    name: String,
    id: Option<String>,
    spec: String,
    etag: Option<String>,
    dry_run: bool,
) -> Result<Saved, ConsoleError> {
    let result = async {
        let (console, caller) = console()?;
        let value: serde_json::Value = serde_json::from_str(&spec)
            .map_err(|e| sidecar_service::ServiceError::Syntax(sidecar_spec::SyntaxError::from(e)))?;
        match id {
            None => {
                let c = console.sidecars.create(&caller, &namespace, &name, value, dry_run).await?;
                Ok(Saved { id: c.id, warnings: c.warnings })
            }
            Some(id) => {
                own_sidecar(&console, &caller, &namespace, &name, &id).await?;
                let v = console.sidecars.update(&caller, &id, value, etag.as_deref(), dry_run).await?;
                Ok(Saved { id: v.id, warnings: v.warnings })
            }
        }
    }
    .await;
    answer(result)
}
