//! In-cluster `kubectl`: what `kubectl get ...` and `kubectl auth can-i ...`
//! print when they run inside a pod (the kubectl images, or `kubectl` in
//! their shells) and call the API server as the pod's ServiceAccount.
//!
//! kubectl finds the in-cluster configuration when `KUBERNETES_SERVICE_HOST`
//! and `KUBERNETES_SERVICE_PORT` are set and the token file exists
//! (`inClusterClientConfig.Possible` in client-go's `clientcmd`); its
//! default namespace is `$POD_NAMESPACE`, else the mounted `namespace`
//! file, else `default`. Without a token (`automountServiceAccountToken:
//! false`) it falls back to `http://localhost:8080` and fails as upstream
//! does. The API server's answers come from [`Network::api`]; this module
//! only parses the command line and prints as kubectl 1.33 prints.

use super::{ApiCall, ApiReply, Network};
use crate::api::resource::{RESOURCES, ResourceInfo};
use jiff::SignedDuration;
use std::collections::BTreeMap;

/// Where the kubelet mounts the ServiceAccount token, CA and namespace.
pub const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Where each kubectl image keeps its binary.
pub const BINARIES: &[&str] = &[
    "/opt/bitnami/kubectl/bin/kubectl",
    "/usr/local/bin/kubectl",
    "/bin/kubectl",
];

/// A Table's columns: name and priority.
type Columns = Vec<(String, i32)>;

/// One line of output: `true` for stderr.
pub type Line = (bool, String);

/// What one kubectl run printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub lines: Vec<Line>,
    pub code: i32,
    /// Whether it called the API server (the kubelet re-syncs at such calls).
    pub called_api: bool,
}

impl Output {
    fn out(&mut self, s: impl Into<String>) {
        self.lines.push((false, s.into()));
    }
    fn err(&mut self, s: impl Into<String>) {
        self.lines.push((true, s.into()));
    }
}

/// What kubectl reads from its container.
pub struct Context<'a> {
    pub files: &'a BTreeMap<String, String>,
    pub vars: &'a dyn Fn(&str) -> Option<String>,
    pub net: &'a dyn Network,
    /// The process's offset from the container's start.
    pub at: SignedDuration,
}

/// The in-cluster configuration: the bearer token and default namespace.
struct InCluster {
    token: String,
    namespace: String,
}

fn in_cluster(ctx: &Context<'_>) -> Option<InCluster> {
    let set = |k: &str| (ctx.vars)(k).is_some_and(|v| !v.is_empty());
    if !set("KUBERNETES_SERVICE_HOST") || !set("KUBERNETES_SERVICE_PORT") {
        return None;
    }
    let token = ctx
        .files
        .get(&format!("{SA_DIR}/token"))?
        .trim()
        .to_string();
    let namespace = (ctx.vars)("POD_NAMESPACE")
        .filter(|v| !v.is_empty())
        .or_else(|| {
            ctx.files
                .get(&format!("{SA_DIR}/namespace"))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "default".into());
    Some(InCluster { token, namespace })
}

/// A klog error line as kubectl's discovery cache logs it (the time is
/// filled in when the line is logged).
fn klog(msg: &str) -> String {
    format!(
        "E{{{{time:%m%d %H:%M:%S%.6f}}}}       1 memcache.go:265] \"Unhandled Error\" err=\"couldn't get current server API group list: {msg}\""
    )
}

/// How discovery fails, for the lines kubectl prints about it.
enum Failure {
    /// No in-cluster config: `http://localhost:8080`, refused.
    NoConfig,
    Unauthorized,
    Unreachable,
}

/// kubectl's output when discovery fails: the cache's errors (five for
/// `get`; two for `auth can-i`, which then warns that it cannot resolve the
/// resource and sends its review anyway), then the sentence for the
/// failure.
fn discovery_failed(out: &mut Output, ctx: &Context<'_>, why: Failure, can_i: Option<&str>) {
    let host = (ctx.vars)("KUBERNETES_SERVICE_HOST").unwrap_or_default();
    let port = (ctx.vars)("KUBERNETES_SERVICE_PORT").unwrap_or_default();
    let (detail, last) = match why {
        Failure::NoConfig => (
            "Get \\\"http://localhost:8080/api?timeout=32s\\\": dial tcp [::1]:8080: connect: connection refused".to_string(),
            "The connection to the server localhost:8080 was refused - did you specify the right host or port?".to_string(),
        ),
        Failure::Unauthorized => (
            "the server has asked for the client to provide credentials".to_string(),
            if can_i.is_some() {
                // The review's own 401 carries the apiserver's Status.
                "error: You must be logged in to the server (Unauthorized)".to_string()
            } else {
                "error: You must be logged in to the server (the server has asked for the client to provide credentials)".to_string()
            },
        ),
        Failure::Unreachable => (
            format!("Get \\\"https://{host}:{port}/api?timeout=32s\\\": dial tcp {host}:{port}: i/o timeout"),
            format!("Unable to connect to the server: dial tcp {host}:{port}: i/o timeout"),
        ),
    };
    let repeats = if can_i.is_some() { 2 } else { 5 };
    for _ in 0..repeats {
        out.err(klog(&detail));
    }
    if let Some(res) = can_i {
        out.err(format!(
            "Warning: the server doesn't have a resource type '{res}'"
        ));
        out.err("");
    }
    out.err(last);
    out.code = 1;
}

/// The resource a kubectl argument names (plural, singular, short name or
/// kind, optionally `.group`), as the RESTMapper resolves it.
pub fn resolve(arg: &str) -> Option<&'static ResourceInfo> {
    let arg = arg.to_ascii_lowercase();
    let (name, group) = match arg.split_once('.') {
        Some((n, g)) => (n.to_string(), Some(g.to_string())),
        None => (arg, None),
    };
    RESOURCES.iter().find(|r| {
        group.as_deref().is_none_or(|g| r.group == g)
            && (r.plural == name
                || r.singular == name
                || r.short_names.contains(&name.as_str())
                || r.kind.to_ascii_lowercase() == name)
    })
}

/// Flags kubectl takes anywhere on its command line.
#[derive(Default)]
struct Flags {
    namespace: Option<String>,
    all_namespaces: bool,
    output: String,
    no_headers: bool,
    selector: String,
    positional: Vec<String>,
}

fn parse_flags(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<String, String> {
            it.next()
                .cloned()
                .ok_or_else(|| format!("error: flag needs an argument: {name}"))
        };
        match a.as_str() {
            "-n" => f.namespace = Some(value("'n' in -n")?),
            "--namespace" => f.namespace = Some(value("--namespace")?),
            "-o" => f.output = value("'o' in -o")?,
            "--output" => f.output = value("--output")?,
            "-A" | "--all-namespaces" | "--all-namespaces=true" => f.all_namespaces = true,
            "--no-headers" | "--no-headers=true" => f.no_headers = true,
            "-l" => f.selector = value("'l' in -l")?,
            "--selector" => f.selector = value("--selector")?,
            "--kubeconfig" | "--context" | "--request-timeout" => {
                value(a)?;
            }
            s if s.starts_with("--selector=") => f.selector = s["--selector=".len()..].to_string(),
            s if s.starts_with("-l") && s.len() > 2 && !s.starts_with("--") => {
                f.selector = s[2..].trim_start_matches('=').to_string()
            }
            s if s.starts_with("--namespace=") => {
                f.namespace = Some(s["--namespace=".len()..].to_string())
            }
            s if s.starts_with("--output=") => f.output = s["--output=".len()..].to_string(),
            s if s.starts_with("-n") && s.len() > 2 && !s.starts_with("--") => {
                f.namespace = Some(s[2..].trim_start_matches('=').to_string())
            }
            s if s.starts_with("-o") && s.len() > 2 && !s.starts_with("--") => {
                f.output = s[2..].trim_start_matches('=').to_string()
            }
            s if s.starts_with('-') && s.len() > 1 => {}
            _ => f.positional.push(a.clone()),
        }
    }
    Ok(f)
}

/// Runs `kubectl args...` inside a container.
pub fn run(args: &[String], ctx: &Context<'_>) -> Output {
    let mut out = Output::default();
    let flags = match parse_flags(args) {
        Ok(f) => f,
        Err(e) => {
            out.err(e);
            out.err("See 'kubectl --help' for usage.");
            out.code = 1;
            return out;
        }
    };
    let Some(cmd) = flags.positional.first().cloned() else {
        help(&mut out);
        return out;
    };
    match cmd.as_str() {
        "get" => get(&flags, ctx, &mut out),
        "auth" if flags.positional.get(1).map(String::as_str) == Some("can-i") => {
            can_i(&flags, ctx, &mut out)
        }
        "help" => help(&mut out),
        "annotate" | "api-resources" | "api-versions" | "apply" | "attach" | "auth"
        | "autoscale" | "certificate" | "cluster-info" | "completion" | "config" | "cordon"
        | "cp" | "create" | "debug" | "delete" | "describe" | "diff" | "drain" | "edit"
        | "events" | "exec" | "explain" | "expose" | "kustomize" | "label" | "logs" | "options"
        | "patch" | "plugin" | "port-forward" | "proxy" | "replace" | "rollout" | "run"
        | "scale" | "set" | "taint" | "top" | "uncordon" | "version" | "wait" => {
            out.err(format!(
                "error: kdrill simulates only \"kubectl get\" and \"kubectl auth can-i\" inside pods, not \"kubectl {cmd}\""
            ));
            out.code = 1;
        }
        other => {
            out.err(format!(
                "error: unknown command \"{other}\" for \"kubectl\""
            ));
            out.code = 1;
        }
    }
    out
}

fn help(out: &mut Output) {
    for l in [
        "kubectl controls the Kubernetes cluster manager.",
        "",
        " Find more information at: https://kubernetes.io/docs/reference/kubectl/",
        "",
        "Basic Commands (Beginner):",
        "  create          Create a resource from a file or from stdin",
        "  expose          Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service",
        "  run             Run a particular image on the cluster",
        "  set             Set specific features on objects",
        "",
        "Basic Commands (Intermediate):",
        "  explain         Get documentation for a resource",
        "  get             Display one or many resources",
        "  edit            Edit a resource on the server",
        "  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector",
        "",
        "Usage:",
        "  kubectl [flags] [options]",
        "",
        "Use \"kubectl <command> --help\" for more information about a given command.",
        "Use \"kubectl options\" for a list of global command-line options (applies to all commands).",
    ] {
        out.out(l);
    }
}

/// `kubectl get TYPE[,TYPE] [NAME...]` and `kubectl get TYPE/NAME`.
fn get(flags: &Flags, ctx: &Context<'_>, out: &mut Output) {
    let args = &flags.positional[1..];
    let Some(first) = args.first() else {
        out.err("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.");
        out.err("");
        out.err("error: Required resource not specified.");
        out.err("Use \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).");
        out.err("See 'kubectl get -h' for help and examples");
        out.code = 1;
        return;
    };
    if !matches!(flags.output.as_str(), "" | "wide" | "name") {
        out.err(format!(
            "error: kdrill simulates \"-o wide\" and \"-o name\" for kubectl inside pods, not \"-o {}\"",
            flags.output
        ));
        out.code = 1;
        return;
    }
    let Some(ic) = in_cluster(ctx) else {
        return discovery_failed(out, ctx, Failure::NoConfig, None);
    };
    // (resource argument, names)
    let mut requests: Vec<(String, Vec<String>)> = Vec::new();
    if first.contains('/') {
        for a in args {
            let (r, n) = a.split_once('/').unwrap_or((a.as_str(), ""));
            requests.push((r.to_string(), vec![n.to_string()]));
        }
    } else {
        for r in first.split(',') {
            requests.push((r.to_string(), args[1..].to_vec()));
        }
    }
    let namespace = flags.namespace.clone().unwrap_or(ic.namespace.clone());
    let mut kinds: Vec<&str> = requests.iter().map(|(r, _)| r.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    // `printWithKind`: several types requested.
    let with_kind = kinds.len() > 1;
    let listing = requests.iter().all(|(_, names)| names.is_empty());
    let mut printed_any = false;
    // The server's errors come after what could be printed (the builder
    // continues on error and kubectl reports them at the end).
    let mut errors: Vec<String> = Vec::new();
    let mut empty_ns: Option<String> = None;
    for (arg, names) in &requests {
        let Some(info) = resolve(arg) else {
            out.called_api = true;
            out.err(format!(
                "error: the server doesn't have a resource type \"{arg}\""
            ));
            out.code = 1;
            return;
        };
        let ns = if !info.namespaced || (flags.all_namespaces && names.is_empty()) {
            String::new()
        } else {
            namespace.clone()
        };
        let calls: Vec<ApiCall> = if names.is_empty() {
            vec![ApiCall {
                label_selector: flags.selector.clone(),
                ..call(&ic, "list", info, &ns, "")
            }]
        } else {
            names
                .iter()
                .map(|n| call(&ic, "get", info, &ns, n))
                .collect()
        };
        let mut table: Option<(Columns, Vec<Vec<String>>)> = None;
        for c in &calls {
            out.called_api = true;
            match ctx.net.api(c, ctx.at) {
                ApiReply::Table { columns, rows } => {
                    let t = table.get_or_insert_with(|| (columns, Vec::new()));
                    t.1.extend(rows);
                }
                ApiReply::Unauthorized => {
                    return discovery_failed(out, ctx, Failure::Unauthorized, None);
                }
                ApiReply::Unreachable => {
                    return discovery_failed(out, ctx, Failure::Unreachable, None);
                }
                ApiReply::Forbidden(m) => {
                    errors.push(format!("Error from server (Forbidden): {m}"))
                }
                ApiReply::NotFound(m) => errors.push(format!("Error from server (NotFound): {m}")),
                ApiReply::BadRequest(m) => {
                    errors.push(format!("Error from server (BadRequest): {m}"))
                }
                ApiReply::Review { .. } => {}
            }
        }
        let Some((columns, rows)) = table else {
            continue;
        };
        if rows.is_empty() {
            empty_ns.get_or_insert(ns);
            continue;
        }
        if printed_any && flags.output != "name" {
            out.out("");
        }
        printed_any = true;
        print_rows(flags, info, &ns, columns, rows, with_kind, out);
    }
    if !printed_any
        && errors.is_empty()
        && listing
        && let Some(ns) = empty_ns
    {
        out.err(if ns.is_empty() {
            "No resources found".to_string()
        } else {
            format!("No resources found in {ns} namespace.")
        });
    }
    if !errors.is_empty() {
        out.code = 1;
    }
    for e in errors {
        out.err(e);
    }
}

fn call(ic: &InCluster, verb: &str, info: &ResourceInfo, ns: &str, name: &str) -> ApiCall {
    ApiCall {
        token: ic.token.clone(),
        verb: verb.into(),
        group: info.group.into(),
        resource: info.plural.into(),
        namespace: ns.into(),
        name: name.into(),
        label_selector: String::new(),
        review: false,
    }
}

/// The human-readable printer: upper-case headers, columns padded to the
/// widest cell plus three spaces (kubectl's tabwriter), `NAMESPACE` first
/// across namespaces, `kind/name` names when several types are printed.
fn print_rows(
    flags: &Flags,
    info: &ResourceInfo,
    ns: &str,
    columns: Columns,
    rows: Vec<Vec<String>>,
    with_kind: bool,
    out: &mut Output,
) {
    let kind_prefix = if info.group.is_empty() {
        info.singular.to_string()
    } else {
        format!("{}.{}", info.singular, info.group)
    };
    if flags.output == "name" {
        for r in &rows {
            out.out(format!(
                "{kind_prefix}/{}",
                r.get(1).or(r.first()).cloned().unwrap_or_default()
            ));
        }
        return;
    }
    // Rows from the server carry the namespace first (see `ApiReply::Table`
    // as the kubelet builds it); it is shown only across namespaces.
    let across = ns.is_empty() && info.namespaced;
    let wide = flags.output == "wide";
    let keep: Vec<bool> = columns.iter().map(|(_, p)| wide || *p == 0).collect();
    let mut grid: Vec<Vec<String>> = Vec::new();
    let mut header: Vec<String> = columns
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((c, _), _)| c.to_uppercase())
        .collect();
    if across {
        header.insert(0, "NAMESPACE".into());
    }
    if !flags.no_headers {
        grid.push(header);
    }
    for r in rows {
        let mut r = r.into_iter();
        let namespace = r.next().unwrap_or_default();
        let mut cells: Vec<String> = r.zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c).collect();
        if across {
            cells.insert(0, namespace);
        }
        let name_col = usize::from(across);
        if with_kind && let Some(n) = cells.get_mut(name_col) {
            *n = format!("{kind_prefix}/{n}");
        }
        grid.push(cells);
    }
    for line in tabwrite(&grid) {
        out.out(line);
    }
}

/// Go's `tabwriter` as kubectl configures it (padding 3, no trailing pad).
pub fn tabwrite(grid: &[Vec<String>]) -> Vec<String> {
    let ncols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|i| {
            grid.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    grid.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                line.push_str(c);
                if i + 1 < r.len() {
                    let pad = widths[i] + 3 - c.chars().count();
                    line.push_str(&" ".repeat(pad));
                }
            }
            line
        })
        .collect()
}

/// `kubectl auth can-i VERB TYPE[/NAME] [NAME]`: a SelfSubjectAccessReview.
fn can_i(flags: &Flags, ctx: &Context<'_>, out: &mut Output) {
    let args = &flags.positional[2..];
    let (Some(verb), Some(target)) = (args.first(), args.get(1)) else {
        out.err(
            "error: you must specify two arguments: verb resource or verb resource/resourceName.",
        );
        out.err("See 'kubectl auth can-i -h' for help and examples");
        out.code = 1;
        return;
    };
    let (res, name) = match target.split_once('/') {
        Some((r, n)) => (r.to_string(), n.to_string()),
        None => (target.clone(), args.get(2).cloned().unwrap_or_default()),
    };
    let Some(ic) = in_cluster(ctx) else {
        return discovery_failed(out, ctx, Failure::NoConfig, Some(&res));
    };
    let info = resolve(&res);
    let (group, resource, namespaced) = match info {
        Some(i) => (i.group.to_string(), i.plural.to_string(), i.namespaced),
        None => (String::new(), res.clone(), true),
    };
    let namespace = if flags.all_namespaces || !namespaced {
        String::new()
    } else {
        flags.namespace.clone().unwrap_or(ic.namespace.clone())
    };
    let c = ApiCall {
        token: ic.token,
        verb: verb.clone(),
        group,
        resource,
        namespace,
        name,
        label_selector: String::new(),
        review: true,
    };
    out.called_api = true;
    let reply = ctx.net.api(&c, ctx.at);
    match reply {
        ApiReply::Unauthorized => {
            return discovery_failed(out, ctx, Failure::Unauthorized, Some(&res));
        }
        ApiReply::Unreachable | ApiReply::Table { .. } => {
            return discovery_failed(out, ctx, Failure::Unreachable, Some(&res));
        }
        _ => {}
    }
    if info.is_none() {
        out.err(format!(
            "Warning: the server doesn't have a resource type '{res}'"
        ));
        out.err("");
    }
    match reply {
        ApiReply::Review { allowed: true, .. } => out.out("yes"),
        ApiReply::Review {
            allowed: false,
            reason,
        } => {
            if reason.is_empty() {
                out.out("no");
            } else {
                out.out(format!("no - {reason}"));
            }
            out.code = 1;
        }
        ApiReply::Forbidden(m) => {
            out.err(format!("Error from server (Forbidden): {m}"));
            out.code = 1;
        }
        ApiReply::NotFound(m) => {
            out.err(format!("Error from server (NotFound): {m}"));
            out.code = 1;
        }
        ApiReply::BadRequest(m) => {
            out.err(format!("Error from server (BadRequest): {m}"));
            out.code = 1;
        }
        _ => {}
    }
}

#[cfg(test)]
mod image_tests;
#[cfg(test)]
mod tests;
