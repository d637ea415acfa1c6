//! AWS profiles, read by aws-config's own parser the way the AWS CLI reads them
//! (`~/.aws/config` + `~/.aws/credentials`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`).

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::EnvConfigFiles as ProfileFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Profiles {
    set: ProfileSet,
    /// The files consulted, for messages ("profile x not found in …").
    pub files: Vec<String>,
    /// Sections aws-config's parser drops without a word (the AWS CLI reads some of them).
    pub skipped: Vec<SkippedSection>,
}

/// A `[profile …]` section in the files that is not among the loaded profiles, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSection {
    pub name: String,
    /// `file:line` of the section header.
    pub at: String,
    pub why: String,
}

/// The largest AWS config or credentials file read. Real ones are kilobytes (thousands of
/// profiles are well under 1 MB); a 44 MB one with 400k profiles took 6 s and 447 MB to parse.
const MAX_PROFILE_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// How many profile names a "does not exist" error lists.
const NAMES_LISTED: usize = 10;

impl Profiles {
    pub async fn load(env: &Env, fs: &Fs) -> Result<Profiles> {
        for file in profile_file_paths(env) {
            // Before parsing: aws-config holds a whole file and every profile in memory.
            let size = std::fs::metadata(&file).map_or(0, |m| m.len());
            if size > MAX_PROFILE_FILE_BYTES {
                return Err(Error::new(format!(
                    "the AWS profile file {file} is {:.1} MB, more than the {} MB cdk-mfa-rs reads; point \
                     AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at a file with the profiles you use",
                    size as f64 / 1e6,
                    MAX_PROFILE_FILE_BYTES / (1024 * 1024)
                )));
            }
        }
        let set = aws_config::profile::load(fs, env, &ProfileFiles::default(), None).await.map_err(|e| {
            // The parse error itself carries file and line; the outer one only says "could not parse".
            let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            Error::new(format!("cannot read the AWS profiles: {}", detail.replace('\n', " ")))
        })?;
        let files = profile_file_paths(env);
        let mut skipped = Vec::new();
        for (i, file) in files.iter().enumerate() {
            // Read again for the headers only: aws-config does not say what it left out.
            if let Ok(bytes) = fs.read_to_end(file).await {
                let kind = if i == 0 { FileKind::Config } else { FileKind::Credentials };
                skipped.extend(skipped_sections(&String::from_utf8_lossy(&bytes), file, kind, &set));
            }
        }
        Ok(Profiles { set, files, skipped })
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.set.get_profile(name)
    }

    /// The profile, or an error naming it, the files read and the profiles that exist (or
    /// where its section is and why it was skipped).
    pub fn require(&self, name: &str) -> Result<&Profile> {
        self.get(name).ok_or_else(|| {
            if let Some(s) = self.skipped.iter().find(|s| s.name == name) {
                return Error::new(format!(
                    "AWS profile \"{name}\" is in {} but was skipped: {}; rename the section and the mapping",
                    s.at, s.why
                ));
            }
            let mut names: Vec<&str> = self.set.profiles().collect();
            names.sort_unstable();
            // A few names, not all: one line, whatever the size of the files.
            let listed = match names.len() {
                0 => "none".to_string(),
                n if n <= NAMES_LISTED => names.join(", "),
                n => format!("{} and {} more", names[..NAMES_LISTED].join(", "), n - NAMES_LISTED),
            };
            Error::new(format!(
                "AWS profile \"{name}\" does not exist (read {}; profiles there: {listed}); add it or fix the mapping",
                self.files.join(" and "),
            ))
        })
    }

    /// Where the AWS SDK sends STS calls for `profile`, when not to the default endpoint. Same
    /// precedence as the SDK: `AWS_ENDPOINT_URL_STS`, the profile's `services` section,
    /// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`. For messages and cache keys only: the
    /// SDK itself resolves the endpoint it uses.
    pub fn sts_endpoint(&self, profile: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let prop = |k: &str| profile.and_then(|p| self.get(p)).and_then(|p| p.get(k)).map(str::to_string);
        let from_services = || {
            let section = prop("services")?;
            let key = aws_runtime::env_config::property::PropertiesKey::builder()
                .section_key("services")
                .section_name(section)
                .property_name("sts")
                .sub_property_name("endpoint_url")
                .build()
                .ok()?;
            self.set.other_sections().get(&key).cloned()
        };
        env("AWS_ENDPOINT_URL_STS")
            .or_else(from_services)
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| prop("endpoint_url"))
    }

    pub fn has_sso_session(&self, name: &str) -> bool {
        self.set.sso_session(name).is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Config,
    Credentials,
}

/// aws-config's rule for profile names (`[A-Za-z0-9_\-/.%@:+]+`); the AWS CLI is laxer.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// Profile sections of `text` that aws-config leaves out, with the reason in its terms.
fn skipped_sections(text: &str, file: &str, kind: FileKind, loaded: &ProfileSet) -> Vec<SkippedSection> {
    let mut out: Vec<SkippedSection> = Vec::new();
    // Names already reported: a set, so that a file of many bad sections stays linear.
    let mut seen = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        // As aws-config reads a header: `[` in the first column, up to the last `]`.
        let Some(inner) = line.strip_prefix('[').and_then(|l| l.rfind(']').map(|end| &l[..end])) else {
            continue;
        };
        let inner = inner.trim_matches([' ', '\t']);
        let (prefix, name) = match inner.split_once([' ', '\t']) {
            Some((p, n)) => (Some(p.trim()), n.trim()),
            None => (None, inner),
        };
        let why = match (kind, prefix) {
            (FileKind::Config, Some("profile")) | (FileKind::Credentials, None) if !valid_name(name) => format!(
                "the AWS SDK for Rust accepts only A-Z a-z 0-9 and _ - / . % @ : + in a profile name, and \"{name}\" has \
                 other characters"
            ),
            (FileKind::Config, None) if name != "default" => {
                "a section of the AWS config file needs the prefix: [profile NAME]".to_string()
            }
            (FileKind::Credentials, Some("profile")) => {
                "a section of the credentials file is [NAME], without the prefix \"profile\"".to_string()
            }
            _ => continue,
        };
        if loaded.get_profile(name).is_none() && seen.insert(name) {
            out.push(SkippedSection { name: name.to_string(), at: format!("{file}:{}", n + 1), why });
        }
    }
    out
}

/// Where the AWS CLI looks, for messages only (aws-config does the actual reading).
fn profile_file_paths(env: &Env) -> Vec<String> {
    let home = env.get("HOME").or_else(|_| env.get("USERPROFILE")).ok();
    let pick = |var: &str, default: &str| match env.get(var) {
        Ok(v) if !v.is_empty() => v,
        _ => match &home {
            Some(h) => format!("{}/{default}", h.trim_end_matches('/')),
            None => format!("~/{default}"),
        },
    };
    vec![pick("AWS_CONFIG_FILE", ".aws/config"), pick("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::profiles;

    #[test]
    fn sections_the_sdk_skips_are_named_with_the_reason() {
        let p = profiles(
            "[profile dév]\nregion = eu-west-1\n[profile a[b]\nregion = eu-west-1\n[bare]\nregion = x\n\
             [default]\nregion = x\n[profile ok]\nregion = x\n[sso-session s]\nsso_region = x\n",
        );
        let names: Vec<(&str, &str)> = p.skipped.iter().map(|s| (s.name.as_str(), s.at.as_str())).collect();
        assert_eq!(
            names,
            [("dév", "/home/u/.aws/config:1"), ("a[b", "/home/u/.aws/config:3"), ("bare", "/home/u/.aws/config:5")]
        );
        let e = p.require("dév").unwrap_err();
        assert!(e.message().contains("AWS profile \"dév\" is in /home/u/.aws/config:1 but was skipped"), "{e}");
        assert!(e.message().contains("only A-Z a-z 0-9"), "{e}");
        assert!(p.require("a[b").unwrap_err().message().contains("config:3 but was skipped"));
        assert!(p.require("bare").unwrap_err().message().contains("needs the prefix: [profile NAME]"));
        assert!(p.require("ghost").unwrap_err().message().contains("\"ghost\" does not exist"));
        assert!(p.require("ok").is_ok());
    }

    #[test]
    fn does_not_exist_lists_a_few_names_only() {
        let config: String = (0..5000).map(|i| format!("[profile p{i:04}]\nregion = eu-west-1\n")).collect();
        let e = profiles(&config).require("ghost").unwrap_err();
        assert!(
            e.message().contains(
                "profiles there: p0000, p0001, p0002, p0003, p0004, p0005, p0006, p0007, p0008, p0009 and 4990 more)"
            ),
            "{e}"
        );
        assert!(e.message().len() < 400, "{} bytes", e.message().len());
    }

    #[test]
    fn a_huge_profile_file_is_refused_before_parsing() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("config");
        let section = "[profile p]\nrole_arn = arn:aws:iam::111111111111:role/R\nsource_profile = base\n";
        std::fs::write(&file, section.repeat(11 * 1024 * 1024 / section.len() + 1)).unwrap();
        let env = Env::from_slice(&[("HOME", "/nonexistent"), ("AWS_CONFIG_FILE", file.to_str().unwrap())]);
        let started = std::time::Instant::now();
        let e = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(Profiles::load(&env, &Fs::real()))
            .unwrap_err();
        assert!(e.message().contains("is 11.5 MB, more than the 10 MB cdk-mfa-rs reads"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn sts_endpoint_precedence_matches_the_sdk() {
        let p = profiles(
            "[profile both]\nendpoint_url = http://global\nservices = svc\n[services svc]\nsts =\n  endpoint_url = http://service\n\
             [profile global]\nendpoint_url = http://global\n[profile none]\nregion = eu-west-1\n",
        );
        let none = |_: &str| None;
        let env_all = |k: &str| match k {
            "AWS_ENDPOINT_URL_STS" => Some("http://env-sts".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://env-all".to_string()),
            _ => None,
        };
        let env_global = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "http://env-all".to_string());
        assert_eq!(p.sts_endpoint(Some("both"), &env_all).as_deref(), Some("http://env-sts"));
        assert_eq!(p.sts_endpoint(Some("both"), &env_global).as_deref(), Some("http://service"));
        assert_eq!(p.sts_endpoint(Some("global"), &env_global).as_deref(), Some("http://env-all"));
        assert_eq!(p.sts_endpoint(Some("global"), &none).as_deref(), Some("http://global"));
        assert_eq!(p.sts_endpoint(Some("none"), &none), None);
        assert_eq!(p.sts_endpoint(None, &none), None);
    }
}
