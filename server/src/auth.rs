//! Who a request comes from (`--auth`), established once for every route by [`identify`]:
//!
//! * `none`: the console's own credentials; allowed only on a loopback address.
//! * `token`: a Kubernetes bearer token, from `Authorization: Bearer` or from a sign-in
//!   (`/login`) that keeps it server-side behind an opaque session cookie.
//! * `proxy`: the user an authenticating proxy names in `X-Forwarded-User` /
//!   `X-Forwarded-Groups`, believed only from `--trusted-proxy` addresses, and impersonated.
//!
//! A request with no identity gets none: the service answers it 401, pages send it to
//! `/login`. The console's own account is never lent to it.

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::Api;
use serde::Deserialize;
use sidecar_service::access::{Connect, UserName};
use sidecar_service::Identity;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "sidecar_session";
/// How long a sign-in lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sign-in attempts allowed per client address per minute.
pub const ATTEMPTS_PER_MINUTE: usize = 10;

/// How the console authenticates its users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The console's own Kubernetes credentials for every request (loopback only).
    None,
    /// Users bring their Kubernetes bearer token.
    Token,
    /// An authenticating proxy in front names the user; the console impersonates them.
    Proxy,
}

/// Why a configuration of authentication is refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--auth none` on an address others can reach.
    #[error(
        "--auth none lets everyone who reaches the console act with its own Kubernetes credentials, so it is allowed only on a loopback address, not {0}; use --auth token or --auth proxy"
    )]
    NoneNotOnLoopback(SocketAddr),
    /// `--auth proxy` with nobody to trust.
    #[error("--auth proxy needs --trusted-proxy CIDR: the addresses of the proxy whose X-Forwarded-User is believed")]
    NoTrustedProxy,
    /// A CIDR that does not parse.
    #[error("--trusted-proxy {0:?} is not an address or CIDR (like 10.0.0.0/8 or 127.0.0.1)")]
    BadCidr(String),
}

/// An address range (`10.0.0.0/8`, `::1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl std::str::FromStr for Cidr {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadCidr(s.to_owned());
        let (ip, bits) = match s.split_once('/') {
            Some((ip, bits)) => {
                (ip.parse::<IpAddr>().map_err(|_| bad())?, Some(bits.parse::<u8>().map_err(|_| bad())?))
            }
            None => (s.parse::<IpAddr>().map_err(|_| bad())?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return Err(bad());
        }
        Ok(Cidr { net: ip, bits })
    }
}

impl Cidr {
    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.bits == 0 { 0 } else { u32::MAX << (32 - u32::from(self.bits)) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.bits == 0 { 0 } else { u128::MAX << (128 - u32::from(self.bits)) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The authentication of a running console. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    /// The mode.
    pub mode: Mode,
    trusted: Arc<Vec<Cidr>>,
    sessions: crate::sessions::Sessions,
    attempts: Arc<Mutex<HashMap<IpAddr, Vec<Instant>>>>,
    connect: Option<Connect>,
    /// Whether cookies get `Secure` (the console is served over TLS).
    pub secure: bool,
}

impl Auth {
    /// Authentication in `mode` for a console listening on `listen`; `connect` checks sign-in
    /// tokens with Kubernetes.
    pub fn new(
        mode: Mode,
        listen: SocketAddr,
        trusted: Vec<Cidr>,
        connect: Option<Connect>,
    ) -> Result<Self, ConfigError> {
        if mode == Mode::None && !listen.ip().is_loopback() {
            return Err(ConfigError::NoneNotOnLoopback(listen));
        }
        if mode == Mode::Proxy && trusted.is_empty() {
            return Err(ConfigError::NoTrustedProxy);
        }
        Ok(Self::unchecked(mode, trusted, connect))
    }

    fn unchecked(mode: Mode, trusted: Vec<Cidr>, connect: Option<Connect>) -> Self {
        Auth {
            mode,
            trusted: Arc::new(trusted),
            sessions: crate::sessions::Sessions::default(),
            attempts: Arc::default(),
            connect,
            secure: false,
        }
    }

    /// The same, checking sign-in tokens with the clients `connect` makes.
    pub fn with_connect(mut self, connect: Connect) -> Self {
        self.connect = Some(connect);
        self
    }

    /// No authentication (tests and the embedded default).
    pub fn none() -> Self {
        Self::unchecked(Mode::None, Vec::new(), None)
    }

    /// The same, keeping sessions in sealed cookies that every replica sharing `secret` opens.
    pub fn with_session_key(mut self, secret: &[u8]) -> Self {
        self.sessions = crate::sessions::Sessions::sealed(secret);
        self
    }

    /// The identity of a request (and, for a session, the user's name).
    fn identity(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<(Identity, Option<String>)> {
        match self.mode {
            Mode::None => Some((Identity::Console, None)),
            Mode::Token => {
                if let Some(token) = bearer(headers) {
                    return Some((Identity::Token(token.to_owned()), None));
                }
                let (token, user) = self.sessions.get(&cookie(headers, COOKIE)?)?;
                Some((Identity::Token(token), Some(user)))
            }
            Mode::Proxy => {
                let peer = peer?;
                if !self.trusted.iter().any(|c| c.contains(peer)) {
                    return None;
                }
                let user = headers.get("x-forwarded-user")?.to_str().ok()?.trim().to_owned();
                if user.is_empty() {
                    return None;
                }
                let groups = headers
                    .get_all("x-forwarded-groups")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect();
                Some((Identity::Impersonated { user: user.clone(), groups }, Some(user)))
            }
        }
    }

    /// Whether another sign-in attempt from `ip` is allowed now (and counts it).
    fn attempt(&self, ip: IpAddr) -> bool {
        let mut attempts = self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let recent = attempts.entry(ip).or_default();
        recent.retain(|t| t.elapsed() < Duration::from_secs(60));
        if recent.len() >= ATTEMPTS_PER_MINUTE {
            return false;
        }
        recent.push(Instant::now());
        true
    }
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Paths served to everyone: the sign-in itself and the site's static files.
fn public(path: &str) -> bool {
    path == "/login"
        || path == "/logout"
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path == "/favicon.svg"
        || path.starts_with("/pkg/")
        || path.starts_with("/monaco/")
        || path == "/api/v1/openapi.json"
        || path == "/api/v1/schema/sidecar.json"
}

/// The first layer of every request: drops identity headers a client must not choose, then
/// puts the request's [`Identity`] (if any) in its extensions. A page asked for without one is
/// sent to `/login`.
pub async fn identify(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    strip_client_identity_headers(req.headers_mut());
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match auth.identity(req.headers(), peer) {
        Some((identity, user)) => {
            req.extensions_mut().insert(identity);
            if let Some(u) = user {
                req.extensions_mut().insert(UserName(u));
            }
        }
        None => {
            let path = req.uri().path();
            let page = req.method() == Method::GET && !path.starts_with("/api/") && !public(path);
            if page {
                let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                return Redirect::to(&format!("/login?next={}", encode(next))).into_response();
            }
        }
    }
    next.run(req).await
}

/// `Impersonate-*` headers and any header a client names in `Connection` are removed: the
/// console sends its own identity headers to Kubernetes, and a client must not be able to make
/// a proxy strip the ones that proxy added (the Rancher CVE-2021-31999 bypass).
fn strip_client_identity_headers(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty() && h != "keep-alive" && h != "close")
        .collect();
    for h in named {
        headers.remove(h.as_str());
    }
    let impersonation: Vec<_> = headers.keys().filter(|k| k.as_str().starts_with("impersonate-")).cloned().collect();
    for h in impersonation {
        headers.remove(h);
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only a path of this console (never another site) is a place to go after sign-in.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        // Visible ASCII only: browsers drop tabs and newlines from URLs, so "/\t/evil" would
        // become "//evil", another site.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\') =>
        {
            n
        }
        _ => "/pipelines",
    }
}

/// `?next=` of the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// `GET /login`: the sign-in page.
pub async fn login_page(
    State(auth): State<Auth>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    match auth.mode {
        Mode::Token => Html(page(safe_next(q.next.as_deref()), None)).into_response(),
        _ => Redirect::to(safe_next(q.next.as_deref())).into_response(),
    }
}

/// `POST /login`: checks the token with Kubernetes (a `SelfSubjectReview` made with it) and
/// opens a session.
pub async fn login(State(auth): State<Auth>, req: Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let secure_request = auth.secure
        || req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p == "https");
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &()).await else {
        return (StatusCode::BAD_REQUEST, Html(page("/pipelines", Some("The sign-in form was not sent as a form."))))
            .into_response();
    };
    let next = safe_next(form.next.as_deref()).to_owned();
    if auth.mode != Mode::Token {
        return Redirect::to(&next).into_response();
    }
    if !auth.attempt(peer.unwrap_or(IpAddr::from([0, 0, 0, 0]))) {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Html(page(&next, Some("Too many sign-in attempts from this address; wait a minute and try again."))),
        )
            .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    let token = form.token.trim().to_owned();
    if token.is_empty() {
        return (StatusCode::UNAUTHORIZED, Html(page(&next, Some("Enter a Kubernetes bearer token.")))).into_response();
    }
    let user = match review(&auth, &token).await {
        Ok(user) => user,
        Err((code, why)) => return (code, Html(page(&next, Some(&why)))).into_response(),
    };
    let id = auth.sessions.open(token, user.clone(), SESSION_LIFETIME);
    tracing::info!(user, "signed in");
    let secure = if secure_request { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", SESSION_LIFETIME.as_secs());
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The user name Kubernetes gives the token, or why it gives none.
async fn review(auth: &Auth, token: &str) -> Result<String, (StatusCode, String)> {
    let connect = auth.connect.as_ref().ok_or_else(|| {
        (StatusCode::SERVICE_UNAVAILABLE, "The console is not connected to a Kubernetes cluster.".to_owned())
    })?;
    let client = connect(&Identity::Token(token.to_owned())).map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e))?;
    let review = SelfSubjectReview::default();
    match Api::<SelfSubjectReview>::all(client).create(&PostParams::default(), &review).await {
        Ok(r) => Ok(r.status.and_then(|s| s.user_info).and_then(|u| u.username).unwrap_or_default()),
        Err(kube::Error::Api(e)) if e.code == 401 => {
            Err((StatusCode::UNAUTHORIZED, "Kubernetes did not accept this token.".to_owned()))
        }
        Err(e) => Err((
            StatusCode::BAD_GATEWAY,
            format!("Kubernetes could not check the token: {}", sidecar_service::ServiceError::from(e)),
        )),
    }
}

/// `POST /logout`: ends the session.
pub async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        auth.sessions.end(&id);
    }
    let mut r = Redirect::to("/login").into_response();
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The sign-in page: one field, one button, the error (if any) announced.
fn page(next: &str, error: Option<&str>) -> String {
    let alert = error.map(|e| format!("<p class=\"login-error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Sidecar Console</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="/pkg/{css}.css">
</head>
<body>
<main class="login">
<h1>Sign in to Sidecar Console</h1>
<p>The console acts with your own Kubernetes identity. Paste a bearer token for this cluster
(for example one from <code>kubectl create token NAME</code>).</p>
{alert}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="token">Kubernetes token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>"#,
        css = app::OUTPUT_NAME,
        next = escape(next),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_match_their_addresses() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn only_own_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/pipelines/logging/x?tab=status")), "/pipelines/logging/x?tab=status");
        assert_eq!(safe_next(Some("//evil.example")), "/pipelines");
        assert_eq!(safe_next(Some("https://evil.example")), "/pipelines");
        assert_eq!(safe_next(Some("/\\evil.example")), "/pipelines");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/pipelines");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/pipelines");
        assert_eq!(safe_next(Some("/ /x")), "/pipelines");
        assert_eq!(safe_next(None), "/pipelines");
    }

    #[test]
    fn client_identity_headers_and_those_named_in_connection_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert("impersonate-user", "admin".parse().unwrap());
        h.insert("impersonate-group", "system:masters".parse().unwrap());
        h.insert("connection", "x-forwarded-user, keep-alive".parse().unwrap());
        h.insert("x-forwarded-user", "alice".parse().unwrap());
        h.insert("accept", "text/html".parse().unwrap());
        strip_client_identity_headers(&mut h);
        assert!(h.get("impersonate-user").is_none() && h.get("impersonate-group").is_none());
        assert!(h.get("x-forwarded-user").is_none());
        assert!(h.get("accept").is_some());
    }

    #[test]
    fn none_is_refused_off_loopback_and_proxy_needs_a_trusted_address() {
        let e = Auth::new(Mode::None, "0.0.0.0:3000".parse().unwrap(), vec![], None).err().unwrap();
        assert!(e.to_string().contains("allowed only on a loopback address, not 0.0.0.0:3000"), "{e}");
        assert!(Auth::new(Mode::None, "127.0.0.1:3000".parse().unwrap(), vec![], None).is_ok());
        assert!(matches!(
            Auth::new(Mode::Proxy, "0.0.0.0:3000".parse().unwrap(), vec![], None),
            Err(ConfigError::NoTrustedProxy)
        ));
    }
}
