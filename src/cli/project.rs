//! The project in the current directory as the commands see it, read without side effects
//! (configuration, AWS profiles, cache entries), and which cache entry holds a plan's session.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_types::os_shim_internal::{Env, Fs};

use crate::cache::{self, DiskCache, Entry, Kind};
use crate::config::{self, Accounts, ConfigInputs, Mode, PluginConfig};
use crate::error::Error;
use crate::plan::{self, Plan, PlanInputs};
use crate::profiles::Profiles;

use super::{fail, CliResult};
use crate::env_var;

/// Every account the configuration names: `awsProfiles` keys and an `assumeRole.accounts` list.
pub(super) fn mapped_accounts(c: &PluginConfig) -> Vec<String> {
    let mut set: BTreeSet<String> = c.aws_profiles.keys().cloned().collect();
    if let Some(ar) = &c.assume_role {
        if let Accounts::List(list) = &ar.accounts {
            set.extend(list.iter().cloned());
        }
    }
    set.into_iter().collect()
}

/// An account id no `awsProfiles` entry maps: stands for "any other account" of the convention.
pub(super) fn unmapped_example(c: &PluginConfig) -> String {
    // Of n + 1 candidates at most n are mapped, so one is always free (a fixed range ran out
    // with 1000 mapped accounts and panicked).
    (0..=c.aws_profiles.len() as u64)
        .map(|i| format!("{:012}", 123_456_789_000u64 + i))
        .find(|a| !c.aws_profiles.contains_key(a))
        .unwrap_or_else(|| "123456789000".to_string())
}

pub(super) fn covers_every_account(c: &PluginConfig) -> bool {
    matches!(&c.assume_role, Some(ar) if ar.accounts == Accounts::All)
}

/// The project in cwd, read without side effects: configuration, profiles, cache entries.
pub(super) struct Project {
    pub(super) cwd: PathBuf,
    pub(super) config: PluginConfig,
    profiles: Profiles,
    pub(super) cache_dir: Option<PathBuf>,
    entries: Vec<(PathBuf, Result<Entry, String>)>,
    /// Temp files of ours left by a write whose process died (one may hold a session).
    pub(super) unfinished_writes: usize,
}

impl Project {
    pub(super) async fn load() -> CliResult<Project> {
        let inputs = ConfigInputs::from_process();
        let config =
            config::load(&inputs).map_err(|e| fail(format!("{e} (cdk-mfa-rs doctor checks every setting)")))?;
        let profiles = Profiles::load(&Env::real(), &Fs::real()).await?;
        let cache_dir = cache::default_dir(crate::home_dir().as_deref());
        let scan = cache_dir.as_deref().map(|d| DiskCache::at(d).scan()).unwrap_or_default();
        let unfinished_writes = scan.stale_temps.len();
        let entries = scan.entries.into_iter().map(|f| (f.path, f.entry.map_err(|u| u.why))).collect();
        Ok(Project { cwd: inputs.cwd, config, profiles, cache_dir, entries, unfinished_writes })
    }

    pub(super) fn plan(&self, account: &str, mode: Mode) -> Result<Option<Plan>, Error> {
        let inputs = PlanInputs { config: &self.config, profiles: &self.profiles, env: &env_var };
        plan::plan_for(&inputs, account, mode)
    }

    pub(super) fn valid_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter_map(|(_, e)| e.as_ref().ok())
    }

    /// Accounts that only the convention (`assumeRole` for every account) reaches and that
    /// have a cached role session: the cache labels name their role ARNs.
    fn cached_convention_accounts(&self) -> Vec<String> {
        if !covers_every_account(&self.config) {
            return Vec::new();
        }
        let mapped = mapped_accounts(&self.config);
        let mut found = BTreeSet::new();
        for e in self.valid_entries() {
            let Some(arn) = e.label.role_arn.as_deref() else { continue };
            let Some(account) = crate::arn::account_of(arn) else { continue };
            if !config::is_account_id(account) || mapped.iter().any(|m| m == account) {
                continue;
            }
            let ours = [Mode::Read, Mode::Write].iter().any(
                |m| matches!(self.plan(account, *m), Ok(Some(p)) if session_entry(&p, self.valid_entries()).is_some()),
            );
            if ours {
                found.insert(account.to_string());
            }
        }
        found.into_iter().collect()
    }

    /// Every account to show or act on: mapped ones, then cached convention ones.
    pub(super) fn accounts(&self) -> Vec<String> {
        let mut a = mapped_accounts(&self.config);
        a.extend(self.cached_convention_accounts());
        a
    }
}

/// The cache entry holding a plan's final credentials (the latest, if several).
pub(super) fn session_entry<'a>(plan: &Plan, entries: impl Iterator<Item = &'a Entry>) -> Option<&'a Entry> {
    let matches = |e: &&Entry| -> bool {
        match (plan.steps.last(), plan.first_mfa()) {
            (Some(step), _) => {
                e.kind == Kind::Role
                    && e.label.role_arn.as_deref() == Some(step.role_arn.as_str())
                    && e.label.profile == step.profile.clone().or_else(|| plan.endpoint_profile.clone())
            }
            (None, Some(mfa)) => is_mfa_session_of(e, plan, &mfa.serial),
            (None, None) => false,
        }
    };
    entries.filter(matches).max_by_key(|e| e.credentials.expiration)
}

fn is_mfa_session_of(e: &Entry, plan: &Plan, serial: &str) -> bool {
    e.kind == Kind::MfaSession
        && e.label.mfa_serial.as_deref() == Some(serial)
        && e.label.profile.as_deref() == plan.base.profile()
}

pub(super) fn mfa_session_entry<'a>(plan: &Plan, entries: impl Iterator<Item = &'a Entry>) -> Option<&'a Entry> {
    let serial = plan.first_mfa()?.serial.clone();
    entries.filter(|e| is_mfa_session_of(e, plan, &serial)).max_by_key(|e| e.credentials.expiration)
}
