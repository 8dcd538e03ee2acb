//! The Corefile check CoreDNS runs at start: the caddyfile parser of
//! coredns/caddy (`caddyfile/lexer.go`, `parse.go`, `dispenser.go`)
//! grouping tokens into server blocks and rejecting a directive that is
//! not a plugin, with its error texts:
//!
//! - `<file>:<line> - Error during parsing: Unknown directive '<name>'`
//! - `<file>:<line> - Error during parsing: Unexpected EOF` (a plugin's
//!   block left open)
//! - `<file>:<line> - Error during parsing: Unexpected '}' because no
//!   matching opening brace`
//! - `<file>:<line> - Syntax error: Unexpected token '<tok>', expecting
//!   '}'` (a server block left open)
//! - `<file>:<line> - Error during parsing: Expected another address but
//!   had '{' - check for extra comma`
//!
//! The line is that of the token the parser stands on. Of the plugins'
//! own setup only the `kubernetes` plugin's property names are checked
//! (plugin/kubernetes/setup.go `ParseStanza`: `plugin/kubernetes:
//! <file>:<line> - Error during parsing: unknown property '<name>'`, the
//! prefix from plugin.Error); `import` is taken as consuming its line.

/// One token and the line it starts on.
struct Token {
    text: String,
    line: usize,
}

/// `lexer.go`: words split at whitespace, `"..."` kept together (the
/// quotes dropped), `#` starting a comment at the start of a word. Braces
/// are tokens only when they stand apart, as in caddy v1.
fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut val = String::new();
    let mut start = 1;
    let mut quoted = false;
    let mut escaped = false;
    let mut comment = false;
    let push = |val: &mut String, start: usize, out: &mut Vec<Token>| {
        if !val.is_empty() {
            out.push(Token {
                text: std::mem::take(val),
                line: start,
            });
        }
    };
    for ch in input.chars() {
        if quoted {
            if escaped {
                escaped = false;
                if ch != '"' {
                    val.push('\\');
                }
                val.push(ch);
                continue;
            }
            match ch {
                '\\' => escaped = true,
                '"' => {
                    quoted = false;
                    // An empty quoted word is still a token.
                    out.push(Token {
                        text: std::mem::take(&mut val),
                        line: start,
                    });
                }
                '\n' => {
                    line += 1;
                    val.push(ch);
                }
                _ => val.push(ch),
            }
            continue;
        }
        if ch == '\n' {
            comment = false;
            push(&mut val, start, &mut out);
            line += 1;
            continue;
        }
        if comment {
            continue;
        }
        if ch.is_whitespace() {
            push(&mut val, start, &mut out);
            continue;
        }
        if val.is_empty() {
            start = line;
            if ch == '#' {
                comment = true;
                continue;
            }
            if ch == '"' {
                quoted = true;
                continue;
            }
        }
        val.push(ch);
    }
    push(&mut val, start, &mut out);
    out
}

/// The parser's cursor over the tokens (`Dispenser`).
struct Parser<'a> {
    file: &'a str,
    tokens: Vec<Token>,
    cursor: isize,
    directives: &'a [&'a str],
    /// Each directive met: its name and its tokens' index range.
    met: Vec<(String, usize, usize)>,
}

impl Parser<'_> {
    fn next(&mut self) -> bool {
        if self.cursor < self.tokens.len() as isize - 1 {
            self.cursor += 1;
            true
        } else {
            false
        }
    }

    fn current(&self) -> Option<&Token> {
        usize::try_from(self.cursor)
            .ok()
            .and_then(|i| self.tokens.get(i))
    }

    fn val(&self) -> &str {
        self.current().map_or("", |t| t.text.as_str())
    }

    fn line(&self) -> usize {
        self.current().map_or(0, |t| t.line)
    }

    /// Whether the current token starts a line.
    fn is_new_line(&self) -> bool {
        if self.cursor < 1 {
            return true;
        }
        let prev = usize::try_from(self.cursor - 1)
            .ok()
            .and_then(|i| self.tokens.get(i));
        match (prev, self.current()) {
            (Some(p), Some(c)) => p.line + p.text.matches('\n').count() < c.line,
            _ => true,
        }
    }

    /// `Dispenser.Err`.
    fn err(&self, msg: &str) -> String {
        format!(
            "{}:{} - Error during parsing: {msg}",
            self.file,
            self.line()
        )
    }

    /// `Dispenser.SyntaxErr`.
    fn syntax_err(&self, expected: &str) -> String {
        format!(
            "{}:{} - Syntax error: Unexpected token '{}', expecting '{expected}'",
            self.file,
            self.line(),
            self.val()
        )
    }

    fn parse_all(&mut self) -> Result<(), String> {
        while self.next() {
            self.begin()?;
        }
        Ok(())
    }

    fn begin(&mut self) -> Result<(), String> {
        if self.tokens.is_empty() {
            return Ok(());
        }
        let (keys, eof) = self.addresses()?;
        if eof {
            return Ok(());
        }
        // A snippet `(name) { ... }` is stored, not served.
        if let [k] = keys.as_slice()
            && k.starts_with('(')
            && k.ends_with(')')
        {
            return self.snippet();
        }
        self.block_contents()
    }

    /// The server block's keys, up to `{` or the end of the line; true
    /// when the input ended there.
    fn addresses(&mut self) -> Result<(Vec<String>, bool), String> {
        let mut keys = Vec::new();
        let mut expecting_another = false;
        loop {
            let tkn = self.val().to_string();
            if tkn == "{" {
                if expecting_another {
                    return Err(self.err(&format!(
                        "Expected another address but had '{tkn}' - check for extra comma"
                    )));
                }
                break;
            }
            if !tkn.is_empty() {
                match tkn.strip_suffix(',') {
                    Some(k) => {
                        keys.push(k.to_string());
                        expecting_another = true;
                    }
                    None => {
                        keys.push(tkn);
                        expecting_another = false;
                    }
                }
            }
            let has_next = self.next();
            if expecting_another && !has_next {
                return Err(self.err("Unexpected EOF"));
            }
            if !has_next {
                return Ok((keys, true));
            }
            if !expecting_another && self.is_new_line() {
                break;
            }
        }
        Ok((keys, false))
    }

    fn block_contents(&mut self) -> Result<(), String> {
        let braced = self.val() == "{";
        if !braced {
            // Single-server configs need no braces.
            self.cursor -= 1;
        }
        self.directives()?;
        if braced && self.val() != "}" {
            return Err(self.syntax_err("}"));
        }
        Ok(())
    }

    fn directives(&mut self) -> Result<(), String> {
        while self.next() {
            if self.val() == "}" {
                break;
            }
            if self.val() == "import" {
                // The imported file is not read; its line is consumed.
                while self.next() {
                    if self.is_new_line() {
                        self.cursor -= 1;
                        break;
                    }
                }
                continue;
            }
            self.directive()?;
        }
        Ok(())
    }

    fn directive(&mut self) -> Result<(), String> {
        let dir = self.val().to_string();
        if !self.directives.contains(&dir.as_str()) {
            return Err(self.err(&format!("Unknown directive '{dir}'")));
        }
        let first = usize::try_from(self.cursor).unwrap_or(0);
        let mut nesting = 0;
        while self.next() {
            let v = self.val();
            if v == "{" {
                nesting += 1;
            } else if self.is_new_line() && nesting == 0 {
                self.cursor -= 1;
                break;
            } else if v == "}" && nesting > 0 {
                nesting -= 1;
            } else if v == "}" && nesting == 0 {
                return Err(self.err("Unexpected '}' because no matching opening brace"));
            }
        }
        if nesting > 0 {
            return Err(self.err("Unexpected EOF"));
        }
        let last = usize::try_from(self.cursor).unwrap_or(0);
        self.met.push((dir, first, last));
        Ok(())
    }

    /// `ParseStanza`'s property loop over a `kubernetes` directive's
    /// block: the first word of each line in it.
    fn kubernetes_properties(&self, first: usize, last: usize) -> Result<(), String> {
        let mut nesting = 0;
        let block = self.tokens.get(first..=last).unwrap_or_default();
        for (i, t) in block.iter().enumerate() {
            let starts_line = i > 0 && block[i - 1].line < t.line;
            match t.text.as_str() {
                "{" => nesting += 1,
                "}" => nesting -= 1,
                word if nesting == 1 && starts_line && !KUBERNETES_PROPERTIES.contains(&word) => {
                    return Err(format!(
                        "plugin/kubernetes: {}:{} - Error during parsing: unknown property '{word}'",
                        self.file, t.line
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn snippet(&mut self) -> Result<(), String> {
        if self.val() != "{" {
            return Err(self.syntax_err("{"));
        }
        let mut count = 1;
        while self.next() {
            match self.val() {
                "}" => {
                    count -= 1;
                    if count == 0 {
                        return Ok(());
                    }
                }
                "{" => count += 1,
                _ => {}
            }
        }
        Err(self.syntax_err("}"))
    }
}

/// Parses the Corefile `input` read from `file`, with `directives` the
/// plugins compiled in; the error CoreDNS exits with, if any.
pub fn check(file: &str, input: &str, directives: &[&str]) -> Result<(), String> {
    let mut p = Parser {
        file,
        tokens: tokens(input),
        cursor: -1,
        directives,
        met: Vec::new(),
    };
    p.parse_all()?;
    for (name, first, last) in &p.met {
        if name == "kubernetes" {
            p.kubernetes_properties(*first, *last)?;
        }
    }
    Ok(())
}

/// The properties the `kubernetes` plugin knows (plugin/kubernetes/setup.go).
const KUBERNETES_PROPERTIES: &[&str] = &[
    "endpoint_pod_names",
    "pods",
    "namespaces",
    "endpoint",
    "tls",
    "labels",
    "namespace_labels",
    "fallthrough",
    "ttl",
    "noendpoints",
    "ignore",
    "kubeconfig",
    "multicluster",
    "startup_timeout",
    "apiserver_qps",
    "apiserver_burst",
    "apiserver_max_inflight",
];

#[cfg(test)]
mod tests {
    use super::*;

    const PLUGINS: &[&str] = &[
        "errors",
        "health",
        "ready",
        "kubernetes",
        "prometheus",
        "forward",
        "cache",
        "loop",
        "reload",
        "loadbalance",
    ];

    /// kind's Corefile.
    const KIND: &str = ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n";

    fn check_kind(edit: impl Fn(&str) -> String) -> Result<(), String> {
        check("/etc/coredns/Corefile", &edit(KIND), PLUGINS)
    }

    // The texts of coredns/caddy caddyfile/dispenser.go (Err, SyntaxErr,
    // EOFErr) and parse.go (directive, addresses).
    #[test]
    fn corefile_errors_name_the_line_the_parser_stands_on() {
        type Edit = Box<dyn Fn(&str) -> String>;
        let cases: Vec<(&str, Edit, Result<(), String>)> = vec![
            ("kind's own", Box::new(|s: &str| s.to_string()), Ok(())),
            (
                "a misspelt plugin",
                Box::new(|s: &str| s.replace("    forward .", "    forwrd .")),
                Err("/etc/coredns/Corefile:13 - Error during parsing: Unknown directive 'forwrd'".into()),
            ),
            (
                "a plugin's closing brace removed",
                Box::new(|s: &str| s.replacen("       ttl 30\n    }\n", "       ttl 30\n", 1)),
                // The kubernetes block now runs to the server block's
                // brace, which parses; the plugin's setup then meets the
                // next plugin's name as a property.
                Err("plugin/kubernetes: /etc/coredns/Corefile:11 - Error during parsing: unknown property 'prometheus'".into()),
            ),
            (
                "the server block's closing brace removed",
                Box::new(|s: &str| s.trim_end().trim_end_matches('}').to_string()),
                Err("/etc/coredns/Corefile:19 - Syntax error: Unexpected token 'loadbalance', expecting '}'".into()),
            ),
            (
                "a plugin block never closed",
                Box::new(|s: &str| {
                    s.replace("    loadbalance\n}\n", "    loadbalance {\n")
                }),
                Err("/etc/coredns/Corefile:19 - Error during parsing: Unexpected EOF".into()),
            ),
            (
                "a stray closing brace",
                Box::new(|s: &str| s.replace("    cache 30\n", "    cache 30 }\n")),
                Err("/etc/coredns/Corefile:16 - Error during parsing: Unexpected '}' because no matching opening brace".into()),
            ),
            (
                "a comment",
                Box::new(|s: &str| s.replace("    loop\n", "    # loop\n    loop # detects loops\n")),
                Ok(()),
            ),
        ];
        for (name, edit, want) in cases {
            assert_eq!(check_kind(edit), want, "{name}");
        }
    }

    // The CoreDNS manual's "Possible Errors": a plugin name before the
    // server block is taken as its address.
    #[test]
    fn a_plugin_outside_a_block_is_an_address() {
        assert_eq!(
            check(
                "Corefile",
                "health\n\n. {\n    whoami\n}\n",
                &["health", "whoami"]
            ),
            Err("Corefile:3 - Error during parsing: Unknown directive '.'".into())
        );
    }
}
