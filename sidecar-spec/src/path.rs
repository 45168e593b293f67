//! Field paths in Kubernetes' style: `ports[1].containerPort`, `resources.limits[cpu]`.

use std::fmt;

/// The location of a value inside a spec, printed the way Kubernetes prints field paths.
///
/// The empty path is the spec itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(String);

impl FieldPath {
    /// The path of the whole spec.
    pub fn root() -> Self {
        Self::default()
    }

    /// Whether this is the path of the whole spec.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path of a named field below this one.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Self(name.to_owned())
        } else {
            Self(format!("{}.{name}", self.0))
        }
    }

    /// The path of an array element below this one.
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }

    /// The path of a map entry below this one.
    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}[{key}]", self.0))
    }

    /// The path as text (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("<spec>")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl From<&str> for FieldPath {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}
