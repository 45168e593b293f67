//! The JSON Schema of the spec, generated from the types.

use crate::SidecarSpec;
use serde_json::Value;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let mut schema = schemars::schema_for!(SidecarSpec).to_value();
    mark_required(&mut schema);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "description".into(),
            Value::String(
                "A pipeline sidecar: a container that runs beside a pipeline's main container. \
                 Field names and rules are those of a Kubernetes container."
                    .into(),
            ),
        );
    }
    schema
});

/// The JSON Schema (draft 2020-12) of a sidecar spec. Strict decoding walks this same schema, so
/// what the editor suggests and what the validator accepts are one definition.
pub fn json_schema() -> &'static Value {
    &SCHEMA
}

/// Fields are decoded with defaults so that a missing one is reported by validation (with its
/// path) rather than refused by the decoder; the types mark the ones Kubernetes requires with
/// `x-required`, which becomes the schema's `required` list here. Public for schemas that embed
/// the spec's types (the Pipeline CRD).
pub fn mark_required(schema: &mut Value) {
    match schema {
        Value::Object(obj) => {
            let mut required = Vec::new();
            if let Some(Value::Object(props)) = obj.get_mut("properties") {
                for (name, prop) in props.iter_mut() {
                    if let Some(p) = prop.as_object_mut() {
                        if p.remove("x-required").is_some() {
                            p.remove("default");
                            required.push(Value::String(name.clone()));
                        }
                    }
                }
            }
            if !required.is_empty() {
                obj.insert("required".into(), Value::Array(required));
            }
            obj.values_mut().for_each(mark_required);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_required),
        _ => {}
    }
}
