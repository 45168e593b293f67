//! The name and format checks of `k8s.io/apimachinery/pkg/util/validation`. Each returns the
//! problems found as sentences; an empty list means the value is fine.

/// Longest DNS-1123 label.
pub const DNS1123_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_label_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
}

fn is_alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn label_shape_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && b.iter().all(|&c| is_label_char(c)) && is_alnum_lower(b[0]) && is_alnum_lower(b[b.len() - 1])
}

/// A DNS-1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric.
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX {
        errs.push(max_len(DNS1123_LABEL_MAX));
    }
    if !label_shape_ok(s) {
        errs.push(
            "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending \
             with a letter or digit (e.g. 'my-name' or '123-abc')"
                .to_owned(),
        );
    }
    errs
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len(DNS1123_SUBDOMAIN_MAX));
    }
    if !s.split('.').all(label_shape_ok) {
        errs.push(
            "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and \
             ending with a letter or digit (e.g. 'example.com')"
                .to_owned(),
        );
    }
    errs
}

/// An IANA service name, as Kubernetes requires of port names.
pub fn port_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = s.as_bytes();
    if s.len() > 15 {
        errs.push(max_len(15));
    }
    if b.is_empty() || !b.iter().all(|&c| is_label_char(c)) {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned());
    }
    if !b.iter().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// A port number: 1 to 65535.
pub fn port_number(n: i64) -> Vec<String> {
    if (1..=65535).contains(&n) {
        Vec::new()
    } else {
        vec![format!("must be between 1 and 65535, got {n}")]
    }
}

const QUALIFIED_NAME_MAX: usize = 63;

fn qualified_name_part_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && edge(b[0])
        && edge(b[b.len() - 1])
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// A qualified name (`name` or `prefix/name`), as used for label keys and resource names.
pub fn qualified_name(s: &str) -> Vec<String> {
    const SHAPE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end \
                         with an alphanumeric character (e.g. 'MyName', 'my.name' or '123-abc')";
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(dns1123_subdomain(prefix).into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {SHAPE}, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > QUALIFIED_NAME_MAX {
        errs.push(format!("name part {}", max_len(QUALIFIED_NAME_MAX)));
    }
    if !qualified_name_part_ok(name) {
        errs.push(format!("name part {SHAPE}"));
    }
    errs
}

/// A ConfigMap or Secret key: alphanumerics, '-', '_' or '.', not `.` or `..`.
pub fn config_map_key(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(max_len(DNS1123_SUBDOMAIN_MAX));
    }
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.') {
        errs.push(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', \
             'KEY_NAME' or 'key-name')"
                .to_owned(),
        );
    }
    if s == "." {
        errs.push("must not be '.'".to_owned());
    } else if s == ".." {
        errs.push("must not be '..'".to_owned());
    } else if s.starts_with("..") {
        errs.push("must not start with '..'".to_owned());
    }
    errs
}

/// An HTTP header name: alphanumerics and '-'.
pub fn http_header_name(s: &str) -> Vec<String> {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        Vec::new()
    } else {
        vec!["a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name')".to_owned()]
    }
}

/// An environment variable name under Kubernetes' relaxed rule: printable ASCII but '='.
pub fn env_var_name(s: &str) -> Vec<String> {
    if s.is_empty() {
        return vec!["environment variable name must be non-empty".to_owned()];
    }
    if s.chars().all(|c| (' '..='~').contains(&c) && c != '=') {
        Vec::new()
    } else {
        vec!["a valid environment variable name must consist only of printable ASCII characters other than '='"
            .to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "my-sidecar", "123-abc", &"a".repeat(63)] {
            assert!(dns1123_label(ok).is_empty(), "{ok}");
        }
        for bad in ["", "A", "-a", "a-", "a.b", "a_b", &"a".repeat(64), "ü"] {
            assert!(!dns1123_label(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn port_names() {
        for ok in ["http", "a", "h-t-t-p", "http2", "a1234567890123b"] {
            assert!(port_name(ok).is_empty(), "{ok}");
        }
        for bad in ["", "123", "-http", "http-", "ht--tp", "HTTP", "a12345678901234b", "ht_tp"] {
            assert!(!port_name(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn qualified_names() {
        for ok in ["cpu", "example.com/gpu", "a.b_c-d", "X"] {
            assert!(qualified_name(ok).is_empty(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a/b/c", "-a", "Example.com/x", "a b"] {
            assert!(!qualified_name(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn env_names() {
        assert!(env_var_name("MY VAR.1-x").is_empty());
        assert!(!env_var_name("A=B").is_empty());
        assert!(!env_var_name("é").is_empty());
        assert!(!env_var_name("A\tB").is_empty());
    }
}
