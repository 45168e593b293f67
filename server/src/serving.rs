//! Serving the console over TCP, plain or TLS, with bounds that keep slow and idle clients from
//! holding the console: a client has [`Limits::header_read`] to send a request's head (also the
//! next one on a kept-alive connection, so an idle connection is closed after that long), and
//! [`Limits::body`] to send its body, which is also bounded in size (see [`bound_bodies`]);
//! and a request the console cannot answer within [`Limits::answer`] (Kubernetes slow or
//! silent) is a 504 in words, never a wait without end.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// How long a client may take over a request.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// To send a request's line and headers; also how long a kept-alive connection may idle.
    pub header_read: Duration,
    /// To send a request's whole body.
    pub body: Duration,
    /// For the console to answer a request (live streams aside).
    pub answer: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { header_read: Duration::from_secs(10), body: Duration::from_secs(30), answer: Duration::from_secs(30) }
    }
}

/// Serves `app` on `listener` until `shutdown` completes (then lets requests in flight finish
/// for up to 10 s): TLS when `tls` is given, else plain HTTP/1.1 and HTTP/2.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let app = app.layer(axum::middleware::from_fn(move |req: Request, next: Next| deadlines(limits, req, next)));
    // The peer's address decides whether a proxy's X-Forwarded-User is believed.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let configure = |builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>| {
        builder.http1().header_read_timeout(Some(limits.header_read));
        // HTTP/2 has no header timeout of its own: pings find dead peers, and a connection
        // idle for as long as an HTTP/1 client may idle is closed.
        builder
            .http2()
            .keep_alive_interval(Some(limits.header_read))
            .keep_alive_timeout(limits.header_read)
            .max_concurrent_streams(Some(250));
    };
    match tls {
        Some(config) => {
            let mut server = axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .first_request_timeout(limits.header_read);
            configure(server.http_builder());
            server.serve(app).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?.handle(handle).first_request_timeout(limits.header_read);
            configure(server.http_builder());
            server.serve(app).await
        }
    }
}

/// The largest request body the console reads.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Bodies larger than [`BODY_LIMIT`] are refused before they are read: at once when their
/// `Content-Length` says so (413), else as soon as that many bytes have come.
pub async fn bound_bodies(req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        let body = serde_json::json!({
            "error": format!("the request body is larger than the limit of {BODY_LIMIT} bytes")
        });
        return (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], axum::Json(body)).into_response();
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, BODY_LIMIT));
    next.run(Request::from_parts(parts, body)).await
}

/// A body that has not come whole within its limit fails to read (the API answers 408); an
/// answer that has not begun within its limit is a 504.
async fn deadlines(limits: Limits, req: Request, next: Next) -> Response {
    let stream = crate::ops::is_stream(req.uri());
    let writes = !req.method().is_safe();
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(tower_http::timeout::DeadlineBody::new(limits.body, body));
    let answer = next.run(Request::from_parts(parts, body));
    if stream {
        return answer.await;
    }
    match tokio::time::timeout(limits.answer, answer).await {
        Ok(response) => response,
        Err(_) => {
            // A write given up on may still reach Kubernetes (it may be on its way): retrying
            // blindly could do it twice.
            let then = if writes { "the change may still be made, so look before trying again" } else { "try again" };
            let error = format!(
                "the console could not answer within {} s: Kubernetes is slow to answer or cannot be reached; {then}",
                limits.answer.as_secs()
            );
            (StatusCode::GATEWAY_TIMEOUT, axum::Json(serde_json::json!({ "error": error }))).into_response()
        }
    }
}
