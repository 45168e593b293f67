//! The JSON Schema of the spec, generated from the types.
//!
//! The browser's build does not generate it (the generator would be about 100 kB of the
//! browser's code, for the same schema). Its strict decoder reads the part of the schema it
//! walks from `sidecar.decode.json`, and its JSON editor fetches the whole schema, with the field
//! docs for hovers, from the server. Tests check that both files are what the types generate.

use serde_json::Value;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::LazyLock;

/// The schema as published in the crate (`sidecar.schema.json`), for people and other tools.
#[cfg(test)]
fn published() -> Value {
    serde_json::from_str(include_str!("../sidecar.schema.json")).unwrap_or(Value::Null)
}

/// What strict decoding walks: on the server the whole schema, in the browser the published
/// decoding part of it (`sidecar.decode.json`: only the keywords in
/// [`crate::decode::KEYWORDS`]).
pub(crate) fn decoding_schema() -> &'static Value {
    #[cfg(target_arch = "wasm32")]
    {
        static PART: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
            // The file is part of the build and a test parses it, so this cannot fail at run time.
            serde_json::from_str(include_str!("../sidecar.decode.json")).unwrap_or(Value::Null)
        });
        &PART
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        json_schema()
    }
}

/// The schema with only the keywords strict decoding reads ([`crate::decode::KEYWORDS`]): no
/// descriptions, bounds or patterns, which validation checks in its own words. About a quarter
/// of the whole schema's size in the browser's code.
#[cfg(test)]
fn decoding_part(schema: &Value) -> Value {
    /// Keywords whose object's keys are names (of fields, of definitions), not keywords.
    const NAMED: &[&str] = &["properties", "$defs"];
    fn part(v: &Value, names: bool) -> Value {
        match v {
            Value::Object(obj) => Value::Object(
                obj.iter()
                    .filter(|(k, _)| names || crate::decode::KEYWORDS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), part(v, !names && NAMED.contains(&k.as_str()))))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|i| part(i, false)).collect()),
            other => other.clone(),
        }
    }
    part(schema, false)
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
/// what the editor suggests and what the validator accepts are one definition. Not in the
/// browser's build: the browser fetches it from the server (`GET /api/v1/schema/sidecar.json`).
#[cfg(not(target_arch = "wasm32"))]
pub fn json_schema() -> &'static Value {
    static SCHEMA: LazyLock<Value> = LazyLock::new(generate);
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

    /// Files written from the types: after a change to the types,
    /// `SIDECAR_SCHEMA_WRITE=1 cargo test -p sidecar-spec` rewrites both.
    #[test]
    fn the_published_schemas_are_the_ones_the_types_generate() {
        let generated = generate();
        let part = decoding_part(&generated);
        if std::env::var_os("SIDECAR_SCHEMA_WRITE").is_some() {
            let dir = env!("CARGO_MANIFEST_DIR");
            let text = serde_json::to_string_pretty(&generated).expect("a schema serializes") + "\n";
            std::fs::write(format!("{dir}/sidecar.schema.json"), text).expect("write the schema");
            let text = serde_json::to_string(&part).expect("a schema serializes") + "\n";
            std::fs::write(format!("{dir}/sidecar.decode.json"), text).expect("write the decoding part");
            // The build holds the files as they were when compiled; the next run checks the new ones.
            return;
        }
        let text = |v: &Value| serde_json::to_string(v).expect("a schema serializes");
        let stale = "is stale: run `SIDECAR_SCHEMA_WRITE=1 cargo test -p sidecar-spec` and commit it";
        assert!(text(&published()) == text(&generated), "sidecar-spec/sidecar.schema.json {stale}");
        let browser: Value =
            serde_json::from_str(include_str!("../sidecar.decode.json")).expect("the decoding part parses");
        assert!(text(&browser) == text(&part), "sidecar-spec/sidecar.decode.json {stale}");
    }

    /// The part keeps every name: a field called like a keyword (`description`) is not dropped.
    #[test]
    fn the_decoding_part_keeps_names_and_drops_other_keywords() {
        let schema = serde_json::json!({
            "type": "object",
            "description": "dropped",
            "properties": {
                "description": {"type": "string", "description": "dropped", "maxLength": 3},
                "items": {"type": "array", "items": {"$ref": "#/$defs/title"}}
            },
            "$defs": {"title": {"type": "integer", "format": "int32", "minimum": 1}}
        });
        assert_eq!(
            decoding_part(&schema),
            serde_json::json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "items": {"type": "array", "items": {"$ref": "#/$defs/title"}}
                },
                "$defs": {"title": {"type": "integer", "format": "int32"}}
            })
        );
    }
}
