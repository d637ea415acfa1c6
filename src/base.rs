//! The credentials at the bottom of a plan. Static keys are read from the profile; everything
//! else (SSO, `aws login`, credential_process, web identity, credential_source, the default
//! chain) is left to aws-config, which already does it the way the AWS CLI does. A sign-in
//! that is missing or expired is reported from the AWS CLI's cache files first (`source`).

use std::time::Duration;

use aws_config::provider_config::ProviderConfig;
use aws_config::Region;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::error::DisplayErrorContext;

use crate::creds::Creds;
use crate::error::{Error, Result};
use crate::plan::{Base, CredentialSource, Plan, ProfileKind};
use crate::profiles::Profiles;

/// How long a base provider (a credential_process, SSO, instance metadata) may take.
pub fn base_timeout() -> Duration {
    let secs = std::env::var("CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// A stable, secret-free identity of the base credentials, for cache keys.
pub fn base_identity(base: &Base) -> String {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    match base {
        // The access key id is not secret; it makes key rotation start a new cache entry.
        Base::StaticKeys { profile, access_key_id, .. } => format!("static|{profile}|{access_key_id}"),
        Base::Profile { profile, kind } => format!("{kind:?}|{profile}"),
        Base::CredentialSource { profile, source } => {
            format!("credential_source|{source:?}|{profile}|{}", env("AWS_ACCESS_KEY_ID"))
        }
        Base::DefaultChain => format!(
            "default|{}|{}|{}|{}",
            env("AWS_ACCESS_KEY_ID"),
            env("AWS_PROFILE"),
            env("AWS_ROLE_ARN"),
            env("AWS_CONTAINER_CREDENTIALS_FULL_URI") + &env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        ),
    }
}

fn describe(base: &Base) -> String {
    match base {
        Base::StaticKeys { profile, .. } => format!("the keys of profile {profile}"),
        Base::Profile { profile, kind: ProfileKind::Sso } => format!("SSO profile {profile}"),
        Base::Profile { profile, kind: ProfileKind::Login } => format!("the login session of profile {profile}"),
        Base::Profile { profile, kind: ProfileKind::CredentialProcess } => {
            format!("the credential_process of profile {profile}")
        }
        Base::Profile { profile, kind: ProfileKind::WebIdentity } => format!("web identity profile {profile}"),
        Base::CredentialSource { profile, source } => format!("credential_source {source:?} of profile {profile}"),
        Base::DefaultChain => "the default credential chain (environment, web identity, container, instance)".into(),
    }
}

fn fix_hint(base: &Base) -> String {
    if let Some(command) = crate::source::sign_in_command(base) {
        return format!("; run `{command}`");
    }
    match base {
        Base::Profile { kind: ProfileKind::CredentialProcess, .. } => "; run the command by hand to see why".into(),
        Base::DefaultChain => {
            "; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or set assumeRole.sourceProfile".into()
        }
        _ => String::new(),
    }
}

/// The informative part of an aws-config error chain, on one line: a service's `code: message`
/// where there is one, else the distinct messages of the chain ("an error occurred while loading
/// credentials" wrappers left out).
fn reason(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(meta) = err.downcast_ref::<aws_smithy_types::error::ErrorMetadata>() {
            return format!("{}: {}", meta.code().unwrap_or("error"), meta.message().unwrap_or("(no message)"));
        }
        let text = err.to_string().replace('\n', " ");
        let generic = text.starts_with("an error occurred while loading credentials")
            || text == "service error"
            || text.starts_with("unhandled error");
        if !generic && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        DisplayErrorContext(e).to_string().replace('\n', " ")
    } else {
        parts.join(": ")
    }
}

pub async fn resolve(plan: &Plan, profiles: &Profiles) -> Result<Creds> {
    let base = &plan.base;
    if let Base::StaticKeys { profile, .. } = base {
        let p = profiles.require(profile)?;
        let get = |k: &str| p.get(k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        return Ok(Creds {
            access_key_id: get("aws_access_key_id").unwrap_or_default(),
            secret_access_key: get("aws_secret_access_key").unwrap_or_default(),
            session_token: get("aws_session_token"),
            expiration: None,
        });
    }
    if let Base::Profile { profile, kind: ProfileKind::CredentialProcess } = base {
        // Run by us, not aws-config: a time-out must kill the command's whole process group.
        let command_line = profiles.require(profile)?.get("credential_process").unwrap_or_default();
        return crate::credential_process::credentials(profile, command_line).await;
    }
    let caches = crate::source::Caches::from_process();
    crate::source::check_sign_in(base, profiles, &caches, chrono::Utc::now())?;
    let region = Some(Region::new(plan.region.clone()));
    let conf = ProviderConfig::default().with_region(region.clone()).with_http_client(crate::sts::http_client());
    let provider: Box<dyn ProvideCredentials> = match base {
        Base::StaticKeys { .. } => unreachable!("handled above"),
        Base::Profile { profile, .. } => Box::new(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&conf)
                .profile_name(profile)
                .build(),
        ),
        Base::CredentialSource { source: CredentialSource::Environment, .. } => {
            Box::new(aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new())
        }
        Base::CredentialSource { source: CredentialSource::Ec2InstanceMetadata, .. } => {
            Box::new(aws_config::imds::credentials::ImdsCredentialsProvider::builder().configure(&conf).build())
        }
        Base::CredentialSource { source: CredentialSource::EcsContainer, .. } => {
            Box::new(aws_config::ecs::EcsCredentialsProvider::builder().configure(&conf).build())
        }
        Base::DefaultChain => Box::new(
            aws_config::default_provider::credentials::DefaultCredentialsChain::builder().configure(conf).build().await,
        ),
    };
    let timeout = base_timeout();
    match tokio::time::timeout(timeout, provider.provide_credentials()).await {
        Ok(Ok(c)) => Ok(Creds::from_sdk(&c)),
        Ok(Err(e)) => {
            let why = match crate::source::unrenewed_sso_sign_in(base, profiles, &caches, chrono::Utc::now()) {
                Some(sign_in) => format!("{sign_in} ({})", reason(&e)),
                None => reason(&e),
            };
            Err(Error::new(format!("cannot get credentials from {}: {why}{}", describe(base), fix_hint(base))))
        }
        Err(_) => Err(Error::new(format!(
            "{} gave no credentials within {} s{}",
            describe(base),
            timeout.as_secs(),
            fix_hint(base)
        ))),
    }
}
