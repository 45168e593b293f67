//! Operations: `/healthz` (the process answers), `/readyz` (Kubernetes answers and the watch
//! caches have synced), and Prometheus `/metrics` — requests by route and status with latency
//! histograms, Kubernetes calls by outcome, watch restarts, live streams open.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// The HTTP status Kubernetes answered, or `error` when it did not answer.
    outcome: String,
}

/// The console's metrics.
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    kubernetes: Family<OutcomeLabels, Counter>,
    /// Live streams (server-sent events) open now.
    pub streams: Gauge,
    watch_restarts: Gauge<u64, AtomicU64>,
    registry: Registry,
}

/// The one set of metrics of this process.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let requests = Family::<RequestLabels, Counter>::default();
    let latency =
        Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.5, 12)));
    let kubernetes = Family::<OutcomeLabels, Counter>::default();
    let streams = Gauge::default();
    let watch_restarts = Gauge::<u64, AtomicU64>::default();
    let mut registry = Registry::with_prefix("sidecar_console");
    registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
    registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route", latency.clone());
    registry.register(
        "kubernetes_requests",
        "Requests of the console's own client to Kubernetes, by outcome",
        kubernetes.clone(),
    );
    registry.register("sse_clients", "Live streams (server-sent events) open", streams.clone());
    registry.register(
        "watch_restarts",
        "Times the watch caches listed everything (twice at start, then once per restart)",
        watch_restarts.clone(),
    );
    Metrics { requests, latency, kubernetes, streams, watch_restarts, registry }
});

impl Metrics {
    /// Counts one answer of Kubernetes (its status code) or a failure to get one.
    pub fn kubernetes_call(&self, status: Option<u16>) {
        let outcome = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        self.kubernetes.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}

/// A Kubernetes client's result, counted (a layer of the console's own client).
pub fn count_call<B, E>(r: Result<axum::http::Response<B>, E>) -> Result<axum::http::Response<B>, E> {
    METRICS.kubernetes_call(r.as_ref().ok().map(|r| r.status().as_u16()));
    r
}

/// Counts every request by route (the route's pattern, not the path: IDs do not multiply
/// series) and status, and times it.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let m = &*METRICS;
    m.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(start.elapsed().as_secs_f64());
    m.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

/// Live streams one client address may hold open at once.
pub const STREAMS_PER_CLIENT: usize = 32;
/// Live streams the console holds open at once, for everyone.
pub const STREAMS_IN_ALL: usize = 2_000;

/// Streams open in all, and per client.
type OpenStreams = (usize, std::collections::HashMap<Option<std::net::IpAddr>, usize>);

static OPEN_STREAMS: LazyLock<std::sync::Mutex<OpenStreams>> = LazyLock::new(Default::default);

/// One open live stream, counted until it ends (however it ends).
pub struct StreamGuard(Option<std::net::IpAddr>);

impl StreamGuard {
    /// A stream for `client`, unless that client or everyone holds too many already.
    fn try_open(client: Option<std::net::IpAddr>) -> Result<Self, &'static str> {
        let mut open = OPEN_STREAMS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.0 >= STREAMS_IN_ALL {
            return Err("the console holds as many live streams as it can; try again later");
        }
        let mine = open.1.entry(client).or_default();
        if client.is_some() && *mine >= STREAMS_PER_CLIENT {
            return Err("this client holds as many live streams as it may; close some (each tab holds one)");
        }
        *mine += 1;
        open.0 += 1;
        METRICS.streams.inc();
        Ok(StreamGuard(client))
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut open = OPEN_STREAMS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.0) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.1.remove(&self.0);
            }
        }
        METRICS.streams.dec();
    }
}

/// Bounds the live streams (`…/watch`, `…/logs?follow=true`) per client address and in all:
/// past the bound a stream is refused with 503 and `Retry-After`, so that a client opening
/// streams without end cannot starve the others.
pub async fn bound_streams(req: Request, next: Next) -> Response {
    if !is_stream(req.uri()) {
        return next.run(req).await;
    }
    // Behind an authenticating proxy every user shares its address: there the user counts.
    let client = match req.extensions().get::<sidecar_service::Identity>() {
        Some(sidecar_service::Identity::Impersonated { user, .. }) => Some(user_slot(user)),
        _ => req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip()),
    };
    let guard = match StreamGuard::try_open(client) {
        Ok(g) => g,
        Err(why) => {
            let body = serde_json::json!({ "error": why });
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], axum::Json(body)).into_response();
        }
    };
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    // The guard lives as long as the body: the stream's end frees the slot.
    let body = axum::body::Body::from_stream(futures::StreamExt::map(body.into_data_stream(), move |chunk| {
        let _held = &guard;
        chunk
    }));
    Response::from_parts(parts, body)
}

/// Whether `uri` asks for a live stream, one that lasts as long as the client wants it.
pub fn is_stream(uri: &axum::http::Uri) -> bool {
    let path = uri.path();
    let follows = path.ends_with("/logs") && uri.query().is_some_and(|q| q.split('&').any(|p| p == "follow=true"));
    path.starts_with("/api/v1/") && (path.ends_with("/watch") || follows)
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(console): State<crate::api::ApiState>) -> Response {
    if let Some((_, restarts)) = console.sidecars.cache_state() {
        METRICS.watch_restarts.set(restarts);
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &METRICS.registry).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the metrics could not be encoded").into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}

/// `GET /healthz`: the process serves.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when Kubernetes answers the console and its caches have synced; 503
/// with the reason otherwise.
pub async fn readyz(State(console): State<crate::api::ApiState>) -> Response {
    let Some(client) = &console.client else {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready: no Kubernetes cluster is configured").into_response();
    };
    if let Err(e) = client.apiserver_version().await {
        let why = sidecar_service::ServiceError::from(e);
        return (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response();
    }
    match console.sidecars.cache_state() {
        // A console whose own account may not read Pipelines (token mode without the shared
        // cache) serves every user with their own client: its cache never syncs, and need not.
        Some((false, _)) if may_list_pipelines(client).await => {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: the watch caches have not synced yet").into_response()
        }
        _ => "ok".into_response(),
    }
}

/// Whether the console's own account may list Pipelines everywhere.
async fn may_list_pipelines(client: &kube::Client) -> bool {
    sidecar_service::access::Access::default().may(client, "list", "core.calyptia.com", "pipelines", "").await
}

/// A stand-in address for a user's own stream count (a hash of the name in the IPv6
/// unique-local range, which no client address behind a proxy has).
fn user_slot(user: &str) -> std::net::IpAddr {
    use sha2::Digest;
    let h = sha2::Sha256::digest(user.as_bytes());
    let mut b = [0u8; 16];
    b[0] = 0xfd;
    b[1..].copy_from_slice(&h[..15]);
    std::net::IpAddr::from(b)
}
