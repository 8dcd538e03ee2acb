//! Starts `kdrill sim serve` in a temporary home and runs the real kubectl
//! against it (`$KUBECTL`, else `kubectl` on PATH).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running simulated cluster, stopped on drop.
pub struct Sim {
    child: Child,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    pub url: String,
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    /// Panics with both streams when the command failed.
    #[track_caller]
    pub fn ok(self) -> String {
        assert_eq!(
            self.code, 0,
            "command failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stdout
    }

    /// Panics unless the command failed; returns stderr.
    #[track_caller]
    pub fn err(self) -> String {
        assert_ne!(
            self.code, 0,
            "command unexpectedly succeeded\nstdout:\n{}",
            self.stdout
        );
        self.stderr
    }
}

pub fn kubectl_binary() -> String {
    std::env::var("KUBECTL")
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "kubectl".to_string())
}

impl Sim {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts on a virtual clock: simulated time stands still until
    /// [`Sim::advance`] moves it, and controllers react only then (so runs
    /// are deterministic). A `kubectl delete` that waits for a pod to go
    /// never returns: use `--wait=false`, then advance.
    pub fn start_virtual() -> Self {
        Self::start_with(&["--clock", "virtual"])
    }

    /// `kdrill sim advance <by>`: lets the controllers react to what was
    /// written since the last advance, moves time by `by` through every
    /// timer on the way, and returns the new simulated time once idle.
    #[track_caller]
    pub fn advance(&self, by: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_kdrill"))
            .args(["sim", "advance", by, "--kubeconfig"])
            .arg(&self.kubeconfig)
            .env("KDRILL_HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run kdrill sim advance");
        assert!(
            out.status.success(),
            "kdrill sim advance {by} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Starts with extra `kdrill sim serve` flags.
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kdrill"))
            .args(["sim", "serve", "--port", "0", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra)
            .env("KDRILL_HOME", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn kdrill sim serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read ready line");
        assert!(
            line.contains("serving on https://127.0.0.1:"),
            "unexpected first line: {line:?}"
        );
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("https://"))
            .unwrap_or_default()
            .trim_end_matches(';')
            .to_string();
        Sim {
            child,
            dir,
            kubeconfig,
            url,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_binary());
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        cmd
    }

    /// Runs kubectl with `args`.
    pub fn kubectl(&self, args: &[&str]) -> Run {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Runs kubectl with `input` on stdin (for `-f -`).
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("wait kubectl");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Runs kubectl with extra environment (e.g. `KUBE_EDITOR`).
    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("run kubectl");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Polls `kubectl args` until `pred` holds on its stdout, for at most
    /// `secs` of wall time (for clusters on a sped-up wall clock).
    #[track_caller]
    pub fn eventually(&self, secs: u64, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let out = self.kubectl(args);
            if out.code == 0 && pred(&out.stdout) {
                return out.stdout;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kubectl {args:?} never matched in {secs}s\nstdout:\n{}\nstderr:\n{}",
                out.stdout,
                out.stderr
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// On a virtual clock: runs `kubectl args` until `pred` holds on its
    /// stdout, moving simulated time by `step` between tries (`tries` at most).
    #[track_caller]
    pub fn advancing(
        &self,
        step: &str,
        tries: usize,
        args: &[&str],
        pred: impl Fn(&str) -> bool,
    ) -> String {
        for _ in 0..tries {
            let out = self.kubectl(args);
            if out.code == 0 && pred(&out.stdout) {
                return out.stdout;
            }
            self.advance(step);
        }
        let out = self.kubectl(args);
        panic!(
            "kubectl {args:?} never matched after {tries} steps of {step}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
    }

    /// Writes a file in the test's directory and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("write file");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The rows of a `kubectl get` table as columns (split on runs of 2+ spaces).
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}
