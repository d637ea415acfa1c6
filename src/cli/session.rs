//! The commands that obtain or remove credentials: `login` and `logout` (fill or clear the
//! cache), `credential-process` and `export` (print credentials: the only output with secrets).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::cache::{self, DiskCache, Entry, Found, Kind, Removal};
use crate::config::{self, Mode};
use crate::creds::Creds;
use crate::engine::Engine;
use crate::plan::{Base, Plan, ProfileKind};
use crate::printable::printable_json;
use crate::profiles::Profiles;

use super::project::{covers_every_account, mapped_accounts, Project};
use super::{expiry_text, fail, iso, print, ps_quote, sh_quote, usage, via, when, CliResult, Opts};

// ─── --profile / --account ─────────────────────────────────────────────────────────────────

fn parse_mode(opts: &Opts) -> CliResult<Mode> {
    match opts.get("mode") {
        None | Some("write") => Ok(Mode::Write),
        Some("read") => Ok(Mode::Read),
        Some(other) => Err(usage(format!("--mode is \"{other}\"; use read or write"))),
    }
}

fn check_account(a: &str) -> CliResult<()> {
    if config::is_account_id(a) {
        Ok(())
    } else {
        Err(usage(format!("--account \"{a}\" is not a 12-digit AWS account id")))
    }
}

/// `--profile P` xor `--account A`.
enum Target {
    Profile(String),
    Account(String, Mode),
}

fn target(opts: &Opts, command: &str) -> CliResult<Target> {
    match (opts.get("profile"), opts.get("account")) {
        (Some(_), Some(_)) => Err(usage(format!("{command}: give --profile or --account, not both"))),
        (Some(p), None) => {
            if opts.get("mode").is_some() {
                return Err(usage(format!("{command}: --mode goes with --account, not --profile")));
            }
            Ok(Target::Profile(p.to_string()))
        }
        (None, Some(a)) => {
            check_account(a)?;
            Ok(Target::Account(a.to_string(), parse_mode(opts)?))
        }
        (None, None) => {
            Err(usage(format!("{command}: give --profile P or --account A; see cdk-mfa-rs {command} --help")))
        }
    }
}

/// A profile whose own `credential_process` is this command would call itself forever.
fn refuse_self_reference(plan: &Plan, profiles: &Profiles) -> CliResult<()> {
    if let Base::Profile { profile, kind: ProfileKind::CredentialProcess } = &plan.base {
        let cmd = profiles.get(profile).and_then(|p| p.get("credential_process")).unwrap_or("");
        if cmd.contains("cdk-mfa-rs") || cmd.contains("cli.js credential-process") {
            return Err(fail(format!(
                "profile {profile} gets its credentials from `cdk-mfa-rs credential-process` itself; point --profile at \
                 the profile with role_arn/mfa_serial/keys, not at the one with credential_process"
            )));
        }
    }
    Ok(())
}

/// Plan and credentials for `--profile` / `--account`, through the plugin's engine.
async fn obtain(engine: &Engine, t: &Target) -> CliResult<Creds> {
    let plan = match t {
        Target::Profile(p) => engine.plan_for_profile(p).await?,
        Target::Account(a, m) => engine.plan(a, *m).await?,
    };
    refuse_self_reference(&plan, &*engine.profiles().await?)?;
    Ok(engine.resolve(&plan).await?)
}

// ─── login ─────────────────────────────────────────────────────────────────────────────────

pub(super) async fn login(opts: &Opts) -> CliResult<()> {
    if opts.get("profile").is_some() && opts.get("account").is_some() {
        return Err(usage("login: give --profile or --account, not both"));
    }
    let engine = Engine::for_command();
    if let Some(p) = opts.get("profile") {
        let plan = engine.plan_for_profile(p).await?;
        refuse_self_reference(&plan, &*engine.profiles().await?)?;
        let (c, stored) = engine.resolve_and_store(&plan).await?;
        print(&format!("profile {p}: {}\n", login_result(&plan, &c, stored)));
        return Ok(());
    }
    let accounts = match opts.get("account") {
        Some(a) => {
            check_account(a)?;
            vec![a.to_string()]
        }
        None => {
            let config = engine.config()?;
            let accounts = mapped_accounts(config);
            if accounts.is_empty() {
                return Err(fail(if covers_every_account(config) {
                    "no account is listed: assumeRole covers every account, so name one with --account A".to_string()
                } else {
                    "no account is mapped in this project (awsProfiles or assumeRole.accounts); use --profile P or map accounts"
                        .to_string()
                }));
            }
            accounts
        }
    };
    let (mut done, mut stored_all) = (0, true);
    for account in &accounts {
        let read = engine.plan(account, Mode::Read).await?;
        let write = engine.plan(account, Mode::Write).await?;
        let items: Vec<(&str, &Plan)> =
            if read == write { vec![("read/write", &read)] } else { vec![("read", &read), ("write", &write)] };
        for (modes, plan) in items {
            refuse_self_reference(plan, &*engine.profiles().await?)?;
            let (c, stored) = engine.resolve_and_store(plan).await.map_err(|e| {
                let kept = if stored_all { "cached" } else { "done, but not all cached" };
                let before = match done {
                    0 => String::new(),
                    1 => format!(" (the 1 login before it is {kept})"),
                    n => format!(" (the {n} logins before it are {kept})"),
                };
                fail(format!("login of account {account} ({modes}){before}: {e}"))
            })?;
            print(&format!("account {account} ({modes}) → {}: {}\n", via(plan), login_result(plan, &c, stored)));
            stored_all &= stored;
            done += 1;
        }
    }
    Ok(())
}

/// What `login` did for one plan; `stored` says whether the session really went to disk.
fn login_result(plan: &Plan, c: &Creds, stored: bool) -> String {
    let ours = !plan.mfa.is_empty() || !plan.steps.is_empty();
    match c.expiration {
        Some(t) if ours && stored => format!("session cached, expires {}", when(t)),
        Some(t) if ours => format!(
            "session obtained, expires {}, but NOT cached (see the warning above): the next run gets a new one",
            when(t)
        ),
        Some(t) => format!("credentials valid, expire {} (cached by their own provider)", when(t)),
        None => "long-term keys, used as they are (nothing to cache)".to_string(),
    }
}

// ─── logout ────────────────────────────────────────────────────────────────────────────────

pub(super) async fn logout(opts: &Opts) -> CliResult<()> {
    if opts.get("profile").is_some() && opts.has("all") {
        return Err(usage("logout: give --profile or --all, not both"));
    }
    let Some(dir) = cache::default_dir(crate::home_dir().as_deref()) else {
        return Err(fail("HOME and CDK_MFA_RS_CACHE_DIR are not set: there is no cache to clear"));
    };
    if !dir.is_dir() {
        print(&format!("nothing to remove: {} does not exist\n", dir.display()));
        return Ok(());
    }
    let cache = DiskCache::at(&dir);
    let scan = cache.scan();
    // Which of our entries (and unfinished writes) to remove; files that are not ours never are.
    let selected: Vec<&Found> = if opts.has("all") {
        scan.entries.iter().chain(&scan.stale_temps).collect()
    } else if let Some(profile) = opts.get("profile") {
        scan.entries
            .iter()
            .chain(&scan.stale_temps)
            .filter(|f| matches!(&f.entry, Ok(e) if e.label.profile.as_deref() == Some(profile)))
            .collect()
    } else {
        let p = Project::load().await.map_err(|f| fail(format!("{}; or use logout --all / --profile P", f.message)))?;
        let mut profiles = BTreeSet::new();
        let mut roles = BTreeSet::new();
        for account in p.accounts() {
            for m in [Mode::Read, Mode::Write] {
                if let Ok(Some(plan)) = p.plan(&account, m) {
                    profiles.extend(plan.base.profile().map(str::to_string));
                    profiles.extend(plan.endpoint_profile.clone());
                    for s in &plan.steps {
                        profiles.extend(s.profile.clone());
                        roles.insert(s.role_arn.clone());
                    }
                }
            }
        }
        scan.entries
            .iter()
            .chain(&scan.stale_temps)
            .filter(|f| match &f.entry {
                Ok(e) => {
                    e.label.profile.as_ref().is_some_and(|x| profiles.contains(x))
                        || e.label.role_arn.as_ref().is_some_and(|x| roles.contains(x))
                }
                Err(_) => false,
            })
            .collect()
    };

    let mut text = String::new();
    let mut removed = 0;
    let mut busy = 0;
    for f in &selected {
        let name = f.name();
        let what = match &f.entry {
            Ok(e) => format!("{}; {}", label_text(e), expiry_text(&e.credentials)),
            Err(u) => format!("unusable entry: {}", u.why),
        };
        let what = if name.ends_with(".tmp") { format!("unfinished write: {what}") } else { what };
        match cache.remove_found(f) {
            Ok(Removal::Removed) => {
                removed += 1;
                text += &format!("removed {name} ({what})\n");
            }
            Ok(Removal::Busy) => {
                busy += 1;
                text += &format!("kept {name}: another process is filling it (probably waiting for an MFA code)\n");
            }
            Ok(Removal::Kept(why)) => {
                text +=
                    &format!("kept {name}: named like a cache entry but not one of cdk-mfa-rs ({why}); left alone\n");
            }
            Err(e) => return Err(fail(format!("cannot remove {}: {e}", f.path.display()))),
        }
    }
    if opts.has("all") {
        cache.remove_orphan_locks(&scan);
    }
    let scope = if opts.has("all") {
        "all profiles".to_string()
    } else if let Some(p) = opts.get("profile") {
        format!("profile {p}")
    } else {
        "this project's profiles and roles".to_string()
    };
    if removed == 0 && busy == 0 {
        text += &format!("nothing to remove for {scope} in {}\n", dir.display());
    } else {
        text += &format!(
            "removed {removed} cache entr{} for {scope} from {}\n",
            if removed == 1 { "y" } else { "ies" },
            dir.display()
        );
    }
    if scan.others > 0 {
        text += &format!(
            "left alone {} other file{} that cdk-mfa-rs did not write ({})\n",
            scan.others,
            if scan.others == 1 { "" } else { "s" },
            scan.others_text()
        );
    }
    print(&text);
    Ok(())
}

fn label_text(e: &Entry) -> String {
    let mut parts = Vec::new();
    match e.kind {
        Kind::MfaSession => parts.push("MFA session".to_string()),
        Kind::Role => parts.push(format!("role {}", e.label.role_arn.as_deref().unwrap_or("?"))),
    }
    if let Some(p) = &e.label.profile {
        parts.push(format!("profile {p}"));
    }
    if let Some(s) = &e.label.mfa_serial {
        parts.push(format!("MFA {s}"));
    }
    parts.join(", ")
}

// ─── credential-process / export ───────────────────────────────────────────────────────────

fn process_json(c: &Creds) -> Value {
    let mut o = json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
    });
    if let Some(t) = &c.session_token {
        o["SessionToken"] = json!(t);
    }
    if let Some(e) = c.expiration {
        o["Expiration"] = json!(iso(e));
    }
    o
}

pub(super) async fn credential_process(opts: &Opts) -> CliResult<()> {
    let t = target(opts, "credential-process")?;
    let c = obtain(&Engine::for_command(), &t).await?;
    print(&format!("{}\n", printable_json(&process_json(&c).to_string())));
    Ok(())
}

pub(super) async fn export(opts: &Opts) -> CliResult<()> {
    let format = opts.get("format").unwrap_or("env");
    if !["env", "json", "powershell"].contains(&format) {
        return Err(usage(format!("--format is \"{format}\"; use env, json or powershell")));
    }
    let t = target(opts, "export")?;
    let c = obtain(&Engine::for_command(), &t).await?;
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", Some(c.access_key_id.clone())),
        ("AWS_SECRET_ACCESS_KEY", Some(c.secret_access_key.clone())),
    ];
    vars.push(("AWS_SESSION_TOKEN", c.session_token.clone()));
    vars.push(("AWS_CREDENTIAL_EXPIRATION", c.expiration.map(iso)));
    let text = match format {
        "json" => format!("{}\n", printable_json(&serde_json::to_string_pretty(&process_json(&c)).expect("JSON"))),
        "powershell" => vars
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("$Env:{k}={}\n", ps_quote(v)),
                None => format!("Remove-Item Env:{k} -ErrorAction SilentlyContinue\n"),
            })
            .collect(),
        _ => vars
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("export {k}={}\n", sh_quote(v)),
                None => format!("unset {k}\n"),
            })
            .collect(),
    };
    print(&text);
    Ok(())
}
