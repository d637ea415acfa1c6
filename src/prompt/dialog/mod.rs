//! The desktop dialog: for commands started without a terminal (IDE tasks, editor-run Makefiles,
//! git hooks). One program per platform, each a leaf that only builds its command line:
//! macOS `osascript`, Windows PowerShell (Windows Forms), elsewhere `zenity` or `kdialog` when a
//! desktop session is there (`DISPLAY` or `WAYLAND_DISPLAY`).
//!
//! The code travels one way only: out of the program's stdout. Nothing secret is on its command
//! line (there is nothing secret to give it). The program runs in its own process group, which is
//! killed when the time limit is reached; each program also closes itself a little later, in case
//! we are gone.

mod kdialog;
mod osascript;
mod powershell;
mod zenity;

use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{listed, timeout, PromptError, Request};
use crate::printable::{printable, Lines};
use crate::subprocess::{self, Owner, RunError};

/// The window title: it names the product (tests find the window by it).
pub const TITLE: &str = "cdk-mfa-rs: MFA code";

/// Long lines (the "rejected" note) are wrapped here, so the dialog keeps a readable width.
const WRAP_AT: usize = 72;

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// What the dialog says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogText {
    pub title: String,
    pub message: String,
}

impl DialogText {
    pub fn new(request: &Request<'_>) -> DialogText {
        let mut lines = Vec::new();
        if let Some(note) = request.note {
            lines.extend(wrap(note.strip_prefix("cdk-mfa-rs: ").unwrap_or(note), WRAP_AT));
            lines.push(String::new());
        }
        lines.push("cdk-mfa-rs (AWS CDK) needs the current code of MFA device".to_string());
        lines.push(request.serial.to_string());
        lines.push(format!("(mfa_serial of AWS profile {})", request.profile));
        let (names, more) = listed(request.waiting);
        if !names.is_empty() {
            lines.push("for:".to_string());
            lines.extend(names.iter().map(|w| format!("  {w}")));
            if more > 0 {
                lines.push(format!("  and {more} more"));
            }
        }
        lines.push(String::new());
        lines.push("Type the 6 digits and press Enter. Cancel stops the command.".to_string());
        // Names come from files copied from anywhere: a control character shows as text.
        let message = lines.iter().map(|l| printable(l, Lines::Escape)).collect::<Vec<_>>().join("\n");
        DialogText { title: TITLE.to_string(), message }
    }
}

/// A command line to run: nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Extra environment (texts a script reads, so that no quoting can break them).
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    MacOs,
    Windows,
    /// Linux and the BSDs: X11 or Wayland desktops.
    Unix,
}

impl Platform {
    pub const fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(windows) {
            Platform::Windows
        } else {
            Platform::Unix
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Osascript,
    PowerShell,
    Zenity,
    Kdialog,
}

/// Which dialog program to use, found with `find` (a PATH search), or why none can be shown
/// and what to install or set. `env` reads the environment.
fn pick(
    platform: Platform,
    env: &dyn Fn(&str) -> Option<String>,
    find: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<(Program, PathBuf), String> {
    let found = |p: Program, name: &str| find(name).map(|path| (p, path));
    match platform {
        Platform::MacOs => found(Program::Osascript, "osascript")
            .ok_or_else(|| "osascript is not on PATH; add /usr/bin to PATH".to_string()),
        Platform::Windows => found(Program::PowerShell, "powershell.exe")
            .ok_or_else(|| "powershell.exe is not on PATH; add Windows PowerShell to PATH".to_string()),
        Platform::Unix => {
            if env("DISPLAY").is_none() && env("WAYLAND_DISPLAY").is_none() {
                return Err("run it in a desktop session (DISPLAY or WAYLAND_DISPLAY set) with zenity or kdialog \
                            installed"
                    .to_string());
            }
            // KDE users get kdialog first; everyone else zenity (GNOME and most others ship it).
            let kde = env("XDG_CURRENT_DESKTOP").is_some_and(|d| d.to_ascii_uppercase().contains("KDE"));
            let order = if kde { ["kdialog", "zenity"] } else { ["zenity", "kdialog"] };
            order
                .iter()
                .find_map(|name| found(if *name == "zenity" { Program::Zenity } else { Program::Kdialog }, name))
                .ok_or_else(|| "install zenity or kdialog (neither is on PATH)".to_string())
        }
    }
}

fn command(program: Program, path: PathBuf, text: &DialogText, timeout: Duration) -> DialogCommand {
    // The program's own limit is a safety net only (if we are gone): ours comes first.
    let own_limit = timeout + Duration::from_secs(5);
    let (args, env) = match program {
        Program::Zenity => (zenity::args(text, own_limit), Vec::new()),
        Program::Kdialog => (kdialog::args(text), Vec::new()),
        Program::Osascript => osascript::args_and_env(text, own_limit),
        Program::PowerShell => powershell::args_and_env(text, own_limit),
    };
    DialogCommand { program: path, args, env }
}

/// The program a dialog would be shown with here, or why none can be and what to install or set.
pub fn available() -> Result<PathBuf, String> {
    pick(Platform::current(), &crate::env_var, &|name| find_on_path(name)).map(|(_, path)| path)
}

/// Show the dialog and wait for its answer.
pub fn ask(request: &Request<'_>) -> Result<String, PromptError> {
    let (program, path) =
        pick(Platform::current(), &crate::env_var, &|name| find_on_path(name)).map_err(PromptError::NoDialog)?;
    let limit = timeout();
    run(&command(program, path, &DialogText::new(request), limit), limit)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Run the dialog program (its own process group, killed at the time limit): its stdout is the
/// answer; exit status 1 is Cancel (every one of these programs says Cancel that way), unless it
/// could not reach the desktop at all. Called on a blocking thread (the prompt's).
fn run(cmd: &DialogCommand, timeout: Duration) -> Result<String, PromptError> {
    let name =
        cmd.program.file_name().map_or_else(|| cmd.program.display().to_string(), |n| n.to_string_lossy().into());
    let mut c = Command::new(&cmd.program);
    c.args(&cmd.args).envs(cmd.env.iter().map(|(k, v)| (k, v)));
    let done = match block_on(subprocess::run(c, Owner::Us, timeout)) {
        Ok(done) => done,
        Err(RunError::TimedOut(_)) => return Err(PromptError::TimedOut),
        Err(RunError::Start(e)) => return Err(PromptError::Io(format!("could not start {name}: {e}"))),
        Err(RunError::Io(e)) => return Err(PromptError::Io(format!("{name}: {e}"))),
    };
    let errors = String::from_utf8_lossy(&done.stderr);
    if done.status.success() {
        return Ok(String::from_utf8_lossy(&done.stdout).trim().to_string());
    }
    if done.status.code() == Some(1) && !could_not_reach_desktop(&errors) {
        return Err(PromptError::Cancelled);
    }
    // What it said about its failure (never the answer: that is on stdout).
    let said = errors.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    let status = done.status;
    Err(PromptError::Io(format!("{name} failed ({status}){}{said}", if said.is_empty() { "" } else { ": " })))
}

/// On the runtime the prompt's blocking thread belongs to; a small one of its own elsewhere.
fn block_on<F: Future>(f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(f),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the dialog")
            .block_on(f),
    }
}

/// GTK, Qt and AppleScript say so when there is no desktop to show a window on.
fn could_not_reach_desktop(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    ["cannot open display", "could not connect to display", "failed to connect to", "no user interaction allowed"]
        .iter()
        .any(|m| s.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERIAL: &str = "arn:aws:iam::999999999999:mfa/dev-user";

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn on_path(names: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
        move |n| names.contains(&n).then(|| PathBuf::from("/usr/bin").join(n))
    }

    #[test]
    fn text_names_product_serial_and_who_waits_once_each() {
        let waiting = ["account 111111111111 (profile mfa0)".to_string(), "account 111111111111 (profile mfa0)".into()];
        let t = DialogText::new(&Request { serial: SERIAL, profile: "mfa0", waiting: &waiting, note: None });
        assert_eq!(t.title, "cdk-mfa-rs: MFA code");
        assert!(t.message.contains(SERIAL), "{}", t.message);
        assert!(t.message.contains("(mfa_serial of AWS profile mfa0)"), "{}", t.message);
        assert_eq!(t.message.matches("account 111111111111 (profile mfa0)").count(), 1, "{}", t.message);
        let many: Vec<String> = (0..9).map(|i| format!("account {i:012}")).collect();
        let t = DialogText::new(&Request {
            serial: SERIAL,
            profile: "mfa0",
            waiting: &many,
            note: Some("cdk-mfa-rs: STS rejected that"),
        });
        assert!(t.message.starts_with("STS rejected that\n"), "{}", t.message);
        assert!(t.message.contains("and 5 more"), "{}", t.message);
        let odd = ["account 1 (profile a\u{1b}]52;c;x\u{7}b)".to_string()];
        let t = DialogText::new(&Request { serial: SERIAL, profile: "mfa0", waiting: &odd, note: None });
        assert!(t.message.contains("profile a\\x1b]52;c;x\\x07b"), "{}", t.message);
    }

    #[test]
    fn long_notes_are_wrapped_on_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
        let note = "cdk-mfa-rs: STS rejected that code for arn:aws:iam::999999999999:mfa/dev-user (wrong, or already used); enter the next code (2 of 3 attempts left).";
        let t = DialogText::new(&Request { serial: SERIAL, profile: "mfa0", waiting: &[], note: Some(note) });
        let lines: Vec<&str> = t.message.lines().collect();
        assert!(lines[0].starts_with("STS rejected that code for"), "{}", t.message);
        assert!(lines.iter().all(|l| l.chars().count() <= WRAP_AT), "{}", t.message);
        assert_eq!(lines[..2].join(" "), note.trim_start_matches("cdk-mfa-rs: "));
    }

    #[test]
    fn unix_needs_a_desktop_and_a_program() {
        let none: &[(&str, &str)] = &[];
        let e = pick(Platform::Unix, &env_of(none), &on_path(&["zenity"])).unwrap_err();
        assert!(e.contains("DISPLAY or WAYLAND_DISPLAY"), "{e}");
        let e = pick(Platform::Unix, &env_of(&[("DISPLAY", ":0")]), &on_path(&[])).unwrap_err();
        assert!(e.contains("install zenity or kdialog"), "{e}");
        let (p, path) =
            pick(Platform::Unix, &env_of(&[("WAYLAND_DISPLAY", "wayland-0")]), &on_path(&["zenity", "kdialog"]))
                .unwrap();
        assert_eq!((p, path), (Program::Zenity, PathBuf::from("/usr/bin/zenity")));
        let kde = env_of(&[("DISPLAY", ":0"), ("XDG_CURRENT_DESKTOP", "KDE")]);
        assert_eq!(pick(Platform::Unix, &kde, &on_path(&["zenity", "kdialog"])).unwrap().0, Program::Kdialog);
        assert_eq!(pick(Platform::Unix, &kde, &on_path(&["zenity"])).unwrap().0, Program::Zenity);
    }

    #[test]
    fn macos_and_windows_use_their_own_program_without_display() {
        let none: &[(&str, &str)] = &[];
        assert_eq!(pick(Platform::MacOs, &env_of(none), &on_path(&["osascript"])).unwrap().0, Program::Osascript);
        assert_eq!(
            pick(Platform::Windows, &env_of(none), &on_path(&["powershell.exe"])).unwrap().0,
            Program::PowerShell
        );
        assert!(pick(Platform::MacOs, &env_of(none), &on_path(&[])).unwrap_err().contains("osascript"));
    }

    #[test]
    fn a_missing_display_is_not_a_cancel() {
        assert!(could_not_reach_desktop("(zenity:1): Gtk-WARNING **: 10:42:11.277: cannot open display: :9"));
        assert!(could_not_reach_desktop("qt.qpa.xcb: could not connect to display :9"));
        assert!(!could_not_reach_desktop("Gtk-Message: GtkDialog mapped without a transient parent."));
    }

    // Linux: /proc tells whether the dialog's own child is gone. On the prompt's blocking thread
    // of a multi-thread runtime, as in the plugin.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread")]
    async fn run_on_the_prompt_thread() {
        tokio::task::spawn_blocking(run_reads_stdout_maps_cancel_and_kills_the_group_on_timeout).await.unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn run_reads_stdout_maps_cancel_and_kills_the_group_on_timeout() {
        let sh = |script: &str| DialogCommand {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![("ANSWER".into(), "123456".into())],
        };
        assert_eq!(run(&sh("echo \" $ANSWER \""), Duration::from_secs(5)).unwrap(), "123456");
        assert_eq!(run(&sh("exit 1"), Duration::from_secs(5)), Err(PromptError::Cancelled));
        let e = run(&sh("echo 'cannot open display: :9' >&2; exit 1"), Duration::from_secs(5)).unwrap_err();
        assert!(matches!(&e, PromptError::Io(m) if m.contains("cannot open display")), "{e:?}");
        // A grandchild keeps stdout open: the whole group must die, or we would wait for it.
        use std::time::Instant;
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let t0 = Instant::now();
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        assert_eq!(run(&sh(&script), Duration::from_millis(500)), Err(PromptError::TimedOut));
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
        assert!(!alive, "the dialog's child {pid} survived");
    }
}
