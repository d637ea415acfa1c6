//! The companion command `cdk-mfa-rs` (`cli.js` → [`run_cli`]): status, login, logout, doctor,
//! credential-process and export. It shares the plugin's configuration, plans, cache and MFA
//! prompt. Nothing secret is printed, except on the stdout of `credential-process` and
//! `export`, whose purpose it is. A failure is one line `cdk-mfa-rs: <reason>` on stderr.
//!
//! Layout: this file holds the entry point, argument parsing, help texts, dispatch and the small
//! shared helpers; `status.rs`, `session.rs` (login, logout, credential-process, export) and
//! `doctor.rs` hold the commands; `project.rs` reads the project in the current directory and
//! matches plans to cache entries.

mod doctor;
mod project;
mod session;
mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::config::Mode;
use crate::creds::Creds;
use crate::error::Error;
use crate::plan::Plan;

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
            write_all(Stream::Err, &format!("cdk-mfa-rs: {line}\n"));
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
/// Control characters from profile names or config values are escaped here, for all output.
fn write_all(stream: Stream, text: &str) {
    let text = crate::printable::printable(text, crate::printable::Lines::Keep);
    let mut rest = text.as_bytes();
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
    write_all(Stream::Out, text);
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
        "status" => status::status(&opts).await,
        "login" => session::login(&opts).await,
        "logout" => session::logout(&opts).await,
        "doctor" => doctor::doctor().await,
        "credential-process" => session::credential_process(&opts).await,
        "export" => session::export(&opts).await,
        _ => unreachable!("every command is dispatched"),
    }
}

// ─── shared helpers ────────────────────────────────────────────────────────────────────────

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

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Read => "read",
        Mode::Write => "write",
    }
}

/// "profile dev (→ arn:…:role/x)" or "role arn:… via profile src".
fn via(plan: &Plan) -> String {
    match plan.steps.last() {
        Some(step) if plan.target.starts_with("profile ") => format!("{} → {}", plan.target, step.role_arn),
        _ => plan.target.clone(),
    }
}

fn expiry_text(c: &Creds) -> String {
    c.expiration.map_or("no expiry".to_string(), when)
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
