//! `cdk-mfa-rs doctor` and its checks: configuration files, AWS profiles and their plans, where
//! MFA codes come from, the cache directory, the CDK CLI version and plugin loading. Each finding
//! is OK, WARN or FAIL with its fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aws_types::os_shim_internal::{Env, Fs};
use chrono::Utc;
use serde_json::Value;

use crate::cache::{self, AclCheck, DiskCache, Entry};
use crate::config::{self, Accounts, ConfigInputs, Mode};
use crate::plan::{self, Plan, PlanInputs};
use crate::profiles::Profiles;
use crate::prompt::{self, Availability};

use super::project::{covers_every_account, mapped_accounts, mfa_session_entry, session_entry, unmapped_example};
use super::{fail, mode_name, print, when, CliResult};
use crate::env_var;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Finding {
    level: Level,
    what: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn ok(&mut self, what: impl Into<String>) {
        self.0.push(Finding { level: Level::Ok, what: what.into(), fix: None });
    }
    fn warn(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { level: Level::Warn, what: what.into(), fix: Some(fix.into()) });
    }
    fn fail(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { level: Level::Fail, what: what.into(), fix: Some(fix.into()) });
    }
}

pub(super) async fn doctor() -> CliResult<()> {
    let mut r = Report::default();
    let inputs = ConfigInputs::from_process();
    let home = crate::home_dir();

    // 1. Configuration files: JSON syntax first (file:line:col), then the settings.
    let mut candidates = vec![inputs.cwd.join("package.json"), inputs.cwd.join("cdkmultiprofileplugin.json")];
    candidates.extend(inputs.global_config_path());
    candidates.push(inputs.cwd.join("cdk.json"));
    candidates.push(inputs.cwd.join("cdk.context.json"));
    let mut syntax_ok = true;
    for path in &candidates {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        if let Err(e) = serde_json::from_str::<Value>(config::without_bom(&text)) {
            syntax_ok = false;
            let msg = e.to_string();
            let msg = msg.find(" at line ").map_or(msg.as_str(), |i| &msg[..i]).to_string();
            r.fail(
                format!("{}:{}:{}: invalid JSON: {msg}", path.display(), e.line(), e.column()),
                "correct the JSON at that line and column (a trailing comma or a missing quote is the usual cause)",
            );
        }
    }
    let config = if syntax_ok {
        match config::load(&inputs) {
            Ok(c) => {
                let files = if c.files_read.is_empty() {
                    "no configuration file found".to_string()
                } else {
                    c.files_read.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
                };
                let n = mapped_accounts(&c).len();
                if n == 0 && c.assume_role.is_none() {
                    r.warn(
                        format!("configuration: no account is mapped ({files})"),
                        "add \"awsProfiles\": {\"<account id>\": \"<profile>\"} to cdkmultiprofileplugin.json, or an \
                         \"assumeRole\" section",
                    );
                } else {
                    let every = if covers_every_account(&c) { " + assumeRole for every other account" } else { "" };
                    r.ok(format!("configuration: {n} account(s) mapped{every} ({files})"));
                }
                Some(c)
            }
            Err(e) => {
                r.fail(format!("configuration: {e}"), "correct the setting named above");
                None
            }
        }
    } else {
        None
    };
    for var in ["CDK_MFA_RS_DISABLE", "IGNORE_CDK_MULTI_PROFILE_PLUGIN"] {
        if config::disabled_by(std::env::var(var).ok().as_deref()) {
            r.warn(format!("{var} is set: the plugin gives the CDK CLI no credentials"), format!("unset {var}"));
        }
    }

    // 2. AWS profiles and every mapped profile's plan.
    let profiles = match Profiles::load(&Env::real(), &Fs::real()).await {
        Ok(p) => {
            r.ok(format!("AWS profiles: read {}", p.files.join(" and ")));
            // The AWS CLI reads some of these; the plugin cannot (aws-config drops them silently).
            const SHOWN: usize = 5;
            for s in p.skipped.iter().take(SHOWN) {
                r.warn(
                    format!("AWS profile \"{}\" ({}) is skipped: {}", s.name, s.at, s.why),
                    "rename the section (and any mapping or source_profile naming it)",
                );
            }
            if p.skipped.len() > SHOWN {
                r.warn(format!("{} more AWS profile sections are skipped", p.skipped.len() - SHOWN), "see above");
            }
            Some(p)
        }
        Err(e) => {
            r.fail(e.message().to_string(), "correct the AWS config or credentials file at the line named");
            None
        }
    };
    let cache_dir = cache::default_dir(home.as_deref());
    let entries: Vec<Entry> = cache_dir
        .as_deref()
        .map(|d| DiskCache::at(d).list().into_iter().filter_map(|(_, e)| e.ok()).collect())
        .unwrap_or_default();
    if let (Some(c), Some(profiles)) = (&config, &profiles) {
        let inputs = PlanInputs { config: c, profiles, env: &env_var };
        let mut plans: Vec<Plan> = Vec::new();
        // Base profiles whose sign-in (SSO, `aws login`) was checked, each once.
        let mut signed_in: BTreeSet<String> = BTreeSet::new();
        // awsProfiles: each distinct profile once, with the accounts it serves.
        let mut by_profile: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (account, m) in &c.aws_profiles {
            for (mode, name) in [("read", m.read.as_str()), ("write", m.write.as_str())] {
                by_profile.entry(name).or_default().push(format!("{account} {mode}"));
            }
        }
        for (name, uses) in by_profile {
            let uses = uses.join(", ");
            match plan::plan_for_profile(&inputs, name) {
                Ok(plan) => {
                    r.ok(format!("profile {name} ({uses}): {plan}"));
                    check_sign_in(&mut r, &plan, profiles, &mut signed_in);
                    plans.push(plan);
                }
                Err(e) => {
                    r.fail(format!("profile {name} ({uses}): {e}"), "fix the AWS config (~/.aws/config) or the mapping")
                }
            }
        }
        // The convention: its source profile, checked with an example account.
        if let Some(ar) = &c.assume_role {
            let example = match &ar.accounts {
                Accounts::List(l) => l.iter().find(|a| !c.aws_profiles.contains_key(*a)).cloned(),
                Accounts::All => Some(unmapped_example(c)),
            };
            let src =
                ar.source_profile.as_ref().map_or("the default credentials".to_string(), |s| format!("profile {s}"));
            if let Some(account) = example {
                for mode in [Mode::Read, Mode::Write] {
                    match plan::plan_for(&inputs, &account, mode) {
                        Ok(Some(plan)) => {
                            let shown = match ar.accounts {
                                Accounts::All => plan.to_string().replace(&account, "{ACCOUNT}"),
                                Accounts::List(_) => format!("e.g. {plan}"),
                            };
                            r.ok(format!(
                                "assumeRole ({}): role {} via {src}: {shown}",
                                mode_name(mode),
                                ar.role_name(mode)
                            ));
                            if mode == Mode::Write {
                                check_sign_in(&mut r, &plan, profiles, &mut signed_in);
                            }
                            plans.push(plan);
                        }
                        Ok(None) => {}
                        Err(e) => r.fail(
                            format!("assumeRole ({}): {e}", mode_name(mode)),
                            "fix assumeRole.sourceProfile or that AWS profile",
                        ),
                    }
                }
            }
        }
        // MFA devices (each once): where their codes come from here.
        let mut devices: BTreeMap<String, Vec<&Plan>> = BTreeMap::new();
        for plan in &plans {
            for mfa in &plan.mfa {
                devices.entry(mfa.serial.clone()).or_default().push(plan);
            }
        }
        for (serial, plans) in devices {
            let names: BTreeSet<&str> =
                plans.iter().flat_map(|p| &p.mfa).filter(|m| m.serial == serial).map(|m| m.profile.as_str()).collect();
            let names = names.into_iter().collect::<Vec<_>>().join(", ");
            let process =
                plans.iter().flat_map(|p| &p.mfa).filter(|m| m.serial == serial).find_map(|m| m.mfa_process.clone());
            // Second in a chain for some plan: its code goes on a role above the chain's first device.
            let first_of = |p: &Plan| p.first_mfa().is_some_and(|m| m.serial == serial);
            let later_in_a_chain = plans.iter().any(|p| !first_of(p));
            let cached = plans
                .iter()
                .filter_map(|p| {
                    // Only a chain's first device has a GetSessionToken session of its own.
                    let session = if first_of(p) { mfa_session_entry(p, entries.iter()) } else { None };
                    session.or_else(|| session_entry(p, entries.iter()))
                })
                .filter_map(|e| e.credentials.expiration)
                .max()
                .filter(|t| *t > Utc::now())
                .map_or(String::new(), |t| format!("; cached session {}", when(t)));
            let device = format!("MFA device {serial} (profile {names})");
            match env_var("CDK_MFA_CODE") {
                Some(code) if !crate::mfa::is_valid_code(code.trim()) => r.fail(
                    format!("{device}: CDK_MFA_CODE is set but is not a 6-digit code"),
                    "set CDK_MFA_CODE to the current 6-digit code, or unset it to be prompted",
                ),
                Some(_) if later_in_a_chain && process.is_none() => r.warn(
                    format!("{device}: CDK_MFA_CODE serves one STS call, which a device below it in the chain takes{cached}"),
                    format!("add mfa_process = <command that prints the code> to profile {names} in your AWS config"),
                ),
                Some(_) => r.ok(format!("{device}: code from CDK_MFA_CODE (one STS call per process){cached}")),
                None => {
                    // Not the command itself: users keep TOTP seeds in it.
                    let method = config.as_ref().map_or(prompt::Method::default(), |c| c.mfa_prompt);
                    if process.is_some() {
                        r.ok(format!("{device}: code from the mfa_process of profile {names}{cached}"));
                    } else {
                        match prompt::availability(method) {
                            Availability::Terminal => r.ok(format!("{device}: code asked on this terminal{cached}")),
                            Availability::Dialog(program) => {
                                r.ok(format!("{device}: code asked in a dialog ({program}){cached}"))
                            }
                            Availability::Nowhere { why, for_a_dialog } => r.warn(
                                format!("{device}: {why}, no CDK_MFA_CODE and no mfa_process{cached}"),
                                format!(
                                    "set CDK_MFA_CODE to the current code for one run, or add mfa_process = <command \
                                     that prints the code> to profile {names} in your AWS config{}",
                                    for_a_dialog.map_or(String::new(), |d| format!("; for a dialog, {d}"))
                                ),
                            ),
                        }
                    }
                }
            }
        }
    }

    // 3. The cache directory.
    check_cache_dir(&mut r, cache_dir.as_deref());

    // 4. The CDK CLI: version, and whether the `cdk` on PATH can load the plugin by name.
    check_cdk_version(&mut r, &inputs.cwd);
    check_plugin_loading(&mut r, &inputs.cwd, home.as_deref());

    let mut text = String::new();
    for f in &r.0 {
        let tag = match f.level {
            Level::Ok => "OK  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        text += &format!("{tag}  {}\n", f.what);
        if let Some(fix) = &f.fix {
            text += &format!("      fix: {fix}\n");
        }
    }
    let count = |l: Level| r.0.iter().filter(|f| f.level == l).count();
    let (ok, warn, failed) = (count(Level::Ok), count(Level::Warn), count(Level::Fail));
    text += &format!("\n{ok} OK, {warn} WARN, {failed} FAIL\n");
    print(&text);
    if failed > 0 {
        return Err(fail(format!("doctor found {failed} problem{} marked FAIL", if failed == 1 { "" } else { "s" })));
    }
    Ok(())
}

/// An SSO or `aws login` base (each once): is its sign-in usable now, else the command that fixes it.
fn check_sign_in(r: &mut Report, plan: &Plan, profiles: &Profiles, seen: &mut BTreeSet<String>) {
    let Some(profile) = plan.base.profile().filter(|p| seen.insert(p.to_string())) else { return };
    let Some(command) = crate::source::sign_in_command(&plan.base) else { return };
    let what = format!("sign-in of profile {profile}");
    match crate::source::check_sign_in(&plan.base, profiles, &crate::source::Caches::from_process(), Utc::now()) {
        Ok(Some(state)) => r.ok(format!("{what}: {state}")),
        Ok(None) => {}
        Err(e) => {
            let problem = e.message().strip_suffix(&format!("; run `{command}`")).unwrap_or(e.message());
            r.fail(format!("{what}: {problem}"), format!("run `{command}`"))
        }
    }
}

fn check_cache_dir(r: &mut Report, dir: Option<&Path>) {
    let Some(dir) = dir else {
        r.warn(
            "cache: HOME and CDK_MFA_RS_CACHE_DIR are not set, so sessions are not kept between runs",
            "set HOME, or CDK_MFA_RS_CACHE_DIR to a private directory",
        );
        return;
    };
    let d = dir.display();
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            r.fail(format!("cache: {d} is not a directory"), "remove it, or set CDK_MFA_RS_CACHE_DIR elsewhere")
        }
        Ok(meta) => {
            let mut fine = true;
            let scan = DiskCache::at(dir).scan();
            let (other_owner, shared_mode) = cache::owner_and_mode(&meta);
            if let Some(uid) = other_owner {
                fine = false;
                r.fail(
                    format!(
                        "cache: {d} belongs to another user (uid {uid}), who could plant or read sessions there: the \
                         plugin does not use it, so every run asks for an MFA code"
                    ),
                    "set CDK_MFA_RS_CACHE_DIR to a directory of your own",
                );
            } else if let Some(mode) = shared_mode {
                fine = false;
                if scan.others > 0 {
                    r.warn(
                        format!(
                            "cache: {d} is open to others (mode {mode:o}) and holds files that are not cdk-mfa-rs's \
                             ({}): the plugin leaves its mode alone and does not use it",
                            scan.others_text()
                        ),
                        "set CDK_MFA_RS_CACHE_DIR to a directory of its own",
                    );
                } else {
                    r.warn(
                        format!("cache: {d} is readable by others (mode {mode:o}); it holds session credentials"),
                        format!("chmod 700 {d} (the plugin also does it on its next run)"),
                    );
                }
            }
            // Windows: the folder's ACL says who else can read it.
            let mut protected_by = String::new();
            match cache::acl_check(dir) {
                None => {}
                Some(AclCheck::Private(by)) => protected_by = format!("{by}; "),
                Some(AclCheck::Exposed { problem, fix }) => {
                    fine = false;
                    r.warn(format!("cache: {problem}"), fix);
                }
                Some(AclCheck::Unknown(why)) => {
                    fine = false;
                    r.warn(
                        format!("cache: cannot tell who else can read it: {why}"),
                        "set CDK_MFA_RS_CACHE_DIR to a folder of your own",
                    );
                }
            }
            if !writable(dir) {
                fine = false;
                r.fail(
                    format!("cache: {d} is not writable: sessions cannot be cached, every run asks for an MFA code"),
                    format!("chmod u+rwx {d}, or set CDK_MFA_RS_CACHE_DIR to a writable directory"),
                );
            }
            let (ours_bad, not_ours) = scan.entries.iter().fold((0, 0), |(o, n), f| match &f.entry {
                Ok(_) => (o, n),
                Err(u) if u.ours => (o + 1, n),
                Err(_) => (o, n + 1),
            });
            if ours_bad > 0 {
                fine = false;
                r.warn(
                    format!(
                        "cache: {} in {d} (they are replaced when next needed)",
                        plural(ours_bad, "unusable entr", "y", "ies")
                    ),
                    "cdk-mfa-rs logout --all",
                );
            }
            if not_ours > 0 {
                fine = false;
                r.warn(
                    format!(
                        "cache: {} named like cache entries in {d} but not written by cdk-mfa-rs (never read or removed)",
                        plural(not_ours, "file", "", "s")
                    ),
                    "look at them, and remove them by hand if they are yours",
                );
            }
            if !scan.stale_temps.is_empty() {
                fine = false;
                r.warn(
                    format!(
                        "cache: {} of an entry in {d} (a process died while writing; one may hold a session)",
                        plural(scan.stale_temps.len(), "unfinished write", "", "s")
                    ),
                    "cdk-mfa-rs logout --all (the plugin also removes them on its next run)",
                );
            }
            if fine {
                let others = match scan.others {
                    0 => String::new(),
                    n => format!("; {} that cdk-mfa-rs did not write, left alone", plural(n, "other file", "", "s")),
                };
                r.ok(format!(
                    "cache: {d} is private and writable ({protected_by}{}{others})",
                    plural(scan.entries.len(), "entr", "y", "ies")
                ));
            }
        }
        Err(_) => {
            let parent = dir.ancestors().skip(1).find(|a| a.exists());
            match parent {
                Some(p) if writable(p) => r.ok(format!("cache: {d} will be created (mode 700) on first use")),
                _ => r.fail(
                    format!("cache: {d} does not exist and cannot be created"),
                    "set CDK_MFA_RS_CACHE_DIR to a writable directory",
                ),
            }
        }
    }
}

/// "1 entry", "2 entries".
fn plural(n: usize, stem: &str, one: &str, many: &str) -> String {
    format!("{n} {stem}{}", if n == 1 { one } else { many })
}

fn writable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
        unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
    }
}

/// `<dir>/node_modules/<package>/package.json` in `start` or an ancestor, as Node resolves it.
fn resolve_package(start: &Path, package: &str) -> Option<PathBuf> {
    start.ancestors().map(|a| a.join("node_modules").join(package).join("package.json")).find(|p| p.is_file())
}

fn package_field(package_json: &Path, field: &str) -> Option<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(package_json).ok()?).ok()?;
    v.get(field)?.as_str().map(str::to_string)
}

/// The `aws-cdk` package a `cdk` command belongs to (`…/aws-cdk/bin/cdk`, through its links).
fn cli_package_of(cdk: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(cdk).ok()?;
    real.ancestors()
        .skip(1)
        .take(3)
        .map(|d| d.join("package.json"))
        .find(|p| package_field(p, "name").as_deref() == Some("aws-cdk"))
}

/// The CDK CLI's version from its package.json, never by running it: the `cdk` that
/// `npx` would pick in the current directory could be anything.
fn check_cdk_version(r: &mut Report, cwd: &Path) {
    let package = resolve_package(cwd, "aws-cdk").or_else(|| find_on_path("cdk").and_then(|c| cli_package_of(&c)));
    let Some((version, from)) = package.and_then(|p| Some((package_field(&p, "version")?, p.display().to_string())))
    else {
        r.warn(
            format!(
                "CDK CLI: none found from {} (no node_modules/aws-cdk, no aws-cdk package behind a cdk on PATH)",
                cwd.display()
            ),
            "npm install --save-dev aws-cdk@2 in your CDK app",
        );
        return;
    };
    let major = version.split('.').next().and_then(|m| m.parse::<u32>().ok());
    if version == "3.0.0" {
        r.warn(
            format!("CDK CLI {version} ({from}): aws-cdk@3.0.0 on the registry is an accidental broken build; pin aws-cdk@2"),
            "npm install --save-dev aws-cdk@2",
        );
    } else if major.is_some_and(|m| m < 2) {
        r.warn(format!("CDK CLI {version} ({from}): CDK v1 is end of life"), "npm install --save-dev aws-cdk@2");
    } else {
        r.ok(format!("CDK CLI {version} ({from})"));
    }
}

/// `plugin` entries of cdk.json and ~/.cdk.json.
fn plugin_entries(cwd: &Path, home: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut files = vec![cwd.join("cdk.json")];
    files.extend(home.map(|h| h.join(".cdk.json")));
    let mut out = Vec::new();
    for f in files {
        let Some(v) =
            std::fs::read_to_string(&f).ok().and_then(|t| serde_json::from_str::<Value>(config::without_bom(&t)).ok())
        else {
            continue;
        };
        match v.get("plugin") {
            Some(Value::String(s)) => out.push((f.clone(), s.clone())),
            Some(Value::Array(a)) => {
                out.extend(a.iter().filter_map(|x| x.as_str()).map(|s| (f.clone(), s.to_string())))
            }
            _ => {}
        }
    }
    out
}

/// Is this `plugin` entry us? A name, or a path to a package named cdk-mfa-rs.
fn entry_is_ours(entry: &str, cwd: &Path) -> bool {
    if entry == "cdk-mfa-rs" {
        return true;
    }
    let p = if Path::new(entry).is_absolute() { PathBuf::from(entry) } else { cwd.join(entry) };
    let dir = if p.is_file() { p.parent().map(Path::to_path_buf) } else { Some(p) };
    dir.and_then(|d| package_field(&d.join("package.json"), "name")).as_deref() == Some("cdk-mfa-rs")
        || entry.contains("cdk-mfa-rs")
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let names: Vec<String> =
        if cfg!(windows) { vec![format!("{name}.cmd"), format!("{name}.exe")] } else { vec![name.to_string()] };
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in &names {
            let c = dir.join(n);
            if is_executable(&c) {
                return Some(c);
            }
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

fn check_plugin_loading(r: &mut Report, cwd: &Path, home: Option<&Path>) {
    let entries = plugin_entries(cwd, home);
    let ours: Vec<&(PathBuf, String)> = entries.iter().filter(|(_, e)| entry_is_ours(e, cwd)).collect();
    let by_name = ours.iter().any(|(_, e)| e == "cdk-mfa-rs");
    if ours.is_empty() {
        if cwd.join("cdk.json").is_file() {
            r.warn(
                "plugin: neither cdk.json nor ~/.cdk.json loads cdk-mfa-rs",
                "add \"plugin\": [\"cdk-mfa-rs\"] to cdk.json (or pass --plugin cdk-mfa-rs)",
            );
        }
    } else {
        for (file, entry) in &ours {
            if entry != "cdk-mfa-rs" {
                let p = if Path::new(entry).is_absolute() { PathBuf::from(entry) } else { cwd.join(entry) };
                if !p.exists() {
                    r.fail(
                        format!("plugin: {} names {entry}, which does not exist", file.display()),
                        "fix the path, or use the package name \"cdk-mfa-rs\" with the package installed in the project",
                    );
                } else {
                    r.ok(format!("plugin: {} loads {entry} by path", file.display()));
                }
            }
        }
    }
    // How the CDK CLI on PATH resolves a plugin given by name: from its own install.
    let Some(cdk) = find_on_path("cdk") else {
        r.ok("cdk on PATH: none; `npx cdk` runs the project's own CLI, which finds the project's plugin");
        return;
    };
    let real = std::fs::canonicalize(&cdk).unwrap_or_else(|_| cdk.clone());
    let cwd_real = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let local = cwd_real.ancestors().any(|a| real.starts_with(a.join("node_modules")));
    let resolved = real.parent().and_then(|d| resolve_package(d, "cdk-mfa-rs"));
    match (resolved, local) {
        (Some(p), _) => r.ok(format!(
            "cdk on PATH ({}) resolves the plugin name cdk-mfa-rs to {}",
            cdk.display(),
            p.parent().unwrap_or(&p).display()
        )),
        (None, _) if !ours.is_empty() && !by_name => {
            r.ok(format!("cdk on PATH ({}): the plugin is given by path, which any cdk can load", cdk.display()))
        }
        (None, true) => r.warn(
            format!("cdk on PATH ({}) is the project's, but cdk-mfa-rs is not installed where it looks", cdk.display()),
            "npm install --save-dev cdk-mfa-rs in the project",
        ),
        (None, false) => r.warn(
            format!(
                "cdk on PATH ({}) is not the project's (not under {}/node_modules): it resolves plugin names from its own \
                 install, where cdk-mfa-rs is not installed",
                cdk.display(),
                cwd.display()
            ),
            "run `npx cdk` in the project, or give the plugin as an absolute path in cdk.json \"plugin\", or npm install -g cdk-mfa-rs",
        ),
    }
}
