//! The pipeline sidecar spec.
//!
//! A sidecar is described by a JSON object with the fields of a Kubernetes container that a
//! sidecar needs. This crate turns such text into a checked [`SidecarSpec`], the same way in the
//! browser, the server and the command line:
//!
//! 1. [`decode`] parses strictly: syntax errors carry line and column, unknown fields and wrong
//!    JSON types are reported with their path (`livenessProbe.httpget`);
//! 2. [`apply_defaults`] fills in what Kubernetes would (`protocol: TCP`, probe periods, ...);
//! 3. [`validate()`] applies the Kubernetes API server's rules for a container plus the sidecar
//!    rules, and reports every problem at once.
//!
//! [`check`] runs all three. [`json_schema`] is generated from the same types.
//!
//! The crate has no I/O and builds for `wasm32-unknown-unknown`.

mod container;
mod decode;
mod defaults;
mod error;
pub mod examples;
pub mod fit;
mod image;
mod locate;
pub mod names;
mod path;
pub mod presets;
pub mod quantity;
mod schema;
mod types;
mod validate;

pub use container::check_container;
pub use decode::decode;
pub use defaults::apply_defaults;
pub use error::{CheckError, ErrorKind, FieldError, SyntaxError};
pub use locate::{position, Position, Spans};
pub use path::{segments, FieldPath, Segment};
pub use quantity::Quantity;
#[cfg(not(target_arch = "wasm32"))]
pub use schema::json_schema;
pub use schema::mark_required;
pub use types::*;
pub use validate::validate;

/// Decodes, defaults and validates a spec given as JSON text.
///
/// On success the spec is returned with Kubernetes' defaults applied. Decoding problems (unknown
/// fields, wrong types, malformed quantities) and rule violations are reported together.
pub fn check(text: &str) -> Result<SidecarSpec, CheckError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(SyntaxError::from)?;
    check_value(value)
}

/// Like [`check`], for a JSON document that is already parsed.
pub fn check_value(value: serde_json::Value) -> Result<SidecarSpec, CheckError> {
    let (spec, mut errors) = decode::decode_value(value);
    // Without an object at the top there is nothing to default or validate.
    let Some(mut spec) = spec else {
        return Err(CheckError::Invalid(errors));
    };
    apply_defaults(&mut spec);
    let decoded = errors.len();
    let findings: Vec<FieldError> =
        validate(&spec).into_iter().filter(|v| !errors[..decoded].iter().any(|d| is_consequence(v, d))).collect();
    errors.extend(findings);
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(CheckError::Invalid(errors))
    }
}

/// Whether validation finding `v` only restates decoding error `d`: a value that could not be
/// decoded is absent for validation, which would otherwise add "required" to "wrong type".
fn is_consequence(v: &FieldError, d: &FieldError) -> bool {
    let (vp, dp) = (v.field.as_str(), d.field.as_str());
    let below =
        |a: &str, b: &str| a == b || (a.starts_with(b) && matches!(a.as_bytes().get(b.len()), Some(b'.' | b'[')));
    below(vp, dp) || (v.kind == ErrorKind::Required && below(dp, vp))
}
