//! A small POSIX shell: what busybox/alpine `sh -c` scripts in labs use.
//!
//! Supported: simple commands with `'..'`/`".."` quoting, `$VAR`, `${VAR}`,
//! `$?`, `$(cmd)`; `;`, newlines, `&&`, `||`, `|`, `!`, `>`/`>>` redirects;
//! `while`/`until ...; do ...; done`, `if ...; then ...; [else ...;] fi`,
//! `for x in ...; do ...; done`; builtins and applets `sleep`, `echo`,
//! `printf`, `exit`, `cat`, `env`, `printenv`, `ls`, `test`/`[`, `true`,
//! `false`, `:`, `touch`, `rm`, `mkdir`, `hostname`, `export`, `set`,
//! `trap`, `exec`, `wget`, `nslookup`, `nc`, and `kubectl` in the images
//! that ship it. Anything else is "not found" (exit 127) in the dialect of
//! the image's shell.
//!
//! Running a script yields a [`Timeline`]: virtual time only moves on
//! `sleep` (and network timeouts); a loop whose iterations repeat exactly
//! becomes a [`Repeat`] instead of being unrolled forever.

use super::{
    FileChange, LogLine, NetReply, NetRequest, Network, Repeat, ShellKind, Sigterm, Timeline,
    kubectl, secs,
};
use jiff::SignedDuration;
use std::collections::BTreeMap;

/// Applets the images' shells find on `$PATH`.
pub const APPLETS: &[&str] = &[
    "sh", "sleep", "echo", "printf", "exit", "cat", "env", "printenv", "ls", "test", "[", "true",
    "false", ":", "touch", "rm", "mkdir", "hostname", "export", "set", "trap", "exec", "wget",
    "nslookup", "nc", "unset", "cd", "pwd", "wait",
];

/// How long Linux keeps retrying an unanswered SYN before connect() fails
/// with ETIMEDOUT: net.ipv4.tcp_syn_retries = 6, 1+2+4+8+16+32+64 s.
pub const TCP_CONNECT_TIMEOUT: f64 = 127.0;

/// Virtual-time horizon of a simulated run; past it the process just runs.
const HORIZON_SECS: i64 = 400 * 24 * 3600;
const MAX_STEPS: u64 = 200_000;
const MAX_DEPTH: usize = 64;

// ---------- lexing ----------

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    /// Quoted literal: never a keyword, never split.
    Quoted(String),
    Var(String),
    Sub(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Word(Vec<Part>);

impl Word {
    fn keyword(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Part::Lit(s)] => Some(s.as_str()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Op(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut lit = String::new();
    let mut in_word = false;
    macro_rules! flush_lit {
        () => {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
        };
    }
    macro_rules! end_word {
        () => {
            flush_lit!();
            if in_word {
                out.push(Tok::Word(Word(std::mem::take(&mut parts))));
                in_word = false;
            }
        };
    }
    // `$...` at c[i] == '$'; returns the part and the new index.
    let dollar = |i: usize| -> (Option<Part>, usize) {
        let n = c.get(i + 1).copied();
        match n {
            Some('{') => {
                let mut j = i + 2;
                let mut name = String::new();
                while j < c.len() && c[j] != '}' {
                    name.push(c[j]);
                    j += 1;
                }
                (Some(Part::Var(name)), (j + 1).min(c.len()))
            }
            Some('(') => {
                let mut depth = 1;
                let mut j = i + 2;
                let mut inner = String::new();
                while j < c.len() {
                    if c[j] == '(' {
                        depth += 1;
                    } else if c[j] == ')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    inner.push(c[j]);
                    j += 1;
                }
                (Some(Part::Sub(inner)), (j + 1).min(c.len()))
            }
            Some('?') | Some('$') | Some('#') | Some('!') => (
                Some(Part::Var(n.map(String::from).unwrap_or_default())),
                i + 2,
            ),
            Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' => {
                let mut j = i + 1;
                let mut name = String::new();
                if ch.is_ascii_digit() {
                    name.push(ch);
                    j += 1;
                } else {
                    while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                        name.push(c[j]);
                        j += 1;
                    }
                }
                (Some(Part::Var(name)), j)
            }
            _ => (None, i + 1),
        }
    };
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\r' => {
                end_word!();
                i += 1;
            }
            '\n' | ';' => {
                end_word!();
                if ch == ';' && c.get(i + 1) == Some(&';') {
                    return Err("unexpected \";;\"".into());
                }
                out.push(Tok::Op(";"));
                i += 1;
            }
            '#' if !in_word => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '&' | '|' => {
                end_word!();
                let double = c.get(i + 1) == Some(&ch);
                out.push(Tok::Op(match (ch, double) {
                    ('&', true) => "&&",
                    ('|', true) => "||",
                    ('|', false) => "|",
                    _ => ";",
                }));
                i += if double { 2 } else { 1 };
            }
            '>' | '<' => {
                // `2>&1`, `2>/dev/null`: a leading fd digit is part of the op.
                let fd2 = lit == "2" && parts.is_empty();
                if lit == "1" || fd2 {
                    lit.clear();
                }
                end_word!();
                let append = c.get(i + 1) == Some(&'>');
                i += if append { 2 } else { 1 };
                if c.get(i) == Some(&'&') {
                    i += 1;
                    while i < c.len() && c[i].is_ascii_digit() {
                        i += 1;
                    }
                    continue;
                }
                out.push(Tok::Op(match (ch, append, fd2) {
                    ('<', _, _) => "<",
                    (_, _, true) => "2>",
                    (_, true, _) => ">>",
                    _ => ">",
                }));
            }
            '(' | ')' => {
                end_word!();
                out.push(Tok::Op(if ch == '(' { "(" } else { ")" }));
                i += 1;
            }
            '\'' => {
                flush_lit!();
                in_word = true;
                let mut s = String::new();
                i += 1;
                while i < c.len() && c[i] != '\'' {
                    s.push(c[i]);
                    i += 1;
                }
                if i >= c.len() {
                    return Err("unterminated quoted string".into());
                }
                parts.push(Part::Quoted(s));
                i += 1;
            }
            '"' => {
                flush_lit!();
                in_word = true;
                i += 1;
                let mut s = String::new();
                let mut closed = false;
                while i < c.len() {
                    match c[i] {
                        '"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        '\\' if i + 1 < c.len() && "\"\\$`\n".contains(c[i + 1]) => {
                            s.push(c[i + 1]);
                            i += 2;
                        }
                        '$' => {
                            let (p, j) = dollar(i);
                            match p {
                                Some(p) => {
                                    parts.push(Part::Quoted(std::mem::take(&mut s)));
                                    parts.push(p);
                                }
                                None => s.push('$'),
                            }
                            i = j;
                        }
                        x => {
                            s.push(x);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    return Err("unterminated quoted string".into());
                }
                parts.push(Part::Quoted(s));
            }
            '\\' => {
                in_word = true;
                if let Some(&n) = c.get(i + 1)
                    && n != '\n'
                {
                    flush_lit!();
                    parts.push(Part::Quoted(n.to_string()));
                }
                i += 2;
            }
            '$' => {
                in_word = true;
                let (p, j) = dollar(i);
                match p {
                    Some(p) => {
                        flush_lit!();
                        parts.push(p);
                    }
                    None => lit.push('$'),
                }
                i = j;
            }
            _ => {
                in_word = true;
                lit.push(ch);
                i += 1;
            }
        }
    }
    flush_lit!();
    if in_word {
        out.push(Tok::Word(Word(parts)));
    }
    Ok(out)
}

// ---------- parsing ----------

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Simple {
        words: Vec<Word>,
        out: Option<(bool, Word)>,
    },
    Seq(Vec<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Pipe(Vec<Node>),
    Loop {
        until: bool,
        cond: Box<Node>,
        body: Box<Node>,
    },
    If {
        cond: Box<Node>,
        then: Box<Node>,
        els: Option<Box<Node>>,
    },
    For {
        var: String,
        items: Vec<Word>,
        body: Box<Node>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

type PResult<T> = Result<T, String>;

impl Parser {
    fn peek_kw(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => w.keyword(),
            _ => None,
        }
    }
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }
    fn skip_seps(&mut self) {
        while self.peek_op() == Some(";") {
            self.pos += 1;
        }
    }
    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        self.skip_seps();
        if self.peek_kw() == Some(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(match self.toks.get(self.pos) {
                None => format!("unexpected end of file (expecting \"{kw}\")"),
                Some(Tok::Word(w)) => format!(
                    "unexpected \"{}\" (expecting \"{kw}\")",
                    w.keyword().unwrap_or("word")
                ),
                Some(Tok::Op(o)) => format!("unexpected \"{o}\" (expecting \"{kw}\")"),
            })
        }
    }
    /// A list up to one of `stops` (keywords) or the end.
    fn list(&mut self, stops: &[&str]) -> PResult<Node> {
        let mut items = Vec::new();
        loop {
            self.skip_seps();
            match self.toks.get(self.pos) {
                None => break,
                Some(Tok::Word(w)) if w.keyword().is_some_and(|k| stops.contains(&k)) => break,
                Some(Tok::Op(")")) if stops.contains(&")") => break,
                _ => {}
            }
            items.push(self.and_or(stops)?);
        }
        Ok(Node::Seq(items))
    }
    fn and_or(&mut self, stops: &[&str]) -> PResult<Node> {
        let mut left = self.pipeline(stops)?;
        while let Some(op @ ("&&" | "||")) = self.peek_op() {
            self.pos += 1;
            while self.peek_op() == Some(";") && self.toks.get(self.pos).is_some() {
                // newline after && is allowed
                self.pos += 1;
            }
            let right = self.pipeline(stops)?;
            left = if op == "&&" {
                Node::And(Box::new(left), Box::new(right))
            } else {
                Node::Or(Box::new(left), Box::new(right))
            };
        }
        Ok(left)
    }
    fn pipeline(&mut self, stops: &[&str]) -> PResult<Node> {
        let neg = if self.peek_kw() == Some("!") {
            self.pos += 1;
            true
        } else {
            false
        };
        let mut cmds = vec![self.command(stops)?];
        while self.peek_op() == Some("|") {
            self.pos += 1;
            cmds.push(self.command(stops)?);
        }
        let node = if cmds.len() == 1 {
            cmds.remove(0)
        } else {
            Node::Pipe(cmds)
        };
        Ok(if neg { Node::Not(Box::new(node)) } else { node })
    }
    fn command(&mut self, _stops: &[&str]) -> PResult<Node> {
        match self.peek_kw() {
            Some(k @ ("while" | "until")) => {
                let until = k == "until";
                self.pos += 1;
                let cond = self.list(&["do"])?;
                self.expect_kw("do")?;
                let body = self.list(&["done"])?;
                self.expect_kw("done")?;
                return Ok(Node::Loop {
                    until,
                    cond: Box::new(cond),
                    body: Box::new(body),
                });
            }
            Some("if") => {
                self.pos += 1;
                return self.if_rest();
            }
            Some("for") => {
                self.pos += 1;
                let var = match self.toks.get(self.pos) {
                    Some(Tok::Word(w)) => w.keyword().unwrap_or("").to_string(),
                    _ => return Err("unexpected end of file (expecting \"do\")".into()),
                };
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek_kw() == Some("in") {
                    self.pos += 1;
                    while let Some(Tok::Word(w)) = self.toks.get(self.pos) {
                        items.push(w.clone());
                        self.pos += 1;
                    }
                }
                self.expect_kw("do")?;
                let body = self.list(&["done"])?;
                self.expect_kw("done")?;
                return Ok(Node::For {
                    var,
                    items,
                    body: Box::new(body),
                });
            }
            Some(k @ ("do" | "done" | "then" | "fi" | "else" | "elif")) => {
                return Err(format!("unexpected \"{k}\""));
            }
            _ => {}
        }
        if self.peek_op() == Some("(") {
            self.pos += 1;
            let inner = self.list(&[")"])?;
            if self.peek_op() != Some(")") {
                return Err("unexpected end of file (expecting \")\")".into());
            }
            self.pos += 1;
            return Ok(inner);
        }
        let mut words = Vec::new();
        let mut out = None;
        loop {
            match self.toks.get(self.pos) {
                Some(Tok::Word(w)) => {
                    words.push(w.clone());
                    self.pos += 1;
                }
                Some(Tok::Op(op @ (">" | ">>" | "2>" | "<"))) => {
                    let op = *op;
                    self.pos += 1;
                    let Some(Tok::Word(target)) = self.toks.get(self.pos).cloned() else {
                        return Err("unexpected newline".into());
                    };
                    self.pos += 1;
                    if op == ">" || op == ">>" {
                        out = Some((op == ">>", target));
                    }
                }
                _ => break,
            }
        }
        if words.is_empty() && out.is_none() {
            return Err(match self.toks.get(self.pos) {
                Some(Tok::Op(o)) => format!("unexpected \"{o}\""),
                _ => "unexpected end of file".into(),
            });
        }
        Ok(Node::Simple { words, out })
    }
    fn if_rest(&mut self) -> PResult<Node> {
        let cond = self.list(&["then"])?;
        self.expect_kw("then")?;
        let then = self.list(&["else", "elif", "fi"])?;
        self.skip_seps();
        let els = match self.peek_kw() {
            Some("else") => {
                self.pos += 1;
                let e = self.list(&["fi"])?;
                self.expect_kw("fi")?;
                Some(Box::new(e))
            }
            Some("elif") => {
                self.pos += 1;
                Some(Box::new(self.if_rest()?))
            }
            _ => {
                self.expect_kw("fi")?;
                None
            }
        };
        Ok(Node::If {
            cond: Box::new(cond),
            then: Box::new(then),
            els,
        })
    }
}

fn parse(src: &str) -> PResult<Node> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0 };
    let n = p.list(&[])?;
    if p.pos < p.toks.len() {
        return Err(match &p.toks[p.pos] {
            Tok::Word(w) => format!("unexpected \"{}\"", w.keyword().unwrap_or("word")),
            Tok::Op(o) => format!("unexpected \"{o}\""),
        });
    }
    Ok(n)
}

// ---------- running ----------

enum Flow {
    Exit(i32),
    /// The process runs forever from here (horizon, `sleep infinity`, repeat found).
    Forever,
}

/// Everything a shell run needs from its container.
pub struct Env<'a> {
    pub kind: ShellKind,
    pub vars: Vec<(String, String)>,
    pub files: BTreeMap<String, String>,
    pub dirs: Vec<String>,
    pub hostname: String,
    pub net: &'a dyn Network,
    /// The curl version when the image has `curl` on its PATH.
    pub curl: Option<&'static str>,
}

struct Sh<'a> {
    env: &'a Env<'a>,
    vars: BTreeMap<String, String>,
    files: BTreeMap<String, String>,
    t: SignedDuration,
    tl: Timeline,
    status: i32,
    steps: u64,
    depth: usize,
    capture: Vec<String>,
    stdin: Option<String>,
    line: usize,
}

/// Runs `script` as `sh -c script` would, from time zero.
pub fn run_script(script: &str, env: &Env<'_>) -> Timeline {
    let mut sh = Sh::new(env);
    let end = match parse(script) {
        Err(e) => {
            sh.out_err(&format!("sh: syntax error: {e}"));
            Flow::Exit(2)
        }
        Ok(node) => match sh.run(&node) {
            Ok(()) => Flow::Exit(sh.status),
            Err(f) => f,
        },
    };
    sh.finish(end)
}

/// Runs one command line as the container's process (`command: ["sleep", "10"]`).
pub fn run_argv(argv: &[String], env: &Env<'_>) -> Timeline {
    let mut sh = Sh::new(env);
    let end = match sh.exec(argv) {
        Ok(()) => Flow::Exit(sh.status),
        Err(f) => f,
    };
    sh.finish(end)
}

/// Result of a short command run inside a running container (exec probes,
/// `kubectl exec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    pub output: String,
    pub code: i32,
}

/// Runs `argv` to completion (output joined, time ignored).
pub fn exec(argv: &[String], env: &Env<'_>) -> ExecResult {
    let tl = run_argv(argv, env);
    let mut output: String = tl.logs.iter().map(|l| format!("{}\n", l.text)).collect();
    if let Some(r) = &tl.repeat {
        for l in &r.lines {
            output.push_str(&l.text);
            output.push('\n');
        }
    }
    let code = match tl.end {
        super::End::Exits { code, .. } => code,
        _ => 0,
    };
    ExecResult { output, code }
}

impl<'a> Sh<'a> {
    fn new(env: &'a Env<'a>) -> Self {
        let mut vars: BTreeMap<String, String> = env.vars.iter().cloned().collect();
        vars.entry("HOSTNAME".into())
            .or_insert_with(|| env.hostname.clone());
        let mut tl = Timeline::runs();
        tl.shell = Some(env.kind);
        tl.sigterm = Sigterm::Ignores;
        Self {
            env,
            vars,
            files: env.files.clone(),
            t: SignedDuration::ZERO,
            tl,
            status: 0,
            steps: 0,
            depth: 0,
            capture: Vec::new(),
            stdin: None,
            line: 1,
        }
    }

    fn finish(mut self, end: Flow) -> Timeline {
        self.tl.end = match end {
            Flow::Exit(code) => super::End::Exits { at: self.t, code },
            Flow::Forever => super::End::Runs,
        };
        self.tl
    }

    fn out(&mut self, text: &str) {
        if let Some(buf) = self.capture.last_mut() {
            buf.push_str(text);
            buf.push('\n');
        } else {
            for line in text.split('\n') {
                self.tl.log(self.t, line);
            }
        }
    }

    /// stderr always goes to the log (kubectl logs shows both streams).
    fn out_err(&mut self, text: &str) {
        self.tl.log(self.t, text);
    }

    fn tick(&mut self) -> Result<(), Flow> {
        self.steps += 1;
        if self.steps > MAX_STEPS
            || self.t.as_secs() > HORIZON_SECS
            || self.tl.logs.len() >= super::MAX_LOG_LINES
        {
            return Err(Flow::Forever);
        }
        Ok(())
    }

    fn expand(&mut self, w: &Word) -> Result<Vec<String>, Flow> {
        // Unquoted variables split on whitespace; quoted parts never do.
        let mut fields: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut have = false;
        for p in &w.0 {
            match p {
                Part::Lit(s) | Part::Quoted(s) => {
                    cur.push_str(s);
                    have = true;
                }
                Part::Var(name) => {
                    let v = self.var(name);
                    let quoted = w.0.iter().any(|p| matches!(p, Part::Quoted(_)));
                    if quoted {
                        cur.push_str(&v);
                        have = true;
                    } else {
                        let mut it = v.split_whitespace().peekable();
                        while let Some(piece) = it.next() {
                            cur.push_str(piece);
                            have = true;
                            if it.peek().is_some() {
                                fields.push(std::mem::take(&mut cur));
                            }
                        }
                    }
                }
                Part::Sub(script) => {
                    let out = self.substitute(script)?;
                    cur.push_str(out.trim_end_matches('\n'));
                    have = true;
                }
            }
        }
        if have {
            fields.push(cur);
        }
        Ok(fields)
    }

    fn substitute(&mut self, script: &str) -> Result<String, Flow> {
        if self.depth > MAX_DEPTH {
            return Ok(String::new());
        }
        let node = match parse(script) {
            Ok(n) => n,
            Err(_) => return Ok(String::new()),
        };
        self.capture.push(String::new());
        self.depth += 1;
        let r = self.run(&node);
        self.depth -= 1;
        let out = self.capture.pop().unwrap_or_default();
        match r {
            Err(Flow::Forever) => Err(Flow::Forever),
            _ => Ok(out),
        }
    }

    fn var(&self, name: &str) -> String {
        match name {
            "?" => self.status.to_string(),
            "$" => "1".into(),
            "#" => "0".into(),
            "0" => "sh".into(),
            n => self.vars.get(n).cloned().unwrap_or_default(),
        }
    }

    fn run(&mut self, n: &Node) -> Result<(), Flow> {
        self.tick()?;
        match n {
            Node::Seq(items) => {
                for i in items {
                    self.run(i)?;
                }
                Ok(())
            }
            Node::And(a, b) => {
                self.run(a)?;
                if self.status == 0 {
                    self.run(b)?;
                }
                Ok(())
            }
            Node::Or(a, b) => {
                self.run(a)?;
                if self.status != 0 {
                    self.run(b)?;
                }
                Ok(())
            }
            Node::Not(a) => {
                self.run(a)?;
                self.status = if self.status == 0 { 1 } else { 0 };
                Ok(())
            }
            Node::Pipe(cmds) => {
                let mut input: Option<String> = None;
                let last = cmds.len().saturating_sub(1);
                for (i, c) in cmds.iter().enumerate() {
                    self.stdin = input.take();
                    if i < last {
                        self.capture.push(String::new());
                        let r = self.run(c);
                        input = self.capture.pop();
                        r?;
                    } else {
                        self.run(c)?;
                    }
                }
                self.stdin = None;
                Ok(())
            }
            Node::If { cond, then, els } => {
                self.run(cond)?;
                if self.status == 0 {
                    self.run(then)
                } else if let Some(e) = els {
                    self.run(e)
                } else {
                    self.status = 0;
                    Ok(())
                }
            }
            Node::For { var, items, body } => {
                let mut values = Vec::new();
                for w in items {
                    values.extend(self.expand(w)?);
                }
                for v in values {
                    self.vars.insert(var.clone(), v);
                    self.run(body)?;
                }
                Ok(())
            }
            Node::Loop { until, cond, body } => self.run_loop(*until, cond, body),
            Node::Simple { words, out } => {
                let mut argv = Vec::new();
                for w in words {
                    argv.extend(self.expand(w)?);
                }
                let target = match out {
                    Some((append, w)) => Some((*append, self.expand(w)?.join(" "))),
                    None => None,
                };
                match target {
                    None => self.exec(&argv),
                    Some((append, path)) => {
                        self.capture.push(String::new());
                        let r = self.exec(&argv);
                        let text = self.capture.pop().unwrap_or_default();
                        if path != "/dev/null" {
                            let path = absolute(&path);
                            let mut content = if append {
                                self.files.get(&path).cloned().unwrap_or_default()
                            } else {
                                String::new()
                            };
                            content.push_str(&text);
                            self.write_file(&path, Some(content));
                        }
                        r
                    }
                }
            }
        }
    }

    fn run_loop(&mut self, until: bool, cond: &Node, body: &Node) -> Result<(), Flow> {
        // Snapshot of an iteration: (duration, lines relative to its start, state).
        type Snap = (
            SignedDuration,
            Vec<(SignedDuration, String)>,
            BTreeMap<String, String>,
            BTreeMap<String, String>,
            usize,
        );
        let mut prev: Option<Snap> = None;
        loop {
            let start_t = self.t;
            let start_api = self.tl.api_at.len();
            let start_logs = self.tl.logs.len();
            let start_files = self.tl.files.len();
            self.run(cond)?;
            let go = if until {
                self.status != 0
            } else {
                self.status == 0
            };
            if !go {
                self.status = 0;
                return Ok(());
            }
            self.run(body)?;
            let lines: Vec<(SignedDuration, String)> = self.tl.logs[start_logs..]
                .iter()
                .map(|l| (l.at - start_t, l.text.clone()))
                .collect();
            let snap: Snap = (
                self.t - start_t,
                lines,
                self.vars.clone(),
                self.files.clone(),
                self.tl.files.len() - start_files,
            );
            if let Some(p) = &prev
                && *p == snap
            {
                // Two identical iterations in a row: the loop repeats forever.
                let (period, lines, ..) = snap;
                if period.is_zero() {
                    return Err(Flow::Forever);
                }
                // Keep the first two iterations as plain lines; repeat from here.
                self.tl.api_repeat = self.tl.api_at[start_api.min(self.tl.api_at.len())..]
                    .iter()
                    .map(|a| *a - start_t)
                    .collect();
                self.tl.repeat = Some(Repeat {
                    from: self.t,
                    period,
                    lines: lines
                        .into_iter()
                        .map(|(at, text)| LogLine { at, text })
                        .collect(),
                });
                return Err(Flow::Forever);
            }
            prev = Some(snap);
        }
    }

    fn write_file(&mut self, path: &str, content: Option<String>) {
        match &content {
            Some(c) => {
                self.files.insert(path.to_string(), c.clone());
            }
            None => {
                self.files.remove(path);
            }
        }
        if self.tl.files.len() < super::MAX_LOG_LINES {
            self.tl.files.push(FileChange {
                at: self.t,
                path: path.to_string(),
                content,
            });
        }
    }

    fn not_found(&mut self, cmd: &str) {
        let msg = match self.env.kind {
            ShellKind::Ash => format!("sh: {cmd}: not found"),
            ShellKind::Dash => format!("/bin/sh: {}: {cmd}: not found", self.line),
            ShellKind::Bash => format!("/bin/sh: line {}: {cmd}: command not found", self.line),
        };
        self.out_err(&msg);
        self.status = 127;
    }

    fn cant_open(&mut self, tool: &str, path: &str) {
        let msg = match self.env.kind {
            ShellKind::Ash => format!("{tool}: can't open '{path}': No such file or directory"),
            _ => format!("{tool}: {path}: No such file or directory"),
        };
        self.out_err(&msg);
    }

    fn is_dir(&self, path: &str) -> bool {
        let p = path.trim_end_matches('/');
        let p = if p.is_empty() { "/" } else { p };
        const SYSTEM: &[&str] = &[
            "/", "/bin", "/etc", "/tmp", "/var", "/usr", "/home", "/root", "/dev", "/proc", "/sys",
            "/var/run", "/run",
        ];
        SYSTEM.contains(&p)
            || self.env.dirs.iter().any(|d| d.trim_end_matches('/') == p)
            || self
                .files
                .keys()
                .any(|f| f.starts_with(&format!("{}/", p.trim_end_matches('/'))))
    }

    fn exec(&mut self, argv: &[String]) -> Result<(), Flow> {
        self.tick()?;
        let Some(cmd0) = argv.first() else {
            self.status = 0;
            return Ok(());
        };
        let args = &argv[1..];
        // Variable assignments (`A=b cmd` or just `A=b`).
        if let Some((k, v)) = cmd0.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.vars.insert(k.to_string(), v.to_string());
            self.status = 0;
            return if args.is_empty() {
                Ok(())
            } else {
                self.exec(args)
            };
        }
        let cmd = base_applet(cmd0);
        match cmd.as_str() {
            ":" | "true" | "set" | "cd" | "wait" | "unset" => self.status = 0,
            "false" => self.status = 1,
            "export" => {
                for a in args {
                    if let Some((k, v)) = a.split_once('=') {
                        self.vars.insert(k.to_string(), v.to_string());
                    }
                }
                self.status = 0;
            }
            "trap" => {
                // `trap 'exit 0' TERM` / `trap "..." SIGTERM`: the process exits on SIGTERM.
                if args.iter().skip(1).any(|s| s.contains("TERM")) {
                    self.tl.sigterm = Sigterm::Exits {
                        after: SignedDuration::ZERO,
                        code: 0,
                    };
                }
                self.status = 0;
            }
            "exec" => return self.exec(args),
            "exit" => {
                let code = match args.first() {
                    None => self.status,
                    Some(a) => match a.parse::<i64>() {
                        Ok(n) => n.rem_euclid(256) as i32,
                        Err(_) => {
                            self.out_err(&format!("sh: exit: Illegal number: {a}"));
                            2
                        }
                    },
                };
                return Err(Flow::Exit(code));
            }
            "sleep" => {
                let mut total = 0f64;
                for a in args {
                    if a == "infinity" || a == "inf" {
                        return Err(Flow::Forever);
                    }
                    match parse_sleep(a) {
                        Some(s) => total += s,
                        None => {
                            self.out_err(&format!("sleep: invalid number '{a}'"));
                            self.status = 1;
                            return Ok(());
                        }
                    }
                }
                if args.is_empty() {
                    self.out_err("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: sleep [N]...");
                    self.status = 1;
                    return Ok(());
                }
                if total > HORIZON_SECS as f64 {
                    return Err(Flow::Forever);
                }
                self.t += secs(total);
                self.status = 0;
            }
            "echo" => {
                let mut a = args;
                let mut newline = true;
                let mut escapes = false;
                while let Some(f) = a.first() {
                    match f.as_str() {
                        "-n" => newline = false,
                        "-e" => escapes = true,
                        "-ne" | "-en" => {
                            newline = false;
                            escapes = true;
                        }
                        _ => break,
                    }
                    a = &a[1..];
                }
                let mut text = a.join(" ");
                if escapes {
                    text = text.replace("\\n", "\n").replace("\\t", "\t");
                }
                let _ = newline;
                self.out(&text);
                self.status = 0;
            }
            "printf" => {
                let fmt = args.first().cloned().unwrap_or_default();
                let mut rest = args.iter().skip(1);
                let mut s = String::new();
                let mut chars = fmt.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '%' => match chars.next() {
                            Some('s') | Some('d') => {
                                s.push_str(rest.next().map(String::as_str).unwrap_or(""))
                            }
                            Some('%') => s.push('%'),
                            Some(o) => {
                                s.push('%');
                                s.push(o);
                            }
                            None => s.push('%'),
                        },
                        '\\' => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(o) => s.push(o),
                            None => {}
                        },
                        c => s.push(c),
                    }
                }
                let s = s.strip_suffix('\n').unwrap_or(&s).to_string();
                if !s.is_empty() {
                    self.out(&s);
                }
                self.status = 0;
            }
            "cat" => {
                self.status = 0;
                if (args.is_empty() || args == ["-"])
                    && let Some(input) = self.stdin.take()
                {
                    let t = input.strip_suffix('\n').unwrap_or(&input).to_string();
                    if !t.is_empty() {
                        self.out(&t);
                    }
                }
                for a in args.iter().filter(|a| *a != "-") {
                    let p = absolute(a);
                    match self.files.get(&p).cloned() {
                        Some(c) => {
                            let c = c.strip_suffix('\n').unwrap_or(&c).to_string();
                            if !c.is_empty() {
                                self.out(&c);
                            }
                        }
                        None if self.is_dir(&p) => {
                            self.out_err("cat: read error: Is a directory");
                            self.status = 1;
                        }
                        None => {
                            self.cant_open("cat", a);
                            self.status = 1;
                        }
                    }
                }
            }
            "env" | "printenv" => {
                if cmd == "printenv" && !args.is_empty() {
                    self.status = 0;
                    for a in args {
                        match self.vars.get(a).cloned() {
                            Some(v) => self.out(&v),
                            None => self.status = 1,
                        }
                    }
                } else if cmd == "env" && !args.is_empty() && !args[0].starts_with('-') {
                    return self.exec(args);
                } else {
                    let lines: Vec<String> =
                        self.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    for l in lines {
                        self.out(&l);
                    }
                    self.status = 0;
                }
            }
            "hostname" => {
                let h = self.env.hostname.clone();
                self.out(&h);
                self.status = 0;
            }
            "ls" => {
                let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
                let targets: Vec<String> = if paths.is_empty() {
                    vec!["/".into()]
                } else {
                    paths.iter().map(|p| absolute(p)).collect()
                };
                self.status = 0;
                for (i, p) in targets.iter().enumerate() {
                    if self.files.contains_key(p) {
                        let shown = paths
                            .get(i)
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| p.clone());
                        self.out(&shown);
                    } else if self.is_dir(p) {
                        let prefix = format!("{}/", p.trim_end_matches('/'));
                        let mut names: Vec<String> = self
                            .files
                            .keys()
                            .filter_map(|f| f.strip_prefix(&prefix))
                            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
                            .collect();
                        names.dedup();
                        for n in names {
                            self.out(&n);
                        }
                    } else {
                        let shown = paths
                            .get(i)
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| p.clone());
                        let msg = match self.env.kind {
                            ShellKind::Ash => format!("ls: {shown}: No such file or directory"),
                            _ => format!("ls: cannot access '{shown}': No such file or directory"),
                        };
                        self.out_err(&msg);
                        self.status = if self.env.kind == ShellKind::Ash {
                            1
                        } else {
                            2
                        };
                    }
                }
            }
            "test" | "[" => {
                let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
                if cmd == "[" {
                    if a.last() != Some(&"]") {
                        self.out_err("sh: missing ]");
                        self.status = 2;
                        return Ok(());
                    }
                    a.pop();
                }
                self.status = match self.test(&a) {
                    Some(true) => 0,
                    Some(false) => 1,
                    None => 2,
                };
            }
            "touch" => {
                for a in args.iter().filter(|a| !a.starts_with('-')) {
                    let p = absolute(a);
                    let c = self.files.get(&p).cloned().unwrap_or_default();
                    self.write_file(&p, Some(c));
                }
                self.status = 0;
            }
            "mkdir" => self.status = 0,
            "rm" => {
                let force = args.iter().any(|a| a.starts_with('-') && a.contains('f'));
                self.status = 0;
                for a in args.iter().filter(|a| !a.starts_with('-')) {
                    let p = absolute(a);
                    if self.files.contains_key(&p) {
                        self.write_file(&p, None);
                    } else if !force {
                        self.out_err(&format!(
                            "rm: can't remove '{a}': No such file or directory"
                        ));
                        self.status = 1;
                    }
                }
            }
            "wget" => self.wget(args)?,
            "curl" | "/usr/bin/curl" if self.env.curl.is_some() => self.curl(args)?,
            "nslookup" => self.nslookup(args),
            "nc" => self.nc(args),
            "sh" => {
                if let Some(i) = args.iter().position(|a| a == "-c") {
                    let script = args.get(i + 1).cloned().unwrap_or_default();
                    return self.nested(&script);
                }
                if let Some(path) = args.first() {
                    let p = absolute(path);
                    match self.files.get(&p).cloned() {
                        Some(src) => return self.nested(&src),
                        None => {
                            let msg = match self.env.kind {
                                ShellKind::Ash => {
                                    format!("sh: can't open '{path}': No such file or directory")
                                }
                                _ => format!("/bin/sh: 0: cannot open {path}: No such file"),
                            };
                            self.out_err(&msg);
                            self.status = 2;
                        }
                    }
                } else {
                    // An interactive shell with no terminal reads EOF and exits.
                    self.status = 0;
                }
            }
            _ if cmd0.rsplit('/').next() == Some("kubectl") && self.has_kubectl(cmd0) => {
                self.kubectl(args)
            }
            _ => {
                // A script file on a mounted volume runs too.
                let p = absolute(cmd0);
                if cmd0.contains('/')
                    && let Some(src) = self.files.get(&p).cloned()
                {
                    return self.nested(&src);
                }
                self.not_found(cmd0);
            }
        }
        Ok(())
    }

    fn nested(&mut self, script: &str) -> Result<(), Flow> {
        if self.depth > MAX_DEPTH {
            self.status = 2;
            return Ok(());
        }
        match parse(script) {
            Err(e) => {
                self.out_err(&format!("sh: syntax error: {e}"));
                self.status = 2;
                Ok(())
            }
            Ok(n) => {
                self.depth += 1;
                let r = self.run(&n);
                self.depth -= 1;
                r
            }
        }
    }

    fn test(&self, a: &[&str]) -> Option<bool> {
        match a {
            [] => Some(false),
            ["!", rest @ ..] => self.test(rest).map(|b| !b),
            [s] => Some(!s.is_empty()),
            ["-z", s] => Some(s.is_empty()),
            ["-n", s] => Some(!s.is_empty()),
            ["-f", p] => Some(self.files.contains_key(&absolute(p))),
            ["-e", p] | ["-r", p] | ["-s", p] => {
                let p = absolute(p);
                Some(
                    self.files
                        .get(&p)
                        .is_some_and(|c| a[0] != "-s" || !c.is_empty())
                        || (a[0] != "-s" && self.is_dir(&p)),
                )
            }
            ["-d", p] => Some(self.is_dir(&absolute(p))),
            [x, "=", y] | [x, "==", y] => Some(x == y),
            [x, "!=", y] => Some(x != y),
            [x, op, y] if op.starts_with('-') => {
                let (x, y) = (x.trim().parse::<i64>().ok()?, y.trim().parse::<i64>().ok()?);
                match *op {
                    "-eq" => Some(x == y),
                    "-ne" => Some(x != y),
                    "-gt" => Some(x > y),
                    "-ge" => Some(x >= y),
                    "-lt" => Some(x < y),
                    "-le" => Some(x <= y),
                    _ => None,
                }
            }
            _ => {
                if let Some(i) = a.iter().position(|x| *x == "-o").filter(|i| *i > 0) {
                    return Some(self.test(&a[..i])? || self.test(&a[i + 1..])?);
                }
                if let Some(i) = a.iter().position(|x| *x == "-a").filter(|i| *i > 0) {
                    return Some(self.test(&a[..i])? && self.test(&a[i + 1..])?);
                }
                None
            }
        }
    }

    /// Whether the image has kubectl where `cmd` finds it (on `$PATH`
    /// for a bare name).
    fn has_kubectl(&self, cmd: &str) -> bool {
        if cmd.contains('/') {
            return self.files.contains_key(&absolute(cmd));
        }
        kubectl::BINARIES
            .iter()
            .any(|b| self.files.contains_key(*b))
    }

    /// In-cluster kubectl (see `workload::kubectl`).
    fn kubectl(&mut self, args: &[String]) {
        let vars = self.vars.clone();
        let lookup = move |k: &str| vars.get(k).cloned();
        let out = kubectl::run(
            args,
            &kubectl::Context {
                files: &self.files,
                vars: &lookup,
                net: self.env.net,
                at: self.t,
            },
        );
        if out.called_api && self.tl.api_at.len() < 1_000 {
            self.tl.api_at.push(self.t);
        }
        for (stderr, line) in out.lines {
            if stderr {
                self.out_err(&line);
            } else {
                self.out(&line);
            }
        }
        self.status = out.code;
    }

    fn call(&mut self, req: NetRequest) -> NetReply {
        if self.tl.net.len() < 1_000 {
            self.tl.net.push((self.t, req.clone()));
        }
        self.env.net.call(&req, self.t)
    }

    /// busybox `wget` (see `workload::wget`). A wait without end (no
    /// alarm, no answer) runs the process forever.
    fn wget(&mut self, args: &[String]) -> Result<(), Flow> {
        let opts = match super::wget::parse(args) {
            Ok(o) => o,
            Err(lines) => {
                for l in lines {
                    self.out_err(&l);
                }
                self.status = 1;
                return Ok(());
            }
        };
        let r = super::wget::run(&opts, &mut |req| self.call(req));
        self.finish_transfer(r.lines, r.files, r.waited, r.hangs)?;
        self.status = r.status;
        Ok(())
    }

    /// curl (see `workload::curl`).
    fn curl(&mut self, args: &[String]) -> Result<(), Flow> {
        let mut opts = match super::curl::parse(args) {
            Ok(o) => o,
            Err(lines) => {
                for l in lines {
                    self.out_err(&l);
                }
                self.status = 2;
                return Ok(());
            }
        };
        opts.cacert_pem = opts
            .cacert
            .as_ref()
            .and_then(|p| self.files.get(&absolute(p)).cloned());
        let version = self.env.curl.unwrap_or_default();
        let r = super::curl::run(&opts, version, &mut |req| self.call(req));
        self.finish_transfer(r.lines, r.files, r.waited, r.hangs)?;
        self.status = r.status;
        Ok(())
    }

    /// Prints what a wget/curl run printed, writes its files and lets its
    /// waiting pass.
    fn finish_transfer(
        &mut self,
        lines: Vec<super::wget::Print>,
        files: Vec<(String, String)>,
        waited: f64,
        hangs: bool,
    ) -> Result<(), Flow> {
        self.t += secs(waited);
        for l in lines {
            match l {
                super::wget::Print::Out(s) => self.out(&s),
                super::wget::Print::Err(s) => self.out_err(&s),
            }
        }
        for (path, content) in files {
            self.write_file(&absolute(&path), Some(content));
        }
        if hangs {
            return Err(Flow::Forever);
        }
        Ok(())
    }

    fn nslookup(&mut self, args: &[String]) {
        let Some(name) = args.iter().find(|a| !a.starts_with('-')).cloned() else {
            self.out_err("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]");
            self.status = 1;
            return;
        };
        let server = self.env.net.dns_server();
        match self.call(NetRequest::Dns { name: name.clone() }) {
            NetReply::Dns {
                name: fqdn,
                addresses,
            } => {
                self.out(&format!("Server:\t\t{server}\nAddress:\t{server}:53\n"));
                for a in &addresses {
                    self.out(&format!("Name:\t{fqdn}\nAddress: {a}\n"));
                }
                self.status = 0;
            }
            NetReply::Timeout => {
                self.t += secs(15.0);
                self.out(";; connection timed out; no servers could be reached\n");
                self.status = 1;
            }
            _ => {
                self.out(&format!("Server:\t\t{server}\nAddress:\t{server}:53\n"));
                self.out(&format!("** server can't find {name}: NXDOMAIN\n"));
                self.status = 1;
            }
        }
    }

    /// busybox `nc` as the default config builds it (NC_110_COMPAT:
    /// networking/nc_bloaty.c `nc_main`): a failed connect exits 1 and
    /// prints "nc: HOST (IP:PORT): <strerror>" only with -v, a refusal only
    /// with -vv; -w N bounds the connect (`connect_w_timeout`, which fakes
    /// ETIMEDOUT); an unknown host is "nc: bad address 'HOST'".
    fn nc(&mut self, args: &[String]) {
        let mut timeout = 0f64;
        let mut verbose = 0usize;
        let mut it = args.iter();
        let mut pos = Vec::new();
        while let Some(a) = it.next() {
            if a == "-w" {
                timeout = it.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
            } else if let Some(flags) = a.strip_prefix('-') {
                verbose += flags.matches('v').count();
                if let Some(w) = flags
                    .split_once('w')
                    .map(|(_, w)| w)
                    .filter(|w| !w.is_empty())
                {
                    timeout = w.parse().unwrap_or(0.0);
                }
            } else {
                pos.push(a.clone());
            }
        }
        let (Some(host), Some(port)) =
            (pos.first(), pos.get(1).and_then(|p| p.parse::<u16>().ok()))
        else {
            self.out_err("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect");
            self.status = 1;
            return;
        };
        self.status = 1;
        match self.call(NetRequest::Tcp {
            host: host.clone(),
            port,
        }) {
            NetReply::Open { ip } | NetReply::Http { ip, .. } => {
                if verbose > 0 {
                    self.out_err(&format!("{host} ({ip}:{port}) open"));
                }
                self.status = 0;
            }
            NetReply::Refused { ip } => {
                if verbose > 1 {
                    self.out_err(&format!("nc: {host} ({ip}:{port}): Connection refused"));
                }
            }
            NetReply::Dropped { ip } | NetReply::Unanswered { ip } => {
                self.t += secs(if timeout > 0.0 && timeout < TCP_CONNECT_TIMEOUT {
                    timeout
                } else {
                    TCP_CONNECT_TIMEOUT
                });
                if verbose > 0 {
                    self.out_err(&format!("nc: {host} ({ip}:{port}): Connection timed out"));
                }
            }
            _ => {
                self.out_err(&format!("nc: bad address '{host}'"));
            }
        }
    }
}

fn base_applet(cmd: &str) -> String {
    for dir in [
        "/bin/",
        "/usr/bin/",
        "/sbin/",
        "/usr/sbin/",
        "/usr/local/bin/",
    ] {
        if let Some(rest) = cmd.strip_prefix(dir)
            && APPLETS.contains(&rest)
        {
            return rest.to_string();
        }
    }
    cmd.to_string()
}

/// Whether `cmd` (a name or an absolute path) is a program the shell images have.
pub fn is_applet(cmd: &str) -> bool {
    APPLETS.contains(&base_applet(cmd).as_str())
}

/// Whether `cmd` is on the PATH of an image whose shell has the applets,
/// plus `curl` when the image ships it (`curl` is its curl version).
pub fn is_program(cmd: &str, curl: Option<&str>) -> bool {
    is_applet(cmd) || (curl.is_some() && matches!(cmd, "curl" | "/usr/bin/curl"))
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

fn parse_sleep(a: &str) -> Option<f64> {
    let (num, mult) = match a.chars().last()? {
        's' => (&a[..a.len() - 1], 1.0),
        'm' => (&a[..a.len() - 1], 60.0),
        'h' => (&a[..a.len() - 1], 3600.0),
        'd' => (&a[..a.len() - 1], 86400.0),
        _ => (a, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * mult)
}

/// `http://host:port/path` → parts (port 80 by default).
pub fn split_url(url: &str) -> (String, u16, String) {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let (hp, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let default = if url.starts_with("https://") { 443 } else { 80 };
    match hp.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(default), path),
        None => (hp.to_string(), default, path),
    }
}

/// The reason phrase Go's `net/http` writes (`http.StatusText`, RFC 9110's
/// phrases, as agnhost, most apps and Apache use them); "" for a code it
/// has no text for.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "",
    }
}

/// A status line's code and reason phrase: `reason` as the server wrote it
/// when it is not Go's (`NetReply::Http`'s `reason`, e.g. nginx's own
/// answers: `network::ingress::nginx_reason`, which is "" where nginx
/// writes `"%03ui "`), else net/http's: `http.StatusText`, and for a code
/// without one "status code N".
pub fn status_text(code: u16, reason: Option<&str>) -> String {
    match reason.unwrap_or_else(|| reason_phrase(code)) {
        "" if reason.is_none() => format!("{code} status code {code}"),
        r => format!("{code:03} {r}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{End, NoNetwork};
    use super::*;

    fn env() -> Env<'static> {
        Env {
            kind: ShellKind::Ash,
            vars: vec![("GREETING".into(), "hello world".into())],
            files: BTreeMap::from([(
                "/etc/config/app.conf".to_string(),
                "port=8080\n".to_string(),
            )]),
            dirs: vec!["/etc/config".into()],
            hostname: "web-0".into(),
            net: &NoNetwork,
            curl: None,
        }
    }

    fn lines(t: &Timeline) -> Vec<String> {
        t.logs.iter().map(|l| l.text.clone()).collect()
    }

    #[test]
    fn echo_sleep_exit_produce_a_timed_log_and_an_exit_code() {
        let t = run_script(
            "echo start; sleep 5; echo \"$GREETING from $(hostname)\"; exit 3",
            &env(),
        );
        assert_eq!(lines(&t), ["start", "hello world from web-0"]);
        assert_eq!(t.logs[1].at, secs(5.0));
        assert_eq!(
            t.end,
            End::Exits {
                at: secs(5.0),
                code: 3
            }
        );
    }

    #[test]
    fn and_or_and_test_follow_exit_statuses() {
        let t = run_script(
            "[ -f /etc/config/app.conf ] && cat /etc/config/app.conf || echo missing; test -z \"$NOPE\" && echo empty; cat /nope",
            &env(),
        );
        assert_eq!(
            lines(&t),
            [
                "port=8080",
                "empty",
                "cat: can't open '/nope': No such file or directory"
            ]
        );
        assert_eq!(
            t.end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 1
            }
        );
    }

    #[test]
    fn commands_outside_the_subset_are_not_found_with_127() {
        let t = run_script("curl http://web", &env());
        assert_eq!(lines(&t), ["sh: curl: not found"]);
        assert_eq!(
            t.end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 127
            }
        );
        let mut dash = env();
        dash.kind = ShellKind::Dash;
        assert_eq!(
            lines(&run_script("echo a; foo", &dash)),
            ["a", "/bin/sh: 1: foo: not found"]
        );
    }

    #[test]
    fn infinite_loops_become_a_repeat() {
        let t = run_script("while true; do echo tick; sleep 5; done", &env());
        assert_eq!(t.end, End::Runs);
        let r = t.repeat.as_ref().expect("repeat");
        assert_eq!(r.period, secs(5.0));
        assert_eq!(t.lines_between(secs(0.0), secs(60.0), 1000).len(), 12);
        let busy = run_script("while :; do :; done", &env());
        assert_eq!(busy.end, End::Runs);
    }

    #[test]
    fn until_loop_waiting_for_dns_runs_forever_without_a_network() {
        let t = run_script(
            "until nslookup db; do echo waiting for db; sleep 2; done",
            &env(),
        );
        assert_eq!(t.end, End::Runs);
        assert!(
            t.lines_between(secs(0.0), secs(100.0), 1000)
                .iter()
                .any(|l| l.text == "waiting for db")
        );
        assert!(matches!(t.net.first(), Some((_, NetRequest::Dns { name })) if name == "db"));
    }

    #[test]
    fn files_created_and_removed_are_tracked_for_exec_probes() {
        let t = run_script(
            "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600",
            &env(),
        );
        assert_eq!(t.files.len(), 2);
        let base = BTreeMap::new();
        assert!(t.files_at(&base, secs(10.0)).contains_key("/tmp/healthy"));
        assert!(!t.files_at(&base, secs(31.0)).contains_key("/tmp/healthy"));
        assert_eq!(
            t.end,
            End::Exits {
                at: secs(630.0),
                code: 0
            }
        );
    }

    #[test]
    fn if_for_and_redirects_work() {
        let t = run_script(
            "for i in 1 2; do echo n$i; done; if [ \"$GREETING\" = x ]; then echo yes; else echo no; fi; echo hi > /tmp/f; cat /tmp/f",
            &env(),
        );
        assert_eq!(lines(&t), ["n1", "n2", "no", "hi"]);
    }

    #[test]
    fn syntax_errors_exit_2_and_garbage_never_panics() {
        let t = run_script("while true; do echo", &env());
        assert_eq!(
            t.end,
            End::Exits {
                at: SignedDuration::ZERO,
                code: 2
            }
        );
        assert!(lines(&t)[0].starts_with("sh: syntax error: "));
        for s in [
            "\"", "'", "$(", "${", "a | | b", "&&", ";;", "if", "fi", ")", "((((", "\\",
            "$((1+2))", "echo $", "x=1 y=2", ">",
        ] {
            let _ = run_script(s, &env());
        }
        let huge = "echo aaaaaaaaaa; ".repeat(20_000);
        let t = run_script(&huge, &env());
        assert!(t.logs.len() <= super::super::MAX_LOG_LINES);
    }

    #[test]
    fn exec_returns_output_and_code() {
        let r = exec(&["cat".into(), "/tmp/healthy".into()], &env());
        assert_eq!(
            r,
            ExecResult {
                output: "cat: can't open '/tmp/healthy': No such file or directory\n".into(),
                code: 1
            }
        );
    }
}

#[cfg(test)]
mod status_text_tests {
    use super::status_text;
    use crate::sim::network::ingress::nginx_reason;

    /// Which server wrote the status line.
    #[derive(Debug, Clone, Copy)]
    enum Server {
        Standard,
        Nginx,
    }

    // nginx: ngx_http_status_lines (src/http/ngx_http_header_filter_module.c),
    // "%03ui " for a code without a line; Go: http.StatusText, "status code N".
    #[test]
    fn each_server_writes_its_own_reason_phrase() {
        let cases = [
            (503, Server::Nginx, "503 Service Temporarily Unavailable"),
            (504, Server::Nginx, "504 Gateway Time-out"),
            (302, Server::Nginx, "302 Moved Temporarily"),
            (405, Server::Nginx, "405 Not Allowed"),
            (404, Server::Nginx, "404 Not Found"),
            (502, Server::Nginx, "502 Bad Gateway"),
            (418, Server::Nginx, "418 "),
            (503, Server::Standard, "503 Service Unavailable"),
            (504, Server::Standard, "504 Gateway Timeout"),
            (302, Server::Standard, "302 Found"),
            (599, Server::Standard, "599 status code 599"),
        ];
        for (code, server, want) in cases {
            let reason = match server {
                Server::Nginx => Some(nginx_reason(code)),
                Server::Standard => None,
            };
            assert_eq!(status_text(code, reason), want, "{code} {server:?}");
        }
    }
}
