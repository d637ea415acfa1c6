//! The JavaScript surface: the CDK CLI plugin contract (`version`, `init(host)`) and the one
//! credential provider source it registers. The work happens in `engine` and below:
//! config → plan → (cache | prompt → STS) → credentials.

#[macro_use]
extern crate napi_derive;

pub mod arn;
pub mod base;
pub mod cache;
pub mod cli;
pub mod config;
pub mod credential_process;
pub mod creds;
pub mod engine;
pub mod error;
pub mod mfa;
pub mod plan;
pub mod printable;
pub mod profiles;
pub mod prompt;
pub mod resolver;
pub mod source;
pub mod sts;
pub mod subprocess;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::*;

use crate::config::Mode;
use crate::engine::Engine;

/// An environment variable, `None` when unset or empty (as the AWS tools treat empty values).
pub fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The home directory, from the environment only (an unset HOME must not be guessed).
pub fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var).filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// The plugin protocol version the CDK CLI checks (`exports.version === '1'`).
/// (Lower-case because napi-rs exports a const under its Rust name.)
#[allow(non_upper_case_globals)]
#[napi]
pub const version: &str = "1";

/// Credentials in the shape the CDK CLI expects; `expiration` becomes a JS `Date` and is
/// omitted (never null) for credentials that do not expire.
#[napi(object)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expiration: Option<DateTime<Utc>>,
}

/// The `CredentialProviderSource` registered with the CDK CLI.
#[napi]
pub struct CredentialProviderSource {
    engine: Arc<Engine>,
    #[napi(readonly)]
    pub name: String,
}

fn to_js_error(e: error::Error) -> napi::Error {
    let line = format!("cdk-mfa-rs: {e}");
    napi::Error::from_reason(printable::printable(&line, printable::Lines::Escape))
}

#[napi]
impl CredentialProviderSource {
    #[napi(constructor)]
    pub fn new() -> Self {
        CredentialProviderSource { engine: Arc::new(Engine::from_process()), name: "cdk-mfa-rs".to_string() }
    }

    /// False when disabled by `CDK_MFA_RS_DISABLE` / `IGNORE_CDK_MULTI_PROFILE_PLUGIN`.
    #[napi]
    pub fn is_available<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, bool>> {
        let available = self.engine.is_available();
        env.spawn_future(async move { Ok(available) })
    }

    /// Decided from configuration alone: no STS call.
    #[napi]
    pub fn can_provide_credentials<'env>(&self, env: &'env Env, account_id: String) -> Result<PromiseRaw<'env, bool>> {
        let can = self.engine.can_provide(&account_id);
        env.spawn_future(async move { Ok(can) })
    }

    /// `mode`: 0 = ForReading, 1 = ForWriting. `options` (`supportsV3Providers`) needs nothing
    /// from us: plain credentials work for every CLI version.
    #[napi(ts_args_type = "accountId: string, mode: number, options?: { supportsV3Providers?: boolean }")]
    pub fn get_provider<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        mode: u32,
        _options: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, AwsCredentials>> {
        let engine = self.engine.clone();
        env.spawn_future(async move {
            let mode = Mode::from_js(mode).map_err(to_js_error)?;
            let c = engine.credentials(&account_id, mode).await.map_err(to_js_error)?;
            Ok(AwsCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: c.session_token,
                expiration: c.expiration,
            })
        })
    }
}

impl Default for CredentialProviderSource {
    fn default() -> Self {
        Self::new()
    }
}

/// Called by the CDK CLI once, synchronously: registers our one credential source.
#[napi(ts_args_type = "host: { registerCredentialProviderSource(source: CredentialProviderSource): void }")]
pub fn init(env: Env, host: Object) -> Result<()> {
    let source = CredentialProviderSource::new().into_instance(&env)?;
    let register: Function<ClassInstance<CredentialProviderSource>, Unknown> =
        host.get_named_property("registerCredentialProviderSource")?;
    register.apply(host, source)?;
    Ok(())
}
