//! The Sidecar Console server: the Leptos-rendered web console and the REST API under
//! `/api/v1`, assembled into one axum [`Router`] by [`router`].

pub mod api;
pub mod auth;
pub mod bundles;
mod demo;
pub mod embedded;
pub mod memo;
pub mod ops;
pub mod serving;
pub mod sessions;

use axum::body::Body;
use axum::http::Request;
use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::path::Path;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Where the site's static files are and where the server listens. The script and the
/// WebAssembly of a build are in `pkg/<build>/`, named by `pkg/build.txt` (written by the
/// build); without one, in `pkg/`.
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir(pkg_dir(site_root))
        .site_addr(addr)
        .build()
}

/// `pkg/<build>` as `pkg/build.txt` names it, if it does and that folder exists; else `pkg`.
fn pkg_dir(site_root: &Path) -> String {
    let build = std::fs::read_to_string(site_root.join("pkg/build.txt")).unwrap_or_default();
    let build = build.trim();
    let plain = !build.is_empty() && build.chars().all(|c| c.is_ascii_alphanumeric());
    if plain && site_root.join("pkg").join(build).is_dir() {
        format!("pkg/{build}")
    } else {
        "pkg".to_owned()
    }
}

/// The Monaco bundle: its URLs carry its version (`/monaco/0.57.0/entry.js`), so browsers may
/// keep the files for a year without asking again.
fn monaco(options: &LeptosOptions) -> axum::routing::MethodRouter {
    let dir = Path::new(options.site_root.as_ref()).join("monaco");
    let files = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, forever))
        .service(ServeDir::new(dir).precompressed_br());
    axum::routing::get_service(files)
}

/// The files of this build (`/pkg/<build>/`): their URL changes with their contents, so
/// browsers may keep them for a year, as Monaco's. Both are sent as the build compressed them
/// (`NAME.br`, brotli at its best) to browsers that accept brotli: the compression layer, which
/// leaves them alone, can afford only a fast quality per response (4: about a fifth larger).
/// A page's chunks come as one download from `bundle` (see [`bundles`]).
fn build(options: &LeptosOptions) -> Router {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let versioned = options.site_pkg_dir.as_ref() != "pkg";
    let files =
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, move |r: &axum::http::Response<_>| {
                if versioned {
                    forever(r)
                } else {
                    None
                }
            }))
            .service(ServeDir::new(&dir).precompressed_br());
    let bundles = std::sync::Arc::new(bundles::Bundles::new(dir, versioned));
    Router::new()
        .route("/bundle", axum::routing::get(bundles::serve).with_state(bundles))
        .fallback_service(axum::routing::get_service(files))
}

/// A year, immutable, for what was found (a 404 must not be kept).
fn forever<B>(res: &axum::http::Response<B>) -> Option<HeaderValue> {
    res.status().is_success().then(|| HeaderValue::from_static("public, max-age=31536000, immutable"))
}

/// A URI for the logs: query values whose names speak of credentials are left out (nobody
/// should send a token in a URL, but whoever does must not find it in the logs).
fn redacted(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else { return uri.path().to_owned() };
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["token", "auth", "pass", "secret", "key", "session", "cookie", "credential"].iter().any(|w| k.contains(w))
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret(k) => format!("{k}=REDACTED"),
            None if secret(pair) => "REDACTED".to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), parts.join("&"))
}

/// The policy of HTML that is not a console page (the sign-in page, errors): no script at all.
const STRICT_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every response carries; HTML without a Content-Security-Policy of its own (the pages
/// set theirs, with the nonce of their inline scripts) gets the strict one.
async fn security_headers(mut r: axum::response::Response) -> axum::response::Response {
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STRICT_POLICY));
    }
    r
}

/// The app's page routes, found once per process. Leptos finds them by rendering the app, and
/// meanwhile suppresses the resource loads of the whole process: a page that another router of
/// this process rendered at that moment would wait for ever for data that never loads.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The whole application without authentication (the console's own identity for every
/// request; for loopback).
pub fn router(options: LeptosOptions, api: api::ApiState) -> Router {
    router_with_auth(options, api, auth::Auth::none())
}

/// The whole application: REST API, pages, the sign-in, and the site's static files, every
/// route behind `auth`.
pub fn router_with_auth(options: LeptosOptions, api: api::ApiState, auth: auth::Auth) -> Router {
    let routes = page_routes();
    let shell_options = options.clone();
    // The pages' server functions reach the same console as the REST handlers.
    let console: app::api::Shared = std::sync::Arc::new(api.clone());
    let context = move || {
        leptos::prelude::provide_context(console.clone());
        // A page that may be served again is rendered with the placeholder for its nonce.
        let nonce = leptos::prelude::with_context::<axum::http::request::Parts, _>(|p| {
            p.extensions.get::<memo::RenderNonce>().cloned()
        })
        .flatten();
        if let Some(memo::RenderNonce(n)) = nonce {
            leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(n));
        }
    };
    let memo = memo::Memo::new(api.clone());
    Router::new()
        // The console opens on its pipelines.
        .route("/", axum::routing::get(|| async { axum::response::Redirect::to("/pipelines") }))
        .route("/login", axum::routing::get(auth::login_page).post(auth::login).with_state(auth.clone()))
        .route("/logout", axum::routing::post(auth::logout).with_state(auth.clone()))
        .route("/healthz", axum::routing::get(ops::healthz))
        .route("/readyz", axum::routing::get(ops::readyz).with_state(api.clone()))
        .route("/metrics", axum::routing::get(ops::metrics).with_state(api.clone()))
        .nest("/api/v1", api::router(api))
        .nest_service("/monaco", monaco(&options))
        .nest_service(&format!("/{}", options.site_pkg_dir), build(&options))
        .leptos_routes_with_context(&options, routes, context.clone(), move || app::shell(shell_options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context(context, app::shell))
        .layer(axum::middleware::from_fn_with_state(memo, memo::pages))
        // Counted per route (inside the router, where the route's pattern is known).
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(ops::bound_streams))
        .with_state(options)
        .layer(axum::middleware::from_fn(serving::bound_bodies))
        // Who each request comes from, before any route sees it.
        .layer(axum::middleware::from_fn_with_state(auth, auth::identify))
        // A cross-site POST, PUT, PATCH or DELETE is refused on every route, present and
        // future: the REST API and the pages' server functions (which a cross-site <form>
        // could otherwise send without a preflight) alike.
        .layer(tower_http::csrf::CsrfLayer::new())
        .layer(axum::middleware::map_response(security_headers))
        // The WebAssembly is about a third of its size with brotli.
        .layer(CompressionLayer::new())
        // Every request gets an ID (or keeps the caller's `x-request-id`), in its tracing span
        // and in the response, so that a user's report can be found in the logs.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %redacted(req.uri()), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_in_a_query_never_reach_the_logs() {
        let uri: axum::http::Uri =
            "/api/v1/pipelines?namespace=logging&access_token=abc&Token=x&q=web".parse().unwrap();
        assert_eq!(
            super::redacted(&uri),
            "/api/v1/pipelines?namespace=logging&access_token=REDACTED&Token=REDACTED&q=web"
        );
        assert_eq!(super::redacted(&"/pipelines".parse().unwrap()), "/pipelines");
    }
}
