//! The review kinds, answered and not stored: SelfSubjectReview ("who am I?"), TokenReview,
//! SelfSubjectAccessReview and SubjectAccessReview ("may I / may they?"), and
//! SelfSubjectRulesReview ("what may I do here?"), all from the same authenticator and RBAC
//! rules that guard the requests themselves.

use crate::auth::{Authn, Identity, UserInfo};
use crate::error::ApiError;
use crate::rbac::{self, Attributes};
use crate::resources::{
    is, ResourceType, SELF_SUBJECT_ACCESS_REVIEWS, SELF_SUBJECT_REVIEWS, SELF_SUBJECT_RULES_REVIEWS,
    SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS,
};
use crate::store::Store;
use serde_json::{json, Value};

/// The reason every access review of an open emulator gives.
const OPEN: &str = "the emulator has no token file: every request acts as a member of system:masters";

/// The answered review (`obj` is the request's body, a JSON object).
pub fn answer(store: &Store, rt: &'static ResourceType, who: &Identity, mut obj: Value) -> Result<Value, ApiError> {
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if obj.get("metadata").is_none() {
        obj["metadata"] = json!({});
    }
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    obj["status"] = if is(rt, &SELF_SUBJECT_REVIEWS) {
        json!({"userInfo": who.user.to_json()})
    } else if is(rt, &TOKEN_REVIEWS) {
        token_review(&who.authn, &spec)
    } else if is(rt, &SELF_SUBJECT_RULES_REVIEWS) {
        rules_review(store, &who.user, spec.get("namespace").and_then(Value::as_str).unwrap_or(""))
    } else if is(rt, &SELF_SUBJECT_ACCESS_REVIEWS) {
        access_review(store, rt, &who.authn, &who.user, &spec)?
    } else if is(rt, &SUBJECT_ACCESS_REVIEWS) {
        let user = subject(&spec).ok_or_else(|| {
            ApiError::invalid(
                rt,
                "",
                vec![(
                    "spec.user".into(),
                    "FieldValueInvalid",
                    "Invalid value: \"\": at least one of user or group must be specified".into(),
                )],
            )
        })?;
        access_review(store, rt, &who.authn, &user, &spec)?
    } else {
        return Err(ApiError::method_not_allowed("POST", rt));
    };
    Ok(obj)
}

fn token_review(authn: &Authn, spec: &Value) -> Value {
    let token = spec.get("token").and_then(Value::as_str).unwrap_or("");
    match authn.review(token) {
        Some(user) => json!({"authenticated": true, "user": user.to_json()}),
        None if matches!(authn, Authn::Open) => {
            json!({"authenticated": false, "error": "the emulator has no token file: it knows no tokens"})
        }
        None => json!({"authenticated": false, "error": "invalid bearer token"}),
    }
}

/// The user a SubjectAccessReview asks about.
fn subject(spec: &Value) -> Option<UserInfo> {
    let user = spec.get("user").and_then(Value::as_str).unwrap_or("").to_owned();
    let groups: Vec<String> = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if user.is_empty() && groups.is_empty() {
        return None;
    }
    let extra = spec.get("extra").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default();
    Some(UserInfo {
        username: user,
        uid: spec.get("uid").and_then(Value::as_str).unwrap_or("").to_owned(),
        groups,
        extra,
    })
}

fn access_review(
    store: &Store,
    rt: &'static ResourceType,
    authn: &Authn,
    user: &UserInfo,
    spec: &Value,
) -> Result<Value, ApiError> {
    let attrs = Attributes::from_review(spec).ok_or_else(|| {
        ApiError::invalid(
            rt,
            "",
            vec![(
                "spec.resourceAttributes".into(),
                "FieldValueInvalid",
                "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
                    .into(),
            )],
        )
    })?;
    let decision = rbac::authorize(store, user, &attrs);
    let mut status = json!({"allowed": decision.allowed});
    let reason = match authn {
        Authn::Open if user.is_master() => OPEN.to_owned(),
        _ => decision.reason,
    };
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    Ok(status)
}

fn rules_review(store: &Store, user: &UserInfo, namespace: &str) -> Value {
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for r in rbac::rules_for(store, user, namespace) {
        if let Some(urls) = r.non_resource_urls.filter(|u| !u.is_empty()) {
            non_resource_rules.push(json!({"verbs": r.verbs, "nonResourceURLs": urls}));
        }
        if r.resources.as_ref().is_some_and(|x| !x.is_empty()) {
            let mut rule =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups.unwrap_or_default(), "resources": r.resources});
            if let Some(names) = r.resource_names.filter(|n| !n.is_empty()) {
                rule["resourceNames"] = json!(names);
            }
            resource_rules.push(rule);
        }
    }
    json!({"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": false})
}
