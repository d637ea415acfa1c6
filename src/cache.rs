//! On-disk cache of temporary credentials: one JSON file per MFA session and per assumed role,
//! plus a lock file per entry so that two processes never prompt for the same session.
//!
//! Files are 0600 in a 0700 directory, written atomically (temp file, fsync, rename). They hold
//! temporary credentials and their expiry only: never long-term keys, never an MFA code.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::creds::Creds;
use crate::error::{Error, Result};

pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &str = "cdk-mfa-rs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    MfaSession,
    Role,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::MfaSession => "mfa-session",
            Kind::Role => "role",
        }
    }
}

/// What an entry is for, without secrets: shown by `status`, matched by `logout`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// A cache key: a hash of everything that changes the result. It reveals no secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub kind: Kind,
    pub hash: String,
}

impl Key {
    pub fn new(kind: Kind, parts: &[&str]) -> Key {
        let mut h = Sha256::new();
        h.update(kind.prefix().as_bytes());
        for p in parts {
            // Length-prefixed so that ("ab","c") and ("a","bc") differ.
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        Key { kind, hash: hex::encode(&h.finalize()[..20]) }
    }

    pub fn file_name(&self) -> String {
        format!("{}-{}.json", self.kind.prefix(), self.hash)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub format: String,
    pub version: u32,
    pub kind: Kind,
    pub label: Label,
    pub credentials: Creds,
}

/// Why an entry was not used; `None` from `get` means simply absent.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    Absent,
    Expired,
    /// Corrupt, truncated, foreign or from a newer version: ignored and replaced.
    Unusable(String),
}

#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

pub fn default_dir(home: Option<&Path>) -> Option<PathBuf> {
    match std::env::var_os("CDK_MFA_RS_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => home.map(|h| h.join(".aws").join("cdk-mfa-rs").join("cache")),
    }
}

impl DiskCache {
    /// Create (0700) or check the directory. Returns warnings to print; an unusable directory
    /// is an `Err` whose message says why: the caller then runs without a cache.
    pub fn open(dir: &Path) -> Result<(DiskCache, Vec<String>)> {
        let mut warnings = Vec::new();
        create_private_dir(dir)
            .map_err(|e| Error::new(format!("cannot create the cache directory {}: {e}", dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = fs::metadata(dir)
                .map_err(|e| Error::new(format!("cannot read the cache directory {}: {e}", dir.display())))?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                // Others could read cached session credentials: tighten, and say so.
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
                    Error::new(format!(
                        "the cache directory {} is readable by others (mode {mode:o}) and cannot be made private: {e}; \
                         fix its permissions (chmod 700) or set CDK_MFA_RS_CACHE_DIR",
                        dir.display()
                    ))
                })?;
                warnings.push(format!(
                    "the cache directory {} was readable by others (mode {mode:o}); changed it to 700",
                    dir.display()
                ));
            }
        }
        // Probe writability now, so a read-only directory is reported once, up front.
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        match File::create(&probe) {
            Ok(_) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e) => return Err(Error::new(format!("the cache directory {} is not writable: {e}", dir.display()))),
        }
        Ok((DiskCache { dir: dir.to_path_buf() }, warnings))
    }

    /// A cache directory as it is, neither created nor checked: for `status`, `logout`, `doctor`.
    pub fn at(dir: &Path) -> DiskCache {
        DiskCache { dir: dir.to_path_buf() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    pub fn get(&self, key: &Key) -> std::result::Result<Entry, Miss> {
        let path = self.path(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Absent),
            Err(e) => return Err(Miss::Unusable(format!("cannot read {}: {e}", path.display()))),
        };
        let entry = parse_entry(&bytes).map_err(|why| Miss::Unusable(format!("{}: {why}", path.display())))?;
        if entry.kind != key.kind {
            return Err(Miss::Unusable(format!("{}: holds a {:?} entry", path.display(), entry.kind)));
        }
        if !entry.credentials.is_fresh() {
            return Err(Miss::Expired);
        }
        Ok(entry)
    }

    pub fn put(&self, key: &Key, label: Label, creds: &Creds) -> Result<()> {
        let entry = Entry {
            format: MAGIC.to_string(),
            version: FORMAT_VERSION,
            kind: key.kind,
            label,
            credentials: creds.clone(),
        };
        let json = serde_json::to_vec_pretty(&entry).expect("entry serialises");
        write_atomically(&self.path(key), &json)
            .map_err(|e| Error::new(format!("cannot write the cache file {}: {e}", self.path(key).display())))
    }

    pub fn remove(&self, key: &Key) {
        let _ = fs::remove_file(self.path(key));
    }

    /// Every entry file (valid or not) with its parse result, for `status` and `logout`.
    pub fn list(&self) -> Vec<(PathBuf, std::result::Result<Entry, String>)> {
        let Ok(rd) = fs::read_dir(&self.dir) else { return Vec::new() };
        let mut out: Vec<_> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let parsed = fs::read(&p).map_err(|e| e.to_string()).and_then(|b| parse_entry(&b));
                (p, parsed)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Exclusive cross-process lock for one key ("check cache → prompt → STS → write").
    /// Waits while another process holds it (that process may be showing the MFA prompt).
    pub async fn lock(&self, key: &Key, wait: Duration) -> std::result::Result<FileLock, LockError> {
        let path = self.dir.join(format!("{}-{}.lock", key.kind.prefix(), key.hash));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| {
            LockError::Unavailable(Error::new(format!("cannot open the lock file {}: {e}", path.display())))
        })?;
        set_private(&path);
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => {
                    return Err(LockError::Unavailable(Error::new(format!("cannot lock {}: {e}", path.display()))))
                }
            }
            if started.elapsed() >= wait {
                return Err(LockError::Busy(Error::new(format!(
                    "another process has held {} for {} s (it is probably waiting for an MFA code); \
                     answer or stop it, then try again",
                    path.display(),
                    wait.as_secs()
                ))));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Why a lock was not taken: another process kept it past the wait (an error for the caller),
/// or locking is not possible here (the caller goes on without it).
#[derive(Debug)]
pub enum LockError {
    Busy(Error),
    Unavailable(Error),
}

/// Held while one process fills one cache entry; closing the file releases the lock, also
/// when the process dies.
pub struct FileLock {
    _file: File,
}

fn parse_entry(bytes: &[u8]) -> std::result::Result<Entry, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e}); truncated or corrupt"))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(MAGIC) {
        return Err("not a cdk-mfa-rs cache entry".to_string());
    }
    match v.get("version").and_then(|f| f.as_u64()) {
        Some(n) if n == FORMAT_VERSION as u64 => {}
        Some(n) if n > FORMAT_VERSION as u64 => {
            return Err(format!("written by a newer cdk-mfa-rs (format {n}, this one reads {FORMAT_VERSION})"))
        }
        other => return Err(format!("unknown format version {other:?}")),
    }
    serde_json::from_value(v).map_err(|e| format!("unexpected content ({e})"))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn set_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    ));
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn creds(minutes: i64) -> Creds {
        Creds {
            access_key_id: "ASIATEST".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            expiration: Some(Utc::now() + chrono::Duration::minutes(minutes)),
        }
    }

    #[test]
    fn keys_differ_by_every_part_and_hide_inputs() {
        let a = Key::new(Kind::Role, &["AKIASECRETISH", "arn:aws:iam::1:role/r"]);
        let b = Key::new(Kind::Role, &["AKIASECRETISH", "arn:aws:iam::1:role/s"]);
        let c = Key::new(Kind::MfaSession, &["AKIASECRETISH", "arn:aws:iam::1:role/r"]);
        let d = Key::new(Kind::Role, &["AKIASECRETIS", "Harn:aws:iam::1:role/r"]);
        assert_ne!(a, b);
        assert_ne!(a.hash, c.hash);
        assert_ne!(a, d);
        assert!(!a.file_name().contains("AKIA"));
        assert_eq!(a.file_name().len(), "role-".len() + 40 + ".json".len());
    }

    #[test]
    fn roundtrip_permissions_and_expiry() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b/cache");
        let (cache, warnings) = DiskCache::open(&dir).unwrap();
        assert!(warnings.is_empty());
        let key = Key::new(Kind::MfaSession, &["x"]);
        assert_eq!(cache.get(&key).unwrap_err(), Miss::Absent);
        cache.put(&key, Label { profile: Some("p".into()), ..Default::default() }, &creds(60)).unwrap();
        let e = cache.get(&key).unwrap();
        assert_eq!(e.credentials, creds(60).clone_with_expiry(e.credentials.expiration));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(key.file_name())), 0o600);
        }
        cache.put(&key, Label::default(), &creds(9)).unwrap();
        assert_eq!(cache.get(&key).unwrap_err(), Miss::Expired);
        // No temp files left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn corrupt_truncated_foreign_and_newer_entries_are_unusable() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::Role, &["y"]);
        cache.put(&key, Label::default(), &creds(60)).unwrap();
        let path = t.path().join(key.file_name());
        let full = fs::read_to_string(&path).unwrap();
        for (bytes, why) in [
            (full[..full.len() / 2].to_string(), "truncated"),
            ("\u{0}\u{1}garbage".to_string(), "truncated or corrupt"),
            (r#"{"accessKeyId":"x"}"#.to_string(), "not a cdk-mfa-rs cache entry"),
            (full.replace("\"version\": 1", "\"version\": 99"), "newer cdk-mfa-rs"),
        ] {
            fs::write(&path, bytes).unwrap();
            match cache.get(&key) {
                Err(Miss::Unusable(m)) => assert!(m.contains(why), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_directory_is_tightened_with_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let (_, warnings) = DiskCache::open(t.path()).unwrap();
        assert!(warnings[0].contains("changed it to 700"), "{warnings:?}");
        assert_eq!(fs::metadata(t.path()).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[tokio::test]
    async fn lock_excludes_a_second_holder_until_released() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::MfaSession, &["z"]);
        let held = cache.lock(&key, Duration::from_secs(1)).await.unwrap();
        match cache.lock(&key, Duration::from_millis(200)).await.err().unwrap() {
            LockError::Busy(err) => assert!(err.message().contains("another process"), "{err}"),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(cache.lock(&key, Duration::from_millis(200)).await.is_ok());
    }

    impl Creds {
        fn clone_with_expiry(&self, e: Option<chrono::DateTime<Utc>>) -> Creds {
            Creds { expiration: e, ..self.clone() }
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Random bytes in a cache file never panic: they are an error that `get` turns into a miss.
        #[test]
        fn random_bytes_are_unusable_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_entry(&bytes);
        }

        /// Random JSON objects that claim to be ours never panic either.
        #[test]
        fn random_json_entries_error_cleanly(
            version in 0u32..4,
            key in "[a-zA-Z]{1,12}",
            value in "[ -~]{0,24}",
        ) {
            let text = format!(r#"{{"format":"cdk-mfa-rs","version":{version},"{key}":"{}"}}"#, value.replace(['\\', '"'], ""));
            prop_assert!(parse_entry(text.as_bytes()).is_err());
        }
    }
}
