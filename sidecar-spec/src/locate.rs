//! Where a field path is in a spec's JSON text: so that an editor can put an error's marker on
//! the exact value (`ports[1].containerPort` → the `70000` of that port), not on the document.

use crate::path::{segments, Segment};
use std::ops::Range;

/// The places of the values of a JSON text, found in one pass.
#[derive(Clone, Debug)]
pub struct Spans {
    root: Node,
}

#[derive(Clone, Debug)]
struct Node {
    /// Byte range of the value.
    span: Range<usize>,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Scalar,
    Array(Vec<Node>),
    /// Members with the byte range of their key (quotes included).
    Object(Vec<(String, Range<usize>, Node)>),
}

/// A text position as editors count it: 1-based line, 1-based column in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in UTF-16 code units (what Monaco and the DOM count).
    pub column: usize,
}

impl Spans {
    /// Scans `text`; `None` when it is not one JSON value.
    pub fn parse(text: &str) -> Option<Spans> {
        let mut s = Scanner { b: text.as_bytes(), text, i: 0 };
        let root = s.value(0)?;
        s.ws();
        (s.i == s.b.len()).then_some(Spans { root })
    }

    /// The byte range an error at `path` belongs on: the value at the path; when the path does
    /// not exist (a required field that is missing), the key of its nearest existing parent
    /// (or, at the top, the whole document's opening brace).
    pub fn range(&self, path: &str) -> Range<usize> {
        let mut node = &self.root;
        let mut key: Option<Range<usize>> = None;
        for seg in segments(path) {
            let next = match (&node.kind, seg) {
                (Kind::Object(members), Segment::Field(name) | Segment::Bracket(name)) => {
                    members.iter().find(|(k, _, _)| k == name).map(|(_, kr, n)| (Some(kr.clone()), n))
                }
                (Kind::Array(items), Segment::Bracket(i)) => {
                    i.parse::<usize>().ok().and_then(|i| items.get(i)).map(|n| (None, n))
                }
                _ => None,
            };
            match next {
                Some((k, n)) => {
                    key = k.or(key);
                    node = n;
                }
                None => {
                    // Missing below here: point at the parent's key, or its first character.
                    return key.unwrap_or(node.span.start..node.span.start + 1);
                }
            }
        }
        node.span.clone()
    }
}

/// The editor position of byte `offset` of `text` (clamped to the text).
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before[line_start..].encode_utf16().count() + 1;
    Position { line, column }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Nesting deeper than this is refused (a stack guard; specs nest five levels).
const MAX_DEPTH: usize = 128;

struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let start = self.i;
        let kind = match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let ks = self.i;
                        self.string()?;
                        let kr = ks..self.i;
                        let key: String = serde_json::from_str(&self.text[kr.clone()]).ok()?;
                        self.ws();
                        self.expect(b':')?;
                        let v = self.value(depth + 1)?;
                        members.push((key, kr, v));
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Object(members)
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Kind::Array(items)
            }
            b'"' => {
                self.string()?;
                Kind::Scalar
            }
            _ => {
                // Numbers and literals: their exact grammar is serde_json's to check; here only
                // their extent matters.
                while self.b.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
                Kind::Scalar
            }
        };
        Some(Node { span: start..self.i, kind })
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{
  "name": "probe",
  "ports": [
    {"containerPort": 80},
    {"containerPort": 70000, "name": "admin"}
  ],
  "resources": {"limits": {"example.com/gpu": "x"}},
  "livenessProbe": {"httpGet": {"path": "/"}}
}"#;

    fn at(path: &str) -> &'static str {
        let s = Spans::parse(SPEC).expect("parses");
        &SPEC[s.range(path)]
    }

    #[test]
    fn a_path_finds_its_value() {
        assert_eq!(at("ports[1].containerPort"), "70000");
        assert_eq!(at("name"), "\"probe\"");
        assert_eq!(at("ports[0]"), "{\"containerPort\": 80}");
        assert_eq!(at("resources.limits[example.com/gpu]"), "\"x\"");
    }

    #[test]
    fn a_missing_field_points_at_its_parents_key() {
        assert_eq!(at("livenessProbe.httpGet.port"), "\"httpGet\"");
        assert_eq!(at("image"), "{");
        assert_eq!(at("ports[7].name"), "\"ports\"");
    }

    #[test]
    fn positions_count_lines_and_utf16_columns() {
        let text = "{\n  \"a\": \"é😀\", \"b\": 1}";
        let b = text.find("\"b\"").expect("has b");
        // "  \"a\": \"" is 8 columns, é one unit, 😀 two, then `", ` three.
        assert_eq!(position(text, b), Position { line: 2, column: 15 });
        assert_eq!(position(text, 0), Position { line: 1, column: 1 });
    }

    #[test]
    fn text_that_is_not_one_json_value_has_no_spans() {
        assert!(Spans::parse("{\"a\": 1").is_none());
        assert!(Spans::parse("{} {}").is_none());
        assert!(Spans::parse(&"[".repeat(1000)).is_none());
    }
}
