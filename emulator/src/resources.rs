//! The resource types the emulator serves.

/// A served resource type: where it lives in the API and how it is named.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name, as in URLs.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind of its objects.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts.
    pub short_names: &'static [&'static str],
    /// Whether changes to `spec` bump `metadata.generation`.
    pub has_spec: bool,
}

impl ResourceType {
    /// `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name Kubernetes uses in messages: `configmaps`, `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn core(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    has_spec: bool,
) -> ResourceType {
    ResourceType { group: "", version: "v1", plural, singular, kind, namespaced, short_names, has_spec }
}

/// Namespaces.
pub static NAMESPACES: ResourceType = core("namespaces", "namespace", "Namespace", false, &["ns"], false);
/// ConfigMaps.
pub static CONFIGMAPS: ResourceType = core("configmaps", "configmap", "ConfigMap", true, &["cm"], false);
/// Secrets.
pub static SECRETS: ResourceType = core("secrets", "secret", "Secret", true, &[], false);
/// Pods.
pub static PODS: ResourceType = core("pods", "pod", "Pod", true, &["po"], true);
/// Events.
pub static EVENTS: ResourceType = core("events", "event", "Event", true, &["ev"], false);

/// Every served type.
pub static ALL: [&ResourceType; 5] = [&NAMESPACES, &CONFIGMAPS, &SECRETS, &PODS, &EVENTS];

/// The served type at `group`/`version`/`plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    ALL.iter().copied().find(|r| r.group == group && r.version == version && r.plural == plural)
}
