//! The resource types the emulator serves: the built-in ones, and those that
//! CustomResourceDefinitions add while it runs.

use serde_json::Value;
use std::sync::RwLock;

/// A served resource type: where it lives in the API and how it is named.
#[derive(Debug, PartialEq)]
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
    /// Kind of its lists.
    pub list_kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Short names kubectl accepts.
    pub short_names: &'static [&'static str],
    /// Whether changes to `spec` bump `metadata.generation`.
    pub generation: bool,
    /// Whether `status` is a subresource: written only through `/status`.
    pub status_subresource: bool,
    /// The structural schema of a custom resource (`openAPIV3Schema`), for pruning.
    pub schema: Option<Value>,
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

    /// The name Kubernetes uses in messages: `configmaps`, `pipelines.core.calyptia.com`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

#[allow(clippy::too_many_arguments)]
const fn builtin(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    list_kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    generation: bool,
    status_subresource: bool,
) -> ResourceType {
    ResourceType {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        list_kind,
        namespaced,
        short_names,
        generation,
        status_subresource,
        schema: None,
    }
}

/// Namespaces.
pub static NAMESPACES: ResourceType =
    builtin("", "namespaces", "namespace", "Namespace", "NamespaceList", false, &["ns"], false, true);
/// ConfigMaps.
pub static CONFIGMAPS: ResourceType =
    builtin("", "configmaps", "configmap", "ConfigMap", "ConfigMapList", true, &["cm"], false, false);
/// Secrets.
pub static SECRETS: ResourceType = builtin("", "secrets", "secret", "Secret", "SecretList", true, &[], false, false);
/// Pods.
pub static PODS: ResourceType = builtin("", "pods", "pod", "Pod", "PodList", true, &["po"], true, true);
/// Events.
pub static EVENTS: ResourceType = builtin("", "events", "event", "Event", "EventList", true, &["ev"], false, false);
/// CustomResourceDefinitions.
pub static CRDS: ResourceType = builtin(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    "customresourcedefinition",
    "CustomResourceDefinition",
    "CustomResourceDefinitionList",
    false,
    &["crd", "crds"],
    true,
    true,
);

/// The built-in types.
pub static BUILTIN: [&ResourceType; 6] = [&NAMESPACES, &CONFIGMAPS, &SECRETS, &PODS, &EVENTS, &CRDS];

/// The types served now: the built-in ones and those of established CRDs.
pub struct Registry {
    types: RwLock<Vec<&'static ResourceType>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self { types: RwLock::new(BUILTIN.to_vec()) }
    }
}

impl Registry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<&'static ResourceType>> {
        self.types.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Every served type.
    pub fn all(&self) -> Vec<&'static ResourceType> {
        self.read().clone()
    }

    /// The served type at `group`/`version`/`plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
        self.read().iter().copied().find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Serves `rt`, replacing a type of the same group, version and plural. Types live as long
    /// as the process (they are shared by reference with running watches); an identical
    /// re-registration reuses the one there.
    pub fn register(&self, rt: ResourceType) {
        let mut types = self.types.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) =
            types.iter().position(|t| t.group == rt.group && t.version == rt.version && t.plural == rt.plural)
        {
            if *types[i] == rt {
                return;
            }
            types.remove(i);
        }
        types.push(Box::leak(Box::new(rt)));
    }

    /// Stops serving the types of one group and plural (all versions).
    pub fn unregister(&self, group: &str, plural: &str) {
        let mut types = self.types.write().unwrap_or_else(|e| e.into_inner());
        types.retain(|t| !(t.group == group && t.plural == plural) || BUILTIN.iter().any(|b| std::ptr::eq(*b, *t)));
    }
}

/// Leaks a string for a type's lifetime (see [`Registry::register`]).
pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}
