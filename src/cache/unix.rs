//! Unix specifics of the cache: files opened without following symbolic links, ownership by
//! the effective uid, modes changed on the open descriptor (no path race), writer liveness.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Open options for a file of ours: never through a symbolic link (a planted link would make
/// us write or chmod a file of the link's choosing), created 0600. `O_NONBLOCK`: a FIFO named
/// like ours would otherwise block the open until someone opens its other end (a hang); on a
/// regular file it changes nothing, and a FIFO then fails the regular-file check.
pub fn private_file(opts: &mut OpenOptions) -> &mut OpenOptions {
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC).mode(0o600)
}

/// The directory itself, opened once so that its owner and mode are checked and changed on the
/// same object (fstat/fchmod), not looked up again by path.
pub struct Dir(File);

pub fn open_dir(dir: &Path) -> io::Result<Dir> {
    let f = OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC).open(dir)?;
    Ok(Dir(f))
}

impl Dir {
    pub fn metadata(&self) -> io::Result<Metadata> {
        self.0.metadata()
    }

    /// chmod 700 through the descriptor.
    pub fn make_private(&self) -> io::Result<()> {
        self.0.set_permissions(fs::Permissions::from_mode(0o700))
    }
}

/// chmod 600 through the descriptor.
pub fn make_file_private(f: &File) -> io::Result<()> {
    f.set_permissions(fs::Permissions::from_mode(0o600))
}

/// The owner's uid when it is not the effective uid of this process.
pub fn foreign_owner(meta: &Metadata) -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    (meta.uid() != me).then_some(meta.uid())
}

/// The permission bits when group or others have any access.
pub fn shared_mode(meta: &Metadata) -> Option<u32> {
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Is the process that named a temp file still running? `None` when that cannot be told.
pub fn process_alive(pid: u32) -> Option<bool> {
    let pid = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)?;
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return Some(true);
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::ESRCH) => Some(false),
        // EPERM: it exists but belongs to someone else.
        _ => Some(true),
    }
}

/// Owner and mode decide here (`foreign_owner`, `shared_mode`): no ACL to check.
pub fn acl_check(_dir: &Path) -> Option<super::AclCheck> {
    None
}
