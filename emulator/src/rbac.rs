//! Authorization as kube-apiserver does it with `--authorization-mode=RBAC`: members of
//! `system:masters` may do everything; everyone else what their Roles, ClusterRoles,
//! RoleBindings and ClusterRoleBindings (`rbac.authorization.k8s.io/v1`) allow. The default
//! roles of a new cluster (`cluster-admin`, `admin`, `edit`, `view`, `system:basic-user`,
//! `system:discovery`, `system:public-info-viewer`) are created with the cluster; aggregation is
//! not evaluated, so the default roles carry their rules for the built-in types only.

use crate::auth::UserInfo;
use crate::error::ApiError;
use crate::resources::{ResourceType, CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS, ROLES, ROLE_BINDINGS};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::Store;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject};
use serde_json::{json, Value};

/// What a request asks to do (Kubernetes' `authorizer.Attributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
    /// `impersonate`, ...
    pub verb: String,
    /// Whether it is about a resource (otherwise about `path`).
    pub resource_request: bool,
    /// API group; empty for the core group.
    pub group: String,
    /// Plural resource name.
    pub resource: String,
    /// Subresource (`status`, `log`, `scale`), or empty.
    pub subresource: String,
    /// Object name, or empty.
    pub name: String,
    /// Namespace, or empty for cluster scope.
    pub namespace: String,
    /// The URL path of a non-resource request.
    pub path: String,
}

impl Attributes {
    /// A resource request.
    pub fn resource(verb: &str, group: &str, resource: &str, subresource: &str, name: &str, namespace: &str) -> Self {
        Attributes {
            verb: verb.to_owned(),
            resource_request: true,
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            path: String::new(),
        }
    }

    /// A request for a path that is no resource (`/version`, `/apis`).
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Attributes { verb: verb.to_owned(), path: path.to_owned(), ..Attributes::default() }
    }

    /// The same request of type `rt`.
    pub fn of(verb: &str, rt: &ResourceType, subresource: &str, name: &str, namespace: &str) -> Self {
        Self::resource(verb, rt.group, rt.plural, subresource, name, namespace)
    }

    /// Attributes from an access review's `spec` (its `resourceAttributes` or
    /// `nonResourceAttributes`).
    pub fn from_review(spec: &Value) -> Option<Self> {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        if let Some(r) = spec.get("resourceAttributes").filter(|v| v.is_object()) {
            return Some(Attributes {
                verb: text(r, "verb"),
                resource_request: true,
                group: text(r, "group"),
                resource: text(r, "resource"),
                subresource: text(r, "subresource"),
                name: text(r, "name"),
                namespace: text(r, "namespace"),
                path: String::new(),
            });
        }
        let n = spec.get("nonResourceAttributes").filter(|v| v.is_object())?;
        Some(Self::non_resource(&text(n, "verb"), &text(n, "path")))
    }
}

/// An authorizer's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// Why, as RBAC words it (empty when nothing allows it).
    pub reason: String,
}

/// Whether `user` may do `attrs`.
pub fn authorize(store: &Store, user: &UserInfo, attrs: &Attributes) -> Decision {
    if user.is_master() {
        return Decision { allowed: true, reason: String::new() };
    }
    let mut allowed_by = None;
    visit(store, user, &attrs.namespace, &mut |source, rules| {
        if rules.iter().any(|r| rule_allows(r, attrs)) {
            allowed_by = Some(source.to_owned());
            true
        } else {
            false
        }
    });
    match allowed_by {
        Some(source) => Decision { allowed: true, reason: format!("RBAC: allowed by {source}") },
        None => Decision { allowed: false, reason: String::new() },
    }
}

/// The rules that apply to `user` in `namespace` (cluster-wide ones included), for
/// SelfSubjectRulesReview.
pub fn rules_for(store: &Store, user: &UserInfo, namespace: &str) -> Vec<PolicyRule> {
    if user.is_master() {
        return vec![
            PolicyRule {
                verbs: vec!["*".into()],
                api_groups: Some(vec!["*".into()]),
                resources: Some(vec!["*".into()]),
                ..PolicyRule::default()
            },
            PolicyRule { verbs: vec!["*".into()], non_resource_urls: Some(vec!["*".into()]), ..PolicyRule::default() },
        ];
    }
    let mut all = Vec::new();
    visit(store, user, namespace, &mut |_, rules| {
        all.extend_from_slice(rules);
        false
    });
    all
}

fn list<T: serde::de::DeserializeOwned>(store: &Store, rt: &'static ResourceType, ns: Option<&str>) -> Vec<T> {
    let (items, _) = store.list_stored(rt, ns, &LabelSelector::default(), &FieldSelector::default());
    items.iter().filter_map(|s| serde_json::from_slice(&s.json).ok()).collect()
}

fn role_rules(store: &Store, role: &RoleRef, namespace: Option<&str>) -> Vec<PolicyRule> {
    match (role.kind.as_str(), namespace) {
        ("ClusterRole", _) => list::<ClusterRole>(store, &CLUSTER_ROLES, None)
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(role.name.as_str()))
            .and_then(|r| r.rules)
            .unwrap_or_default(),
        ("Role", Some(ns)) => list::<Role>(store, &ROLES, Some(ns))
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(role.name.as_str()))
            .and_then(|r| r.rules)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Calls `f` with each binding's description and rules that apply to `user` in `namespace`,
/// cluster-wide ones first, until `f` returns true.
fn visit(store: &Store, user: &UserInfo, namespace: &str, f: &mut dyn FnMut(&str, &[PolicyRule]) -> bool) {
    for b in list::<ClusterRoleBinding>(store, &CLUSTER_ROLE_BINDINGS, None) {
        let Some(subject) = b.subjects.iter().flatten().find(|s| applies(s, user, "")) else { continue };
        let rules = role_rules(store, &b.role_ref, None);
        let source = format!(
            "ClusterRoleBinding {:?} of {} {:?} to {}",
            b.metadata.name.as_deref().unwrap_or(""),
            b.role_ref.kind,
            b.role_ref.name,
            describe(subject, "")
        );
        if f(&source, &rules) {
            return;
        }
    }
    if namespace.is_empty() {
        return;
    }
    for b in list::<RoleBinding>(store, &ROLE_BINDINGS, Some(namespace)) {
        let Some(subject) = b.subjects.iter().flatten().find(|s| applies(s, user, namespace)) else { continue };
        let rules = role_rules(store, &b.role_ref, Some(namespace));
        let source = format!(
            "RoleBinding \"{}/{namespace}\" of {} {:?} to {}",
            b.metadata.name.as_deref().unwrap_or(""),
            b.role_ref.kind,
            b.role_ref.name,
            describe(subject, namespace)
        );
        if f(&source, &rules) {
            return;
        }
    }
}

fn describe(s: &Subject, binding_namespace: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = s.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(binding_namespace);
        format!("{} {:?}", s.kind, format!("{}/{ns}", s.name))
    } else {
        format!("{} {:?}", s.kind, s.name)
    }
}

/// Whether a binding's subject is `user` (or one of their groups).
fn applies(s: &Subject, user: &UserInfo, binding_namespace: &str) -> bool {
    match s.kind.as_str() {
        "User" => s.name == user.username,
        "Group" => user.groups.contains(&s.name),
        "ServiceAccount" => {
            let ns = s.namespace.as_deref().filter(|n| !n.is_empty()).unwrap_or(binding_namespace);
            !ns.is_empty() && user.username == format!("system:serviceaccount:{ns}:{}", s.name)
        }
        _ => false,
    }
}

/// Whether one rule allows the request (Kubernetes' `RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, a: &Attributes) -> bool {
    let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
    if !any(&rule.verbs, &a.verb) {
        return false;
    }
    if !a.resource_request {
        return rule
            .non_resource_urls
            .iter()
            .flatten()
            .any(|u| u == "*" || *u == a.path || u.strip_suffix('*').is_some_and(|prefix| a.path.starts_with(prefix)));
    }
    let combined =
        if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
    let resource_matches = rule.resources.iter().flatten().any(|r| {
        r == "*"
            || *r == combined
            || (!a.subresource.is_empty() && r.strip_prefix("*/").is_some_and(|sub| sub == a.subresource))
    });
    let names = rule.resource_names.as_deref().unwrap_or_default();
    any(rule.api_groups.as_deref().unwrap_or_default(), &a.group)
        && resource_matches
        && (names.is_empty() || names.contains(&a.name))
}

/// 403 in Kubernetes' words: `pipelines.core.calyptia.com "x" is forbidden: User "alice"
/// cannot update resource "pipelines" in API group "core.calyptia.com" in the namespace
/// "logging"`.
pub fn forbidden(user: &UserInfo, a: &Attributes) -> ApiError {
    let who = &user.username;
    if !a.resource_request {
        return ApiError::forbidden("", "", "", format!("User {who:?} cannot {} path {:?}", a.verb, a.path));
    }
    let resource =
        if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace {:?}", a.namespace)
    };
    let why = format!("User {who:?} cannot {} resource {resource:?} in API group {:?} {scope}", a.verb, a.group);
    ApiError::forbidden(&a.group, &a.resource, &a.name, why)
}

/// The roles and bindings every new cluster has.
pub fn default_objects() -> Vec<(&'static ResourceType, Value)> {
    let role = |name: &str, rules: Value| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "rules": rules})
    };
    let binding = |name: &str, role: &str, kind: &str, subject: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}]})
    };
    let read = json!(["get", "list", "watch"]);
    let write = json!(["create", "delete", "deletecollection", "patch", "update"]);
    let view_rules = json!([
        {"apiGroups": [""], "resources": ["configmaps", "endpoints", "persistentvolumeclaims", "pods", "pods/log",
            "pods/status", "replicationcontrollers", "services", "events", "namespaces", "namespaces/status"], "verbs": read},
        {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "deployments/scale", "replicasets",
            "replicasets/scale", "statefulsets", "statefulsets/scale"], "verbs": read},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": read},
    ]);
    let edit_rules = json!([
        {"apiGroups": [""], "resources": ["configmaps", "pods", "secrets", "services", "events"], "verbs": write},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": read},
        {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "deployments/scale", "replicasets",
            "replicasets/scale", "statefulsets", "statefulsets/scale"], "verbs": write},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "delete", "patch", "update"]},
    ]);
    let mut edit = view_rules.as_array().cloned().unwrap_or_default();
    edit.extend(edit_rules.as_array().cloned().unwrap_or_default());
    let mut admin = edit.clone();
    admin.push(json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"],
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]}));
    admin.push(
        json!({"apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]}),
    );
    vec![
        (
            &CLUSTER_ROLES,
            role(
                "cluster-admin",
                json!([
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
            ),
        ),
        (&CLUSTER_ROLES, role("admin", json!(admin))),
        (&CLUSTER_ROLES, role("edit", json!(edit))),
        (&CLUSTER_ROLES, role("view", view_rules)),
        (
            &CLUSTER_ROLES,
            role(
                "system:basic-user",
                json!([
            {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
            {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
            ),
        ),
        (
            &CLUSTER_ROLES,
            role(
                "system:discovery",
                json!([
            {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
            ),
        ),
        (
            &CLUSTER_ROLES,
            role(
                "system:public-info-viewer",
                json!([
            {"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
            ),
        ),
        (&CLUSTER_ROLE_BINDINGS, binding("cluster-admin", "cluster-admin", "Group", crate::auth::MASTERS)),
        (
            &CLUSTER_ROLE_BINDINGS,
            binding("system:basic-user", "system:basic-user", "Group", crate::auth::AUTHENTICATED),
        ),
        (&CLUSTER_ROLE_BINDINGS, binding("system:discovery", "system:discovery", "Group", crate::auth::AUTHENTICATED)),
        (
            &CLUSTER_ROLE_BINDINGS,
            binding("system:public-info-viewer", "system:public-info-viewer", "Group", crate::auth::AUTHENTICATED),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> PolicyRule {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rules_match_as_kubernetes_matches_them() {
        let pods = rule(json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}));
        let get = |res: &str, sub: &str, name: &str| Attributes::resource("get", "", res, sub, name, "ns");
        assert!(rule_allows(&pods, &get("pods", "", "a")));
        assert!(!rule_allows(&pods, &get("pods", "log", "a")), "a subresource is its own resource");
        assert!(!rule_allows(&pods, &Attributes::resource("delete", "", "pods", "", "a", "ns")));
        assert!(!rule_allows(&pods, &Attributes::resource("get", "apps", "pods", "", "a", "ns")));
        let logs = rule(json!({"apiGroups": [""], "resources": ["*/log"], "verbs": ["*"]}));
        assert!(rule_allows(&logs, &get("pods", "log", "a")));
        assert!(!rule_allows(&logs, &get("pods", "", "a")));
        let named = rule(json!({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["get"]}));
        assert!(rule_allows(&named, &get("pods", "", "a")));
        assert!(!rule_allows(&named, &get("pods", "", "b")));
        assert!(!rule_allows(&named, &Attributes::resource("get", "", "pods", "", "", "ns")), "a list has no name");
        let urls = rule(json!({"nonResourceURLs": ["/apis/*", "/version"], "verbs": ["get"]}));
        assert!(rule_allows(&urls, &Attributes::non_resource("get", "/apis/apps/v1")));
        assert!(rule_allows(&urls, &Attributes::non_resource("get", "/version")));
        assert!(!rule_allows(&urls, &Attributes::non_resource("get", "/metrics")));
        assert!(!rule_allows(&urls, &get("pods", "", "")), "non-resource rules grant no resources");
    }

    #[test]
    fn forbidden_messages_are_kubernetes_sentences() {
        let alice = UserInfo { username: "alice".into(), ..UserInfo::default() };
        let a = Attributes::resource("update", "core.calyptia.com", "pipelines", "", "x", "logging");
        assert_eq!(
            forbidden(&alice, &a).message,
            "pipelines.core.calyptia.com \"x\" is forbidden: User \"alice\" cannot update resource \"pipelines\" in API group \"core.calyptia.com\" in the namespace \"logging\""
        );
        let l = Attributes::resource("list", "", "pods", "log", "", "");
        assert_eq!(
            forbidden(&alice, &l).message,
            "pods is forbidden: User \"alice\" cannot list resource \"pods/log\" in API group \"\" at the cluster scope"
        );
        let p = Attributes::non_resource("get", "/version");
        assert_eq!(forbidden(&alice, &p).message, "forbidden: User \"alice\" cannot get path \"/version\"");
    }
}
