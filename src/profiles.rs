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
    use crate::plan::tests::profiles;

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
