//! A minimal OpenAPI v3 document per group-version: the operations of every served type, with
//! their `x-kubernetes-group-version-kind` and the query parameters they take. kubectl reads it to
//! learn that the server validates fields itself (`fieldValidation`), which spares it the
//! client-side schema validation that would need full schemas.

use crate::resources::ResourceType;
use serde_json::{json, Map, Value};

/// `GET /openapi/v3`: where each group-version's document is.
pub fn root(types: &[&ResourceType]) -> Value {
    let mut paths = Map::new();
    for t in types {
        let gv = gv_path(t);
        paths.insert(gv.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash={}", hash(types, &gv))}));
    }
    json!({"paths": paths})
}

fn gv_path(t: &ResourceType) -> String {
    if t.group.is_empty() {
        format!("api/{}", t.version)
    } else {
        format!("apis/{}/{}", t.group, t.version)
    }
}

/// Changes when the types of a group-version change, so that clients' caches refresh.
fn hash(types: &[&ResourceType], gv: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for t in types.iter().filter(|t| gv_path(t) == gv) {
        for b in format!("{}{}{:?}", t.plural, t.kind, t.schema).bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016X}")
}

/// `GET /openapi/v3/{gv}`.
pub fn group_version(types: &[&ResourceType], gv: &str) -> Option<Value> {
    let mut paths = Map::new();
    let params: Vec<Value> = ["dryRun", "fieldManager", "fieldValidation", "pretty"]
        .iter()
        .map(|p| json!({"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": true}}))
        .collect();
    let mut found = false;
    for t in types.iter().filter(|t| gv_path(t) == gv) {
        found = true;
        let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
        let op = |verb: &str| json!({"operationId": format!("{verb}{}", t.kind), "parameters": params, "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk});
        let base = if t.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("/{gv}/{}", t.plural)
        };
        paths.insert(base.clone(), json!({"get": op("list"), "post": op("post")}));
        paths.insert(
            format!("{base}/{{name}}"),
            json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}),
        );
    }
    found.then(|| json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": paths, "components": {"schemas": {}}}))
}
