//! Plugin configuration: which AWS profile or conventional role serves which account.
//!
//! Read from (lowest to highest precedence, merged per account):
//! `<cwd>/package.json` (`awsProfiles` only, as cdk-multi-profile-plugin did),
//! `<cwd>/cdkmultiprofileplugin.json`, and the global `~/.cdkmultiprofileplugin.json`
//! (`CDK_MULTI_PROFILE_PLUGIN_CONFIG` overrides its path). The conventional-role keys of
//! cdk-assume-role-credential-plugin come from `cdk.context.json`, `cdk.json` and `-c`/`--context`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::prompt::Method as PromptMethod;

pub const DEFAULT_READ_ROLE: &str = "cdk-readOnlyRole";
pub const DEFAULT_WRITE_ROLE: &str = "cdk-writeRole";
pub const DEFAULT_MFA_SESSION_SECONDS: u32 = 43_200;
const CONTEXT_READ_KEY: &str = "assume-role-credentials:readIamRoleName";
const CONTEXT_WRITE_KEY: &str = "assume-role-credentials:writeIamRoleName";

/// The CDK CLI's two modes, as it numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Read,
    Write,
}

impl Mode {
    pub fn from_js(mode: u32) -> Result<Mode> {
        match mode {
            0 => Ok(Mode::Read),
            1 => Ok(Mode::Write),
            other => {
                Err(Error::new(format!("unknown credential mode {other} (expected 0 = ForReading or 1 = ForWriting)")))
            }
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Read => "ForReading",
            Mode::Write => "ForWriting",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMapping {
    pub read: String,
    pub write: String,
    /// The file whose value won, for error messages.
    pub file: PathBuf,
}

impl ProfileMapping {
    pub fn for_mode(&self, mode: Mode) -> &str {
        match mode {
            Mode::Read => &self.read,
            Mode::Write => &self.write,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// Every account not mapped in `awsProfiles`.
    All,
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleConfig {
    pub source_profile: Option<String>,
    pub read_role_name: String,
    pub write_role_name: String,
    pub accounts: Accounts,
    pub external_id: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub region: Option<String>,
}

impl AssumeRoleConfig {
    pub fn role_name(&self, mode: Mode) -> &str {
        match mode {
            Mode::Read => &self.read_role_name,
            Mode::Write => &self.write_role_name,
        }
    }

    pub fn covers(&self, account: &str) -> bool {
        match &self.accounts {
            Accounts::All => true,
            Accounts::List(list) => list.iter().any(|a| a == account),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaStrategy {
    /// GetSessionToken once when the base credentials are long-term, else per role.
    Auto,
    Session,
    PerRole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    pub aws_profiles: BTreeMap<String, ProfileMapping>,
    pub assume_role: Option<AssumeRoleConfig>,
    pub mfa_session_duration_seconds: u32,
    pub mfa_strategy: MfaStrategy,
    /// How to ask for an MFA code: `CDK_MFA_PROMPT`, else `mfaPrompt`, else auto.
    pub mfa_prompt: PromptMethod,
    /// Every configuration file that existed and was read, lowest precedence first.
    pub files_read: Vec<PathBuf>,
}

/// The settings of a project without any configuration file.
impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            aws_profiles: BTreeMap::new(),
            assume_role: None,
            mfa_session_duration_seconds: DEFAULT_MFA_SESSION_SECONDS,
            mfa_strategy: MfaStrategy::Auto,
            mfa_prompt: PromptMethod::Auto,
            files_read: Vec::new(),
        }
    }
}

/// What configuration loading depends on, so tests need no real HOME or cwd.
#[derive(Debug, Clone, Default)]
pub struct ConfigInputs {
    pub cwd: PathBuf,
    pub home: Option<PathBuf>,
    /// `CDK_MULTI_PROFILE_PLUGIN_CONFIG`.
    pub global_config_override: Option<PathBuf>,
    /// The process arguments (`-c key=value` / `--context key=value`).
    pub args: Vec<String>,
    /// `CDK_MFA_PROMPT`: wins over `mfaPrompt` (one run differs from the project's habit).
    pub prompt_override: Option<String>,
}

impl ConfigInputs {
    pub fn from_process() -> ConfigInputs {
        ConfigInputs {
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            home: crate::home_dir(),
            global_config_override: std::env::var_os("CDK_MULTI_PROFILE_PLUGIN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            args: std::env::args().collect(),
            prompt_override: crate::env_var("CDK_MFA_PROMPT"),
        }
    }

    pub fn global_config_path(&self) -> Option<PathBuf> {
        self.global_config_override
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".cdkmultiprofileplugin.json")))
    }
}

/// `CDK_MFA_RS_DISABLE` / `IGNORE_CDK_MULTI_PROFILE_PLUGIN`: only 1/true/yes disable.
pub fn disabled_by(value: Option<&str>) -> bool {
    matches!(value.map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("1" | "true" | "yes"))
}

pub fn is_disabled_by_env() -> bool {
    ["CDK_MFA_RS_DISABLE", "IGNORE_CDK_MULTI_PROFILE_PLUGIN"]
        .iter()
        .any(|k| disabled_by(std::env::var(k).ok().as_deref()))
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Read a JSON file; `Ok(None)` when it does not exist.
fn read_json(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::new(format!("cannot read {}: {e}", path.display()))),
    };
    parse_json(path, &text).map(Some)
}

/// The text without a leading UTF-8 byte order mark, which editors on Windows write and the
/// CDK CLI accepts (serde_json does not).
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

pub fn parse_json(path: &Path, text: &str) -> Result<Value> {
    serde_json::from_str(without_bom(text)).map_err(|e| {
        Error::new(format!(
            "invalid JSON in {} at line {}, column {}: {}; fix or remove the file",
            path.display(),
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })
}

/// serde_json appends " at line L column C"; we already say where.
fn strip_position(msg: &str) -> &str {
    msg.find(" at line ").map_or(msg, |i| &msg[..i])
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(path: &Path, key: &str, expected: &str, got: &Value) -> Error {
    Error::new(format!("{}: \"{key}\" must be {expected}, not {}", path.display(), type_name(got)))
}

fn get_string(path: &Path, obj: &Map<String, Value>, key: &str, ctx: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(Error::new(format!("{}: \"{ctx}{key}\" is empty; remove it or give a value", path.display())))
        }
        Some(Value::String(s)) => one_line(path, &format!("{ctx}{key}"), s).map(Some),
        Some(other) => Err(wrong_type(path, &format!("{ctx}{key}"), "a string", other)),
    }
}

/// Names, ids and regions are one line: a line break in one would print as a line of its own in
/// `status` and `doctor` (a forged "OK" line); no AWS profile or IAM role name can hold one.
fn one_line(path: &Path, key: &str, s: &str) -> Result<String> {
    if s.contains(['\n', '\r']) {
        return Err(Error::new(format!("{}: \"{key}\" holds a line break; it must be one line", path.display())));
    }
    Ok(s.to_string())
}

fn get_seconds(path: &Path, obj: &Map<String, Value>, key: &str, ctx: &str, range: (u32, u32)) -> Result<Option<u32>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v >= range.0 as u64 && v <= range.1 as u64 => Ok(Some(v as u32)),
            _ => Err(Error::new(format!(
                "{}: \"{ctx}{key}\" is {n}; it must be a whole number of seconds from {} to {}",
                path.display(),
                range.0,
                range.1
            ))),
        },
        Some(other) => Err(wrong_type(path, &format!("{ctx}{key}"), "a number of seconds", other)),
    }
}

/// `awsProfiles` of one file: account → mapping.
fn parse_aws_profiles(path: &Path, root: &Value) -> Result<BTreeMap<String, ProfileMapping>> {
    let mut out = BTreeMap::new();
    let Some(v) = root.get("awsProfiles") else { return Ok(out) };
    let obj = match v {
        Value::Null => return Ok(out),
        Value::Object(o) => o,
        other => return Err(wrong_type(path, "awsProfiles", "an object of account id → profile", other)),
    };
    for (account, value) in obj {
        if !is_account_id(account) {
            return Err(Error::new(format!(
                "{}: awsProfiles key \"{account}\" is not a 12-digit AWS account id",
                path.display()
            )));
        }
        let mapping = match value {
            Value::String(p) if !p.trim().is_empty() => {
                let p = one_line(path, &format!("awsProfiles.{account}"), p)?;
                ProfileMapping { read: p.clone(), write: p, file: path.to_path_buf() }
            }
            Value::Object(o) => {
                let ctx = format!("awsProfiles.{account}.");
                for k in o.keys() {
                    if k != "read" && k != "write" {
                        return Err(Error::new(format!(
                            "{}: unknown key \"{ctx}{k}\" (expected \"read\" and \"write\")",
                            path.display()
                        )));
                    }
                }
                let read = get_string(path, o, "read", &ctx)?;
                let write = get_string(path, o, "write", &ctx)?;
                match (read, write) {
                    (Some(read), Some(write)) => ProfileMapping { read, write, file: path.to_path_buf() },
                    _ => {
                        return Err(Error::new(format!(
                            "{}: \"awsProfiles.{account}\" needs both \"read\" and \"write\" profiles",
                            path.display()
                        )))
                    }
                }
            }
            other => {
                return Err(wrong_type(
                    path,
                    &format!("awsProfiles.{account}"),
                    "a profile name or {\"read\": …, \"write\": …}",
                    other,
                ))
            }
        };
        out.insert(account.clone(), mapping);
    }
    Ok(out)
}

/// The `assumeRole` section as written (every key optional), so files can be merged key by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct AssumeRolePartial {
    source_profile: Option<String>,
    read_role_name: Option<String>,
    write_role_name: Option<String>,
    accounts: Option<Accounts>,
    external_id: Option<String>,
    role_session_name: Option<String>,
    duration_seconds: Option<u32>,
    region: Option<String>,
}

impl AssumeRolePartial {
    /// Fill unset keys from `lower`.
    fn or(self, lower: AssumeRolePartial) -> AssumeRolePartial {
        AssumeRolePartial {
            source_profile: self.source_profile.or(lower.source_profile),
            read_role_name: self.read_role_name.or(lower.read_role_name),
            write_role_name: self.write_role_name.or(lower.write_role_name),
            accounts: self.accounts.or(lower.accounts),
            external_id: self.external_id.or(lower.external_id),
            role_session_name: self.role_session_name.or(lower.role_session_name),
            duration_seconds: self.duration_seconds.or(lower.duration_seconds),
            region: self.region.or(lower.region),
        }
    }
}

const ASSUME_ROLE_KEYS: &[&str] = &[
    "sourceProfile",
    "readRoleName",
    "writeRoleName",
    "accounts",
    "externalId",
    "roleSessionName",
    "durationSeconds",
    "region",
];

fn parse_assume_role(path: &Path, root: &Value) -> Result<Option<AssumeRolePartial>> {
    let obj = match root.get("assumeRole") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(wrong_type(path, "assumeRole", "an object", other)),
    };
    for k in obj.keys() {
        if !ASSUME_ROLE_KEYS.contains(&k.as_str()) {
            return Err(Error::new(format!(
                "{}: unknown key \"assumeRole.{k}\" (known: {})",
                path.display(),
                ASSUME_ROLE_KEYS.join(", ")
            )));
        }
    }
    let ctx = "assumeRole.";
    let accounts = match obj.get("accounts") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "*" => Some(Accounts::All),
        Some(Value::Array(items)) => {
            let mut list = Vec::new();
            for item in items {
                match item {
                    Value::String(a) if is_account_id(a) => list.push(a.clone()),
                    other => {
                        return Err(Error::new(format!(
                            "{}: \"assumeRole.accounts\" has {}; every entry must be a 12-digit account id string",
                            path.display(),
                            match other {
                                Value::String(s) => format!("\"{s}\""),
                                v => type_name(v).to_string(),
                            }
                        )))
                    }
                }
            }
            Some(Accounts::List(list))
        }
        Some(other) => return Err(wrong_type(path, "assumeRole.accounts", "\"*\" or a list of account ids", other)),
    };
    Ok(Some(AssumeRolePartial {
        source_profile: get_string(path, obj, "sourceProfile", ctx)?,
        read_role_name: get_string(path, obj, "readRoleName", ctx)?,
        write_role_name: get_string(path, obj, "writeRoleName", ctx)?,
        accounts,
        external_id: get_string(path, obj, "externalId", ctx)?,
        role_session_name: get_string(path, obj, "roleSessionName", ctx)?,
        duration_seconds: get_seconds(path, obj, "durationSeconds", ctx, (900, 43_200))?,
        region: get_string(path, obj, "region", ctx)?,
    }))
}

/// Settings of one `cdkmultiprofileplugin.json`.
#[derive(Debug, Default)]
struct FileSettings {
    aws_profiles: BTreeMap<String, ProfileMapping>,
    assume_role: Option<AssumeRolePartial>,
    mfa_session_duration_seconds: Option<u32>,
    mfa_strategy: Option<MfaStrategy>,
    mfa_prompt: Option<PromptMethod>,
}

fn parse_plugin_file(path: &Path, root: &Value, package_json: bool) -> Result<FileSettings> {
    if !root.is_object() {
        return Err(Error::new(format!("{}: must hold a JSON object, not {}", path.display(), type_name(root))));
    }
    let mut s = FileSettings { aws_profiles: parse_aws_profiles(path, root)?, ..Default::default() };
    if package_json {
        // package.json belongs to npm; only `awsProfiles` is ours there.
        return Ok(s);
    }
    let obj = root.as_object().expect("checked above");
    s.assume_role = parse_assume_role(path, root)?;
    s.mfa_session_duration_seconds = get_seconds(path, obj, "mfaSessionDurationSeconds", "", (900, 129_600))?;
    s.mfa_strategy = match obj.get("mfaStrategy") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) => Some(match v.as_str() {
            "auto" => MfaStrategy::Auto,
            "session" => MfaStrategy::Session,
            "per-role" => MfaStrategy::PerRole,
            other => {
                return Err(Error::new(format!(
                    "{}: \"mfaStrategy\" is \"{other}\"; use \"auto\", \"session\" or \"per-role\"",
                    path.display()
                )))
            }
        }),
        Some(other) => return Err(wrong_type(path, "mfaStrategy", "a string", other)),
    };
    s.mfa_prompt = match obj.get("mfaPrompt") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) => Some(PromptMethod::from_name(v).ok_or_else(|| {
            Error::new(format!("{}: \"mfaPrompt\" is \"{v}\"; use {}", path.display(), PromptMethod::CHOICES))
        })?),
        Some(other) => return Err(wrong_type(path, "mfaPrompt", "a string", other)),
    };
    Ok(s)
}

/// The two context keys of cdk-assume-role-credential-plugin, highest precedence first:
/// command line, cdk.json `context`, cdk.context.json (the CDK CLI's own order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct ContextRoles {
    read: Option<String>,
    write: Option<String>,
}

fn context_from_args(args: &[String]) -> ContextRoles {
    let mut out = ContextRoles::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let value = if arg == "-c" || arg == "--context" {
            i += 1;
            args.get(i).map(String::as_str)
        } else {
            arg.strip_prefix("--context=").or_else(|| arg.strip_prefix("-c="))
        };
        if let Some((k, v)) = value.and_then(|kv| kv.split_once('=')) {
            // Later occurrences win, as in the CLI's yargs parsing.
            match k {
                CONTEXT_READ_KEY => out.read = Some(v.to_string()),
                CONTEXT_WRITE_KEY => out.write = Some(v.to_string()),
                _ => {}
            }
        }
        i += 1;
    }
    out
}

fn context_from_value(path: &Path, ctx: Option<&Value>) -> Result<ContextRoles> {
    let Some(Value::Object(obj)) = ctx else { return Ok(ContextRoles::default()) };
    let read = get_string(path, obj, CONTEXT_READ_KEY, "context.")?;
    let write = get_string(path, obj, CONTEXT_WRITE_KEY, "context.")?;
    Ok(ContextRoles { read, write })
}

/// Context keys from cdk.json, then cdk.context.json (the first wins, as in the CLI).
fn context_roles_from_files(inputs: &ConfigInputs, files_read: &mut Vec<PathBuf>) -> Result<ContextRoles> {
    let mut roles = ContextRoles::default();
    let cdk_json = inputs.cwd.join("cdk.json");
    if let Some(v) = read_json(&cdk_json)? {
        let c = context_from_value(&cdk_json, v.get("context"))?;
        roles.read = roles.read.or(c.read);
        roles.write = roles.write.or(c.write);
    }
    let cdk_context = inputs.cwd.join("cdk.context.json");
    if let Some(v) = read_json(&cdk_context)? {
        let c = context_from_value(&cdk_context, Some(&v))?;
        if c != ContextRoles::default() {
            files_read.push(cdk_context);
        }
        roles.read = roles.read.or(c.read);
        roles.write = roles.write.or(c.write);
    }
    Ok(roles)
}

pub fn load(inputs: &ConfigInputs) -> Result<PluginConfig> {
    let mut files_read = Vec::new();
    // Lowest precedence first; each later file overrides per account / per key.
    let mut layers: Vec<FileSettings> = Vec::new();
    let mut places =
        vec![(inputs.cwd.join("package.json"), true), (inputs.cwd.join("cdkmultiprofileplugin.json"), false)];
    if let Some(global) = inputs.global_config_path() {
        places.push((global, false));
    }
    for (path, is_package_json) in places {
        if let Some(root) = read_json(&path)? {
            layers.push(parse_plugin_file(&path, &root, is_package_json)?);
            files_read.push(path);
        }
    }

    let mut aws_profiles = BTreeMap::new();
    let mut assume_role: Option<AssumeRolePartial> = None;
    let mut mfa_session = None;
    let mut mfa_strategy = None;
    let mut mfa_prompt = None;
    for layer in layers {
        aws_profiles.extend(layer.aws_profiles);
        if let Some(ar) = layer.assume_role {
            assume_role = Some(match assume_role {
                Some(lower) => ar.or(lower),
                None => ar,
            });
        }
        mfa_session = layer.mfa_session_duration_seconds.or(mfa_session);
        mfa_strategy = layer.mfa_strategy.or(mfa_strategy);
        mfa_prompt = layer.mfa_prompt.or(mfa_prompt);
    }
    if let Some(v) = &inputs.prompt_override {
        mfa_prompt = Some(
            PromptMethod::from_name(v)
                .ok_or_else(|| Error::new(format!("CDK_MFA_PROMPT is \"{v}\"; use {}", PromptMethod::CHOICES)))?,
        );
    }

    // Role names: command line > assumeRole section > cdk.json > cdk.context.json > defaults.
    let cli = context_from_args(&inputs.args);
    let files = context_roles_from_files(inputs, &mut files_read)?;
    let convention_on = assume_role.is_some() || cli != ContextRoles::default() || files != ContextRoles::default();
    let assume_role = convention_on.then(|| {
        let ar = assume_role.unwrap_or_default();
        AssumeRoleConfig {
            source_profile: ar.source_profile,
            read_role_name: (cli.read.or(ar.read_role_name).or(files.read)).unwrap_or_else(|| DEFAULT_READ_ROLE.into()),
            write_role_name: (cli.write.or(ar.write_role_name).or(files.write))
                .unwrap_or_else(|| DEFAULT_WRITE_ROLE.into()),
            accounts: ar.accounts.unwrap_or(Accounts::All),
            external_id: ar.external_id,
            role_session_name: ar.role_session_name,
            duration_seconds: ar.duration_seconds,
            region: ar.region,
        }
    });

    Ok(PluginConfig {
        aws_profiles,
        assume_role,
        mfa_session_duration_seconds: mfa_session.unwrap_or(DEFAULT_MFA_SESSION_SECONDS),
        mfa_strategy: mfa_strategy.unwrap_or(MfaStrategy::Auto),
        mfa_prompt: mfa_prompt.unwrap_or_default(),
        files_read,
    })
}

/// How one account is reached, decided from configuration alone (no STS call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Profile(&'a str),
    Convention(&'a AssumeRoleConfig),
}

impl PluginConfig {
    /// `awsProfiles` wins over the convention for the accounts it maps.
    pub fn route(&self, account: &str, mode: Mode) -> Option<Route<'_>> {
        if let Some(m) = self.aws_profiles.get(account) {
            return Some(Route::Profile(m.for_mode(mode)));
        }
        match &self.assume_role {
            Some(ar) if ar.covers(account) => Some(Route::Convention(ar)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(tempfile::TempDir);

    impl Dir {
        fn new() -> Dir {
            Dir(tempfile::tempdir().unwrap())
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        }
        fn inputs(&self) -> ConfigInputs {
            ConfigInputs {
                cwd: self.0.path().join("project"),
                home: Some(self.0.path().join("home")),
                global_config_override: None,
                args: vec![],
                prompt_override: None,
            }
        }
    }

    #[test]
    fn precedence_global_over_project_over_package_json_per_account() {
        let d = Dir::new();
        d.write(
            "project/package.json",
            r#"{"name":"x","awsProfiles":{"111111111111":"pkg","222222222222":"pkg","333333333333":"pkg"}}"#,
        );
        d.write(
            "project/cdkmultiprofileplugin.json",
            r#"{"awsProfiles":{"222222222222":"project","333333333333":"project"}}"#,
        );
        d.write("home/.cdkmultiprofileplugin.json", r#"{"awsProfiles":{"333333333333":"global"}}"#);
        let c = load(&d.inputs()).unwrap();
        assert_eq!(c.aws_profiles["111111111111"].read, "pkg");
        assert_eq!(c.aws_profiles["222222222222"].read, "project");
        assert_eq!(c.aws_profiles["333333333333"].write, "global");
        assert_eq!(c.files_read.len(), 3);
    }

    #[test]
    fn global_path_override_and_read_write_split() {
        let d = Dir::new();
        let g = d.write("elsewhere/g.json", r#"{"awsProfiles":{"111111111111":{"read":"ro","write":"rw"}}}"#);
        d.write("home/.cdkmultiprofileplugin.json", r#"{"awsProfiles":{"111111111111":"ignored"}}"#);
        let mut i = d.inputs();
        i.global_config_override = Some(g);
        let c = load(&i).unwrap();
        assert_eq!(c.route("111111111111", Mode::Read), Some(Route::Profile("ro")));
        assert_eq!(c.route("111111111111", Mode::Write), Some(Route::Profile("rw")));
        assert_eq!(c.route("999999999999", Mode::Write), None);
    }

    #[test]
    fn invalid_json_names_file_line_and_column() {
        let d = Dir::new();
        let p = d.write(
            "project/cdkmultiprofileplugin.json",
            "{\n  \"awsProfiles\": {\n    \"111111111111\": \"a\",\n  }\n}",
        );
        let e = load(&d.inputs()).unwrap_err();
        assert!(e.message().contains(&p.display().to_string()), "{e}");
        assert!(e.message().contains("line 4, column 3"), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_accepted_in_every_json_file() {
        let d = Dir::new();
        let bom = "\u{feff}";
        d.write("project/package.json", &format!(r#"{bom}{{"name":"x","awsProfiles":{{"111111111111":"pkg"}}}}"#));
        d.write(
            "project/cdkmultiprofileplugin.json",
            &format!(r#"{bom}{{"awsProfiles":{{"222222222222":"p"}},"assumeRole":{{"accounts":["444444444444"]}}}}"#),
        );
        d.write("home/.cdkmultiprofileplugin.json", &format!(r#"{bom}{{"awsProfiles":{{"333333333333":"g"}}}}"#));
        d.write("project/cdk.json", &format!(r#"{bom}{{"app":"x","context":{{"{CONTEXT_READ_KEY}":"ctx-read"}}}}"#));
        let i = d.inputs();
        let c = load(&i).unwrap();
        assert_eq!(c.assume_role.unwrap().read_role_name, "ctx-read");
        assert_eq!(c.aws_profiles["111111111111"].read, "pkg");
        assert_eq!(c.aws_profiles["222222222222"].read, "p");
        assert_eq!(c.aws_profiles["333333333333"].read, "g");
        // A BOM anywhere else is still an error.
        d.write("project/cdkmultiprofileplugin.json", &format!(r#"{{{bom}"awsProfiles":{{}}}}"#));
        assert!(load(&i).is_err());
    }

    #[test]
    fn invalid_json_in_package_json_and_global_is_an_error_too() {
        let d = Dir::new();
        d.write("project/package.json", "{");
        assert!(load(&d.inputs()).unwrap_err().message().contains("package.json at line 1"));
        let d = Dir::new();
        d.write("home/.cdkmultiprofileplugin.json", "[1,");
        assert!(load(&d.inputs()).unwrap_err().message().contains(".cdkmultiprofileplugin.json at line 1"));
    }

    #[test]
    fn account_key_not_12_digits_names_file_and_key() {
        let d = Dir::new();
        d.write("project/cdkmultiprofileplugin.json", r#"{"awsProfiles":{"12345":"p"}}"#);
        let e = load(&d.inputs()).unwrap_err();
        assert!(e.message().contains("cdkmultiprofileplugin.json"), "{e}");
        assert!(e.message().contains("\"12345\" is not a 12-digit"), "{e}");
    }

    #[test]
    fn wrong_types_are_named() {
        let d = Dir::new();
        d.write("project/cdkmultiprofileplugin.json", r#"{"awsProfiles":{"111111111111":42}}"#);
        let e = load(&d.inputs()).unwrap_err();
        assert!(e.message().contains("\"awsProfiles.111111111111\" must be a profile name"), "{e}");
        d.write("project/cdkmultiprofileplugin.json", r#"{"awsProfiles":[]}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("\"awsProfiles\" must be an object"));
        d.write("project/cdkmultiprofileplugin.json", r#"{"mfaSessionDurationSeconds":"12h"}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("mfaSessionDurationSeconds"));
        d.write("project/cdkmultiprofileplugin.json", r#"{"mfaStrategy":"sometimes"}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("per-role"));
        d.write("project/cdkmultiprofileplugin.json", r#"{"assumeRole":{"accounts":["1"]}}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("assumeRole.accounts"));
        d.write("project/cdkmultiprofileplugin.json", r#"{"assumeRole":{"readRole":"x"}}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("unknown key \"assumeRole.readRole\""));
    }

    #[test]
    fn defaults_without_any_file() {
        let d = Dir::new();
        let c = load(&d.inputs()).unwrap();
        assert!(c.aws_profiles.is_empty());
        assert_eq!(c.assume_role, None);
        assert_eq!(c.mfa_session_duration_seconds, 43_200);
        assert_eq!(c.mfa_strategy, MfaStrategy::Auto);
        assert_eq!(c.mfa_prompt, PromptMethod::Auto);
    }

    #[test]
    fn mfa_prompt_from_file_overridden_by_cdk_mfa_prompt() {
        let d = Dir::new();
        d.write("project/cdkmultiprofileplugin.json", r#"{"mfaPrompt":"dialog"}"#);
        assert_eq!(load(&d.inputs()).unwrap().mfa_prompt, PromptMethod::Dialog);
        d.write("home/.cdkmultiprofileplugin.json", r#"{"mfaPrompt":"none"}"#);
        assert_eq!(load(&d.inputs()).unwrap().mfa_prompt, PromptMethod::None);
        let env = ConfigInputs { prompt_override: Some("terminal".into()), ..d.inputs() };
        assert_eq!(load(&env).unwrap().mfa_prompt, PromptMethod::Terminal);
        let bad_env = ConfigInputs { prompt_override: Some("popup".into()), ..d.inputs() };
        let e = load(&bad_env).unwrap_err();
        assert!(
            e.message().contains("CDK_MFA_PROMPT is \"popup\"; use \"auto\", \"terminal\", \"dialog\" or \"none\""),
            "{e}"
        );
        d.write("project/cdkmultiprofileplugin.json", r#"{"mfaPrompt":"zenity"}"#);
        let e = load(&d.inputs()).unwrap_err();
        assert!(e.message().contains("cdkmultiprofileplugin.json: \"mfaPrompt\" is \"zenity\""), "{e}");
        d.write("project/cdkmultiprofileplugin.json", r#"{"mfaPrompt":true}"#);
        assert!(load(&d.inputs()).unwrap_err().message().contains("mfaPrompt"));
    }

    #[test]
    fn assume_role_section_turns_convention_on_and_profiles_win() {
        let d = Dir::new();
        d.write(
            "project/cdkmultiprofileplugin.json",
            r#"{"awsProfiles":{"111111111111":"dev"},"assumeRole":{"externalId":"x","durationSeconds":1800}}"#,
        );
        d.write("home/.cdkmultiprofileplugin.json", r#"{"assumeRole":{"sourceProfile":"shared"}}"#);
        let c = load(&d.inputs()).unwrap();
        let ar = c.assume_role.as_ref().unwrap();
        assert_eq!(ar.read_role_name, DEFAULT_READ_ROLE);
        assert_eq!(ar.write_role_name, DEFAULT_WRITE_ROLE);
        assert_eq!(ar.source_profile.as_deref(), Some("shared"));
        assert_eq!(ar.external_id.as_deref(), Some("x"));
        assert_eq!(ar.duration_seconds, Some(1800));
        assert_eq!(c.route("111111111111", Mode::Read), Some(Route::Profile("dev")));
        assert!(matches!(c.route("222222222222", Mode::Read), Some(Route::Convention(_))));
    }

    #[test]
    fn account_list_limits_the_convention() {
        let d = Dir::new();
        d.write("project/cdkmultiprofileplugin.json", r#"{"assumeRole":{"accounts":["222222222222"]}}"#);
        let c = load(&d.inputs()).unwrap();
        assert!(c.route("222222222222", Mode::Write).is_some());
        assert!(c.route("333333333333", Mode::Write).is_none());
    }

    #[test]
    fn context_keys_from_cdk_json_context_json_and_command_line() {
        let d = Dir::new();
        d.write(
            "project/cdk.context.json",
            r#"{"assume-role-credentials:readIamRoleName":"ctx-read","assume-role-credentials:writeIamRoleName":"ctx-write"}"#,
        );
        let c = load(&d.inputs()).unwrap();
        let ar = c.assume_role.unwrap();
        assert_eq!((ar.read_role_name.as_str(), ar.write_role_name.as_str()), ("ctx-read", "ctx-write"));

        d.write(
            "project/cdk.json",
            r#"{"app":"node app.js","context":{"assume-role-credentials:writeIamRoleName":"json-write"}}"#,
        );
        let mut i = d.inputs();
        i.args = vec![
            "node".into(),
            "cdk".into(),
            "-c".into(),
            "assume-role-credentials:readIamRoleName=cli-read-{ACCOUNT_ID}".into(),
        ];
        let ar = load(&i).unwrap().assume_role.unwrap();
        assert_eq!(ar.read_role_name, "cli-read-{ACCOUNT_ID}");
        assert_eq!(ar.write_role_name, "json-write");

        i.args = vec!["--context=assume-role-credentials:writeIamRoleName=eq-form".into()];
        assert_eq!(load(&i).unwrap().assume_role.unwrap().write_role_name, "eq-form");
    }

    #[test]
    fn command_line_beats_section_beats_context_files() {
        let d = Dir::new();
        d.write("project/cdk.context.json", r#"{"assume-role-credentials:readIamRoleName":"ctx"}"#);
        d.write("project/cdkmultiprofileplugin.json", r#"{"assumeRole":{"readRoleName":"section"}}"#);
        assert_eq!(load(&d.inputs()).unwrap().assume_role.unwrap().read_role_name, "section");
        let mut i = d.inputs();
        i.args = vec!["-c".into(), "assume-role-credentials:readIamRoleName=cli".into()];
        assert_eq!(load(&i).unwrap().assume_role.unwrap().read_role_name, "cli");
    }

    #[test]
    fn disable_values() {
        for v in ["1", "true", "TRUE", "yes", " Yes "] {
            assert!(disabled_by(Some(v)), "{v}");
        }
        for v in ["0", "false", "no", "", "off"] {
            assert!(!disabled_by(Some(v)), "{v}");
        }
        assert!(!disabled_by(None));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            "[0-9]{0,14}|[a-z{}/:*-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("awsProfiles".to_string()),
                        Just("assumeRole".to_string()),
                        Just("accounts".to_string()),
                        Just("read".to_string()),
                        Just("mfaStrategy".to_string()),
                        Just("mfaPrompt".to_string()),
                        Just("mfaSessionDurationSeconds".to_string()),
                        "[0-9]{12}",
                        "[a-zA-Z]{1,8}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Random bytes never panic the reader: they parse or give an error naming the file.
        #[test]
        fn random_bytes_error_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = parse_json(Path::new("/x/cdkmultiprofileplugin.json"), &text) {
                prop_assert!(e.message().starts_with("invalid JSON in /x/cdkmultiprofileplugin.json at line "));
            }
        }

        /// Random JSON never panics the config reader: it loads or errors naming the file.
        #[test]
        fn random_json_errors_cleanly(v in json_value(), package_json in any::<bool>()) {
            let path = Path::new("/x/cdkmultiprofileplugin.json");
            if let Err(e) = parse_plugin_file(path, &v, package_json) {
                prop_assert!(e.message().contains("/x/cdkmultiprofileplugin.json"), "{}", e);
            }
        }
    }
}
