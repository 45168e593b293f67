//! The pipelines list and a pipeline's page, rendered once per state of the cluster, caller and
//! second: the same HTML asked for again is served from memory.
//!
//! A render of these pages is a function of its URL, the caller (who they are decides what they may
//! see and do), what the watch cache holds (the pages read nothing else, but for callers the cache
//! may not answer, who are answered by Kubernetes, whose changes the watch then brings as well) and
//! the clock to the second (the ages it prints) — and of the nonce of its inline scripts, which is
//! different in every response. So the page is rendered with a placeholder for the nonce and kept
//! under its URL and caller for as long as the second and the cache's version of what it is made of
//! are the same ([`cache_version`](sidecar_service::Sidecars::cache_version) for the list,
//! [`cache_version_of`](sidecar_service::Sidecars::cache_version_of) its pipeline for a pipeline's
//! page); each response gets a fresh nonce in place of the placeholder, in its body and in its
//! Content-Security-Policy. A render during which that version changed, or the second turned, is
//! served but not kept; nothing is kept while the cache does not answer (reads then go to
//! Kubernetes, whose state has no version here). The placeholder is random for each process and
//! never leaves it: every response has it replaced.
//!
//! Rendering the pipeline page costs several times the JSON of the same data (Leptos' reactive
//! machinery, the hydration scripts, not the data); served again it costs less than the JSON.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use sidecar_service::access::UserName;
use sidecar_service::{Console, Identity};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The most pages kept at once (of one second and cache version); more are rendered each time.
const MOST: usize = 256;
/// The largest page kept.
const LARGEST: usize = 1024 * 1024;
/// The most bytes of pages kept at once.
const BYTES: usize = 16 * 1024 * 1024;

/// The nonce the pages are rendered with, in the request's extensions: the page's scripts carry
/// it until [`pages`] puts a fresh one in its place.
#[derive(Clone, Debug)]
pub struct RenderNonce(pub Arc<str>);

/// The kept pages (cheap to clone; one per console).
#[derive(Clone)]
pub struct Memo {
    console: Console,
    placeholder: Arc<str>,
    kept: Arc<Mutex<Kept>>,
}

#[derive(Default)]
struct Kept {
    /// The second the pages were rendered in.
    second: u64,
    /// Each with the cache version it was rendered at.
    pages: HashMap<Key, (u64, Arc<Page>)>,
    bytes: usize,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    path_and_query: String,
    identity: Option<Identity>,
    user: Option<String>,
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Bytes,
}

/// What a page kept here is made of.
#[derive(Debug, PartialEq)]
enum Made {
    /// Every pipeline (the list).
    Pipelines,
    /// One pipeline and its pods.
    Pipeline(String, String),
}

impl Memo {
    /// Pages of `console`, none kept yet.
    pub fn new(console: Console) -> Self {
        let placeholder: Arc<str> = leptos::nonce::Nonce::new().to_string().into();
        Memo { console, placeholder, kept: Arc::default() }
    }

    fn get(&self, (second, version): (u64, u64), key: &Key) -> Option<Arc<Page>> {
        let kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match kept.pages.get(key) {
            Some((v, page)) if kept.second == second && *v == version => Some(page.clone()),
            _ => None,
        }
    }

    fn put(&self, (second, version): (u64, u64), key: Key, page: Arc<Page>) {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.second != second {
            // Pages of another second are never served again.
            kept.pages.clear();
            kept.bytes = 0;
            kept.second = second;
        }
        let size = page.body.len();
        if let Some((_, old)) = kept.pages.remove(&key) {
            kept.bytes -= old.body.len();
        }
        if kept.pages.len() < MOST && kept.bytes + size <= BYTES {
            kept.bytes += size;
            kept.pages.insert(key, (version, page));
        }
    }

    /// The second and the version of what `made` is made of, now; `None` while the cache does
    /// not answer.
    fn now(&self, made: &Made) -> Option<(u64, u64)> {
        let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        let version = match made {
            Made::Pipelines => self.console.sidecars.cache_version()?,
            Made::Pipeline(ns, name) => self.console.sidecars.cache_version_of(ns, name)?,
        };
        Some((second, version))
    }
}

/// What `req` asks for, when it is a page made only of what the watch cache holds: the
/// pipelines list (`/pipelines`) or a pipeline's page (`/pipelines/NS/NAME`, any tab), whose
/// namespace and name are written plainly (a name written with `%` escapes is rendered every
/// time rather than decoded twice). A sidecar's page reads its pod events from Kubernetes, so it
/// is rendered every time.
fn made_from_cache(req: &Request) -> Option<Made> {
    if req.method() != Method::GET {
        return None;
    }
    let plain = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    let mut segments = req.uri().path().strip_prefix('/').unwrap_or_default().split('/');
    match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some("pipelines"), None, _, _) => Some(Made::Pipelines),
        (Some("pipelines"), Some(ns), Some(name), None) if plain(ns) && plain(name) => {
            Some(Made::Pipeline(ns.to_owned(), name.to_owned()))
        }
        _ => None,
    }
}

/// Serves the pages [`made_from_cache`] from memory when they were rendered at the same second
/// and cache version for the same caller; renders (and keeps) them otherwise.
pub async fn pages(State(memo): State<Memo>, mut req: Request, next: Next) -> Response {
    let Some(made) = made_from_cache(&req) else { return next.run(req).await };
    let Some(at) = memo.now(&made) else { return next.run(req).await };
    let key = Key {
        path_and_query: req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        identity: req.extensions().get::<Identity>().cloned(),
        user: req.extensions().get::<UserName>().map(|u| u.0.clone()),
    };
    if let Some(page) = memo.get(at, &key) {
        return serve(&page, &memo.placeholder);
    }
    req.extensions_mut().insert(RenderNonce(memo.placeholder.clone()));
    let (parts, body) = next.run(req).await.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "a page could not be rendered whole");
            let error = "the console could not finish this page; try again";
            return (StatusCode::INTERNAL_SERVER_ERROR, error).into_response();
        }
    };
    let page = Arc::new(Page { status: parts.status, headers: parts.headers, body });
    let keep = page.status == StatusCode::OK
        && !page.headers.contains_key(header::SET_COOKIE)
        && page.body.len() <= LARGEST
        && memo.now(&made) == Some(at);
    let response = serve(&page, &memo.placeholder);
    if keep {
        memo.put(at, key, page);
    }
    response
}

/// `page` with a fresh nonce where its placeholder stands.
fn serve(page: &Page, placeholder: &str) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    let mut response = Response::new(Body::from(replace(&page.body, placeholder.as_bytes(), nonce.as_bytes())));
    *response.status_mut() = page.status;
    for (name, value) in &page.headers {
        // Hyper frames the body itself.
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        let value = match value.to_str() {
            Ok(v) if v.contains(placeholder) => {
                HeaderValue::from_str(&v.replace(placeholder, &nonce)).unwrap_or_else(|_| value.clone())
            }
            _ => value.clone(),
        };
        response.headers_mut().append(name, value);
    }
    response
}

/// `bytes` with every `from` replaced by `to` (of the same length: nonces are).
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Bytes {
    let finder = memchr::memmem::Finder::new(from);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut rest = bytes;
    while let Some(i) = finder.find(rest) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn only_the_pages_made_from_the_cache_are_kept() {
        let made = |uri: &str| made_from_cache(&get(uri));
        let pipeline = Some(Made::Pipeline("logging".into(), "web-access".into()));
        assert_eq!(made("/pipelines"), Some(Made::Pipelines));
        assert_eq!(made("/pipelines?namespace=logging&page=2"), Some(Made::Pipelines));
        assert_eq!(made("/pipelines/logging/web-access?tab=status"), pipeline);
        assert_eq!(made("/pipelines/logging/web-access"), pipeline);
        // Written with escapes, the name is not the key of the pipeline it names.
        assert_eq!(made("/pipelines/logging/web%2Daccess"), None);
        // A sidecar's page reads its events from Kubernetes.
        assert_eq!(made("/pipelines/logging/web-access/sidecars/abc"), None);
        assert_eq!(made("/pipelines/logging/web-access/sidecars/new"), None);
        assert_eq!(made("/pipelines/logging"), None);
        assert_eq!(made("/validate"), None);
        assert_eq!(made("/api/v1/pipelines"), None);
        assert_eq!(made_from_cache(&Request::post("/pipelines").body(Body::empty()).unwrap()), None);
    }

    #[test]
    fn every_placeholder_is_replaced() {
        assert_eq!(&replace(b"a-XX-b-XX", b"XX", b"yy")[..], b"a-yy-b-yy");
        assert_eq!(&replace(b"none here", b"XX", b"yy")[..], b"none here");
        assert_eq!(&replace(b"XX", b"XX", b"yy")[..], b"yy");
    }
}
