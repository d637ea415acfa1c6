//! Configuration + AWS profiles → a flat, printable plan: base credentials, the MFA devices of
//! the chain, then a chain of role steps. Building a plan needs no network; `resolver` executes it.

use std::fmt;

use crate::arn;
use crate::config::{AssumeRoleConfig, Mode, PluginConfig, Route};
use crate::error::{Error, Result};
use crate::profiles::Profiles;

/// Where the first credentials of the chain come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `aws_access_key_id` + `aws_secret_access_key` in a profile. Long-term unless the
    /// profile also has `aws_session_token`.
    StaticKeys { profile: String, access_key_id: String, temporary: bool },
    /// Resolved by aws-config itself: SSO, `aws login`, `credential_process`, web identity.
    Profile { profile: String, kind: ProfileKind },
    /// `credential_source` of a role profile.
    CredentialSource { profile: String, source: CredentialSource },
    /// The default chain: environment, web identity, container, instance (pipelines).
    DefaultChain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    Sso,
    /// `login_session`: console credentials from `aws login` (temporary, refreshed by aws-config).
    Login,
    CredentialProcess,
    WebIdentity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    Ec2InstanceMetadata,
    EcsContainer,
}

impl Base {
    /// Known before resolving: may these credentials call GetSessionToken?
    /// `None` when only the resolved credentials can tell (credential_process, default chain).
    pub fn long_term_hint(&self) -> Option<bool> {
        match self {
            Base::StaticKeys { temporary, .. } => Some(!temporary),
            Base::Profile { kind: ProfileKind::CredentialProcess, .. } | Base::DefaultChain => None,
            Base::Profile { .. } | Base::CredentialSource { .. } => Some(false),
        }
    }

    pub fn profile(&self) -> Option<&str> {
        match self {
            Base::StaticKeys { profile, .. }
            | Base::Profile { profile, .. }
            | Base::CredentialSource { profile, .. } => Some(profile),
            Base::DefaultChain => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    pub role_arn: String,
    /// The profile that declares the role (`None` for the conventional role).
    pub profile: Option<String>,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub serial: String,
    /// The profile that declares `mfa_serial`.
    pub profile: String,
    pub mfa_process: Option<String>,
    /// The step it enters at: its AssumeRole sends SerialNumber + TokenCode, or (first step,
    /// session strategy) it is assumed with a GetSessionToken session of this device.
    pub step: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub base: Base,
    /// The MFA devices of the chain, from the base upwards: each device once (where it enters
    /// first), at most one per step. Empty: no MFA anywhere.
    pub mfa: Vec<Mfa>,
    pub steps: Vec<RoleStep>,
    pub region: String,
    /// Whose `endpoint_url` / `services` settings apply to our STS calls.
    pub endpoint_profile: Option<String>,
    /// What the user configured, for the one-line notice: "profile dev".
    pub target: String,
    /// What the base credentials are, for the notice and `status`: "SSO", "static keys of
    /// profile shared", "web identity" (see `source::kind`).
    pub source: String,
}

impl fmt::Display for Plan {
    /// One line per element, no secrets: what `status` and error messages show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.base {
            Base::StaticKeys { profile, temporary, .. } => {
                write!(f, "static {} keys of profile {profile}", if *temporary { "temporary" } else { "long-term" })?
            }
            Base::Profile { profile, kind } => write!(f, "{kind:?} credentials of profile {profile}")?,
            Base::CredentialSource { profile, source } => {
                write!(f, "credential_source {source:?} of profile {profile}")?
            }
            Base::DefaultChain => write!(f, "default credential chain")?,
        }
        for m in &self.mfa {
            write!(f, " | MFA {} (from profile {})", m.serial, m.profile)?;
        }
        for s in &self.steps {
            write!(f, " → {}", s.role_arn)?;
        }
        write!(f, " [region {}]", self.region)
    }
}

impl Plan {
    /// The MFA device that enters the chain at step `i`.
    pub fn mfa_at(&self, i: usize) -> Option<&Mfa> {
        self.mfa.iter().find(|m| m.step == i)
    }

    /// The device that entered last at or below step `i` (what a cache label names).
    pub fn mfa_below(&self, i: usize) -> Option<&Mfa> {
        self.mfa.iter().rev().find(|m| m.step <= i)
    }

    /// The device of the first step: the only one a GetSessionToken session can serve.
    pub fn first_mfa(&self) -> Option<&Mfa> {
        self.mfa_at(0)
    }
}

/// Region: profile `region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
pub fn region_from(profile_region: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    profile_region
        .map(str::to_string)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

fn prop<'a>(profiles: &'a Profiles, name: &str, key: &str) -> Option<&'a str> {
    profiles.get(name).and_then(|p| p.get(key)).map(str::trim).filter(|v| !v.is_empty())
}

fn parse_duration(profile: &str, value: Option<&str>) -> Result<Option<u32>> {
    value
        .map(|v| {
            v.parse::<u32>().ok().filter(|d| (900..=43_200).contains(d)).ok_or_else(|| {
                Error::new(format!(
                    "profile {profile}: duration_seconds = {v} is not a number of seconds from 900 to 43200"
                ))
            })
        })
        .transpose()
}

/// A valid MFA device ARN (`arn:<partition>:iam::<account>:mfa/<name>`) or hardware serial.
pub fn check_mfa_serial(profile: &str, serial: &str) -> Result<()> {
    let arn_ok = serial.starts_with("arn:")
        && serial.split(':').count() == 6
        && serial.split(':').nth(2) == Some("iam")
        && arn::account_of(serial).is_some_and(crate::config::is_account_id)
        && serial.split(':').nth(5).is_some_and(|r| r.starts_with("mfa/") && r.len() > 4);
    // Hardware tokens may use a plain serial number (e.g. GAHT12345678).
    let hardware_ok = !serial.starts_with("arn:")
        && (9..=256).contains(&serial.len())
        && serial.chars().all(|c| c.is_ascii_alphanumeric() || "=,.@-".contains(c));
    if arn_ok || hardware_ok {
        Ok(())
    } else {
        Err(Error::new(format!(
            "profile {profile}: mfa_serial \"{serial}\" is not an MFA device ARN like arn:aws:iam::123456789012:mfa/your-user"
        )))
    }
}

struct Walk {
    base: Base,
    /// Role steps from the base upwards (the order they are assumed in).
    steps: Vec<RoleStep>,
    /// Profiles from the base upwards, one per step, for MFA placement.
    step_profiles: Vec<String>,
}

/// Follow `source_profile` from `start` down to the credentials at the bottom.
fn walk(profiles: &Profiles, start: &str) -> Result<Walk> {
    let mut visited: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    let mut step_profiles = Vec::new();
    let mut current = start.to_string();
    let base = loop {
        if let Some(pos) = visited.iter().position(|p| p == &current) {
            let mut cycle: Vec<&str> = visited[pos..].iter().map(String::as_str).collect();
            cycle.push(&current);
            return Err(Error::new(format!(
                "profile {start}: source_profile loop {}; point one of them at a profile with credentials",
                cycle.join(" → ")
            )));
        }
        profiles.require(&current).map_err(|e| {
            if visited.is_empty() {
                e
            } else {
                e.context(format!("profile {} has source_profile = {current}", visited.last().unwrap()))
            }
        })?;
        let is_source = !visited.is_empty();
        visited.push(current.clone());
        let get = |k: &str| prop(profiles, &current, k);
        let static_keys = match (get("aws_access_key_id"), get("aws_secret_access_key")) {
            (Some(id), Some(_)) => Some(Base::StaticKeys {
                profile: current.clone(),
                access_key_id: id.to_string(),
                temporary: get("aws_session_token").is_some(),
            }),
            (Some(_), None) => {
                return Err(Error::new(format!("profile {current} has aws_access_key_id but no aws_secret_access_key")))
            }
            _ => None,
        };
        // As in the AWS CLI: a source profile's own keys end the chain before its role_arn does.
        if is_source {
            if let Some(b) = static_keys.clone() {
                break b;
            }
        }
        let Some(role_arn) = get("role_arn") else {
            if let Some(b) = static_keys {
                break b;
            }
            if get("sso_session").is_some() || get("sso_start_url").is_some() {
                if let Some(s) = get("sso_session") {
                    if !profiles.has_sso_session(s) {
                        return Err(Error::new(format!(
                            "profile {current}: sso_session = {s} but there is no [sso-session {s}] section"
                        )));
                    }
                }
                break Base::Profile { profile: current.clone(), kind: ProfileKind::Sso };
            }
            if get("login_session").is_some() {
                break Base::Profile { profile: current.clone(), kind: ProfileKind::Login };
            }
            if get("credential_process").is_some() {
                break Base::Profile { profile: current.clone(), kind: ProfileKind::CredentialProcess };
            }
            return Err(Error::new(format!(
                "profile {current} has no credentials: give it aws_access_key_id/aws_secret_access_key, \
                 role_arn with source_profile or credential_source, sso_session, login_session (aws login), \
                 or credential_process"
            )));
        };
        if get("web_identity_token_file").is_some() && get("source_profile").is_none() {
            // role_arn + web_identity_token_file is one AssumeRoleWithWebIdentity, done by aws-config.
            break Base::Profile { profile: current.clone(), kind: ProfileKind::WebIdentity };
        }
        let step = RoleStep {
            role_arn: role_arn.to_string(),
            profile: Some(current.clone()),
            external_id: get("external_id").map(str::to_string),
            session_name: get("role_session_name").map(str::to_string),
            duration_seconds: parse_duration(&current, get("duration_seconds"))?,
        };
        steps.push(step);
        step_profiles.push(current.clone());
        match (get("source_profile"), get("credential_source")) {
            (Some(_), Some(_)) => {
                return Err(Error::new(format!(
                    "profile {current} has both source_profile and credential_source; keep one"
                )))
            }
            (Some(src), None) if src == current => {
                // A profile may name itself to assume its role with its own keys.
                break static_keys.ok_or_else(|| {
                    Error::new(format!("profile {current} names itself as source_profile but has no keys"))
                })?;
            }
            (Some(src), None) => current = src.to_string(),
            (None, Some(cs)) => {
                let source = match cs {
                    "Environment" => CredentialSource::Environment,
                    "Ec2InstanceMetadata" => CredentialSource::Ec2InstanceMetadata,
                    "EcsContainer" => CredentialSource::EcsContainer,
                    other => {
                        return Err(Error::new(format!(
                            "profile {current}: credential_source = {other} is not one of Environment, \
                             Ec2InstanceMetadata, EcsContainer"
                        )))
                    }
                };
                break Base::CredentialSource { profile: current.clone(), source };
            }
            (None, None) => {
                return Err(Error::new(format!(
                    "profile {current} has role_arn but no source_profile or credential_source to assume it with"
                )))
            }
        }
    };
    steps.reverse();
    step_profiles.reverse();
    Ok(Walk { base, steps, step_profiles })
}

/// The MFA devices of a chain, as the AWS CLI applies them: each role profile's own
/// `mfa_serial` goes with its own AssumeRole. The base profile's `mfa_serial` applies to the
/// first role when that role's profile declares none (aws-vault style: a GetSessionToken
/// device). A device declared again higher up has already entered below: one code serves it.
fn find_mfa(profiles: &Profiles, w: &Walk) -> Result<Vec<Mfa>> {
    let serial_of = |p: &str| prop(profiles, p, "mfa_serial");
    // (profile, step) from the base upwards.
    let mut levels: Vec<(&str, usize)> = w.base.profile().map(|p| (p, 0)).into_iter().collect();
    levels.extend(w.step_profiles.iter().enumerate().map(|(i, p)| (p.as_str(), i)));
    let first_role_serial = w.step_profiles.first().and_then(|p| serial_of(p));
    let mut devices: Vec<Mfa> = Vec::new();
    for (k, &(profile, step)) in levels.iter().enumerate() {
        let Some(serial) = serial_of(profile) else { continue };
        check_mfa_serial(profile, serial)?;
        // A first role declaring another device than its base: its own wins (as the AWS CLI and
        // aws-vault do); the same device stays the base's (one GetSessionToken serves it).
        let base_overridden = k == 0 && w.base.profile().is_some() && first_role_serial.is_some_and(|f| f != serial);
        if base_overridden || devices.iter().any(|d| d.serial == serial) {
            continue;
        }
        // mfa_process: on the same profile, else inherited from a profile below it that names no
        // other device (another device's command prints that device's codes).
        let mfa_process = levels[..=k]
            .iter()
            .rev()
            .filter(|(p, _)| serial_of(p).is_none_or(|s| s == serial))
            .find_map(|(p, _)| prop(profiles, p, "mfa_process"))
            .map(str::to_string);
        devices.push(Mfa { serial: serial.to_string(), mfa_process, profile: profile.to_string(), step });
    }
    Ok(devices)
}

pub struct PlanInputs<'a> {
    pub config: &'a PluginConfig,
    pub profiles: &'a Profiles,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Build the plan for one account and mode; `Ok(None)` when the configuration does not map it.
pub fn plan_for(inputs: &PlanInputs<'_>, account: &str, mode: Mode) -> Result<Option<Plan>> {
    match inputs.config.route(account, mode) {
        None => Ok(None),
        Some(Route::Profile(name)) => plan_for_profile(inputs, name).map(Some),
        Some(Route::Convention(ar)) => plan_for_convention(inputs, ar, account, mode).map(Some),
    }
}

/// The kind of the base credentials, naming their profile when it is not `named` itself.
fn source_of(inputs: &PlanInputs<'_>, base: &Base, named: Option<&str>) -> String {
    let kind = crate::source::kind(base, inputs.profiles, inputs.env);
    match base.profile() {
        Some(p) if Some(p) != named => format!("{kind} of profile {p}"),
        _ => kind,
    }
}

pub fn plan_for_profile(inputs: &PlanInputs<'_>, name: &str) -> Result<Plan> {
    let w = walk(inputs.profiles, name)?;
    let mfa = find_mfa(inputs.profiles, &w)?;
    Ok(Plan {
        region: region_from(prop(inputs.profiles, name, "region"), inputs.env),
        endpoint_profile: Some(name.to_string()),
        target: format!("profile {name}"),
        source: source_of(inputs, &w.base, Some(name)),
        base: w.base,
        mfa,
        steps: w.steps,
    })
}

fn plan_for_convention(inputs: &PlanInputs<'_>, ar: &AssumeRoleConfig, account: &str, mode: Mode) -> Result<Plan> {
    let (base, mut steps, mfa, profile_region) = match &ar.source_profile {
        Some(src) => {
            let w = walk(inputs.profiles, src).map_err(|e| e.context(format!("assumeRole.sourceProfile = {src}")))?;
            let mfa = find_mfa(inputs.profiles, &w)?;
            (w.base, w.steps, mfa, prop(inputs.profiles, src, "region"))
        }
        None => (Base::DefaultChain, Vec::new(), Vec::new(), None),
    };
    let region = ar.region.clone().unwrap_or_else(|| region_from(profile_region, inputs.env));
    let role_arn = arn::role_arn(ar.role_name(mode), account, &region);
    steps.push(RoleStep {
        role_arn: role_arn.clone(),
        profile: None,
        external_id: ar.external_id.clone(),
        session_name: ar.role_session_name.clone(),
        duration_seconds: ar.duration_seconds,
    });
    let via = match &ar.source_profile {
        Some(src) => format!("profile {src}"),
        None => "the default credentials".to_string(),
    };
    Ok(Plan {
        source: source_of(inputs, &base, ar.source_profile.as_deref()),
        base,
        mfa,
        steps,
        region,
        endpoint_profile: ar.source_profile.clone(),
        target: format!("role {role_arn} via {via}"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{Accounts, MfaStrategy, ProfileMapping};
    use aws_types::os_shim_internal::{Env, Fs};
    use std::collections::BTreeMap;

    pub(crate) fn profiles(config: &str) -> Profiles {
        let fs = Fs::from_slice(&[("/home/u/.aws/config", config)]);
        let env = Env::from_slice(&[("HOME", "/home/u")]);
        futures_lite_block_on(Profiles::load(&env, &fs)).unwrap()
    }

    fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn only(devices: &[Mfa]) -> &Mfa {
        assert_eq!(devices.len(), 1, "{devices:?}");
        &devices[0]
    }

    fn config(maps: &[(&str, &str)], assume_role: Option<AssumeRoleConfig>) -> PluginConfig {
        PluginConfig {
            aws_profiles: maps
                .iter()
                .map(|(a, p)| {
                    (a.to_string(), ProfileMapping { read: p.to_string(), write: p.to_string(), file: "x".into() })
                })
                .collect::<BTreeMap<_, _>>(),
            assume_role,
            mfa_session_duration_seconds: 43_200,
            mfa_strategy: MfaStrategy::Auto,
            mfa_prompt: Default::default(),
            files_read: vec![],
        }
    }

    fn plan(config_text: &str, profile: &str) -> Result<Plan> {
        let p = profiles(config_text);
        let c = config(&[("111111111111", profile)], None);
        let inputs = PlanInputs { config: &c, profiles: &p, env: &no_env };
        plan_for(&inputs, "111111111111", Mode::Read).map(|p| p.unwrap())
    }

    const CHAIN: &str = "
[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = secret
region = eu-west-1

[profile middle]
role_arn = arn:aws:iam::222222222222:role/middle
source_profile = base
mfa_serial = arn:aws:iam::111111111111:mfa/me
external_id = ext-1
duration_seconds = 1800

[profile top]
role_arn = arn:aws:iam::333333333333:role/top
source_profile = middle
role_session_name = me-top
region = eu-central-1
";

    #[test]
    fn static_keys() {
        let p = plan(CHAIN, "base").unwrap();
        assert_eq!(
            p.base,
            Base::StaticKeys { profile: "base".into(), access_key_id: "AKIABASE".into(), temporary: false }
        );
        assert!(p.steps.is_empty());
        assert!(p.mfa.is_empty());
        assert_eq!(p.region, "eu-west-1");
        assert_eq!(p.to_string(), "static long-term keys of profile base [region eu-west-1]");
    }

    #[test]
    fn chain_of_two_roles_with_mfa_on_the_middle() {
        let p = plan(CHAIN, "top").unwrap();
        assert_eq!(p.steps.len(), 2);
        assert_eq!(p.steps[0].role_arn, "arn:aws:iam::222222222222:role/middle");
        assert_eq!(p.steps[0].external_id.as_deref(), Some("ext-1"));
        assert_eq!(p.steps[0].duration_seconds, Some(1800));
        assert_eq!(p.steps[1].role_arn, "arn:aws:iam::333333333333:role/top");
        assert_eq!(p.steps[1].session_name.as_deref(), Some("me-top"));
        let mfa = only(&p.mfa).clone();
        assert_eq!(
            (mfa.serial.as_str(), mfa.profile.as_str(), mfa.step),
            ("arn:aws:iam::111111111111:mfa/me", "middle", 0)
        );
        assert_eq!(p.region, "eu-central-1");
        assert_eq!(
            p.to_string(),
            "static long-term keys of profile base | MFA arn:aws:iam::111111111111:mfa/me (from profile middle) \
             → arn:aws:iam::222222222222:role/middle → arn:aws:iam::333333333333:role/top [region eu-central-1]"
        );
    }

    #[test]
    fn mfa_serial_inherited_from_source_profile() {
        let p = plan(
            "[profile src]\naws_access_key_id=A\naws_secret_access_key=s\nmfa_serial=arn:aws:iam::111111111111:mfa/u\nmfa_process=echo 123456\n\
             [profile r]\nrole_arn=arn:aws:iam::222222222222:role/r\nsource_profile=src\n",
            "r",
        )
        .unwrap();
        let mfa = only(&p.mfa);
        assert_eq!(mfa.profile, "src");
        assert_eq!(mfa.step, 0);
        assert_eq!(mfa.mfa_process.as_deref(), Some("echo 123456"));
    }

    /// `top` (role B) → `mid` (role A) → `base` (keys), with the given extra lines per profile.
    fn chain(base: &str, mid: &str, top: &str) -> String {
        format!(
            "[profile base]\naws_access_key_id=A\naws_secret_access_key=s\n{base}\n\
             [profile mid]\nrole_arn=arn:aws:iam::111111111111:role/A\nsource_profile=base\n{mid}\n\
             [profile top]\nrole_arn=arn:aws:iam::222222222222:role/B\nsource_profile=mid\n{top}\n"
        )
    }

    const X: &str = "arn:aws:iam::999999999999:mfa/x";
    const Y: &str = "arn:aws:iam::999999999999:mfa/y";

    fn devices(p: &Plan) -> Vec<(&str, &str, usize, Option<&str>)> {
        p.mfa.iter().map(|m| (m.serial.as_str(), m.profile.as_str(), m.step, m.mfa_process.as_deref())).collect()
    }

    #[test]
    fn two_devices_in_a_chain_each_enter_at_the_role_of_their_profile() {
        let cfg = chain("", &format!("mfa_serial={Y}\nmfa_process=echo 111111"), &format!("mfa_serial={X}"));
        let p = plan(&cfg, "top").unwrap();
        // Before: only Y (the device nearest the base); top's X was dropped.
        assert_eq!(devices(&p), [(Y, "mid", 0, Some("echo 111111")), (X, "top", 1, None)]);
        assert_eq!((p.mfa_at(1).unwrap().serial.as_str(), p.mfa_below(1).unwrap().serial.as_str()), (X, X));
        assert_eq!((p.first_mfa().unwrap().serial.as_str(), p.mfa_below(0).unwrap().serial.as_str()), (Y, Y));
        assert!(p.to_string().contains(&format!("| MFA {Y} (from profile mid) | MFA {X} (from profile top) →")), "{p}");
        // mid alone: the same first device at the same step (its cached role A serves top).
        assert_eq!(devices(&plan(&cfg, "mid").unwrap()), [(Y, "mid", 0, Some("echo 111111"))]);
        // A device on the base and another on the top role: both.
        let p = plan(&chain(&format!("mfa_serial={Y}"), "", &format!("mfa_serial={X}")), "top").unwrap();
        assert_eq!(devices(&p), [(Y, "base", 0, None), (X, "top", 1, None)]);
        // Only the top role declares one: it enters there, whatever sits below (the issue-12.4 case).
        let p = plan(&chain("", "", &format!("mfa_serial={X}\nmfa_process=echo 222222")), "top").unwrap();
        assert_eq!(devices(&p), [(X, "top", 1, Some("echo 222222"))]);
        assert_eq!(p.mfa_below(0), None);
    }

    #[test]
    fn one_device_declared_at_several_levels_enters_once_nearest_the_base() {
        let both = chain("", &format!("mfa_serial={X}"), &format!("mfa_serial={X}"));
        assert_eq!(devices(&plan(&both, "top").unwrap()), [(X, "mid", 0, None)]);
        let all = chain(
            &format!("mfa_serial={X}\nmfa_process=echo 1"),
            &format!("mfa_serial={X}"),
            &format!("mfa_serial={X}"),
        );
        assert_eq!(devices(&plan(&all, "top").unwrap()), [(X, "base", 0, Some("echo 1"))]);
        // The common single-device chain is as before: the base's device, for the first role.
        let base_only = chain(&format!("mfa_serial={X}"), "", "");
        assert_eq!(devices(&plan(&base_only, "top").unwrap()), [(X, "base", 0, None)]);
    }

    #[test]
    fn a_first_role_declaring_another_device_than_its_base_uses_its_own() {
        // As the AWS CLI (the role's mfa_serial goes on its AssumeRole) and aws-vault (no
        // GetSessionToken when the serials differ) do; before, the base's Y won and X was dropped.
        let cfg = chain(&format!("mfa_serial={Y}\nmfa_process=echo base-device"), &format!("mfa_serial={X}"), "");
        assert_eq!(devices(&plan(&cfg, "mid").unwrap()), [(X, "mid", 0, None)], "Y's mfa_process prints Y's codes");
        assert_eq!(devices(&plan(&cfg, "base").unwrap()), [(Y, "base", 0, Some("echo base-device"))]);
        // A base naming no device still lends its mfa_process to the first role's device.
        let cfg = chain("mfa_process=echo 123456", &format!("mfa_serial={X}"), "");
        assert_eq!(devices(&plan(&cfg, "mid").unwrap()), [(X, "mid", 0, Some("echo 123456"))]);
    }

    #[test]
    fn source_loop_names_the_cycle() {
        let e = plan(
            "[profile a]\nrole_arn=arn:aws:iam::1:role/a\nsource_profile=b\n[profile b]\nrole_arn=arn:aws:iam::1:role/b\nsource_profile=c\n[profile c]\nrole_arn=arn:aws:iam::1:role/c\nsource_profile=a\n",
            "a",
        )
        .unwrap_err();
        assert!(e.message().contains("source_profile loop a → b → c → a"), "{e}");
    }

    #[test]
    fn missing_profile_lists_existing_ones() {
        let e = plan(CHAIN, "nope").unwrap_err();
        assert!(e.message().contains("\"nope\" does not exist"), "{e}");
        assert!(e.message().contains("/home/u/.aws/config"), "{e}");
        assert!(e.message().contains("base, middle, top"), "{e}");
    }

    #[test]
    fn source_profile_pointing_nowhere() {
        let e = plan("[profile r]\nrole_arn=arn:aws:iam::1:role/r\nsource_profile=ghost\n", "r").unwrap_err();
        assert!(e.message().contains("profile r has source_profile = ghost"), "{e}");
        assert!(e.message().contains("\"ghost\" does not exist"), "{e}");
    }

    #[test]
    fn role_without_source() {
        let e = plan("[profile r]\nrole_arn=arn:aws:iam::1:role/r\n", "r").unwrap_err();
        assert!(e.message().contains("no source_profile or credential_source"), "{e}");
    }

    #[test]
    fn credential_source_sso_process_web_identity() {
        let cfg = "
[profile env]
role_arn = arn:aws:iam::222222222222:role/r
credential_source = Environment
[profile sso]
sso_session = s
sso_account_id = 111111111111
sso_role_name = Admin
[sso-session s]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
[profile legacy-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = Admin
[profile proc]
credential_process = /bin/echo x
[profile wi]
role_arn = arn:aws:iam::222222222222:role/wi
web_identity_token_file = /tmp/token
[profile bad-cs]
role_arn = arn:aws:iam::222222222222:role/r
credential_source = Somewhere
";
        let p = plan(cfg, "env").unwrap();
        assert_eq!(p.base, Base::CredentialSource { profile: "env".into(), source: CredentialSource::Environment });
        assert_eq!(p.steps.len(), 1);
        assert_eq!(plan(cfg, "sso").unwrap().base, Base::Profile { profile: "sso".into(), kind: ProfileKind::Sso });
        assert_eq!(plan(cfg, "legacy-sso").unwrap().base.long_term_hint(), Some(false));
        let proc_ = plan(cfg, "proc").unwrap();
        assert_eq!(proc_.base, Base::Profile { profile: "proc".into(), kind: ProfileKind::CredentialProcess });
        assert_eq!(proc_.base.long_term_hint(), None);
        let wi = plan(cfg, "wi").unwrap();
        assert_eq!(wi.base, Base::Profile { profile: "wi".into(), kind: ProfileKind::WebIdentity });
        assert!(wi.steps.is_empty());
        assert!(plan(cfg, "bad-cs").unwrap_err().message().contains("Somewhere"));
    }

    #[test]
    fn login_session_as_mapped_profile_role_source_and_convention_source() {
        let cfg = "
[profile console]
login_session = arn:aws:iam::111111111111:user/dev
region = eu-west-1
[profile admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = console
mfa_serial = arn:aws:iam::111111111111:mfa/dev
";
        let direct = plan(cfg, "console").unwrap();
        assert_eq!(direct.base, Base::Profile { profile: "console".into(), kind: ProfileKind::Login });
        assert!(direct.steps.is_empty());
        assert_eq!(direct.source, "login session");
        // Temporary credentials: MFA goes on the AssumeRole of the profile that declares it.
        let role = plan(cfg, "admin").unwrap();
        assert_eq!(role.base.long_term_hint(), Some(false));
        assert_eq!(role.steps[0].role_arn, "arn:aws:iam::222222222222:role/Admin");
        let mfa = only(&role.mfa);
        assert_eq!((mfa.profile.as_str(), mfa.step), ("admin", 0));
        assert_eq!(role.source, "login session of profile console");
        let p = profiles(cfg);
        let c = config(&[], Some(convention(Some("console"))));
        let conv = plan_for(&PlanInputs { config: &c, profiles: &p, env: &no_env }, "444444444444", Mode::Write)
            .unwrap()
            .unwrap();
        assert_eq!(conv.base, Base::Profile { profile: "console".into(), kind: ProfileKind::Login });
        assert_eq!(conv.region, "eu-west-1");
        assert_eq!(conv.source, "login session");
        let e = plan("[profile empty]\nregion = us-east-1\n", "empty").unwrap_err();
        assert!(e.message().contains("login_session (aws login)"), "{e}");
    }

    #[test]
    fn source_with_keys_and_role_uses_its_keys_self_reference_too() {
        let cfg = "
[profile src]
aws_access_key_id = AKIASRC
aws_secret_access_key = s
role_arn = arn:aws:iam::999999999999:role/ignored-as-source
source_profile = nowhere
[profile r]
role_arn = arn:aws:iam::222222222222:role/r
source_profile = src
[profile selfie]
aws_access_key_id = AKIASELF
aws_secret_access_key = s
role_arn = arn:aws:iam::222222222222:role/selfie
source_profile = selfie
";
        let p = plan(cfg, "r").unwrap();
        assert_eq!(p.steps.len(), 1);
        assert!(matches!(p.base, Base::StaticKeys { ref profile, .. } if profile == "src"));
        let s = plan(cfg, "selfie").unwrap();
        assert_eq!(s.steps[0].role_arn, "arn:aws:iam::222222222222:role/selfie");
        assert!(matches!(s.base, Base::StaticKeys { ref access_key_id, .. } if access_key_id == "AKIASELF"));
    }

    #[test]
    fn session_token_makes_static_keys_temporary() {
        let p =
            plan("[profile t]\naws_access_key_id=ASIA\naws_secret_access_key=s\naws_session_token=tok\n", "t").unwrap();
        assert_eq!(p.base.long_term_hint(), Some(false));
    }

    #[test]
    fn malformed_mfa_serial_and_duration() {
        let e =
            plan("[profile t]\naws_access_key_id=A\naws_secret_access_key=s\nmfa_serial=my-phone\n", "t").unwrap_err();
        assert!(e.message().contains("mfa_serial \"my-phone\""), "{e}");
        let e =
            plan("[profile t]\naws_access_key_id=A\naws_secret_access_key=s\nmfa_serial=arn:aws:iam::1:user/x\n", "t")
                .unwrap_err();
        assert!(e.message().contains("not an MFA device ARN"), "{e}");
        assert!(check_mfa_serial("p", "GAHT12345678").is_ok());
        let e = plan(
            "[profile s]\naws_access_key_id=A\naws_secret_access_key=s\n[profile t]\nrole_arn=arn:aws:iam::1:role/x\nsource_profile=s\nduration_seconds=forever\n",
            "t",
        )
        .unwrap_err();
        assert!(e.message().contains("duration_seconds = forever"), "{e}");
    }

    #[test]
    fn region_precedence() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("eu-north-1".to_string()),
            "AWS_DEFAULT_REGION" => Some("ap-south-1".to_string()),
            _ => None,
        };
        assert_eq!(region_from(Some("us-west-2"), &env), "us-west-2");
        assert_eq!(region_from(None, &env), "eu-north-1");
        let only_default = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "ap-south-1".to_string());
        assert_eq!(region_from(None, &only_default), "ap-south-1");
        assert_eq!(region_from(None, &no_env), "us-east-1");
    }

    fn convention(source: Option<&str>) -> AssumeRoleConfig {
        AssumeRoleConfig {
            source_profile: source.map(str::to_string),
            read_role_name: "cdk-readOnlyRole".into(),
            write_role_name: "ops/cdk-writeRole-{ACCOUNT_ID}".into(),
            accounts: Accounts::All,
            external_id: Some("ext".into()),
            role_session_name: None,
            duration_seconds: Some(3600),
            region: None,
        }
    }

    #[test]
    fn convention_with_default_chain_and_profiles_winning() {
        let p = profiles(CHAIN);
        let c = config(&[("111111111111", "base")], Some(convention(None)));
        let inputs = PlanInputs { config: &c, profiles: &p, env: &no_env };
        let read = plan_for(&inputs, "444444444444", Mode::Read).unwrap().unwrap();
        assert_eq!(read.base, Base::DefaultChain);
        assert_eq!(read.steps.len(), 1);
        assert_eq!(read.steps[0].role_arn, "arn:aws:iam::444444444444:role/cdk-readOnlyRole");
        assert_eq!(read.steps[0].external_id.as_deref(), Some("ext"));
        let write = plan_for(&inputs, "444444444444", Mode::Write).unwrap().unwrap();
        assert_eq!(write.steps[0].role_arn, "arn:aws:iam::444444444444:role/ops/cdk-writeRole-444444444444");
        assert_eq!(
            write.target,
            "role arn:aws:iam::444444444444:role/ops/cdk-writeRole-444444444444 via the default credentials"
        );
        let mapped = plan_for(&inputs, "111111111111", Mode::Write).unwrap().unwrap();
        assert_eq!(mapped.target, "profile base");
    }

    #[test]
    fn convention_through_an_mfa_source_profile_in_china() {
        let p = profiles(
            "[profile shared]\naws_access_key_id=A\naws_secret_access_key=s\nmfa_serial=arn:aws-cn:iam::111111111111:mfa/u\nregion=cn-north-1\n",
        );
        let c = config(&[], Some(convention(Some("shared"))));
        let inputs = PlanInputs { config: &c, profiles: &p, env: &no_env };
        let plan = plan_for(&inputs, "555555555555", Mode::Read).unwrap().unwrap();
        assert_eq!(plan.steps[0].role_arn, "arn:aws-cn:iam::555555555555:role/cdk-readOnlyRole");
        assert_eq!(only(&plan.mfa).step, 0);
        assert_eq!(plan.region, "cn-north-1");
    }
}
