//! On-disk cache of temporary credentials: one JSON file per MFA session and per assumed role,
//! plus a lock file per entry so that two processes never prompt for the same session.
//!
//! Files are 0600 in a 0700 directory, written atomically (temp file, fsync, rename). They hold
//! temporary credentials and their expiry only: never long-term keys, never an MFA code.
//!
//! The directory may be shared with other files (`CDK_MFA_RS_CACHE_DIR` can point anywhere):
//! only files with our names *and* our content are ever read as entries, counted or removed.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::creds::Creds;
use crate::error::{Error, Result};

// Ownership, modes and symbolic links differ by platform: one leaf module each.
#[cfg(not(unix))]
mod other;
#[cfg(unix)]
mod unix;
#[cfg(not(unix))]
use other as platform;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows_acl;

pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &str = "cdk-mfa-rs";
/// How `put` starts every file (pretty JSON, `format` first): an interrupted write of ours
/// begins with these bytes, or with a part of them.
const SIGNATURE: &[u8] = b"{\n  \"format\": \"cdk-mfa-rs\"";
/// Entries are a few hundred bytes; anything much larger named like one is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// A write takes milliseconds: a temp file this old is left over, whatever its process.
const STALE_TEMP_AGE: Duration = Duration::from_secs(600);
/// How many names of other files to mention.
const NAMES_SHOWN: usize = 3;

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

    /// The key of an entry with these labels. The labels go into the file name (two profiles
    /// reaching one role keep one entry each instead of replacing each other's), and `get`
    /// serves an entry only for the key and labels it was written for.
    pub fn bound_to(&self, label: &Label) -> Key {
        // "+value" so that an absent label and an empty one differ.
        let part = |o: &Option<String>| o.as_deref().map_or(String::new(), |v| format!("+{v}"));
        Key::new(self.kind, &[&self.hash, &part(&label.profile), &part(&label.mfa_serial), &part(&label.role_arn)])
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
    /// The key (hash) it was written for: an entry copied onto another entry's name is not served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
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

/// A file named like an entry that cannot be used. `ours` is false when nothing proves that
/// cdk-mfa-rs wrote it (not our format, not a regular file of this user): it is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub why: String,
    pub ours: bool,
}

/// A file of ours found in the cache directory: an entry, or an unfinished write of one.
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub entry: std::result::Result<Entry, Unusable>,
}

impl Found {
    pub fn name(&self) -> String {
        self.path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned())
    }
}

/// Everything in the cache directory, sorted by what it is. Only files with our names are
/// opened; the others are only counted.
#[derive(Debug, Default)]
pub struct Scan {
    pub entries: Vec<Found>,
    /// Temp files of ours left by a write that never finished (its process died).
    pub stale_temps: Vec<Found>,
    lock_names: Vec<PathBuf>,
    /// Files that are not ours: how many, and the first few names.
    pub others: usize,
    pub other_names: BTreeSet<String>,
}

impl Scan {
    /// "package.json, cdk.json and 3 more" (a few names at most: the directory may be huge).
    pub fn others_text(&self) -> String {
        let names: Vec<&str> = self.other_names.iter().map(String::as_str).collect();
        match self.others - names.len() {
            0 => names.join(", "),
            more => format!("{} and {more} more", names.join(", ")),
        }
    }
}

/// What `remove` did with one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// Another process holds its lock (it is probably waiting for an MFA code).
    Busy,
    /// Not provably ours: left alone, for this reason.
    Kept(String),
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

/// "role R, profile P, MFA S" (labels only, nothing secret).
fn label_text(l: &Label) -> String {
    let parts: Vec<String> = [("role", &l.role_arn), ("profile", &l.profile), ("MFA", &l.mfa_serial)]
        .iter()
        .filter_map(|(what, v)| v.as_ref().map(|v| format!("{what} {v}")))
        .collect();
    if parts.is_empty() {
        "no labels".to_string()
    } else {
        parts.join(", ")
    }
}

/// Another owner's uid, and a mode open to others, as `open` judges a directory (for `doctor`).
pub fn owner_and_mode(meta: &fs::Metadata) -> (Option<u32>, Option<u32>) {
    (platform::foreign_owner(meta), platform::shared_mode(meta))
}

/// Who may read the cache directory according to its ACL, where an ACL decides (Windows:
/// `windows_acl.rs`); elsewhere owner and mode do (`owner_and_mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclCheck {
    /// Only the user, SYSTEM and Administrators: what protects it.
    Private(String),
    /// Other accounts can read it or change its ACL.
    Exposed { problem: String, fix: String },
    /// The ACL could not be read: never called private.
    Unknown(String),
}

/// `None` where the platform has no ACL to check (unix).
pub fn acl_check(dir: &Path) -> Option<AclCheck> {
    platform::acl_check(dir)
}

/// The files this module writes, recognised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    /// `role-<40 hex>.json`, `mfa-session-<40 hex>.json`
    Entry,
    /// the same stem with `.lock`
    Lock,
    /// `.<entry>.<pid>.<nanoseconds>.tmp`
    Temp { pid: u32 },
    /// `.probe-<pid>-<nanoseconds>`
    Probe,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_entry_stem(s: &str) -> bool {
    let hex = s.strip_prefix("role-").or_else(|| s.strip_prefix("mfa-session-"));
    hex.is_some_and(|h| h.len() == 40 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn classify(name: &str) -> Option<Name> {
    if let Some(stem) = name.strip_suffix(".json") {
        return is_entry_stem(stem).then_some(Name::Entry);
    }
    if let Some(stem) = name.strip_suffix(".lock") {
        return is_entry_stem(stem).then_some(Name::Lock);
    }
    let hidden = name.strip_prefix('.')?;
    if let Some(probe) = hidden.strip_prefix("probe-") {
        return probe.split('-').all(digits).then_some(Name::Probe);
    }
    let mut parts = hidden.strip_suffix(".tmp")?.rsplitn(3, '.');
    let (nanos, pid, entry) = (parts.next()?, parts.next()?, parts.next()?);
    let entry_ok = entry.strip_suffix(".json").is_some_and(is_entry_stem);
    (entry_ok && digits(nanos) && digits(pid)).then(|| Name::Temp { pid: pid.parse().unwrap_or(0) })
}

/// Does this content prove the file is ours? Our format, whatever its version.
fn is_our_format(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .is_ok_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(MAGIC))
}

/// An interrupted write of ours: complete, or a beginning of what `put` writes.
fn is_our_partial_write(bytes: &[u8]) -> bool {
    is_our_format(bytes) || bytes.starts_with(SIGNATURE) || SIGNATURE.starts_with(bytes)
}

/// Why a file named like ours could not be read as ours.
enum ReadError {
    Absent,
    /// Not provably ours (a link, not a regular file, another user's, too large).
    Foreign(String),
    Io(String),
}

/// Read a file that should be ours: never through a symbolic link, only a regular file of this
/// user, and at most `MAX_FILE_BYTES`.
fn read_own(path: &Path) -> std::result::Result<Vec<u8>, ReadError> {
    let file = platform::private_file(OpenOptions::new().read(true)).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::Absent
        } else if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            ReadError::Foreign("a symbolic link, not a file of cdk-mfa-rs".to_string())
        } else {
            ReadError::Io(format!("cannot read it: {e}"))
        }
    })?;
    let meta = file.metadata().map_err(|e| ReadError::Io(format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(ReadError::Foreign("not a regular file".to_string()));
    }
    if let Some(uid) = platform::foreign_owner(&meta) {
        return Err(ReadError::Foreign(format!("it belongs to another user (uid {uid})")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::Foreign(format!("{} bytes, far more than a cache entry", meta.len())));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).map_err(|e| ReadError::Io(format!("cannot read it: {e}")))?;
    Ok(bytes)
}

/// Read a file named like an entry: the entry, or why not and whether it is ours anyway.
fn read_entry(path: &Path) -> std::result::Result<Entry, Unusable> {
    let bytes = read_own(path).map_err(|e| match e {
        ReadError::Absent => Unusable { why: "removed meanwhile".to_string(), ours: false },
        ReadError::Foreign(why) => Unusable { why, ours: false },
        ReadError::Io(why) => Unusable { why, ours: false },
    })?;
    parse_entry(&bytes).map_err(|why| Unusable { why, ours: is_our_format(&bytes) })
}

fn age(path: &Path) -> Option<Duration> {
    SystemTime::now().duration_since(fs::symlink_metadata(path).ok()?.modified().ok()?).ok()
}

/// Left by a write that will never finish: its process is gone, or it is far too old.
fn is_stale_temp(path: &Path, pid: u32) -> bool {
    platform::process_alive(pid) == Some(false) || age(path).is_some_and(|a| a > STALE_TEMP_AGE)
}

impl DiskCache {
    /// Create (0700) or check the directory. Returns warnings to print; an unusable directory
    /// is an `Err` whose message says why: the caller then runs without a cache.
    pub fn open(dir: &Path) -> Result<(DiskCache, Vec<String>)> {
        let mut warnings = Vec::new();
        let d = dir.display();
        platform::create_private_dir(dir)
            .map_err(|e| Error::new(format!("cannot create the cache directory {d}: {e}")))?;
        let handle =
            platform::open_dir(dir).map_err(|e| Error::new(format!("cannot read the cache directory {d}: {e}")))?;
        let meta = handle.metadata().map_err(|e| Error::new(format!("cannot read the cache directory {d}: {e}")))?;
        if let Some(uid) = platform::foreign_owner(&meta) {
            // Its owner could plant entries we would serve, or links we would follow.
            return Err(Error::new(format!(
                "the cache directory {d} belongs to another user (uid {uid}), who could plant or read sessions \
                 there: it is not used; set CDK_MFA_RS_CACHE_DIR to a directory of your own"
            )));
        }
        let cache = DiskCache { dir: dir.to_path_buf() };
        if let Some(mode) = platform::shared_mode(&meta) {
            let scan = cache.scan();
            if scan.others > 0 {
                // Not a directory of ours alone: changing its mode would change it for its owner's
                // other files, so it is neither changed nor used.
                return Err(Error::new(format!(
                    "the cache directory {d} is open to others (mode {mode:o}) and holds files that are not \
                     cdk-mfa-rs's ({}): its mode is left as it is and it is not used; set CDK_MFA_RS_CACHE_DIR \
                     to a directory of its own",
                    scan.others_text()
                )));
            }
            // Others could read cached session credentials: tighten, and say so.
            handle.make_private().map_err(|e| {
                Error::new(format!(
                    "the cache directory {d} is readable by others (mode {mode:o}) and cannot be made private: {e}; \
                     fix its permissions (chmod 700) or set CDK_MFA_RS_CACHE_DIR"
                ))
            })?;
            warnings.push(format!("the cache directory {d} was readable by others (mode {mode:o}); changed it to 700"));
        }
        // Probe writability now, so a read-only directory is reported once, up front.
        let probe = dir.join(format!(".probe-{}-{}", std::process::id(), nanos()));
        match platform::private_file(OpenOptions::new().write(true).create_new(true)).open(&probe) {
            Ok(_) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e) => return Err(Error::new(format!("the cache directory {d} is not writable: {e}"))),
        }
        cache.remove_stale_temps();
        Ok((cache, warnings))
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

    /// The entry for `key`, if it is ours, fresh, and was written for this key and these labels.
    pub fn get(&self, key: &Key, label: &Label) -> std::result::Result<Entry, Miss> {
        let path = self.path(key);
        let bytes = match read_own(&path) {
            Ok(b) => b,
            Err(ReadError::Absent) => return Err(Miss::Absent),
            Err(ReadError::Foreign(why) | ReadError::Io(why)) => {
                return Err(Miss::Unusable(format!("{}: {why}", path.display())))
            }
        };
        let entry = parse_entry(&bytes).map_err(|why| Miss::Unusable(format!("{}: {why}", path.display())))?;
        if entry.kind != key.kind {
            return Err(Miss::Unusable(format!("{}: holds a {:?} entry", path.display(), entry.kind)));
        }
        if entry.key.as_deref() != Some(key.hash.as_str()) || entry.label != *label {
            return Err(Miss::Unusable(format!(
                "{}: written for another entry ({}), not this one ({})",
                path.display(),
                label_text(&entry.label),
                label_text(label)
            )));
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
            key: Some(key.hash.clone()),
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

    /// Every file in the directory, sorted by what it is; only files named like ours are read.
    pub fn scan(&self) -> Scan {
        let mut scan = Scan::default();
        let Ok(rd) = fs::read_dir(&self.dir) else { return scan };
        for e in rd.filter_map(|e| e.ok()) {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            match classify(&name) {
                Some(Name::Entry) => scan.entries.push(Found { entry: read_entry(&path), path }),
                Some(Name::Lock) => scan.lock_names.push(path),
                Some(Name::Temp { pid }) => match read_own(&path) {
                    Ok(bytes) if is_our_partial_write(&bytes) => {
                        if is_stale_temp(&path, pid) {
                            let entry = parse_entry(&bytes).map_err(|_| Unusable {
                                why: "an unfinished write (its process died)".to_string(),
                                ours: true,
                            });
                            scan.stale_temps.push(Found { path, entry });
                        }
                    }
                    Err(ReadError::Absent) => {}
                    _ => scan.add_other(name),
                },
                Some(Name::Probe) => {}
                None => scan.add_other(name),
            }
        }
        scan.entries.sort_by(|a, b| a.path.cmp(&b.path));
        scan.stale_temps.sort_by(|a, b| a.path.cmp(&b.path));
        scan
    }

    /// Every file named like an entry (valid or not) with its parse result, for `status`.
    pub fn list(&self) -> Vec<(PathBuf, std::result::Result<Entry, String>)> {
        self.scan().entries.into_iter().map(|f| (f.path, f.entry.map_err(|u| u.why))).collect()
    }

    /// Remove one entry (or unfinished write) found by `scan`, with its lock file, if it is
    /// provably ours and no other process holds its lock.
    pub fn remove_found(&self, f: &Found) -> std::io::Result<Removal> {
        if let Err(Unusable { why, ours: false }) = &f.entry {
            return Ok(Removal::Kept(why.clone()));
        }
        let lock_path = f.path.with_extension("lock");
        let lock = if classify(&f.name()) == Some(Name::Entry) { open_lock_file(&lock_path).ok() } else { None };
        let lock = lock.filter(is_our_lock);
        if let Some(l) = &lock {
            match l.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(Removal::Busy),
                Err(fs::TryLockError::Error(_)) => {}
            }
        }
        match fs::remove_file(&f.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if lock.is_some() {
            let _ = fs::remove_file(&lock_path);
        }
        Ok(Removal::Removed)
    }

    /// Temp files of ours whose write will never finish (its process died): one may hold a
    /// session that no entry names any more.
    fn remove_stale_temps(&self) {
        let Ok(rd) = fs::read_dir(&self.dir) else { return };
        for e in rd.filter_map(|e| e.ok()) {
            let path = e.path();
            let Some(Name::Temp { pid }) = classify(&e.file_name().to_string_lossy()) else { continue };
            if is_stale_temp(&path, pid) && read_own(&path).is_ok_and(|b| is_our_partial_write(&b)) {
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// Lock files of ours whose entry is gone (a prompt that was cancelled leaves one behind):
    /// an empty regular file of this user that no process holds.
    pub fn remove_orphan_locks(&self, scan: &Scan) {
        for p in &scan.lock_names {
            if fs::symlink_metadata(p.with_extension("json")).is_ok() {
                continue;
            }
            let Ok(f) = open_lock_file(p) else { continue };
            if is_our_lock(&f) && f.try_lock().is_ok() {
                let _ = fs::remove_file(p);
            }
        }
    }

    /// Exclusive cross-process lock for one key ("check cache → prompt → STS → write").
    /// Waits while another process holds it (that process may be showing the MFA prompt).
    pub async fn lock(&self, key: &Key, wait: Duration) -> std::result::Result<FileLock, LockError> {
        let path = self.dir.join(format!("{}-{}.lock", key.kind.prefix(), key.hash));
        let unavailable =
            |why: String| LockError::Unavailable(Error::new(format!("the lock file {}: {why}", path.display())));
        // Never through a planted link; the mode is set on what was opened, not on the path.
        let file = platform::private_file(OpenOptions::new().create(true).truncate(false).write(true))
            .open(&path)
            .map_err(|e| match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => unavailable("a symbolic link, not followed".to_string()),
                _ => unavailable(format!("cannot open it: {e}")),
            })?;
        let meta = file.metadata().map_err(|e| unavailable(format!("cannot read it: {e}")))?;
        if !meta.is_file() {
            return Err(unavailable("not a regular file".to_string()));
        }
        if let Some(uid) = platform::foreign_owner(&meta) {
            return Err(unavailable(format!("it belongs to another user (uid {uid})")));
        }
        if meta.len() > 0 {
            // Ours are always empty: this one holds someone's data (or is a hard link to it).
            return Err(unavailable(format!("{} bytes: not a lock file of cdk-mfa-rs, left alone", meta.len())));
        }
        let _ = platform::make_file_private(&file);
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

impl Scan {
    fn add_other(&mut self, name: String) {
        self.others += 1;
        self.other_names.insert(name);
        if self.other_names.len() > NAMES_SHOWN {
            self.other_names.pop_last();
        }
    }
}

/// A lock file of ours: an empty regular file of this user (nothing is ever written into one).
fn is_our_lock(f: &File) -> bool {
    f.metadata().is_ok_and(|m| m.is_file() && m.len() == 0 && platform::foreign_owner(&m).is_none())
}

/// An existing lock file, opened without following a link and without creating it.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    platform::private_file(OpenOptions::new().write(true)).open(path)
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

fn nanos() -> u128 {
    SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    let tmp =
        dir.join(format!(".{}.{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), std::process::id(), nanos()));
    let result = (|| {
        let mut f = platform::private_file(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
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
        let label = Label { profile: Some("p".into()), ..Default::default() };
        assert_eq!(cache.get(&key, &label).unwrap_err(), Miss::Absent);
        cache.put(&key, label.clone(), &creds(60)).unwrap();
        let e = cache.get(&key, &label).unwrap();
        assert_eq!(e.credentials, creds(60).clone_with_expiry(e.credentials.expiration));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join(key.file_name())), 0o600);
        }
        cache.put(&key, label.clone(), &creds(9)).unwrap();
        assert_eq!(cache.get(&key, &label).unwrap_err(), Miss::Expired);
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
            match cache.get(&key, &Label::default()) {
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

    #[cfg(unix)]
    #[test]
    fn shared_directory_with_other_files_is_neither_chmodded_nor_used() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("package.json"), "{}").unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let err = DiskCache::open(t.path()).unwrap_err();
        assert!(err.message().contains("holds files that are not cdk-mfa-rs's (package.json)"), "{err}");
        assert_eq!(fs::metadata(t.path()).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn only_our_names_are_ours() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(classify(&format!("role-{hex}.json")), Some(Name::Entry));
        assert_eq!(classify(&format!("mfa-session-{hex}.lock")), Some(Name::Lock));
        assert_eq!(classify(&format!(".role-{hex}.json.42.1700000000000000000.tmp")), Some(Name::Temp { pid: 42 }));
        assert_eq!(classify(".probe-42-17"), Some(Name::Probe));
        for other in [
            "package.json",
            "cdk.json",
            &format!("{hex}.json"),
            &format!("role-{}.json", hex.to_uppercase()),
            &format!("role-{hex}0.json"),
            &format!("session-{hex}.json"),
            "build.lock",
            &format!(".role-{hex}.json.x.1.tmp"),
            ".package.json.1.2.tmp",
            ".probe-x",
        ] {
            assert_eq!(classify(other), None, "{other}");
        }
    }

    #[test]
    fn put_starts_with_the_signature_of_our_writes() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::Role, &["sig"]);
        cache.put(&key, Label::default(), &creds(60)).unwrap();
        let bytes = fs::read(t.path().join(key.file_name())).unwrap();
        assert!(bytes.starts_with(SIGNATURE));
        for n in 0..bytes.len() {
            assert!(is_our_partial_write(&bytes[..n]));
        }
        assert!(!is_our_partial_write(b"{\"Credentials\": {}}"));
    }

    /// Root can give a file to another user: what an attacker on a shared box would own.
    #[cfg(unix)]
    fn give_to_other_user(p: &Path) -> bool {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("not root: cannot make a file another user's; skipped");
            return false;
        }
        std::os::unix::fs::lchown(p, Some(4242), Some(4242)).unwrap();
        true
    }

    #[cfg(unix)]
    #[test]
    fn directory_of_another_user_is_refused_and_left_as_it_is() {
        use std::os::unix::fs::PermissionsExt;
        for mode in [0o777, 0o700] {
            let t = tempfile::tempdir().unwrap();
            let key = Key::new(Kind::Role, &["planted"]);
            fs::write(t.path().join(key.file_name()), "{}").unwrap();
            fs::set_permissions(t.path(), fs::Permissions::from_mode(mode)).unwrap();
            if !give_to_other_user(t.path()) {
                return;
            }
            let err = DiskCache::open(t.path()).unwrap_err();
            assert!(err.message().contains("belongs to another user (uid 4242)"), "{err}");
            assert_eq!(fs::metadata(t.path()).unwrap().permissions().mode() & 0o777, mode);
            assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1, "nothing written there");
        }
    }

    #[cfg(unix)]
    #[test]
    fn entry_of_another_user_is_not_served() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::Role, &["planted"]);
        cache.put(&key, Label::default(), &creds(60)).unwrap();
        if !give_to_other_user(&t.path().join(key.file_name())) {
            return;
        }
        match cache.get(&key, &Label::default()) {
            Err(Miss::Unusable(m)) => assert!(m.contains("belongs to another user (uid 4242)"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn planted_probe_and_entry_symlinks_are_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let precious = outside.path().join("precious");
        fs::write(&precious, "precious").unwrap();
        std::os::unix::fs::symlink(&precious, t.path().join(format!(".probe-{}", std::process::id()))).unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        assert_eq!(fs::read_to_string(&precious).unwrap(), "precious", "not truncated through the probe link");
        let key = Key::new(Kind::Role, &["linked"]);
        let mut entry = tempfile::NamedTempFile::new_in(outside.path()).unwrap();
        let json = serde_json::to_vec(&Entry {
            format: MAGIC.into(),
            version: FORMAT_VERSION,
            kind: Kind::Role,
            key: Some(key.hash.clone()),
            label: Label::default(),
            credentials: creds(60),
        })
        .unwrap();
        entry.write_all(&json).unwrap();
        std::os::unix::fs::symlink(entry.path(), t.path().join(key.file_name())).unwrap();
        match cache.get(&key, &Label::default()) {
            Err(Miss::Unusable(m)) => assert!(m.contains("symbolic link"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    /// A file named like our lock but holding data (ours are always empty; a hard link to a file of
    /// the user's looks the same): `logout` does not remove it with the entry, `lock` does not
    /// chmod it.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_lock_named_file_with_content_is_neither_removed_nor_chmodded() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::Role, &["with a data lock"]);
        let precious = outside.path().join("notes.txt");
        fs::write(&precious, "precious").unwrap();
        fs::set_permissions(&precious, fs::Permissions::from_mode(0o644)).unwrap();
        let lock_path = t.path().join(format!("{}-{}.lock", key.kind.prefix(), key.hash));
        fs::hard_link(&precious, &lock_path).unwrap();
        match cache.lock(&key, Duration::from_millis(100)).await {
            Err(LockError::Unavailable(e)) => assert!(e.message().contains("not a lock file of cdk-mfa-rs"), "{e}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("locked a file holding data"),
        }
        assert_eq!(fs::metadata(&precious).unwrap().permissions().mode() & 0o777, 0o644, "mode unchanged");
        cache.put(&key, Label::default(), &creds(60)).unwrap();
        let scan = cache.scan();
        assert!(matches!(cache.remove_found(&scan.entries[0]), Ok(Removal::Removed)));
        assert!(!t.path().join(key.file_name()).exists(), "our entry is removed");
        assert_eq!(fs::read_to_string(&lock_path).unwrap(), "precious", "the file named like its lock is not");
        cache.remove_orphan_locks(&cache.scan());
        assert!(lock_path.exists());
    }

    /// A FIFO named like an entry, an unfinished write or a lock (planted in a directory of ours
    /// that others could write, or one `status`/`doctor`/`logout` is pointed at) must not make a
    /// read or open wait for a writer forever.
    #[cfg(unix)]
    #[tokio::test]
    async fn planted_fifos_do_not_hang() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        fs::set_permissions(t.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let key = Key::new(Kind::Role, &["fifo"]);
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let temp = format!(".{}.{}.1.tmp", key.file_name(), gone.id());
        let lock = format!("{}-{}.lock", key.kind.prefix(), key.hash);
        for name in [key.file_name(), temp, lock] {
            let c = std::ffi::CString::new(t.path().join(name).into_os_string().into_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let dir = t.path().to_path_buf();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let cache = DiskCache::at(&dir);
            let scan = cache.scan();
            let found = cache.get(&key, &Label::default());
            let opened = DiskCache::open(&dir).map(|_| ());
            let locked = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap()
                .block_on(cache.lock(&key, Duration::from_millis(100)))
                .map(|_| ());
            cache.remove_orphan_locks(&scan);
            let _ = done.send((scan, found, opened, locked));
        });
        let (scan, found, opened, locked) =
            finished.recv_timeout(Duration::from_secs(10)).expect("a planted FIFO made the cache wait forever");
        assert!(matches!(&scan.entries[0].entry, Err(Unusable { ours: false, .. })));
        assert!(matches!(found, Err(Miss::Unusable(m)) if m.contains("not a regular file")));
        assert!(opened.is_ok(), "{opened:?}");
        assert!(matches!(locked, Err(LockError::Unavailable(_))));
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 3, "nothing removed");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn planted_lock_symlinks_are_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let lock_name = |k: &Key| t.path().join(format!("{}-{}.lock", k.kind.prefix(), k.hash));
        // A link to an existing file: its mode must not change (it went 0644 → 0600).
        let existing = outside.path().join("root-file");
        fs::write(&existing, "x").unwrap();
        fs::set_permissions(&existing, fs::Permissions::from_mode(0o644)).unwrap();
        let a = Key::new(Kind::MfaSession, &["a"]);
        std::os::unix::fs::symlink(&existing, lock_name(&a)).unwrap();
        // A link to a path of the planter's choosing: nothing may appear there.
        let chosen = outside.path().join("chosen");
        let b = Key::new(Kind::Role, &["b"]);
        std::os::unix::fs::symlink(&chosen, lock_name(&b)).unwrap();
        for key in [&a, &b] {
            match cache.lock(key, Duration::from_millis(100)).await {
                Err(LockError::Unavailable(e)) => assert!(e.message().contains("symbolic link, not followed"), "{e}"),
                Err(other) => panic!("{other:?}"),
                Ok(_) => panic!("locked through a link"),
            }
        }
        assert_eq!(fs::metadata(&existing).unwrap().permissions().mode() & 0o777, 0o644);
        assert!(!chosen.exists());
    }

    #[test]
    fn an_entry_copied_onto_another_entrys_name_is_not_served() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let role = |account: &str| Label {
            profile: Some(format!("p{account}")),
            mfa_serial: None,
            role_arn: Some(format!("arn:aws:iam::{account}:role/Admin")),
        };
        let (l111, l222) = (role("111111111111"), role("222222222222"));
        let k111 = Key::new(Kind::Role, &["base", "arn:aws:iam::111111111111:role/Admin"]).bound_to(&l111);
        let k222 = Key::new(Kind::Role, &["base", "arn:aws:iam::222222222222:role/Admin"]).bound_to(&l222);
        cache.put(&k111, l111.clone(), &creds(60)).unwrap();
        assert!(cache.get(&k111, &l111).is_ok());
        fs::copy(t.path().join(k111.file_name()), t.path().join(k222.file_name())).unwrap();
        match cache.get(&k222, &l222) {
            Err(Miss::Unusable(m)) => {
                assert!(m.contains("written for another entry (role arn:aws:iam::111111111111"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        // Its labels rewritten to 222's: the recorded key still differs.
        let text = fs::read_to_string(t.path().join(k111.file_name())).unwrap().replace("111111111111", "222222222222");
        fs::write(t.path().join(k222.file_name()), text).unwrap();
        assert!(matches!(cache.get(&k222, &l222), Err(Miss::Unusable(_))));
        // Labels are part of the name: two profiles reaching one role keep one entry each.
        let base = Key::new(Kind::Role, &["same"]);
        assert_ne!(base.bound_to(&l111), base.bound_to(&Label { profile: Some("other".into()), ..l111.clone() }));
        assert_ne!(
            base.bound_to(&Label::default()),
            base.bound_to(&Label { profile: Some(String::new()), ..Default::default() })
        );
    }

    #[cfg(unix)] // the writer's pid tells whether it is alive
    #[test]
    fn unfinished_writes_of_dead_writers_are_counted_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let (cache, _) = DiskCache::open(t.path()).unwrap();
        let key = Key::new(Kind::MfaSession, &["tmp"]);
        cache.put(&key, Label::default(), &creds(600)).unwrap();
        let full = fs::read(t.path().join(key.file_name())).unwrap();
        fs::remove_file(t.path().join(key.file_name())).unwrap();
        let dead = {
            let mut child = std::process::Command::new("rustc")
                .arg("--version")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let pid = child.id();
            child.wait().unwrap();
            pid
        };
        let me = std::process::id();
        let tmp = |pid: u32, n: u32| t.path().join(format!(".{}.{pid}.{n}.tmp", key.file_name()));
        fs::write(tmp(dead, 1), &full).unwrap(); // killed before its rename: a whole session
        fs::write(tmp(me, 2), &full[..20]).unwrap(); // being written right now
        fs::write(tmp(me, 3), &full[..20]).unwrap(); // ... but for an hour: left over
        File::options()
            .write(true)
            .open(tmp(me, 3))
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        fs::write(tmp(dead, 4), "{\"someone\": \"else\"}").unwrap(); // our name, not our format
        let scan = cache.scan();
        let stale: Vec<String> = scan.stale_temps.iter().map(Found::name).collect();
        assert_eq!(stale.len(), 2, "{stale:?}");
        assert!(scan.stale_temps.iter().any(|f| f.entry.is_ok()), "the whole session is read as an entry");
        assert_eq!(scan.others, 1);
        DiskCache::open(t.path()).unwrap();
        let left: BTreeSet<PathBuf> = fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(left, BTreeSet::from([tmp(me, 2), tmp(dead, 4)]));
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
