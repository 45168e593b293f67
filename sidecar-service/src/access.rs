//! Who a request acts as, and what they may read from the console's watch cache.
//!
//! The cache holds what the console's own identity sees. A caller other than the console is
//! answered from it only where Kubernetes says they may read the same thing themselves
//! (`SelfSubjectAccessReview` with their own credentials), and those answers are kept for a
//! short time; everything else is read with the caller's own client, so that Kubernetes decides.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::PostParams;
use kube::{Api, Client};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an access review's answer is used.
pub const REVIEW_TTL: Duration = Duration::from_secs(10);

/// The identity a request brings, as the authentication layer established it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// The console itself (no authentication: `--auth none` on loopback).
    Console,
    /// A user's Kubernetes bearer token.
    Token(String),
    /// A user an authenticating proxy vouches for, impersonated by the console.
    Impersonated {
        /// User name.
        user: String,
        /// Groups.
        groups: Vec<String>,
    },
}

impl std::fmt::Debug for Identity {
    // Tokens never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Console => f.write_str("Console"),
            Identity::Token(_) => f.write_str("Token(redacted)"),
            Identity::Impersonated { user, groups } => {
                f.debug_struct("Impersonated").field("user", user).field("groups", groups).finish()
            }
        }
    }
}

/// The signed-in user's name, beside the [`Identity`] of a request that has one (for the page
/// frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(pub String);

/// What a caller may do, as Kubernetes answered their own access reviews (kept for
/// [`REVIEW_TTL`]).
#[derive(Default)]
pub struct Access {
    answers: Mutex<Answers>,
}

/// (verb, group, resource, namespace) → (allowed, when asked).
type Answers = HashMap<(String, String, String, String), (bool, Instant)>;

impl Access {
    /// Whether the caller of `client` may `verb` `resource` (of API `group`) in `namespace`
    /// (empty: every namespace). A review that fails counts as "no".
    /// A `resource` may name a subresource: `pods/log`.
    pub async fn may(&self, client: &Client, verb: &str, group: &str, resource: &str, namespace: &str) -> bool {
        let key = (verb.to_owned(), group.to_owned(), resource.to_owned(), namespace.to_owned());
        if let Some((allowed, at)) = self.lock().get(&key) {
            if at.elapsed() < REVIEW_TTL {
                return *allowed;
            }
        }
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.to_owned()),
                    group: Some(group.to_owned()),
                    resource: Some(resource.split('/').next().unwrap_or(resource).to_owned()),
                    subresource: resource.split_once('/').map(|(_, sub)| sub.to_owned()),
                    namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let allowed =
            match Api::<SelfSubjectAccessReview>::all(client.clone()).create(&PostParams::default(), &review).await {
                Ok(r) => r.status.is_some_and(|s| s.allowed),
                Err(e) => {
                    tracing::debug!(error = %e, "an access review failed; answering from Kubernetes instead");
                    false
                }
            };
        self.lock().insert(key, (allowed, Instant::now()));
        allowed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Answers> {
        self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Builds the Kubernetes client of an identity (the server knows how: from the kubeconfig,
/// the in-cluster configuration, or in-process for the embedded cluster).
pub type Connect = Arc<dyn Fn(&Identity) -> Result<Client, String> + Send + Sync>;

/// Clients and access answers per identity, kept while they are used.
#[derive(Default)]
pub struct Callers {
    known: Mutex<HashMap<Identity, Known>>,
}

/// A client, its access answers, and when it was last used.
type Known = (Client, Arc<Access>, Instant);

/// How long an identity's client is kept after its last request.
const IDLE: Duration = Duration::from_secs(15 * 60);

impl Callers {
    /// The client and access answers of `identity`, made with `connect` the first time.
    pub fn get(&self, identity: &Identity, connect: &Connect) -> Result<(Client, Arc<Access>), String> {
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.retain(|_, (_, _, used)| used.elapsed() < IDLE);
        if let Some((client, access, used)) = known.get_mut(identity) {
            *used = Instant::now();
            return Ok((client.clone(), access.clone()));
        }
        let client = connect(identity)?;
        let access = Arc::new(Access::default());
        known.insert(identity.clone(), (client.clone(), access.clone(), Instant::now()));
        Ok((client, access))
    }
}
