//! Executes a plan: base credentials → (MFA session) → role steps, each unit cached in memory
//! and on disk, filled under an in-process single-flight lock and a cross-process file lock, so
//! that every account sharing one MFA device waits for one prompt and one STS call.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::base;
use crate::cache::{DiskCache, FileLock, Key, Kind, Label, LockError, Miss};
use crate::config::MfaStrategy;
use crate::creds::Creds;
use crate::error::{Error, Result};
use crate::mfa::CodeSources;
use crate::plan::{Mfa, Plan};
use crate::profiles::Profiles;
use crate::prompt;
use crate::sts::{StsTarget, CHAINED_ROLE_MAX_SECONDS};

/// How long to wait for another process that is filling the same cache entry (it may be
/// waiting for the user to type a code).
const LOCK_WAIT: Duration = Duration::from_secs(200);

pub struct Settings {
    pub mfa_session_seconds: u32,
    pub strategy: MfaStrategy,
    pub prompt: prompt::Method,
}

pub struct Resolver {
    settings: Settings,
    cache: Option<DiskCache>,
    memory: Mutex<HashMap<Key, Creds>>,
    flights: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    codes: CodeSources,
    /// One prompt (and its STS call) at a time on the one terminal or desktop.
    prompt: tokio::sync::Mutex<()>,
    /// Requests in progress whose plan needs an MFA code: (serial, who), named in a dialog.
    waiting: Mutex<Vec<(String, String)>>,
    warn: Box<dyn Fn(&str) + Send + Sync>,
    /// Cache writes that failed (each warned): `login` must not claim a session is cached.
    failed_writes: AtomicUsize,
}

type Fut<'a> = Pin<Box<dyn Future<Output = Result<Creds>> + Send + 'a>>;

/// Everything a plan's execution needs, shared by its units.
struct Run<'a> {
    plan: &'a Plan,
    profiles: &'a Profiles,
    sts: StsTarget,
    base_id: String,
}

impl<'a> Run<'a> {
    fn new(plan: &'a Plan, profiles: &'a Profiles) -> Run<'a> {
        Run {
            plan,
            profiles,
            sts: StsTarget::new(
                plan.endpoint_profile.as_deref(),
                &plan.region,
                profiles.sts_endpoint(plan.endpoint_profile.as_deref(), &crate::env_var),
            ),
            base_id: base::base_identity(&plan.base),
        }
    }
}

impl Resolver {
    pub fn new(settings: Settings, cache: Option<DiskCache>, warn: Box<dyn Fn(&str) + Send + Sync>) -> Resolver {
        Resolver {
            cache,
            memory: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            codes: CodeSources::new(settings.prompt),
            prompt: tokio::sync::Mutex::new(()),
            waiting: Mutex::new(Vec::new()),
            warn,
            failed_writes: AtomicUsize::new(0),
            settings,
        }
    }

    /// Do sessions go to disk at all (a refused or unusable directory means no)?
    pub fn has_disk_cache(&self) -> bool {
        self.cache.is_some()
    }

    /// How many cache writes have failed so far in this process.
    pub fn failed_writes(&self) -> usize {
        self.failed_writes.load(Ordering::Relaxed)
    }

    /// `who` names the requester in a dialog: "account 111111111111 (profile dev)".
    pub async fn resolve(&self, plan: &Plan, profiles: &Profiles, who: &str) -> Result<Creds> {
        let _waiting: Vec<Waiting<'_>> = plan.mfa.iter().map(|m| self.wait_for_code(&m.serial, who)).collect();
        let run = Run::new(plan, profiles);
        match (plan.steps.len(), plan.first_mfa()) {
            (0, None) => self.base(&run).await,
            // A profile with keys and mfa_serial but no role: its MFA session is the result.
            (0, Some(mfa)) => self.mfa_session(&run, mfa).await,
            (n, _) => self.step(&run, n - 1).await,
        }
    }

    /// Key of the MFA session: base identity, device, duration and where STS is.
    fn session_key(&self, run: &Run<'_>, mfa: &Mfa) -> Key {
        Key::new(
            Kind::MfaSession,
            &[
                &run.base_id,
                &mfa.serial,
                &self.settings.mfa_session_seconds.to_string(),
                &run.plan.region,
                &run.sts.endpoint,
            ],
        )
    }

    /// Key of role step `i`: everything below it (by the previous key, so every device that
    /// entered below), the MFA device entering at this step (so that a role assumed with MFA
    /// never serves one without, and back), the role and its options.
    fn step_key(&self, run: &Run<'_>, i: usize) -> Key {
        let below = if i == 0 { run.base_id.clone() } else { self.step_key(run, i - 1).hash };
        let s = &run.plan.steps[i];
        let serial = run.plan.mfa_at(i).map_or("", |m| m.serial.as_str());
        Key::new(
            Kind::Role,
            &[
                &below,
                serial,
                &s.role_arn,
                s.external_id.as_deref().unwrap_or(""),
                s.session_name.as_deref().unwrap_or(""),
                &s.duration_seconds.map_or(String::new(), |d| d.to_string()),
                &run.plan.region,
                &run.sts.endpoint,
            ],
        )
    }

    fn wait_for_code(&self, serial: &str, who: &str) -> Waiting<'_> {
        let entry = (serial.to_string(), who.to_string());
        self.waiting.lock().unwrap().push(entry.clone());
        Waiting { resolver: self, entry }
    }

    fn waiting_for(&self, serial: &str) -> Vec<String> {
        self.waiting.lock().unwrap().iter().filter(|(s, _)| s == serial).map(|(_, w)| w.clone()).collect()
    }

    fn flight(&self, key: &Key) -> Arc<tokio::sync::Mutex<()>> {
        self.flights.lock().unwrap().entry(key.clone()).or_default().clone()
    }

    fn remembered(&self, key: &Key) -> Option<Creds> {
        self.memory.lock().unwrap().get(key).filter(|c| c.is_fresh()).cloned()
    }

    fn remember(&self, key: &Key, c: &Creds) {
        self.memory.lock().unwrap().insert(key.clone(), c.clone());
    }

    /// Memory, then disk (under the cross-process lock), then `fill`; the result is stored in both.
    async fn cached<'a>(&'a self, key: Key, label: Label, fill: impl FnOnce() -> Fut<'a>) -> Result<Creds> {
        let key = key.bound_to(&label);
        let flight = self.flight(&key);
        let _in_process = flight.lock().await;
        if let Some(c) = self.remembered(&key) {
            return Ok(c);
        }
        let mut _cross_process: Option<FileLock> = None;
        if let Some(cache) = &self.cache {
            match cache.lock(&key, LOCK_WAIT).await {
                Ok(l) => _cross_process = Some(l),
                Err(LockError::Busy(e)) => return Err(e),
                Err(LockError::Unavailable(e)) => (self.warn)(&format!("{e}; continuing without the lock")),
            }
            match cache.get(&key, &label) {
                Ok(entry) => {
                    self.remember(&key, &entry.credentials);
                    return Ok(entry.credentials);
                }
                Err(Miss::Absent | Miss::Expired) => {}
                Err(Miss::Unusable(why)) => {
                    (self.warn)(&format!("ignoring cache entry {why}; it will be replaced"));
                    cache.remove(&key);
                }
            }
        }
        let creds = fill().await?;
        if let Some(cache) = &self.cache {
            if let Err(e) = cache.put(&key, label, &creds) {
                self.failed_writes.fetch_add(1, Ordering::Relaxed);
                (self.warn)(&format!("{e}; continuing without caching"));
            }
        }
        self.remember(&key, &creds);
        Ok(creds)
    }

    /// Base credentials, remembered in memory only (long-term keys never go to disk; SSO and
    /// credential_process have their own caches).
    async fn base(&self, run: &Run<'_>) -> Result<Creds> {
        let key = Key::new(Kind::Role, &["base", &run.base_id]);
        let flight = self.flight(&key);
        let _g = flight.lock().await;
        if let Some(c) = self.remembered(&key) {
            return Ok(c);
        }
        let c = base::resolve(run.plan, run.profiles).await?;
        self.remember(&key, &c);
        Ok(c)
    }

    /// Should this plan use one GetSessionToken for everything (vs MFA on the role call)?
    async fn use_session(&self, run: &Run<'_>) -> Result<bool> {
        Ok(match self.settings.strategy {
            MfaStrategy::Session => true,
            MfaStrategy::PerRole => false,
            MfaStrategy::Auto => match run.plan.base.long_term_hint() {
                Some(long_term) => long_term,
                None => !self.base(run).await?.is_temporary(),
            },
        })
    }

    fn mfa_session<'a>(&'a self, run: &'a Run<'a>, mfa: &'a Mfa) -> Fut<'a> {
        Box::pin(async move {
            let label = Label {
                profile: run.plan.base.profile().map(str::to_string),
                mfa_serial: Some(mfa.serial.clone()),
                role_arn: None,
            };
            self.cached(self.session_key(run, mfa), label, || {
                Box::pin(async move {
                    let base = self.base(run).await?;
                    if base.is_temporary() {
                        return Err(Error::new(format!(
                            "GetSessionToken cannot be called with temporary credentials ({}); \
                             give profile {} a role_arn so MFA goes with AssumeRole, or use long-term keys",
                            run.plan.base.profile().unwrap_or("default chain"),
                            mfa.profile
                        )));
                    }
                    let seconds = self.settings.mfa_session_seconds;
                    self.with_code(mfa, |code| {
                        let base = base.clone();
                        async move { run.sts.get_session_token(&base, &mfa.serial, &code, seconds).await }
                    })
                    .await
                })
            })
            .await
        })
    }

    fn step<'a>(&'a self, run: &'a Run<'a>, i: usize) -> Fut<'a> {
        Box::pin(async move {
            let step = &run.plan.steps[i];
            self.cached(self.step_key(run, i), step_label(run.plan, i), || {
                Box::pin(async move {
                    // Each device enters at the step of the profile that declares it, as the
                    // step key says. Only a first role can sit on a GetSessionToken session (STS
                    // refuses it to role credentials); a role whose source is itself a role gets
                    // SerialNumber + TokenCode of its own device on its own AssumeRole, as the
                    // AWS CLI does, whatever the strategy. Deciding the strategy may resolve the
                    // base.
                    let mfa_here = run.plan.mfa_at(i);
                    let session = match mfa_here {
                        Some(mfa) if i == 0 && self.use_session(run).await? => Some(mfa),
                        _ => None,
                    };
                    let per_role_mfa = if session.is_none() { mfa_here } else { None };
                    let caller = if i > 0 {
                        self.step(run, i - 1).await?
                    } else if let Some(mfa) = session {
                        self.mfa_session(run, mfa).await?
                    } else {
                        self.base(run).await?
                    };
                    // STS caps roles assumed with temporary credentials at one hour.
                    let seconds = match step.duration_seconds {
                        Some(d) if caller.is_temporary() && d > CHAINED_ROLE_MAX_SECONDS => {
                            Some(CHAINED_ROLE_MAX_SECONDS)
                        }
                        other => other,
                    };
                    match per_role_mfa {
                        None => run.sts.assume_role(&caller, step, seconds, None).await,
                        Some(mfa) => {
                            self.with_code(mfa, |code| {
                                let caller = caller.clone();
                                async move { run.sts.assume_role(&caller, step, seconds, Some((&mfa.serial, &code))).await }
                            })
                            .await
                        }
                    }
                })
            })
            .await
        })
    }

    /// Get a code and make the STS call with it (see `CodeSources::with_code`), one prompt at a time.
    async fn with_code<F, Fu>(&self, mfa: &Mfa, call: F) -> Result<Creds>
    where
        F: Fn(String) -> Fu,
        Fu: Future<Output = Result<Creds>>,
    {
        let _one_prompt = self.prompt.lock().await;
        self.codes.with_code(mfa, || self.waiting_for(&mfa.serial), call).await
    }
}

/// What the cache entry of role step `i` is for: its role, its profile, and the device that
/// entered last at or below it, if any (the key records them all).
fn step_label(plan: &Plan, i: usize) -> Label {
    let step = &plan.steps[i];
    Label {
        profile: step.profile.clone().or_else(|| plan.endpoint_profile.clone()),
        mfa_serial: plan.mfa_below(i).map(|m| m.serial.clone()),
        role_arn: Some(step.role_arn.clone()),
    }
}

/// One entry of `Resolver::waiting`, removed when the request is done.
struct Waiting<'a> {
    resolver: &'a Resolver,
    entry: (String, String),
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut all = self.resolver.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = all.iter().position(|e| *e == self.entry) {
            all.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PluginConfig;
    use crate::plan::{plan_for_profile, PlanInputs};

    const X: &str = "arn:aws:iam::999999999999:mfa/x";
    const Y: &str = "arn:aws:iam::999999999999:mfa/y";

    fn resolver() -> Resolver {
        let settings =
            Settings { mfa_session_seconds: 43_200, strategy: MfaStrategy::Auto, prompt: prompt::Method::None };
        Resolver::new(settings, None, Box::new(|_| {}))
    }

    /// `top` (role B, `top_extra`) → `mid` (role A, device Y) → `base` (long-term keys).
    fn plan(name: &str, top_extra: &str) -> (Plan, Profiles) {
        let profiles = crate::plan::tests::profiles(&format!(
            "[profile base]\naws_access_key_id=AKIABASE\naws_secret_access_key=s\n\
             [profile mid]\nrole_arn=arn:aws:iam::111111111111:role/A\nsource_profile=base\nmfa_serial={Y}\n\
             [profile top]\nrole_arn=arn:aws:iam::222222222222:role/B\nsource_profile=mid\n{top_extra}\n"
        ));
        let config = PluginConfig::default();
        let inputs = PlanInputs { config: &config, profiles: &profiles, env: &|_| None };
        (plan_for_profile(&inputs, name).unwrap(), profiles)
    }

    /// The cache key and label of step `i`, as `cached` uses them.
    fn entry(r: &Resolver, (plan, profiles): &(Plan, Profiles), i: usize) -> (Key, Label) {
        let label = step_label(plan, i);
        (r.step_key(&Run::new(plan, profiles), i).bound_to(&label), label)
    }

    #[test]
    fn role_entries_record_each_device_of_the_chain() {
        let r = resolver();
        let mid = plan("mid", "");
        let top_x = plan("top", &format!("mfa_serial={X}"));
        let top_plain = plan("top", "");
        let top_y = plan("top", &format!("mfa_serial={Y}"));
        // Role A assumed with Y for `mid` serves `top` (X or not): the same device entered there.
        assert_eq!(entry(&r, &mid, 0), entry(&r, &top_x, 0));
        assert_eq!(entry(&r, &top_plain, 0), entry(&r, &top_x, 0));
        // Role B assumed with X is not role B assumed with Y alone (before, they were one entry).
        let (b_x, b_x_label) = entry(&r, &top_x, 1);
        let (b_plain, b_plain_label) = entry(&r, &top_plain, 1);
        assert_ne!(b_x, b_plain);
        assert_eq!((b_x_label.mfa_serial.as_deref(), b_plain_label.mfa_serial.as_deref()), (Some(X), Some(Y)));
        // Y declared again on top has entered below: the same role B as without it.
        assert_eq!(entry(&r, &top_y, 1), entry(&r, &top_plain, 1));
    }
}
