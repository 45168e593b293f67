//! Errors as data: a path, a kind, the bad value and a sentence.

use crate::FieldPath;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What is wrong with a field, in Kubernetes' vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// A required field is missing or empty.
    Required,
    /// The value does not satisfy a rule.
    Invalid,
    /// The value must be unique but is repeated.
    Duplicate,
    /// The value is not one of the supported values.
    NotSupported,
    /// The field may not be set (here, or in this combination).
    Forbidden,
    /// A reference names something that is not declared.
    NotFound,
    /// The value is longer than allowed.
    TooLong,
    /// The field is not part of the spec.
    UnknownField,
    /// The JSON value has the wrong type.
    Type,
}

impl ErrorKind {
    /// The kind's name as it appears in JSON (`"Required"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Required => "Required",
            ErrorKind::Invalid => "Invalid",
            ErrorKind::Duplicate => "Duplicate",
            ErrorKind::NotSupported => "NotSupported",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::TooLong => "TooLong",
            ErrorKind::UnknownField => "UnknownField",
            ErrorKind::Type => "Type",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with a spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// Where, in Kubernetes' path style (`ports[1].containerPort`).
    #[serde(with = "path_serde")]
    pub field: FieldPath,
    /// What kind of problem.
    pub kind: ErrorKind,
    /// A sentence a person understands, without the path.
    pub message: String,
    /// The offending value, where it helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

impl FieldError {
    fn new(field: FieldPath, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { field, kind, message: message.into(), value: None }
    }

    /// A required field is missing.
    pub fn required(field: FieldPath, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::Required, message)
    }

    /// A value breaks a rule; `message` says which.
    pub fn invalid(field: FieldPath, value: impl Into<serde_json::Value>, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::Invalid, message).with_value(value)
    }

    /// A value repeats one that must be unique.
    pub fn duplicate(field: FieldPath, value: impl Into<serde_json::Value>) -> Self {
        let value = value.into();
        let message = format!("duplicate value {value}");
        Self::new(field, ErrorKind::Duplicate, message).with_value(value)
    }

    /// A value is not among `supported`.
    pub fn not_supported(field: FieldPath, value: &str, supported: &[&str]) -> Self {
        let list = supported.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        let message = if value.is_empty() {
            format!("must be one of {list}")
        } else {
            format!("unsupported value \"{value}\": supported values are {list}")
        };
        Self::new(field, ErrorKind::NotSupported, message).with_value(value)
    }

    /// A field may not be set.
    pub fn forbidden(field: FieldPath, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::Forbidden, message)
    }

    /// A reference to something undeclared.
    pub fn not_found(field: FieldPath, value: impl Into<serde_json::Value>, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::NotFound, message).with_value(value)
    }

    /// A field that is not part of the spec.
    pub fn unknown_field(field: FieldPath, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::UnknownField, message)
    }

    /// A JSON value of the wrong type.
    pub fn wrong_type(field: FieldPath, value: serde_json::Value, message: impl Into<String>) -> Self {
        Self::new(field, ErrorKind::Type, message).with_value(value)
    }

    fn with_value(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.value = Some(value.into());
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

mod path_serde {
    use crate::FieldPath;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &FieldPath, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FieldPath, D::Error> {
        Ok(FieldPath::from(String::deserialize(d)?.as_str()))
    }
}

/// Text that is not JSON at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("invalid JSON at line {line}, column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
    /// What the parser expected.
    pub message: String,
}

impl From<serde_json::Error> for SyntaxError {
    fn from(e: serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its message; we carry those as fields.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        // At the very end of a line serde_json says column 0; people count from 1.
        Self { line: e.line(), column: e.column().max(1), message }
    }
}

/// Why a spec was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CheckError {
    /// The text is not JSON.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// The JSON is not a valid sidecar spec; every problem found is listed.
    #[error("{} error(s) in the sidecar spec", .0.len())]
    Invalid(Vec<FieldError>),
}

impl CheckError {
    /// The field errors, empty for a syntax error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            CheckError::Syntax(_) => &[],
            CheckError::Invalid(errors) => errors,
        }
    }
}
