//! A page's WebAssembly chunks as one download: `/pkg/<build>/bundle?chunks=NAME,NAME,…`.
//!
//! A page that shows a lazily loaded part needs one or two dozen chunks of the split build.
//! Compressed together they are about a sixth smaller than compressed one by one (brotli finds
//! the code they share), and they come in one request instead of twenty. The page links its
//! bundle (`<link rel="preload">`, see `app::components::code`); the chunk loader takes a chunk
//! from the bundle that holds it and fetches a chunk alone only when none does.
//!
//! The body holds each chunk, the largest first: the length of its name (two bytes,
//! little-endian), its name, its length (four bytes, little-endian), its bytes. To browsers that accept brotli it is sent compressed at brotli's best quality, which
//! takes up to a second or two for the largest bundle: that is done once per bundle, in the
//! background, and kept; until it is ready, a bundle is compressed at a fast quality.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

/// At most this many chunks in one bundle (a page of the console needs twenty to forty).
const MAX_CHUNKS: usize = 128;
/// At most this many bundles compressed at the best quality and kept (the console's pages
/// use about ten; anyone may ask for others, which are then compressed fast each time).
const MAX_KEPT: usize = 64;
/// Brotli's quality while the best is not ready: a few milliseconds, about a sixth larger.
const FAST: u32 = 5;
/// Brotli's best quality.
const BEST: u32 = 11;

/// The bundles of one build's folder.
pub struct Bundles {
    dir: PathBuf,
    /// Whether the folder's URL names the build (then a bundle may be cached for a year).
    versioned: bool,
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// Bundles compressed at the best quality, by their chunks' names joined with commas.
    done: HashMap<String, Bytes>,
    /// Bundles being compressed at the best quality.
    busy: HashSet<String>,
}

/// Why a bundle is not sent.
#[derive(Debug, thiserror::Error)]
enum BundleError {
    #[error("name the chunks of the bundle: ?chunks=NAME,NAME,…")]
    Empty,
    #[error("a bundle holds at most {MAX_CHUNKS} chunks")]
    TooMany,
    #[error("\"{0}\" is not the name of a chunk")]
    BadName(String),
    #[error("chunk \"{0}\" is named twice")]
    Twice(String),
    #[error("chunk \"{0}\" is not a chunk of this build")]
    Missing(String),
}

impl IntoResponse for BundleError {
    fn into_response(self) -> Response {
        let status = match self {
            BundleError::Missing(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

/// The query: `chunks`, the chunks' names (files `NAME.wasm`) separated by commas.
#[derive(serde::Deserialize)]
pub struct Chunks {
    chunks: Option<String>,
}

impl Bundles {
    /// The bundles of the chunks in `dir`.
    pub fn new(dir: PathBuf, versioned: bool) -> Self {
        Bundles { dir, versioned, kept: Mutex::default() }
    }

    /// The chunks' names, checked: letters, digits and `_`, each once.
    fn names(query: &str) -> Result<Vec<&str>, BundleError> {
        let names: Vec<&str> = query.split(',').filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return Err(BundleError::Empty);
        }
        if names.len() > MAX_CHUNKS {
            return Err(BundleError::TooMany);
        }
        let mut seen = HashSet::new();
        for name in &names {
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(BundleError::BadName(name.chars().take(80).collect()));
            }
            if !seen.insert(*name) {
                return Err(BundleError::Twice((*name).to_owned()));
            }
        }
        Ok(names)
    }

    /// The bundle's body, uncompressed: the largest chunk first (brotli then finds more of
    /// each smaller chunk in what came before: 0.1 to 0.7 kB less per page than in name order).
    async fn body(&self, names: &[&str]) -> Result<Vec<u8>, BundleError> {
        let mut chunks = Vec::with_capacity(names.len());
        for name in names {
            let chunk = tokio::fs::read(self.dir.join(format!("{name}.wasm")))
                .await
                .map_err(|_| BundleError::Missing((*name).to_owned()))?;
            let len = u32::try_from(chunk.len()).map_err(|_| BundleError::Missing((*name).to_owned()))?;
            chunks.push((*name, len, chunk));
        }
        chunks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut body = Vec::with_capacity(chunks.iter().map(|c| c.2.len() + c.0.len() + 6).sum());
        for (name, len, chunk) in chunks {
            // Names are at most a query's length, far below 64 KiB.
            body.extend_from_slice(&(name.len() as u16).to_le_bytes());
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&len.to_le_bytes());
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bundle `key` compressed: at the best quality if it is ready; else fast, and the best
    /// is started in the background unless it is already being made or enough are kept.
    async fn compressed(self: &Arc<Self>, key: String, body: Vec<u8>) -> Bytes {
        let start = {
            let mut kept = self.kept();
            if let Some(done) = kept.done.get(&key) {
                return done.clone();
            }
            let start = !kept.busy.contains(&key) && kept.done.len() + kept.busy.len() < MAX_KEPT;
            if start {
                kept.busy.insert(key.clone());
            }
            start
        };
        let body = Arc::new(body);
        if start {
            let (this, body) = (self.clone(), body.clone());
            tokio::task::spawn_blocking(move || {
                let best = Bytes::from(brotli(&body, BEST));
                let mut kept = this.kept();
                kept.busy.remove(&key);
                kept.done.insert(key, best);
            });
        }
        let fast = tokio::task::spawn_blocking(move || brotli(&body, FAST)).await;
        Bytes::from(fast.unwrap_or_default())
    }
}

/// Brotli at `quality`, with a window as large as the data needs (up to 16 MiB).
fn brotli(data: &[u8], quality: u32) -> Vec<u8> {
    let window = data.len().max(1 << 16).next_power_of_two().trailing_zeros().clamp(16, 24);
    let mut out = Vec::with_capacity(data.len() / 3);
    {
        let mut writer = ::brotli::CompressorWriter::new(&mut out, 1 << 16, quality, window);
        // Writing to a Vec does not fail.
        let _ = writer.write_all(data);
        let _ = writer.flush();
    }
    out
}

/// Whether the request's `Accept-Encoding` takes brotli.
fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let refused = |p: &str| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0));
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case("br")) && !parts.any(refused)
        },
    )
}

/// `GET /pkg/<build>/bundle?chunks=…`.
pub async fn serve(State(bundles): State<Arc<Bundles>>, Query(q): Query<Chunks>, headers: HeaderMap) -> Response {
    let query = q.chunks.unwrap_or_default();
    let names = match Bundles::names(&query) {
        Ok(names) => names,
        Err(e) => return e.into_response(),
    };
    let key = names.join(",");
    let brotli = accepts_brotli(&headers);
    // A bundle kept at the best quality is sent without reading its chunks again.
    let kept = if brotli { bundles.kept().done.get(&key).cloned() } else { None };
    let packed = match kept {
        Some(best) => best,
        None => {
            let body = match bundles.body(&names).await {
                Ok(body) => body,
                Err(e) => return e.into_response(),
            };
            if !brotli {
                return with_headers(Body::from(body).into_response(), bundles.versioned);
            }
            bundles.compressed(key, body).await
        }
    };
    let mut response = Body::from(packed).into_response();
    response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    with_headers(response, bundles.versioned)
}

/// The headers of every bundle sent.
fn with_headers(mut response: Response, versioned: bool) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if versioned {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(Bundles::names("chunk_1,split_a_2").unwrap(), ["chunk_1", "split_a_2"]);
        assert!(matches!(Bundles::names(""), Err(BundleError::Empty)));
        assert!(matches!(Bundles::names("../x"), Err(BundleError::BadName(_))));
        assert!(matches!(Bundles::names("a,b,a"), Err(BundleError::Twice(n)) if n == "a"));
        let many = (0..=MAX_CHUNKS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        assert!(matches!(Bundles::names(&many), Err(BundleError::TooMany)));
    }

    #[test]
    fn brotli_is_taken_unless_refused() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_brotli(&h)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("BR;q=0.5"));
        assert!(!with("gzip"));
        assert!(!with("br;q=0"));
        assert!(!with("brotli"));
    }
}
