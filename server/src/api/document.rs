//! The OpenAPI document made as strict as the API: what the handlers' annotations cannot say
//! is added here, from the same sources the API checks against — the sidecar spec's JSON
//! Schema for request bodies, Kubernetes' name rules for path and query parameters, the
//! errors every operation can answer, server-sent events as events, and the links between
//! operations (a created sidecar's ID, a listed pipeline's namespace and name).

use serde_json::{json, Map, Value};

/// A namespace: an RFC 1123 label.
const LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// A pipeline or pod name: an RFC 1123 subdomain.
const SUBDOMAIN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// A bare pipeline name, or `namespace/name`.
const PIPELINE: &str =
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// The name under which the sidecar spec's schema is a component.
const SPEC: &str = "SidecarSpec";

/// The document as served.
pub fn refine(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    add_spec_schema(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                refine_operation(path, method, op);
            }
        }
    }
    doc
}

/// `components.schemas.SidecarSpec`: the schema `/schema/sidecar.json` serves, its `$defs`
/// beside it as `SidecarSpec.<name>`.
fn add_spec_schema(doc: &mut Value) {
    let mut spec = sidecar_spec::json_schema().clone();
    let defs = spec.as_object_mut().and_then(|o| {
        o.remove("$schema");
        o.remove("$defs")
    });
    let mut schemas: Vec<(String, Value)> = vec![(SPEC.to_owned(), spec)];
    if let Some(Value::Object(defs)) = defs {
        schemas.extend(defs.into_iter().map(|(k, v)| (format!("{SPEC}.{k}"), v)));
    }
    let Some(components) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    for (name, mut schema) in schemas {
        rewrite_refs(&mut schema);
        nullable_optionals(&mut schema);
        components.insert(name, schema);
    }
}

/// A field that is not required may also be `null`: the API, like Kubernetes' decoding, takes
/// it as absent (the editor's copy of the schema, `/schema/sidecar.json`, leaves this out).
fn nullable_optionals(schema: &mut Value) {
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { return };
    for (name, property) in properties.iter_mut() {
        if !required.contains(name) {
            let original = std::mem::take(property);
            *property = json!({"anyOf": [original, {"type": "null"}]});
        }
    }
}

/// `#/$defs/X` → `#/components/schemas/SidecarSpec.X`.
fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            *r = format!("#/components/schemas/{SPEC}.{name}");
                        }
                    }
                    (_, v) => rewrite_refs(v),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn refine_operation(path: &str, method: &str, op: &mut Value) {
    let Some(op) = op.as_object_mut() else { return };
    let has_params = op.get("parameters").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        params.iter_mut().for_each(refine_parameter);
    }
    let has_body = op.contains_key("requestBody");
    if let Some(body) = op.get_mut("requestBody") {
        if let Some(schema) = body.pointer_mut("/content/application~1json/schema") {
            *schema = json!({"$ref": format!("#/components/schemas/{SPEC}")});
        }
    }
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for response in responses.values_mut() {
        events_as_events(response);
    }
    let mut add = |status: &str, description: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
    };
    if has_params {
        add("400", "A parameter Kubernetes would not accept, named");
    }
    if has_body {
        add("400", "The body is not JSON");
        add("408", "The body did not arrive in time");
        add("413", "The body is larger than 1 MiB");
        add("415", "The body is not JSON (Content-Type)");
        add("422", "Every problem of the spec");
    }
    if path != "/schema/sidecar.json" && path != "/validate" {
        add("401", "No credentials, or ones Kubernetes does not accept");
        add("403", "Kubernetes' RBAC does not allow it, in Kubernetes' words");
        add("502", "Kubernetes answered in a way the console cannot use, or could not be trusted");
        add("503", "Kubernetes cannot be reached");
        add("504", "Kubernetes did not answer in time");
    }
    if path.ends_with("/watch") || path.ends_with("/logs") {
        add("503", "Too many live streams for this client or in all (see Retry-After)");
    }
    links(path, method, responses);
}

/// Kubernetes' rules for names, as patterns a client can check.
fn refine_parameter(p: &mut Value) {
    let (Some(name), Some(place)) =
        (p.get("name").and_then(Value::as_str).map(str::to_owned), p.get("in").and_then(Value::as_str))
    else {
        return;
    };
    let schema = match (place, name.as_str()) {
        ("path", "namespace") => json!({"type": "string", "pattern": LABEL, "minLength": 1, "maxLength": 63}),
        // Empty is no filter, as when absent.
        ("query", "namespace") => json!({"type": "string", "pattern": format!("^$|{LABEL}"), "maxLength": 63}),
        ("path", "name") => json!({"type": "string", "pattern": SUBDOMAIN, "minLength": 1, "maxLength": 253}),
        ("query", "name") => json!({"type": "string", "pattern": format!("^$|{PIPELINE}"), "maxLength": 317}),
        ("query", "replica") => json!({"type": "string", "pattern": SUBDOMAIN, "minLength": 1, "maxLength": 253}),
        ("path", "id") => json!({"type": "string", "format": "uuid"}),
        ("query", "dryRun") => json!({"type": "string", "enum": ["true", "false", "All", ""]}),
        ("query", "tailLines") => json!({"type": "integer", "format": "int64", "minimum": 0}),
        ("query", "follow" | "previous") => json!({"type": "boolean"}),
        ("query", "page") => json!({"type": "integer", "minimum": 1}),
        ("query", "perPage") => json!({"type": "integer", "minimum": 1, "maximum": 500}),
        _ => return,
    };
    if let Some(o) = p.as_object_mut() {
        o.insert("schema".to_owned(), schema);
    }
}

/// Before OpenAPI 3.2 an event stream's `schema` describes one event: `event` names it, and
/// its `data` is JSON of the schema the handler documented.
fn events_as_events(response: &mut Value) {
    let Some(media) = response.pointer_mut("/content/text~1event-stream") else { return };
    let Some(media) = media.as_object_mut() else { return };
    let Some(data) = media.remove("schema") else { return };
    let json_data =
        |schema: Value| json!({"type": "string", "contentMediaType": "application/json", "contentSchema": schema});
    let error = json!({
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"const": "error"}, "data": json_data(json!({"$ref": "#/components/schemas/ErrorBody"}))}
    });
    let name = if data.get("$ref").and_then(Value::as_str).is_some_and(|r| r.ends_with("/LogLine")) {
        "line"
    } else {
        "state"
    };
    let event = json!({
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"const": name}, "data": json_data(data)}
    });
    let mut unavailable = error.clone();
    unavailable["properties"]["event"] = json!({"const": "unavailable"});
    media.insert("schema".to_owned(), json!({"oneOf": [event, error, unavailable]}));
}

/// Where an answer's values lead: the created sidecar's ID to what can be done with it, a
/// listed pipeline's namespace and name to its operations, a listed sidecar's ID likewise.
fn links(path: &str, method: &str, responses: &mut Map<String, Value>) {
    let by_id =
        ["get_sidecar", "update_sidecar", "delete_sidecar", "sidecar_status", "sidecar_events", "sidecar_state"];
    let by_pipeline = [
        "get_pipeline",
        "list_sidecars",
        "create_sidecar",
        "pipeline_status",
        "pipeline_events",
        "pipeline_config_maps",
    ];
    let (status, targets, parameters): (&str, &[&str], Value) = match (method, path) {
        ("post", "/pipelines/{namespace}/{name}/sidecars") => ("201", &by_id, json!({"id": "$response.body#/id"})),
        ("get", "/pipelines/{namespace}/{name}/sidecars") => ("200", &by_id, json!({"id": "$response.body#/0/id"})),
        ("get", "/pipelines") => {
            ("200", &by_pipeline, json!({"namespace": "$response.body#/0/namespace", "name": "$response.body#/0/name"}))
        }
        _ => return,
    };
    let Some(response) = responses.get_mut(status).and_then(Value::as_object_mut) else { return };
    let links: Map<String, Value> = targets
        .iter()
        .map(|target| ((*target).to_owned(), json!({"operationId": target, "parameters": parameters})))
        .collect();
    response.insert("links".to_owned(), Value::Object(links));
}
