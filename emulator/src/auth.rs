//! Authentication as kube-apiserver does it with `--token-auth-file`: static bearer tokens
//! from a CSV file, anonymous requests refused, and impersonation (`Impersonate-User`,
//! `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-*`) for requesters allowed the
//! `impersonate` verb. Without a token file the emulator is open: every request acts as a
//! member of `system:masters`, and says so in its access reviews.

use crate::error::ApiError;
use crate::rbac::{self, Attributes};
use crate::store::Store;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// The group whose members may do everything, as in Kubernetes.
pub const MASTERS: &str = "system:masters";
/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The user of an open emulator (no token file).
pub const OPEN_USER: &str = "emulator-admin";

/// Who a request acts as (Kubernetes' `user.Info`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// UID, if any.
    pub uid: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
    /// Extra attributes.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    fn new(username: &str, uid: &str, groups: &[&str]) -> Self {
        let mut u = UserInfo {
            username: username.to_owned(),
            uid: uid.to_owned(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            extra: BTreeMap::new(),
        };
        u.authenticated();
        u
    }

    fn authenticated(&mut self) {
        if !self.groups.iter().any(|g| g == AUTHENTICATED) {
            self.groups.push(AUTHENTICATED.to_owned());
        }
    }

    /// Whether the user is in `system:masters`.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// The `userInfo` of reviews.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"username": self.username, "groups": self.groups});
        if !self.uid.is_empty() {
            v["uid"] = json!(self.uid);
        }
        if !self.extra.is_empty() {
            v["extra"] = json!(self.extra);
        }
        v
    }
}

/// Why a token file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// Not readable.
    #[error("cannot read the token file {0}: {1}")]
    Read(String, std::io::Error),
    /// A record with fewer than three columns, or broken quoting.
    #[error("token file '{file}' line {line}: {why}")]
    Record {
        /// The file.
        file: String,
        /// Its line.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// The tokens of a token file, and the one the emulator's own kubeconfig carries.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    users: HashMap<String, UserInfo>,
    admin: String,
}

impl Tokens {
    /// Reads a kube-apiserver token file: `token,user,uid,"group1,group2"` per line.
    pub fn read(path: &Path) -> Result<Self, TokenFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TokenFileError::Read(file.clone(), e))?;
        Self::parse(&text, &file)
    }

    /// [`Self::read`] of a file's text.
    pub fn parse(text: &str, file: &str) -> Result<Self, TokenFileError> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why: String| TokenFileError::Record { file: file.to_owned(), line: i + 1, why };
            let record = csv_record(line).map_err(|e| bad(e.to_owned()))?;
            if record.len() < 3 {
                return Err(bad(format!(
                    "must have at least 3 columns (token, user name, user uid), found {}",
                    record.len()
                )));
            }
            if record[0].is_empty() {
                tracing::warn!(file, line = i + 1, "an empty token in the token file is ignored");
                continue;
            }
            let groups: Vec<&str> = record.get(3).map(|g| g.split(',').collect()).unwrap_or_default();
            users.insert(record[0].clone(), UserInfo::new(&record[1], &record[2], &groups));
        }
        let admin = users.iter().filter(|(_, u)| u.is_master()).map(|(t, _)| t.clone()).min().unwrap_or_else(|| {
            // The emulator's own kubeconfig needs a token that may do everything.
            let token = format!("emulator-admin-{}", uuid::Uuid::new_v4().simple());
            users.insert(token.clone(), UserInfo::new(OPEN_USER, "", &[MASTERS]));
            token
        });
        Ok(Tokens { users, admin })
    }

    /// The token of `system:masters` that the emulator's kubeconfig carries.
    pub fn admin(&self) -> &str {
        &self.admin
    }

    /// The user a bearer token belongs to.
    pub fn user(&self, token: &str) -> Option<&UserInfo> {
        self.users.get(token)
    }
}

/// One CSV record (RFC 4180 quoting, leading spaces trimmed as Go's reader does).
fn csv_record(line: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed"),
                }
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => out.push(field),
                Some(_) => return Err("extraneous text after a quoted field"),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field);
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some('"') => return Err("a bare \" in a field that is not quoted"),
                    Some(c) => field.push(c),
                }
            }
            out.push(field);
        }
    }
}

/// How the emulator authenticates.
#[derive(Clone, Debug, Default)]
pub enum Authn {
    /// No token file: every request acts as a member of `system:masters`.
    #[default]
    Open,
    /// Bearer tokens from a token file; other requests are 401.
    Tokens(Tokens),
}

impl Authn {
    /// The user behind a request's `Authorization` header.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
        match self {
            Authn::Open => Ok(UserInfo::new(OPEN_USER, "", &[MASTERS])),
            Authn::Tokens(tokens) => {
                bearer(headers).and_then(|t| tokens.user(t)).cloned().ok_or_else(ApiError::unauthorized)
            }
        }
    }

    /// The token the emulator's own kubeconfig and in-process clients use.
    pub fn admin_token(&self) -> Option<&str> {
        match self {
            Authn::Open => None,
            Authn::Tokens(t) => Some(t.admin()),
        }
    }

    /// The user of a token (TokenReview); an open emulator knows no tokens.
    pub fn review(&self, token: &str) -> Option<UserInfo> {
        match self {
            Authn::Open => None,
            Authn::Tokens(t) => t.user(token).cloned(),
        }
    }
}

/// The token of `Authorization: Bearer TOKEN`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

const IMPERSONATE_USER: &str = "impersonate-user";
const IMPERSONATE_GROUP: &str = "impersonate-group";
const IMPERSONATE_UID: &str = "impersonate-uid";
const IMPERSONATE_EXTRA: &str = "impersonate-extra-";

/// The user a request acts as once its `Impersonate-*` headers are applied, each of them
/// allowed by `requester`'s `impersonate` rights; those headers are removed from `headers`.
pub fn impersonate(store: &Store, requester: UserInfo, headers: &mut HeaderMap) -> Result<UserInfo, ApiError> {
    let names: Vec<HeaderName> = headers.keys().filter(|k| k.as_str().starts_with("impersonate-")).cloned().collect();
    if names.is_empty() {
        return Ok(requester);
    }
    let values = |headers: &HeaderMap, name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let user = values(headers, IMPERSONATE_USER).into_iter().next();
    let groups = values(headers, IMPERSONATE_GROUP);
    let uid = values(headers, IMPERSONATE_UID).into_iter().next();
    let mut extra = BTreeMap::new();
    for name in &names {
        if let Some(key) = name.as_str().strip_prefix(IMPERSONATE_EXTRA) {
            let key = percent_decode(key);
            extra.insert(key, values(headers, name.as_str()));
        }
    }
    for name in names {
        headers.remove(name);
    }
    let Some(username) = user else {
        return Err(ApiError::internal(
            "requested impersonation of groups, a uid or extra attributes without impersonating a user",
        ));
    };
    let check = |resource: &'static str, group: &'static str, name: &str, namespace: &str| {
        let attrs = Attributes::resource("impersonate", group, resource, "", name, namespace);
        if rbac::authorize(store, &requester, &attrs).allowed {
            Ok(())
        } else {
            Err(rbac::forbidden(&requester, &attrs))
        }
    };
    match username.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) {
        Some((ns, sa)) => check("serviceaccounts", "", sa, ns)?,
        None => check("users", "", &username, "")?,
    }
    for g in &groups {
        check("groups", "", g, "")?;
    }
    if let Some(uid) = &uid {
        check("uids", "authentication.k8s.io", uid, "")?;
    }
    for (key, vals) in &extra {
        for v in vals {
            let attrs = Attributes::resource("impersonate", "authentication.k8s.io", "userextras", key, v, "");
            if !rbac::authorize(store, &requester, &attrs).allowed {
                return Err(rbac::forbidden(&requester, &attrs));
            }
        }
    }
    let mut user = UserInfo { username, uid: uid.unwrap_or_default(), groups, extra };
    if user.username != "system:anonymous" {
        user.authenticated();
    }
    Ok(user)
}

/// `%2F` → `/` in the key of an `Impersonate-Extra-` header.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'%' {
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The authenticated user of a request, put in its extensions by [`gate`].
#[derive(Clone, Debug)]
pub struct Identity {
    /// Who the request acts as (after impersonation).
    pub user: UserInfo,
    /// How the emulator authenticates (for TokenReviews and access review reasons).
    pub authn: Arc<Authn>,
}

/// The first layer of every request: authentication (401), impersonation (403 when not
/// allowed), and authorization of the paths that are no resources (discovery, version,
/// OpenAPI). Resource requests are authorized where their path is resolved.
pub async fn gate(State((store, authn)): State<(Arc<Store>, Arc<Authn>)>, mut req: Request, next: Next) -> Response {
    let user = match authn.authenticate(req.headers()) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let user = match impersonate(&store, user, req.headers_mut()) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let path = req.uri().path().to_owned();
    let segments = path.split('/').filter(|s| !s.is_empty()).count();
    let resource_request =
        (path.starts_with("/api/") && segments >= 3) || (path.starts_with("/apis/") && segments >= 4);
    if !resource_request {
        let attrs = Attributes::non_resource(&req.method().as_str().to_ascii_lowercase(), &path);
        if !rbac::authorize(&store, &user, &attrs).allowed {
            return rbac::forbidden(&user, &attrs).into_response();
        }
    }
    req.extensions_mut().insert(Identity { user, authn });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_are_read_as_kube_apiserver_reads_them() {
        let t = Tokens::parse("t1,alice,u1\n\nt2, bob ,u2,\"dev,ops\"\n,ignored,u3\n", "f").unwrap();
        assert_eq!(t.user("t1").unwrap().groups, vec![AUTHENTICATED]);
        let bob = t.user("t2").unwrap();
        assert_eq!(bob.username, "bob ");
        assert_eq!(bob.groups, vec!["dev", "ops", AUTHENTICATED]);
        assert!(t.user("").is_none());
        // No token of system:masters in the file: one is made for the emulator's kubeconfig.
        assert!(t.user(t.admin()).unwrap().is_master());
        let e = Tokens::parse("t1,alice\n", "tokens.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            "token file 'tokens.csv' line 1: must have at least 3 columns (token, user name, user uid), found 2"
        );
        assert!(Tokens::parse("t,\"a,u\n", "f").is_err());
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn extra_keys_are_percent_decoded() {
        assert_eq!(percent_decode("example.com%2Fscopes"), "example.com/scopes");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
