//! The JSON Schema of the spec, generated from the types.
//!
//! The browser's build reads the same schema from `sidecar.schema.json` (written from the types,
//! checked by a test to be current) instead of generating it: the generator would be about
//! 100 kB of the browser's code, for the same schema.

use serde_json::Value;
use std::sync::LazyLock;

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    #[cfg(target_arch = "wasm32")]
    {
        published()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        generate()
    }
});

/// The schema as published in the crate (`sidecar.schema.json`).
#[cfg(any(target_arch = "wasm32", test))]
fn published() -> Value {
    // The file is part of the build and a test parses it, so this cannot fail at run time.
    serde_json::from_str(include_str!("../sidecar.schema.json")).unwrap_or(Value::Null)
}

/// The schema generated from the types.
#[cfg(not(target_arch = "wasm32"))]
fn generate() -> Value {
    let mut schema = schemars::schema_for!(crate::SidecarSpec).to_value();
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
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The browser validates with the published file: it must be what the types say. After a
    /// change to the types, `SIDECAR_SCHEMA_WRITE=1 cargo test -p sidecar-spec` rewrites it.
    #[test]
    fn the_published_schema_is_the_one_the_types_generate() {
        let generated = generate();
        if std::env::var_os("SIDECAR_SCHEMA_WRITE").is_some() {
            let text = serde_json::to_string_pretty(&generated).expect("a schema serializes") + "\n";
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/sidecar.schema.json"), text)
                .expect("write the schema");
            // The build holds the file as it was when compiled; the next run checks the new one.
            return;
        }
        let text = |v: &Value| serde_json::to_string(v).expect("a schema serializes");
        assert!(
            text(&published()) == text(&generated),
            "sidecar-spec/sidecar.schema.json is stale: run `SIDECAR_SCHEMA_WRITE=1 cargo test -p sidecar-spec` and commit it"
        );
    }
}
