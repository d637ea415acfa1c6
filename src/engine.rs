//! One per process: the loaded configuration, the AWS profiles (read once, on first use), the
//! resolver with its caches, and the bookkeeping behind the one-line notices.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_types::os_shim_internal::{Env, Fs};
use tokio::sync::OnceCell;

use crate::cache::{self, DiskCache};
use crate::config::{self, ConfigInputs, Mode, PluginConfig};
use crate::creds::Creds;
use crate::env_var;
use crate::error::{Error, Result};
use crate::plan::{self, Plan, PlanInputs};
use crate::profiles::Profiles;
use crate::resolver::{Resolver, Settings};

pub struct Engine {
    disabled: bool,
    config: Result<PluginConfig>,
    resolver: Resolver,
    profiles: OnceCell<Result<Arc<Profiles>>>,
    /// (account, mode) already announced on stderr.
    announced: Mutex<HashSet<(String, Mode)>>,
    /// Access key id → account: one set of credentials must never serve two accounts.
    owners: Mutex<HashMap<String, String>>,
    /// (account, role ARN) pairs already warned about: the role is in another account.
    mismatches: Mutex<HashSet<(String, String)>>,
}

/// One line on stderr, never in the middle of an MFA prompt (see `prompt::stderr_line`).
pub fn notice(line: &str) {
    crate::prompt::stderr_line(&format!("cdk-mfa-rs: {line}"));
}

pub fn warn(message: &str) {
    notice(&format!("warning: {message}"));
}

impl Engine {
    pub fn from_process() -> Engine {
        Engine::new(config::is_disabled_by_env())
    }

    /// For the companion command: the disable variables switch off the CDK plugin, not the command.
    pub fn for_command() -> Engine {
        Engine::new(false)
    }

    fn new(disabled: bool) -> Engine {
        let config = if disabled { Err(Error::new("disabled")) } else { config::load(&ConfigInputs::from_process()) };
        let cache = open_cache();
        let defaults = PluginConfig::default();
        let c = config.as_ref().unwrap_or(&defaults);
        let settings = Settings {
            mfa_session_seconds: c.mfa_session_duration_seconds,
            strategy: c.mfa_strategy,
            prompt: c.mfa_prompt,
        };
        Engine {
            disabled,
            config,
            resolver: Resolver::new(settings, cache, Box::new(warn)),
            profiles: OnceCell::new(),
            announced: Mutex::new(HashSet::new()),
            owners: Mutex::new(HashMap::new()),
            mismatches: Mutex::new(HashSet::new()),
        }
    }

    pub fn is_available(&self) -> bool {
        !self.disabled
    }

    /// A broken configuration answers yes for every account, so that the error (which names
    /// the file and what to fix) reaches the user from `getProvider` instead of a vague
    /// "no credentials" from the CLI.
    pub fn can_provide(&self, account: &str) -> bool {
        if self.disabled {
            return false;
        }
        match &self.config {
            Ok(c) => c.route(account, Mode::Read).is_some(),
            Err(_) => true,
        }
    }

    /// The loaded configuration, or why it could not be loaded.
    pub fn config(&self) -> Result<&PluginConfig> {
        self.config.as_ref().map_err(Clone::clone)
    }

    pub async fn profiles(&self) -> Result<Arc<Profiles>> {
        self.profiles
            .get_or_init(|| async { Profiles::load(&Env::real(), &Fs::real()).await.map(Arc::new) })
            .await
            .clone()
    }

    pub async fn plan(&self, account: &str, mode: Mode) -> Result<Plan> {
        let config = self.config()?;
        let profiles = self.profiles().await?;
        let inputs = PlanInputs { config, profiles: &profiles, env: &env_var };
        plan::plan_for(&inputs, account, mode)?.ok_or_else(|| {
            Error::new(format!(
                "account {account} is not mapped in awsProfiles and not covered by assumeRole (read: {})",
                describe_files(config)
            ))
        })
    }

    /// The plan for one AWS profile, mapped or not (companion command `--profile`). The project
    /// configuration only supplies settings, so a broken one does not stop this.
    pub async fn plan_for_profile(&self, name: &str) -> Result<Plan> {
        let defaults = PluginConfig::default();
        let config = self.config.as_ref().unwrap_or(&defaults);
        let profiles = self.profiles().await?;
        plan::plan_for_profile(&PlanInputs { config, profiles: &profiles, env: &env_var }, name)
    }

    /// Execute a plan like `resolve`, and tell whether what it obtained is now on disk (false
    /// when the cache directory was refused, or a write failed: both were warned about).
    pub async fn resolve_and_store(&self, plan: &Plan) -> Result<(Creds, bool)> {
        let failed = self.resolver.failed_writes();
        let creds = self.resolve(plan).await?;
        Ok((creds, self.resolver.has_disk_cache() && self.resolver.failed_writes() == failed))
    }

    /// Execute a plan with the shared caches and prompt, without the one-line notice.
    pub async fn resolve(&self, plan: &Plan) -> Result<Creds> {
        let profiles = self.profiles().await?;
        self.resolver.resolve(plan, &profiles, &plan.target).await.map_err(|e| e.context(&plan.target))
    }

    pub async fn credentials(&self, account: &str, mode: Mode) -> Result<Creds> {
        let prefix = format!("account {account} ({})", mode.label());
        if self.disabled {
            return Err(Error::new("disabled by CDK_MFA_RS_DISABLE or IGNORE_CDK_MULTI_PROFILE_PLUGIN"));
        }
        let plan = self.plan(account, mode).await.map_err(|e| e.context(&prefix))?;
        let target = format!("{prefix} → {} ({})", plan.target, plan.source);
        if self.announced.lock().unwrap().insert((account.to_string(), mode)) {
            notice(&target);
        }
        self.warn_other_account(account, &plan);
        let profiles = self.profiles().await?;
        let who = format!("account {account} ({})", plan.target);
        let creds = self.resolver.resolve(&plan, &profiles, &who).await.map_err(|e| e.context(&target))?;
        self.check_owner(account, &plan, &creds)?;
        Ok(creds)
    }

    /// The last role of the plan decides whose credentials the CDK CLI gets: say so, once, when
    /// that is not the account it asked for (a mapping typo deploys into the wrong account).
    fn warn_other_account(&self, account: &str, plan: &Plan) {
        let Some(role) = plan.steps.last() else { return };
        let Some(other) = crate::arn::account_of(&role.role_arn).filter(|a| *a != account) else { return };
        if self.mismatches.lock().unwrap().insert((account.to_string(), role.role_arn.clone())) {
            warn(&format!(
                "account {account} → {} assumes {}, a role in account {other}: the CDK CLI gets credentials of \
                 {other} for {account}; map {account} to a profile whose role is in {account}",
                plan.target, role.role_arn
            ));
        }
    }

    fn check_owner(&self, account: &str, plan: &Plan, creds: &Creds) -> Result<()> {
        let mut owners = self.owners.lock().unwrap();
        match owners.get(&creds.access_key_id) {
            Some(other) if other != account => Err(Error::new(format!(
                "{} gives the same credentials for accounts {other} and {account}; credentials belong to one \
                 account: map each account to its own profile or role",
                plan.target
            ))),
            _ => {
                owners.insert(creds.access_key_id.clone(), account.to_string());
                Ok(())
            }
        }
    }
}

fn describe_files(c: &PluginConfig) -> String {
    if c.files_read.is_empty() {
        "no configuration file found".to_string()
    } else {
        c.files_read.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// The disk cache, or none (with a warning) when its directory cannot be used.
fn open_cache() -> Option<DiskCache> {
    let Some(dir) = cache::default_dir(crate::home_dir().as_deref()) else {
        warn("HOME is not set and CDK_MFA_RS_CACHE_DIR is not set: sessions are not cached across runs");
        return None;
    };
    match DiskCache::open(&dir) {
        Ok((c, warnings)) => {
            warnings.iter().for_each(|w| warn(w));
            Some(c)
        }
        Err(e) => {
            warn(&format!("{e}; sessions are not cached across runs"));
            None
        }
    }
}
