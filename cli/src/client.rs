//! The console's REST API, as the commands use it: one blocking request at a time, errors turned
//! into the console's own sentences.

use crate::CliError;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use sidecar_api::{ErrorBody, PipelineView};

/// A console.
pub struct Console {
    base: String,
    http: Client,
    /// How long an answer (other than a stream) may take.
    timeout: std::time::Duration,
}

impl Console {
    /// The console at `server` (`http://host:port`), acting with `token` when given.
    pub fn new(server: &str, token: Option<&str>) -> Result<Self, CliError> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(CliError::Usage(format!("--server must be an http:// or https:// URL, got \"{server}\"")));
        }
        // No overall timeout: `logs -f` streams for as long as the user wants.
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(t) = token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
                .map_err(|_| CliError::Usage("the token has characters no HTTP header can carry".into()))?;
            // Never printed, whatever is logged.
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = Client::builder()
            .default_headers(headers)
            .timeout(None)
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Http { server: base.clone(), message: e.to_string() })?;
        Ok(Console { base, http, timeout: std::time::Duration::from_secs(30) })
    }

    /// The same console, waiting at most `timeout` for an answer (streams excepted).
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn send(&self, request: RequestBuilder) -> Result<Response, CliError> {
        let resp = request.send().map_err(|e| {
            let why = if e.is_connect() {
                "is it running? (--server or SIDECARCTL_SERVER)".to_owned()
            } else if e.is_timeout() {
                format!("it did not answer within {} s (--timeout SECONDS waits longer)", self.timeout.as_secs_f64())
            } else {
                e.to_string()
            };
            CliError::Http { server: self.base.clone(), message: why }
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: ErrorBody = resp.json().unwrap_or_default();
        let message = if body.error.is_empty() { format!("the console answered {status}") } else { body.error.clone() };
        Err(CliError::Api { status: status.as_u16(), message, body: Box::new(body) })
    }

    fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, CliError> {
        self.send(request.timeout(self.timeout))?
            .json()
            .map_err(|e| CliError::Http { server: self.base.clone(), message: format!("unreadable answer: {e}") })
    }

    /// `GET path`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.json(self.http.get(self.url(path)))
    }

    /// `GET path` with query parameters.
    pub fn get_query<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, CliError> {
        self.json(self.http.get(self.url(path)).query(query))
    }

    /// `POST path` with a JSON body given as text (sent as is: the console reports its syntax
    /// errors with line and column).
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: String, dry_run: bool) -> Result<T, CliError> {
        self.json(self.with_body(self.http.post(self.url(path)), body, dry_run))
    }

    /// `PUT path`, optionally guarded by `If-Match`.
    pub fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: String,
        dry_run: bool,
        if_match: Option<&str>,
    ) -> Result<T, CliError> {
        let mut r = self.with_body(self.http.put(self.url(path)), body, dry_run);
        if let Some(tag) = if_match {
            r = r.header(reqwest::header::IF_MATCH, format!("\"{}\"", tag.trim_matches('"')));
        }
        self.json(r)
    }

    /// `DELETE path`.
    pub fn delete<T: DeserializeOwned>(&self, path: &str, dry_run: bool) -> Result<T, CliError> {
        let r = self.http.delete(self.url(path));
        self.json(if dry_run { r.query(&[("dryRun", "true")]) } else { r })
    }

    /// `GET path` as a stream (server-sent events).
    pub fn stream(&self, path: &str, query: &[(&str, String)]) -> Result<Response, CliError> {
        self.send(self.http.get(self.url(path)).query(query).header(reqwest::header::ACCEPT, "text/event-stream"))
    }

    fn with_body(&self, r: RequestBuilder, body: String, dry_run: bool) -> RequestBuilder {
        let r = r.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        if dry_run {
            r.query(&[("dryRun", "true")])
        } else {
            r
        }
    }

    /// The pipeline `name` names (`namespace/name`, or a bare name, in `namespace` if given), as
    /// the console lists it.
    pub fn pipeline(&self, name: &str, namespace: Option<&str>) -> Result<PipelineView, CliError> {
        let mut query = vec![("name", name)];
        if let Some(ns) = namespace {
            query.push(("namespace", ns));
        }
        let found: Vec<PipelineView> = self.get_query("/pipelines", &query)?;
        found.into_iter().next().ok_or_else(|| CliError::Api {
            status: StatusCode::NOT_FOUND.as_u16(),
            message: format!("pipeline \"{name}\" not found"),
            body: Box::default(),
        })
    }

    /// The pipeline `name` names: `(namespace, name)`.
    pub fn resolve(&self, name: &str, namespace: Option<&str>) -> Result<(String, String), CliError> {
        let p = self.pipeline(name, namespace)?;
        Ok((p.namespace, p.name))
    }
}
