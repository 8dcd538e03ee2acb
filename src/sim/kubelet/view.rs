//! A running container seen from outside at a moment: what `kubectl exec`
//! runs in (its environment, files and shell) and how much memory it uses
//! (for metrics). Pure, like the rest of the kubelet: the pod, its memory
//! and `now` come in, nothing is stored.

use super::spec::{self, CSpec, PodSpec};
use super::{CState, PodInput};
use crate::api::pointer::Pointer;
use crate::sim::workload::shell::{self, Env};
use crate::sim::workload::{self, ContainerSpec, End, ShellKind, Timeline};
use jiff::{SignedDuration, Timestamp};

/// The `PATH` of the catalog's images.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A container that is running now, with what it does.
pub struct Running {
    pub spec: ContainerSpec,
    pub timeline: Timeline,
    pub id: String,
    /// Time since the container started.
    pub offset: SignedDuration,
}

fn find<'a>(pod: &'a PodSpec, name: &str) -> Option<&'a CSpec> {
    pod.init
        .iter()
        .chain(pod.containers.iter())
        .find(|c| c.name == name)
}

/// The container `name` if it is running at `now`.
pub fn running(input: &PodInput<'_>, name: &str, now: Timestamp) -> Option<Running> {
    let parsed;
    let pod = match input.parsed {
        Some(p) => p,
        None => {
            parsed = PodSpec::parse(input.pod);
            &parsed
        }
    };
    let c = find(pod, name)?;
    let CState::Running { id, started, .. } = &input.memory.containers.get(name)?.state else {
        return None;
    };
    let pod_ip = input.memory.pod_ip.clone().unwrap_or_default();
    let env = spec::resolve_env(
        c,
        input.pod,
        &pod.namespace,
        input.world,
        &pod_ip,
        &input.node.host_ip,
    )
    .unwrap_or_default();
    let (files, mounts) = spec::container_files(c, &pod.volumes, input.world, input.pod);
    let spec = ContainerSpec {
        name: c.name.clone(),
        image: c.image.clone(),
        command: c.command.clone(),
        args: c.args.clone(),
        env,
        files,
        mounts,
        memory_limit: c.memory_limit,
        hostname: pod.name.clone(),
        pod_ip,
    };
    let timeline = workload::derive(&spec, input.catalog, input.network);
    Some(Running {
        spec,
        timeline,
        id: id.clone(),
        offset: now.duration_since(*started).max(SignedDuration::ZERO),
    })
}

/// Memory a running container uses at `now` (None when it is not running;
/// 0 when its behaviour declares no figure).
pub fn memory_use(input: &PodInput<'_>, name: &str, now: Timestamp) -> Option<u64> {
    running(input, name, now).map(|r| r.timeline.memory_at(r.offset))
}

/// CPU a running container uses at `now`, in millicores: what its process
/// keeps busy, throttled to its CPU limit, and at least 1m as cAdvisor
/// reports for any live process (None when it is not running).
pub fn cpu_use(input: &PodInput<'_>, name: &str, now: Timestamp) -> Option<u64> {
    let r = running(input, name, now)?;
    let limit = input
        .pod
        .get_in(&["spec", "containers"])
        .and_then(serde_json::Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("name").and_then(serde_json::Value::as_str) == Some(name))
        })
        .and_then(|c| c.get_in(&["resources", "limits", "cpu"]))
        .and_then(serde_json::Value::as_str)
        .and_then(|q| crate::api::quantity::Quantity::parse(q).ok())
        .map(|q| u64::try_from(q.milli_value()).unwrap_or(0));
    let busy = limit.map_or(r.timeline.cpu_millis, |l| r.timeline.cpu_millis.min(l));
    Some(busy.max(1))
}

/// What a `kubectl exec` printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub output: String,
    pub code: i32,
}

/// Why an exec could not run (the runtime's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// The container is not running.
    NotRunning,
    /// The command could not be started (`OCI runtime exec failed: ...`).
    Start(String),
}

fn output_of(tl: &Timeline) -> ExecOutput {
    let mut output: String = tl.logs.iter().map(|l| format!("{}\n", l.text)).collect();
    if let Some(r) = &tl.repeat {
        for l in &r.lines {
            output.push_str(&l.text);
            output.push('\n');
        }
    }
    let code = match tl.end {
        End::Exits { code, .. } => code,
        _ => 0,
    };
    ExecOutput { output, code }
}

/// Is `argv0` a shell that reads its script from stdin when given no `-c`?
fn is_shell(argv0: &str) -> bool {
    matches!(
        argv0.rsplit('/').next().unwrap_or(argv0),
        "sh" | "ash" | "bash" | "dash"
    )
}

/// One exec request.
pub struct ExecRequest<'a> {
    pub container: &'a str,
    pub argv: &'a [String],
    /// Everything read from stdin (None when stdin is not attached).
    pub stdin: Option<&'a str>,
    pub tty: bool,
}

/// Runs a command in a running container, as `kubectl exec` does.
pub fn exec(
    input: &PodInput<'_>,
    req: &ExecRequest<'_>,
    now: Timestamp,
) -> Result<ExecOutput, ExecError> {
    let r = running(input, req.container, now).ok_or(ExecError::NotRunning)?;
    let argv0 = req.argv.first().cloned().unwrap_or_default();
    let not_found = || {
        ExecError::Start(format!(
            "failed to exec in container: failed to start exec \"{}\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"{argv0}\": executable file not found in $PATH: unknown",
            crate::sim::workload::catalog::digest_hex(&format!("{}{argv0}", r.id))
        ))
    };
    let Some(kind) = r.timeline.shell else {
        return Err(not_found());
    };
    let image_files = r.timeline.files_at(&r.spec.files, r.offset);
    let known = shell::is_program(&argv0, r.timeline.curl)
        || argv0.contains('/') && image_files.contains_key(&argv0)
        || argv0 == "kubectl"
            && workload::kubectl::BINARIES
                .iter()
                .any(|b| image_files.contains_key(*b));
    if !known || (argv0.ends_with("bash") && kind != ShellKind::Bash) {
        return Err(not_found());
    }
    let mut vars = vec![
        ("PATH".to_string(), PATH.to_string()),
        ("HOSTNAME".to_string(), r.spec.hostname.clone()),
        ("HOME".to_string(), "/root".to_string()),
    ];
    if req.tty {
        vars.push(("TERM".into(), "xterm".into()));
    }
    vars.extend(r.spec.env.iter().cloned());
    let env = Env {
        kind,
        vars,
        files: image_files,
        dirs: r.spec.mounts.clone(),
        hostname: r.spec.hostname.clone(),
        net: input.network,
        curl: r.timeline.curl,
    };
    // `sh` with no `-c` runs what it reads from stdin.
    if is_shell(&argv0) && req.argv.len() == 1 {
        let script = req.stdin.unwrap_or("");
        return Ok(output_of(&shell::run_script(script, &env)));
    }
    let r = shell::exec(req.argv, &env);
    Ok(ExecOutput {
        output: r.output,
        code: r.code,
    })
}

/// What the pod serves on `port` at `now`, over its running containers
/// (they share the pod's network namespace).
pub fn serves(
    input: &PodInput<'_>,
    port: u16,
    protocol: workload::Protocol,
    path: Option<&str>,
    now: Timestamp,
) -> super::Served {
    for name in input.memory.containers.keys() {
        if let Some(r) = running(input, name, now) {
            let s = super::serve(&r.timeline, port, protocol, path, r.offset);
            if s != super::Served::Closed {
                return s;
            }
        }
    }
    super::Served::Closed
}
