//! The detached process that serves a lab's simulated cluster: starting
//! it in its own process group (so a Ctrl-C in the terminal that ran
//! `kdrill start` does not reach it), telling whether it still runs, and
//! stopping it.
//!
//! A lab's server runs as `kdrill lab-serve --dir <lab folder>`; the
//! absolute folder on its command line is how a pid is recognised as the
//! lab's own (a recycled pid belongs to some other command line).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The hidden subcommand the detached server runs.
pub const SERVE_COMMAND: &str = "lab-serve";
/// The file the server writes once it serves (its URL inside).
pub const READY_FILE: &str = "ready";
/// The server's own log.
pub const LOG_FILE: &str = "serve.log";
/// The ingress host ports the server opened (`{"http": N, "https": N}`),
/// written before [`READY_FILE`].
pub const INGRESS_FILE: &str = "ingress-ports";

/// Records the ingress host ports in `dir`.
pub fn write_ingress_ports(dir: &Path, http: u16, https: u16) -> std::io::Result<()> {
    let v = serde_json::json!({"http": http, "https": https});
    std::fs::write(dir.join(INGRESS_FILE), v.to_string())
}

/// The ingress host ports of the lab server in `dir` (http, https), if it
/// opened them.
pub fn ingress_ports(dir: &Path) -> Option<(u16, u16)> {
    let text = std::fs::read_to_string(dir.join(INGRESS_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let port = |k: &str| v.get(k)?.as_u64().and_then(|n| u16::try_from(n).ok());
    Some((port("http")?, port("https")?))
}

/// Spawns `kdrill lab-serve --dir DIR [extra...]` detached: stdin closed,
/// output to `DIR/serve.log`, its own process group.
pub fn spawn_server(dir: &Path, extra: &[String]) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let log = std::fs::File::create(dir.join(LOG_FILE))?;
    let mut cmd = Command::new(exe);
    cmd.arg(SERVE_COMMAND)
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.spawn()
}

/// Waits until the server in `dir` is ready (its URL), or it exits, or
/// `attempts` polls of 50ms pass.
pub fn wait_ready(child: &mut Child, dir: &Path, attempts: u32) -> Result<String, String> {
    let ready = dir.join(READY_FILE);
    for _ in 0..attempts {
        if let Ok(url) = std::fs::read_to_string(&ready)
            && !url.trim().is_empty()
        {
            return Ok(url.trim().to_string());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join(LOG_FILE)).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            return Err(format!("the cluster process exited ({status}): {last}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "the cluster process did not become ready in {}s (see {})",
        attempts / 20,
        dir.join(LOG_FILE).display()
    ))
}

/// The command line of a live process, `None` when there is none (or it
/// is a zombie, whose command line is empty).
#[cfg(target_os = "linux")]
fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if raw.is_empty() {
        return None;
    }
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// Whether `args` is the server of the lab in `dir`.
fn serves(args: &[String], dir: &Path) -> bool {
    let dir = dir.to_string_lossy();
    args.iter().any(|a| a == SERVE_COMMAND)
        && args.windows(2).any(|w| w[0] == "--dir" && w[1] == dir)
}

/// Whether `pid` is alive and is the server of the lab in `dir`.
pub fn alive(pid: u32, dir: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        cmdline(pid).is_some_and(|args| serves(&args, dir))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        signal(pid, 0)
    }
}

/// The pid of a live server of the lab in `dir`, found by its command
/// line (Linux; elsewhere `None`).
pub fn find_server(dir: &Path) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        let rd = std::fs::read_dir("/proc").ok()?;
        rd.filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| cmdline(*pid).is_some_and(|a| serves(&a, dir)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
    }
}

/// Sends a signal; false when the process does not exist.
#[cfg(unix)]
fn signal(pid: u32, sig: i32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

#[cfg(not(unix))]
fn signal(_pid: u32, _sig: i32) -> bool {
    false
}

/// Stops the lab server `pid`: SIGTERM, then SIGKILL after 5s. True when
/// it was running.
pub fn stop(pid: u32, dir: &Path) -> bool {
    if !alive(pid, dir) {
        return false;
    }
    #[cfg(unix)]
    {
        signal(pid, libc::SIGTERM);
        for _ in 0..100 {
            if !alive(pid, dir) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal(pid, libc::SIGKILL);
        for _ in 0..40 {
            if !alive(pid, dir) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    true
}

/// An absolute form of `p` (without resolving links), for command lines
/// that must match later.
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_recognised_by_its_lab_folder() {
        let args: Vec<String> = ["kdrill", "lab-serve", "--dir", "/h/labs/a"]
            .map(String::from)
            .to_vec();
        assert!(serves(&args, Path::new("/h/labs/a")));
        assert!(!serves(&args, Path::new("/h/labs/b")));
        let other: Vec<String> = ["sleep", "--dir", "/h/labs/a"].map(String::from).to_vec();
        assert!(!serves(&other, Path::new("/h/labs/a")));
    }

    #[test]
    fn ingress_ports_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ingress_ports(dir.path()), None);
        write_ingress_ports(dir.path(), 8080, 8443).unwrap();
        assert_eq!(ingress_ports(dir.path()), Some((8080, 8443)));
        std::fs::write(dir.path().join(INGRESS_FILE), "{\"http\": 70000}").unwrap();
        assert_eq!(ingress_ports(dir.path()), None);
    }

    #[test]
    fn an_unrelated_pid_is_not_a_lab() {
        assert!(!alive(std::process::id(), Path::new("/nowhere/labs/x")));
        assert!(!stop(std::process::id(), Path::new("/nowhere/labs/x")));
    }
}
