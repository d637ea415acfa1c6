//! The companion command `cdk-mfa-rs` (`cli.js` → [`run_cli`]): status, login, logout, doctor,
//! credential-process and export. It shares the plugin's configuration, plans, cache and MFA
//! prompt. Nothing secret is printed, except on the stdout of `credential-process` and
//! `export`, whose purpose it is. A failure is one line `cdk-mfa-rs: <reason>` on stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_types::os_shim_internal::{Env, Fs};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::cache::{self, DiskCache, Entry, Kind};
use crate::config::{self, Accounts, ConfigInputs, Mode, PluginConfig, Route};
use crate::creds::Creds;
use crate::engine::Engine;
use crate::error::Error;
use crate::plan::{self, Base, Plan, PlanInputs, ProfileKind};
use crate::profiles::Profiles;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Run the command with its arguments (without `node cli.js`); resolves to the exit code.
#[napi]
pub async fn run_cli(args: Vec<String>) -> napi::Result<i32> {
    Ok(run(args).await)
}

pub async fn run(args: Vec<String>) -> i32 {
    match dispatch(args).await {
        Ok(()) => 0,
        Err(f) => {
            // One line, whatever the message held.
            let line = f.message.split_whitespace().collect::<Vec<_>>().join(" ");
            write_all(Stream::Err, format!("cdk-mfa-rs: {line}\n").as_bytes());
            f.code
        }
    }
}

/// A failed command: its exit code (1 failure, 2 usage) and the one line to print.
#[derive(Debug)]
pub struct Fail {
    pub code: i32,
    pub message: String,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail { code: 1, message: e.message().to_string() }
    }
}

fn fail(message: impl Into<String>) -> Fail {
    Fail { code: 1, message: message.into() }
}

fn usage(message: impl Into<String>) -> Fail {
    Fail { code: 2, message: message.into() }
}

type CliResult<T> = std::result::Result<T, Fail>;

// ─── output ────────────────────────────────────────────────────────────────────────────────

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Write everything, also to a non-blocking pipe (Node may have made fd 1/2 non-blocking).
fn write_all(stream: Stream, bytes: &[u8]) {
    let mut rest = bytes;
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    while !rest.is_empty() {
        let r = match stream {
            Stream::Out => out.write(rest).and_then(|n| out.flush().map(|_| n)),
            Stream::Err => err.write(rest),
        };
        match r {
            Ok(0) => break,
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break, // the reader went away
        }
    }
}

fn print(text: &str) {
    write_all(Stream::Out, text.as_bytes());
}

// ─── arguments ─────────────────────────────────────────────────────────────────────────────

const TOP_HELP: &str = "\
cdk-mfa-rs: the companion command of the cdk-mfa-rs AWS CDK credential plugin

Usage: cdk-mfa-rs <command> [options]

Commands:
  status              accounts of this project, their profile or role, MFA device and cached session
  login               get (asking for the MFA code if needed) and cache the sessions now
  logout              delete cached sessions
  doctor              check configuration, profiles, MFA code sources, cache, CDK CLI and plugin loading
  credential-process  print credentials for an AWS CLI / SDK `credential_process`
  export              print credentials as shell (or JSON, PowerShell) environment variables

Run `cdk-mfa-rs <command> --help` for a command's options. `--version` prints the version.
";

const STATUS_HELP: &str = "\
Usage: cdk-mfa-rs status [--json]

For the project in the current directory: every mapped account, the AWS profile or role used for
reading and for writing, the MFA device, and when the cached session expires. Makes no AWS call
and prints no secret.

Options:
  --json      machine-readable output
  -h, --help  this help
";

const LOGIN_HELP: &str = "\
Usage: cdk-mfa-rs login [--profile P | --account A]

Get the sessions now and cache them, asking for the MFA code on the terminal if needed (or taking
it from CDK_MFA_CODE / mfa_process). By default: every account mapped by this project, both modes.

Options:
  --profile P  the AWS profile P (mapped or not)
  --account A  one mapped account (12 digits), both modes
  -h, --help   this help
";

const LOGOUT_HELP: &str = "\
Usage: cdk-mfa-rs logout [--profile P | --all]

Delete cached sessions and their lock files, and say what was removed. By default: the entries of
the profiles and roles this project uses.

Options:
  --profile P  entries cached for AWS profile P (an MFA session is cached under the profile that
               holds the long-term keys, a role session under the role's profile)
  --all        every entry in the cache directory
  -h, --help   this help
";

const DOCTOR_HELP: &str = "\
Usage: cdk-mfa-rs doctor

Check the configuration files, every mapped profile (exists, source_profile loops, where MFA codes
come from), the cache directory, the CDK CLI version, and whether the `cdk` on PATH can load the
plugin. Each finding is OK, WARN or FAIL with the fix; exits non-zero if any FAIL.

Options:
  -h, --help  this help
";

const CREDENTIAL_PROCESS_HELP: &str = "\
Usage: cdk-mfa-rs credential-process (--profile P | --account A [--mode read|write])

Print credentials as AWS `credential_process` JSON (Version 1), from the cache or through the MFA
flow (the code is asked on the terminal, /dev/tty). In ~/.aws/config:

  [profile deploy-mfa]
  credential_process = npx cdk-mfa-rs credential-process --profile deploy

Options:
  --profile P  the AWS profile P, mapped or not
  --account A  an account mapped by the project in the current directory
  --mode M     with --account: read or write (default write)
  -h, --help   this help
";

const EXPORT_HELP: &str = "\
Usage: cdk-mfa-rs export (--profile P | --account A [--mode read|write]) [--format env|json|powershell]

Print credentials as environment variables, e.g. eval \"$(npx cdk-mfa-rs export --profile deploy)\".
The MFA code is asked on the terminal (/dev/tty) if needed.

Options:
  --profile P   the AWS profile P, mapped or not
  --account A   an account mapped by the project in the current directory
  --mode M      with --account: read or write (default write)
  --format F    env (export lines, default), json (credential_process shape), powershell ($Env: lines)
  -h, --help    this help
";

struct Command {
    name: &'static str,
    help: &'static str,
    /// (option, takes a value)
    options: &'static [(&'static str, bool)],
}

const COMMANDS: &[Command] = &[
    Command { name: "status", help: STATUS_HELP, options: &[("json", false)] },
    Command { name: "login", help: LOGIN_HELP, options: &[("profile", true), ("account", true)] },
    Command { name: "logout", help: LOGOUT_HELP, options: &[("profile", true), ("all", false)] },
    Command { name: "doctor", help: DOCTOR_HELP, options: &[] },
    Command {
        name: "credential-process",
        help: CREDENTIAL_PROCESS_HELP,
        options: &[("profile", true), ("account", true), ("mode", true)],
    },
    Command {
        name: "export",
        help: EXPORT_HELP,
        options: &[("profile", true), ("account", true), ("mode", true), ("format", true)],
    },
];

/// Parsed options of one command: `--name value`, `--name=value` or a bare `--flag`.
#[derive(Debug, Default)]
pub struct Opts {
    values: BTreeMap<String, String>,
    flags: BTreeSet<String>,
}

impl Opts {
    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
    fn has(&self, name: &str) -> bool {
        self.flags.contains(name)
    }
}

enum Parsed {
    Help(&'static str),
    Run(&'static Command, Opts),
}

fn parse(command: &'static Command, args: &[String]) -> CliResult<Parsed> {
    let mut opts = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help(command.help));
        }
        let Some(body) = arg.strip_prefix("--") else {
            return Err(usage(format!(
                "{}: unexpected argument \"{arg}\"; see cdk-mfa-rs {} --help",
                command.name, command.name
            )));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(&(_, takes_value)) = command.options.iter().find(|(n, _)| *n == name) else {
            return Err(usage(format!(
                "{}: unknown option --{name}; see cdk-mfa-rs {} --help",
                command.name, command.name
            )));
        };
        if takes_value {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    match args.get(i) {
                        Some(v) if !v.starts_with("--") => v.clone(),
                        _ => return Err(usage(format!("{}: --{name} needs a value", command.name))),
                    }
                }
            };
            if value.trim().is_empty() {
                return Err(usage(format!("{}: --{name} needs a value", command.name)));
            }
            opts.values.insert(name.to_string(), value);
        } else {
            if inline.is_some() {
                return Err(usage(format!("{}: --{name} takes no value", command.name)));
            }
            opts.flags.insert(name.to_string());
        }
        i += 1;
    }
    Ok(Parsed::Run(command, opts))
}

async fn dispatch(args: Vec<String>) -> CliResult<()> {
    let Some(first) = args.first() else {
        return Err(usage("no command given; run cdk-mfa-rs --help for the commands"));
    };
    match first.as_str() {
        "-h" | "--help" | "help" => {
            let topic = args.get(1).and_then(|n| COMMANDS.iter().find(|c| c.name == n));
            print(topic.map_or(TOP_HELP, |c| c.help));
            return Ok(());
        }
        "-V" | "--version" | "version" => {
            print(&format!("cdk-mfa-rs {VERSION}\n"));
            return Ok(());
        }
        _ => {}
    }
    let Some(command) = COMMANDS.iter().find(|c| c.name == first) else {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        return Err(usage(format!("unknown command \"{first}\"; the commands are {}", names.join(", "))));
    };
    let (command, opts) = match parse(command, &args[1..])? {
        Parsed::Help(text) => {
            print(text);
            return Ok(());
        }
        Parsed::Run(c, o) => (c, o),
    };
    match command.name {
        "status" => status(&opts).await,
        "login" => login(&opts).await,
        "logout" => logout(&opts).await,
        "doctor" => doctor().await,
        "credential-process" => credential_process(&opts).await,
        "export" => export(&opts).await,
        _ => unreachable!("every command is dispatched"),
    }
}

// ─── shared helpers ────────────────────────────────────────────────────────────────────────

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "3h12m", "12m", "40s".
pub fn span(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

/// "in 3h12m" or "expired 5m ago".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    if secs >= 0 {
        format!("in {}", span(secs))
    } else {
        format!("expired {} ago", span(-secs))
    }
}

fn when(t: DateTime<Utc>) -> String {
    format!("{} ({})", relative(t, Utc::now()), iso(t))
}

fn parse_mode(opts: &Opts) -> CliResult<Mode> {
    match opts.get("mode") {
        None | Some("write") => Ok(Mode::Write),
        Some("read") => Ok(Mode::Read),
        Some(other) => Err(usage(format!("--mode is \"{other}\"; use read or write"))),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Read => "read",
        Mode::Write => "write",
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

/// Every account the configuration names: `awsProfiles` keys and an `assumeRole.accounts` list.
fn mapped_accounts(c: &PluginConfig) -> Vec<String> {
    let mut set: BTreeSet<String> = c.aws_profiles.keys().cloned().collect();
    if let Some(ar) = &c.assume_role {
        if let Accounts::List(list) = &ar.accounts {
            set.extend(list.iter().cloned());
        }
    }
    set.into_iter().collect()
}

/// An account id no `awsProfiles` entry maps: stands for "any other account" of the convention.
fn unmapped_example(c: &PluginConfig) -> String {
    (0..1000u64)
        .map(|i| format!("{:012}", 123_456_789_000u64 + i))
        .find(|a| !c.aws_profiles.contains_key(a))
        .expect("a free example account id")
}

fn covers_every_account(c: &PluginConfig) -> bool {
    matches!(&c.assume_role, Some(ar) if ar.accounts == Accounts::All)
}

/// The project in cwd, read without side effects: configuration, profiles, cache entries.
struct Project {
    cwd: PathBuf,
    config: PluginConfig,
    profiles: Profiles,
    cache_dir: Option<PathBuf>,
    entries: Vec<(PathBuf, Result<Entry, String>)>,
}

impl Project {
    async fn load() -> CliResult<Project> {
        let inputs = ConfigInputs::from_process();
        let config =
            config::load(&inputs).map_err(|e| fail(format!("{e} (cdk-mfa-rs doctor checks every setting)")))?;
        let profiles = Profiles::load(&Env::real(), &Fs::real()).await?;
        let cache_dir = cache::default_dir(crate::home_dir().as_deref());
        let entries = cache_dir.as_deref().map(|d| DiskCache::at(d).list()).unwrap_or_default();
        Ok(Project { cwd: inputs.cwd, config, profiles, cache_dir, entries })
    }

    fn plan(&self, account: &str, mode: Mode) -> Result<Option<Plan>, Error> {
        let inputs = PlanInputs { config: &self.config, profiles: &self.profiles, env: &env_var };
        plan::plan_for(&inputs, account, mode)
    }

    fn valid_entries(&self) -> impl Iterator<Item = &Entry> {
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
    fn accounts(&self) -> Vec<String> {
        let mut a = mapped_accounts(&self.config);
        a.extend(self.cached_convention_accounts());
        a
    }
}

/// The cache entry holding a plan's final credentials (the latest, if several).
fn session_entry<'a>(plan: &Plan, entries: impl Iterator<Item = &'a Entry>) -> Option<&'a Entry> {
    let matches = |e: &&Entry| -> bool {
        match (plan.steps.last(), &plan.mfa) {
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

fn mfa_session_entry<'a>(plan: &Plan, entries: impl Iterator<Item = &'a Entry>) -> Option<&'a Entry> {
    let serial = plan.mfa.as_ref()?.serial.clone();
    entries.filter(|e| is_mfa_session_of(e, plan, &serial)).max_by_key(|e| e.credentials.expiration)
}

/// "profile dev (→ arn:…:role/x)" or "role arn:… via profile src".
fn via(plan: &Plan) -> String {
    match plan.steps.last() {
        Some(step) if plan.target.starts_with("profile ") => format!("{} → {}", plan.target, step.role_arn),
        _ => plan.target.clone(),
    }
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

fn expiry_text(c: &Creds) -> String {
    c.expiration.map_or("no expiry".to_string(), when)
}

// ─── status ────────────────────────────────────────────────────────────────────────────────

struct Row {
    account: String,
    modes: Vec<Mode>,
    plan: Result<Plan, String>,
}

async fn status(opts: &Opts) -> CliResult<()> {
    let p = Project::load().await?;
    let mut rows: Vec<Row> = Vec::new();
    for account in p.accounts() {
        let plans: Vec<(Mode, Result<Plan, String>)> = [Mode::Read, Mode::Write]
            .into_iter()
            .filter_map(|m| match p.plan(&account, m) {
                Ok(Some(plan)) => Some((m, Ok(plan))),
                Ok(None) => None,
                Err(e) => Some((m, Err(e.message().to_string()))),
            })
            .collect();
        match plans.as_slice() {
            [(m1, a), (m2, b)] if a == b => {
                rows.push(Row { account: account.clone(), modes: vec![*m1, *m2], plan: a.clone() })
            }
            _ => rows.extend(plans.into_iter().map(|(m, plan)| Row { account: account.clone(), modes: vec![m], plan })),
        }
    }
    let every = p.config.assume_role.as_ref().filter(|ar| ar.accounts == Accounts::All);
    let entries: Vec<&Entry> = p.valid_entries().collect();
    let serials: BTreeSet<String> =
        rows.iter().filter_map(|r| r.plan.as_ref().ok()?.mfa.as_ref().map(|m| m.serial.clone())).collect();
    let mut mfa_sessions: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::MfaSession && e.label.mfa_serial.as_ref().is_some_and(|s| serials.contains(s)))
        .collect();
    mfa_sessions.sort_by_key(|e| (e.label.mfa_serial.clone(), e.label.profile.clone()));
    let now = Utc::now();

    if opts.has("json") {
        let session_json = |e: Option<&Entry>| match e.and_then(|e| e.credentials.expiration) {
            Some(t) => json!({ "expiration": iso(t), "expiresIn": relative(t, now), "expired": t <= now }),
            None => Value::Null,
        };
        let mut accounts = Vec::new();
        for r in &rows {
            for m in &r.modes {
                let mut o = json!({ "account": r.account, "mode": mode_name(*m) });
                match &r.plan {
                    Ok(plan) => {
                        let route = match p.config.route(&r.account, *m) {
                            Some(Route::Profile(name)) => json!({ "awsProfile": name }),
                            _ => json!({ "assumeRole": true }),
                        };
                        o["route"] = route;
                        o["target"] = json!(plan.target);
                        o["roleArn"] = json!(plan.steps.last().map(|s| s.role_arn.clone()));
                        o["mfaSerial"] = json!(plan.mfa.as_ref().map(|m| m.serial.clone()));
                        o["plan"] = json!(plan.to_string());
                        o["session"] = session_json(session_entry(plan, entries.iter().copied()));
                        o["error"] = Value::Null;
                    }
                    Err(e) => o["error"] = json!(e),
                }
                accounts.push(o);
            }
        }
        let out = json!({
            "project": p.cwd.display().to_string(),
            "configFiles": p.config.files_read.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "cacheDir": p.cache_dir.as_ref().map(|d| d.display().to_string()),
            "everyOtherAccount": every.map(|ar| json!({
                "readRoleName": ar.read_role_name,
                "writeRoleName": ar.write_role_name,
                "sourceProfile": ar.source_profile,
            })),
            "accounts": accounts,
            "mfaSessions": mfa_sessions.iter().map(|e| {
                let mut o = json!({ "mfaSerial": e.label.mfa_serial, "profile": e.label.profile });
                if let Some(t) = e.credentials.expiration {
                    o["expiration"] = json!(iso(t));
                    o["expiresIn"] = json!(relative(t, now));
                    o["expired"] = json!(t <= now);
                }
                o
            }).collect::<Vec<_>>(),
        });
        print(&format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON")));
        return Ok(());
    }

    let mut text = String::new();
    text += &format!("project: {}\n", p.cwd.display());
    text += &format!(
        "configuration: {}\n",
        if p.config.files_read.is_empty() {
            "no file found".to_string()
        } else {
            p.config.files_read.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        }
    );
    text += &format!(
        "cache: {}\n\n",
        p.cache_dir
            .as_ref()
            .map_or("none (HOME and CDK_MFA_RS_CACHE_DIR are not set)".to_string(), |d| d.display().to_string())
    );
    if rows.is_empty() && every.is_none() {
        text +=
            "No account is mapped: add \"awsProfiles\": {\"<account>\": \"<profile>\"} to cdkmultiprofileplugin.json \
                 (or package.json), or an \"assumeRole\" section.\n";
        print(&text);
        return Ok(());
    }
    let mut table: Vec<[String; 5]> =
        vec![["ACCOUNT", "MODE", "VIA", "MFA DEVICE", "CACHED SESSION"].map(String::from)];
    let mut errors: Vec<String> = Vec::new();
    for r in &rows {
        let modes = r.modes.iter().map(|m| mode_name(*m)).collect::<Vec<_>>().join("/");
        match &r.plan {
            Ok(plan) => {
                let cached = match (
                    session_entry(plan, entries.iter().copied()),
                    plan.mfa.is_some() || !plan.steps.is_empty(),
                ) {
                    (Some(e), _) => e.credentials.expiration.map_or("cached, no expiry".into(), when),
                    (None, true) => "not cached".to_string(),
                    (None, false) => "- (not cached by cdk-mfa-rs)".to_string(),
                };
                table.push([
                    r.account.clone(),
                    modes,
                    via(plan),
                    plan.mfa.as_ref().map_or("-".to_string(), |m| m.serial.clone()),
                    cached,
                ]);
            }
            Err(e) => {
                errors.push(format!("  {} ({modes}): {e}\n", r.account));
                table.push([r.account.clone(), modes, "ERROR (below)".to_string(), "-".to_string(), "-".to_string()]);
            }
        }
    }
    if let Some(ar) = every {
        let src = ar.source_profile.as_ref().map_or("the default credentials".to_string(), |s| format!("profile {s}"));
        let mfa = match p.plan(&unmapped_example(&p.config), Mode::Write) {
            Ok(Some(plan)) => plan.mfa.map_or("-".to_string(), |m| m.serial),
            Ok(None) => "-".to_string(),
            Err(e) => {
                errors.push(format!("  any other account: {e}\n"));
                "ERROR (below)".to_string()
            }
        };
        table.push([
            "any other".to_string(),
            "read/write".to_string(),
            format!("roles {} / {} via {src}", ar.read_role_name, ar.write_role_name),
            mfa,
            "-".to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..5).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for r in &table {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c == 4 {
                line += cell;
            } else {
                line += &format!("{cell:<w$}  ", w = widths[c]);
            }
        }
        text += line.trim_end();
        text += "\n";
    }
    if !mfa_sessions.is_empty() {
        text += "\nMFA sessions:\n";
        for e in &mfa_sessions {
            text += &format!(
                "  {} (keys of profile {}): {}\n",
                e.label.mfa_serial.as_deref().unwrap_or("?"),
                e.label.profile.as_deref().unwrap_or("?"),
                expiry_text(&e.credentials)
            );
        }
    }
    if !errors.is_empty() {
        text += "\nErrors:\n";
        text += &errors.concat();
        text += "Run `cdk-mfa-rs doctor` for what to fix.\n";
    }
    print(&text);
    Ok(())
}

// ─── login ─────────────────────────────────────────────────────────────────────────────────

async fn login(opts: &Opts) -> CliResult<()> {
    if opts.get("profile").is_some() && opts.get("account").is_some() {
        return Err(usage("login: give --profile or --account, not both"));
    }
    let engine = Engine::for_command();
    if let Some(p) = opts.get("profile") {
        let plan = engine.plan_for_profile(p).await?;
        refuse_self_reference(&plan, &*engine.profiles().await?)?;
        let c = engine.resolve(&plan).await?;
        print(&format!("profile {p}: {}\n", login_result(&plan, &c)));
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
    let mut done = 0;
    for account in &accounts {
        let read = engine.plan(account, Mode::Read).await?;
        let write = engine.plan(account, Mode::Write).await?;
        let items: Vec<(&str, &Plan)> =
            if read == write { vec![("read/write", &read)] } else { vec![("read", &read), ("write", &write)] };
        for (modes, plan) in items {
            refuse_self_reference(plan, &*engine.profiles().await?)?;
            let c = engine.resolve(plan).await.map_err(|e| {
                let before = match done {
                    0 => String::new(),
                    1 => " (the 1 login before it is cached)".to_string(),
                    n => format!(" (the {n} logins before it are cached)"),
                };
                fail(format!("login of account {account} ({modes}){before}: {e}"))
            })?;
            print(&format!("account {account} ({modes}) → {}: {}\n", via(plan), login_result(plan, &c)));
            done += 1;
        }
    }
    Ok(())
}

fn login_result(plan: &Plan, c: &Creds) -> String {
    match c.expiration {
        Some(t) if plan.mfa.is_some() || !plan.steps.is_empty() => format!("session cached, expires {}", when(t)),
        Some(t) => format!("credentials valid, expire {} (cached by their own provider)", when(t)),
        None => "long-term keys, used as they are (nothing to cache)".to_string(),
    }
}

// ─── logout ────────────────────────────────────────────────────────────────────────────────

async fn logout(opts: &Opts) -> CliResult<()> {
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
    let entries = DiskCache::at(&dir).list();
    let selected: Vec<&(PathBuf, Result<Entry, String>)> = if opts.has("all") {
        entries.iter().collect()
    } else if let Some(profile) = opts.get("profile") {
        entries.iter().filter(|(_, e)| matches!(e, Ok(e) if e.label.profile.as_deref() == Some(profile))).collect()
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
        entries
            .iter()
            .filter(|(_, e)| match e {
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
    for (path, entry) in &selected {
        let name = path.file_name().map_or(String::new(), |n| n.to_string_lossy().to_string());
        let what = match entry {
            Ok(e) => format!("{}; {}", label_text(e), expiry_text(&e.credentials)),
            Err(why) => format!("unusable entry: {why}"),
        };
        match remove_entry(path) {
            Ok(true) => {
                removed += 1;
                text += &format!("removed {name} ({what})\n");
            }
            Ok(false) => {
                busy += 1;
                text += &format!("kept {name}: another process is filling it (probably waiting for an MFA code)\n");
            }
            Err(e) => return Err(fail(format!("cannot remove {}: {e}", path.display()))),
        }
    }
    if opts.has("all") {
        // Lock files whose entry is gone (a prompt that was cancelled leaves one behind).
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for p in rd.filter_map(|e| e.ok()).map(|e| e.path()) {
                if p.extension().is_some_and(|x| x == "lock") && !p.with_extension("json").exists() {
                    let _ = remove_lock(&p);
                }
            }
        }
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
    print(&text);
    Ok(())
}

/// Remove an entry and its lock file, unless another process holds the lock: `Ok(false)`.
fn remove_entry(path: &Path) -> std::io::Result<bool> {
    let lock_path = path.with_extension("lock");
    let lock = std::fs::OpenOptions::new().write(true).open(&lock_path).ok();
    if let Some(f) = &lock {
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
            Err(std::fs::TryLockError::Error(_)) => {}
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    drop(lock);
    let _ = std::fs::remove_file(&lock_path);
    Ok(true)
}

fn remove_lock(path: &Path) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    if f.try_lock().is_ok() {
        drop(f);
        std::fs::remove_file(path)?;
    }
    Ok(())
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

async fn credential_process(opts: &Opts) -> CliResult<()> {
    let t = target(opts, "credential-process")?;
    let c = obtain(&Engine::for_command(), &t).await?;
    print(&format!("{}\n", process_json(&c)));
    Ok(())
}

/// A value for `export NAME=value`: bare when safe, else single-quoted.
pub fn sh_quote(v: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || "/+=._-:".contains(c)) {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// A PowerShell double-quoted string.
pub fn ps_quote(v: &str) -> String {
    let mut s = String::from("\"");
    for ch in v.chars() {
        if matches!(ch, '"' | '`' | '$') {
            s.push('`');
        }
        s.push(ch);
    }
    s.push('"');
    s
}

async fn export(opts: &Opts) -> CliResult<()> {
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
        "json" => format!("{}\n", serde_json::to_string_pretty(&process_json(&c)).expect("JSON")),
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

// ─── doctor ────────────────────────────────────────────────────────────────────────────────

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

async fn doctor() -> CliResult<()> {
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
        if let Err(e) = serde_json::from_str::<Value>(&text) {
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
            if let Some(mfa) = &plan.mfa {
                devices.entry(mfa.serial.clone()).or_default().push(plan);
            }
        }
        for (serial, plans) in devices {
            let names: BTreeSet<&str> =
                plans.iter().filter_map(|p| p.mfa.as_ref()).map(|m| m.profile.as_str()).collect();
            let names = names.into_iter().collect::<Vec<_>>().join(", ");
            let process = plans.iter().filter_map(|p| p.mfa.as_ref()?.mfa_process.clone()).next();
            let cached = plans
                .iter()
                .filter_map(|p| mfa_session_entry(p, entries.iter()).or_else(|| session_entry(p, entries.iter())))
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
                Some(_) => r.ok(format!("{device}: code from CDK_MFA_CODE (one STS call per process){cached}")),
                None => {
                    if let Some(cmd) = process {
                        r.ok(format!("{device}: code from mfa_process `{cmd}`{cached}"));
                    } else if terminal_available() {
                        r.ok(format!("{device}: code asked on this terminal{cached}"));
                    } else {
                        r.warn(
                            format!("{device}: no terminal here, no CDK_MFA_CODE and no mfa_process{cached}"),
                            format!(
                                "set CDK_MFA_CODE to the current code for one run, or add mfa_process = <command that \
                                 prints the code> to profile {names} in your AWS config"
                            ),
                        );
                    }
                }
            }
        }
    }

    // 3. The cache directory.
    check_cache_dir(&mut r, cache_dir.as_deref());

    // 4. The CDK CLI: version, and whether the `cdk` on PATH can load the plugin by name.
    check_cdk_version(&mut r, &inputs.cwd).await;
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

fn terminal_available() -> bool {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
    }
    #[cfg(windows)]
    {
        std::fs::OpenOptions::new().read(true).write(true).open("CONIN$").is_ok()
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
            #[cfg(unix)]
            {
                use std::os::unix::fs::{MetadataExt, PermissionsExt};
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    fine = false;
                    r.warn(
                        format!("cache: {d} is readable by others (mode {mode:o}); it holds session credentials"),
                        format!("chmod 700 {d} (the plugin also does it on its next run)"),
                    );
                }
                if meta.uid() != unsafe { libc::geteuid() } {
                    fine = false;
                    r.warn(
                        format!("cache: {d} belongs to another user (uid {})", meta.uid()),
                        "set CDK_MFA_RS_CACHE_DIR to a directory of your own",
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
            let all = DiskCache::at(dir).list();
            let bad = all.iter().filter(|(_, e)| e.is_err()).count();
            if bad > 0 {
                fine = false;
                r.warn(
                    format!(
                        "cache: {bad} unusable entr{} in {d} (they are replaced when next needed)",
                        if bad == 1 { "y" } else { "ies" }
                    ),
                    "cdk-mfa-rs logout --all",
                );
            }
            if fine {
                r.ok(format!(
                    "cache: {d} is private and writable ({} entr{})",
                    all.len(),
                    if all.len() == 1 { "y" } else { "ies" }
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

async fn check_cdk_version(r: &mut Report, cwd: &Path) {
    let (version, from) = match resolve_package(cwd, "aws-cdk").and_then(|p| Some((package_field(&p, "version")?, p))) {
        Some((v, p)) => (Some(v), p.display().to_string()),
        None => (npx_cdk_version(cwd).await, "npx --no-install cdk --version".to_string()),
    };
    let Some(version) = version else {
        r.warn(
            format!("CDK CLI: none found from {} (no node_modules/aws-cdk, npx finds no cdk)", cwd.display()),
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

async fn npx_cdk_version(cwd: &Path) -> Option<String> {
    let npx = if cfg!(windows) { "npx.cmd" } else { "npx" };
    let mut cmd = tokio::process::Command::new(npx);
    cmd.args(["--no-install", "cdk", "--version"])
        .current_dir(cwd)
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output()).await.ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.split_whitespace().next()?;
    first.chars().next()?.is_ascii_digit().then(|| first.to_string())
}

/// `plugin` entries of cdk.json and ~/.cdk.json.
fn plugin_entries(cwd: &Path, home: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut files = vec![cwd.join("cdk.json")];
    files.extend(home.map(|h| h.join(".cdk.json")));
    let mut out = Vec::new();
    for f in files {
        let Some(v) = std::fs::read_to_string(&f).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn cmd(name: &str) -> &'static Command {
        COMMANDS.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn options_in_both_forms_help_and_errors() {
        let Parsed::Run(_, o) = parse(cmd("export"), &args(&["--profile", "p", "--format=json"])).unwrap() else {
            panic!()
        };
        assert_eq!((o.get("profile"), o.get("format")), (Some("p"), Some("json")));
        assert!(matches!(parse(cmd("status"), &args(&["--json", "--help"])).unwrap(), Parsed::Help(_)));
        for (c, a, needle) in [
            ("status", vec!["--nope"], "unknown option --nope"),
            ("login", vec!["--profile"], "--profile needs a value"),
            ("logout", vec!["--all=1"], "takes no value"),
            ("doctor", vec!["extra"], "unexpected argument"),
        ] {
            let Err(e) = parse(cmd(c), &args(&a)) else { panic!("{c} {a:?}") };
            assert_eq!(e.code, 2);
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

    #[test]
    fn every_command_has_help_naming_it() {
        for c in COMMANDS {
            assert!(c.help.starts_with(&format!("Usage: cdk-mfa-rs {}", c.name)), "{}", c.name);
            assert!(c.help.contains("--help"));
            assert!(TOP_HELP.contains(c.name));
        }
    }

    #[test]
    fn relative_times() {
        let now = Utc::now();
        assert_eq!(relative(now + chrono::Duration::seconds(3 * 3600 + 12 * 60 + 5), now), "in 3h12m");
        assert_eq!(relative(now + chrono::Duration::seconds(3 * 3600 + 60), now), "in 3h01m");
        assert_eq!(relative(now + chrono::Duration::seconds(600), now), "in 10m");
        assert_eq!(relative(now - chrono::Duration::seconds(42), now), "expired 42s ago");
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("ASIA/abc+def=="), "ASIA/abc+def==");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(ps_quote("a$b\"c`"), "\"a`$b`\"c``\"");
    }
}
