//! Just enough of the container image reference grammar (`distribution/reference`) to default
//! `imagePullPolicy` exactly as Kubernetes does.

/// The tag and digest of an image reference, or `None` when the reference does not parse.
pub(crate) fn tag_and_digest(image: &str) -> Option<(Option<&str>, Option<&str>)> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let (algo, hex) = d.split_once(':')?;
        let algo_ok = !algo.is_empty()
            && algo.as_bytes()[0].is_ascii_alphabetic()
            && algo.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_+.".contains(&c));
        if !algo_ok || hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
    }
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (&name_tag[..last_slash + i], Some(&name_tag[last_slash + i + 1..])),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        let b = t.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        if b.is_empty() || b.len() > 128 || !word(b[0]) || !b.iter().all(|&c| word(c) || c == b'.' || c == b'-') {
            return None;
        }
    }
    if !name_ok(name) {
        return None;
    }
    Some((tag, digest))
}

fn name_ok(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    if name.len() == 64 && name.bytes().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    let mut parts = name.split('/').peekable();
    let first = parts.peek().copied().unwrap_or_default();
    let has_domain =
        name.contains('/') && (first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first);
    if has_domain {
        parts.next();
        if !domain_ok(first) {
            return false;
        }
    }
    let mut any = false;
    for p in parts {
        any = true;
        if !path_component_ok(p) {
            return false;
        }
    }
    any
}

fn domain_ok(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn path_component_ok(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

/// Kubernetes' default pull policy: `Always` for `:latest` or a reference with neither tag nor
/// digest, `IfNotPresent` otherwise (including references that do not parse).
pub(crate) fn default_pull_policy(image: &str) -> &'static str {
    match tag_and_digest(image) {
        Some((Some("latest"), _)) | Some((None, None)) => "Always",
        _ => "IfNotPresent",
    }
}

#[cfg(test)]
mod tests {
    use super::default_pull_policy as p;

    #[test]
    fn pull_policy_defaults() {
        assert_eq!(p("nginx"), "Always");
        assert_eq!(p("nginx:latest"), "Always");
        assert_eq!(p("nginx:1.25"), "IfNotPresent");
        assert_eq!(p("envoyproxy/envoy:v1.28-latest"), "IfNotPresent");
        assert_eq!(p("localhost:5000/team/app"), "Always");
        assert_eq!(p("localhost:5000/team/app:v2"), "IfNotPresent");
        assert_eq!(p("registry.example.com/x/y:latest"), "Always");
        let digest = "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(p(digest), "IfNotPresent");
        assert_eq!(p("Nginx"), "IfNotPresent");
        assert_eq!(p(""), "IfNotPresent");
    }
}
