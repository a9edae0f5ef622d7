//! Who may call the server: basic credentials exchanged for a bearer token, or a static token.
//!
//! Every call passes through [`Authenticator::check`] (a tonic interceptor), so nothing but
//! a valid `authorization` header reaches the service. Secrets are compared as SHA-256
//! digests in constant time and never logged; issued tokens are random, kept only as digests
//! and expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::Status;
use tonic::metadata::MetadataMap;

/// The accepted credentials. Empty means "no authentication" (loopback only).
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// User name for basic authentication (with `password`).
    pub user: Option<String>,
    /// Password for basic authentication.
    pub password: Option<String>,
    /// A static bearer token.
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Credentials {
    /// Credentials from `SOCIALCX_USER`, `SOCIALCX_PASSWORD` and `SOCIALCX_TOKEN` (unset or
    /// empty variables are ignored).
    ///
    /// ```
    /// let credentials = socialcx::server::auth::Credentials::from_env();
    /// println!("{credentials:?}"); // secrets print as ***
    /// ```
    pub fn from_env() -> Credentials {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Credentials {
            user: var("SOCIALCX_USER"),
            password: var("SOCIALCX_PASSWORD"),
            token: var("SOCIALCX_TOKEN"),
        }
    }

    /// Whether any credential is configured.
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.password.is_none() && self.token.is_none()
    }

    /// Each field of `self` that is set, else `other`'s.
    pub fn or(self, other: Credentials) -> Credentials {
        Credentials {
            user: self.user.or(other.user),
            password: self.password.or(other.password),
            token: self.token.or(other.token),
        }
    }

    /// A user needs a password and the other way round.
    pub fn validate(&self) -> Result<(), String> {
        match (&self.user, &self.password) {
            (Some(_), None) => {
                Err("a user is configured but no password (SOCIALCX_PASSWORD)".into())
            }
            (None, Some(_)) => Err("a password is configured but no user (SOCIALCX_USER)".into()),
            _ => Ok(()),
        }
    }
}

/// Standard base64, with or without padding: the Go Flight client (behind the ADBC driver)
/// sends basic credentials unpadded.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Who made a call (attached to every authenticated request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

type Digest32 = [u8; 32];

fn digest(secret: &[u8]) -> Digest32 {
    Sha256::digest(secret).into()
}

fn same(a: &Digest32, b: &Digest32) -> bool {
    a.ct_eq(b).into()
}

/// Issued tokens kept at once.
const MAX_SESSIONS: usize = 100_000;

struct Session {
    user: String,
    expires: Instant,
}

/// Checks the `authorization` header of every call and issues bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    basic: Option<(Digest32, Digest32, String)>,
    token: Option<Digest32>,
    sessions: Mutex<HashMap<Digest32, Session>>,
    ttl: Duration,
}

impl Authenticator {
    /// An authenticator for `credentials`; issued tokens live for `ttl`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use socialcx::server::auth::{Authenticator, Credentials};
    /// let auth = Authenticator::new(&Credentials { token: Some("s3cret".into()), ..Default::default() },
    ///                               Duration::from_secs(3600));
    /// assert!(auth.is_enabled());
    /// ```
    pub fn new(credentials: &Credentials, ttl: Duration) -> Authenticator {
        let basic = match (&credentials.user, &credentials.password) {
            (Some(user), Some(password)) => Some((
                digest(user.as_bytes()),
                digest(password.as_bytes()),
                user.clone(),
            )),
            _ => None,
        };
        Authenticator {
            inner: Arc::new(Inner {
                basic,
                token: credentials.token.as_deref().map(|t| digest(t.as_bytes())),
                sessions: Mutex::new(HashMap::new()),
                ttl,
            }),
        }
    }

    /// Whether calls must authenticate.
    pub fn is_enabled(&self) -> bool {
        self.inner.basic.is_some() || self.inner.token.is_some()
    }

    /// Who `metadata` authenticates, or UNAUTHENTICATED. Accepts `Basic` credentials (the
    /// handshake sends them) and `Bearer` tokens (issued or static).
    pub fn check(&self, metadata: &MetadataMap) -> Result<Principal, Status> {
        if !self.is_enabled() {
            return Ok(Principal("anonymous".into()));
        }
        let header = metadata
            .get("authorization")
            .ok_or_else(|| {
                Status::unauthenticated("authentication required: no authorization header")
            })?
            .to_str()
            .map_err(|_| Status::unauthenticated("malformed authorization header"))?;
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            return self.check_basic(value);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return self.check_bearer(value);
        }
        Err(Status::unauthenticated(
            "unsupported authorization scheme (use Basic or Bearer)",
        ))
    }

    fn check_basic(&self, value: &str) -> Result<Principal, Status> {
        let refused = || Status::unauthenticated("invalid user name or password");
        let Some((user_digest, password_digest, user)) = &self.inner.basic else {
            return Err(Status::unauthenticated(
                "basic authentication is not enabled on this server (use its token)",
            ));
        };
        let decoded = BASE64.decode(value).map_err(|_| refused())?;
        let text = String::from_utf8(decoded).map_err(|_| refused())?;
        let (given_user, given_password) = text.split_once(':').ok_or_else(refused)?;
        let user_ok = same(user_digest, &digest(given_user.as_bytes()));
        let password_ok = same(password_digest, &digest(given_password.as_bytes()));
        if user_ok & password_ok {
            Ok(Principal(user.clone()))
        } else {
            Err(refused())
        }
    }

    fn check_bearer(&self, value: &str) -> Result<Principal, Status> {
        let presented = digest(value.as_bytes());
        if let Some(token) = &self.inner.token
            && same(token, &presented)
        {
            return Ok(Principal("token".into()));
        }
        let mut sessions = self.inner.sessions.lock().expect("sessions lock");
        match sessions.get(&presented) {
            Some(session) if session.expires > Instant::now() => {
                Ok(Principal(session.user.clone()))
            }
            Some(_) => {
                sessions.remove(&presented);
                Err(Status::unauthenticated("token expired: authenticate again"))
            }
            None => Err(Status::unauthenticated("invalid token")),
        }
    }

    /// A new bearer token for `principal`, valid for the configured lifetime.
    pub fn issue_token(&self, principal: &Principal) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let now = Instant::now();
        let mut sessions = self.inner.sessions.lock().expect("sessions lock");
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            // A handshake loop cannot grow memory: the token closest to expiry goes.
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| *k)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            digest(token.as_bytes()),
            Session {
                user: principal.0.clone(),
                expires: now + self.inner.ttl,
            },
        );
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(header: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", header.parse().unwrap());
        m
    }

    #[test]
    fn basic_bearer_and_refusals() {
        let creds = Credentials {
            user: Some("ana".into()),
            password: Some("pw with: colons".into()),
            token: Some("static".into()),
        };
        let auth = Authenticator::new(&creds, Duration::from_secs(60));
        let basic = format!("Basic {}", BASE64.encode("ana:pw with: colons"));
        assert_eq!(
            auth.check(&metadata(&basic)).unwrap(),
            Principal("ana".into())
        );
        let unpadded = format!(
            "Basic {}",
            BASE64.encode("ana:pw with: colons").trim_end_matches('=')
        );
        assert_eq!(
            auth.check(&metadata(&unpadded)).unwrap(),
            Principal("ana".into())
        );
        let wrong = format!("Basic {}", BASE64.encode("ana:nope"));
        assert_eq!(
            auth.check(&metadata(&wrong)).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        assert!(auth.check(&MetadataMap::new()).is_err());
        assert!(auth.check(&metadata("Bearer static")).is_ok());
        assert!(auth.check(&metadata("Bearer other")).is_err());
        let token = auth.issue_token(&Principal("ana".into()));
        assert_eq!(
            auth.check(&metadata(&format!("Bearer {token}"))).unwrap(),
            Principal("ana".into())
        );
        let expired = Authenticator::new(&creds, Duration::ZERO);
        let token = expired.issue_token(&Principal("ana".into()));
        assert!(
            expired
                .check(&metadata(&format!("Bearer {token}")))
                .is_err()
        );
        assert!(!format!("{creds:?}").contains("static"));
    }
}
