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
}

impl Profiles {
    pub async fn load(env: &Env, fs: &Fs) -> Result<Profiles> {
        let set = aws_config::profile::load(fs, env, &ProfileFiles::default(), None).await.map_err(|e| {
            // The parse error itself carries file and line; the outer one only says "could not parse".
            let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            Error::new(format!("cannot read the AWS profiles: {}", detail.replace('\n', " ")))
        })?;
        Ok(Profiles { set, files: profile_file_paths(env) })
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.set.get_profile(name)
    }

    /// The profile, or an error naming it, the files read and the profiles that exist.
    pub fn require(&self, name: &str) -> Result<&Profile> {
        self.get(name).ok_or_else(|| {
            let mut names: Vec<&str> = self.set.profiles().collect();
            names.sort_unstable();
            Error::new(format!(
                "AWS profile \"{name}\" does not exist (read {}; profiles there: {}); add it or fix the mapping",
                self.files.join(" and "),
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ))
        })
    }

    pub fn has_sso_session(&self, name: &str) -> bool {
        self.set.sso_session(name).is_some()
    }
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
