//! Status lines on stderr, kind-style: ` • Starting ...` then ` ✓ Starting`
//! or ` ✗ Starting`; on a terminal an indicatif spinner replaces the
//! first line. Colour only on a terminal and never with `NO_COLOR`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Where status lines go.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    spinner: bool,
    color: bool,
}

impl Status {
    /// For stderr as it is.
    pub fn stderr() -> Self {
        let tty = std::io::stderr().is_terminal();
        Self {
            spinner: tty,
            color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// Starts a step.
    pub fn start(&self, msg: impl Into<String>) -> Step {
        let msg = msg.into();
        let bar = if self.spinner {
            let b = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template(" {spinner} {msg}") {
                b.set_style(
                    style.tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✓"]),
                );
            }
            b.set_message(format!("{msg} "));
            b.enable_steady_tick(Duration::from_millis(100));
            Some(b)
        } else {
            eprintln!(" • {msg}  ...");
            None
        };
        Step {
            msg,
            bar,
            color: self.color,
            done: false,
        }
    }

    /// A step shown only as a spinner on a terminal (no lines otherwise):
    /// for work whose outcome prints elsewhere.
    pub fn start_quiet(&self, msg: impl Into<String>) -> Step {
        if self.spinner {
            return self.start(msg);
        }
        Step {
            msg: msg.into(),
            bar: None,
            color: self.color,
            done: true,
        }
    }

    /// A line on its own (`✓`/`✗` already decided).
    pub fn line(&self, ok: bool, msg: &str) {
        eprintln!("{}", mark_line(ok, msg, self.color));
    }
}

fn mark_line(ok: bool, msg: &str, color: bool) -> String {
    match (ok, color) {
        (true, true) => format!(" \x1b[32m✓\x1b[0m {msg}"),
        (false, true) => format!(" \x1b[31m✗\x1b[0m {msg}"),
        (true, false) => format!(" ✓ {msg}"),
        (false, false) => format!(" ✗ {msg}"),
    }
}

/// A step in progress; dropped unfinished, it ends as failed.
pub struct Step {
    msg: String,
    bar: Option<ProgressBar>,
    color: bool,
    done: bool,
}

impl Step {
    /// Ends without a ✓/✗ line.
    pub fn clear(mut self) {
        self.done = true;
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    pub fn ok(mut self) {
        self.end(true);
    }

    pub fn fail(mut self) {
        self.end(false);
    }

    fn end(&mut self, ok: bool) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        eprintln!("{}", mark_line(ok, &self.msg, self.color));
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.end(false);
    }
}

/// A multi-threaded tokio runtime for one command.
pub fn block_on<F: std::future::Future<Output = u8>>(fut: F) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r.block_on(fut),
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            super::exit::BACKEND
        }
    }
}

/// Prints a lab error as one line and returns its exit code.
pub fn fail(e: &crate::lab::LabError) -> u8 {
    eprintln!("error: {e}");
    e.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lines_are_kind_style() {
        assert_eq!(mark_line(true, "Starting", false), " ✓ Starting");
        assert_eq!(mark_line(false, "Starting", false), " ✗ Starting");
        assert_eq!(mark_line(true, "x", true), " \x1b[32m✓\x1b[0m x");
    }
}
