//! Whether Calyptia Core's own operator runs in the cluster: it reconciles Pipelines itself, and
//! two operators applying different workloads for one Pipeline would fight.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};

/// The Deployment Calyptia Core installs its operator as (`calyptia install operator`); the
/// Calyptia CLI looks for this name in every namespace, and so do we.
pub const CORE_OPERATOR_DEPLOYMENT: &str = "calyptia-core-controller-manager";

/// The namespace in which Calyptia Core's operator is deployed, if it is.
pub async fn core_operator_namespace(client: &Client) -> Result<Option<String>, kube::Error> {
    let deployments: Api<Deployment> = Api::all(client.clone());
    let found =
        deployments.list(&ListParams::default().fields(&format!("metadata.name={CORE_OPERATOR_DEPLOYMENT}"))).await?;
    Ok(found.items.first().and_then(|d| d.namespace()))
}
