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
    /// Categories (`all` makes `kubectl get all` list it).
    pub categories: &'static [&'static str],
    /// The verbs it serves.
    pub verbs: Verbs,
    /// A custom type's `additionalPrinterColumns`, for `kubectl get`.
    pub printer_columns: Option<Value>,
    /// The warning every request to this version gets (a CRD version marked `deprecated`).
    pub deprecation: Option<&'static str>,
}

/// What can be done with a type's objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbs {
    /// Everything: create, get, list, watch, update, patch, delete.
    All,
    /// Only `create`, answered and not stored (access reviews).
    CreateOnly,
}

impl Verbs {
    /// The verbs as discovery lists them.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Verbs::All => &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            Verbs::CreateOnly => &["create"],
        }
    }
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
    version: &'static str,
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
        version,
        plural,
        singular,
        kind,
        list_kind,
        namespaced,
        short_names,
        generation,
        status_subresource,
        schema: None,
        categories: &[],
        verbs: Verbs::All,
        printer_columns: None,
        deprecation: None,
    }
}

impl ResourceType {
    /// In `kubectl get all`.
    const fn in_all(mut self) -> Self {
        self.categories = &["all"];
        self
    }

    /// Only created, never stored.
    const fn create_only(mut self) -> Self {
        self.verbs = Verbs::CreateOnly;
        self
    }
}

/// Namespaces.
pub static NAMESPACES: ResourceType =
    builtin("", "v1", "namespaces", "namespace", "Namespace", "NamespaceList", false, &["ns"], false, true);
/// ConfigMaps.
pub static CONFIGMAPS: ResourceType =
    builtin("", "v1", "configmaps", "configmap", "ConfigMap", "ConfigMapList", true, &["cm"], false, false);
/// Secrets.
pub static SECRETS: ResourceType =
    builtin("", "v1", "secrets", "secret", "Secret", "SecretList", true, &[], false, false);
/// Pods.
pub static PODS: ResourceType = builtin("", "v1", "pods", "pod", "Pod", "PodList", true, &["po"], true, true).in_all();
/// Nodes.
pub static NODES: ResourceType = builtin("", "v1", "nodes", "node", "Node", "NodeList", false, &["no"], false, true);
/// Events (core/v1).
pub static EVENTS: ResourceType =
    builtin("", "v1", "events", "event", "Event", "EventList", true, &["ev"], false, false);
/// Events (events.k8s.io/v1): the same objects as core/v1 events, in their newer shape.
pub static EVENTS_V1: ResourceType =
    builtin("events.k8s.io", "v1", "events", "event", "Event", "EventList", true, &["ev"], false, false);
/// Deployments.
pub static DEPLOYMENTS: ResourceType =
    builtin("apps", "v1", "deployments", "deployment", "Deployment", "DeploymentList", true, &["deploy"], true, true)
        .in_all();
/// ReplicaSets.
pub static REPLICASETS: ResourceType =
    builtin("apps", "v1", "replicasets", "replicaset", "ReplicaSet", "ReplicaSetList", true, &["rs"], true, true)
        .in_all();
/// DaemonSets.
pub static DAEMONSETS: ResourceType =
    builtin("apps", "v1", "daemonsets", "daemonset", "DaemonSet", "DaemonSetList", true, &["ds"], true, true).in_all();
/// StatefulSets.
pub static STATEFULSETS: ResourceType =
    builtin("apps", "v1", "statefulsets", "statefulset", "StatefulSet", "StatefulSetList", true, &["sts"], true, true)
        .in_all();
/// CustomResourceDefinitions.
pub static CRDS: ResourceType = builtin(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "customresourcedefinition",
    "CustomResourceDefinition",
    "CustomResourceDefinitionList",
    false,
    &["crd", "crds"],
    true,
    true,
);
/// SelfSubjectAccessReviews: "can I?" (`kubectl auth can-i`).
pub static SELF_SUBJECT_ACCESS_REVIEWS: ResourceType = builtin(
    "authorization.k8s.io",
    "v1",
    "selfsubjectaccessreviews",
    "selfsubjectaccessreview",
    "SelfSubjectAccessReview",
    "SelfSubjectAccessReviewList",
    false,
    &[],
    false,
    false,
)
.create_only();
/// SubjectAccessReviews: "can they?".
pub static SUBJECT_ACCESS_REVIEWS: ResourceType = builtin(
    "authorization.k8s.io",
    "v1",
    "subjectaccessreviews",
    "subjectaccessreview",
    "SubjectAccessReview",
    "SubjectAccessReviewList",
    false,
    &[],
    false,
    false,
)
.create_only();

/// SelfSubjectRulesReviews: "what can I do here?" (`kubectl auth can-i --list`).
pub static SELF_SUBJECT_RULES_REVIEWS: ResourceType = builtin(
    "authorization.k8s.io",
    "v1",
    "selfsubjectrulesreviews",
    "selfsubjectrulesreview",
    "SelfSubjectRulesReview",
    "SelfSubjectRulesReviewList",
    false,
    &[],
    false,
    false,
)
.create_only();
/// SelfSubjectReviews: "who am I?" (`kubectl auth whoami`).
pub static SELF_SUBJECT_REVIEWS: ResourceType = builtin(
    "authentication.k8s.io",
    "v1",
    "selfsubjectreviews",
    "selfsubjectreview",
    "SelfSubjectReview",
    "SelfSubjectReviewList",
    false,
    &[],
    false,
    false,
)
.create_only();
/// TokenReviews: "whose token is this?".
pub static TOKEN_REVIEWS: ResourceType = builtin(
    "authentication.k8s.io",
    "v1",
    "tokenreviews",
    "tokenreview",
    "TokenReview",
    "TokenReviewList",
    false,
    &[],
    false,
    false,
)
.create_only();
/// Roles: rights within a namespace.
pub static ROLES: ResourceType =
    builtin("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", "RoleList", true, &[], false, false);
/// ClusterRoles: rights anywhere, or a role for RoleBindings to reuse.
pub static CLUSTER_ROLES: ResourceType = builtin(
    "rbac.authorization.k8s.io",
    "v1",
    "clusterroles",
    "clusterrole",
    "ClusterRole",
    "ClusterRoleList",
    false,
    &[],
    false,
    false,
);
/// RoleBindings: a role's rights to subjects within a namespace.
pub static ROLE_BINDINGS: ResourceType = builtin(
    "rbac.authorization.k8s.io",
    "v1",
    "rolebindings",
    "rolebinding",
    "RoleBinding",
    "RoleBindingList",
    true,
    &[],
    false,
    false,
);
/// ClusterRoleBindings: a ClusterRole's rights to subjects everywhere.
pub static CLUSTER_ROLE_BINDINGS: ResourceType = builtin(
    "rbac.authorization.k8s.io",
    "v1",
    "clusterrolebindings",
    "clusterrolebinding",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    false,
    &[],
    false,
    false,
);
/// Leases: leader election.
pub static LEASES: ResourceType =
    builtin("coordination.k8s.io", "v1", "leases", "lease", "Lease", "LeaseList", true, &[], false, false);

/// Services.
pub static SERVICES: ResourceType =
    builtin("", "v1", "services", "service", "Service", "ServiceList", true, &["svc"], false, true).in_all();
/// ServiceAccounts.
pub static SERVICE_ACCOUNTS: ResourceType = builtin(
    "",
    "v1",
    "serviceaccounts",
    "serviceaccount",
    "ServiceAccount",
    "ServiceAccountList",
    true,
    &["sa"],
    false,
    false,
);
/// Ingresses.
pub static INGRESSES: ResourceType =
    builtin("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", "IngressList", true, &["ing"], true, true);

/// The built-in types.
pub static BUILTIN: [&ResourceType; 25] = [
    &NAMESPACES,
    &CONFIGMAPS,
    &SECRETS,
    &PODS,
    &NODES,
    &EVENTS,
    &EVENTS_V1,
    &DEPLOYMENTS,
    &REPLICASETS,
    &DAEMONSETS,
    &STATEFULSETS,
    &CRDS,
    &SELF_SUBJECT_ACCESS_REVIEWS,
    &SUBJECT_ACCESS_REVIEWS,
    &SELF_SUBJECT_RULES_REVIEWS,
    &SELF_SUBJECT_REVIEWS,
    &TOKEN_REVIEWS,
    &ROLES,
    &CLUSTER_ROLES,
    &ROLE_BINDINGS,
    &CLUSTER_ROLE_BINDINGS,
    &LEASES,
    &SERVICES,
    &SERVICE_ACCOUNTS,
    &INGRESSES,
];

/// The fields a type can be selected by besides `metadata.name` and `metadata.namespace`
/// (Kubernetes' field labels).
pub fn field_labels(rt: &ResourceType) -> &'static [&'static str] {
    if is(rt, &PODS) {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]
    } else if is(rt, &EVENTS) {
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ]
    } else if is(rt, &EVENTS_V1) {
        &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "reason",
            "type",
            "reportingController",
        ]
    } else if is(rt, &SECRETS) {
        &["type"]
    } else if is(rt, &NAMESPACES) {
        &["status.phase"]
    } else if is(rt, &NODES) {
        &["spec.unschedulable"]
    } else if is(rt, &REPLICASETS) {
        &["status.replicas"]
    } else {
        &[]
    }
}

/// Whether `rt` is the built-in type `builtin` (types are compared by identity).
pub fn is(rt: &ResourceType, builtin: &ResourceType) -> bool {
    std::ptr::eq(rt, builtin)
}

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
