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

/// One step of a field path as written: `.name`, or `[…]` (an index or a map key; which one
/// depends on the value it is applied to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A field: `containerPort` in `ports[1].containerPort`.
    Field(&'a str),
    /// What is in brackets: `1` in `ports[1]`, `cpu` in `limits[cpu]`.
    Bracket(&'a str),
}

/// The steps of a path: `ports[1].containerPort` → `ports`, `[1]`, `containerPort`;
/// `resources.limits[example.com/gpu]` keeps the bracketed key whole.
pub fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            out.push(Segment::Bracket(&r[..end]));
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Segment::Field(&r[..end]));
            rest = &r[end..];
        }
    }
    out
}
