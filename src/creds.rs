//! Temporary or long-term AWS credentials as they flow between plan steps, cache and JS.

use std::fmt;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Credentials with less than this left count as expired (the CDK CLI refreshes at 5 min).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<DateTime<Utc>>,
}

impl Creds {
    pub fn is_temporary(&self) -> bool {
        self.session_token.is_some()
    }

    /// Still usable for at least [`EXPIRY_MARGIN`].
    pub fn is_fresh(&self) -> bool {
        match self.expiration {
            None => true,
            Some(exp) => exp > Utc::now() + chrono::Duration::from_std(EXPIRY_MARGIN).expect("small"),
        }
    }

    pub fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            self.session_token.clone(),
            self.expiration.map(SystemTime::from),
            "cdk-mfa-rs",
        )
    }

    pub fn from_sdk(c: &aws_credential_types::Credentials) -> Creds {
        Creds {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: c.session_token().map(str::to_string),
            expiration: c.expiry().map(DateTime::<Utc>::from),
        }
    }
}

/// Never print a secret, not even in a debug dump.
impl fmt::Debug for Creds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Creds")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.as_ref().map(|_| "** redacted **"))
            .field("expiration", &self.expiration)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets_and_freshness_uses_margin() {
        let mut c = Creds {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "SECRET-canary".into(),
            session_token: Some("TOKEN-canary".into()),
            expiration: Some(Utc::now() + chrono::Duration::minutes(11)),
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("canary"), "{dbg}");
        assert!(c.is_fresh());
        c.expiration = Some(Utc::now() + chrono::Duration::minutes(9));
        assert!(!c.is_fresh());
        c.expiration = None;
        assert!(c.is_fresh());
    }
}
