//! Sidecar identity: IDs and timestamps kept in one annotation on the Pipeline (the CRD's
//! structural schema prunes unknown fields inside `spec.sidecars[]`), derived IDs for sidecars
//! added by other tools, and ETags.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The annotation holding `{sidecar name: {id, createdAt, updatedAt}}`.
pub const ANNOTATION: &str = "core.calyptia.com/sidecars";

/// A sidecar's identity and times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Stable ID (a UUID).
    pub id: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When its spec last changed (RFC 3339).
    pub updated_at: String,
}

/// The annotation's map, from a pipeline's annotations; a malformed one counts as empty (the IDs
/// are then derived, which keeps them stable for sidecars that were never renamed).
pub fn entries(annotations: Option<&BTreeMap<String, String>>) -> BTreeMap<String, Entry> {
    annotations.and_then(|a| a.get(ANNOTATION)).and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
}

/// The ID of a sidecar that has no entry: UUIDv5 of the pipeline's UID and the sidecar's name,
/// so every reader derives the same one.
pub fn derived_id(pipeline_uid: &str, name: &str) -> String {
    let namespace =
        Uuid::parse_str(pipeline_uid).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, pipeline_uid.as_bytes()));
    Uuid::new_v5(&namespace, name.as_bytes()).to_string()
}

/// A new ID for a sidecar created through the console.
pub fn new_id() -> String {
    Uuid::new_v4().to_string()
}

/// The ETag of a sidecar: a digest of its spec, so that any change of the spec changes it.
pub fn etag(spec: &Value) -> String {
    let digest = Sha256::digest(serde_json::to_vec(spec).unwrap_or_default());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Now, as Kubernetes writes times.
pub fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_differ_per_pipeline_and_name() {
        let uid = "6f1b0c7e-3c1d-4a55-9a51-0b4f7f0e2c11";
        assert_eq!(derived_id(uid, "envoy"), derived_id(uid, "envoy"));
        assert_ne!(derived_id(uid, "envoy"), derived_id(uid, "nginx"));
        assert_ne!(derived_id(uid, "envoy"), derived_id("another-uid", "envoy"));
    }

    #[test]
    fn a_malformed_annotation_counts_as_none() {
        let mut a = BTreeMap::new();
        a.insert(ANNOTATION.to_owned(), "{not json".to_owned());
        assert!(entries(Some(&a)).is_empty());
    }

    #[test]
    fn etags_follow_the_spec() {
        let a = serde_json::json!({"name": "a", "image": "nginx"});
        let b = serde_json::json!({"name": "a", "image": "nginx:1.27"});
        assert_eq!(etag(&a), etag(&a.clone()));
        assert_ne!(etag(&a), etag(&b));
    }
}
