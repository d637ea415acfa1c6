//! A profile's `credential_process`, run by us rather than by aws-config so that a time-out
//! kills the command's whole process group (see `subprocess`). The contract is small: the
//! command prints `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
//! "Expiration"?}` on stdout and exits 0. Messages never show the command line or its output
//! (either may hold a secret).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::creds::Creds;
use crate::error::{Error, Result};
use crate::subprocess::{self, RunError};

const FIX: &str = "run the command by hand to see why";

pub async fn credentials(profile: &str, command_line: &str) -> Result<Creds> {
    let what = format!("the credential_process of profile {profile}");
    let cannot = |why: String| Error::new(format!("cannot get credentials from {what}: {why}; {FIX}"));
    let done = match subprocess::run_shell(command_line, crate::base::base_timeout()).await {
        Ok(done) => done,
        Err(RunError::Start(e)) => return Err(cannot(format!("it could not be started ({e})"))),
        Err(RunError::Io(e)) => return Err(cannot(format!("reading its output failed ({e})"))),
        Err(RunError::TimedOut(limit)) => {
            return Err(Error::new(format!("{what} gave no credentials within {} s; {FIX}", limit.as_secs())))
        }
    };
    if !done.status.success() {
        return Err(cannot(format!("it exited with {}", done.status)));
    }
    parse(&done.stdout, Utc::now()).map_err(cannot)
}

/// The credentials in the command's output, or what is wrong with it (without quoting it).
fn parse(stdout: &[u8], now: DateTime<Utc>) -> std::result::Result<Creds, String> {
    let json: Value = serde_json::from_slice(stdout).map_err(|e| {
        format!("its output is not the credential_process JSON (line {}, column {})", e.line(), e.column())
    })?;
    let field = |k: &str| json.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
    if json.get("Version").and_then(Value::as_u64) != Some(1) {
        return Err("its output has no \"Version\": 1".to_string());
    }
    let required = |k: &str| field(k).ok_or_else(|| format!("its output has no \"{k}\""));
    let expiration = match field("Expiration") {
        None => None,
        Some(e) => Some(
            DateTime::parse_from_rfc3339(&e)
                .map_err(|_| "its \"Expiration\" is not an ISO 8601 time like 2030-01-01T00:00:00Z".to_string())?
                .with_timezone(&Utc),
        ),
    };
    if let Some(exp) = expiration.filter(|e| *e <= now) {
        return Err(format!("the credentials it printed expired at {}", exp.to_rfc3339()));
    }
    Ok(Creds {
        access_key_id: required("AccessKeyId")?,
        secret_access_key: required("SecretAccessKey")?,
        session_token: field("SessionToken"),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_process_contract() {
        let now = Utc::now();
        let ok = br#"{"Version":1,"AccessKeyId":"ASIAPROC","SecretAccessKey":"s3cret","SessionToken":"tok","Expiration":"2999-01-01T00:00:00Z"}"#;
        let c = parse(ok, now).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.session_token.as_deref()), ("ASIAPROC", Some("tok")));
        assert_eq!(c.expiration.unwrap().to_rfc3339(), "2999-01-01T00:00:00+00:00");
        let long_term = parse(br#"{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s"}"#, now).unwrap();
        assert!(!long_term.is_temporary() && long_term.expiration.is_none());
        for (bad, says) in [
            (&b"not json s3cret"[..], "not the credential_process JSON"),
            (br#"{"AccessKeyId":"A","SecretAccessKey":"s3cret"}"#, "no \"Version\": 1"),
            (br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"s3cret"}"#, "no \"Version\": 1"),
            (br#"{"Version":1,"SecretAccessKey":"s3cret"}"#, "no \"AccessKeyId\""),
            (br#"{"Version":1,"AccessKeyId":"A"}"#, "no \"SecretAccessKey\""),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s3cret","Expiration":"soon"}"#, "not an ISO 8601"),
            (
                br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s3cret","Expiration":"2001-01-01T00:00:00Z"}"#,
                "expired",
            ),
        ] {
            let e = parse(bad, now).unwrap_err();
            assert!(e.contains(says), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
