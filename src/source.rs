//! The kind of credentials a plan starts from, in the user's words (for the one-line notice and
//! `status`), the command that signs in again, and whether an AWS CLI sign-in (`aws sso login`,
//! `aws login`) is usable now. The sign-in check only reads the cache files the AWS CLI writes,
//! so an expired or missing sign-in fails in milliseconds with the command that fixes it, before
//! aws-config is asked (and before any network call).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::Digest;

use crate::error::{Error, Result};
use crate::plan::{Base, CredentialSource, ProfileKind};
use crate::profiles::Profiles;

/// What the base credentials are: "static keys", "login session", "SSO", "web identity", …
/// For the default chain, the provider that will answer, in aws-config's order (environment,
/// profile, web identity, container, instance).
pub fn kind(base: &Base, profiles: &Profiles, env: &dyn Fn(&str) -> Option<String>) -> String {
    match base {
        Base::StaticKeys { temporary: false, .. } => "static keys".into(),
        Base::StaticKeys { temporary: true, .. } => "temporary static keys".into(),
        Base::Profile { kind: ProfileKind::Sso, .. } => "SSO".into(),
        Base::Profile { kind: ProfileKind::Login, .. } => "login session".into(),
        Base::Profile { kind: ProfileKind::CredentialProcess, .. } => "credential_process".into(),
        Base::Profile { kind: ProfileKind::WebIdentity, .. } => "web identity".into(),
        Base::CredentialSource { source: CredentialSource::Environment, .. } => "environment keys".into(),
        Base::CredentialSource { source: CredentialSource::EcsContainer, .. } => "container".into(),
        Base::CredentialSource { source: CredentialSource::Ec2InstanceMetadata, .. } => "instance".into(),
        Base::DefaultChain => {
            let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
            if env("AWS_ACCESS_KEY_ID").is_some() {
                "environment keys".into()
            } else if holds_credentials(profiles, &profile) {
                format!("profile {profile}")
            } else if env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() && env("AWS_ROLE_ARN").is_some() {
                "web identity".into()
            } else if env("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
                || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
            {
                "container".into()
            } else {
                "instance".into()
            }
        }
    }
}

/// Does the profile say where credentials come from? aws-config's default chain passes over a
/// profile without any of these keys (a CodeBuild image's `[default] region = …`) to the
/// container or instance credentials, so such a profile must not be named as the source.
fn holds_credentials(profiles: &Profiles, name: &str) -> bool {
    const KEYS: [&str; 13] = [
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "role_arn",
        "credential_source",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
        "sso_region",
        "credential_process",
        "login_session",
    ];
    profiles.get(name).is_some_and(|p| KEYS.iter().any(|k| p.get(k).is_some()))
}

/// The AWS CLI command that signs the base profile in again, for SSO and `aws login` profiles.
pub fn sign_in_command(base: &Base) -> Option<String> {
    match base {
        Base::Profile { profile, kind: ProfileKind::Sso } => {
            Some(format!("aws sso login --profile {}", shell_word(profile)))
        }
        Base::Profile { profile, kind: ProfileKind::Login } => {
            Some(format!("aws login --profile {}", shell_word(profile)))
        }
        _ => None,
    }
}

/// A profile name as one word a user can paste into a shell: quoted when it holds anything but
/// the usual name characters (a name like `x; rm -rf ~` must not become two commands).
fn shell_word(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-+=@:,/".contains(c);
    if !name.is_empty() && name.chars().all(plain) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// Where the AWS CLI's sign-in caches are; `None` fields fall back to `<home>/.aws/…`.
pub struct Caches {
    pub home: Option<PathBuf>,
    /// `AWS_LOGIN_CACHE_DIRECTORY`, honoured by the AWS CLI and aws-config.
    pub login_dir: Option<PathBuf>,
}

impl Caches {
    pub fn from_process() -> Caches {
        Caches { home: crate::home_dir(), login_dir: crate::env_var("AWS_LOGIN_CACHE_DIRECTORY").map(PathBuf::from) }
    }
}

/// Is the sign-in behind `base` usable now? `Ok(Some(state))` for SSO and `aws login` profiles
/// ("SSO token valid until …"), `Ok(None)` for other kinds, an error naming the command to run.
pub fn check_sign_in(base: &Base, profiles: &Profiles, caches: &Caches, now: DateTime<Utc>) -> Result<Option<String>> {
    let Some(command) = sign_in_command(base) else { return Ok(None) };
    let Base::Profile { profile, kind } = base else { return Ok(None) };
    let prop = |k: &str| profiles.get(profile).and_then(|p| p.get(k)).map(str::trim).filter(|v| !v.is_empty());
    let fail = |what: String| Err(Error::new(format!("{what}; run `{command}`")));
    let home = caches.home.as_deref().map(|h| h.join(".aws"));
    match kind {
        ProfileKind::Sso => {
            let session = prop("sso_session");
            let Some(id) = sso_cache_id(profiles, profile) else { return Ok(None) };
            let Some(home) = home else {
                return fail(format!("profile {profile}: HOME is not set, so the SSO token cannot be found"));
            };
            let path = sso_token_path(&home, id);
            let Some(text) = read(&path) else {
                return fail(format!(
                    "profile {profile} is not signed in to IAM Identity Center (no {})",
                    path.display()
                ));
            };
            let Ok(token) = serde_json::from_str::<SsoToken>(&text) else {
                return fail(format!("the SSO token {} cannot be read", path.display()));
            };
            let Some(expires) = parse_time(&token.expires_at) else {
                return fail(format!("the SSO token {} has no valid expiresAt", path.display()));
            };
            if expires > now {
                return Ok(Some(format!("SSO token valid until {}", iso(expires))));
            }
            // aws-config renews an sso_session token when it has a refresh token, the client's id
            // and secret, and a registration that has not expired (a missing date counts as
            // expired); a legacy (start URL) token cannot be renewed.
            let registered = token.registration_expires_at.as_deref().and_then(parse_time).is_some_and(|t| t > now);
            let client = token.client_id.is_some() && token.client_secret.is_some();
            if session.is_some() && token.refresh_token.is_some() && client && registered {
                return Ok(Some(format!("SSO token expired at {}, renewed on use by its refresh token", iso(expires))));
            }
            fail(format!("the SSO sign-in of profile {profile} expired at {}", iso(expires)))
        }
        ProfileKind::Login => {
            let Some(arn) = prop("login_session") else { return Ok(None) };
            let Some(dir) = caches.login_dir.clone().or_else(|| home.map(|h| h.join("login").join("cache"))) else {
                return fail(format!("profile {profile}: HOME is not set, so the login session cannot be found"));
            };
            let path = login_cache_path(&dir, arn);
            let Some(text) = read(&path) else {
                return fail(format!("profile {profile} has no `aws login` session (no {})", path.display()));
            };
            match serde_json::from_str::<LoginToken>(&text).ok().and_then(|t| parse_time(&t.access_token.expires_at)) {
                Some(t) if t > now => Ok(Some(format!("login session valid until {}, then refreshed", iso(t)))),
                Some(t) => Ok(Some(format!("login session credentials expired at {}, refreshed on use", iso(t)))),
                None => fail(format!("the login session {} cannot be read", path.display())),
            }
        }
        _ => Ok(None),
    }
}

/// What the AWS CLI keys an SSO token on: the session name (sso_session), else the start URL.
fn sso_cache_id<'a>(profiles: &'a Profiles, profile: &str) -> Option<&'a str> {
    let prop = |k: &str| profiles.get(profile).and_then(|p| p.get(k)).map(str::trim).filter(|v| !v.is_empty());
    prop("sso_session").or_else(|| prop("sso_start_url"))
}

/// `<home>/.aws/sso/cache/<sha1 of the id>.json`, as the AWS CLI names it.
fn sso_token_path(aws_dir: &Path, id: &str) -> PathBuf {
    aws_dir.join("sso").join("cache").join(format!("{}.json", hex::encode(sha1::Sha1::digest(id.as_bytes()))))
}

/// After aws-config failed for an SSO profile whose token was to be renewed: is the cached token
/// still expired? aws-config drops a refused renewal's error and sends the expired token on, so
/// the portal's "UnauthorizedException" alone would hide the cause.
pub fn unrenewed_sso_sign_in(base: &Base, profiles: &Profiles, caches: &Caches, now: DateTime<Utc>) -> Option<String> {
    let Base::Profile { profile, kind: ProfileKind::Sso } = base else { return None };
    let path = sso_token_path(&caches.home.as_deref()?.join(".aws"), sso_cache_id(profiles, profile)?);
    let token = serde_json::from_str::<SsoToken>(&read(&path)?).ok()?;
    let expires = parse_time(&token.expires_at).filter(|t| *t <= now)?;
    Some(format!("the SSO sign-in of profile {profile} expired at {} and could not be renewed", iso(expires)))
}

/// `<dir>/<sha256 of the login_session ARN>.json`, as the AWS CLI and aws-config name it.
pub fn login_cache_path(dir: &Path, login_session: &str) -> PathBuf {
    dir.join(format!("{}.json", hex::encode(sha2::Sha256::digest(login_session.trim().as_bytes()))))
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SsoToken {
    expires_at: String,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    registration_expires_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginToken {
    access_token: LoginAccessToken,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginAccessToken {
    expires_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::profiles;

    #[test]
    fn sign_in_commands_quote_names_a_shell_would_split() {
        let cmd =
            |name: &str| sign_in_command(&Base::Profile { profile: name.into(), kind: ProfileKind::Sso }).unwrap();
        assert_eq!(cmd("dev-admin.eu"), "aws sso login --profile dev-admin.eu");
        assert_eq!(cmd("x; rm -rf ~"), "aws sso login --profile 'x; rm -rf ~'");
        assert_eq!(cmd("it's $(id)"), r"aws sso login --profile 'it'\''s $(id)'");
    }

    const CONFIG: &str = "
[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = Admin
[profile modern]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
[profile console]
login_session = arn:aws:iam::111111111111:user/dev
";

    fn sso(profile: &str) -> Base {
        Base::Profile { profile: profile.into(), kind: ProfileKind::Sso }
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn sso_token_missing_fresh_expired_and_refreshable() {
        let home = tempfile::tempdir().unwrap();
        let caches = Caches { home: Some(home.path().to_path_buf()), login_dir: None };
        let p = profiles(CONFIG);
        let now = Utc::now();
        let e = check_sign_in(&sso("modern"), &p, &caches, now).unwrap_err();
        assert!(e.message().contains("profile modern is not signed in to IAM Identity Center"), "{e}");
        assert!(e.message().ends_with("; run `aws sso login --profile modern`"), "{e}");

        let dir = home.path().join(".aws/sso/cache");
        // sha1("corp") and sha1("https://legacy.awsapps.com/start"), as the AWS CLI names them.
        let corp = format!("{}.json", hex::encode(sha1::Sha1::digest(b"corp")));
        let legacy = format!("{}.json", hex::encode(sha1::Sha1::digest(b"https://legacy.awsapps.com/start")));
        let at = |d: chrono::Duration| iso(now + d);
        write(&dir, &corp, &format!(r#"{{"accessToken":"t","expiresAt":"{}"}}"#, at(chrono::Duration::hours(1))));
        let ok = check_sign_in(&sso("modern"), &p, &caches, now).unwrap().unwrap();
        assert!(ok.starts_with("SSO token valid until"), "{ok}");

        write(&dir, &legacy, &format!(r#"{{"accessToken":"t","expiresAt":"{}"}}"#, at(-chrono::Duration::hours(1))));
        let e = check_sign_in(&sso("legacy"), &p, &caches, now).unwrap_err();
        assert!(e.message().contains("the SSO sign-in of profile legacy expired at"), "{e}");
        assert!(e.message().ends_with("; run `aws sso login --profile legacy`"), "{e}");

        // An expired sso_session token with a refresh token and a live registration is renewed.
        let expired_refreshable = format!(
            r#"{{"accessToken":"t","expiresAt":"{}","refreshToken":"r","clientId":"c","clientSecret":"s","registrationExpiresAt":"{}"}}"#,
            at(-chrono::Duration::hours(1)),
            at(chrono::Duration::days(30))
        );
        write(&dir, &corp, &expired_refreshable);
        assert!(check_sign_in(&sso("modern"), &p, &caches, now).unwrap().unwrap().contains("renewed on use"));
        write(
            &dir,
            &corp,
            &expired_refreshable.replace(&at(chrono::Duration::days(30)), &at(-chrono::Duration::days(1))),
        );
        assert!(check_sign_in(&sso("modern"), &p, &caches, now).is_err());
        // As aws-config decides: no registration date, or no client secret, cannot be renewed.
        let no_date = expired_refreshable
            .replace(&format!(r#","registrationExpiresAt":"{}""#, at(chrono::Duration::days(30))), "");
        write(&dir, &corp, &no_date);
        assert!(check_sign_in(&sso("modern"), &p, &caches, now).is_err(), "{no_date}");
        write(&dir, &corp, &expired_refreshable.replace(r#","clientSecret":"s""#, ""));
        assert!(check_sign_in(&sso("modern"), &p, &caches, now).is_err());
        write(&dir, &corp, "{not json");
        assert!(check_sign_in(&sso("modern"), &p, &caches, now).unwrap_err().message().contains("cannot be read"));
    }

    #[test]
    fn a_token_still_expired_after_the_attempt_was_not_renewed() {
        let home = tempfile::tempdir().unwrap();
        let caches = Caches { home: Some(home.path().to_path_buf()), login_dir: None };
        let p = profiles(CONFIG);
        let now = Utc::now();
        assert_eq!(unrenewed_sso_sign_in(&sso("modern"), &p, &caches, now), None, "no token file");
        let dir = home.path().join(".aws/sso/cache");
        let corp = format!("{}.json", hex::encode(sha1::Sha1::digest(b"corp")));
        let expired = iso(now - chrono::Duration::hours(1));
        write(&dir, &corp, &format!(r#"{{"accessToken":"t","expiresAt":"{expired}","refreshToken":"r"}}"#));
        assert_eq!(
            unrenewed_sso_sign_in(&sso("modern"), &p, &caches, now).unwrap(),
            format!("the SSO sign-in of profile modern expired at {expired} and could not be renewed")
        );
        let renewed = iso(now + chrono::Duration::hours(1));
        write(&dir, &corp, &format!(r#"{{"accessToken":"t2","expiresAt":"{renewed}"}}"#));
        assert_eq!(unrenewed_sso_sign_in(&sso("modern"), &p, &caches, now), None, "renewed");
        let login = Base::Profile { profile: "console".into(), kind: ProfileKind::Login };
        assert_eq!(unrenewed_sso_sign_in(&login, &p, &caches, now), None, "not SSO");
    }

    #[test]
    fn login_session_missing_and_present_in_the_configured_directory() {
        let dir = tempfile::tempdir().unwrap();
        let caches = Caches { home: None, login_dir: Some(dir.path().to_path_buf()) };
        let p = profiles(CONFIG);
        let base = Base::Profile { profile: "console".into(), kind: ProfileKind::Login };
        let e = check_sign_in(&base, &p, &caches, Utc::now()).unwrap_err();
        assert!(e.message().contains("profile console has no `aws login` session"), "{e}");
        assert!(e.message().ends_with("; run `aws login --profile console`"), "{e}");
        let path = login_cache_path(dir.path(), " arn:aws:iam::111111111111:user/dev ");
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("{}.json", hex::encode(sha2::Sha256::digest(b"arn:aws:iam::111111111111:user/dev")))
        );
        std::fs::write(&path, r#"{"accessToken":{"accessKeyId":"ASIA","expiresAt":"2099-01-01T00:00:00Z"}}"#).unwrap();
        let ok = check_sign_in(&base, &p, &caches, Utc::now()).unwrap().unwrap();
        assert_eq!(ok, "login session valid until 2099-01-01T00:00:00Z, then refreshed");
    }

    #[test]
    fn default_chain_names_the_provider_that_answers() {
        let p = profiles("[profile other]\nregion = eu-west-1\ncredential_process = /bin/true\n");
        let with = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let b = Base::DefaultChain;
        assert_eq!(kind(&b, &p, &with(&[("AWS_ACCESS_KEY_ID", "AKIA")])), "environment keys");
        assert_eq!(kind(&b, &p, &with(&[("AWS_PROFILE", "other")])), "profile other");
        const WI: [(&str, &str); 2] =
            [("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"), ("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci")];
        assert_eq!(kind(&b, &p, &with(&WI)), "web identity");
        assert_eq!(kind(&b, &p, &with(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x")])), "container");
        assert_eq!(kind(&b, &p, &with(&[])), "instance");
    }

    #[test]
    fn default_chain_passes_over_a_profile_that_holds_no_credentials() {
        // A CodeBuild image: `[default] region = …`, credentials from the container endpoint.
        let with = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        const ECS: [(&str, &str); 1] = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x")];
        let b = Base::DefaultChain;
        let region_only = profiles("[default]\nregion = eu-west-1\n[profile ci]\noutput = json\n");
        assert_eq!(kind(&b, &region_only, &with(&ECS)), "container");
        assert_eq!(kind(&b, &region_only, &with(&[])), "instance");
        assert_eq!(kind(&b, &region_only, &with(&[("AWS_PROFILE", "ci")])), "instance");
        for holds in ["sso_session = x", "credential_process = /bin/true", "login_session = arn", "role_arn = r"] {
            let p = profiles(&format!("[default]\nregion = eu-west-1\n{holds}\n"));
            assert_eq!(kind(&b, &p, &with(&ECS)), "profile default", "{holds}");
        }
    }
}
