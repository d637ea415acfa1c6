//! Windows: access to the cache folder is decided by its ACL, not by owner and mode. The default
//! folder is under the user profile (%USERPROFILE%), whose ACL admits the user, SYSTEM and
//! Administrators only, and new folders and files inherit it. `check` reads the folder's DACL and
//! names every other account allowed to read it or to change its ACL, so a folder elsewhere (or
//! a loosened profile) is reported, never assumed private.

use std::ffi::c_void;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use std::ptr::null_mut;

use windows_sys::Win32::Foundation::{CloseHandle, LocalFree, HANDLE};
use windows_sys::Win32::Security::Authorization::{ConvertSidToStringSidW, GetNamedSecurityInfoW, SE_FILE_OBJECT};
use windows_sys::Win32::Security::{
    EqualSid, GetAce, GetTokenInformation, IsWellKnownSid, LookupAccountSidW, TokenUser, WinBuiltinAdministratorsSid,
    WinCreatorOwnerSid, WinLocalSystemSid, ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, PSID, SID_NAME_USE, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::AclCheck;

const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
// Rights that let an account read the cached credentials or rewrite who may.
const FILE_READ_DATA: u32 = 0x0001;
const WRITE_DAC: u32 = 0x0004_0000;
const WRITE_OWNER: u32 = 0x0008_0000;
const GENERIC_ALL: u32 = 0x1000_0000;
const GENERIC_READ: u32 = 0x8000_0000;
const REVEALING: u32 = FILE_READ_DATA | WRITE_DAC | WRITE_OWNER | GENERIC_ALL | GENERIC_READ;

struct LocalMem(*mut c_void);
impl Drop for LocalMem {
    fn drop(&mut self) {
        if !self.0.is_null() {
            unsafe { LocalFree(self.0) };
        }
    }
}

/// The current user's SID, inside a TOKEN_USER buffer (u64s for its alignment).
fn current_user() -> Result<Vec<u64>, String> {
    let mut token: HANDLE = null_mut();
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(format!("cannot open the process token ({})", std::io::Error::last_os_error()));
    }
    let mut len = 0u32;
    unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len) };
    let mut buf = vec![0u64; (len as usize).div_ceil(8).max(1)];
    let ok = unsafe { GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
    let err = std::io::Error::last_os_error();
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(format!("cannot read the current user ({err})"));
    }
    Ok(buf)
}

fn wide_to_string(w: &[u16]) -> String {
    String::from_utf16_lossy(&w[..w.iter().position(|&c| c == 0).unwrap_or(w.len())])
}

/// `DOMAIN\name` of a SID, else its S-1-... form.
fn account_name(sid: PSID) -> String {
    let (mut name, mut domain) = ([0u16; 256], [0u16; 256]);
    let (mut n, mut dn, mut use_) = (256u32, 256u32, 0 as SID_NAME_USE);
    let found = unsafe {
        LookupAccountSidW(null_mut(), sid, name.as_mut_ptr(), &mut n, domain.as_mut_ptr(), &mut dn, &mut use_)
    };
    if found != 0 {
        let (name, domain) = (wide_to_string(&name), wide_to_string(&domain));
        return if domain.is_empty() { name } else { format!("{domain}\\{name}") };
    }
    let mut s = null_mut();
    if unsafe { ConvertSidToStringSidW(sid, &mut s) } != 0 {
        let _free = LocalMem(s.cast());
        let len = (0..).take_while(|&i| unsafe { *s.add(i) } != 0).count();
        return String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(s, len) });
    }
    "an unknown account".to_string()
}

pub fn check(dir: &Path) -> AclCheck {
    let d = dir.display();
    let path: Vec<u16> = dir.as_os_str().encode_wide().chain(Some(0)).collect();
    let (mut dacl, mut sd): (*mut ACL, PSECURITY_DESCRIPTOR) = (null_mut(), null_mut());
    let err = unsafe {
        GetNamedSecurityInfoW(
            path.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            &mut dacl,
            null_mut(),
            &mut sd,
        )
    };
    if err != 0 {
        return AclCheck::Unknown(format!("cannot read the ACL of {d} (Windows error {err})"));
    }
    let _sd = LocalMem(sd);
    let fix = format!(
        "icacls \"{d}\" /inheritance:r /grant:r \"%USERNAME%:(OI)(CI)F\", or set CDK_MFA_RS_CACHE_DIR to a folder of your own"
    );
    if dacl.is_null() {
        let problem = format!("{d} has no ACL, so every account can read it; it holds session credentials");
        return AclCheck::Exposed { problem, fix };
    }
    let me = match current_user() {
        Ok(buf) => buf,
        Err(e) => return AclCheck::Unknown(e),
    };
    let me_sid = unsafe { (*me.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut others: Vec<String> = Vec::new();
    for i in 0..unsafe { (*dacl).AceCount } {
        let mut ace = null_mut();
        if unsafe { GetAce(dacl, u32::from(i), &mut ace) } == 0 {
            return AclCheck::Unknown(format!("cannot read the ACL of {d} (entry {i})"));
        }
        // Deny entries only take rights away; other allow types do not occur on plain folders.
        if unsafe { (*ace.cast::<ACE_HEADER>()).AceType } != ACCESS_ALLOWED_ACE_TYPE {
            continue;
        }
        let allowed = unsafe { &*ace.cast::<ACCESS_ALLOWED_ACE>() };
        if allowed.Mask & REVEALING == 0 {
            continue;
        }
        let sid: PSID = (&allowed.SidStart as *const u32).cast_mut().cast();
        let trusted = unsafe {
            EqualSid(sid, me_sid) != 0
                || [WinLocalSystemSid, WinBuiltinAdministratorsSid, WinCreatorOwnerSid]
                    .iter()
                    .any(|&t| IsWellKnownSid(sid, t) != 0)
        };
        let name = account_name(sid);
        if !trusted && !others.contains(&name) {
            others.push(name);
        }
    }
    if others.is_empty() {
        AclCheck::Private("ACL: you, SYSTEM and Administrators only".to_string())
    } else {
        let problem = format!("{d} is readable by {} (its ACL); it holds session credentials", others.join(", "));
        AclCheck::Exposed { problem, fix }
    }
}
