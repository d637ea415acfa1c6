//! The cache on platforms without Unix ownership and modes (Windows): the directory under the
//! user's profile is private by its inherited ACL, so these checks have nothing to add; `doctor`
//! reads that ACL (`acl_check`, windows_acl.rs).

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

pub fn private_file(opts: &mut OpenOptions) -> &mut OpenOptions {
    opts
}

pub struct Dir(Metadata);

pub fn open_dir(dir: &Path) -> io::Result<Dir> {
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    Ok(Dir(meta))
}

impl Dir {
    pub fn metadata(&self) -> io::Result<Metadata> {
        Ok(self.0.clone())
    }

    pub fn make_private(&self) -> io::Result<()> {
        Ok(())
    }
}

pub fn make_file_private(_f: &File) -> io::Result<()> {
    Ok(())
}

pub fn foreign_owner(_meta: &Metadata) -> Option<u32> {
    None
}

pub fn shared_mode(_meta: &Metadata) -> Option<u32> {
    None
}

pub fn process_alive(_pid: u32) -> Option<bool> {
    None
}

#[cfg(windows)]
pub fn acl_check(dir: &Path) -> Option<super::AclCheck> {
    Some(super::windows_acl::check(dir))
}

#[cfg(not(windows))]
pub fn acl_check(_dir: &Path) -> Option<super::AclCheck> {
    None
}
