//! Sign-in sessions: the user's token behind an opaque cookie value.
//!
//! One replica keeps them in memory (signing out forgets the token at once). Several replicas
//! share a key (`--session-key-file`) instead: the cookie then carries the token sealed with
//! AES-256-GCM, so that any replica can open it and no client can read or forge one; signing
//! out removes it from the browser, and a copy stays valid until it expires.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Held {
    token: String,
    user: String,
    expires: Instant,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The token.
    t: String,
    /// The user's name.
    u: String,
    /// Expiry, seconds since the epoch.
    e: u64,
}

/// The sessions of a console: in memory, or sealed into their cookies.
#[derive(Clone)]
pub struct Sessions(Store);

#[derive(Clone)]
enum Store {
    /// In this process.
    Memory(Arc<Mutex<HashMap<String, Held>>>),
    /// In the cookie, sealed with a key the replicas share.
    Sealed(Arc<Aes256Gcm>),
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions(Store::Memory(Arc::default()))
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn epoch() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Sessions {
    /// Sessions sealed with a key derived from `secret` (the contents of a key file).
    pub fn sealed(secret: &[u8]) -> Self {
        let key = Sha256::digest(secret);
        Sessions(Store::Sealed(Arc::new(Aes256Gcm::new(&key))))
    }

    /// A new session for `user` with `token`, lasting `lifetime`: the cookie's value.
    pub fn open(&self, token: String, user: String, lifetime: Duration) -> String {
        match &self.0 {
            Store::Memory(held) => {
                let id = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                let mut held = held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                held.insert(id.clone(), Held { token, user, expires: Instant::now() + lifetime });
                id
            }
            Store::Sealed(cipher) => {
                let plain = serde_json::to_vec(&Sealed { t: token, u: user, e: epoch() + lifetime.as_secs() })
                    .unwrap_or_default();
                let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
                let mut out = nonce.to_vec();
                // Sealing a few hundred bytes with a valid key does not fail.
                out.extend(cipher.encrypt(&nonce, plain.as_slice()).unwrap_or_default());
                B64.encode(out)
            }
        }
    }

    /// The token and user of a cookie's value, while it lasts.
    pub fn get(&self, value: &str) -> Option<(String, String)> {
        match &self.0 {
            Store::Memory(held) => {
                let mut held = held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                held.retain(|_, s| s.expires > Instant::now());
                held.get(value).map(|s| (s.token.clone(), s.user.clone()))
            }
            Store::Sealed(cipher) => {
                let bytes = B64.decode(value).ok()?;
                if bytes.len() < 12 {
                    return None;
                }
                let (nonce, sealed) = bytes.split_at(12);
                let plain = cipher.decrypt(Nonce::from_slice(nonce), sealed).ok()?;
                let s: Sealed = serde_json::from_slice(&plain).ok()?;
                (s.e > epoch()).then_some((s.t, s.u))
            }
        }
    }

    /// Ends a session (in memory: at once; sealed: the browser's copy is removed by the caller).
    pub fn end(&self, value: &str) {
        if let Store::Memory(held) = &self.0 {
            held.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_sessions_open_anywhere_with_the_key_and_nowhere_without() {
        let a = Sessions::sealed(b"shared secret of the replicas");
        let b = Sessions::sealed(b"shared secret of the replicas");
        let other = Sessions::sealed(b"another key");
        let cookie = a.open("tok".into(), "alice".into(), Duration::from_secs(60));
        assert!(!cookie.contains("tok") && !cookie.contains("alice"));
        assert_eq!(b.get(&cookie), Some(("tok".into(), "alice".into())));
        assert_eq!(other.get(&cookie), None);
        let mut tampered = B64.decode(&cookie).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(b.get(&B64.encode(tampered)), None);
        assert_eq!(b.get("not base64 !"), None);
        let gone = a.open("tok".into(), "alice".into(), Duration::from_secs(0));
        assert_eq!(b.get(&gone), None, "expired");
    }

    #[test]
    fn memory_sessions_end_at_sign_out() {
        let s = Sessions::default();
        let id = s.open("tok".into(), "bob".into(), Duration::from_secs(60));
        assert_eq!(s.get(&id), Some(("tok".into(), "bob".into())));
        s.end(&id);
        assert_eq!(s.get(&id), None);
    }
}
