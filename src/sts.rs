//! Our own STS calls: GetSessionToken and AssumeRole with the MFA parameters aws-config lacks.
//! One small function per STS call; errors name the call, the role or device, and STS's words.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::creds::Creds;
use crate::error::{Error, Result};
use crate::plan::RoleStep;

/// At most this many STS calls in flight per process: 50 accounts resolve concurrently without
/// tripping STS's request-rate throttling.
const MAX_CONCURRENT_CALLS: usize = 16;
static CALL_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_CALLS);

/// Role chaining (calling AssumeRole with temporary credentials) is capped at one hour by STS.
pub const CHAINED_ROLE_MAX_SECONDS: u32 = 3600;

/// STS shared settings for one plan: region, endpoint (env and profile `endpoint_url`/`services`).
/// The SDK configuration is loaded on the first call only: a warm run answered from the cache
/// never pays for it.
#[derive(Debug)]
pub struct StsTarget {
    profile: Option<String>,
    region: String,
    config: tokio::sync::OnceCell<SdkConfig>,
    /// Where the calls go, as configured: part of cache keys.
    pub endpoint: String,
    /// `endpoint` as errors show it: a `user:password@` in the URL (a proxy login) becomes `***@`.
    shown: String,
}

/// Timeouts so that an unreachable or hanging STS gives an error within seconds, never a hang.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(9))
        .build()
}

/// The one HTTPS client of the process (rustls with ring, system roots), shared by our STS calls
/// and aws-config's providers so that connections are pooled and only one TLS stack is built in.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    static CLIENT: std::sync::OnceLock<aws_smithy_runtime_api::client::http::SharedHttpClient> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            use aws_smithy_http_client::tls;
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

/// A URL with any `user:password@` replaced by `***@`, for messages.
fn without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let authority_end = url[scheme_end..].find(['/', '?', '#']).map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..scheme_end], &url[scheme_end + at..]),
        None => url.to_string(),
    }
}

/// SDK configuration for a profile (or none) in a region: the base of every client we build.
/// aws-config resolves `AWS_ENDPOINT_URL(_STS)` and the profile's `endpoint_url`/`services` here.
pub async fn sdk_config(profile: Option<&str>, region: &str) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .region(Region::new(region.to_string()))
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(200)));
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

impl StsTarget {
    /// `endpoint`: the configured override, if any (see `Profiles::sts_endpoint`).
    pub fn new(profile: Option<&str>, region: &str, endpoint: Option<String>) -> StsTarget {
        let endpoint = endpoint.unwrap_or_else(|| format!("sts.{region} (regional endpoint)"));
        StsTarget {
            profile: profile.map(str::to_string),
            region: region.to_string(),
            config: tokio::sync::OnceCell::new(),
            shown: without_userinfo(&endpoint),
            endpoint,
        }
    }

    async fn client(&self, caller: &Creds) -> aws_sdk_sts::Client {
        let config = self.config.get_or_init(|| sdk_config(self.profile.as_deref(), &self.region)).await;
        let conf = aws_sdk_sts::config::Builder::from(config).credentials_provider(caller.to_sdk()).build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub async fn get_session_token(&self, caller: &Creds, serial: &str, code: &str, seconds: u32) -> Result<Creds> {
        let _slot = CALL_SLOTS.acquire().await.expect("never closed");
        let out = self
            .client(caller)
            .await
            .get_session_token()
            .serial_number(serial)
            .token_code(code)
            .duration_seconds(seconds as i32)
            .send()
            .await
            .map_err(|e| self.explain(e, &format!("GetSessionToken with MFA device {serial}")))?;
        out.credentials()
            .and_then(from_sts)
            .ok_or_else(|| self.incomplete(&format!("GetSessionToken with MFA device {serial}")))
    }

    pub async fn assume_role(
        &self,
        caller: &Creds,
        step: &RoleStep,
        seconds: Option<u32>,
        mfa: Option<(&str, &str)>,
    ) -> Result<Creds> {
        let _slot = CALL_SLOTS.acquire().await.expect("never closed");
        let session_name = step.session_name.clone().unwrap_or_else(default_session_name);
        let mut req = self
            .client(caller)
            .await
            .assume_role()
            .role_arn(&step.role_arn)
            .role_session_name(session_name)
            .set_external_id(step.external_id.clone())
            .set_duration_seconds(seconds.map(|s| s as i32));
        if let Some((serial, code)) = mfa {
            req = req.serial_number(serial).token_code(code);
        }
        let out = req.send().await.map_err(|e| self.explain(e, &format!("AssumeRole into {}", step.role_arn)))?;
        out.credentials()
            .and_then(from_sts)
            .ok_or_else(|| self.incomplete(&format!("AssumeRole into {}", step.role_arn)))
    }

    fn incomplete(&self, what: &str) -> Error {
        Error::new(format!(
            "STS at {} sent a response to {what} that cannot be read (incomplete or expired credentials); \
             check AWS_ENDPOINT_URL and any proxy in between",
            self.shown
        ))
    }

    /// Turn an SDK error into one sentence a user can act on.
    fn explain<E, R>(&self, err: SdkError<E, R>, what: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("Unknown");
                let msg = se.err().message().unwrap_or("(no message)");
                // Real STS words both invalid and reused codes this way; "MFA" alone can be part
                // of a role name in an ordinary AccessDenied.
                let mfa_problem = msg.starts_with("MultiFactorAuthentication failed");
                if code == "AccessDenied" && mfa_problem {
                    Error::mfa_rejected(format!(
                        "STS rejected the MFA code for {what}: the code is wrong or was already used ({msg})"
                    ))
                } else if code.contains("Throttl") || code == "RequestLimitExceeded" {
                    Error::new(format!(
                        "STS kept throttling {what} after 3 attempts ({code}: {msg}); wait a minute and retry"
                    ))
                } else {
                    Error::new(format!("STS refused {what}: {code}: {msg}"))
                }
            }
            SdkError::TimeoutError(_) => Error::new(format!(
                "STS at {} did not answer {what} within {} s; check the network or AWS_ENDPOINT_URL",
                self.shown,
                timeouts().operation_timeout().map_or(0, |d| d.as_secs())
            )),
            SdkError::DispatchFailure(d) if d.is_timeout() => Error::new(format!(
                "STS at {} did not answer {what} in time; check the network or AWS_ENDPOINT_URL",
                self.shown
            )),
            SdkError::DispatchFailure(_) => Error::new(format!(
                "cannot reach STS at {} for {what}: {}; check the network, proxy or AWS_ENDPOINT_URL",
                self.shown,
                root_cause(&err)
            )),
            SdkError::ResponseError(_) => Error::new(format!(
                "STS at {} sent a response to {what} that cannot be read ({})",
                self.shown,
                root_cause(&err)
            )),
            _ => Error::new(format!("{what} failed: {}", DisplayErrorContext(&err))),
        }
    }
}

/// The innermost error message: "Connection refused (os error 111)" rather than "dispatch failure".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The SDK's XML reader is lenient: a truncated body can yield half-empty credentials. Accept
/// only complete, unexpired ones.
fn from_sts(c: &aws_sdk_sts::types::Credentials) -> Option<Creds> {
    let exp = c.expiration();
    let creds = Creds {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
        expiration: DateTime::<Utc>::from_timestamp(exp.secs(), exp.subsec_nanos()),
    };
    let complete = creds.access_key_id.len() >= 16
        && !creds.secret_access_key.is_empty()
        && creds.session_token.as_deref().is_some_and(|t| !t.is_empty())
        && creds.expiration.is_some_and(|e| e > Utc::now());
    complete.then_some(creds)
}

fn default_session_name() -> String {
    format!("cdk-mfa-rs-{}", Utc::now().timestamp())
}

#[cfg(test)]
mod tests {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    #[test]
    fn endpoint_logins_are_hidden_in_messages() {
        assert_eq!(super::without_userinfo("http://u:p@127.0.0.1:9/x@y"), "http://***@127.0.0.1:9/x@y");
        assert_eq!(super::without_userinfo("https://u@host"), "https://***@host");
        assert_eq!(super::without_userinfo("https://host/a@b"), "https://host/a@b");
        assert_eq!(super::without_userinfo("sts.eu-west-1 (regional endpoint)"), "sts.eu-west-1 (regional endpoint)");
    }

    /// Our clients leave endpoint resolution to the SDK with these parameters (region, no FIPS,
    /// no global endpoint): STS is reached at the regional endpoint of the region's partition.
    #[tokio::test]
    async fn regional_endpoint_of_the_partition() {
        let cases = [
            ("us-east-1", "https://sts.us-east-1.amazonaws.com"),
            ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
            ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
            ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
            ("us-iso-east-1", "https://sts.us-iso-east-1.c2s.ic.gov"),
            ("us-isob-east-1", "https://sts.us-isob-east-1.sc2s.sgov.gov"),
        ];
        for (region, url) in cases {
            let params = Params::builder()
                .region(region)
                .use_fips(false)
                .use_dual_stack(false)
                .use_global_endpoint(false)
                .build()
                .unwrap();
            let ep = DefaultResolver::new().resolve_endpoint(&params).await.unwrap();
            assert_eq!(ep.url(), url, "{region}");
        }
    }
}
