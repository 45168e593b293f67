//! The Pipeline schema of the cluster the console manages, and writes that cannot lose a field.
//!
//! Clusters differ: ours serves the Pipeline CRD generated from the spec types, one running
//! Calyptia Core serves that operator's, which declares fewer sidecar fields. The API server
//! silently prunes what a CRD's schema does not declare, so the console (1) follows the CRD and
//! checks each spec against its sidecar item schema before writing, and (2) writes with
//! `fieldValidation=Strict`, so that a field it did not know about is refused, not dropped.

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use operator::Pipeline;
use serde_json::Value;
use sidecar_spec::{FieldError, FieldPath};
use std::sync::{Arc, RwLock};

/// The Pipeline CRD's name.
pub fn crd_name() -> String {
    format!("{}.{}", Pipeline::plural(&()), Pipeline::group(&()))
}

/// The sidecar item schema of the cluster's Pipeline CRD, as a watch keeps it.
#[derive(Clone, Default)]
pub struct ClusterSchema(Arc<RwLock<Option<Arc<Value>>>>);

impl ClusterSchema {
    /// Follows the Pipeline CRD with the console's own `client`. Without the right to read
    /// CRDs the schema stays unknown, and the strict writes still refuse undeclared fields.
    pub fn follow(client: &Client) -> Self {
        let schema = ClusterSchema::default();
        let resource = ApiResource::erase::<CustomResourceDefinition>(&());
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let config = watcher::Config::default().fields(&format!("metadata.name={}", crd_name()));
        let stream = watcher::watcher(api, config).backoff(crate::cache::quick_backoff());
        let me = schema.clone();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            let mut seen = false;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(Event::Apply(crd) | Event::InitApply(crd)) => {
                        seen = true;
                        me.set(Some(&crd));
                    }
                    Ok(Event::Delete(_)) => me.set(None),
                    Ok(Event::Init) => seen = false,
                    Ok(Event::InitDone) if !seen => me.set(None),
                    Ok(Event::InitDone) => {}
                    Err(e) => tracing::debug!(error = %e, "cannot follow the Pipeline CRD"),
                }
            }
        });
        schema
    }

    /// A fixed schema (tests, and callers that read the CRD themselves).
    pub fn fixed(item_schema: Value) -> Self {
        ClusterSchema(Arc::new(RwLock::new(Some(Arc::new(item_schema)))))
    }

    fn set(&self, crd: Option<&DynamicObject>) {
        let items = crd
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|c| sidecar_spec::fit::sidecar_item_schema(&c, &Pipeline::version(&())).map(Arc::new));
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = items;
    }

    /// The schema of one sidecar as the cluster stores it, once known.
    pub fn sidecar_items(&self) -> Option<Arc<Value>> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The path of a request with `fieldValidation=Strict` added to its query.
fn strict(uri: &http::Uri) -> Result<http::Uri, http::Error> {
    let path = match uri.path_and_query().map(|pq| pq.as_str()) {
        Some(pq) if pq.contains('?') => format!("{pq}&fieldValidation=Strict"),
        Some(pq) => format!("{pq}?fieldValidation=Strict"),
        None => "/?fieldValidation=Strict".to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path.parse()?);
    Ok(http::Uri::from_parts(parts)?)
}

/// The text of a `Warning` header (`299 - "text"`), unquoted.
fn warning_text(header: &str) -> String {
    let rest = header.trim();
    let rest = rest.split_once(' ').map_or(rest, |(code, r)| if code.len() == 3 { r } else { rest });
    let rest = rest.trim_start().strip_prefix("- ").unwrap_or(rest).trim();
    match rest.strip_prefix('"').and_then(|r| r.rfind('"').map(|end| &r[..end])) {
        Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => rest.to_owned(),
    }
}

/// Replaces a Pipeline with `fieldValidation=Strict`, returning what was stored and the API
/// server's warnings.
pub async fn replace_strict(
    client: &Client,
    resource: &ApiResource,
    next: &DynamicObject,
    pp: &PostParams,
) -> Result<(DynamicObject, Vec<String>), kube::Error> {
    let namespace = next.metadata.namespace.as_deref();
    let name = next.metadata.name.clone().unwrap_or_default();
    let url = DynamicObject::url_path(resource, namespace);
    let data = serde_json::to_vec(next).map_err(kube::Error::SerdeError)?;
    let request = kube::core::Request::new(url).replace(&name, pp, data).map_err(kube::Error::BuildRequest)?;
    let (mut parts, body) = request.into_parts();
    parts.uri =
        strict(&parts.uri).map_err(|e| kube::Error::BuildRequest(kube::core::request::Error::BuildRequest(e)))?;
    let response = client.send(http::Request::from_parts(parts, kube::client::Body::from(body))).await?;
    let status = response.status();
    let warnings: Vec<String> = response
        .headers()
        .get_all(http::header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(warning_text)
        .collect();
    let bytes = response.into_body().collect_bytes().await?;
    if status.is_client_error() || status.is_server_error() {
        let failure = serde_json::from_slice::<kube::core::Status>(&bytes).unwrap_or_else(|_| {
            kube::core::Status::failure(String::from_utf8_lossy(&bytes).trim(), "").with_code(status.as_u16())
        });
        return Err(kube::Error::Api(failure.boxed()));
    }
    let written = serde_json::from_slice(&bytes).map_err(kube::Error::SerdeError)?;
    Ok((written, warnings))
}

/// The fields of sidecar number `index` that the API server's strict decoding refused
/// (`unknown field "spec.sidecars[1].ports[0].hostPort"`), relative to the sidecar.
pub fn refused_fields(e: &kube::Error, index: usize) -> Vec<FieldError> {
    let kube::Error::Api(status) = e else { return Vec::new() };
    if !status.message.contains("strict decoding error") {
        return Vec::new();
    }
    let prefix = format!("spec.sidecars[{index}].");
    status
        .message
        .split("unknown field \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|field| field.strip_prefix(&prefix))
        // The API server writes paths in the validator's notation: the same string.
        .map(|field| FieldError::unknown_field(FieldPath::from(field), sidecar_spec::fit::UNDECLARED))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_is_added_to_the_query() {
        let uri: http::Uri = "/apis/core.calyptia.com/v1/namespaces/a/pipelines/b?fieldManager=x".parse().unwrap();
        assert_eq!(
            strict(&uri).unwrap(),
            "/apis/core.calyptia.com/v1/namespaces/a/pipelines/b?fieldManager=x&fieldValidation=Strict"
        );
        let uri: http::Uri = "/apis/x/v1/p".parse().unwrap();
        assert_eq!(strict(&uri).unwrap(), "/apis/x/v1/p?fieldValidation=Strict");
    }

    #[test]
    fn warning_headers_are_read_as_kubectl_prints_them() {
        assert_eq!(
            warning_text(r#"299 - "core.calyptia.com/v1 Pipeline is deprecated""#),
            "core.calyptia.com/v1 Pipeline is deprecated"
        );
        assert_eq!(warning_text(r#"299 - "a \"quoted\" word""#), r#"a "quoted" word"#);
        assert_eq!(warning_text("plain"), "plain");
    }

    #[test]
    fn strict_decoding_errors_become_field_errors_of_the_sidecar() {
        let status = kube::core::Status::failure(
            r#"Pipeline in version "v1" cannot be handled as a Pipeline: strict decoding error: unknown field "spec.sidecars[1].ports[0].hostPort", unknown field "spec.sidecars[1].volumeMounts[0].mountPropagation", unknown field "spec.other""#,
            "BadRequest",
        );
        let e = kube::Error::Api(status.with_code(400).boxed());
        let found: Vec<String> = refused_fields(&e, 1).iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
        assert_eq!(
            found,
            [
                "ports[0].hostPort: this cluster's Pipeline schema does not accept this field",
                "volumeMounts[0].mountPropagation: this cluster's Pipeline schema does not accept this field"
            ]
        );
        assert!(refused_fields(&e, 0).is_empty());
    }
}
