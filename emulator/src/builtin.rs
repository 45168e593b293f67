//! Decoding built-in objects the way the API server does: into their typed form (from
//! k8s-openapi) and back, which drops fields the type does not have; those fields are reported
//! for `fieldValidation`.

use crate::resources::{ResourceType, CONFIGMAPS, CRDS, EVENTS, NAMESPACES, PODS, SECRETS};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Pod, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The object re-encoded through its type, and the paths of the fields that were dropped
/// (`datax`, `spec.containers[0].imagePullPolcy`). `None` for a type that is not built in.
pub fn normalize(rt: &ResourceType, obj: &Value) -> Option<Result<(Value, Vec<String>), String>> {
    let r = if std::ptr::eq(rt, &CONFIGMAPS) {
        through::<ConfigMap>(obj)
    } else if std::ptr::eq(rt, &SECRETS) {
        through::<Secret>(obj)
    } else if std::ptr::eq(rt, &PODS) {
        through::<Pod>(obj)
    } else if std::ptr::eq(rt, &NAMESPACES) {
        through::<Namespace>(obj)
    } else if std::ptr::eq(rt, &EVENTS) {
        through::<Event>(obj)
    } else if std::ptr::eq(rt, &CRDS) {
        through::<CustomResourceDefinition>(obj)
    } else {
        return None;
    };
    Some(r)
}

fn through<T: DeserializeOwned + Serialize>(obj: &Value) -> Result<(Value, Vec<String>), String> {
    let mut unknown = Vec::new();
    let typed: T =
        serde_ignored::deserialize(obj, |path| unknown.push(kubernetes_path(&path))).map_err(|e| e.to_string())?;
    let value = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    unknown.sort();
    Ok((value, unknown))
}

/// `spec.containers.0.x` as Kubernetes writes it: `spec.containers[0].x`.
fn kubernetes_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", kubernetes_path(parent)),
        Path::Map { parent, key } => {
            let p = kubernetes_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            kubernetes_path(parent)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_of_built_in_types_are_found_with_their_paths() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolcy": "Always"}]}, "bogus": 1});
        let (value, unknown) = normalize(&PODS, &pod).unwrap().unwrap();
        assert_eq!(unknown, vec!["bogus", "spec.containers[0].imagePullPolcy"]);
        assert!(value.get("bogus").is_none());
        assert_eq!(value["spec"]["containers"][0]["image"], "i");
    }
}
