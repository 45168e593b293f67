//! events.k8s.io/v1 Events are core/v1 Events in a newer shape: one stored object, two views, as
//! in Kubernetes. These convert between them.

use serde_json::{json, Map, Value};

/// Field renames between the two versions: (core/v1, events.k8s.io/v1).
const RENAMES: [(&str, &str); 6] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename(obj: &Value, api_version: &str, to_new: bool) -> Value {
    let mut out = Map::new();
    if let Some(map) = obj.as_object() {
        for (k, v) in map {
            let renamed = RENAMES
                .iter()
                .find(|(old, new)| if to_new { k == old } else { k == new })
                .map(|(old, new)| if to_new { *new } else { *old });
            out.insert(renamed.unwrap_or(k).to_owned(), v.clone());
        }
    }
    out.insert("apiVersion".into(), json!(api_version));
    Value::Object(out)
}

/// A core/v1 Event as events.k8s.io/v1 shows it.
pub fn to_v1(core: &Value) -> Value {
    let mut v = rename(core, "events.k8s.io/v1", true);
    if let Some(m) = v.as_object_mut() {
        if let Some(component) = m.remove("reportingComponent") {
            m.insert("reportingController".into(), component);
        }
        if !m.contains_key("reportingController") {
            if let Some(c) = core.pointer("/source/component") {
                m.insert("reportingController".into(), c.clone());
            }
        }
    }
    v
}

/// An events.k8s.io/v1 Event as core/v1 stores it.
pub fn to_core(v1: &Value) -> Value {
    let mut core = rename(v1, "v1", false);
    if let Some(m) = core.as_object_mut() {
        if let Some(c) = m.remove("reportingController") {
            m.insert("reportingComponent".into(), c);
        }
    }
    core
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_shapes_convert_both_ways() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Pulled", "message": "ok",
            "source": {"component": "kubelet"}, "count": 2, "type": "Normal"});
        let v1 = to_v1(&core);
        assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1["regarding"]["name"], "p");
        assert_eq!(v1["note"], "ok");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(v1["reportingController"], "kubelet");
        let back = to_core(&v1);
        assert_eq!(back["involvedObject"]["name"], "p");
        assert_eq!(back["message"], "ok");
        assert_eq!(back["reportingComponent"], "kubelet");
    }
}
